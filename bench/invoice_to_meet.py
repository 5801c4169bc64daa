"""A plan's invoice of 8 lessons to 8 Meet links: from the moment Fapshi's webhook arrives
(its inbox row, stamped by Postgres) to the moment the eighth of the period's Meet links
reaches an operator's SSE stream. The fake Fapshi and Calendar answer in 150 ms and the
conference is `pending` on the first read: payment-status once, then the eight events are
made by eight jobs side by side (insert and one re-read each), so the provider time alone is
450 ms when the worker runs the eight at once — the same as a single session's, as in
`pay_to_meet`. The worker's CPU per invoice is what booking eight lessons costs it.

Twice-weekly monthly plans (8 lessons each) for one tutor, each on its own weekly times, are
proposed, approved and their first invoice opened beforehand; the payments are paced."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness import cpu_seconds, median, meet_links_seen, percentile, serve, token
from prepskul.db.engine import plain_dsn

PROVIDER_MS = 450.0
RATES = ((1, 10), (4, 20))  # (invoices per second, invoices)
TUTOR = "00000000-0000-4000-8000-000000000001"


def _slots(n: int) -> list[dict[str, Any]]:
    """Plan n's weekly times: two one-hour lessons no other plan of the run uses."""
    hour = 6 + n % 16
    first = (n // 16) % 3
    return [{"weekday": first, "start": f"{hour:02d}:00", "minutes": 60},
            {"weekday": first + 3, "start": f"{hour:02d}:00", "minutes": 60}]


async def _prepare(client: httpx.AsyncClient, n: int, offset: int) -> list[str]:
    """n plans approved, each with its first invoice's checkout link."""
    today = datetime.now().astimezone().date()
    monday = today + timedelta(days=7 - today.weekday())
    gate = asyncio.Semaphore(4)

    async def one(i: int) -> str:
        async with gate:
            who = ("student", "parent")[i % 2]
            body: dict[str, Any] = {
                "tutor_id": TUTOR, "subject": "Physics", "slots": _slots(offset + i),
                "frequency": "monthly", "starts_on": monday.isoformat()}
            if who == "parent":
                body["student_id"] = "00000000-0000-4000-8000-000000000005"
            headers = {"Authorization": f"Bearer {token(who)}"}
            plan = (await client.post("/api/plans", json=body, headers=headers)).json()
            plan = (await client.post(f"/api/plans/{plan['id']}/approve", json={},
                                      headers={"Authorization": f"Bearer {token('tutor')}"}
                                      )).json()
            invoice = plan["invoices"][0]
            payment = (await client.post(f"/api/invoices/{invoice['id']}/payments",
                                         json={"method": "link"}, headers=headers)).json()
            return str(payment["link"])

    return list(await asyncio.gather(*(one(i) for i in range(n))))


_ARRIVALS = """
    SELECT p.invoice_id::text, extract(epoch FROM min(w.received_at))
      FROM prepskul.webhook_events w
      JOIN prepskul.payments p ON p.trans_id = convert_from(w.body, 'UTF8')::jsonb->>'transId'
     WHERE w.provider = 'fapshi' AND p.invoice_id IS NOT NULL
     GROUP BY p.invoice_id"""
_LESSONS = "SELECT id::text, invoice_id::text FROM prepskul.sessions WHERE invoice_id IS NOT NULL"


async def _from_database(url: str) -> tuple[dict[str, float], dict[str, str]]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        received = {i: float(at) for i, at in await conn.fetch(_ARRIVALS)}
        lessons = {s: i for s, i in await conn.fetch(_LESSONS)}
        return received, lessons
    finally:
        await conn.close()


async def run(url: str) -> dict[str, Any]:
    rows = []
    roomy = {"MAX_OPEN_UNPAID_BOOKINGS": "100000", "BOOKING_ATTEMPTS_PER_HOUR": "1000000"}
    async with serve(url, extra_env=roomy) as (base, serve_pid), \
            serve(url, command="worker", extra_env={"PUBLIC_BASE_URL": base}) as (_, worker_pid):
        await asyncio.sleep(3)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            offset = 0
            for rate, count in RATES:
                links = await _prepare(client, count, offset)
                offset += count
                await asyncio.sleep(2)  # the approvals' notifications are sent and idle
                for fake in ("fapshi", "google"):
                    await client.post(f"/sandbox/{fake}/_control", json={"latency": 0.15})
                arrivals: dict[str, float] = {}
                ready = asyncio.Event()
                watcher = asyncio.create_task(meet_links_seen(base, arrivals, ready))
                await ready.wait()
                cpu = [cpu_seconds(serve_pid), cpu_seconds(worker_pid), cpu_seconds()]
                loop = asyncio.get_running_loop()
                started, tasks = loop.time(), []
                for n, link in enumerate(links):
                    tasks.append(asyncio.create_task(client.post(f"{link}/pay")))
                    await asyncio.sleep(max(0.0, started + (n + 1) / rate - loop.time()))
                await asyncio.gather(*tasks)
                for _ in range(600):
                    if len(arrivals) >= 8 * count:
                        break
                    await asyncio.sleep(0.1)
                watcher.cancel()
                serve_cpu, worker_cpu, database_cpu = (
                    (now - before) * 1000 / count for now, before in zip(
                        (cpu_seconds(serve_pid), cpu_seconds(worker_pid), cpu_seconds()), cpu,
                        strict=True))
                for fake in ("fapshi", "google"):
                    await client.post(f"/sandbox/{fake}/_control", json={"latency": 0})
                received, lessons = await _from_database(url)
                last: dict[str, float] = {}
                seen: dict[str, int] = {}
                for session_id, invoice_id in lessons.items():
                    if session_id in arrivals:
                        seen[invoice_id] = seen.get(invoice_id, 0) + 1
                        last[invoice_id] = max(last.get(invoice_id, 0.0), arrivals[session_id])
                delays = [(last[i] - received[i]) * 1000 for i in received
                          if seen.get(i) == 8 and i in last]
                rows.append({"invoices_per_second": rate, "invoices": count,
                             "complete_invoices": len(delays), "p50_ms": median(delays),
                             "p99_ms": percentile(delays, 0.99),
                             "p99_minus_provider_ms": percentile(delays, 0.99) - PROVIDER_MS,
                             "cpu_ms_serve_and_fakes": serve_cpu,
                             "cpu_ms_worker_per_invoice": worker_cpu,
                             "cpu_ms_postgres": database_cpu})
    return {"invoice_to_meet": rows}
