"""The runner with real workers: hangs, deadlines, orphans, atomic results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyperf
import pytest

from harness import procs, pythons, runner
from harness.results import load_results
from harness.scenarios import JobConfig
from tests.conftest import ROOT, harness


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["harness"]["cells"]


def test_quick_result_round_trips_through_pyperf(quick_results: list[Path]) -> None:
    for f in quick_results:
        suite = pyperf.BenchmarkSuite.load(str(f))
        names = suite.get_benchmark_names()
        assert any(n.startswith("floor.trio.spawn_warm") for n in names)
        bench = suite.get_benchmark(next(n for n in names if n.startswith("floor.trio.spawn_warm")))
        assert bench.get_nvalue() >= 3
        assert all(v > 0 for v in bench.get_values())
        # warm-ups are kept, apart from values
        assert any(run.warmups for run in bench.get_runs())
        meta = bench.get_metadata()
        for key in ("python_version", "python_build", "backend", "scenario", "bytecode_cache",
                    "cpu_model_name", "harness_version", "load_avg_1min"):
            assert key in meta or key in bench.get_runs()[0].get_metadata(), key
        for args in (["stats", str(f)], ["compare_to", str(f), str(f)], ["hist", str(f)]):
            cp = subprocess.run([sys.executable, "-m", "pyperf", *args], capture_output=True, text=True)
            assert cp.returncode == 0, cp.stderr


def test_quick_run_covers_every_scenario(quick_results: list[Path]) -> None:
    rs = load_results(quick_results)
    scenarios = {c.scenario for c in rs.cells.values()}
    assert {"spawn_cold", "spawn_warm", "teardown", "rpc_rtt", "stream", "fanout",
            "memory_uss", "memory_rss"} <= scenarios
    if any(f.name.endswith("-cp314.json") for f in quick_results):
        assert any(c.backend == "subint" and c.values for c in rs.cells.values()), "subint ran on 3.14"


def test_never_ready_backend_is_killed_and_recorded_hung(tmp_path: Path) -> None:
    out = tmp_path / "hang.json"
    t0 = time.monotonic()
    cp = harness("run", "--quick", "--scenario", "spawn,rpc_rtt", "--backend", "trio,fork,mp_forkserver",
                 "--canary", "trio:hang", "--timeout", "2", "-o", str(out), "-q")
    assert cp.returncode == 0, cp.stderr
    assert time.monotonic() - t0 < 120
    cells = _cells(out)
    hung = [c for c in cells if c["backend"] == "trio"]
    assert hung and all(c["status"] == "hung" for c in hung)
    assert hung[0]["hung"]["timeout"] == 2
    others = [c for c in cells if c["backend"] != "trio"]
    assert others and all(c["status"] == "ok" for c in others)
    rs = load_results([out])
    assert not any(c.backend == "trio" for c in rs.cells.values())
    assert any(c.backend == "fork" and c.scenario == "spawn_warm" for c in rs.cells.values())
    assert "hung" in cp.stdout  # the table lists what was not measured


def test_worker_past_its_deadline_is_killed_with_its_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The per-sample timeout (60 s) is longer than the worker's deadline (3 s):
    # only the runner's kill can end this worker, and it must take the child too.
    monkeypatch.setattr(runner, "worker_deadline", lambda job, cfg: 3.0)
    interp = pythons.current()
    plan = runner.Plan(
        interpreters=[interp], config=JobConfig(warmups=0, values=1, timeout=60),
        extra_env={"SPAWN_HARNESS_CANARY": "mp_spawn:hang"}, output=tmp_path / "x.json",
    )
    r = runner.Runner(plan, progress_quiet=True)
    t0 = time.monotonic()
    out = r.run_worker(runner.CellSpec(interp, "floor", "mp_spawn", "spawn", "tcp"))
    assert time.monotonic() - t0 < 30
    assert out["status"] == "hung"
    assert "deadline" in out["reason"]
    assert procs.find_marked(r.run_id) == []


def test_interrupted_run_keeps_finished_cells(tmp_path: Path) -> None:
    out = tmp_path / "int.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--scenario", "spawn", "--backend", "fork,trio",
         "--rounds", "50", "--values", "3", "--warmups", "0", "-o", str(out)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and sum(c["status"] == "ok" for c in _cells(out)) >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    rs = load_results([out])
    assert sum(len(c.runs) for c in rs.cells.values() if c.scenario == "spawn_warm") >= 3
    pyperf.BenchmarkSuite.load(str(out))


def test_cold_bytecode_is_recorded_and_slower_to_import(tmp_path: Path) -> None:
    out = tmp_path / "cold.json"
    cp = harness("run", "--quick", "--scenario", "spawn", "--backend", "trio", "--bytecode", "cold",
                 "-o", str(out), "-q")
    assert cp.returncode == 0, cp.stderr
    suite = pyperf.BenchmarkSuite.load(str(out))
    run = suite.get_benchmark("floor.trio.spawn_warm[tcp]").get_runs()[0]
    assert run.get_metadata()["bytecode_cache"] == "cold"
