"""Footprint at start: how long `prepskul demo` takes to answer /readyz from a warm install,
with a new data folder (initdb included) and with the folder of a previous run."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from typing import Any

import httpx

from bench.harness import free_port


async def _time_demo(folder: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", "demo", "--port", str(port), cwd=folder, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient() as client:
            while time.perf_counter() - began < 60:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        return time.perf_counter() - began
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("the demo did not become ready within 60 s")
    finally:
        proc.terminate()
        await proc.wait()


async def run(url: str) -> dict[str, Any]:
    folder = tempfile.mkdtemp()
    new = await _time_demo(folder)
    again = await _time_demo(folder)
    return {"startup": [{"demo_new_data_folder_s": new, "demo_existing_folder_s": again}]}
