"""Stream throughput by payload size: MB/s against message size, per Python.

The stream scenario records seconds per message; throughput is
``message bytes / seconds``.  Small messages measure per-message overhead
(framing, wake-ups, the event loop), large ones the copy path: a backend can
win one end and lose the other, which is why this is a curve and not a number.
Error bars span the 25th–75th percentile of per-sample throughput.
"""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from harness.report.data import (
    CONDITION_LABELS, ReportData, parse_size, python_label, series_key, series_labels, sort_series,
)
from harness.report.model import Section, Table, figure_section
from harness.report.style import backend_color, figure_legend, grid, mpl_text, new_figure, plain_log_ticks
from harness.results import format_param
from harness.stats import median, quantile

Key = tuple[str, str, str]


def throughput(data: ReportData) -> dict[str, dict[Key, dict[int, list[float]]]]:
    """Python -> series -> payload bytes -> per-sample throughput (MB/s), primary condition."""
    out: dict[str, dict[Key, dict[int, list[float]]]] = {}
    for c in data.cells("stream", data.primary_condition):
        size = parse_size(c.param) or int(c.metadata.get("message_bytes", 0) or 0)
        if size <= 0:
            continue
        mbps = [size / v / 1e6 for v in c.values if v > 0]
        out.setdefault(c.python, {}).setdefault(series_key(c), {}).setdefault(size, []).extend(mbps)
    return out


def figure(data: ReportData) -> Figure | None:
    by_py = throughput(data)
    if not by_py:
        return None
    labels = series_labels(data.cells("stream", data.primary_condition))
    pythons = [p for p in data.pythons() if p in by_py]
    sizes = sorted({s for series in by_py.values() for pts in series.values() for s in pts})
    rows, cols = grid(len(pythons))
    fig = new_figure(3.6 * cols + 0.3, 3.0 * rows + 0.7)
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    handles: dict[str, Artist] = {}
    for ax, py in zip(axes, pythons):
        series = by_py[py]
        for key in sort_series(series):
            pts = series[key]
            xs = sorted(pts)
            meds = [median(pts[x]) for x in xs]
            lo = [m - quantile(pts[x], 0.25) for m, x in zip(meds, xs)]
            hi = [quantile(pts[x], 0.75) - m for m, x in zip(meds, xs)]
            bars = ax.errorbar(xs, meds, yerr=[lo, hi], fmt="--o" if key[0] == "tractor" else "-o",
                               color=backend_color(key[1]), markersize=4.5, linewidth=1.8, capsize=2.5)
            handles.setdefault(labels[key], bars)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_param("stream", int(v))))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlim(sizes[0] / 2, sizes[-1] * 2)
        ax.set_title(f"Python {mpl_text(python_label(py))}")
        ax.set_xlabel("payload per message (bytes, log scale)")
    for ax in axes[len(pythons):]:
        ax.set_axis_off()
    for ax in axes[::cols]:
        ax.set_ylabel("throughput (MB/s, log scale)")
    # Legend in the report's backend order, whichever panel a series first appeared in.
    order = [labels[k] for k in sort_series({k for series in by_py.values() for k in series})]
    figure_legend(fig, handles, order)
    fig.suptitle("Stream throughput by payload size (child → parent, one stream)", fontsize=13,
                 fontweight="bold")
    return fig


def table(data: ReportData) -> Table:
    by_py = throughput(data)
    labels = series_labels(data.cells("stream", data.primary_condition))
    pythons = [p for p in data.pythons() if p in by_py]
    sizes = sorted({s for series in by_py.values() for pts in series.values() for s in pts})
    keys = sort_series({k for series in by_py.values() for k in series})
    rows = []
    for key in keys:
        for size in sizes:
            row = [labels[key], format_param("stream", size)]
            for py in pythons:
                vals = by_py[py].get(key, {}).get(size)
                row.append(f"{median(vals):,.1f}" if vals else "–")
            if any(v != "–" for v in row[2:]):
                rows.append(row)
    return Table(["backend", "payload", *(python_label(p) for p in pythons)], rows,
                 set(range(1, 2 + len(pythons))), caption="median throughput, MB/s")


def section(data: ReportData) -> Section:
    cond = CONDITION_LABELS.get(data.primary_condition, data.primary_condition)
    return figure_section(
        "stream", "Stream throughput",
        ("Megabytes per second a child streams back to its parent, by message size. Small payloads measure "
         "per-message overhead, large ones the copy path. Points are medians, bars the "
         f"interquartile range ({cond})."),
        figure(data), lambda: table(data), "No stream samples in these results.",
    )
