"""Providers that are slow beyond our timeouts, fail, rate-limit or answer garbage: retried
with backoff until it works, or dead-lettered with a reason a person can read."""

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from prepskul.db.models import Job, Recording
from prepskul.providers.errors import RetryableProviderError
from prepskul.runtime import build_runtime
from tests.integration.test_fathom_webhook import meeting, signed


async def _job(rt: Any, kind: str) -> Job:
    async with rt.sessions() as db:
        return (await db.scalars(select(Job).where(Job.kind == kind))).one()


async def test_a_provider_slower_than_our_timeout_is_retried_then_succeeds(
    settings, database_url, clock, sandbox
) -> None:  # type: ignore[no-untyped-def]
    quick = build_runtime(settings.model_copy(update={"provider_timeout_seconds": 0.3}),
                          clock=clock, database_url=database_url)
    try:
        sandbox.fapshi.controls.latency = 1.0
        with pytest.raises(RetryableProviderError) as slow:
            await quick.fapshi.balance()
        assert "ReadTimeout" in str(slow.value)
        sandbox.fapshi.controls.latency = 0
        assert (await quick.fapshi.balance())["currency"] == "XAF"
    finally:
        await quick.close()


async def test_garbage_answers_are_retried_with_a_readable_reason(
    api, auth, book, pay, checkout, sandbox, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    await checkout(await pay(session))
    sandbox.fapshi.controls.garbage = 2  # a proxy's HTML page with a 200, twice
    await worker.drain()
    job = await _job(worker.rt, "process_fapshi_webhook")
    assert job.status == "queued" and "not JSON: '<html>502 Bad Gateway" in (job.last_error or "")
    for _ in range(2):  # each garbage answer costs one attempt, retried after its backoff
        clock.advance(timedelta(minutes=1))
        await worker.drain()
    # The second garbage answer may go to another Fapshi call due in the same drain (the
    # payout reconciliation also asks Fapshi), so the webhook job took two or three attempts.
    assert (await _job(worker.rt, "process_fapshi_webhook")).attempts in (2, 3)
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert seen["status"] == "scheduled"


async def test_a_rate_limited_fathom_is_waited_for_as_it_asks(
    api, paid_session, sandbox, worker, clock, auth
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    sandbox.fathom.resend_scale = 0.0001
    sandbox.fathom.default_destination.includes = {"include_summary": True,
                                                   "include_action_items": True}
    await api.post(f"/api/sandbox/sessions/{session['id']}/lesson", headers=auth("student"))
    await sandbox.fathom.flush()  # delivered without its transcript: we must fetch it
    sandbox.fathom.controls.fail_next(429, {"message": "Rate limit exceeded"},
                                      **{"RateLimit-Reset": "40"})
    await worker.drain()
    job = await _job(worker.rt, "process_fathom_webhook")
    assert job.status == "queued"
    assert job.run_at - clock.now() == timedelta(seconds=40)  # as Fathom said, not sooner
    clock.advance(timedelta(seconds=41))
    await worker.drain()
    async with worker.rt.sessions() as db:
        recording = (await db.scalars(select(Recording))).one()
    assert recording.transcript and recording.session_id == uuid.UUID(session["id"])


async def test_a_provider_down_for_good_ends_in_a_dead_letter_with_its_reason(
    book, pay, checkout, sandbox, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    await checkout(await pay(session))
    sandbox.fapshi.controls.fail_next(503, times=100)
    for _ in range(8):  # every attempt the queue allows, each after its backoff
        await worker.drain()
        clock.advance(timedelta(hours=2))
    job = await _job(worker.rt, "process_fapshi_webhook")
    assert (job.status, job.attempts) == ("dead", 8)
    assert job.last_error == ("RetryableProviderError: fapshi: payment-status: Internal "
                              "server error (HTTP 503)")
    assert session["status"] == "awaiting_payment"


async def test_the_same_delivery_to_two_server_processes_at_once_acts_once(
    paid_session, api, auth, settings, database_url, tmp_path, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_live import start_serve

    session = await paid_session()
    link = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()[
        "meet_link"]
    body = json.dumps(meeting(link)).encode()
    headers = signed(body)
    async with start_serve(database_url, tmp_path) as other:
        answers = await asyncio.gather(*(
            client.post("/api/webhooks/fathom", content=body, headers=headers)
            for client in (api, other) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 9
    await worker.drain()
    async with rt.sessions() as db:
        assert len((await db.scalars(select(Recording))).all()) == 1
