"""Free slots for a busy tutor: 120 days of weekly hours (Mon–Sat 08:00–20:00 on a Paris
clock, 15-minute buffer, 120-day horizon) and 300 held sessions. `GET
/api/tutors/{id}/slots` over the whole 120 days, and over the default 14 days, against a
baseline in the same run: the plain SELECT of the tutor's held sessions that the slots
request itself makes, sent straight to Postgres. Latency is one request at a time, timed at
the client on loopback; throughput is 8 requests in flight. `GET /api/me` (token check and
profile load, what every signed-in request pays) and the domain function alone (no HTTP, no
database, timed in-process) show where the time goes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness import median, percentile, serve, token
from prepskul.db.engine import plain_dsn
from prepskul.domain.availability import Availability, Limits, Window, slot_starts
from prepskul.services.demo import demo_user

HELD = 300
DAYS = 120
LATENCY_RUNS = 200
LOAD_SECONDS = 5.0
IN_FLIGHT = 8
HOURS = {"time_zone": "Europe/Paris", "buffer_minutes": 15, "horizon_days": DAYS,
         "min_notice_minutes": 120,
         "weekly": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(6)]}
# What services.availability.held_time asks: the tutor's rows in time_holds (kept in step with
# each session by a trigger), less lapsed tentative holds.
HELD_SQL = """SELECT starts_at, ends_at FROM prepskul.time_holds
              WHERE tutor_id = $1 AND starts_at < $2 AND ends_at > $3
                AND (expires_at IS NULL OR expires_at > now())"""


async def _hold_sessions(conn: asyncpg.Connection, tutor: str, first: datetime) -> None:
    """300 sessions spread over the 120 days, two or three a day, none overlapping."""
    student = str(demo_user("student").id)
    rows = []
    for n in range(HELD):
        starts = first + timedelta(days=n * DAYS // HELD, hours=7 + 3 * (n % 3))
        rows.append((tutor, student, student, "Physics", starts, starts + timedelta(hours=1),
                     "Africa/Douala", "scheduled", 5000, "regular"))
    await conn.executemany(
        "INSERT INTO prepskul.sessions (tutor_id, student_id, booked_by_id, subject, "
        "starts_at, ends_at, time_zone, status, price_xaf, kind) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", rows)


async def _measure(call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    for _ in range(20):  # warm up: connections, caches
        await call()
    times = []
    for _ in range(LATENCY_RUNS):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    done = 0
    deadline = time.perf_counter() + LOAD_SECONDS

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(IN_FLIGHT)))
    return {"p50_ms": median(times), "p99_ms": percentile(times, 0.99),
            "requests_per_s": done / (time.perf_counter() - began)}


def _domain_only(first: datetime) -> dict[str, float]:
    av = Availability("Europe/Paris", tuple(Window(d, 480, 1200) for d in range(6)),
                      limits=Limits(buffer=timedelta(minutes=15), min_notice=timedelta(0),
                                    horizon=timedelta(days=DAYS)))
    held = [(first + timedelta(days=n * DAYS // HELD, hours=7 + 3 * (n % 3)),
             first + timedelta(days=n * DAYS // HELD, hours=8 + 3 * (n % 3)))
            for n in range(HELD)]
    times, found = [], 0
    for _ in range(LATENCY_RUNS):
        began = time.perf_counter()
        found = len(slot_starts(av, held, now=first, start=first,
                                end=first + timedelta(days=DAYS), minutes=60))
        times.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": median(times), "p99_ms": percentile(times, 0.99),
            "requests_per_s": 1000 / median(times), "slots": found}


async def run(url: str) -> dict[str, Any]:
    tutor = str(demo_user("tutor").id)
    first = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                              microsecond=0)
    conn = await asyncpg.connect(plain_dsn(url))
    await _hold_sessions(conn, tutor, first)
    pool = await asyncpg.create_pool(plain_dsn(url), min_size=IN_FLIGHT, max_size=IN_FLIGHT)
    rows: list[dict[str, Any]] = []
    async with serve(url) as (base, _), httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=IN_FLIGHT)) as client:
        tutor_headers = {"Authorization": f"Bearer {token('tutor')}"}
        assert (await client.put("/api/me/availability", json=HOURS,
                                 headers=tutor_headers)).status_code == 200
        student = {"Authorization": f"Bearer {token('student')}"}
        now = datetime.now(UTC)
        counts = {}

        def slots(days: int) -> Callable[[], Awaitable[Any]]:
            params = {"from": now.isoformat(), "to": (now + timedelta(days=days)).isoformat(),
                      "minutes": 60}

            async def call() -> None:
                answer = await client.get(f"/api/tutors/{tutor}/slots", params=params,
                                          headers=student)
                assert answer.status_code == 200, answer.text
                counts[days] = len(answer.json()["slots"])
            return call

        async def baseline() -> None:
            async with pool.acquire() as c:
                await c.fetch(HELD_SQL, demo_user("tutor").id, now + timedelta(days=DAYS),
                              now)

        async def me() -> None:
            assert (await client.get("/api/me", headers=student)).status_code == 200

        rows.append({"case": f"baseline: SELECT of the {HELD} held sessions",
                     **await _measure(baseline), "slots": 0})
        rows.append({"case": "GET /api/me (any signed-in request's floor)",
                     **await _measure(me), "slots": 0})
        for days in (DAYS, 14):
            rows.append({"case": f"GET slots over {days} days", **await _measure(slots(days)),
                         "slots": counts[days]})
    rows.append({"case": f"domain slot_starts alone, {DAYS} days", **_domain_only(first)})
    base = rows[0]
    for row in rows:
        row["p50_vs_baseline"] = row["p50_ms"] / base["p50_ms"]
    await pool.close()
    await conn.close()
    return {"slots": rows}
