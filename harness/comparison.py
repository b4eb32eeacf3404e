"""The regression gate's statistics: is HEAD slower than BASE, by how much, how sure?

Per comparison (one benchmark cell on both sides):

* **Effect**: ratio of medians, ``median(head) / median(base)``.  Medians,
  because spawn times have a long right tail (a scheduler hiccup costs 10x)
  that would drag a mean around.

* **The samples are clustered.**  They come in worker processes
  (``Cell.runs``), and a process can be shifted as a whole: CPU frequency,
  cache and ASLR layout, a neighbour busy for those few seconds.  Treating
  3 processes x 10 values as 30 independent draws (what asv's and pyperf's
  tests do) makes every interval too narrow -- pseudo-replication, the main
  source of CI false alarms.  Each side is therefore modelled as
  ``x[i][j] = centre + b[i] + e[i][j]`` (run effect, within-run noise) and
  the between-run variance is estimated, not assumed away
  (:func:`hierarchical`).

* **Uncertainty**: a hierarchical bootstrap with shrunk run effects
  (Davison & Hinkley 1997, sec. 3.8): each replicate draws ``R`` run effects
  with replacement and each run's values from the pooled residuals.  The
  run effects are shrunk so they carry only the *between*-run variance: the
  naive two-stage bootstrap (runs, then values within runs) counts the
  within-run noise twice and is ~sqrt(2) too wide when runs are alike
  (:func:`two_stage_bootstrap_medians`, kept for comparison).  With three
  runs a side, the between-run variance rests on 2+2 degrees of freedom and
  a percentile interval is far too short (a z where a t with 4 df belongs),
  so the interval of ``log(ratio)`` is widened by ``t(df)/z`` with
  Satterthwaite's df for the two variance components.  Runs alike: df is
  large and this is the plain bootstrap; runs shifted as wholes: the
  interval is as wide as three runs allow.

* **Significance**: an intersection-union test -- a cell is significant only
  when both tests reject, so the gate is valid when either test's
  assumptions hold:
  - Mann-Whitney U, two-sided, on the pooled values (asv's test:
    distribution-free, indifferent to the tail, blind to clustering);
  - the cluster-aware test: ``log(ratio) / se`` against t(df), se from the
    hierarchical bootstrap.
  The larger p is corrected for the number of comparisons: Holm (family-
  wise: the chance that a change with no effect anywhere raises any alarm,
  which is the gate's false-alarm rate) by default, Benjamini-Hochberg (FDR)
  on request.

* **Verdict**: ``slower``/``faster`` needs the corrected p < alpha *and* the
  point ratio beyond ``1 + min_change`` (or below ``1 / (1 + min_change)``);
  otherwise ``unchanged``, with a note when it was one but not the other.

When a side has a single value and no samples (asv without
``--record-samples``), no test can run; asv's own fallback is used:
"different" when asv's stored 99% intervals do not overlap (p is then missing
and the comparison is left out of the correction).

``sensitivity`` measures what all of this is worth on a given machine: the
false-alarm rate on A/A runs and the power on runs with a known slowdown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "uncorrected"}


@dataclass
class GateConfig:
    alpha: float = 0.01
    min_change: float = 0.05
    ci_level: float = 0.95
    correction: str = "holm"
    bootstrap: int = 2000
    seed: int = 0

    def describe(self) -> str:
        corr = CORRECTIONS[self.correction]
        return (f"significant = both Mann-Whitney U (pooled values) and a cluster-aware t (runs) reject, "
                f"{corr}-corrected, alpha {self.alpha:g}; min change {self.min_change:.0%}; "
                f"{self.ci_level:.0%} CI of the median ratio: hierarchical bootstrap over runs "
                f"({self.bootstrap} resamples), t(df)-widened")


@dataclass
class Pair:
    """One comparison's input: the same benchmark on both sides."""

    key: tuple[str, ...]
    python: str
    name: str
    unit: str
    base: list[list[float]]  # runs of values
    head: list[list[float]]
    base_ci99: tuple[float, float] | None = None  # asv's stored interval, for the no-samples fallback
    head_ci99: tuple[float, float] | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Judgement:
    pair: Pair
    base_median: float
    head_median: float
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float  # raw combined p = max(p_mwu, p_cluster); NaN when no test could be run
    p_adjusted: float = math.nan
    p_mwu: float = math.nan
    p_cluster: float = math.nan
    df: float = math.nan  # Satterthwaite df of the cluster-aware test
    verdict: str = "unchanged"
    note: str = ""
    ci99_apart: bool | None = None  # the no-samples fallback's answer, when it was used

    @property
    def changed(self) -> bool:
        return self.verdict in ("slower", "faster")

    def as_json(self) -> dict[str, Any]:
        p = self.pair

        def num(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            **p.labels, "python": p.python, "name": p.name, "unit": p.unit,
            "verdict": self.verdict, "note": self.note,
            "base_median": num(self.base_median), "head_median": num(self.head_median),
            "ratio": num(self.ratio), "ci_low": num(self.ci_low), "ci_high": num(self.ci_high),
            "p_value": num(self.p_value), "p_adjusted": num(self.p_adjusted),
            "p_mann_whitney": num(self.p_mwu), "p_cluster": num(self.p_cluster), "df": num(self.df),
            "base_runs": len(p.base), "base_values": sum(map(len, p.base)),
            "head_runs": len(p.head), "head_values": sum(map(len, p.head)),
        }


def _clean(runs: Sequence[Sequence[float]]) -> list[list[float]]:
    out = [[float(v) for v in r if v is not None and math.isfinite(v)] for r in runs]
    return [r for r in out if r]


def _padded(runs: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(x) for x in runs])
    table = np.full((len(runs), int(lengths.max())), np.nan)
    for i, x in enumerate(runs):
        table[i, : len(x)] = x
    return table, lengths


def _pooled_medians(draws: np.ndarray, chosen_len: np.ndarray) -> np.ndarray:
    """Median over each replicate's (runs x width) draws, ignoring slots past a run's length."""
    reps, _, width = draws.shape
    if (chosen_len == width).all():
        return np.median(draws.reshape(reps, -1), axis=1)
    draws[np.arange(width)[None, None, :] >= chosen_len[..., None]] = np.nan
    return np.nanmedian(draws.reshape(reps, -1), axis=1)


def two_stage_bootstrap_medians(runs: Sequence[Sequence[float]], reps: int, rng: np.random.Generator) -> np.ndarray:
    """Naive two-stage bootstrap: runs with replacement, then values within each drawn run.

    Kept for comparison (``sensitivity`` can measure both): it counts the
    within-run noise twice -- once in how the drawn runs' medians differ,
    once in the redraw -- so its intervals are ~sqrt(2) too wide when runs
    are alike, which costs power for nothing.
    """
    clean = _clean(runs)
    table, lengths = _padded(clean)
    r, width = table.shape
    chosen = rng.integers(0, r, size=(reps, r))
    chosen_len = lengths[chosen]
    within = np.floor(rng.random((reps, r, width)) * chosen_len[..., None]).astype(int)
    return _pooled_medians(table[chosen[..., None], within], chosen_len)


@dataclass
class Hierarchy:
    """One side as runs: centres, shrunk run effects, pooled residuals, variance components."""

    centre: float  # mean of the run medians
    effects: np.ndarray  # shrunk run effects (resampling them gives the between-run variance)
    resid: np.ndarray  # pooled within-run residuals (value - its run's median)
    lengths: np.ndarray  # values per run
    between: float  # between-run variance of a run's centre (estimated, >= 0)
    noise: float  # variance of one run's median from within-run noise alone

    @property
    def runs(self) -> int:
        return len(self.lengths)

    @property
    def values(self) -> int:
        return int(self.lengths.sum())


def hierarchical(runs: Sequence[Sequence[float]], rng: np.random.Generator) -> Hierarchy:
    """Split a side's spread into between-run and within-run parts.

    The spread of the run medians ``S_b`` holds the between-run variance plus
    the noise of a median of ``n`` values; that noise is estimated from
    medians of ``n`` pooled residuals and subtracted (truncated at 0).  The
    run effects are shrunk by ``sqrt(between * R / ((R - 1) * S_b))`` so that
    drawing ``R`` of them with replacement reproduces ``between``.
    """
    clean = _clean(runs)
    r = len(clean)
    lengths = np.array([len(x) for x in clean])
    centres = np.array([float(np.median(x)) for x in clean])
    parts = [np.asarray(x) - m for x, m in zip(clean, centres) if len(x) > 1]
    resid = np.concatenate(parts) if parts else np.zeros(1)
    n = int(np.median(lengths))
    noise = 0.0
    if n > 1 and resid.any():
        noise = float(np.median(resid[rng.integers(0, len(resid), size=(400, n))], axis=1).var())
    effects = centres - centres.mean()
    between, shrink = 0.0, 0.0
    if r > 1:
        s_b = float(centres.var(ddof=1))
        between = max(0.0, s_b - noise)
        if s_b > 0:
            shrink = math.sqrt(between * r / ((r - 1) * s_b))
    return Hierarchy(float(centres.mean()), shrink * effects, resid, lengths, between, noise)


def cluster_bootstrap_medians(runs: Sequence[Sequence[float]], reps: int, rng: np.random.Generator,
                              h: Hierarchy | None = None) -> np.ndarray:
    """``reps`` medians of resampled sides: ``R`` shrunk run effects drawn with
    replacement, each with as many pooled residuals as that run had values.

    Runs alike: the effects shrink to 0 and this is the ordinary bootstrap of
    the values.  One value per run (spawn_cold): the residuals are 0 and the
    runs' values are resampled.
    """
    h = h or hierarchical(runs, rng)
    r = h.runs
    width = int(h.lengths.max())
    chosen = rng.integers(0, r, size=(reps, r))
    draws = (h.centre + h.effects[chosen])[..., None] + h.resid[rng.integers(0, len(h.resid), size=(reps, r, width))]
    return _pooled_medians(draws, h.lengths[chosen])


@dataclass
class RatioTest:
    ratio: float
    ci_low: float
    ci_high: float
    p_cluster: float
    df: float


def _satterthwaite(parts: list[tuple[float, float]]) -> float:
    """df of a sum of variance estimates ``(value, df)``."""
    total = sum(v for v, _ in parts)
    denom = sum(v * v / d for v, d in parts if d > 0 and v > 0)
    return total * total / denom if denom > 0 else math.inf


def ratio_test(base: Sequence[Sequence[float]], head: Sequence[Sequence[float]], level: float, reps: int,
               rng: np.random.Generator) -> RatioTest:
    """The median ratio's t(df)-widened bootstrap interval and cluster-aware p-value."""
    from scipy.stats import norm, t

    hb, hh = hierarchical(base, rng), hierarchical(head, rng)
    mb = _median(_clean(base))
    mh = _median(_clean(head))
    if not (mb > 0 and mh > 0):
        return RatioTest(math.nan, math.nan, math.nan, math.nan, math.nan)
    b = cluster_bootstrap_medians(base, reps, rng, hb)
    h = cluster_bootstrap_medians(head, reps, rng, hh)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(h / b)
    logs = logs[np.isfinite(logs)]
    est = math.log(mh / mb)
    se = float(logs.std(ddof=1)) if len(logs) > 1 else 0.0
    parts = []
    for side, m in ((hb, mb), (hh, mh)):
        parts.append((side.between / side.runs / m**2, side.runs - 1))
        parts.append((side.noise / side.runs / m**2, max(1, side.values - side.runs)))
    df = _satterthwaite(parts)
    df = min(df, 1e6)
    tail = (1 - level) / 2
    widen = float(t.ppf(1 - tail, df) / norm.ppf(1 - tail))
    lo, hi = np.quantile(logs, [tail, 1 - tail]) if len(logs) else (est, est)
    ci_low = math.exp(est + (float(lo) - est) * widen)
    ci_high = math.exp(est + (float(hi) - est) * widen)
    if se > 0:
        p = float(2 * t.sf(abs(est) / se, df))
    else:
        p = 1.0 if est == 0 else 0.0
    return RatioTest(mh / mb, ci_low, ci_high, p, df)


def mann_whitney_p(base: Sequence[float], head: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value; 1.0 when every value is identical."""
    from scipy.stats import mannwhitneyu

    if len(base) < 1 or len(head) < 1:
        return math.nan
    if len(set(base) | set(head)) == 1:
        return 1.0
    return float(mannwhitneyu(head, base, alternative="two-sided").pvalue)


def adjust(p_values: Sequence[float], method: str) -> list[float]:
    """Holm step-down or Benjamini-Hochberg step-up adjusted p-values (NaN stays NaN)."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}")
    idx = [i for i, p in enumerate(p_values) if math.isfinite(p)]
    out = [math.nan] * len(p_values)
    m = len(idx)
    if method == "none" or m == 0:
        for i in idx:
            out[i] = p_values[i]
        return out
    order = sorted(idx, key=lambda i: p_values[i])
    if method == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p_values[i]))
            out[i] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            running = min(running, p_values[i] * m / (rank + 1))
            out[i] = min(1.0, running)
    return out


def _median(runs: Sequence[Sequence[float]]) -> float:
    values = [v for r in runs for v in r]
    return float(np.median(values)) if values else math.nan


def judge(pairs: Sequence[Pair], cfg: GateConfig) -> list[Judgement]:
    """Judge every pair; the correction runs over all pairs that have a p-value."""
    if cfg.correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {cfg.correction!r}")
    rng = np.random.default_rng(cfg.seed)
    out: list[Judgement] = []
    for pair in pairs:
        base, head = _clean(pair.base), _clean(pair.head)
        bm, hm = _median(base), _median(head)
        ratio = hm / bm if bm > 0 else math.nan
        flat_b = [v for r in base for v in r]
        flat_h = [v for r in head for v in r]
        if len(flat_b) >= 2 and len(flat_h) >= 2 and math.isfinite(ratio):
            rt = ratio_test(base, head, cfg.ci_level, cfg.bootstrap, rng)
            p_u = mann_whitney_p(flat_b, flat_h)
            j = Judgement(pair, bm, hm, ratio, rt.ci_low, rt.ci_high, max(p_u, rt.p_cluster),
                          p_mwu=p_u, p_cluster=rt.p_cluster, df=rt.df)
        else:
            j = Judgement(pair, bm, hm, ratio, math.nan, math.nan, math.nan, note="too few values to test")
            if pair.base_ci99 and pair.head_ci99:
                (a0, a1), (b0, b1) = pair.base_ci99, pair.head_ci99
                j.ci99_apart = a1 < b0 or b1 < a0
                j.note = "asv 99% CIs " + ("do not overlap" if j.ci99_apart else "overlap") + " (no samples)"
        out.append(j)
    adjusted = adjust([j.p_value for j in out], cfg.correction)
    grow = 1 + cfg.min_change
    for j, pa in zip(out, adjusted):
        j.p_adjusted = pa
        if math.isfinite(pa):
            significant = pa < cfg.alpha
            if not significant and j.p_mwu < cfg.alpha <= j.p_cluster:
                j.note = "U test alone: runs disagree"
        else:
            significant = bool(j.ci99_apart)
        if not (significant and math.isfinite(j.ratio)):
            continue
        if j.ratio >= grow:
            j.verdict = "slower"
        elif j.ratio <= 1 / grow:
            j.verdict = "faster"
        else:
            j.note = f"significant, below the {cfg.min_change:.0%} min change"
    return out


def changed_first(judgements: Sequence[Judgement]) -> list[Judgement]:
    """slower (largest first), faster (largest first), then the rest in input order."""
    rank = {"failed": 0, "slower": 1, "faster": 2}

    def key(ij: tuple[int, Judgement]) -> tuple[int, float, int]:
        i, j = ij
        r = rank.get(j.verdict, 3)
        size = -abs(math.log(j.ratio)) if r < 3 and j.ratio > 0 and math.isfinite(j.ratio) else 0.0
        return (r, size, i)

    return [j for _, j in sorted(enumerate(judgements), key=key)]
