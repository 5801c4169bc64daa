"""`python -m bench [names…]`: run benchmarks, print a table, write bench/results/latest.json.

Everything runs on loopback; the database is BENCH_DATABASE_URL's server or an embedded one.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import contention, fanout, ingest, invoice_to_meet, pay_to_meet, slots, startup
from bench.harness import database

BENCHES = {
    "ingest": ingest.run, "pay_to_meet": pay_to_meet.run, "fanout": fanout.run,
    "invoice_to_meet": invoice_to_meet.run, "contention": contention.run, "slots": slots.run,
    "startup": startup.run,
}


def table(results: dict[str, Any]) -> str:
    lines = []
    for name, rows in results.items():
        if not isinstance(rows, list) or not rows:
            continue
        keys = list(rows[0])
        lines.append(f"\n{name}\n" + " | ".join(keys))
        for row in rows:
            lines.append(" | ".join(f"{v:.2f}" if isinstance(v, float) else str(v)
                                    for v in row.values()))
    return "\n".join(lines)


def main(names: list[str]) -> None:
    chosen = names or list(BENCHES)
    started = time.time()
    results: dict[str, Any] = {"machine": f"{platform.node()} {platform.machine()}, "
                               f"{__import__('os').cpu_count()} cores, Python "
                               f"{platform.python_version()}"}
    for name in chosen:
        with database() as url:  # each starts clean: no backlog left by the one before
            results.update(asyncio.run(BENCHES[name](url)))
    results["seconds"] = round(time.time() - started, 1)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\n{results['machine']} — {results['seconds']} s — bench/results/latest.json")


if __name__ == "__main__":
    main(sys.argv[1:])
