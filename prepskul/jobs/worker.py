"""Runs jobs: claims a batch, runs each handler in its own transaction, records the outcome.

Wakes on NOTIFY prepskul_jobs (sent by a trigger when a job row commits) and polls as a
safety net, so a lost notification only delays work by `poll` seconds. Any number of
workers may run against one database: SKIP LOCKED hands each job to one of them, and a
worker killed mid-job loses its lease, so another redoes the job (handlers are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg

from prepskul import logs
from prepskul.providers.errors import PermanentProviderError, RetryableProviderError
from prepskul.queue import store
from prepskul.queue.errors import GiveUp, RetryLater
from prepskul.queue.kinds import JobKind, JobStatus
from prepskul.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    rt: Runtime
    job: store.ClaimedJob


# A handler returns what it did, in a few words (kept on the job for operators), or None.
Handler = Callable[[JobContext, dict[str, Any]], Awaitable[str | None]]


@dataclass(frozen=True)
class Schedule:
    """A periodic job: enqueued once per `every` window, whatever the number of workers."""

    kind: JobKind
    every: timedelta


@dataclass
class Worker:
    rt: Runtime
    handlers: dict[JobKind, Handler]
    schedules: Sequence[Schedule] = ()
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    lease: timedelta = timedelta(seconds=90)
    batch: int = 8
    poll: float = 1.0
    concurrency: int = 32  # jobs in flight at once in `run` (they mostly wait on providers)
    _enqueued: dict[JobKind, int] = field(default_factory=dict)  # schedule → last window

    async def _claim(self, limit: int) -> list[store.ClaimedJob]:
        async with self.rt.sessions.begin() as db:
            return await store.claim(db, worker=self.name, now=self.rt.clock.now(),
                                     lease=self.lease, limit=limit)

    async def run_once(self) -> int:
        """Claim and run one batch to the end; the number of jobs run."""
        jobs = await self._claim(self.batch)
        await asyncio.gather(*(self._run(job) for job in jobs))
        return len(jobs)

    async def drain(self, max_rounds: int = 200) -> int:
        """Run until nothing is due (tests and the demo's 'do it now' button)."""
        total = 0
        for _ in range(max_rounds):
            await self.enqueue_schedules()
            ran = await self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    async def enqueue_schedules(self) -> None:
        """Each periodic job once per window. The dedupe key makes that true across workers;
        remembering the windows this worker has already enqueued (or found enqueued) spares
        the database an insert per schedule every second for nothing."""
        now = self.rt.clock.now()
        due = {schedule.kind: int(now.timestamp() // schedule.every.total_seconds())
               for schedule in self.schedules}
        due = {kind: window for kind, window in due.items() if self._enqueued.get(kind) != window}
        if not due:
            return
        async with self.rt.sessions.begin() as db:
            for kind, window in due.items():
                await store.enqueue(db, kind, {}, now=now, dedupe_key=f"{kind}@{window}",
                                    max_attempts=1)
        self._enqueued.update(due)  # only once committed

    async def run(self, stop: asyncio.Event) -> None:
        """Keep up to `concurrency` jobs in flight: a slot that frees is refilled at once, so
        one slow provider call never holds up the jobs behind it."""
        wake = asyncio.Event()
        listener = await self._listen(wake)
        inflight: set[asyncio.Task[None]] = set()
        next_schedule = 0.0

        async def wake_on_stop() -> None:  # SIGTERM ends the wait at once, not after `poll`
            await stop.wait()
            wake.set()
        stopping = asyncio.create_task(wake_on_stop())

        def finished(task: asyncio.Task[None]) -> None:
            inflight.discard(task)
            wake.set()  # a slot is free
        log.info("worker %s started (%d handlers)", self.name, len(self.handlers))
        try:
            while not stop.is_set():
                # Cleared *before* claiming: a job committed while the claim is in flight
                # leaves the flag set, so we claim again at once instead of sleeping on it.
                wake.clear()
                loop_time = asyncio.get_running_loop().time()
                if loop_time >= next_schedule:
                    await self.enqueue_schedules()
                    next_schedule = loop_time + 1.0
                free = self.concurrency - len(inflight)
                claimed = await self._claim(free) if free > 0 else []
                for job in claimed:
                    task = asyncio.create_task(self._run(job))
                    inflight.add(task)
                    task.add_done_callback(finished)
                if claimed and len(claimed) == free:
                    continue  # more may be due: claim again when a slot frees
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll)
        finally:
            stopping.cancel()
            if inflight:  # let running jobs finish; any cut short is redone after its lease
                await asyncio.wait(inflight, timeout=self.lease.total_seconds())
            if listener is not None:
                await listener.close()

    async def _listen(self, wake: asyncio.Event) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self.rt.plain_dsn)
            await conn.add_listener("prepskul_jobs", lambda *_: wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("LISTEN unavailable (%s); polling every %ss", exc, self.poll)
            return None

    async def _run(self, job: store.ClaimedJob) -> None:
        # Every log line of this job carries its id (and session), across processes.
        subject = job.payload.get("session_id") or job.payload.get("event_id") or ""
        token = logs.request_id.set(f"job-{job.id}{f':{subject}' if subject else ''}")
        try:
            await self._attempt(job)
        finally:
            logs.request_id.reset(token)

    async def _attempt(self, job: store.ClaimedJob) -> None:
        outcome: dict[str, Any] = {}
        result: str | None = None
        try:
            handler = self._handler_for(job.kind)
            if job.attempts > job.max_attempts:
                raise GiveUp("every attempt was cut short (worker stopped or timed out)")
            timeout = self.lease.total_seconds() - 5
            result = await asyncio.wait_for(handler(JobContext(self.rt, job), job.payload),
                                            timeout)
        except (GiveUp, PermanentProviderError) as exc:
            outcome = {"error": _describe(exc), "permanent": True}
        except RetryLater as exc:
            outcome = {"error": _describe(exc), "retry_after": exc.after}
        except RetryableProviderError as exc:
            outcome = {"error": _describe(exc), "retry_after": exc.retry_after}
        except Exception as exc:  # a bug or an outage: retried with backoff, then dead
            log.exception("job %s (%s) failed", job.id, job.kind)
            outcome = {"error": _describe(exc)}
        now = self.rt.clock.now()
        async with self.rt.sessions.begin() as db:
            if not outcome:
                await store.complete(db, job, worker=self.name, now=now, outcome=result)
                log.info("job %s (%s) done on attempt %d", job.id, job.kind, job.attempts)
                return
            status = await store.fail(db, job, worker=self.name, now=now, **outcome)
        level = logging.ERROR if status is JobStatus.DEAD else logging.WARNING
        log.log(level, "job %s (%s) attempt %d → %s: %s", job.id, job.kind, job.attempts,
                status, outcome["error"])

    def _handler_for(self, kind: str) -> Handler:
        try:
            return self.handlers[JobKind(kind)]
        except (ValueError, KeyError):  # a row older (or newer) than this code
            raise GiveUp(f"no handler for job kind '{kind}'") from None


def _describe(exc: BaseException) -> str:
    """Kept on the job row and logged: ids and kinds, never the data that failed."""
    return logs.describe(exc)
