"""Fan-out scaling: time until N concurrent children are all ready, log-log.

On log-log axes ``T = a * N^k`` is a straight line of slope ``k``: ``k ~ 1``
means the spawns are serialised (N children cost N times one), ``k < 1`` that
they overlap, ``k > 1`` that they get in each other's way (a shared GIL, a
single fork server, CPU contention on a small machine).  ``k`` is fitted by
least squares on the log of each N's median.  One panel per Python, one line
per backend; tractor lines are dashed beside their solid floor twin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from harness.report.data import (
    CONDITION_LABELS, ReportData, backend_sort_key, layer_sort_key, parse_fanout, python_label, series_key,
    series_labels, sort_series,
)
from harness.report.model import Section, Table, figure_section
from harness.report.style import backend_color, figure_legend, grid, mpl_text, new_figure, plain_log_ticks
from harness.stats import median


@dataclass
class Scaling:
    """One backend's fan-out curve on one Python."""

    label: str
    layer: str
    backend: str
    ns: list[int]
    medians: list[float]  # seconds
    samples: list[list[float]]
    exponent: float  # NaN with fewer than two N


def fit_exponent(ns: list[int], medians: list[float]) -> float:
    """Slope of log(T) on log(N); NaN without two distinct N."""
    pts = [(math.log(n), math.log(t)) for n, t in zip(ns, medians) if n > 0 and t > 0]
    if len({x for x, _ in pts}) < 2:
        return math.nan
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    slope, _ = np.polyfit(x, y, 1)
    return float(slope)


def curves(data: ReportData) -> dict[str, list[Scaling]]:
    """Python tag -> scaling curves of the primary bytecode condition."""
    cells = [c for c in data.cells("fanout", data.primary_condition) if parse_fanout(c.param)]
    labels = series_labels(cells)
    by_py: dict[str, dict[tuple[str, str, str], dict[int, list[float]]]] = {}
    for c in cells:
        n = parse_fanout(c.param)
        assert n is not None
        by_py.setdefault(c.python, {}).setdefault(series_key(c), {}).setdefault(n, []).extend(c.values)
    out: dict[str, list[Scaling]] = {}
    for py, series in by_py.items():
        out[py] = []
        for key in sort_series(series):
            points = series[key]
            ns = sorted(points)
            meds = [median(points[n]) for n in ns]
            out[py].append(Scaling(labels[key], key[0], key[1], ns, meds, [points[n] for n in ns],
                                   fit_exponent(ns, meds)))
    return out


def figure(data: ReportData) -> Figure | None:
    by_py = curves(data)
    if not by_py:
        return None
    pythons = [p for p in data.pythons() if p in by_py]
    rows, cols = grid(len(pythons))
    fig = new_figure(3.7 * cols + 0.3, 3.1 * rows + 0.6)
    # y shared (compare Pythons at a glance); x not, so that every panel keeps its N labels.
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    all_n = sorted({n for cs in by_py.values() for c in cs for n in c.ns})
    fastest_one = min((c.medians[0] for cs in by_py.values() for c in cs), default=0.0)
    handles: dict[str, Artist] = {}
    for ax, py in zip(axes, pythons):
        if fastest_one > 0 and len(all_n) > 1:
            # k = 1 reference: perfectly serial spawns from the fastest single spawn.
            ref = [fastest_one * 1e3 * n / all_n[0] for n in all_n]
            (line,) = ax.plot(all_n, ref, ":", color="#9CA3AF", linewidth=1.2)
            handles.setdefault("k = 1 (serial) reference", line)
        ends: list[tuple[float, float, str, str]] = []
        for c in by_py[py]:
            color = backend_color(c.backend)
            ms = [m * 1e3 for m in c.medians]
            (line,) = ax.plot(c.ns, ms, "--" if c.layer == "tractor" else "-", marker="o", markersize=4.5,
                              color=color, linewidth=1.8)
            handles.setdefault(c.label, line)
            for n, vals in zip(c.ns, c.samples):
                ax.scatter([n] * len(vals), [v * 1e3 for v in vals], s=7, color=color, alpha=0.35, linewidths=0)
            if not math.isnan(c.exponent):
                ends.append((c.ns[-1] * 1.15, ms[-1], f"k={c.exponent:.2f}", color))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.xaxis.set_major_locator(FixedLocator(all_n))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        # Room on the right for the k labels at the end of each line.
        ax.set_xlim(all_n[0] / 1.25, all_n[-1] * 2.4)
        ax.set_title(f"Python {mpl_text(python_label(py))}")
        ax.set_xlabel("concurrent spawns N (children, log scale)")
        _label_ends(ax, ends)
    for ax in axes[len(pythons):]:
        ax.set_axis_off()
    for ax in axes[::cols]:
        ax.set_ylabel("time until all N ready (ms, log scale)")
    # Legend in the report's backend order (not in order of first appearance across panels).
    order = ["k = 1 (serial) reference",
             *dict.fromkeys(c.label for c in sorted((c for cs in by_py.values() for c in cs),
                                                    key=lambda c: (backend_sort_key(c.backend),
                                                                   layer_sort_key(c.layer))))]
    figure_legend(fig, handles, order)
    fig.suptitle("Fan-out: N children at once (slope k: 1 = serial, < 1 = overlapping)",
                 fontsize=13, fontweight="bold")
    return fig


def _label_ends(ax: Axes, ends: list[tuple[float, float, str, str]]) -> None:
    """Write each line's exponent just right of its last point, nudged apart so labels never overlap.

    Labels that share an x are spread in log space (the axis is logarithmic)
    with a minimum gap: pushed up from the lowest, then, if that ran past the
    top of the axis, pushed back down from the top.
    """
    lo, hi = (math.log10(v) for v in ax.get_ylim())
    gap = (hi - lo) * 0.075
    by_x: dict[float, list[tuple[float, str, str]]] = {}
    for x, y, text, color in ends:
        by_x.setdefault(x, []).append((math.log10(y), text, color))
    for x, group in by_x.items():
        group.sort()
        ys = [g[0] for g in group]
        for i in range(1, len(ys)):
            ys[i] = max(ys[i], ys[i - 1] + gap)
        if ys and ys[-1] > hi - gap / 2:
            ys[-1] = hi - gap / 2
            for i in range(len(ys) - 2, -1, -1):
                ys[i] = min(ys[i], ys[i + 1] - gap)
        for ly, (_, text, color) in zip(ys, group):
            ax.annotate(text, (x, 10 ** ly), fontsize=8, color=color, va="center", ha="left",
                        annotation_clip=False, fontweight="bold")


def table(data: ReportData) -> Table:
    by_py = curves(data)
    pythons = [p for p in data.pythons() if p in by_py]
    labels = sort_series({(c.layer, c.backend, c.label) for cs in by_py.values() for c in cs})
    rows = []
    for layer, backend, label in labels:
        row = [label]
        for py in pythons:
            match = [c for c in by_py[py] if (c.layer, c.backend, c.label) == (layer, backend, label)]
            row.append("–" if not match or math.isnan(match[0].exponent) else f"{match[0].exponent:.2f}")
        rows.append(row)
    return Table(["backend", *(python_label(p) for p in pythons)], rows, set(range(1, len(pythons) + 1)),
                 caption="fitted exponent k in T ∝ N^k")


def section(data: ReportData) -> Section:
    cond = CONDITION_LABELS.get(data.primary_condition, data.primary_condition)
    return figure_section(
        "fanout", "Fan-out scaling",
        ("Time until N children started at once are all ready, on log-log axes: a straight line of "
         "slope k means T ∝ N^k. k ≈ 1: the spawns queue behind each other; k < 1: they overlap; "
         f"k > 1: they contend. Lines join medians, faint dots are samples ({cond})."),
        figure(data), lambda: table(data), "No fan-out samples in these results.",
    )
