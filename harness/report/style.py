"""One look for every figure, and one way to save them.

Agg is forced before pyplot is imported: reports are built on headless CI
machines where an interactive backend would fail or hang.  SVG keeps its text
as ``<text>`` (``svg.fonttype = none``): smaller files, selectable text in the
page, and the tests can read titles and axis labels straight from the SVG.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axis import Axis  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

#: Backend colours shared by every figure, so "trio" is the same blue everywhere.
BACKEND_COLORS = {
    "trio": "#4C72B0",
    "mp_spawn": "#DD8452",
    "mp_forkserver": "#55A868",
    "fork": "#8172B3",
    "subint": "#C44E52",
}
_EXTRA_COLORS = ("#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
#: Layer colours for figures whose panels are already one backend each.
LAYER_COLORS = {"floor": "#4C72B0", "tractor": "#DD8452"}

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#E5E7EB",
    "grid.linewidth": 0.8,
    "axes.edgecolor": "#9CA3AF",
    "xtick.color": "#374151",
    "ytick.color": "#374151",
    "axes.labelcolor": "#111827",
    "text.color": "#111827",
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "spawn-harness",
    "text.usetex": False,
}


def backend_color(backend: str) -> str:
    if backend in BACKEND_COLORS:
        return BACKEND_COLORS[backend]
    return _EXTRA_COLORS[sum(map(ord, backend)) % len(_EXTRA_COLORS)]


def mpl_text(text: object) -> str:
    r"""A string from a result file, safe as matplotlib text.

    Matplotlib reads ``$...$`` as mathtext: a backend or tag holding dollars
    would be typeset, or make the whole save fail on a parse error.  With
    every dollar escaped the text is plain, and matplotlib shows ``\$`` as ``$``
    (other backslashes are shown as they are).
    """
    return str(text).replace("$", r"\$")


def new_figure(width: float, height: float) -> Figure:
    """A figure with the report's look.

    The style is set process-wide rather than in a ``rc_context``: matplotlib
    reads rcParams when each artist is made (titles, ticks, box plots), long
    after the figure itself, and the report is its own process.
    """
    matplotlib.rcParams.update(RC)
    return plt.figure(figsize=(width, height), layout="constrained")


@dataclass
class SavedFigure:
    """A figure written as SVG (for the page) and PNG (for the README and viewers without SVG)."""

    name: str
    title: str
    svg: str
    png: str


def save(fig: Figure, out_dir: Path, name: str) -> SavedFigure:
    """Write ``figures/NAME.svg`` and ``.png`` under ``out_dir``; paths are relative to it."""
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    title = fig.get_suptitle() or name
    fig.savefig(fig_dir / f"{name}.svg", metadata={"Date": None})
    # The layout is settled by the first save; solving it again for the PNG
    # (same inches, other dpi) would only double the report's run time.
    fig.set_layout_engine("none")
    fig.savefig(fig_dir / f"{name}.png", facecolor="white")
    plt.close(fig)
    return SavedFigure(name=name, title=title, svg=f"figures/{name}.svg", png=f"figures/{name}.png")


def figure_legend(fig: Figure, handles: dict[str, Artist], order: list[str]) -> None:
    """One legend under all panels, in ``order`` (the report's backend order), not in the
    order series happened to first appear across panels."""
    labels = [k for k in order if k in handles]
    fig.legend([handles[k] for k in labels], [mpl_text(k) for k in labels], loc="outside lower center",
               ncols=min(len(labels), 6))


def grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns for ``n`` small multiples."""
    cols = max(1, min(n, max_cols))
    return (n + cols - 1) // cols, cols


def plain_log_ticks(axis: Axis) -> None:
    """Log-scale ticks at 1-2-5 steps written as plain numbers (``20``, not ``2×10¹``):
    people read "30 ms", not exponents."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
