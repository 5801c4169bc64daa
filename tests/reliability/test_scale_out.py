"""Two `serve` and two `worker` processes against one Postgres drive a few hundred sessions
through the whole story, with every webhook delivered to both servers at once. Every
session must end right, every effect happen exactly once, and operators subscribed on
either server must see every session's Meet link and notes."""

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from prepskul.db.models import Job, Notification, TutoringSession
from prepskul.sandbox.fathom import Destination
from tests.conftest import (
    FAPSHI_SECRET,
    FATHOM_SECRET,
    JWT_SECRET,
    EventStream,
    free_port,
    wait_until_up,
)

SESSIONS = int(os.environ.get("SCALE_OUT_SESSIONS", "300"))
pytestmark = pytest.mark.slow


@contextlib.asynccontextmanager
async def fleet(settings: Any, database_url: str, tmp_path: Any, *, workers: int = 2,
                **env: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two servers and (by default) two workers; providers are the test server's fakes;
    `env` adds settings."""
    sandbox = f"{settings.public_base_url}/sandbox"
    ports = [free_port(), free_port()]
    common = {**os.environ, "DATABASE_URL": database_url, "SUPABASE_JWT_SECRET": JWT_SECRET,
              "FAPSHI_WEBHOOK_SECRET": FAPSHI_SECRET, "FATHOM_WEBHOOK_SECRET": FATHOM_SECRET,
              "FAPSHI_BASE_URL": f"{sandbox}/fapshi",
              "GOOGLE_CALENDAR_BASE_URL": f"{sandbox}/google/calendar/v3",
              "FATHOM_BASE_URL": f"{sandbox}/fathom/external/v1",
              "FCM_BASE_URL": f"{sandbox}/fcm", "SMTP_URL": settings.smtp_url,
              "MEET_POLL_BASE_SECONDS": "0.05", "PREPSKUL_DATA_DIR": str(tmp_path), **env,
              "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}"}
    commands = [["serve", "--port", str(p)] for p in ports] + [["worker"]] * workers
    procs = []
    for n, args in enumerate(commands):
        env = {**common, "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[n % 2]}"}
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "prepskul.cli", *args, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=60) for p in ports]
    try:
        for client in clients:
            await wait_until_up(client)
        yield clients
    finally:
        for client in clients:
            await client.aclose()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await proc.wait()


async def _bounded(items: list[Any], work: Any, limit: int = 16) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(item: Any) -> Any:
        async with gate:
            return await work(item)

    return await asyncio.gather(*(one(i) for i in items))


async def _until(rt: Any, status: str, n: int, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        async with rt.sessions() as db:
            done = await db.scalar(select(func.count()).select_from(TutoringSession)
                                   .where(TutoringSession.status == status))
        if done == n:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise AssertionError(f"only {done} of {n} sessions reached {status}")


async def _quiet(rt: Any, seconds: float = 120) -> None:
    """Until no job is waiting or running (the workers have caught up)."""
    started, calm = time.monotonic(), 0
    while time.monotonic() - started < seconds and calm < 3:
        async with rt.sessions() as db:
            busy = await db.scalar(select(func.count()).select_from(Job).where(
                Job.status.in_(("queued", "running")), Job.run_at <= func.now()))
        calm = calm + 1 if busy == 0 else 0
        await asyncio.sleep(0.5)


async def test_two_servers_and_two_workers_drive_the_whole_story_exactly_once(
    settings, database_url, tmp_path, sandbox, auth, mailbox, rt, api, fresh_db
) -> None:  # type: ignore[no-untyped-def]
    sandbox.fapshi.hold_webhooks = True  # we deliver them ourselves, to both servers
    sandbox.fathom.resend_scale = 0.0001
    # Two bookers hold hundreds of unpaid sessions while webhooks are held back: lift the
    # limits against squatting (they have their own test, test_squatting.py).
    roomy = {"MAX_OPEN_UNPAID_BOOKINGS": "100000", "BOOKING_ATTEMPTS_PER_HOUR": "1000000"}
    async with fleet(settings, database_url, tmp_path, **roomy) as servers, \
            EventStream(servers[0], auth("admin")) as watch_a, \
            EventStream(servers[1], auth("admin")) as watch_b:
        start = datetime.now().astimezone() + timedelta(days=1)

        async def book_and_pay(n: int) -> dict[str, Any]:
            server, who = servers[n % 2], ("student", "child")[n % 2]
            body = {"tutor_id": "00000000-0000-4000-8000-000000000001", "subject": "Physics",
                    "minutes": 60, "starts_at": (start + timedelta(hours=2 * n)).isoformat()}
            booked = await server.post("/api/sessions", json=body, headers=auth(who))
            assert booked.status_code == 201, booked.text
            session: dict[str, Any] = booked.json()
            paid = await server.post(f"/api/sessions/{session['id']}/payments",
                                     json={"method": "link"}, headers=auth(who))
            assert (await api.post(f"{paid.json()['link']}/pay")).status_code == 303
            return session

        began = time.monotonic()
        sessions = await _bounded(list(range(SESSIONS)), book_and_pay)
        booked_in = time.monotonic() - began
        held, sandbox.fapshi.held = sandbox.fapshi.held, []
        assert len(held) == SESSIONS

        async def deliver_to_both(body: dict[str, Any]) -> None:
            answers = await asyncio.gather(*(s.post("/api/webhooks/fapshi", json=body, headers={
                "x-wh-secret": FAPSHI_SECRET}) for s in servers))
            assert {a.status_code for a in answers} == {200}

        began = time.monotonic()
        await _bounded(held, deliver_to_both)
        scheduled_in = await _until(rt, "scheduled", SESSIONS, 240) + (time.monotonic() - began)

        every = dict.fromkeys(("include_summary", "include_transcript",
                               "include_action_items"), True)
        sandbox.fathom.webhooks = {  # Fathom delivers every recording to both servers
            f"s{i}": Destination(f"s{i}", f"{str(s.base_url).rstrip('/')}/api/webhooks/fathom",
                                 FATHOM_SECRET, every)
            for i, s in enumerate(servers)}
        began = time.monotonic()
        for n, session in enumerate(sessions):
            seen = (await servers[n % 2].get(f"/api/sessions/{session['id']}",
                                             headers=auth("admin"))).json()
            sandbox.fathom.record(
                title="Session: Physics", meeting_url=seen["meet_link"],
                starts_at=datetime.fromisoformat(seen["starts_at"]),
                ends_at=datetime.fromisoformat(seen["ends_at"]),
                tutor=("Dr. Ngono", "ngono@tutors.prepskul.test"),
                student=(("Sam Student", "sam@students.prepskul.test"),
                         ("Awa Child", "awa@students.prepskul.test"))[n % 2],
                va=("VA", rt.settings.va_email))
        await sandbox.fathom.flush()
        completed_in = await _until(rt, "completed", SESSIONS, 240) + (time.monotonic() - began)
        await _quiet(rt)  # the last notifications and emails
        for watch in (watch_a, watch_b):
            events = watch.drained()
            for kind in ("meet.ready", "recording.ready"):
                ids = {e["data"]["session_id"] for e in events if e["type"] == kind}
                assert ids == {s["id"] for s in sessions}, (kind, len(ids))

    assert len(sandbox.calendar.events) == SESSIONS and sandbox.calendar.inserts == SESSIONS
    async with rt.sessions() as db:
        dead = (await db.scalars(select(Job).where(Job.status == "dead"))).all()
        per_kind = dict((await db.execute(select(Notification.kind, func.count())
                                          .group_by(Notification.kind))).all())
    assert [(job.kind, job.attempts, job.last_error) for job in dead] == []
    # Each session: its tutor and its student — and for Awa's, her linked parent too — hear
    # of it booked, paid, with its Meet link, with its notes and its outcome: once each.
    people = 2 * SESSIONS + SESSIONS // 2
    assert per_kind == dict.fromkeys(("booked", "paid", "meet_ready", "notes_ready",
                                         "outcome_completed"), people)
    ids = [str(m["Message-ID"]) for m in mailbox.messages]
    assert len(ids) == len(set(ids)) == 5 * people  # one email per notification
    print(f"\nscale-out: {SESSIONS} sessions booked+paid in {booked_in:.1f}s, all scheduled "
          f"{scheduled_in:.1f}s after their webhooks, completed {completed_in:.1f}s after "
          "their notes")
