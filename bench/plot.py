"""`python -m bench.plot [results.json]`: draw the bench's figures as SVG line charts in
bench/plots/ (BENCHMARKS.md embeds them). A small SVG writer of our own: one chart kind
(lines over a few labelled x positions, y from zero), no dependency to install.

- `ingest_throughput.svg`: deliveries/s against senders, per endpoint and server;
- `ingest_latency.svg`: time to acknowledge at p50/p75/p90/p99, ours against the floor;
- `ledger_throughput.svg`, `ledger_latency.svg`: the same for ledger postings;
- `fanout.svg`: commit → delivery p50/p99 and server CPU against subscribers, ours against
  the floor, with the p99 target;
- `pay_to_meet.svg`: webhook → Meet link p50/p99 and CPU per paid session against the rate,
  the worker against the floor, with the targets.
Figures missing from the JSON (a benchmark not run) leave their charts undrawn."""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path
from typing import Any

PLOTS = Path(__file__).parent / "plots"
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
W, H, LEFT, RIGHT, TOP, BOTTOM = 340, 240, 58, 12, 30, 44

Series = tuple[str, list[float], int, bool]  # name, one value per x, colour index, dashed


def _nice_top(value: float) -> tuple[float, int]:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value`, and how many gridline steps
    divide it into round numbers."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    while step > value > 0:
        step /= 10
    top = next(m * step for m in (1, 2, 5, 10) if m * step >= value)
    return top, 4 if round(top / step) == 2 else 5


def _tick(v: float) -> str:
    return f"{v:,.0f}" if v == int(v) else f"{v:,.4g}"


def chart(title: str, x_label: str, y_label: str, xs: list[str],
          series: list[Series]) -> str:
    """One panel (an SVG <g> of W × H) with its own axes; `panels` lays them side by side."""
    top, steps = _nice_top(max((v for _, values, _, _ in series for v in values), default=1)
                           or 1)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(n: int) -> float:
        return LEFT + (plot_w * (n + 0.5) / len(xs))

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    out = [f'<text x="{W / 2}" y="16" text-anchor="middle" font-weight="bold">'
           f'{escape(title)}</text>',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
           'stroke="#999"/>']
    for k in range(steps + 1):
        v = top * k / steps
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   'stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{_tick(v)}</text>')
    for n, label in enumerate(xs):
        out.append(f'<text x="{x(n):.1f}" y="{H - BOTTOM + 14}" text-anchor="middle">'
                   f'{escape(label)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{H - BOTTOM + 30}" text-anchor="middle">'
               f'{escape(x_label)}</text>')
    out.append(f'<text transform="translate(12 {TOP + plot_h / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    for name, values, colour, dashed in series:
        points = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in enumerate(values))
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[colour]}" '
                   f'stroke-width="2"{dash}><title>{escape(name)}</title></polyline>')
        out += [f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="2.5" fill="{COLOURS[colour]}"/>'
                for n, v in enumerate(values)]
    return "\n".join(out)


def panels(drawn: list[str], legend: list[tuple[str, int, bool]]) -> str:
    """Charts side by side, one legend below them."""
    width = W * len(drawn)
    per_row = max(1, width // 220)  # legend entries side by side
    height = H + 16 * ((len(legend) + per_row - 1) // per_row) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    out += [f'<g transform="translate({W * n} 0)">{c}</g>' for n, c in enumerate(drawn)]
    for n, (name, colour, dashed) in enumerate(legend):
        lx, ly = 20 + (width / per_row) * (n % per_row), H + 8 + 16 * (n // per_row)
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{ly}" y2="{ly}" '
                   f'stroke="{COLOURS[colour]}" stroke-width="2"{dash}/>'
                   f'<text x="{lx + 30}" y="{ly + 4}">{escape(name)}</text>')
    return "\n".join([*out, "</svg>\n"])


def _by(rows: list[dict[str, Any]], level: str, who: str) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by `who` (server or path), each list ordered by `level`."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r[level]):
        groups.setdefault(row[who], []).append(row)
    return groups


def _throughput(rows: list[dict[str, Any]], level: str, who: str, rate: str, titles: list[
        tuple[str, list[dict[str, Any]]]], x_label: str, y_label: str) -> str:
    names = list(_by(rows, level, who))
    drawn = []
    for title, subset in titles:
        groups = _by(subset, level, who)
        xs = [str(r[level]) for r in next(iter(groups.values()))]
        drawn.append(chart(title, x_label, y_label, xs, [
            (name, [r[rate] for r in groups[name]], names.index(name), name == "floor")
            for name in names if name in groups]))
    return panels(drawn, [(name, names.index(name), name == "floor") for name in names])


def _latency(rows: list[dict[str, Any]], level: str, who: str, quantiles: list[str],
             titles: list[tuple[str, list[dict[str, Any]]]], y_label: str) -> str:
    """Per panel: one line per (who, level) across the quantiles; ours solid, floor dashed,
    one colour per level."""
    levels = sorted({r[level] for r in rows})
    legend = [(f"{name} @ {n} {level}", levels.index(n), name == "floor")
              for n in levels for name in ("ours", "floor")]
    drawn = []
    for title, subset in titles:
        drawn.append(chart(title, "percentile", y_label, [q.split("_")[0] for q in quantiles], [
            (f"{r[who]} @ {r[level]}", [r[q] for q in quantiles], levels.index(r[level]),
             r[who] == "floor")
            for r in subset if r[who] in ("ours", "floor")]))
    return panels(drawn, legend)


def _against_floor(panels_spec: list[tuple[str, str, list[Series]]], xs: list[str],
                   x_label: str) -> str:
    """Panels sharing x positions and one legend (each series name once)."""
    legend: dict[str, tuple[str, int, bool]] = {}
    drawn = []
    for title, y_label, series in panels_spec:
        drawn.append(chart(title, x_label, y_label, xs, series))
        for name, _, colour, dashed in series:
            legend.setdefault(name, (name, colour, dashed))
    return panels(drawn, list(legend.values()))


def _p50_p99(name: str, mine: list[dict[str, Any]], p50: str, p99: str,
             floor: list[dict[str, Any]], floor_p50: str, floor_p99: str) -> list[Series]:
    """p99 in one colour, p50 in another; ours solid, the floor dashed."""
    return [(f"{name} p99", [r[p99] for r in mine], 1, False),
            ("floor p99", [r[floor_p99] for r in floor], 1, True),
            (f"{name} p50", [r[p50] for r in mine], 0, False),
            ("floor p50", [r[floor_p50] for r in floor], 0, True)]


def _fanout(rows: list[dict[str, Any]]) -> str:
    """Rows come in pairs per size (ours, then the floor); x is the size asked for."""
    ours = [r for r in rows if r["server"] == "ours"]
    floor = [r for r in rows if r["server"] == "floor"]
    xs = [f"{round(r['subscribers']):,}" for r in floor]
    return _against_floor([
        ("commit → delivery", "ms", [
            *_p50_p99("ours", ours, "p50_ms", "p99_ms", floor, "p50_ms", "p99_ms"),
            ("target p99 100 ms", [100.0] * len(xs), 2, True)]),
        ("server CPU, 20 events", "CPU s", [
            ("ours CPU", [r["server_cpu_s"] for r in ours], 3, False),
            ("floor CPU", [r["server_cpu_s"] for r in floor], 3, True)])],
        xs, "subscribers")


def _pay_to_meet(rows: list[dict[str, Any]]) -> str:
    xs = [str(round(r["paid_per_second"])) for r in rows]
    target = [450.0 + 100.0] * len(xs)  # provider time + 100 ms
    return _against_floor([
        ("webhook → Meet link", "ms", [
            *_p50_p99("worker", rows, "p50_ms", "p99_ms", rows, "floor_p50_ms", "floor_p99_ms"),
            ("target p99: 550 ms", target, 2, True)]),
        ("CPU per paid session", "ms", [
            ("worker CPU", [r["cpu_ms_worker"] for r in rows], 3, False),
            ("floor CPU", [r["cpu_ms_floor"] for r in rows], 3, True),
            ("target CPU: 1.5 × floor", [1.5 * r["cpu_ms_floor"] for r in rows], 2, True)])],
        xs, "paid sessions / s")


def draw(results: dict[str, Any], folder: Path = PLOTS) -> list[str]:
    """Write the charts the results allow; returns the files written."""
    folder.mkdir(exist_ok=True)
    files: dict[str, str] = {}
    ingest = results.get("ingest")
    if ingest:
        endpoints = [(e, [r for r in ingest if r["endpoint"] == e])
                     for e in dict.fromkeys(r["endpoint"] for r in ingest)]
        files["ingest_throughput.svg"] = _throughput(
            ingest, "senders", "server", "rps", [(f"/{e}: acknowledged/s", rs)
                                                 for e, rs in endpoints],
            "concurrent senders", "deliveries/s")
        quantiles = [q for q in ("p50_ms", "p75_ms", "p90_ms", "p99_ms") if q in ingest[0]]
        files["ingest_latency.svg"] = _latency(
            ingest, "senders", "server", quantiles,
            [(f"/{e}: time to acknowledge", rs) for e, rs in endpoints], "ms")
    ledger = results.get("ledger")
    if ledger:
        files["ledger_throughput.svg"] = _throughput(
            ledger, "workers", "path", "postings_per_s", [("ledger postings/s", ledger)],
            "concurrent workers", "postings/s")
        files["ledger_latency.svg"] = _latency(
            ledger, "workers", "path", ["p50_ms", "p90_ms", "p99_ms"],
            [("time per posting", ledger)], "ms")
    fanout = results.get("fanout")
    if fanout:
        files["fanout.svg"] = _fanout(fanout)
    pay = results.get("pay_to_meet")
    if pay:
        files["pay_to_meet.svg"] = _pay_to_meet(pay)
    for name, svg in files.items():
        (folder / name).write_text(svg)
    return [str(folder / name) for name in files]


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).parent / "results" / "latest.json"
    print("\n".join(draw(json.loads(source.read_text()))))
