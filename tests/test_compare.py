"""``python -m harness compare``: the gate's exit codes, verdicts and formats.

The regression is real: two small runs of the fork backend's spawn scenario,
the second with the canary delaying every child's ready by 30 ms (fork spawns
in ~5 ms, so the change is several-fold -- unmistakable on a loaded 2-core
box, which is the point: a test that must fail only when the gate is broken).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asvdata import MACHINE, commit_hash, write_results
from conftest import harness

SPAWN_ARGS = ("run", "--scenario", "spawn", "--backend", "fork", "--rounds", "4", "--values", "6",
              "--warmups", "1", "-q")


@pytest.fixture(scope="module")
def ab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("ab")
    a, b = d / "a.json", d / "b.json"
    cp = harness(*SPAWN_ARGS, "-o", str(a), env={"SPAWN_HARNESS_CANARY": ""})
    assert cp.returncode == 0, cp.stderr
    cp = harness(*SPAWN_ARGS, "--canary", "fork:30ms", "-o", str(b))
    assert cp.returncode == 0, cp.stderr
    return a, b


def row(report: dict, scenario: str) -> dict:
    return next(r for r in report["rows"] if r.get("scenario") == scenario)


def test_known_regression_exits_1(ab: tuple[Path, Path]) -> None:
    a, b = ab
    cp = harness("compare", str(a), str(b))
    assert cp.returncode == 1, cp.stdout + cp.stderr
    lines = cp.stdout.splitlines()
    table = [line for line in lines if line.startswith(("slower", "faster", "unchanged", "failed"))]
    assert table[0].startswith("slower") and "spawn_warm" in table[0], cp.stdout
    assert "result: REGRESSION" in cp.stdout
    assert "Holm" in cp.stdout


def test_faster_head_is_not_a_regression(ab: tuple[Path, Path]) -> None:
    a, b = ab
    cp = harness("compare", str(b), str(a), "--format", "json")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    report = json.loads(cp.stdout)
    assert report["regression"] is False
    warm = row(report, "spawn_warm")
    assert warm["verdict"] == "faster" and warm["ratio"] < 0.5
    assert warm["ci_high"] < 1 and warm["p_mann_whitney"] < 0.01 and warm["p_cluster"] < 0.01


def test_json_carries_the_statistics_and_names_the_correction(ab: tuple[Path, Path]) -> None:
    a, b = ab
    cp = harness("compare", str(a), str(b), "--format", "json", "--correction", "bh", "--ci", "90%")
    assert cp.returncode == 1
    report = json.loads(cp.stdout)
    assert report["method"]["correction"] == "Benjamini-Hochberg"
    assert report["method"]["ci_level"] == pytest.approx(0.9)
    warm = row(report, "spawn_warm")
    assert warm["verdict"] == "slower"
    assert warm["ci_low"] > 1.5 and warm["ratio"] > 2
    assert warm["base_runs"] == 4 and warm["base_values"] == 24
    assert report["rows"][0]["verdict"] == "slower"  # changed cells first


def test_markdown_for_a_pr_comment(ab: tuple[Path, Path]) -> None:
    a, b = ab
    cp = harness("compare", str(a), str(b), "--format", "md")
    assert cp.returncode == 1
    md = cp.stdout
    assert md.startswith("### spawn-harness compare: regression")
    assert "| **slower** |" in md and "`floor.fork.spawn_warm[tcp]`" in md
    assert "Holm" in md


def test_min_change_larger_than_the_change_passes(ab: tuple[Path, Path]) -> None:
    a, b = ab
    cp = harness("compare", str(a), str(b), "--min-change", "2000%")
    assert cp.returncode == 0, cp.stdout
    assert "below the 2000% min change" in cp.stdout


def test_a_run_against_itself_has_no_change(quick_results: list[Path]) -> None:
    f = quick_results[0]
    cp = harness("compare", str(f), str(f), "--format", "json")
    assert cp.returncode == 0, cp.stderr
    report = json.loads(cp.stdout)
    assert report["summary"].get("slower", 0) == 0 and report["summary"].get("faster", 0) == 0
    assert all(r["ratio"] == pytest.approx(1.0) for r in report["rows"] if r["ratio"] is not None)
    assert len(report["rows"]) > 10


def test_baseline_mode_puts_subint_against_other_backends(quick_results: list[Path]) -> None:
    subint_files = [f for f in quick_results if "cp314" in f.name or "cp315" in f.name]
    if not subint_files:
        pytest.skip("no Python 3.14+: no subint")
    cp = harness("compare", str(subint_files[0]), "--baseline", "trio,mp_forkserver", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    rows = json.loads(cp.stdout)["rows"]
    pairs = {(r["scenario"], r["baseline"]) for r in rows}
    assert {("spawn_warm", "trio"), ("spawn_warm", "mp_forkserver")} <= pairs
    assert all(r["subject"] == "subint" for r in rows)
    cp = harness("compare", str(subint_files[0]), "--baseline", "nosuch")
    assert cp.returncode == 2 and "nosuch" in cp.stderr


# -- bad input: exit 2 and one line --------------------------------------------------
def _one_line_error(cp, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert cp.returncode == 2, cp.stdout + cp.stderr
    err = cp.stderr.strip().splitlines()
    assert len(err) == 1, cp.stderr
    for n in needles:
        assert n in err[0], err[0]


def test_missing_file_exits_2(ab: tuple[Path, Path], tmp_path: Path) -> None:
    _one_line_error(harness("compare", str(ab[0]), str(tmp_path / "nope.json")), "nope.json")


def test_malformed_file_exits_2(ab: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmarks": [ {"runs": "x"')
    _one_line_error(harness("compare", str(ab[0]), str(bad)), "bad.json")


def test_nothing_in_common_exits_2(ab: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(ab[1].read_text().replace('"cp3', '"xx3'))  # same run, another "Python"
    _one_line_error(harness("compare", str(ab[0]), str(other)), "no benchmark in common")


def test_mismatched_units_exit_2(ab: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "bytes.json"
    text = ab[1].read_text()
    assert '"unit": "second"' in text
    other.write_text(text.replace('"unit": "second"', '"unit": "byte"'))
    _one_line_error(harness("compare", str(ab[0]), str(other)), "mismatched units")


def test_a_cell_that_hangs_in_head_is_a_regression(ab: tuple[Path, Path], tmp_path: Path) -> None:
    data = json.loads(ab[0].read_text())
    data["benchmarks"] = [b for b in data["benchmarks"] if "spawn_warm" not in json.dumps(b["metadata"])]
    for c in data["harness"]["cells"]:
        c.update(status="hung", reason="spawn_warm[None] spawn exceeded 10s")
    head = tmp_path / "hung.json"
    head.write_text(json.dumps(data))
    cp = harness("compare", str(ab[0]), str(head))
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert any(line.startswith("failed") and "spawn_warm" in line for line in cp.stdout.splitlines()), cp.stdout


# -- asv commits -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def asv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two commits; the second's subint spawn is 30% slower, trio unchanged."""
    d = tmp_path_factory.mktemp("asvres")

    def samples(i: int, name: str, param: str) -> list[float]:
        rng = np.random.default_rng(i * 7 + len(param))
        slow = 1.3 if (i == 1 and "subint" in param) else 1.0
        return list(rng.normal(0.02 * slow, 0.0004, 20))

    write_results(d, [commit_hash(0), commit_hash(1)], {"floor.Spawn.track_spawn_warm": ["'subint'", "'trio'"]},
                  samples)
    return d


def test_asv_commits_compare_and_regress(asv_dir: Path) -> None:
    base, head = commit_hash(0)[:8], commit_hash(1)[:8]
    for args in ((base, head), (f"{base}..{head}",)):
        cp = harness("compare", *args, "--results-dir", str(asv_dir), "--format", "json")
        assert cp.returncode == 1, cp.stdout + cp.stderr
        rows = {r["name"]: r for r in json.loads(cp.stdout)["rows"]}
        assert rows["floor.Spawn.track_spawn_warm('subint')"]["verdict"] == "slower"
        assert rows["floor.Spawn.track_spawn_warm('trio')"]["verdict"] == "unchanged"
        assert rows["floor.Spawn.track_spawn_warm('subint')"]["base_values"] == 20


def test_asv_unknown_commit_exits_2(asv_dir: Path) -> None:
    cp = harness("compare", commit_hash(0)[:8], "deadbeef", "--results-dir", str(asv_dir), "--machine", MACHINE)
    _one_line_error(cp, "deadbeef")


@pytest.mark.parametrize("command", ["compare", "history", "sensitivity"])
def test_help_renders(command: str) -> None:
    cp = harness(command, "--help")
    assert cp.returncode == 0 and "usage:" in cp.stdout, cp.stderr
