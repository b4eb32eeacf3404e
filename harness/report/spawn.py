"""Spawn-to-ready distributions: one panel per backend, Pythons along x.

Box plots with every sample on top: quick runs have a handful of samples per
cell, and a box drawn from three points hides that, while the dots do not.
Within each Python the boxes are the series that exist for that backend:
floor and tractor side by side (same backend name, two layers), and each
bytecode-cache condition (warm / cold ``.pyc``) as its own box.  The y axis is
logarithmic and shared, so backends that differ by 30x still read on one page.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harness.report.data import (
    CONDITION_LABELS, ReportData, backend_sort_key, layer_sort_key, python_label,
)
from harness.report.model import Section, Table
from harness.report.style import LAYER_COLORS, backend_color, grid, mpl_text, new_figure, plain_log_ticks
from harness.stats import format_value, median, quantile
from harness.summary import tractor_vs_floor
from harness.tractor_layer.pairing import floor_for

#: (scenario, figure name, title, what it means)
SPAWN_SCENARIOS = (
    ("spawn_warm", "spawn_warm", "Spawn to ready, steady state",
     "later spawns in the same worker: the cost you pay per child once everything is loaded"),
    ("spawn_cold", "spawn_cold", "Spawn to ready, first spawn in a fresh worker",
     "the first spawn after the parent starts: includes one-time imports and set-up"),
)

Series = tuple[str, str]  # (layer, condition)

#: Scenarios of the tractor-over-floor table: the spawn life cycle and one RPC.
TRACTOR_SCENARIOS = ("spawn_warm", "spawn_cold", "teardown", "rpc_rtt")

#: Fewer samples than this are drawn as dots only: quartiles of two points are noise.
MIN_BOX = 5


def _series_style(layer: str, condition: str) -> dict[str, object]:
    color = LAYER_COLORS.get(layer, backend_color(layer))
    cold = condition != "warm"
    return {"facecolor": color, "alpha": 0.35 if cold else 0.75, "hatch": "///" if cold else None,
            "edgecolor": color}


def _panel_title(backend: str, samples: dict[tuple[str, str, Series], list[float]]) -> str:
    """The backend; for a tractor-only key, also the floor it is measured against elsewhere
    (``pairing.FLOOR_FOR``), so the reader knows which panel holds its physical limit."""
    title = mpl_text(backend)
    if any(k[0] == backend and k[2][0] == "floor" for k in samples):
        return title
    base = floor_for(backend)
    return f"{title} (floor: {mpl_text(base)})" if base and base != backend else title


def _legend_handle(layer: str, condition: str) -> tuple[Patch, Line2D]:
    """Box swatch and dot marker together: the legend must explain both ways a series is drawn."""
    style = _series_style(layer, condition)
    color = str(style["edgecolor"])
    dot = Line2D([], [], linestyle="none", marker="o", markersize=6, markeredgecolor=color,
                 markerfacecolor="white" if style["hatch"] else color)
    return Patch(**style), dot


def _series_label(layer: str, condition: str, layers: set[str], conditions: set[str]) -> str:
    parts = []
    if len(layers) > 1 or layer != "floor":
        parts.append(layer)
    if len(conditions) > 1 or condition != "warm":
        parts.append(CONDITION_LABELS.get(condition, condition))
    return " · ".join(parts) or "floor"


def figure(data: ReportData, scenario: str, title: str) -> Figure | None:
    """The distribution figure for one spawn scenario, or None if it has no samples."""
    # (backend, python, series) -> values (seconds)
    samples: dict[tuple[str, str, Series], list[float]] = {}
    for cond, rs in data.conditions.items():
        for c in rs.cells.values():
            if c.scenario == scenario and c.values:
                samples.setdefault((c.backend, c.python, (c.layer, cond)), []).extend(c.values)
    if not samples:
        return None
    backends = sorted({k[0] for k in samples}, key=backend_sort_key)
    pythons = data.pythons()
    series = sorted({k[2] for k in samples}, key=lambda s: (layer_sort_key(s[0]), list(data.conditions).index(s[1])))
    layers = {s[0] for s in series}
    conditions = {s[1] for s in series}

    rows, cols = grid(len(backends))
    fig = new_figure(3.6 * cols + 0.4, 3.0 * rows + 0.9)
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    width = 0.8 / max(1, len(series))
    all_values = [v for vals in samples.values() for v in vals]
    lo, hi = min(all_values) * 1e3, max(all_values) * 1e3
    rng = np.random.default_rng(0)
    for ax, backend in zip(axes, backends):
        _panel(ax, backend, pythons, series, samples, width, rng)
        ax.set_title(_panel_title(backend, samples), color=backend_color(backend))
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.set_ylim(lo / 1.6, hi * 1.6)
        ax.set_xticks(range(len(pythons)), [mpl_text(python_label(p)) for p in pythons])
        ax.set_xlim(-0.6, len(pythons) - 0.4)
        ax.set_xlabel("Python")
        ax.grid(axis="x", visible=False)
    for ax in axes[len(backends):]:
        ax.set_axis_off()
    for ax in axes[::cols]:
        ax.set_ylabel("spawn to ready (ms, log scale)")
    if len(series) > 1:
        handles = [_legend_handle(layer, cond) for layer, cond in series]
        labels = [_series_label(layer, cond, layers, conditions) for layer, cond in series]
        if len(axes) > len(backends):  # a spare panel: the legend goes there, not under the grid
            axes[-1].legend(handles, labels, loc="center", title="box / dots", fontsize=10)
        else:
            fig.legend(handles, labels, loc="outside lower center", ncols=len(handles))
    fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def _panel(ax: Axes, backend: str, pythons: list[str], series: list[Series],
           samples: dict[tuple[str, str, Series], list[float]], width: float, rng: np.random.Generator) -> None:
    for i, py in enumerate(pythons):
        # Only the series this Python has share its slot, centred: a lone floor
        # box sits on its tick instead of beside an empty tractor gap.
        present = [s for s in series if samples.get((backend, py, s))]
        for j, s in enumerate(present):
            values = samples[(backend, py, s)]
            pos = i + (j - (len(present) - 1) / 2) * width
            ms = [v * 1e3 for v in values]
            style = _series_style(*s)
            jitter = rng.uniform(-width * 0.22, width * 0.22, len(ms))
            if len(ms) < MIN_BOX:
                # Too few samples for a box to mean anything: the samples
                # themselves, in the series' colour, and a median tick.
                color = str(style["edgecolor"])
                ax.scatter(pos + jitter, ms, s=26, zorder=3, linewidths=1.2, edgecolors=color,
                           facecolors="white" if style["hatch"] else color)
                ax.hlines(median(ms), pos - width * 0.38, pos + width * 0.38, color=color, linewidth=2)
                continue
            box = ax.boxplot([ms], positions=[pos], widths=width * 0.85, patch_artist=True,
                             showfliers=False, whis=(5, 95), manage_ticks=False,
                             medianprops={"color": "#111827", "linewidth": 1.4})
            for patch in box["boxes"]:
                patch.set(**style)
            ax.scatter(pos + jitter, ms, s=9, color="#111827", alpha=0.55, linewidths=0, zorder=3)
        if not present:
            ax.text(i, 0.04, "n/a", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=8, color="#9CA3AF")


def table(data: ReportData, scenario: str) -> Table:
    """Median (p90) per backend x Python, one row per layer/condition series."""
    pythons = data.pythons()
    cells: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for cond, rs in data.conditions.items():
        for c in rs.cells.values():
            if c.scenario == scenario and c.values:
                cells.setdefault((c.layer, c.backend, cond), {}).setdefault(c.python, []).extend(c.values)
    keys = sorted(cells, key=lambda k: (backend_sort_key(k[1]), layer_sort_key(k[0]),
                                        list(data.conditions).index(k[2])))
    rows = []
    for layer, backend, cond in keys:
        row = [f"{layer}.{backend}", CONDITION_LABELS.get(cond, cond)]
        for py in pythons:
            vals = cells[(layer, backend, cond)].get(py)
            row.append(f"{format_value(median(vals), 'second')} ({format_value(quantile(vals, 0.9), 'second')})"
                       if vals else "–")
        rows.append(row)
    return Table(["backend", ".pyc", *(python_label(p) for p in pythons)], rows,
                 set(range(2, 2 + len(pythons))), caption="median (p90)")


def section(data: ReportData) -> Section:
    sec = Section(
        id="spawn",
        title="Spawn to ready",
        lead=("Time from asking for a child until it answers, per backend (panels) and Python (x). "
              "Boxes span the 25th–75th percentile with whiskers at 5–95%, the line is the median and "
              "every dot is one sample. The y axis is logarithmic: equal gaps are equal ratios. "
              "Where floor and tractor both ran a backend, their boxes stand side by side; "
              "hatched boxes are a cold bytecode cache (no .pyc)."),
    )
    for scenario, name, title, subtitle in SPAWN_SCENARIOS:
        fig = figure(data, scenario, title)
        if fig is None:
            sec.notes.append(f"No {scenario} samples in these results.")
            continue
        sec.figures[name] = fig
        t = table(data, scenario)
        t.caption = f"{scenario}: median (p90)"
        sec.tables.append(t)
    over = tractor_table(data)
    if over is not None:
        sec.tables.append(over)
    return sec


def tractor_table(data: ReportData) -> Table | None:
    """What tractor adds over its floor (:func:`harness.summary.tractor_vs_floor`), per condition."""
    rows = []
    for cond, rs in data.conditions.items():
        for x in tractor_vs_floor(rs):
            if x["scenario"] not in TRACTOR_SCENARIOS:
                continue
            rows.append([python_label(x["python"]), f"tractor.{x['tractor']}", f"floor.{x['floor']}",
                         x["scenario"], CONDITION_LABELS.get(cond, cond),
                         format_value(x["tractor_median"], x["unit"]), format_value(x["floor_median"], x["unit"]),
                         f"+{format_value(x['overhead'], x['unit'])}" if x["overhead"] >= 0
                         else f"−{format_value(-x['overhead'], x['unit'])}",
                         f"{x['ratio']:.1f}×"])
    if not rows:
        return None
    return Table(["Python", "tractor", "floor", "scenario", ".pyc", "tractor", "floor", "overhead", "ratio"],
                 rows, {5, 6, 7, 8}, caption="tractor over its floor (medians)")
