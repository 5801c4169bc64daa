"""Payment to Meet link: from the moment Fapshi's webhook arrives (its inbox row, stamped by
Postgres on the same clock) to the moment the Meet link reaches a subscriber's SSE stream,
at 10 and 100 paid sessions per second. The fake Fapshi and Calendar answer in 150 ms, and
the conference is `pending` on the first read — so the provider time alone is 450 ms
(payment-status, insert, one re-read). The payer's click on the fake checkout page is paced
at the rate; the fake's own 150 ms before it posts the webhook is not ours, so it is not
counted (it is in `from_click_p50_ms`, for the record).

Everything shares the machine's cores: `serve` (with the fake providers inside it), the
worker, Postgres and this client. The CPU each spends per paid session is recorded, since it
is what sets the rate one machine can hold.

Each rate runs twice, back to back: first against the floor (`bench.pay_to_meet_floor`:
the same provider calls and durable writes with bare asyncpg and httpx, no ORM, no queue),
then against `prepskul worker`; `worker_cpu_vs_floor` is the worker's CPU per paid session
over the floor's. `BENCH_PAY_RATES=10,30` runs only those rows."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness import cpu_seconds, median, meet_links_seen, percentile, rss_mb, serve, token
from prepskul.db.engine import plain_dsn

PROVIDER_MS = 450.0
RATES = ((10, 100), (30, 150), (100, 200))  # (sessions per second, sessions)


async def _prepare(client: httpx.AsyncClient, n: int, offset: int) -> list[tuple[str, str]]:
    start = datetime.now().astimezone() + timedelta(days=1)
    gate = asyncio.Semaphore(16)

    async def one(i: int) -> tuple[str, str]:
        async with gate:
            who = ("student", "child")[i % 2]
            starts = start + timedelta(hours=2 * (offset + i))
            body = {"tutor_id": "00000000-0000-4000-8000-000000000001", "subject": "Physics",
                    "minutes": 60, "starts_at": starts.isoformat()}
            headers = {"Authorization": f"Bearer {token(who)}"}
            session = (await client.post("/api/sessions", json=body, headers=headers)).json()
            payment = (await client.post(f"/api/sessions/{session['id']}/payments",
                                         json={"method": "link"}, headers=headers)).json()
            return session["id"], payment["link"]

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _pay(client: httpx.AsyncClient, sent: dict[str, float], session_id: str,
               link: str) -> None:
    sent[session_id] = time.time()  # the fake checkout waits its latency, then posts the webhook
    await client.post(f"{link}/pay")


_ARRIVALS = """
    SELECT p.session_id::text, extract(epoch FROM min(w.received_at))
      FROM prepskul.webhook_events w
      JOIN prepskul.payments p ON p.trans_id = convert_from(w.body, 'UTF8')::jsonb->>'transId'
     WHERE w.provider = 'fapshi'
     GROUP BY p.session_id"""


async def _webhook_arrivals(url: str) -> dict[str, float]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return {session_id: float(at) for session_id, at in await conn.fetch(_ARRIVALS)}
    finally:
        await conn.close()


async def _phase(base: str, client: httpx.AsyncClient, url: str, serve_pid: int, pid: int,
                 rate: int, count: int, offset: int) -> dict[str, Any]:
    """Pay `count` sessions at `rate` per second; latencies, and CPU per paid session of
    `serve`, of the process doing the work (`pid`: the worker or the floor) and of Postgres."""
    pairs = await _prepare(client, count, offset)
    arrivals: dict[str, float] = {}
    ready = asyncio.Event()
    watcher = asyncio.create_task(meet_links_seen(base, arrivals, ready))
    await ready.wait()
    sent: dict[str, float] = {}
    tasks = []
    cpu = [cpu_seconds(serve_pid), cpu_seconds(pid), cpu_seconds()]
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n, (session_id, link) in enumerate(pairs):
        tasks.append(asyncio.create_task(_pay(client, sent, session_id, link)))
        await asyncio.sleep(max(0.0, started + (n + 1) / rate - loop.time()))
    await asyncio.gather(*tasks)
    for _ in range(600):  # up to a minute for the last links
        if len(arrivals) >= count:
            break
        await asyncio.sleep(0.1)
    watcher.cancel()
    serve_cpu, worker_cpu, database_cpu = (
        (now - before) * 1000 / count for now, before in zip(
            (cpu_seconds(serve_pid), cpu_seconds(pid), cpu_seconds()), cpu, strict=True))
    received = await _webhook_arrivals(url)
    delays = [(arrivals[s] - received[s]) * 1000 for s in sent if s in arrivals and s in received]
    clicks = [(arrivals[s] - sent[s]) * 1000 for s in sent if s in arrivals]
    return {"links_seen": len(delays), "p50_ms": median(delays),
            "p99_ms": percentile(delays, 0.99),
            "p99_minus_provider_ms": percentile(delays, 0.99) - PROVIDER_MS,
            "from_click_p50_ms": median(clicks), "cpu_ms_serve_and_fakes": serve_cpu,
            "cpu_ms_worker": worker_cpu, "cpu_ms_postgres": database_cpu}


_FORGET_UNCLAIMED = "UPDATE prepskul.jobs SET status = 'done' WHERE status = 'queued' AND kind = $1"


async def _forget_floor_deliveries(url: str) -> None:
    """The floor processed the deliveries of its phase without the queue: their jobs must not
    be run again by the worker of the next phase (that CPU would be counted against it)."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(_FORGET_UNCLAIMED, "process_fapshi_webhook")
    finally:
        await conn.close()


async def run(url: str) -> dict[str, Any]:
    """Each rate twice, floor first, then `worker`, each started for its phase: the two see
    the same machine within a minute of each other, and their ratio is what to read."""
    rows, footprint = [], {}
    # Two demo bookers hold every session unpaid until its turn comes: lift the per-booker
    # limits against squatting, which are not what this measures.
    roomy = {"MAX_OPEN_UNPAID_BOOKINGS": "100000", "BOOKING_ATTEMPTS_PER_HOUR": "1000000"}
    chosen = os.environ.get("BENCH_PAY_RATES")  # e.g. "10,30": only those rows
    rates = [r for r in RATES if chosen is None or str(r[0]) in chosen.split(",")]
    async with serve(url, extra_env=roomy) as (base, serve_pid), \
            httpx.AsyncClient(base_url=base, timeout=60) as client:
        footprint = {"serve_idle_mb": rss_mb(serve_pid)}
        for fake in ("fapshi", "google"):
            await client.post(f"/sandbox/{fake}/_control", json={"latency": 0.15})
        offset = 0
        for rate, count in rates:
            env = {"PUBLIC_BASE_URL": base}
            async with serve(url, module="bench.pay_to_meet_floor", extra_env=env) as (_, pid):
                await asyncio.sleep(1)
                floor = await _phase(base, client, url, serve_pid, pid, rate, count, offset)
            offset += count
            await _forget_floor_deliveries(url)
            async with serve(url, command="worker", extra_env=env) as (_, pid):
                await asyncio.sleep(3)  # the worker has started and gone idle
                footprint.setdefault("worker_idle_mb", rss_mb(pid))
                ours = await _phase(base, client, url, serve_pid, pid, rate, count, offset)
                footprint["worker_loaded_mb"] = rss_mb(pid)
            offset += count
            rows.append({"paid_per_second": rate, "sessions": count, **ours,
                         "floor_p50_ms": floor["p50_ms"], "floor_p99_ms": floor["p99_ms"],
                         "floor_links_seen": floor["links_seen"],
                         "cpu_ms_floor": floor["cpu_ms_worker"],
                         "worker_cpu_vs_floor": ours["cpu_ms_worker"] / floor["cpu_ms_worker"],
                         "uptime_load_1min": os.getloadavg()[0]})
        footprint["serve_loaded_mb"] = rss_mb(serve_pid)
    return {"pay_to_meet": rows, "footprint_pay_to_meet": [footprint]}
