"""Memory per child: unique (USS) and resident (RSS) set size, grouped bars per Python.

USS is what a child costs the machine (pages nobody else maps); RSS counts
shared pages too, which is why ``fork`` looks heavy in RSS and light in USS
(copy-on-write pages of the parent).  For in-process sub-interpreters the
harness records the parent's growth per child.  Bars are medians, dots the
samples; tractor bars are hatched beside their floor twin.
"""

from __future__ import annotations

import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from harness.report.data import CONDITION_LABELS, ReportData, python_label, series_key, series_labels, sort_series
from harness.report.model import Section, Table, figure_section
from harness.report.style import backend_color, figure_legend, mpl_text, new_figure
from harness.stats import format_value, median

SCENARIOS = (("memory_uss", "unique set size (USS)"), ("memory_rss", "resident set size (RSS)"))
MiB = float(1 << 20)


def figure(data: ReportData) -> Figure | None:
    cells = [c for s, _ in SCENARIOS for c in data.cells(s, data.primary_condition)]
    if not cells:
        return None
    labels = series_labels(cells)
    keys = sort_series({series_key(c) for c in cells})
    pythons = [p for p in data.pythons() if any(c.python == p for c in cells)]
    fig = new_figure(max(7.0, min(12.0, 0.3 * len(pythons) * len(keys) + 2.5)), 6.2)
    axes = fig.subplots(2, 1, sharex=True)
    handles: dict[str, Artist] = {}
    for ax, (scenario, title) in zip(axes, SCENARIOS):
        values = {(c.python, series_key(c)): c.values for c in cells if c.scenario == scenario}
        for i, py in enumerate(pythons):
            # The series this Python has share its slot, centred on the tick.
            present = [k for k in keys if values.get((py, k))]
            width = 0.84 / max(1, len(present))
            for j, key in enumerate(present):
                vals = values[(py, key)]
                x = i + (j - (len(present) - 1) / 2) * width
                tractor = key[0] == "tractor"
                bar = ax.bar([x], [median(vals) / MiB], width * 0.9, color=backend_color(key[1]),
                             alpha=0.55 if tractor else 0.85, hatch="//" if tractor else None,
                             edgecolor=backend_color(key[1]))
                handles.setdefault(labels[key], bar)
                ax.scatter([x] * len(vals), [v / MiB for v in vals], s=7, color="#111827", alpha=0.5,
                           linewidths=0, zorder=3)
        ax.set_title(title)
        ax.set_ylabel("per child (MiB)")
        ax.grid(axis="x", visible=False)
    axes[-1].set_xticks(np.arange(len(pythons)), [mpl_text(python_label(p)) for p in pythons])
    axes[-1].set_xlabel("Python")
    figure_legend(fig, handles, [labels[k] for k in keys])
    fig.suptitle("Memory per child (lower is better)", fontsize=13, fontweight="bold")
    return fig


def table(data: ReportData) -> Table:
    cells = [c for s, _ in SCENARIOS for c in data.cells(s, data.primary_condition)]
    labels = series_labels(cells)
    pythons = [p for p in data.pythons() if any(c.python == p for c in cells)]
    rows = []
    for key in sort_series({series_key(c) for c in cells}):
        for scenario, _ in SCENARIOS:
            row = [labels[key], scenario.split("_")[1].upper()]
            for py in pythons:
                vals = [v for c in cells if (c.python, c.scenario, series_key(c)) == (py, scenario, key)
                        for v in c.values]
                row.append(format_value(median(vals), "byte") if vals else "–")
            rows.append(row)
    return Table(["backend", "", *(python_label(p) for p in pythons)], rows, set(range(2, 2 + len(pythons))),
                 caption="median memory per child")


def section(data: ReportData) -> Section:
    cond = CONDITION_LABELS.get(data.primary_condition, data.primary_condition)
    return figure_section(
        "memory", "Memory per child",
        ("What each child costs: USS counts only the pages that child alone holds, RSS includes "
         "pages shared with the parent (fork's copy-on-write pages, shared libraries). For "
         f"sub-interpreters it is the parent's growth per child. Bars are medians, dots samples ({cond})."),
        figure(data), lambda: table(data), "No memory samples in these results.",
    )
