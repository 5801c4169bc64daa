"""What every benchmark needs: a Postgres (BENCH_DATABASE_URL, or an embedded one), a fresh
migrated database with the demo people, `prepskul serve` running as in production (one
uvicorn process, uvloop + httptools), tokens, and percentile arithmetic."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import httpx

from prepskul.api.auth import mint_token
from prepskul.db import migrate
from prepskul.db.embedded import EmbeddedPostgres
from prepskul.db.engine import make_engine, make_session_factory, plain_dsn
from prepskul.services.demo import ALL_DAY, demo_user, seed_demo

JWT_SECRET = "bench-secret-long-enough-for-hs256-signatures"
FAPSHI_SECRET = "bench-fapshi-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(who: str) -> str:
    user = demo_user(who)
    return mint_token(JWT_SECRET, user.id, role=user.role, email=user.email)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of all values at or below it (the
    p99 of 100 values is the 99th, not the largest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextmanager
def database() -> Iterator[str]:
    """A fresh, migrated database with the demo people; dropped afterwards."""
    server_url = os.environ.get("BENCH_DATABASE_URL")
    embedded = None
    if server_url is None:
        embedded = EmbeddedPostgres(Path(tempfile.mkdtemp()), delete_on_stop=True)
        server_url = embedded.url()
    name = f"prepskul_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(plain_dsn(server_url))
        await conn.execute(sql)
        await conn.close()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)

    async def seed() -> None:
        engine = make_engine(url, pool_size=1)
        async with make_session_factory(engine).begin() as db:
            await seed_demo(db, hours=ALL_DAY)
        await engine.dispose()

    asyncio.run(seed())
    try:
        yield url
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        if embedded:
            embedded.stop()


@asynccontextmanager
async def serve(url: str, *, command: str = "serve", extra_env: dict[str, str] | None = None,
                stack: str | None = None, module: str | None = None
                ) -> AsyncIterator[tuple[str, int]]:
    """`prepskul serve` (or `worker`, …) in its own process; yields (base URL, pid). With a
    `stack`, the same app under another HTTP server (`bench.stacks`); with a `module`, that
    benchmark module (`python -m module`, a floor) instead of a `prepskul` command."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "SUPABASE_JWT_SECRET": JWT_SECRET,
           "PUBLIC_BASE_URL": base, "FAPSHI_WEBHOOK_SECRET": FAPSHI_SECRET,
           "PREPSKUL_DATA_DIR": tempfile.mkdtemp(), **(extra_env or {})}
    args = [sys.executable, "-m", "prepskul.cli", command]
    if command == "serve":
        args += ["--port", str(port)]
    if stack is not None:
        args = [sys.executable, "-m", "bench.stacks", stack, str(port)]
    if module is not None:
        args = [sys.executable, "-m", module]
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        if command == "serve":
            async with httpx.AsyncClient() as client:
                for _ in range(300):
                    try:
                        if (await client.get(f"{base}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
        yield base, proc.pid
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=10)


def rss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss / 2**20)


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) used so far by one process, or by the machine's Postgres
    servers when no pid is given: each postmaster, its live backends, and the backends that
    have ended (counted in the postmaster's children's times once reaped)."""
    import psutil

    if pid is not None:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != "postgres":
            continue
        try:
            if proc.parent() and proc.parent().name() == "postgres":
                continue  # a backend: counted with its postmaster below
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in proc.children():
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        except psutil.Error:  # a backend that just ended
            continue
    return total


def now() -> float:
    return time.time()


async def meet_links_seen(base: str, arrivals: dict[str, float], ready: asyncio.Event) -> None:
    """Watch the operator's live stream and note when each session's Meet link arrives."""
    async with httpx.AsyncClient(timeout=None) as client, client.stream(
            "GET", f"{base}/api/events", headers={"Authorization": f"Bearer {token('admin')}"}
    ) as stream:
        ready.set()
        kind = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "meet.ready":
                arrivals.setdefault(json.loads(line[5:])["session_id"], time.time())
