"""Change-point statistics on synthetic series: known steps, known nulls, a creep.

Synthetic on purpose: only a series whose truth is known can show both that a
step is found (power) and that noise is left alone (false alarms).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.changepoint import ChangePoint, detect, segments


def step_series(rng: np.random.Generator, levels: list[float], length: int, noise: float) -> np.ndarray:
    return np.concatenate([rng.normal(level, noise, length) for level in levels])


def test_single_step_found_at_its_commit_with_its_size() -> None:
    rng = np.random.default_rng(1)
    x = step_series(rng, [100.0, 112.0], 25, 2.0)
    found = detect(x)
    assert len(found) == 1
    cp = found[0]
    assert isinstance(cp, ChangePoint)
    assert abs(cp.index - 25) <= 1
    assert cp.rel_change == pytest.approx(0.12, abs=0.03)
    assert cp.before == pytest.approx(100, abs=2) and cp.after == pytest.approx(112, abs=2)
    assert cp.p_value <= 0.01


def test_step_down_has_negative_change() -> None:
    rng = np.random.default_rng(2)
    found = detect(step_series(rng, [50.0, 40.0], 15, 1.0))
    main = max(found, key=lambda cp: abs(cp.rel_change))
    assert main.index == 15 and round(main.rel_change, 1) == -0.2


@pytest.mark.parametrize("noise", ["normal", "heavy-tailed"])
def test_flat_series_mostly_left_alone(noise: str) -> None:
    """alpha=0.01 per split: on 60 null series at most a few false alarms."""
    alarms = 0
    for seed in range(60):
        rng = np.random.default_rng(100 + seed)
        if noise == "normal":
            x = rng.normal(100, 3, 40)
        else:  # spawn-time-like: lognormal body, occasional 3x hiccup
            x = 20 * rng.lognormal(0, 0.08, 40)
            x[rng.random(40) < 0.05] *= 3
        alarms += bool(detect(x, seed=seed))
    assert alarms <= 3, f"{alarms} of 60 flat series got a change point"


def test_creep_of_small_steps_is_found_step_by_step() -> None:
    """Five 3% steps, each only ~2 sigma: no single big jump, yet all are found."""
    rng = np.random.default_rng(3)
    levels = [100 * 1.03 ** k for k in range(6)]
    x = step_series(rng, levels, 12, 1.5)
    found = detect(x)
    assert len(found) >= 4
    assert all(cp.rel_change > 0 for cp in found)
    for cp in found:
        assert min(abs(cp.index - b) for b in range(12, 72, 12)) <= 2
    net = found[-1].after / found[0].before - 1
    assert net == pytest.approx(1.03 ** 5 - 1, abs=0.04)


def test_catches_what_asv_publish_step_detection_reports() -> None:
    """asv's Potts-model detector flags this step as a regression; so must we."""
    step_detect = pytest.importorskip("asv.step_detect")
    rng = np.random.default_rng(4)
    x = list(step_series(rng, [1.0, 1.08], 20, 0.01))
    steps = step_detect.detect_steps(x)
    _, _, regressions = step_detect.detect_regressions(steps)
    assert regressions, "asv sees no regression here; the fixture is wrong"
    asv_pos = regressions[0][1]  # first index after the jump
    found = detect(x)
    assert any(abs(cp.index - asv_pos) <= 1 and cp.rel_change > 0.05 for cp in found), (asv_pos, found)


def test_missing_values_skipped_and_indices_kept() -> None:
    rng = np.random.default_rng(5)
    x: list[float | None] = list(step_series(rng, [10.0, 13.0], 10, 0.3))
    x[3] = None
    x[14] = math.nan
    found = detect(x)
    assert [cp.index for cp in found] == [10]


def test_deterministic_for_a_seed_and_respects_min_size() -> None:
    rng = np.random.default_rng(6)
    x = list(step_series(rng, [5.0, 6.0], 8, 0.1)) + [5.0]  # one stray point at the end
    assert detect(x, seed=7) == detect(x, seed=7)
    assert all(min(cp.index, len(x) - cp.index) >= 3 for cp in detect(x, min_size=3))


def test_too_short_and_bad_arguments() -> None:
    assert detect([1.0, 2.0, 3.0]) == []
    assert detect([3.0] * 20) == []
    with pytest.raises(ValueError):
        detect([1.0] * 10, min_size=1)
    with pytest.raises(ValueError):
        detect([1.0] * 10, alpha=0)


def test_segments_follow_the_change_points() -> None:
    rng = np.random.default_rng(8)
    x = list(step_series(rng, [1.0, 2.0, 1.5], 10, 0.05))
    segs = segments(x, detect(x))
    assert [(a, b) for a, b, _ in segs] == [(0, 10), (10, 20), (20, 30)]
    assert [round(m, 1) for _, _, m in segs] == [1.0, 2.0, 1.5]
