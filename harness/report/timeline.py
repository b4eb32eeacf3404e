"""History: the subint ratios commit by commit, from asv's ``results/`` tree, with change points.

The ratio series are the ones ``python -m harness history`` reads
(:mod:`harness.history`): the suite's paired ``track_subint_ratio`` benchmarks
when the results have them (subint and the baseline sampled alternately in one
process, so machine drift cancels), else ratios derived commit by commit from
backend-parameterised timings (:func:`harness.history.asv_ratio_history`).
Change points and creep come from :func:`harness.history.analyse` (E-Divisive
means with a permutation test), so the page and the CLI never disagree.

Commit subjects are looked up in a local git checkout when there is one; they
are untrusted text and reach the page only escaped.
"""

from __future__ import annotations

import math
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from matplotlib.figure import Figure

from harness import asv_results
from harness.changepoint import segments
from harness.compare_input import asv_config
from harness.history import RATIO_SCENARIOS, SeriesAnalysis, analyse, asv_ratio_history, pct
from harness.report.model import Section, Table
from harness.report.style import backend_color, mpl_text, new_figure, plain_log_ticks
from harness.summary import SUBINT_BASELINES

_LINE_COLORS = ("#4C72B0", "#DD8452", "#55A868", "#8172B3", "#937860", "#DA8BC3", "#64B5CD", "#CCB974")
#: Most specific first: "mp_spawn" must not be found inside another name.
_BASES_BY_LENGTH = sorted(SUBINT_BASELINES, key=len, reverse=True)


def baseline_of(name: str) -> str:
    """Which process backend a ratio series divides by (``'trio'`` parameter or ``subint/trio``)."""
    for base in _BASES_BY_LENGTH:
        if f"'{base}'" in name or f"/{base}" in name:
            return base
    return "other"


def short_label(name: str) -> str:
    """``floor.SubintRatios.track_subint_ratio('spawn', 'trio') [py314]`` -> ``floor spawn [py314]``:
    the panel already says which baseline, the legend keeps what differs."""
    label = re.sub(r"\.SubintRatios\.track_subint_ratio", "", name)
    label = re.sub(r"\.\w+\.track_", " ", label)
    label = re.sub(r" subint/\w+", "", label)
    for token in ("subint", *SUBINT_BASELINES):
        label = label.replace(f"'{token}'", "")
    label = re.sub(r"\(\s*(,\s*)*\)", "", label)  # nothing left: ('subint') -> ''
    label = re.sub(r",\s*\)", ")", re.sub(r"\(\s*,\s*", "(", label))  # a dangling comma either side
    label = label.replace("(", " ").replace(")", "").replace("'", "")
    return " ".join(label.split())


def ratio_history(results_dir: Path, machine: str | None = None) -> dict[str, list[asv_results.HistoryPoint]]:
    """The subint ratio series of an asv results tree (see the module docstring)."""
    paired = {k: v for k, v in asv_results.load_history(results_dir, machine).items()
              if "track_subint_ratio" in k}
    if paired:
        return paired
    derived = asv_ratio_history(results_dir, machine)
    return {k: v for k, v in derived.items() if any(f"track_{s}" in k for s in RATIO_SCENARIOS)}


def default_results_dir() -> Path | None:
    """The first asv results tree that holds data: asv.conf.json's ``results_dir``
    (else ``results/``), then ``.asv/results`` (where asv.ci.conf.json writes)."""
    for path in (Path(str(asv_config(Path.cwd()).get("results_dir") or "results")), Path(".asv/results")):
        if asv_results.machines(path):
            return path
    return None


def default_repo() -> Path | None:
    """The benchmarked repository when asv.conf.json points at a local checkout."""
    repo = str(asv_config(Path.cwd()).get("repo") or "")
    if not repo or re.match(r"^[a-z+]+://|^git@", repo):
        return None
    path = Path(repo)
    return path if (path / ".git").exists() else None


def commit_subjects(repo: Path | None, commits: list[str]) -> dict[str, str]:
    """First line of each commit's message, from a git checkout; {} when unavailable."""
    out: dict[str, str] = {}
    if repo is None:
        return out
    for commit in dict.fromkeys(commits):
        try:
            cp = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", commit, "--"],
                                capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return out
        if cp.returncode == 0 and cp.stdout.strip():
            out[commit] = cp.stdout.strip().splitlines()[0]
    return out


def _date(ms: float) -> str:
    try:
        return datetime.fromtimestamp(float(ms) / 1000, timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError, TypeError):
        return "?"


def figure(analyses: list[SeriesAnalysis]) -> Figure | None:
    if not analyses:
        return None
    order = sorted({(p.date, p.commit) for a in analyses for p in a.points})
    index = {c: i for i, (_, c) in enumerate(order)}
    bases = [b for b in (*SUBINT_BASELINES, "other") if any(baseline_of(a.name) == b for a in analyses)]
    fig = new_figure(max(8.0, min(16.0, 5.5 + 0.25 * len(order))), 2.7 * len(bases) + 1.0)
    axes = fig.subplots(len(bases), 1, sharex=True, squeeze=False)[:, 0]
    # One colour per series label across panels: "floor spawn" is the same line colour under every baseline.
    labels = sorted({short_label(a.name) for a in analyses})
    colors = {label: _LINE_COLORS[i % len(_LINE_COLORS)] for i, label in enumerate(labels)}
    for ax, base in zip(axes, bases):
        mine = sorted((a for a in analyses if baseline_of(a.name) == base), key=lambda a: short_label(a.name))
        for a in mine:
            color = colors[short_label(a.name)]
            xs = [index[p.commit] for p in a.points]
            ys = [p.value for p in a.points]
            ax.plot(xs, ys, "-o", color=color, markersize=3.5, linewidth=1.4, label=mpl_text(short_label(a.name)))
            for start, stop, level in segments(ys, a.changes):
                ax.hlines(level, xs[start] - 0.3, xs[stop - 1] + 0.3, color=color, linewidth=4, alpha=0.22)
            for cp in a.changes:
                tone = "#DC2626" if cp.rel_change > 0 else "#059669"
                x = xs[cp.index] - 0.5
                ax.axvline(x, color=tone, linestyle="--", linewidth=1)
                ax.annotate(f"{cp.rel_change:+.0%}", (x, cp.after), xytext=(4, 5), textcoords="offset points",
                            fontsize=8.5, fontweight="bold", color=tone)
        ax.axhline(1.0, color="#6B7280", linewidth=0.9)
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.set_title(f"subint / {mpl_text(base)}", color=backend_color(base))
        ax.set_ylabel("ratio (×, log scale)")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    step = max(1, math.ceil(len(order) / 16))
    ticks = list(range(0, len(order), step))
    axes[-1].set_xticks(ticks, [f"{mpl_text(order[i][1][:8])} · {_date(order[i][0])}" for i in ticks],
                        fontsize=7.5, rotation=35, ha="right", rotation_mode="anchor")
    axes[-1].set_xlim(-0.7, len(order) - 0.3)
    axes[-1].set_xlabel("commit (oldest → newest), one point per benchmarked commit")
    fig.suptitle("subint ratios over commits (dashed: change point; red: subint got relatively slower)",
                 fontsize=12, fontweight="bold")
    return fig


def tables(analyses: list[SeriesAnalysis], subjects: dict[str, str]) -> list[Table]:
    rows = []
    for a in analyses:
        for cp in a.changes:
            p = a.points[cp.index]
            rows.append([short_label(a.name), f"/ {baseline_of(a.name)}", p.commit[:10], _date(p.date),
                         subjects.get(p.commit, ""), f"{cp.before:.3g}× → {cp.after:.3g}×",
                         pct(cp.rel_change), f"{cp.p_value:.3f}"])
    out = []
    if rows:
        out.append(Table(["series", "ratio", "commit", "date", "subject", "step", "change", "p"], rows, {6, 7},
                         caption="change points (E-Divisive means, permutation test, α = 0.01)"))
    out.append(Table(
        ["series", "ratio", "commits", "first", "latest", "latest commit", "creep"],
        [[short_label(a.name), f"/ {baseline_of(a.name)}", str(len(a.points)), f"{a.points[0].value:.3g}×",
          f"{a.points[-1].value:.3g}×", a.points[-1].commit[:10],
          "" if a.creep is None else f"{pct(a.creep.net_change)} in {a.creep.steps} steps"] for a in analyses],
        {2, 3, 4}, caption="every ratio series: first and latest commit"))
    return out


def section(results_dir: Path | None, machine: str | None = None, repo: Path | None = None) -> Section:
    sec = Section(
        id="history",
        title="History",
        lead=("The subint ratios at every benchmarked commit (asv results), oldest to newest. Dashed "
              "lines mark change points found by E-Divisive means with a permutation test (p ≤ 0.01); the "
              "pale bands are the median level between them. Above 1×, subint is slower than the baseline."),
    )
    if results_dir is None:
        sec.notes.append("No asv history: pass --asv-results DIR (asv's results/ tree); results/ has none yet.")
        return sec
    series = ratio_history(results_dir, machine)
    analyses = [a for a in analyse(series, set(series)) if a.points]
    fig = figure(analyses)
    if fig is None:
        sec.notes.append(f"{results_dir}: the asv results hold no subint ratio series (no track_subint_ratio "
                         "benchmark, and no backend-parameterised timing with subint beside a baseline).")
        return sec
    sec.figures["history"] = fig
    subjects = commit_subjects(repo, [a.points[cp.index].commit for a in analyses for cp in a.changes])
    sec.tables.extend(tables(analyses, subjects))
    return sec
