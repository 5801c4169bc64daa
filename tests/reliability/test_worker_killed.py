"""A worker process killed (SIGKILL) in the middle of a job: another worker redoes the job
when its lease ends, and its effect happens once — one payment confirmation, one Calendar
event, one email."""

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from prepskul.db.models import Job, Notification
from tests.conftest import FAPSHI_SECRET, FATHOM_SECRET, JWT_SECRET


async def start_worker(settings: Any, database_url: str, tmp_path: Any) -> Any:
    env = {**os.environ, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": settings.public_base_url,
           "FAPSHI_WEBHOOK_SECRET": FAPSHI_SECRET, "FATHOM_WEBHOOK_SECRET": FATHOM_SECRET,
           "SUPABASE_JWT_SECRET": JWT_SECRET, "SMTP_URL": settings.smtp_url or "",
           "MEET_POLL_BASE_SECONDS": "0.01", "PREPSKUL_DATA_DIR": str(tmp_path)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", "worker", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def kill_when_running(proc: Any, rt: Any, kind: str) -> None:
    """SIGKILL the worker once it is in the middle of a job of this kind."""
    for _ in range(300):
        async with rt.sessions() as db:
            running = await db.scalar(select(func.count()).select_from(Job).where(
                Job.kind == kind, Job.status == "running"))
        if running:
            await asyncio.sleep(0.3)  # well inside the provider call
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            return
        await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the worker never started a {kind} job")


async def survive(rt: Any, clock: Any, worker: Any) -> None:
    """Another worker, after the dead one's lease (90 s) has run out. The dead worker ran on
    the real clock, so its lease is measured from real time, not from the test's clock."""
    clock.set(datetime.now(UTC) + timedelta(seconds=91))
    await worker.drain()


async def _count(rt: Any, model: Any, *where: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_killed_while_confirming_a_payment(
    api, auth, book, pay, checkout, sandbox, settings, database_url, tmp_path, rt, clock, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    await checkout(await pay(session))
    sandbox.fapshi.controls.latency = 3  # payment-status is slow to answer
    proc = await start_worker(settings, database_url, tmp_path)
    await kill_when_running(proc, rt, "process_fapshi_webhook")
    sandbox.fapshi.controls.latency = 0
    await survive(rt, clock, worker)
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert seen["status"] == "scheduled" and seen["payment"]["status"] == "SUCCESSFUL"
    assert await _count(rt, Job, Job.kind == "create_meeting") == 1
    assert await _count(rt, Notification, Notification.kind == "paid") == 2  # tutor, student


async def test_killed_while_creating_the_calendar_event(
    api, auth, book, pay, checkout, sandbox, settings, database_url, tmp_path, rt, clock, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    await checkout(await pay(session))
    sandbox.calendar.controls.latency = 3  # Google takes its time; the event is made anyway
    proc = await start_worker(settings, database_url, tmp_path)
    await kill_when_running(proc, rt, "create_meeting")
    await asyncio.sleep(3)  # the fake finishes creating the event the dead worker asked for
    sandbox.calendar.controls.latency = 0
    await survive(rt, clock, worker)
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert seen["status"] == "scheduled" and seen["meet_link"]
    assert len(sandbox.calendar.events) == 1  # the redone job found it (409), made no other
    assert await _count(rt, Notification, Notification.kind == "meet_ready") == 2


async def test_killed_while_sending_an_email(
    book, mailbox, settings, database_url, tmp_path, rt, clock, worker
) -> None:  # type: ignore[no-untyped-def]
    await book("student")
    mailbox.stall = 3  # the mail server is slow to accept the recipient
    proc = await start_worker(settings, database_url, tmp_path)
    await kill_when_running(proc, rt, "send_email")
    mailbox.stall = 0
    await survive(rt, clock, worker)
    ids = [str(m["Message-ID"]) for m in mailbox.messages]
    assert len(ids) == 2 and len(set(ids)) == 2  # tutor and student, once each
