"""The end-of-run table: medians, p90, ratio to the fastest, subint ratios."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.results import Cell, ResultSet
from harness.stats import format_value, median, quantile

SUBINT_BASELINES = ("trio", "mp_spawn", "mp_forkserver")
RATIO_SCENARIOS = ("spawn_warm", "spawn_cold", "teardown", "rpc_rtt")


@dataclass
class Row:
    cell: Cell
    n: int
    median: float
    p90: float
    ratio_to_fastest: float

    def extra(self) -> str:
        c = self.cell
        if c.scenario == "stream" and self.median > 0:
            size = float(c.metadata.get("message_bytes", 0) or 0)
            return f"{1 / self.median:,.0f} msg/s, {size / self.median / 1e6:,.1f} MB/s"
        if c.scenario == "fanout" and c.param.startswith("N="):
            n = int(c.param[2:])
            return f"{format_value(self.median / n, 'second')}/child"
        return ""

    def as_json(self) -> dict[str, Any]:
        c = self.cell
        return {
            "python": c.python, "layer": c.layer, "backend": c.backend, "scenario": c.scenario,
            "param": c.param, "transport": c.transport, "unit": c.unit, "n": self.n,
            "median": self.median, "p90": self.p90, "ratio_to_fastest": self.ratio_to_fastest,
        }


def _group(cell: Cell) -> tuple[str, str, str, str]:
    return (cell.python, cell.layer, cell.scenario, cell.param)


def rows(rs: ResultSet) -> list[Row]:
    cells = [c for c in rs.cells.values() if c.values]
    best: dict[tuple[str, str, str, str], float] = {}
    for c in cells:
        m = median(c.values)
        g = _group(c)
        best[g] = min(best.get(g, m), m)
    out = [
        Row(c, len(c.values), median(c.values), quantile(c.values, 0.9), median(c.values) / best[_group(c)])
        for c in cells
    ]
    order = {"spawn_cold": 0, "spawn_warm": 1, "start_actor": 1.5, "teardown": 2, "rpc_rtt": 3, "stream": 4, "fanout": 5,
             "memory_uss": 6, "memory_rss": 7}

    def sort_key(r: Row) -> tuple[Any, ...]:
        c = r.cell
        num = int("".join(ch for ch in c.param if ch.isdigit()) or 0)
        scale = 1 << 20 if "MiB" in c.param else 1 << 10 if "KiB" in c.param else 1
        return (c.python, c.layer, order.get(c.scenario, 99), num * scale, r.median, c.backend)

    return sorted(out, key=sort_key)


def subint_ratios(rs: ResultSet) -> list[dict[str, Any]]:
    """subint / baseline median ratios, per Python, layer and subint transport.

    The baseline is taken over the same transport when it ran there (subint over
    tcp vs trio over tcp), else over the baseline's own default (subint's queue
    has no twin in a process backend).
    """
    out: list[dict[str, Any]] = []
    cells = [c for c in rs.cells.values() if c.values]
    for c in sorted(cells, key=lambda c: c.key):
        if c.backend != "subint" or c.scenario not in RATIO_SCENARIOS:
            continue
        for base in SUBINT_BASELINES:
            twins = [o for o in cells if (o.python, o.layer, o.backend, o.scenario, o.param)
                     == (c.python, c.layer, base, c.scenario, c.param)]
            if not twins:
                continue
            other = next((o for o in twins if o.transport == c.transport), twins[0])
            out.append({
                "python": c.python, "layer": c.layer, "scenario": c.scenario, "param": c.param,
                "transport": c.transport, "baseline": base, "baseline_transport": other.transport,
                "ratio": median(c.values) / median(other.values),
            })
    return out


def tractor_vs_floor(rs: ResultSet) -> list[dict[str, Any]]:
    """Each ``tractor.<key>`` cell beside its floor (same Python, scenario, param).

    The floor is :data:`harness.tractor_layer.pairing.FLOOR_FOR` of the key,
    over the same transport when the floor ran there, else its first one.
    ``overhead`` is tractor's median minus the floor's, in the cell's unit.
    """
    from harness.tractor_layer.pairing import floor_for

    cells = [c for c in rs.cells.values() if c.values]
    floors: dict[tuple[str, str, str, str], list[Cell]] = {}
    for c in cells:
        if c.layer == "floor":
            floors.setdefault((c.python, c.backend, c.scenario, c.param), []).append(c)
    out: list[dict[str, Any]] = []
    def order(c: Cell) -> tuple[Any, ...]:
        num = int("".join(ch for ch in c.param if ch.isdigit()) or 0)
        scale = 1 << 20 if "MiB" in c.param else 1 << 10 if "KiB" in c.param else 1
        rank = ("spawn_cold", "spawn_warm", "teardown", "rpc_rtt", "stream", "fanout", "memory_uss", "memory_rss")
        return (c.python, c.backend, c.transport, rank.index(c.scenario) if c.scenario in rank else 99,
                c.scenario, num * scale)

    for c in sorted((c for c in cells if c.layer == "tractor"), key=order):
        base = floor_for(c.backend)
        twins = floors.get((c.python, base or "", c.scenario, c.param), [])
        if not twins:
            continue
        other = next((o for o in twins if o.transport == c.transport), twins[0])
        t, f = median(c.values), median(other.values)
        out.append({
            "python": c.python, "scenario": c.scenario, "param": c.param, "unit": c.unit,
            "tractor": c.backend, "transport": c.transport, "floor": other.backend,
            "floor_transport": other.transport, "tractor_median": t, "floor_median": f,
            "n_tractor": len(c.values), "n_floor": len(other.values),
            "overhead": t - f, "ratio": t / f if f else float("nan"),
        })
    return out


def _render_tractor_vs_floor(rs: ResultSet) -> str | None:
    pairs = tractor_vs_floor(rs)
    if not pairs:
        return None

    def delta(x: dict[str, Any]) -> str:
        sign = "-" if x["overhead"] < 0 else "+"
        return sign + format_value(abs(x["overhead"]), x["unit"])

    body = [[x["python"], x["scenario"], x["param"], f"tractor.{x['tractor']}[{x['transport']}]",
             format_value(x["tractor_median"], x["unit"]), f"floor.{x['floor']}[{x['floor_transport']}]",
             format_value(x["floor_median"], x["unit"]), delta(x), f"{x['ratio']:.2f}x"]
            for x in pairs]
    return ("tractor vs floor (median; overhead = tractor - floor):\n"
            + _table(["python", "scenario", "param", "tractor", "median", "floor", "median", "overhead", "ratio"],
                     body, {4, 6, 7, 8}))


def problems(rs: ResultSet) -> list[dict[str, Any]]:
    """Cells that did not measure: hung, error, unavailable, interrupted (deduplicated)."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for s in rs.statuses:
        if s.get("status") == "ok":
            continue
        job = None if s.get("status") == "unavailable" else s.get("job")
        key = (s.get("python_tag"), s.get("layer"), s.get("backend"), job, s.get("status"), s.get("reason"))
        if key in seen:
            continue
        seen.add(key)
        out.append(s)
    return out


def _table(header: list[str], body: list[list[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]

    def fmt(row: list[str]) -> str:
        return "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in body)])


def render(rs: ResultSet) -> str:
    rws = rows(rs)
    parts: list[str] = []
    body = [
        [r.cell.python, f"{r.cell.layer}.{r.cell.backend}", r.cell.scenario, r.cell.param, r.cell.transport,
         str(r.n), format_value(r.median, r.cell.unit), format_value(r.p90, r.cell.unit),
         f"{r.ratio_to_fastest:.2f}x", r.extra()]
        for r in rws
    ]
    parts.append(_table(["python", "backend", "scenario", "param", "via", "n", "median", "p90", "vs fastest", ""],
                        body, {5, 6, 7, 8}))
    pythons = sorted({r.cell.python for r in rws})
    if len(pythons) > 1:
        spawn = {(r.cell.layer, r.cell.backend, r.cell.python): r for r in rws if r.cell.scenario == "spawn_warm"}
        backends = sorted({(l, b) for l, b, _ in spawn})
        mbody = [[f"{l}.{b}", *(format_value(spawn[(l, b, p)].median, "second") if (l, b, p) in spawn else "-"
                                for p in pythons)] for l, b in backends]
        parts.append("spawn to ready (warm), median, backend x Python:\n"
                     + _table(["backend", *pythons], mbody, set(range(1, len(pythons) + 1))))
    ratios = subint_ratios(rs)
    if ratios:
        rbody = [[x["python"], x["layer"], x["scenario"],
                  f"subint[{x['transport']}] / {x['baseline']}[{x['baseline_transport']}]", f"{x['ratio']:.2f}x"]
                 for x in ratios]
        parts.append("subint ratios (median / median, same run):\n"
                     + _table(["python", "layer", "scenario", "ratio", "value"], rbody, {4}))
    tvf = _render_tractor_vs_floor(rs)
    if tvf:
        parts.append(tvf)
    probs = problems(rs)
    if probs:
        lines = [f"  {p.get('python_tag', '')} {p.get('layer')}.{p.get('backend')}"
                 f"{'' if p.get('status') == 'unavailable' else ' ' + str(p.get('job'))}: "
                 f"{p.get('status')}: {p.get('reason', '')}" for p in probs]
        parts.append("not measured:\n" + "\n".join(lines))
    return "\n\n".join(parts)


def as_json(rs: ResultSet) -> dict[str, Any]:
    return {
        "rows": [r.as_json() for r in rows(rs)],
        "subint_ratios": subint_ratios(rs),
        "tractor_vs_floor": tractor_vs_floor(rs),
        "problems": problems(rs),
        "sources": rs.sources,
    }
