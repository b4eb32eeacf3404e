"""``python -m harness history`` and :mod:`harness.asv_results`: steps, creeps, nulls.

asv histories are written by asv's own ``Results`` class with synthetic
samples (a known step, a known creep, a flat series); the harness-file history
is made of copies of a real quick run, re-labelled with commits and with one
backend's values scaled from a known commit on.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asvdata import commit_hash, write_results
from conftest import harness
from harness.asv_results import HistoryPoint, load_history

N = 16
STEP_AT = 8
SPAWN = "floor.Spawn.track_spawn_warm"
RATIO = "floor.SubintRatios.track_subint_ratio"


@pytest.fixture(scope="module")
def asv_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 commits: subint +15% from commit 8; trio creeps 3% every 4 commits; mp_spawn flat."""
    d = tmp_path_factory.mktemp("hist")

    def samples(i: int, name: str, param: str) -> list[float]:
        rng = np.random.default_rng(1000 * i + len(param) + len(name))
        if name == RATIO:
            return list(rng.normal(0.7 * (1.15 if i >= STEP_AT else 1.0), 0.01, 10))
        scale = {"'subint'": 1.15 if i >= STEP_AT else 1.0, "'trio'": 1.03 ** (i // 4)}.get(param, 1.0)
        return list(rng.normal(0.02 * scale, 0.0002, 10))

    write_results(d, [commit_hash(i) for i in range(N)],
                  {SPAWN: ["'subint'", "'trio'", "'mp_spawn'"], RATIO: ["'trio'"]}, samples,
                  units={RATIO: "ratio"})
    return d


def test_load_history_names_series_like_asv(asv_history: Path) -> None:
    h = load_history(asv_history)
    assert set(h) == {f"{SPAWN}('subint')", f"{SPAWN}('trio')", f"{SPAWN}('mp_spawn')", f"{RATIO}('trio')"}
    pts = h[f"{SPAWN}('subint')"]
    assert len(pts) == N and isinstance(pts[0], HistoryPoint)
    assert [p.commit for p in pts] == [commit_hash(i) for i in range(N)]
    assert pts[0].date == 1_700_000_000_000 and pts[0].params == "'subint'" and pts[0].env == "virtualenv-py3.14"
    assert pts[0].samples and len(pts[0].samples) == 10
    assert pts[0].value == pytest.approx(np.median(pts[0].samples))


def _history(*args: str) -> dict[str, Any]:
    cp = harness("history", *args, "--format", "json")
    assert cp.returncode == 0, cp.stderr
    return {s["series"]: s for s in json.loads(cp.stdout)["series"]}


def test_step_is_found_at_its_commit_ratio_series_first(asv_history: Path) -> None:
    cp = harness("history", "--results-dir", str(asv_history), "--format", "json")
    assert cp.returncode == 0, cp.stderr
    series = json.loads(cp.stdout)["series"]
    assert series[0]["ratio"] and series[0]["change_points"], "ratio series with a step must lead"
    by = {s["series"]: s for s in series}
    for name in (f"{RATIO}('trio')", f"{SPAWN}('subint')", f"{SPAWN}('subint') subint/mp_spawn"):
        (cp0,) = by[name]["change_points"]
        assert cp0["commit"] == commit_hash(STEP_AT) and cp0["previous_commit"] == commit_hash(STEP_AT - 1)
        assert cp0["rel_change"] == pytest.approx(0.15, abs=0.03)
        assert cp0["p_value"] <= 0.01
    assert by[f"{SPAWN}('mp_spawn')"]["change_points"] == []


def test_creep_is_reported_as_steps_and_a_net_drift(asv_history: Path) -> None:
    by = _history("--results-dir", str(asv_history), "--series", "('trio')")
    trio = by[f"{SPAWN}('trio')"]
    assert trio["change_points"] and all(c["rel_change"] > 0 for c in trio["change_points"])
    assert trio["creep"]["net_change"] == pytest.approx(1.03 ** 3 - 1, abs=0.03)
    assert trio["creep"]["p_value"] < 0.01
    # one clean step is a step, not a creep; a flat series is neither
    assert by.get(f"{SPAWN}('subint')") is None  # filtered out by --series
    full = _history("--results-dir", str(asv_history))
    assert full[f"{SPAWN}('subint')"]["creep"] is None
    assert full[f"{SPAWN}('mp_spawn')"]["creep"] is None


def test_table_lists_commits_and_creep(asv_history: Path) -> None:
    cp = harness("history", "--results-dir", str(asv_history))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.startswith("subint ratio series:")
    assert commit_hash(STEP_AT)[:8] in cp.stdout and "+15." in cp.stdout
    assert "creep" in cp.stdout


def _relabel(data: Any, date: str) -> Any:
    if isinstance(data, dict):
        return {k: (date if k == "date" else _relabel(v, date)) for k, v in data.items()}
    if isinstance(data, list):
        return [_relabel(v, date) for v in data]
    return data


def test_harness_files_with_commits_make_a_history(quick_results: list[Path], tmp_path: Path) -> None:
    src = next((f for f in quick_results if "cp314" in f.name), quick_results[0])
    slowed = "subint" if "cp314" in src.name else "fork"
    for i in range(12):
        data = _relabel(json.loads(src.read_text()), time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(1.7e9 + 3600 * i)))
        data["harness"]["metadata"]["harness_commit"] = commit_hash(i)
        for bench in data["benchmarks"]:
            if i >= 6 and f'"backend": "{slowed}"' in json.dumps(bench):
                for run in bench["runs"]:
                    run["values"] = [v * 1.5 for v in run["values"]]
        (tmp_path / f"run{i}.json").write_text(json.dumps(data))
    by = _history(str(tmp_path), "--no-asv")
    warm = next(s for name, s in by.items() if name.startswith(f"floor.{slowed}.spawn_warm"))
    assert [c["commit"] for c in warm["change_points"]] == [commit_hash(6)]
    assert warm["change_points"][0]["rel_change"] == pytest.approx(0.5, abs=0.01)
    if slowed == "subint":
        ratio = next(s for s in by.values() if s["ratio"] and "spawn_warm" in s["series"] and "/trio" in s["series"])
        assert [c["commit"] for c in ratio["change_points"]] == [commit_hash(6)]
    flat = next(s for name, s in by.items() if name.startswith("floor.trio.spawn_warm"))
    assert flat["change_points"] == []


def test_no_history_is_bad_input(tmp_path: Path) -> None:
    cp = harness("history", "--results-dir", str(tmp_path / "missing"))
    assert cp.returncode == 2 and len(cp.stderr.strip().splitlines()) == 1
    cp = harness("history", "--results-dir", str(tmp_path))
    assert cp.returncode == 2 and "no history found" in cp.stderr
