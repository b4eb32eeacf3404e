"""The gate's statistics on synthetic runs whose truth is known.

Only synthetic data can show both halves of the design claim: when worker
processes are shifted as wholes, a test on pooled values cries wolf and the
gate must not; when runs are alike, the gate must keep the pooled test's power.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.comparison import (GateConfig, Pair, adjust, cluster_bootstrap_medians, hierarchical, judge,
                                mann_whitney_p, two_stage_bootstrap_medians)


def runs(rng: np.random.Generator, centre: float, between: float, within: float, r: int = 3,
         n: int = 10) -> list[list[float]]:
    return [list(rng.normal(centre + rng.normal(0, between), within, n)) for _ in range(r)]


def verdict(base: list[list[float]], head: list[list[float]], **kw: float) -> str:
    return judge([Pair(("x",), "cp3", "x", "second", base, head)], GateConfig(bootstrap=500, **kw))[0].verdict


def test_holm_and_benjamini_hochberg_by_hand() -> None:
    p = [0.01, 0.04, 0.03, float("nan")]
    assert adjust(p, "holm")[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert adjust(p, "bh")[:3] == pytest.approx([0.03, 0.04, 0.04])
    assert adjust(p, "none")[:3] == p[:3]
    assert np.isnan(adjust(p, "holm")[3])


def test_whole_run_shifts_fool_the_pooled_test_but_not_the_gate() -> None:
    """A/A: same distribution both sides, but each process shifted by ~5%."""
    pooled_alarms = gate_alarms = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        base, head = runs(rng, 100, 5, 1), runs(rng, 100, 5, 1)
        pooled_alarms += mann_whitney_p(sum(base, []), sum(head, [])) < 0.01
        gate_alarms += verdict(base, head) != "unchanged"
    assert pooled_alarms >= 15, "the fixture no longer shows pseudo-replication"
    assert gate_alarms <= 1, f"{gate_alarms} of 40 A/A comparisons called changed"


def test_runs_alike_keep_the_power_of_the_pooled_values() -> None:
    """A real 8% shift, runs alike: three runs a side must be enough."""
    found = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        found += verdict(runs(rng, 100, 0, 4), runs(rng, 108, 0, 4)) == "slower"
    assert found >= 18, f"found the 8% change in {found} of 20"


def test_shrinkage_removes_the_double_counted_noise() -> None:
    """Runs alike: the naive two-stage bootstrap is ~sqrt(2) too wide; ours is not."""
    rng = np.random.default_rng(7)
    data = runs(rng, 100, 0, 4, r=4, n=25)
    ours = cluster_bootstrap_medians(data, 4000, np.random.default_rng(1)).std()
    naive = two_stage_bootstrap_medians(data, 4000, np.random.default_rng(1)).std()
    iid = np.median(rng.choice(sum(data, []), size=(4000, 100)), axis=1).std()
    assert ours == pytest.approx(iid, rel=0.2)
    assert naive > 1.2 * ours


def test_between_run_variance_is_estimated() -> None:
    rng = np.random.default_rng(3)
    h = hierarchical(runs(rng, 100, 10, 1, r=30), rng)
    assert 50 < h.between < 200  # true 100
    h0 = hierarchical(runs(rng, 100, 0, 1, r=30), rng)
    assert h0.between < 0.2 * h.between


def test_min_change_and_direction() -> None:
    rng = np.random.default_rng(4)
    base, head = runs(rng, 100, 0, 1, n=30), runs(rng, 103, 0, 1, n=30)
    assert verdict(base, head) == "unchanged"  # significant, but under 5%
    assert verdict(base, head, min_change=0.02) == "slower"
    assert verdict(head, base, min_change=0.02) == "faster"


def test_asv_without_samples_falls_back_to_its_intervals() -> None:
    apart = Pair(("x",), "3.14", "x", "second", [[1.0]], [[2.0]], (0.9, 1.1), (1.9, 2.1))
    overlap = Pair(("y",), "3.14", "y", "second", [[1.0]], [[1.05]], (0.9, 1.1), (1.0, 1.1))
    j1, j2 = judge([apart, overlap], GateConfig())
    assert j1.verdict == "slower" and "do not overlap" in j1.note
    assert j2.verdict == "unchanged"
