"""`python -m bench [--runs N] [--quick] [names…]`: run benchmarks, print a table, write
bench/results/latest.json and the plots in bench/plots/.

Everything runs on loopback; the database is BENCH_DATABASE_URL's server or an embedded one.
With `--runs N` every benchmark runs N times (run 1 of all, then run 2 of all, …, so a
noisy minute does not land on one benchmark's every run): each figure is the median of the
N, and `spread` gives, per figure, (largest − smallest) ÷ median in percent. `--quick`
sets BENCH_SECONDS=1 (the timed phases of the benchmarks that read it: ingest, ledger): a
smoke test, not figures to quote (written to bench/results/quick.json; the plots are left
as they were).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def _first(path: str, prefix: str) -> str:
    """The rest of the first line of a /proc file starting with `prefix` ("" if none)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix)),
                "")


def machine(url: str) -> str:
    """Cores, CPU model, RAM, PostgreSQL's version (of the server the benchmarks use) and
    Python: what BENCHMARKS.md states about the machine."""
    import asyncpg

    from prepskul.db.engine import plain_dsn

    async def version() -> str:
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    kib = _first("/proc/meminfo", "MemTotal").split()
    ram = f"{int(kib[0]) / 2**20:.1f} GiB RAM" if kib else "RAM unknown"
    return (f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores "
            f"({_first('/proc/cpuinfo', 'model name') or 'model unknown'}), {ram}, "
            f"PostgreSQL {asyncio.run(version())}, Python {platform.python_version()}")


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def table(results: dict[str, Any], spread: dict[str, Any] | None = None) -> str:
    lines = []
    for name, rows in results.items():
        if not isinstance(rows, list) or not rows:
            continue
        keys = list(rows[0])
        lines.append(f"\n{name}\n" + " | ".join(keys))
        for n, row in enumerate(rows):
            cells = []
            for key, value in row.items():
                cell = f"{value:.2f}" if isinstance(value, float) else str(value)
                pct = ((spread or {}).get(name) or [{}] * (n + 1))[n].get(key)
                cells.append(cell if pct is None else f"{cell} ±{pct:.0f}%")
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def combine(runs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The median of each figure over the runs, and its spread in percent. Rows are matched
    by position (every run of a benchmark yields the same rows in the same order); labels
    (strings, and numbers that are the same in every run) are kept as they are."""
    medians: dict[str, Any] = {}
    spreads: dict[str, Any] = {}
    for name, first in runs[0].items():
        if not isinstance(first, list):
            medians[name] = first
            continue
        medians[name], spreads[name] = [], []
        for n, row in enumerate(first):
            merged, spread = {}, {}
            for key, value in row.items():
                values = [run[name][n][key] for run in runs]
                if isinstance(value, bool) or not isinstance(value, int | float) \
                        or len(set(values)) == 1:
                    merged[key] = value
                    continue
                mid = statistics.median(values)
                merged[key] = mid
                if mid:
                    spread[key] = 100 * (max(values) - min(values)) / abs(mid)
            medians[name].append(merged)
            spreads[name].append(spread)
    return medians, spreads


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--runs", type=int, default=1, help="run everything N times")
    parser.add_argument("--quick", action="store_true", help="a smoke test (1-second phases)")
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["BENCH_SECONDS"] = "1"  # read by the benchmarks as they are imported
    from bench import (
        contention,
        fanout,
        ingest,
        invoice_to_meet,
        ledger,
        pay_to_meet,
        plot,
        slots,
        startup,
    )
    from bench.harness import database

    benches = {
        "ingest": ingest.run, "pay_to_meet": pay_to_meet.run, "fanout": fanout.run,
        "invoice_to_meet": invoice_to_meet.run, "contention": contention.run,
        "slots": slots.run, "ledger": ledger.run,
        "startup": startup.run,
    }
    unknown = set(args.names) - set(benches)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(benches)}")
    chosen = args.names or list(benches)
    started = time.time()
    runs: list[dict[str, Any]] = []
    # Per run: the load average (1, 5, 15 min) at its start and end, and the 1-minute load
    # as each benchmark began — the machine is shared, so the figures say how quiet it was.
    loads: list[dict[str, Any]] = []
    described = ""
    RESULTS.mkdir(exist_ok=True)
    for n in range(args.runs):
        load: dict[str, Any] = {"start": _load(), "benchmarks": {}}
        results: dict[str, Any] = {}
        for name in chosen:
            load["benchmarks"][name] = _load()[0]
            begun = time.time()
            with database() as url:  # each starts clean: no backlog left by the one before
                described = described or machine(url)
                results.update(asyncio.run(benches[name](url)))
            load["benchmarks"][name + "_s"] = round(time.time() - begun, 1)
        load["end"] = _load()
        loads.append(load)
        runs.append(results)
        # Each finished run is kept as it comes: a failure in a later one loses nothing.
        (RESULTS / f"{'quick-' if args.quick else ''}run-{n + 1}.json").write_text(json.dumps(
            {"load_average": load, **results}, indent=2))
    medians, spreads = combine(runs)
    results = {"machine": described, "runs": args.runs, "load_average": loads, **medians,
               "seconds": round(time.time() - started, 1)}
    if args.runs > 1:
        results["spread_percent"] = spreads
        results["each_run"] = runs
    out = RESULTS / ("quick.json" if args.quick else "latest.json")
    out.write_text(json.dumps(results, indent=2))
    drawn = [] if args.quick else plot.draw(results)  # smoke figures never replace the plots
    print(table(medians, spreads if args.runs > 1 else None))
    spans = ", ".join(f"{run['start'][0]}→{run['end'][0]}" for run in loads)
    print(f"\n{results['machine']} — {args.runs} run(s), 1-min load {spans} — "
          f"{results['seconds']} s — {out}"
          + (f", plots: {', '.join(drawn)}" if drawn else ""))


if __name__ == "__main__":
    main()
