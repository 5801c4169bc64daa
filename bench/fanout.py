"""Fan-out: how many SSE subscribers one `serve` process holds, the delay from a change's
commit to its delivery with all of them connected, and memory per subscriber. Baseline,
measured in the same run: the same delay with a single subscriber."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from bench.harness import median, now, percentile, rss_mb, serve, token

EVENTS = 20


async def subscriber(host: str, port: int, auth: str, delays: list[float],
                     ready: asyncio.Event | None, opened: list[int]) -> None:
    """A bare SSE client on a raw socket: thousands of them fit in one process."""
    reader, writer = await asyncio.open_connection(host, port, limit=2**20)
    writer.write((f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {auth}"
                  "\r\nAccept: text/event-stream\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"subscribe refused: {status!r}")
    opened.append(1)
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"data:") and b"t0" in line:
                sent = json.loads(line[5:])["t0"]
                delays.append(now() - sent)
    finally:
        writer.close()


async def level(url: str, base: str, pid: int, n: int) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    delays: list[float] = []
    opened: list[int] = []
    auth = token("admin")  # an operator sees every event: each goes to every subscriber
    rss_before = rss_mb(pid)
    tasks = []
    for start in range(0, n, 250):  # connect in waves, as clients reconnecting would
        tasks += [asyncio.create_task(subscriber(host, int(port), auth, delays, None, opened))
                  for _ in range(min(250, n - start))]
        await asyncio.sleep(0.2)
    for _ in range(200):
        if len(opened) >= n:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    rss_after = rss_mb(pid)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    for _ in range(EVENTS):
        await conn.execute(
            "INSERT INTO prepskul.change_events (type, audience, data) "
            "VALUES ('bench.tick', '{}', jsonb_build_object('t0', $1::float8))", now())
        await asyncio.sleep(max(0.2, n / 10000))  # let one fan-out finish before the next
    await asyncio.sleep(2)
    await conn.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    received = len(delays)
    return {"subscribers": len(opened), "expected_deliveries": len(opened) * EVENTS,
            "deliveries": received, "p50_ms": median(delays) * 1000,
            "p99_ms": percentile(delays, 0.99) * 1000,
            "rss_mb_idle": rss_before, "rss_mb_connected": rss_after,
            "kb_per_subscriber": (rss_after - rss_before) * 1024 / max(1, len(opened))}


async def run(url: str, sizes: tuple[int, ...] = (1, 1000, 5000)) -> dict[str, Any]:
    results = []
    async with serve(url) as (base, pid):
        for n in sizes:
            results.append(await level(url, base, pid, n))
    baseline = results[0]["p50_ms"]
    for r in results:
        r["p50_ratio_vs_1"] = r["p50_ms"] / baseline if baseline else float("nan")
    return {"fanout": results}
