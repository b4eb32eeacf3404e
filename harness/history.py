"""Benchmark histories and their change points, for ``history`` and the report.

Series come from two places, both reduced to ``{name: [HistoryPoint]}``
sorted by commit date:

* asv's ``results/`` tree (:func:`harness.asv_results.load_history`);
* harness result files that say which commit they measured: the run's
  ``target.tractor_commit`` (``--target tractor``), else ``harness_commit``
  (a floor run measures the harness's own code).  One point per file and
  cell: the median of all its values, the values kept as samples.

The **subint ratio series** come first: the asv suite's own paired ratios
(``SubintRatios.track_subint_ratio``), and ``subint / baseline`` of medians
per commit, Python and scenario, from benchmarks that take the backend as a
parameter and from harness files.  A ratio taken inside one run cancels what moved the
whole machine between commits (a new runner image, a noisy week), so a step
in it is about subint itself -- the question this project exists for.

:func:`analyse` runs :func:`harness.changepoint.detect` on each series and
adds a *creep* summary: the net change from the first level to the last
when it is made of two or more steps in the same direction, each possibly
below a per-step threshold (asv #932: regressions that arrive 2% at a time
never trip a 10% factor).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import asv_results, changepoint
from harness.asv_results import HistoryPoint
from harness.compare_input import KNOWN_BACKENDS
from harness.errors import UsageError
from harness.results import Cell, load_file, result_files
from harness.stats import median

RATIO_BASELINES = ("trio", "mp_forkserver", "mp_spawn")
#: asv benchmarks that are subint ratios already (the suite's paired ratios).
RATIO_BENCHMARK = re.compile(r"SubintRatios|subint_ratio")
RATIO_SCENARIOS = ("spawn_warm", "spawn_cold", "teardown", "rpc_rtt")
SUBJECT = "subint"


# -- harness result files ---------------------------------------------------------
def _date_ms(cells: Iterable[Cell], fallback: float) -> float:
    for c in cells:
        text = str(c.metadata.get("date", ""))
        try:
            return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S")) * 1000
        except ValueError:
            continue
    return fallback * 1000


def _file_commit(meta: list[dict[str, Any]], cells: Iterable[Cell]) -> str:
    for m in meta:
        target = m.get("target") if isinstance(m.get("target"), dict) else {}
        if target.get("tractor_commit"):
            return str(target["tractor_commit"])
    for c in cells:
        if c.metadata.get("target_tractor_commit"):
            return str(c.metadata["target_tractor_commit"])
    for m in meta:
        if m.get("harness_commit"):
            return str(m["harness_commit"])
    for c in cells:
        if c.metadata.get("harness_commit"):
            return str(c.metadata["harness_commit"])
    return ""


def harness_history(paths: Sequence[Path]) -> tuple[dict[str, list[HistoryPoint]], dict[str, list[HistoryPoint]]]:
    """(plain series, subint ratio series) from harness result files with a commit."""
    plain: dict[str, list[HistoryPoint]] = {}
    ratios: dict[str, list[HistoryPoint]] = {}
    files = [f for p in paths for f in result_files(Path(p))]
    for f in files:
        rs = load_file(f)
        cells = [c for c in rs.cells.values() if c.values]
        commit = _file_commit(rs.metadata, cells)
        if not commit or not cells:
            continue
        date = _date_ms(cells, f.stat().st_mtime)
        for c in cells:
            plain.setdefault(f"{c.name} [{c.python}]", []).append(
                HistoryPoint(commit, date, median(c.values), list(c.values), c.param, c.python))
        index = {(c.python, c.layer, c.backend, c.scenario, c.param): c for c in cells}
        for (py, layer, backend, scenario, param), c in index.items():
            if backend != SUBJECT or scenario not in RATIO_SCENARIOS:
                continue
            for base in RATIO_BASELINES:
                other = index.get((py, layer, base, scenario, param))
                if other is None:
                    continue
                name = f"{layer}.{scenario}{f'[{param}]' if param else ''} {SUBJECT}/{base} [{py}]"
                ratios.setdefault(name, []).append(
                    HistoryPoint(commit, date, median(c.values) / median(other.values), None, param, py))
    return {k: _merge_commits(v) for k, v in plain.items()}, {k: _merge_commits(v) for k, v in ratios.items()}


def _merge_commits(points: list[HistoryPoint]) -> list[HistoryPoint]:
    """One point per commit (repeated runs of a commit pool their samples), by date."""
    by_commit: dict[str, list[HistoryPoint]] = {}
    for p in points:
        by_commit.setdefault(p.commit, []).append(p)
    out = []
    for commit, pts in by_commit.items():
        if len(pts) == 1:
            out.append(pts[0])
            continue
        samples = [v for p in pts for v in (p.samples or [])]
        value = median(samples) if samples else median([p.value for p in pts])
        out.append(HistoryPoint(commit, min(p.date for p in pts), value, samples or None, pts[0].params, pts[0].env))
    return sorted(out, key=lambda p: (p.date, p.commit))


# -- asv ----------------------------------------------------------------------------
def asv_ratio_history(results_dir: Path, machine: str | None = None) -> dict[str, list[HistoryPoint]]:
    """``subint / baseline`` series from asv benchmarks that take the backend as a parameter."""
    files = asv_results.read_all(results_dir, machine)
    multi_env = len({f.env for f in files}) > 1
    multi_machine = len({f.machine for f in files}) > 1
    out: dict[str, list[HistoryPoint]] = {}
    for f in files:
        groups: dict[tuple[str, tuple[str, ...]], dict[str, tuple[float, tuple[str, ...]]]] = {}
        for e in f.entries:
            if e.value is None or e.value <= 0:
                continue
            for i, v in enumerate(e.param_values):
                name = v.strip("'\"")
                if name in KNOWN_BACKENDS:
                    rest = e.param_values[:i] + ("*",) + e.param_values[i + 1:]
                    groups.setdefault((e.name, rest), {})[name] = (e.value, e.param_values)
                    break
        for (bench, _), by_backend in groups.items():
            if SUBJECT not in by_backend:
                continue
            value, params = by_backend[SUBJECT]
            for base in RATIO_BASELINES:
                if base not in by_backend:
                    continue
                key = f"{asv_results.series_name(bench, params)} {SUBJECT}/{base}"
                key += (f" [{f.env}]" if multi_env else "") + (f" @{f.machine}" if multi_machine else "")
                out.setdefault(key, []).append(
                    HistoryPoint(f.commit, f.date, value / by_backend[base][0], None, ", ".join(params), f.env))
    for pts in out.values():
        pts.sort(key=lambda p: (p.date, p.commit))
    return dict(sorted(out.items()))


# -- analysis -----------------------------------------------------------------------
@dataclass
class Creep:
    """A drift the same way across the series, beyond what one step explains."""

    steps: int  # change points in the drift's direction
    net_change: float  # end level / start level - 1
    first_commit: str
    last_commit: str
    p_value: float  # Mann-Kendall trend test on the whole series


@dataclass
class SeriesAnalysis:
    name: str
    ratio: bool
    points: list[HistoryPoint]
    changes: list[changepoint.ChangePoint] = field(default_factory=list)
    creep: Creep | None = None

    def commit_at(self, index: int) -> str:
        return self.points[index].commit

    def as_json(self) -> dict[str, Any]:
        return {
            "series": self.name, "ratio": self.ratio, "points": len(self.points),
            "first_commit": self.points[0].commit if self.points else None,
            "last_commit": self.points[-1].commit if self.points else None,
            "change_points": [
                {**cp.as_json(), "commit": self.commit_at(cp.index),
                 "previous_commit": self.commit_at(cp.index - 1) if cp.index > 0 else None}
                for cp in self.changes
            ],
            "creep": None if self.creep is None else self.creep.__dict__,
        }


def _within_trend_p(values: np.ndarray, bounds: Sequence[tuple[int, int]], up: bool) -> float:
    """One-sided stratified Mann-Kendall: a trend *inside* the levels, summed over them.

    S = sum over levels of sum_{i<j} sign(x_j - x_i), variance n(n-1)(2n+5)/18
    per level (ties ignored), continuity-corrected normal p for the direction
    ``up``.  A clean step leaves flat levels (S ~ 0); a creep of steps too
    short to split leaves every level rising.
    """
    from scipy.stats import norm

    total = var = 0.0
    for a, b in bounds:
        x = values[a:b]
        k = len(x)
        if k < 3:
            continue
        diff = np.sign(x[None, :] - x[:, None])
        total += float(np.triu(diff, 1).sum())
        var += k * (k - 1) * (2 * k + 5) / 18
    if var == 0:
        return 1.0
    z = (total - 1 if total > 0 else total + 1 if total < 0 else 0.0) / math.sqrt(var)
    return float(norm.sf(z if up else -z))


def creep_of(points: Sequence[HistoryPoint], changes: Sequence[changepoint.ChangePoint],
             alpha: float = 0.01) -> Creep | None:
    """A creep: a significant monotone trend that is not one step.

    The permutation test cannot split short levels (4 commits a side can never
    reach p < 0.01: there are only 70 ways to arrange them), so a creep of
    small steps a few commits apart may show as one change point or none.
    The trend test sees it anyway: Mann-Kendall (Kendall's tau against the
    commit order) on the series, and -- when fewer than two change points go
    the trend's way -- a stratified Mann-Kendall inside the detected levels,
    so that a single clean step is not called a creep.  The size is
    the first-to-last level change when two or more steps make it up, else
    the Theil-Sen line's change across the series.
    """
    from scipy.stats import kendalltau, theilslopes

    values = np.array([p.value for p in points], dtype=float)
    n = len(values)
    if n < 6 or not np.isfinite(values).all():
        return None
    idx = np.arange(n)
    tau, p_trend = kendalltau(idx, values)
    if not (p_trend < alpha) or tau == 0:
        return None
    up = tau > 0
    same = [cp for cp in changes if (cp.rel_change > 0) == up]
    if len(same) < 2:
        bounds = [(a, b) for a, b, _ in changepoint.segments(list(values), list(changes))]
        if not (_within_trend_p(values, bounds, up) < alpha):
            return None
        slope, intercept = theilslopes(values, idx)[:2]
        start_v, end_v = intercept, intercept + slope * (n - 1)
        if start_v <= 0:
            return None
        return Creep(len(same), end_v / start_v - 1, points[0].commit, points[-1].commit, float(p_trend))
    if same[0].before == 0:
        return None
    return Creep(len(same), same[-1].after / same[0].before - 1, points[same[0].index].commit,
                 points[same[-1].index].commit, float(p_trend))


def analyse(series: dict[str, list[HistoryPoint]], ratio_names: set[str], *, alpha: float = 0.01,
            min_size: int = 2, permutations: int = 199, seed: int = 0) -> list[SeriesAnalysis]:
    out = []
    for name, points in series.items():
        values = [p.value for p in points]
        changes = changepoint.detect(values, alpha=alpha, min_size=min_size, permutations=permutations, seed=seed)
        out.append(SeriesAnalysis(name, name in ratio_names, points, changes, creep_of(points, changes, alpha)))
    out.sort(key=lambda a: (not a.ratio, not a.changes, a.name))
    return out


def collect(results_dir: Path | None, machine: str | None, harness_paths: Sequence[Path]) \
        -> tuple[dict[str, list[HistoryPoint]], set[str]]:
    """Every series (ratio series first), and the names of the ratio series."""
    series: dict[str, list[HistoryPoint]] = {}
    ratios: dict[str, list[HistoryPoint]] = {}
    if results_dir is not None and asv_results.machines(results_dir):
        ratios.update(asv_ratio_history(results_dir, machine))
        for name, points in asv_results.load_history(results_dir, machine).items():
            (ratios if RATIO_BENCHMARK.search(name) else series)[name] = points
    if harness_paths:
        plain, hr = harness_history(harness_paths)
        ratios.update(hr)
        series.update(plain)
    if not series and not ratios:
        where = [str(results_dir)] if results_dir else []
        where += [str(p) for p in harness_paths]
        raise UsageError(f"no history found in {', '.join(where) or 'nothing'} "
                         "(asv results/<machine>/*.json, or harness result files with a commit)")
    return {**ratios, **series}, set(ratios)


def pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:+.1%}"
