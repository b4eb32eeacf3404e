"""asv result trees written with asv's own ``Results`` API (the real file format).

Running the asv suite takes minutes; the readers under test only need files
that asv itself would write, so asv writes them here from given samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

MACHINE = "testbox"


def write_results(results_dir: Path, commits: Sequence[str], benchmarks: dict[str, list[str]],
                  samples: Callable[[int, str, str], list[float]], env_python: str = "3.14",
                  record_samples: bool = True, units: dict[str, str] | None = None) -> None:
    """One asv result file per commit; ``samples(i, benchmark, param)`` gives the values.

    ``benchmarks`` maps an asv benchmark name to its (single) parameter's values.
    """
    from asv import util
    from asv.results import Results
    from asv.runner import BenchmarkResult

    machine_dir = results_dir / MACHINE
    machine_dir.mkdir(parents=True, exist_ok=True)
    util.write_json(str(machine_dir / "machine.json"), {"machine": MACHINE, "version": 1})
    util.write_json(str(results_dir / "benchmarks.json"),
                    {name: {"name": name, "unit": (units or {}).get(name, "seconds"), "type": "track",
                            "params": [params], "param_names": ["backend"], "version": "1"}
                     for name, params in benchmarks.items()}, api_version=2)
    for i, commit in enumerate(commits):
        r = Results({"machine": MACHINE, "python": env_python}, {}, commit, 1_700_000_000_000 + i * 60_000,
                    env_python, f"virtualenv-py{env_python}", {})
        for name, params in benchmarks.items():
            per = [samples(i, name, p) for p in params]
            res = BenchmarkResult(result=[float(np.median(s)) for s in per], samples=per, number=[1] * len(per),
                                  errcode=0, stderr="", profile=None)
            r.add_result({"name": name, "version": "1", "params": [params]}, res, record_samples=record_samples)
        r.save(str(results_dir))


def commit_hash(i: int) -> str:
    return f"{i:08x}" + "c0ffee" * 5 + "ab"
