"""Loaded results -> ``index.html``, ``README.md`` and ``figures/`` in one directory.

This module only orders the sections, saves their figures and writes the
files; what is drawn and said lives in the figure modules.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

from harness.report import environment, fanout, markdown, memory, page, ratios, spawn, stream, timeline
from harness.report.data import ReportData, backend_sort_key, python_label
from harness.report.model import Headline, Section
from harness.report.style import save
from harness.results import format_param, write_text_atomic
from harness.stats import format_value, median
from harness.summary import tractor_vs_floor

#: Figure files this command writes; stale ones from an earlier report in the
#: same directory are removed so the page never links yesterday's picture.
FIGURE_SUFFIXES = (".svg", ".png")


def headlines(data: ReportData) -> list[Headline]:
    """The few numbers worth a glance before any figure."""
    out: list[Headline] = []
    pythons = data.pythons()
    warm = data.cells("spawn_warm", data.primary_condition)
    if warm:
        best = min(warm, key=lambda c: median(c.values))
        out.append(Headline("fastest to ready", format_value(median(best.values), "second"),
                            f"{best.layer}.{best.backend} on Python {python_label(best.python)}, steady state"))
    over = [x for x in tractor_vs_floor(data.conditions[data.primary_condition])
            if x["scenario"] == "spawn_warm"] if data.conditions else []
    if over:
        # The newest Python, then tractor's main backend first (trio, as BACKEND_ORDER has it).
        x = max(over, key=lambda x: (pythons.index(x["python"]) if x["python"] in pythons else -1,
                                     -backend_sort_key(x["tractor"])[0]))
        out.append(Headline("tractor over its floor", f"{x['ratio']:.1f}×",
                            f"tractor.{x['tractor']} / floor.{x['floor']} spawn, Python {python_label(x['python'])}",
                            "warn" if x["ratio"] > 2 else "neutral"))
    rs = ratios.collect(data)
    spawn_ratios = [r for r in rs if r["scenario"] == "spawn_warm" and r["baseline"] == "trio"
                    and r["condition"] == data.primary_condition and r["layer"] == "floor"]
    if spawn_ratios:
        newest = max(spawn_ratios, key=lambda r: pythons.index(str(r["python"])) if r["python"] in pythons else -1)
        value = float(newest["ratio"])  # type: ignore[arg-type]
        out.append(Headline("subint vs trio, spawn", f"{value:.2f}×",
                            f"Python {python_label(str(newest['python']))}: "
                            + ("subint is faster" if value < 1 else "subint is slower"),
                            "good" if value < 1 else "warn"))
    curves = fanout.curves(data)
    if curves:
        newest_py = [p for p in pythons if p in curves][-1]
        fitted = [c for c in curves[newest_py] if not math.isnan(c.exponent)]
        if fitted:
            flat = min(fitted, key=lambda c: c.exponent)
            out.append(Headline("flattest fan-out", f"k = {flat.exponent:.2f}",
                                f"{flat.label} on Python {python_label(newest_py)} (1 = serial)"))
    tp = stream.throughput(data)
    peaks = [(median(v), size, key, py) for py, series in tp.items() for key, pts in series.items()
             for size, v in pts.items()]
    if peaks:
        mbps, size, key, py = max(peaks)
        out.append(Headline("peak stream", f"{mbps:,.0f} MB/s",
                            f"{key[1]}, {format_param('stream', size)} messages, Python {python_label(py)}"))
    return out


def build(data: ReportData, out_dir: Path, asv_results: Path | None = None, machine: str | None = None,
          repo: Path | None = None) -> Path:
    """Write ``index.html``, ``README.md`` and ``figures/`` under ``out_dir`` (which exists and is
    writable); return the page's path."""
    env = environment.gather(data)
    sections: list[Section] = [
        spawn.section(data),
        ratios.section(data),
        fanout.section(data),
        stream.section(data),
        memory.section(data),
        timeline.section(asv_results, machine, repo),
    ]
    written: set[str] = set()
    for sec in sections:
        for name, fig in sec.figures.items():
            saved = save(fig, out_dir, name)
            sec.saved.append(saved)
            written.update({saved.svg, saved.png})
    for stale in (out_dir / "figures").iterdir():
        if stale.suffix in FIGURE_SUFFIXES and f"figures/{stale.name}" not in written:
            stale.unlink()
    pythons = ", ".join(python_label(p) for p in data.pythons())
    hosts = ", ".join(dict.fromkeys(str(f.metadata.get("hostname", "?")) for f in data.files))
    report = page.Page(
        title="spawn-harness: spawn backends, floor and tractor",
        subtitle=f"Python {pythons} · host {hosts} · {len(data.files)} result file(s)",
        headlines=headlines(data),
        env=env,
        sections=sections,
        sources=[f.path for f in data.files],
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    index = out_dir / "index.html"
    write_text_atomic(index, page.render(report))
    write_text_atomic(out_dir / "README.md", markdown.render(report))
    return index
