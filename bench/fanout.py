"""Fan-out: how many SSE subscribers one `serve` process holds, the delay from a change's
commit to its delivery with all of them connected, and memory per subscriber.

The subscribers live in separate load-generator processes (`bench.sse_load`: bare sockets on
uvloop), which report their own CPU. Each write from the server begins with a `:t` comment
carrying the server's clock, so every delivery's delay splits into the server's part
(commit → written to the socket) and the client's (written → read by the generator).

Floor, measured in the same run with the same generators: `bench.fanout_floor`, the least
any Python process must do to deliver a committed change to every open stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from bench.harness import cpu_seconds, free_port, now, percentile, rss_mb, serve, token

EVENTS = 20
PROCESSES = 3  # load generators; each holds n / PROCESSES streams
# `BENCH_FANOUT_SIZES=5000`: only those sizes (a repeated run of the headline row)
SIZES = tuple(int(n) for n in os.environ.get("BENCH_FANOUT_SIZES", "1,1000,5000").split(","))


@contextlib.asynccontextmanager
async def generators(port: int, n: int, auth: str) -> AsyncIterator[list[Any]]:
    """`bench.sse_load` processes holding n streams between them, all connected."""
    shares = [n // PROCESSES + (i < n % PROCESSES) for i in range(PROCESSES)]
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.sse_load", "127.0.0.1", str(port), str(share), auth,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**28)
        for share in shares if share]
    try:
        for proc in procs:
            assert proc.stdout is not None
            ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), timeout=120))
            if ready["refused"]:
                raise RuntimeError(f"{ready['refused']} streams refused")
        yield procs
    finally:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in procs:
            await asyncio.wait_for(proc.wait(), timeout=30)


async def ask(procs: list[Any], command: str) -> list[dict[str, Any]]:
    for proc in procs:
        proc.stdin.write(command.encode() + b"\n")
    if command != "report":
        return []
    return [json.loads(await proc.stdout.readline()) for proc in procs]


async def level(url: str, port: int, pid: int, n: int) -> dict[str, Any]:
    rss_before = rss_mb(pid)
    load = os.getloadavg()[0]
    async with generators(port, n, token("admin")) as procs:
        await asyncio.sleep(1)
        rss_after = rss_mb(pid)
        await ask(procs, "reset")
        server_cpu = cpu_seconds(pid)
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        for _ in range(EVENTS):
            await conn.execute(
                "INSERT INTO prepskul.change_events (type, audience, data) "
                "VALUES ('bench.tick', '{}', jsonb_build_object('t0', $1::float8))", now())
            await asyncio.sleep(max(0.2, n / 10000))  # one fan-out done before the next
        await asyncio.sleep(2)
        await conn.close()
        server_cpu = cpu_seconds(pid) - server_cpu
        reports = await ask(procs, "report")
    total = [d for r in reports for d in r["total"]]
    server = [d for r in reports for d in r["server"]]
    client = [d for r in reports for d in r["client"]]
    opened = sum(r["opened"] for r in reports)

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q) * 1000, 1)

    return {"subscribers": opened, "expected": opened * EVENTS, "delivered": len(total),
            "dropped": sum(r["closed"] for r in reports),
            "out_of_order": sum(r["out_of_order"] for r in reports),
            "p50_ms": ms(total, 0.5), "p99_ms": ms(total, 0.99),
            "server_p50_ms": ms(server, 0.5), "server_p99_ms": ms(server, 0.99),
            "client_p50_ms": ms(client, 0.5), "client_p99_ms": ms(client, 0.99),
            "server_cpu_s": round(server_cpu, 2),
            "clients_cpu_s": round(sum(r["cpu_s"] for r in reports), 2),
            "rss_mb_connected": round(rss_after, 1),
            "kb_per_subscriber": round((rss_after - rss_before) * 1024 / max(1, opened), 1),
            "load_1m": round(load, 2)}


@contextlib.asynccontextmanager
async def floor_server(url: str) -> AsyncIterator[tuple[int, int]]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fanout_floor", str(port),
        env={**os.environ, "DATABASE_URL": url})
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.05)
        yield port, proc.pid
    finally:
        proc.terminate()
        await proc.wait()


async def run(url: str, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    ours, floor = [], []
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a socket per stream, inherited
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Ours with as many streams per person as the benchmark opens (one operator's token).
    env = {"SSE_MAX_STREAMS_PER_PERSON": str(max(sizes) + 1)}
    async with serve(url, extra_env=env) as (base, pid):
        port = int(base.rsplit(":", 1)[1])
        for n in sizes:
            ours.append({"server": "ours", **await level(url, port, pid, n)})
    async with floor_server(url) as (port, pid):
        for n in sizes:
            floor.append({"server": "floor", **await level(url, port, pid, n)})
    for mine, base_row in zip(ours, floor, strict=True):
        base_row["p99_vs_floor"] = base_row["cpu_vs_floor"] = 1.0
        mine["p99_vs_floor"] = round(mine["p99_ms"] / base_row["p99_ms"], 2) \
            if base_row["p99_ms"] else float("nan")
        mine["cpu_vs_floor"] = round(mine["server_cpu_s"] / base_row["server_cpu_s"], 2) \
            if base_row["server_cpu_s"] else float("nan")
    return {"fanout": [row for pair in zip(ours, floor, strict=True) for row in pair]}


def _sizes(argv: list[str]) -> tuple[int, ...]:
    return tuple(int(a) for a in argv) or SIZES


if __name__ == "__main__":  # `python -m bench.fanout 1000 5000`: chosen sizes only
    from bench.harness import database

    with database() as db_url:
        print(json.dumps(asyncio.run(run(db_url, _sizes(sys.argv[1:]))), indent=1))
