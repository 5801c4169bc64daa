"""Webhook ingest: deliveries acknowledged per second and time to acknowledge (p50/p99) at
1, 16 and 64 concurrent senders, for `/api/webhooks/fapshi` and `/api/webhooks/fathom`.
Three servers in the same run: ours (`prepskul serve` as in production), the floor (same
stack, insert the raw body and commit), and the seed's design (Node.js, verify + write +
process inline: for Fapshi, ask payment-status; for Fathom, match the session, store summary,
transcript and action items, complete the session, write the notifications). Load comes
from wrk, so the generator is not what we measure. The serving stack is priced in the same
run: the same app under uvicorn + httptools without our head limits (`httptools`, what
`serve` ran before them) and under each of `BENCH_STACKS` (e.g. `h11,hypercorn,granian`,
see bench/stacks.py); `rps_vs_httptools` is each server's throughput over that one's.
`cpu_us_per_delivery` is the server process's own CPU (user + system) per acknowledged
delivery — steadier than throughput on a shared machine — and `cpu_vs_floor` its ratio.

Every server is warmed up first (a discarded run), and every run sends deliveries no run
before it sent: a resend is a cheaper path (ours answers `duplicate` without storing), so
reusing deliveries would flatter us."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import stacks
from bench.harness import FAPSHI_SECRET, cpu_seconds, free_port, median, rss_mb, serve
from prepskul.providers.fathom.signatures import sign

FATHOM_SECRET = "whsec_" + "YmVuY2gtZmF0aG9tLXNlY3JldC0zMi1ieXRlcyEhIQ=="
# `BENCH_INGEST_SENDERS=1,16`: only those levels (a repeated run of the headline rows)
LEVELS = tuple(int(n) for n in os.environ.get("BENCH_INGEST_SENDERS", "1,16,64").split(","))
SECONDS = int(os.environ.get("BENCH_SECONDS", "2"))
REPEATS = 3  # runs per figure, servers taking turns; the table shows the medians
WARM_UP = (16, 2)  # senders, seconds: discarded
RUNS = 1 + len(LEVELS) * REPEATS  # per server and endpoint, the warm-up included
# Fresh deliveries per run (each run sends from its own window of the pool): room for
# ~27,000/s of Fapshi's small bodies and ~18,000/s of Fathom's larger ones (on a quiet
# machine the fast path passed 12,000/s and overran the former 24,000).
WINDOWS = {"fapshi": 60_000, "fathom": 40_000}
SEED = Path(__file__).parent / "seed"
TABLES = (
    "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, provider text,"
    " body bytea, at timestamptz DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS bench_seed (id bigserial PRIMARY KEY, provider text, body text,"
    " processed boolean DEFAULT false)",
    "CREATE TABLE IF NOT EXISTS bench_seed_recordings (recording_id bigint PRIMARY KEY,"
    " title text, summary text, transcript jsonb)",
    "CREATE TABLE IF NOT EXISTS bench_seed_action_items (id bigserial PRIMARY KEY,"
    " recording_id bigint, description text)",
    "CREATE TABLE IF NOT EXISTS bench_seed_notifications (id bigserial PRIMARY KEY,"
    " person text, kind text)",
)


def _fapshi(n: int) -> tuple[dict[str, str], str]:
    trans = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
    body = json.dumps({"transId": trans, "status": "SUCCESSFUL", "amount": 3500,
                       "externalId": f"bench{n}", "medium": "mobile money"})
    return {"x-wh-secret": FAPSHI_SECRET, "content-type": "application/json"}, body


def _fathom(n: int) -> tuple[dict[str, str], str]:
    body = json.dumps({
        "title": "Session: Mathematics", "recording_id": 10**9 + n,
        "url": f"https://fathom.video/calls/{n}", "share_url": "https://fathom.video/share/x",
        "meeting_url": "https://meet.google.com/abc-defg-hij", "created_at": "2026-11-25T10:00:00Z",
        "scheduled_start_time": "2026-11-25T09:00:00Z", "calendar_invitees": [
            {"name": "Tutor", "email": "t@x.cm"}, {"name": "Student", "email": "s@x.cm"}],
        "default_summary": {"template_name": "general",
                            "markdown_formatted": "## Summary\n" + "We practised. " * 40},
        "action_items": [{"description": "Exercise 4", "assignee": {"email": "s@x.cm"}}]})
    # Stamped 4 minutes ahead: Standard Webhooks accepts ±5 minutes, and a phase's deliveries
    # for several servers are made before its runs, which can take longer than 5 minutes.
    msg_id, ts = f"msg_{secrets.token_hex(12)}", int(time.time()) + 240
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign(FATHOM_SECRET, msg_id, ts, body.encode()),
            "content-type": "application/json"}, body


@dataclass(frozen=True)
class Script:
    lua: str  # the Lua file
    data: list[str]  # one file of fresh deliveries per run
    window: int  # deliveries in each


def wrk_script(path: str, make: Any, window: int) -> Script:
    """A wrk Lua script sending unique, pre-signed deliveries, and one data file per run
    (two lines per delivery: tab-separated headers, then the one-line JSON body). A run
    reads only its own file (`-- file threads`); its threads split it."""
    folder = Path(tempfile.mkdtemp())
    data = []
    for run in range(RUNS):
        data.append(str(folder / f"requests-{run}.txt"))
        with Path(data[-1]).open("w") as out:
            for n in range(run * window, (run + 1) * window):
                headers, body = make(n)
                out.write("\t".join(f"{k}\t{v}" for k, v in headers.items()) + "\n" + body
                          + "\n")
    lua = f"""
local requests, i = {{}}, 0
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args)
  local pending = nil
  for line in io.lines(args[1]) do
    if pending == nil then pending = line
    else
      local headers, key = {{}}, nil
      for field in string.gmatch(pending, "[^\\t]+") do
        if key == nil then key = field else headers[key] = field; key = nil end
      end
      table.insert(requests, {{h = headers, b = line}})
      pending = nil
    end
  end
  i = id * math.floor(#requests / tonumber(args[2]))
end
function request()
  local r = requests[(i % #requests) + 1]
  i = i + 1
  return wrk.format("POST", "{path}", r.h, r.b)
end
local shown = 0
function response(status, headers, body)
  if status ~= 200 and shown < 2 then
    shown = shown + 1
    io.stderr:write(status .. " " .. body .. "\\n")
  end
end
"""
    (folder / "load.lua").write_text(lua)
    return Script(str(folder / "load.lua"), data, window)


def wrk(base: str, script: Script, connections: int, window: int,
        seconds: int = SECONDS) -> dict[str, float]:
    """One run from the pool's `window`-th window; fails loudly if it ran past the window
    (some deliveries would then have been resends)."""
    threads = min(2, connections)
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "-s", script.lua, base, "--", script.data[window], str(threads)],
        capture_output=True, text=True, check=True)
    text = result.stdout
    if result.stderr.strip():
        print(f"{base}: {result.stderr.strip()[:300]}", file=sys.stderr)

    def latency(q: str) -> float:
        match = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        assert match, text
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return float(match.group(1)) * scale

    sent = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    if sent > 0.9 * script.window:  # threads split the window: leave them some slack
        raise SystemExit(f"{base}: {sent} requests overran the {script.window} fresh "
                         "deliveries of a run; raise WINDOWS")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    return {"requests": float(sent), "rps": rps,
            "p50_ms": latency("50"), "p75_ms": latency("75"), "p90_ms": latency("90"),
            "p99_ms": latency("99"),
            "errors": float(errors.group(1)) if errors else 0.0}


@asynccontextmanager
async def process(args: list[str], env: dict[str, str], port: int) -> AsyncIterator[int]:
    proc = await asyncio.create_subprocess_exec(*args, env={**os.environ, **env},
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    await client.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield proc.pid
    finally:
        proc.terminate()
        await proc.wait()


async def run(url: str) -> dict[str, Any]:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    if not (SEED / "node_modules").is_dir():
        await asyncio.to_thread(subprocess.run, ["npm", "install", "--no-audit", "--no-fund",
                                                 "--silent"], cwd=SEED, check=True)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    for statement in TABLES:
        await conn.execute(statement)
    await conn.close()
    # The serving stack is priced in the same run: ours (`serve`: uvicorn + httptools with
    # our head limits) against the same app under uvicorn + httptools as it comes (no
    # limits: what `serve` ran before), and under each of BENCH_STACKS (bench/stacks.py).
    stack_names = ["httptools"] + [s for s in os.environ.get("BENCH_STACKS", "").split(",")
                                   if s and stacks.available(s)]
    secrets_env = {"FAPSHI_WEBHOOK_SECRET": FAPSHI_SECRET, "FATHOM_WEBHOOK_SECRET": FATHOM_SECRET}
    rows: list[dict[str, Any]] = []
    rss: dict[str, float] = {}
    async with serve(url, extra_env=secrets_env) as (providers, _), \
            contextlib.AsyncExitStack() as running:
        # Realistic Fapshi for the seed's inline call: 150 ms to answer payment-status.
        async with httpx.AsyncClient() as client:
            await client.post(f"{providers}/sandbox/fapshi/_control", json={"latency": 0.15})
        ours, ours_pid = await running.enter_async_context(serve(url, extra_env=secrets_env))
        targets, pids = {"ours": ours}, {"ours": ours_pid}
        for name in stack_names:
            targets[name], pids[name] = await running.enter_async_context(
                serve(url, extra_env=secrets_env, stack=name))
        floor_port, seed_port = free_port(), free_port()
        plain = url.replace("postgresql+asyncpg://", "postgresql://")
        pids["floor"] = await running.enter_async_context(process(
            [sys.executable, "-m", "uvicorn", "bench.floor:app", "--port", str(floor_port),
             "--no-access-log", "--log-level", "warning"], {"DATABASE_URL": url}, floor_port))
        pids["seed"] = await running.enter_async_context(process(
            ["node", str(SEED / "server.js")],
            {"DATABASE_URL": plain.split("?")[0] if "host=" not in plain else plain,
             "PORT": str(seed_port), "FAPSHI_BASE_URL": f"{providers}/sandbox/fapshi",
             **secrets_env}, seed_port))
        targets |= {"floor": f"http://127.0.0.1:{floor_port}",
                    "seed": f"http://127.0.0.1:{seed_port}"}
        rss["serve_idle_mb"] = rss_mb(ours_pid)
        for provider, make in (("fapshi", _fapshi), ("fathom", _fathom)):
            # Made now, not at the start: Fathom's signatures expire after 5 minutes. Every
            # server writing our inbox gets deliveries of its own (a resend is cheaper).
            path, window_size = f"/api/webhooks/{provider}", WINDOWS[provider]
            own = {name: wrk_script(path, make, window_size) for name in ("ours", *stack_names)}
            scripts = {name: own.get(name, own["ours"]) for name in targets}
            for name, base in targets.items():
                await asyncio.to_thread(wrk, base, scripts[name], WARM_UP[0], 0, WARM_UP[1])
            window = 0
            for level in LEVELS:
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
                for _ in range(REPEATS):
                    window += 1
                    for name, base in targets.items():
                        cpu = cpu_seconds(pids[name])
                        figures = await asyncio.to_thread(wrk, base, scripts[name], level,
                                                          window)
                        figures["cpu_us_per_delivery"] = 1e6 * (
                            cpu_seconds(pids[name]) - cpu) / max(1.0, figures["requests"])
                        runs[name].append(figures)
                for name, figures in runs.items():
                    rows.append({"endpoint": provider, "senders": level, "server": name,
                                 **{k: median([f[k] for f in figures]) for k in figures[0]}})
            for script in own.values():  # its deliveries: ~0.5 GB per server and endpoint
                shutil.rmtree(Path(script.lua).parent, ignore_errors=True)
        rss["serve_after_ingest_mb"] = rss_mb(ours_pid)
    for row in rows:
        same = {r["server"]: r for r in rows
                if r["endpoint"] == row["endpoint"] and r["senders"] == row["senders"]}
        row["rps_vs_floor"] = row["rps"] / same["floor"]["rps"]
        row["rps_vs_seed"] = row["rps"] / same["seed"]["rps"]
        row["p99_vs_seed"] = row["p99_ms"] / same["seed"]["p99_ms"]
        row["rps_vs_httptools"] = row["rps"] / same["httptools"]["rps"]
        row["cpu_vs_floor"] = row["cpu_us_per_delivery"] / same["floor"]["cpu_us_per_delivery"]
    return {"ingest": rows, "footprint_ingest": [rss]}
