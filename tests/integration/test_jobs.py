"""The durable job queue: transactional enqueue, retries with backoff, dead letters and
replay, recovery after a worker dies, and no job run twice by two workers."""

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from prepskul.db.models import Job
from prepskul.jobs import registry
from prepskul.jobs.worker import JobContext, Worker
from prepskul.providers.errors import RetryableProviderError
from prepskul.queue import store
from prepskul.queue.errors import GiveUp
from prepskul.queue.kinds import JobKind

# Any kind will do: each worker here is given the probe's handler alone.
PROBE = JobKind.SEND_REMINDERS


async def _enqueue(rt: Any, kind: JobKind = PROBE, **kw: Any) -> None:
    async with rt.sessions.begin() as db:
        await store.enqueue(db, kind, kw.pop("payload", {}), now=rt.clock.now(), **kw)


async def _job(rt: Any) -> Job:
    async with rt.sessions() as db:
        return (await db.scalars(select(Job))).one()


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(rt) -> None:  # type: ignore[no-untyped-def]
    class Boom(Exception):
        pass

    try:
        async with rt.sessions.begin() as db:
            await store.enqueue(db, PROBE, {}, now=rt.clock.now())
            raise Boom
    except Boom:
        pass
    async with rt.sessions() as db:
        assert (await db.scalars(select(Job))).all() == []


async def test_a_dedupe_key_enqueues_once(rt) -> None:  # type: ignore[no-untyped-def]
    async with rt.sessions.begin() as db:
        first = await store.enqueue(db, PROBE, {}, now=rt.clock.now(), dedupe_key="k")
        second = await store.enqueue(db, PROBE, {}, now=rt.clock.now(), dedupe_key="k")
    assert (first, second) == (True, False)


async def test_failures_retry_with_growing_jittered_backoff_then_dead_letter(rt, clock) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
        calls.append(ctx.job.attempts)
        raise RuntimeError("provider down")

    worker = Worker(rt, {PROBE: flaky}, name="w1")
    await _enqueue(rt, max_attempts=3)
    delays = []
    for _ in range(3):
        before = clock.now()
        assert await worker.run_once() == 1
        job = await _job(rt)
        delays.append((job.run_at - before).total_seconds())
        assert await worker.run_once() == 0  # not due yet: backoff holds it
        clock.advance(timedelta(hours=2))
    assert calls == [1, 2, 3]
    job = await _job(rt)
    assert job.status == "dead"
    assert job.last_error == "RuntimeError: provider down"
    assert 1 <= delays[0] <= 2 and 2 <= delays[1] <= 4  # base 2 s, doubling, half jittered


async def test_a_dead_job_can_be_replayed_by_an_operator(rt) -> None:  # type: ignore[no-untyped-def]
    outcomes = iter([GiveUp("bad configuration"), None])

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        if (error := next(outcomes)) is not None:
            raise error

    worker = Worker(rt, {PROBE: handler}, name="w1")
    await _enqueue(rt)
    await worker.run_once()
    dead = await _job(rt)
    assert (dead.status, dead.attempts) == ("dead", 1)  # permanent: no retries wasted
    async with rt.sessions.begin() as db:
        assert await store.replay(db, dead.id, now=rt.clock.now())
    await worker.run_once()
    assert (await _job(rt)).status == "done"


async def test_a_provider_retry_after_is_honoured(rt, clock) -> None:  # type: ignore[no-untyped-def]
    async def limited(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise RetryableProviderError("fathom", "429", status=429, retry_after=30)

    await _enqueue(rt)
    before = clock.now()
    await Worker(rt, {PROBE: limited}, name="w1").run_once()
    assert (await _job(rt)).run_at - before == timedelta(seconds=30)


async def test_a_job_whose_worker_died_is_redone_after_its_lease(rt, clock) -> None:  # type: ignore[no-untyped-def]
    await _enqueue(rt)
    async with rt.sessions.begin() as db:  # a worker claims it, then dies silently
        claimed = await store.claim(db, worker="dead-worker", now=clock.now(),
                                    lease=timedelta(seconds=60), limit=5)
    assert len(claimed) == 1
    ran: list[str] = []

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        ran.append("ran")

    survivor = Worker(rt, {PROBE: handler}, name="survivor")
    assert await survivor.run_once() == 0  # lease still held
    clock.advance(timedelta(seconds=61))
    assert await survivor.run_once() == 1
    assert ran == ["ran"]
    job = await _job(rt)
    assert (job.status, job.attempts) == ("done", 2)
    # The dead worker's late completion cannot overwrite the survivor's result.
    async with rt.sessions.begin() as db:
        await store.fail(db, claimed[0], worker="dead-worker", now=clock.now(), error="late")
    assert (await _job(rt)).status == "done"


async def test_two_workers_never_run_one_job_twice(rt) -> None:  # type: ignore[no-untyped-def]
    runs: dict[int, int] = {}

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        runs[payload["n"]] = runs.get(payload["n"], 0) + 1
        await asyncio.sleep(0.001)

    async with rt.sessions.begin() as db:
        for n in range(200):
            await store.enqueue(db, PROBE, {"n": n}, now=rt.clock.now())
    workers = [Worker(rt, {PROBE: handler}, name=f"w{i}", batch=7) for i in range(4)]
    await asyncio.gather(*(w.drain() for w in workers))
    assert runs == {n: 1 for n in range(200)}


async def test_an_unknown_job_kind_is_dead_lettered_with_a_reason(rt) -> None:  # type: ignore[no-untyped-def]
    async with rt.sessions.begin() as db:  # a row written by other code than this
        db.add(Job(kind="mystery", payload={}, run_at=rt.clock.now()))
    await Worker(rt, {}, name="w1").run_once()
    job = await _job(rt)
    assert job.status == "dead"
    assert "no handler for job kind 'mystery'" in (job.last_error or "")


async def test_the_worker_wakes_on_notify_without_waiting_for_its_poll(rt) -> None:  # type: ignore[no-untyped-def]
    done = asyncio.Event()

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        done.set()

    stop = asyncio.Event()
    worker = Worker(rt, {PROBE: handler}, name="listener", poll=30)
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.3)  # let it LISTEN and go idle
    await _enqueue(rt)
    await asyncio.wait_for(done.wait(), timeout=5)  # far sooner than the 30 s poll
    stop.set()
    await asyncio.wait_for(task, timeout=5)


async def test_a_slow_job_does_not_hold_up_the_jobs_behind_it(rt) -> None:  # type: ignore[no-untyped-def]
    release = asyncio.Event()
    done: list[str] = []

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        if payload["slow"]:
            await release.wait()  # a provider that takes its time
        done.append("slow" if payload["slow"] else "fast")

    async with rt.sessions.begin() as db:
        await store.enqueue(db, PROBE, {"slow": True}, now=rt.clock.now())
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(rt, {PROBE: handler}, name="w", concurrency=4,
                                      poll=0.1).run(stop))
    await asyncio.sleep(0.3)
    async with rt.sessions.begin() as db:
        for _ in range(6):  # more than the free slots: refilled as they finish
            await store.enqueue(db, PROBE, {"slow": False}, now=rt.clock.now())
    for _ in range(50):
        if done.count("fast") == 6:
            break
        await asyncio.sleep(0.1)
    assert done == ["fast"] * 6  # all done while the slow one still waits
    release.set()
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert done[-1] == "slow"


async def test_a_job_committed_while_the_worker_is_claiming_runs_without_waiting_for_the_poll(
    rt,
) -> None:  # type: ignore[no-untyped-def]
    ran = asyncio.Event()

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        ran.set()

    class Racing(Worker):
        raced = False

        async def _claim(self, limit: int) -> list[store.ClaimedJob]:
            claimed = await super()._claim(limit)
            if not self.raced:  # a job commits (and NOTIFYs) while this claim is in flight
                self.raced = True
                await _enqueue(rt)
                await asyncio.sleep(0.2)  # its notification arrives before the claim returns
            return claimed

    stop = asyncio.Event()
    running = asyncio.create_task(Racing(rt, {PROBE: handler}, poll=60).run(stop))
    try:
        await asyncio.wait_for(ran.wait(), timeout=5)  # a lost wake-up would wait 60 s
    finally:
        stop.set()
        await running


async def test_an_idle_worker_told_to_stop_returns_at_once_not_after_its_poll(
    rt,
) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    running = asyncio.create_task(Worker(rt, {}, poll=60).run(stop))
    await asyncio.sleep(0.3)  # claimed nothing, now waiting for work
    stop.set()
    await asyncio.wait_for(running, timeout=2)  # SIGTERM sets `stop`: no 60 s wait


def test_every_job_kind_has_a_handler_and_every_schedule_a_known_kind(rt: Any) -> None:
    """A kind enqueued with no handler would only be found out as a dead job."""
    kinds = set(registry.handlers())
    assert kinds == set(JobKind)
    assert {schedule.kind for schedule in registry.schedules(rt)} <= kinds
