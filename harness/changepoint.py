"""Change points in a benchmark history: E-Divisive means with a permutation test.

Why this method: it is what MongoDB's signal-processing service and Apache
Otava (ex-Hunter) run on CI performance histories.  It makes no assumption
about the noise distribution (energy distance, exponent 1), it finds several
change points by recursive bisection, and every accepted split carries a
p-value from a permutation test, so "is this step real?" has an answer that
does not depend on a hand-tuned threshold.  asv's publish step detection (a
Potts/L1 fit with an information-criterion penalty) reports steps without a
significance; tests check that a step it reports is found here too.

The procedure (Matteson & James 2014, "A nonparametric approach for multiple
change point analysis of multivariate data"):

1. For a segment ``x[a:b]`` and every split ``t`` with ``min_size`` points on
   each side, the divergence
   ``Q(t) = (l*r/(l+r)) * (2*mean|L-R| - mean|L-L'| - mean|R-R'|)``
   where ``l, r`` are the side sizes and the means run over distinct pairs.
2. The best split is ``argmax Q``.  Its significance is the share of
   ``permutations`` random shuffles of the segment whose own ``max Q`` is at
   least as large: ``p = (1 + #{max Q* >= max Q}) / (1 + permutations)``.
3. A split with ``p <= alpha`` is kept and both halves are searched again
   (each with its own test); otherwise the segment is left whole.

Binary segmentation per segment (rather than the paper's "stop at the first
insignificant best split over all segments") keeps searching a half that
holds a small step after a large one elsewhere was found; that is what
catches a creep of several small steps.  The cost is more tests, each at
``alpha``; with the default 0.01 and a handful of segments the family-wise
false-alarm rate on a flat series stays near 1-3% (the tests measure it).

``before``/``after`` of a change point are medians of the final segments on
either side (robust to the odd outlier commit), and ``rel_change`` is
``after / before - 1``: positive means the value went up (slower, for times).

Stdlib + numpy.  Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class ChangePoint:
    """A step in a series: ``values[index]`` is the first point of the new level."""

    index: int
    before: float
    after: float
    rel_change: float
    p_value: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _prefix2(d: np.ndarray) -> np.ndarray:
    """2-D prefix sums with a zero row and column: ``P[i, j] = d[:i, :j].sum()``."""
    p = np.zeros((d.shape[0] + 1, d.shape[1] + 1))
    p[1:, 1:] = d.cumsum(0).cumsum(1)
    return p


def _q_curve(d: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``Q(t)`` for every admissible split ``t`` of a segment, from its distance matrix."""
    m = d.shape[0]
    t = np.arange(min_size, m - min_size + 1)
    p = _prefix2(d)
    total = p[m, m]
    left = p[t, t]  # ordered pairs within the left part (each pair twice)
    cross = p[t, m] - left
    right = total - 2 * cross - left
    nl = t.astype(float)
    nr = (m - t).astype(float)
    between = 2.0 * cross / (nl * nr)
    within_l = left / (nl * (nl - 1))
    within_r = right / (nr * (nr - 1))
    q = (nl * nr / m) * (between - within_l - within_r)
    return t, q


def _best_split(d: np.ndarray, min_size: int) -> tuple[int, float]:
    t, q = _q_curve(d, min_size)
    i = int(np.argmax(q))
    return int(t[i]), float(q[i])


def _significance(d: np.ndarray, observed: float, min_size: int, permutations: int,
                  rng: np.random.Generator, alpha: float) -> float:
    """Permutation p-value of ``observed`` (the segment's max Q).

    Stops early once the p-value can no longer reach ``alpha``: the verdict
    is decided and the remaining shuffles would only refine a large p.
    """
    m = d.shape[0]
    exceed = 0
    limit = math.floor(alpha * (permutations + 1) - 1 + 1e-9)  # most exceedances still significant
    for k in range(permutations):
        perm = rng.permutation(m)
        _, q = _best_split(d[np.ix_(perm, perm)], min_size)
        if q >= observed * (1 - 1e-12):
            exceed += 1
            if exceed > limit:
                # p is at least (exceed + 1) / (k + 2) of the shuffles so far;
                # report the bound from the shuffles made (never below alpha).
                return max((1 + exceed) / (2 + k), (1 + exceed) / (1 + permutations))
    return (1 + exceed) / (1 + permutations)


def _segment_median(x: np.ndarray, a: int, b: int) -> float:
    return float(np.median(x[a:b]))


def detect(values: Sequence[float], *, alpha: float = 0.01, min_size: int = 2,
           permutations: int = 199, seed: int = 0) -> list[ChangePoint]:
    """Significant change points of ``values``, in index order.

    ``values`` may hold NaN/None (a failed commit): they are skipped and the
    indices returned refer to the original positions.  ``alpha`` is the
    per-split significance level; ``min_size`` the fewest points a level may
    have; ``permutations`` bounds the p-value's resolution from below at
    ``1 / (permutations + 1)`` (so ``alpha`` must exceed that to ever fire).
    """
    if min_size < 2:
        raise ValueError("min_size must be >= 2 (a level needs two points to have a spread)")
    if permutations < 1:
        raise ValueError("permutations must be >= 1")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    index_map = [i for i, v in enumerate(values) if v is not None and math.isfinite(float(v))]
    x = np.array([float(values[i]) for i in index_map], dtype=float)
    n = len(x)
    if n < 2 * min_size:
        return []
    rng = np.random.default_rng(seed)
    dist = np.abs(x[:, None] - x[None, :])
    found: dict[int, float] = {}
    stack = [(0, n)]
    while stack:
        a, b = stack.pop()
        if b - a < 2 * min_size:
            continue
        d = dist[a:b, a:b]
        t, q = _best_split(d, min_size)
        if not q > 0:
            continue
        p = _significance(d, q, min_size, permutations, rng, alpha)
        if p <= alpha:
            found[a + t] = p
            stack.append((a + t, b))
            stack.append((a, a + t))
    cuts = sorted(found)
    bounds = [0, *cuts, n]
    out: list[ChangePoint] = []
    for k, c in enumerate(cuts):
        before = _segment_median(x, bounds[k], c)
        after = _segment_median(x, c, bounds[k + 2])
        rel = after / before - 1 if before != 0 else math.inf if after > before else -math.inf if after < before else 0.0
        out.append(ChangePoint(index=index_map[c], before=before, after=after, rel_change=rel, p_value=found[c]))
    return out


def segments(values: Sequence[float], points: Sequence[ChangePoint]) -> list[tuple[int, int, float]]:
    """The levels between change points: ``(start, stop, median)`` in original indices.

    For plotting a step line under a history (the report draws these).
    """
    n = len(values)
    edges = [0, *(cp.index for cp in points), n]
    out = []
    for a, b in zip(edges, edges[1:]):
        finite = [float(v) for v in values[a:b] if v is not None and math.isfinite(float(v))]
        if finite:
            out.append((a, b, float(np.median(finite))))
    return out
