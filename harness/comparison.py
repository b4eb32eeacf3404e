"""The regression gate's statistics: is HEAD slower than BASE, by how much, how sure?

Per comparison (one benchmark cell on both sides):

* **Effect**: ratio of medians, ``median(head) / median(base)``.  Medians,
  because spawn times have a long right tail (a scheduler hiccup costs 10x)
  that would drag a mean around.
* **Uncertainty**: a percentile confidence interval of that ratio from a
  *two-stage cluster bootstrap*.  The samples are not independent: they come
  in worker processes (``Cell.runs``) and a process can be shifted as a
  whole (CPU frequency, cache/ASLR layout, a noisy neighbour for its few
  seconds).  Resampling values as if iid treats 3 processes x 10 values as
  30 independent draws and makes the interval too narrow -- the classic
  pseudo-replication that gives CI runners their false alarms.  Each
  replicate therefore draws the runs with replacement, then values with
  replacement within each drawn run (Davison & Hinkley 1997, sec. 3.8).  This
  keeps between-run variance in the interval; it slightly over-counts the
  within-run part (conservative), and with a single run it is the ordinary
  bootstrap.  With one or two runs per side the between-run variance cannot
  be estimated at all -- the interval is then only as honest as the runs are
  alike, which is why the default run uses three rounds and ``sensitivity``
  measures the false-alarm rate instead of trusting the formula.
* **Significance**: Mann-Whitney U, two-sided, on the pooled values (asv's
  test, distribution-free, indifferent to the tail), corrected for the
  number of comparisons: Holm (family-wise error: the chance that a change
  with *no* effect anywhere raises any alarm -- exactly a gate's false-alarm
  rate) by default, Benjamini-Hochberg (false discovery rate) on request.
* **Verdict**: ``slower``/``faster`` needs all of: corrected p < alpha, the
  bootstrap interval excluding 1 (the cluster-aware check that the pooled
  U test cannot make), and a point ratio beyond ``1 + min_change`` (or below
  ``1 / (1 + min_change)``).  Otherwise ``unchanged``.

When a side has a single value and no samples (asv without
``--record-samples``), the U test cannot be run; asv's own fallback is used:
"different" when the two 99% intervals asv stored do not overlap (p is then
reported as missing and the comparison is left out of the correction).
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
        return (f"Mann-Whitney U (two-sided), {corr}-corrected, alpha {self.alpha:g}; "
                f"{self.ci_level:.0%} CI of the median ratio by two-stage cluster bootstrap "
                f"({self.bootstrap} resamples, runs then values); min change {self.min_change:.0%}")


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
    p_value: float  # raw; NaN when no test could be run
    p_adjusted: float = math.nan
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
            "base_runs": len(p.base), "base_values": sum(map(len, p.base)),
            "head_runs": len(p.head), "head_values": sum(map(len, p.head)),
        }


def _clean(runs: Sequence[Sequence[float]]) -> list[list[float]]:
    out = [[float(v) for v in r if v is not None and math.isfinite(v)] for r in runs]
    return [r for r in out if r]


def cluster_bootstrap_medians(runs: Sequence[Sequence[float]], reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` bootstrap medians: draw runs with replacement, then values within each run."""
    runs = _clean(runs)
    r = len(runs)
    lengths = np.array([len(x) for x in runs])
    width = int(lengths.max())
    table = np.full((r, width), np.nan)
    for i, x in enumerate(runs):
        table[i, : len(x)] = x
    chosen = rng.integers(0, r, size=(reps, r))
    chosen_len = lengths[chosen]  # (reps, r)
    within = np.floor(rng.random((reps, r, width)) * chosen_len[..., None]).astype(int)
    draws = table[chosen[..., None], within]  # (reps, r, width)
    if (lengths == width).all():
        return np.median(draws.reshape(reps, -1), axis=1)
    mask = np.arange(width)[None, None, :] >= chosen_len[..., None]
    draws[mask] = np.nan
    return np.nanmedian(draws.reshape(reps, -1), axis=1)


def ratio_ci(base: Sequence[Sequence[float]], head: Sequence[Sequence[float]], level: float, reps: int,
             rng: np.random.Generator) -> tuple[float, float]:
    """Percentile interval of ``median(head) / median(base)`` under the cluster bootstrap."""
    b = cluster_bootstrap_medians(base, reps, rng)
    h = cluster_bootstrap_medians(head, reps, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = h / b
    ratios = ratios[np.isfinite(ratios)]
    if not len(ratios):
        return math.nan, math.nan
    tail = (1 - level) / 2
    lo, hi = np.quantile(ratios, [tail, 1 - tail])
    return float(lo), float(hi)


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
    """Judge every pair; corrections run over all pairs that have a p-value."""
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
        if len(flat_b) >= 2 and len(flat_h) >= 2:
            lo, hi = ratio_ci(base, head, cfg.ci_level, cfg.bootstrap, rng)
            p = mann_whitney_p(flat_b, flat_h)
            note = ""
        else:
            lo = hi = math.nan
            p = math.nan
            note = "too few values to test"
            if pair.base_ci99 and pair.head_ci99:
                (a0, a1), (b0, b1) = pair.base_ci99, pair.head_ci99
                apart = a1 < b0 or b1 < a0
                note = "asv 99% CIs " + ("do not overlap" if apart else "overlap") + " (no samples)"
        j = Judgement(pair, bm, hm, ratio, lo, hi, p, note=note)
        if note.startswith("asv 99% CIs"):
            j.ci99_apart = apart
        out.append(j)
    adjusted = adjust([j.p_value for j in out], cfg.correction)
    grow = 1 + cfg.min_change
    for j, pa in zip(out, adjusted):
        j.p_adjusted = pa
        if math.isfinite(pa):
            significant = pa < cfg.alpha and (j.ci_low > 1 or j.ci_high < 1)
            if pa < cfg.alpha and not significant:
                j.note = "U test significant, cluster CI includes 1"
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
