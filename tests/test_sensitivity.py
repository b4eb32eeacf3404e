"""``python -m harness sensitivity --quick``: real A and canary-B workers, judged.

The quick pass uses the fork backend (spawns in a few ms) and one canary far
larger than the noise, so the assertions hold on a loaded 2-core machine and
fail only if a part of the chain is broken: runs not made or not saved, the
canary not applied, A/A pairs not drawn from A alone, or the gate unable to
see a several-fold slowdown.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import harness


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sens") / "fork"
    cp = harness("sensitivity", "--quick", "--backend", "fork", "--python", "current", "-o", str(out), "--json",
                 env={"SPAWN_HARNESS_CANARY": ""})
    assert cp.returncode == 0, cp.stderr
    return out, json.loads(cp.stdout)


def test_quick_pass_measures_false_alarms_and_power(quick: tuple[Path, dict]) -> None:
    _, data = quick
    (fork,) = data["backends"]
    assert fork["backend"] == "fork" and fork["scenario"] == "spawn_warm"
    assert fork["a_runs"] == 2 + 2 * 4 and fork["per_side"] == 3
    (size,) = fork["sizes"]
    assert size["requested"] == "600%" and size["runs"] == 4
    assert size["shift_rel"] > 2, "the canary did not slow the B workers down"
    assert fork["false_alarms"]["harness"]["total"] == 60
    assert fork["false_alarms"]["harness"]["rate"] <= 0.1
    assert size["power"]["harness"]["rate"] >= 0.7
    assert set(fork["smallest_detectable"]) == {"harness", "harness-nomin", "asv", "pyperf"}


def test_runs_are_saved_and_replay_as_a_known_regression(quick: tuple[Path, dict]) -> None:
    out, data = quick
    a, b = out / "fork-A.json", out / "fork-B-600pct.json"
    assert a.exists() and b.exists() and (out / "sensitivity.json").exists()
    cp = harness("compare", str(a), str(b), "--scenario", "spawn_warm")
    assert cp.returncode == 1, cp.stdout + cp.stderr
    again = harness("sensitivity", "--from", str(out), "--json", "--pairs", "60", "--per-side", "3")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["backends"][0]["sizes"] == data["backends"][0]["sizes"]


def test_bad_options_exit_2(tmp_path: Path) -> None:
    cp = harness("sensitivity", "--from", str(tmp_path))
    assert cp.returncode == 2 and "no sensitivity result files" in cp.stderr
    cp = harness("sensitivity", "--delays", "fast", "--backend", "fork", "--python", "current")
    assert cp.returncode == 2 and "--delays" in cp.stderr
