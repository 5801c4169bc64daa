"""Booking under contention: 200 concurrent attempts at the same tutor's 20 slots (10 per
slot) — bookings per second, and proof from the database that no two sessions overlap.
Baseline in the same run: 200 concurrent bookings of 200 free slots."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness import JWT_SECRET, serve
from prepskul.api.auth import mint_token
from prepskul.domain.people import Role

OVERLAPS = """SELECT count(*) FROM prepskul.sessions a JOIN prepskul.sessions b
              ON a.tutor_id = b.tutor_id AND a.id < b.id
             AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
             WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'"""


async def _attempts(base: str, starts: list[datetime]) -> tuple[float, list[int]]:
    tokens = [mint_token(JWT_SECRET, uuid.uuid4(), role=Role.STUDENT) for _ in starts]
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=200)) as client:
        for t in tokens:  # first sight creates each student's profile; not what we time
            await client.get("/api/me", headers={"Authorization": f"Bearer {t}"})
        began = time.perf_counter()
        answers = await asyncio.gather(*(client.post("/api/sessions", headers={
            "Authorization": f"Bearer {t}"}, json={
            "tutor_id": "00000000-0000-4000-8000-000000000002", "subject": "English",
            "minutes": 60, "starts_at": s.isoformat()}) for t, s in zip(tokens, starts,
                                                                       strict=True)))
        return time.perf_counter() - began, [a.status_code for a in answers]


async def run(url: str) -> dict[str, Any]:
    first = (datetime.now().astimezone() + timedelta(days=3)).replace(minute=0, second=0,
                                                                        microsecond=0)
    contended = [first + timedelta(hours=2 * (n % 20)) for n in range(200)]
    free = [first + timedelta(days=30, hours=2 * n) for n in range(200)]
    async with serve(url) as (base, _):
        free_s, free_codes = await _attempts(base, free)
        hot_s, hot_codes = await _attempts(base, contended)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    overlaps = await conn.fetchval(OVERLAPS)
    await conn.close()
    rows = [
        {"case": "200 free slots (baseline)", "attempts_per_s": 200 / free_s,
         "booked": free_codes.count(201), "refused_409": free_codes.count(409),
         "other": 200 - free_codes.count(201) - free_codes.count(409)},
        {"case": "10 attempts × 20 slots", "attempts_per_s": 200 / hot_s,
         "booked": hot_codes.count(201), "refused_409": hot_codes.count(409),
         "other": 200 - hot_codes.count(201) - hot_codes.count(409)},
    ]
    rows[1]["ratio_vs_free"] = rows[1]["attempts_per_s"] / rows[0]["attempts_per_s"]
    rows[0]["ratio_vs_free"] = 1.0
    for row in rows:
        row["overlapping_pairs_in_db"] = overlaps
    return {"contention": rows}
