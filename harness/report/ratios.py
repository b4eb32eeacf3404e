"""The subint ratio heatmap: subint / each process baseline, by Python and scenario.

One panel per baseline (trio, mp_spawn, mp_forkserver), scenarios down,
Pythons (and bytecode conditions) across.  Colour is log2 of the ratio on a
diverging scale centred on 1: blue where subint is faster, red where slower,
clipped at 8x either way so one 200x cell (subint's RPC round trip) does not
wash out the rest; the printed number is always the true ratio.  The ratios
themselves come from :func:`harness.summary.subint_ratios`, the same numbers
the end-of-run table prints.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from harness.report.data import CONDITION_LABELS, ReportData, layer_sort_key, python_label, sort_pythons
from harness.report.model import Section, Table
from harness.report.style import mpl_text, new_figure
from harness.summary import RATIO_SCENARIOS, SUBINT_BASELINES, subint_ratios

CLIP = 3.0  # log2: colours saturate at 1/8x and 8x


def collect(data: ReportData) -> list[dict[str, object]]:
    """Every subint ratio, tagged with its bytecode condition."""
    out = []
    for cond, rs in data.conditions.items():
        for r in subint_ratios(rs):
            out.append({**r, "condition": cond})
    return out


def _row_label(layer: str, scenario: str, transport: str, layers: set[str], transports: set[str]) -> str:
    label = scenario if layers == {"floor"} else f"{layer} {scenario}"
    return f"{label} [{transport}]" if len(transports) > 1 else label


def _col_label(python: str, cond: str, conds: set[str]) -> str:
    return python_label(python) if len(conds) == 1 else f"{python_label(python)}\n{CONDITION_LABELS.get(cond, cond)}"


def _axes(ratios: list[dict[str, object]]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    rows = sorted({(str(r["layer"]), str(r["scenario"]), str(r["transport"])) for r in ratios},
                  key=lambda k: (layer_sort_key(k[0]), RATIO_SCENARIOS.index(k[1])
                                 if k[1] in RATIO_SCENARIOS else 99, k[2]))
    conds = list(dict.fromkeys(str(r["condition"]) for r in ratios))
    cols = [(py, c) for py in sort_pythons({str(r["python"]) for r in ratios}) for c in conds
            if any(r["python"] == py and r["condition"] == c for r in ratios)]
    return rows, cols


def figure(ratios: list[dict[str, object]]) -> Figure | None:
    if not ratios:
        return None
    rows, cols = _axes(ratios)
    layers = {r[0] for r in rows}
    transports = {r[2] for r in rows}
    conds = {c for _, c in cols}
    baselines = [b for b in SUBINT_BASELINES if any(r["baseline"] == b for r in ratios)]
    longest = max(len(_row_label(*r, layers, transports)) for r in rows)
    # Room per cell (~1.1 in, a panel title needs two), plus the row labels on the left.
    width = max(7.5, max(1.1 * len(cols), 2.1) * len(baselines) + 0.075 * longest + 2.0)
    fig = new_figure(width, 1.0 + 0.55 * len(rows) + 0.9)
    axes = fig.subplots(1, len(baselines), sharey=True, squeeze=False)[0]
    norm = Normalize(-CLIP, CLIP)
    cmap = "RdBu_r"
    image = None
    for ax, base in zip(axes, baselines):
        grid = np.full((len(rows), len(cols)), np.nan)
        for r in ratios:
            if r["baseline"] != base:
                continue
            i = rows.index((str(r["layer"]), str(r["scenario"]), str(r["transport"])))
            j = cols.index((str(r["python"]), str(r["condition"])))
            grid[i, j] = float(r["ratio"])  # type: ignore[arg-type]
        image = ax.imshow(np.log2(grid), cmap=cmap, norm=norm, aspect="auto")
        for i in range(len(rows)):
            for j in range(len(cols)):
                v = grid[i, j]
                if math.isnan(v):
                    ax.text(j, i, "–", ha="center", va="center", color="#9CA3AF")
                    continue
                dark = abs(math.log2(v)) > CLIP * 0.55
                ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=9.5, fontweight="bold",
                        color="white" if dark else "#111827")
        ax.set_title(f"subint / {mpl_text(base)}")
        ax.set_xticks(range(len(cols)), [mpl_text(_col_label(p, c, conds)) for p, c in cols])
        ax.set_yticks(range(len(rows)), [mpl_text(_row_label(*r, layers, transports)) for r in rows])
        ax.set_xlabel("Python")
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(length=0)
    axes[0].set_ylabel("scenario")
    ticks = list(range(-int(CLIP), int(CLIP) + 1))
    bar = fig.colorbar(image, ax=list(axes), ticks=ticks, shrink=0.9, pad=0.02)
    bar.ax.set_yticklabels([f"{2.0 ** t:g}×" for t in ticks])
    bar.set_label("subint / baseline, median ratio (×, log scale)")
    fig.suptitle("subint relative to process backends (< 1× = subint faster)", fontsize=13, fontweight="bold")
    return fig


def _fmt(v: float) -> str:
    """``135×``, ``2.2×``, ``0.49×``: two significant digits, never exponents."""
    if v >= 10:
        return f"{v:.0f}×"
    return f"{v:.2g}×" if v >= 1 else f"{v:.2f}×"


def table(ratios: list[dict[str, object]]) -> Table:
    rows, cols = _axes(ratios)
    layers = {r[0] for r in rows}
    transports = {r[2] for r in rows}
    conds = {c for _, c in cols}
    body = []
    for base in SUBINT_BASELINES:
        for row in rows:
            line = [f"subint / {base}", _row_label(*row, layers, transports)]
            found = False
            for py, cond in cols:
                match = [r for r in ratios if (r["baseline"], r["layer"], r["scenario"], r["transport"],
                                               r["python"], r["condition"]) == (base, *row, py, cond)]
                found = found or bool(match)
                line.append(f"{float(match[0]['ratio']):.2f}×" if match else "–")  # type: ignore[arg-type]
            if found:
                body.append(line)
    header = ["ratio", "scenario", *(_col_label(p, c, conds).replace("\n", " ") for p, c in cols)]
    return Table(header, body, set(range(2, len(header))), caption="median / median, same run")


def section(data: ReportData) -> Section:
    sec = Section(
        id="ratios",
        title="subint against process backends",
        lead=("Each cell is the median subint time divided by the median time of a process backend, "
              "same Python, same run. Blue: subint is faster; red: slower; the colour saturates at 8×, "
              "the number is exact. Sub-interpreters need Python 3.14+ (PEP 734)."),
    )
    ratios = collect(data)
    fig = figure(ratios)
    if fig is None:
        sec.notes.append("No subint ratios: these results have no subint cells beside a process backend "
                         "(subint needs Python 3.14+).")
        return sec
    sec.figures["subint_ratios"] = fig
    sec.tables.append(table(ratios))
    return sec
