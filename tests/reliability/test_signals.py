"""Stopping `serve` and `demo` as systemd, docker or a person at a terminal does (SIGTERM,
SIGINT): the process shuts down gracefully and stops the embedded PostgreSQL it started
(uvicorn's re-raised signal used to kill it first, leaving the database running)."""

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prepskul.config import Settings
from tests.conftest import free_port, wait_until_up

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: it only waits for its parent to read its status
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True


async def _gone(pid: int, seconds: float = 20) -> bool:
    for _ in range(int(seconds * 10)):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Not under pytest's own temporary folder: pytest keeps that private to its user (and
    re-tightens it when another run starts), and the embedded server runs as another."""
    with tempfile.TemporaryDirectory(prefix="prepskul-signals-") as folder:
        yield Path(folder)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("command", ["serve", "demo"])
async def test_a_signal_stops_the_process_and_the_embedded_postgres_it_started(
        command: str, sig: signal.Signals, data_dir: Path) -> None:
    port = free_port()
    ours = {name.upper() for name in Settings.model_fields} | {"PREPSKUL_DATA_DIR"}
    env = {**{k: v for k, v in os.environ.items() if k.upper() not in ours},
           "PREPSKUL_ENV": "sandbox", "PREPSKUL_DATA_DIR": str(data_dir),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    log = (data_dir / "process.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", command, "--port", str(port), env=env,
        stdout=log, stderr=log)
    postmaster = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            try:
                await wait_until_up(client, seconds=90)  # a fresh database: initdb first
            except AssertionError:
                raise AssertionError((data_dir / "process.log").read_text()[:4000]) from None
        postmaster = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        assert _alive(postmaster)

        proc.send_signal(sig)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
        assert await _gone(postmaster), "the embedded PostgreSQL is still running"
        assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if postmaster and _alive(postmaster):  # leave no server behind, even on failure
            os.kill(postmaster, signal.SIGTERM)
        log.close()
