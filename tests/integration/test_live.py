"""Live updates: every committed change reaches the people it concerns, in order, once,
across processes and reconnects — and nothing of anyone else's sessions."""

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from prepskul.db.models import ChangeEvent
from prepskul.services.live import Hub, LiveEvent
from tests.conftest import (
    FAPSHI_SECRET,
    FATHOM_SECRET,
    JWT_SECRET,
    EventStream,
    free_port,
    wait_until_up,
)


async def test_a_subscriber_sees_paid_then_meet_link_then_completed_and_nothing_else(
    api, auth, book, pay, checkout, worker, sandbox, events
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    async with events("student") as stream:
        await book("child", hours_ahead=48)  # someone else's session: never shown
        await checkout(await pay(session))
        await worker.drain()
        paid = await stream.until("session.paid")
        ready = await stream.until("meet.ready")
        assert paid["data"]["status"] == "paid" and paid["data"]["session_id"] == session["id"]
        assert ready["data"]["meet_link"].startswith("https://meet.google.com/")
        assert paid["id"] < ready["id"]
        sandbox.fathom.resend_scale = 0.0001
        await api.post(f"/api/sandbox/sessions/{session['id']}/lesson", headers=auth("student"))
        await sandbox.fathom.flush()
        await worker.drain()
        done = await stream.until("recording.ready")
        assert done["data"]["status"] == "completed"
        await asyncio.sleep(0.2)
        seen = {e["data"]["session_id"] for e in stream.drained()} | {session["id"]}
        assert seen == {session["id"]}


async def test_a_refused_change_publishes_nothing(book, events) -> None:  # type: ignore[no-untyped-def]
    async with events("admin") as stream:
        first = await book("student", hours_ahead=30)
        await book("child", hours_ahead=30, expect=409)  # rolled back: the slot is taken
        accepted = await book("child", hours_ahead=60)
        seen = [await stream.until("session.booked") for _ in range(2)]
        await asyncio.sleep(0.2)
        later = [e for e in stream.drained() if e["type"] == "session.booked"]
    assert [e["data"]["session_id"] for e in seen] == [first["id"], accepted["id"]]
    assert later == []  # nothing for the refused one, before or after


async def test_a_reconnect_with_last_event_id_misses_nothing(
    api, auth, book, events
) -> None:  # type: ignore[no-untyped-def]
    first = await book("student")
    async with events("student") as stream:
        await api.post(f"/api/sessions/{first['id']}/cancel", json={}, headers=auth("student"))
        last_seen = (await stream.until("session.cancelled"))["id"]
    missed = [await book("student", hours_ahead=24 * d) for d in (2, 3)]  # while away
    async with events("student", **{"Last-Event-ID": str(last_seen)}) as stream:
        replayed = [await stream.until("session.booked") for _ in missed]
    assert [e["data"]["session_id"] for e in replayed] == [s["id"] for s in missed]


@contextlib.asynccontextmanager
async def start_serve(database_url: str, data_dir: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Another `prepskul serve` process on the same database; a client for it."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SUPABASE_JWT_SECRET": JWT_SECRET,
           "FATHOM_WEBHOOK_SECRET": FATHOM_SECRET, "FAPSHI_WEBHOOK_SECRET": FAPSHI_SECRET,
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "PREPSKUL_DATA_DIR": str(data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_until_up(client)
            yield client
    finally:
        proc.terminate()
        await proc.wait()


async def test_two_server_processes_share_one_feed(book, database_url, tmp_path, auth) -> None:  # type: ignore[no-untyped-def]
    """A change committed through this server reaches a subscriber of another process."""
    async with start_serve(database_url, tmp_path) as other, \
            EventStream(other, auth("tutor")) as stream:
        session = await book("student")  # through the test server
        booked = await stream.until("session.booked")
    assert booked["data"]["session_id"] == session["id"]


async def test_a_burst_to_a_stream_whose_writer_has_not_run_yet_is_kept(rt) -> None:  # type: ignore[no-untyped-def]
    hub = Hub(rt, max_pending=3)
    profile = type("P", (), {"id": uuid.uuid4(), "role": "student"})()
    sub = hub.subscribe(profile)  # type: ignore[arg-type]
    for n in range(10):
        hub.dispatch(LiveEvent(n, "session.booked", None, frozenset({profile.id}), {}))
    assert not sub.dropped
    assert [e.id for e in sub.pending] == list(range(10))
    hub.unsubscribe(sub)


def _dropped(metrics: str, reason: str) -> float:
    line = next(x for x in metrics.splitlines()
                if x.startswith(f'prepskul_sse_dropped_total{{reason="{reason}"}}'))
    return float(line.rsplit(" ", 1)[1])


async def test_a_client_that_stops_reading_is_dropped_instead_of_holding_memory(
    api, auth, server, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    hub: Hub = server.state.hub
    monkeypatch.setattr(hub, "max_pending", 4)
    before = _dropped((await api.get("/metrics")).text, "slow")
    host, port = str(api.base_url.host), api.base_url.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                 f"{auth('admin')['Authorization']}\r\n\r\n".encode())
    while not hub.subscribers:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    (stream,) = hub.subscribers
    big = {"pad": "x" * 200_000}  # the socket's buffers fill after a few
    for n in range(1, 200):
        hub.dispatch(LiveEvent(10**12 + n, "bench.big", None, frozenset(), big))
        await asyncio.sleep(0)
        if stream.dropped:
            break
    assert stream.dropped and not hub.subscribers
    assert _dropped((await api.get("/metrics")).text, "slow") == before + 1
    received = 0  # reading again, it finds its stream ended, not everything sent
    while chunk := await asyncio.wait_for(reader.read(2**20), timeout=10):
        received += len(chunk)
    assert received < 200 * 200_000
    writer.close()


async def test_a_reader_at_a_normal_pace_gets_a_burst_whole_and_in_order(
    server, events
) -> None:  # type: ignore[no-untyped-def]
    hub: Hub = server.state.hub
    async with events("admin") as stream:
        ids = [2 * 10**12 + n for n in range(1000)]  # four times the bound, in one burst
        for event_id in ids:
            hub.dispatch(LiveEvent(event_id, "bench.tick", None, frozenset(), {"n": event_id}))
        got = [(await stream.until("bench.tick"))["id"] for _ in ids]
    assert got == ids


@pytest.mark.parametrize("cap", [1, 2, 5])
async def test_a_stream_beyond_a_persons_cap_closes_their_oldest(rt, cap: int) -> None:  # type: ignore[no-untyped-def]
    hub = Hub(rt, max_per_person=cap)
    alice, bob = (type("P", (), {"id": uuid.uuid4(), "role": "student"})() for _ in "ab")
    hers = [hub.subscribe(alice) for _ in range(cap)]
    his = hub.subscribe(bob)
    newest = hub.subscribe(alice)
    assert hers[0].dropped and hers[0].closed  # her oldest stream ends
    assert hub.subscribers == {*hers[1:], newest, his}
    for sub in (*hers[1:], newest, his):
        hub.unsubscribe(sub)
    assert not hub.subscribers and not hub._by_person


async def test_the_change_log_keeps_a_week_and_no_more(rt, worker) -> None:  # type: ignore[no-untyped-def]
    now = rt.clock.now()
    async with rt.sessions.begin() as db:
        for age in (timedelta(days=8), timedelta(days=6)):
            db.add(ChangeEvent(type=f"old.{age.days}", audience=[], data={}, at=now - age))
    await worker.drain()  # the hourly purge is due in a fresh window
    async with rt.sessions() as db:
        kept = (await db.scalars(select(ChangeEvent.type))).all()
    assert kept == ["old.6"]
