"""Read asv's ``results/`` tree: one file per (machine, commit, environment).

Layout (asv 0.6, ``asv/results.py``, api version 2)::

    results/benchmarks.json                    name -> {unit, type, params, param_names, ...}
    results/<machine>/machine.json             {"machine": <machine>, ...}
    results/<machine>/<commit[:8]>-<env>.json  {"commit_hash", "date" (ms epoch), "env_name",
                                                "params", "python", "result_columns",
                                                "results": {name: [column values...]}, "version": 2}

Each ``results[name]`` row is positional against ``result_columns``
(``result``, ``params``, ``version``, ``started_at``, ``duration``,
``stats_ci_99_a``, ``stats_ci_99_b``, ``stats_q_25``, ``stats_q_75``,
``stats_number``, ``stats_repeat``, ``samples``, ``profile``), trailing
``None`` columns dropped.  ``result`` holds one value per combination of
``params`` (``itertools.product`` order); ``None`` is a failure, NaN a skip.
``samples`` is only present when asv ran with ``--record-samples``.

Parsed here rather than through ``asv.results.Results.load`` so that the
report and ``compare`` do not need asv importable in their interpreter, and
so that a bad file is one clear :class:`~harness.errors.UsageError`.  The
column handling follows ``result_columns`` as asv does, so added columns
are tolerated.

Series names are asv's own (``asv compare``'s ``unroll_result``):
``benchmark_name`` or ``benchmark_name(p1, p2)`` with the parameter reprs as
asv stores them.  When the files read hold more than one environment, names
get `` [env_name]``; when more than one machine, `` @machine`` -- points from
different interpreters or hosts never share a series.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError

API_VERSION = 2
_SKIP = {"machine.json", "benchmarks.json"}


@dataclass
class HistoryPoint:
    """One benchmark value (one parameter combination) at one commit."""

    commit: str
    date: float | int  # ms since the epoch, as asv stores the commit date
    value: float
    samples: list[float] | None
    params: str  # "'subint', 'tcp'" -- asv's parameter reprs, comma joined; "" if none
    env: str


@dataclass
class AsvEntry:
    """One parameter combination of one benchmark in one result file."""

    name: str  # asv benchmark name, without parameters
    params: str
    param_values: tuple[str, ...]
    value: float | None
    samples: list[float] | None
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def series(self) -> str:
        return series_name(self.name, self.param_values)


@dataclass
class AsvFile:
    """One asv result file."""

    path: Path
    machine: str
    commit: str
    date: float | int
    env: str
    python: str
    entries: list[AsvEntry]


def series_name(name: str, param_values: tuple[str, ...] | list[str]) -> str:
    return f"{name}({', '.join(param_values)})" if param_values else name


def _finite(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def read_file(path: Path, machine: str | None = None) -> AsvFile:
    """Parse one asv result file; a malformed one is a UsageError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such asv result file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable asv result file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) or "commit_hash" not in data:
        raise UsageError(f"{path}: not an asv result file (no 'commit_hash'/'results')")
    version = data.get("version")
    if version != API_VERSION:
        raise UsageError(f"{path}: asv result format version {version!r}, this reads version {API_VERSION}")
    columns = data.get("result_columns")
    if not isinstance(columns, list):
        raise UsageError(f"{path}: asv result file without 'result_columns'")
    entries: list[AsvEntry] = []
    try:
        for name, row in data["results"].items():
            cols = dict(zip(columns, row))
            result = cols.get("result")
            params = cols.get("params") or []
            combos = list(itertools.product(*params)) if params else [()]
            if result is None:
                result = [None] * len(combos)
            samples = cols.get("samples") or [None] * len(combos)
            stats_cols = {k[6:]: cols.get(k) for k in columns if k.startswith("stats_")}
            for j, combo in enumerate(combos):
                s = samples[j] if j < len(samples) else None
                clean = [float(x) for x in s if _finite(x) is not None] if isinstance(s, list) else None
                stats = {}
                for key, vals in stats_cols.items():
                    if isinstance(vals, list) and j < len(vals) and _finite(vals[j]) is not None:
                        stats[key] = float(vals[j])
                entries.append(AsvEntry(
                    name=str(name),
                    params=", ".join(str(p) for p in combo),
                    param_values=tuple(str(p) for p in combo),
                    value=_finite(result[j]) if j < len(result) else None,
                    samples=clean or None,
                    stats=stats,
                ))
    except (TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed asv result entry ({exc})") from None
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    return AsvFile(
        path=path,
        machine=str(params.get("machine") or machine or path.parent.name),
        commit=str(data["commit_hash"]),
        date=data.get("date") or 0,
        env=str(data.get("env_name") or ""),
        python=str(data.get("python") or params.get("python") or ""),
        entries=entries,
    )


def machines(results_dir: Path) -> list[str]:
    """Machine directories under ``results_dir`` (those with a machine.json)."""
    if not results_dir.is_dir():
        return []
    return sorted(p.parent.name for p in results_dir.glob("*/machine.json"))


def result_paths(results_dir: Path, machine: str | None = None) -> Iterator[Path]:
    """Every asv result file for ``machine`` (or every machine)."""
    names = [machine] if machine else machines(results_dir)
    for m in names:
        d = results_dir / m
        if not d.is_dir():
            raise UsageError(f"{results_dir}: no asv results for machine {m!r} (have: {', '.join(machines(results_dir)) or 'none'})")
        for p in sorted(d.glob("*.json")):
            if p.name not in _SKIP and not p.name.startswith("."):
                yield p


def read_all(results_dir: Path, machine: str | None = None) -> list[AsvFile]:
    return [read_file(p) for p in result_paths(results_dir, machine)]


def commit_files(results_dir: Path, commit: str, machine: str | None = None) -> list[AsvFile]:
    """Result files of the commit whose hash starts with ``commit`` (as ``asv compare``).

    An ambiguous prefix is a UsageError listing the candidates; no match is []."""
    prefix = commit.lower()
    matches: dict[str, list[Path]] = {}
    for p in result_paths(results_dir, machine):
        head = p.name.split("-", 1)[0].lower()
        n = min(len(prefix), len(head))
        if n and head[:n] == prefix[:n]:
            matches.setdefault(head, []).append(p)
    if len(matches) > 1:
        raise UsageError(f"commit {commit!r} is ambiguous in {results_dir}: {', '.join(sorted(matches))}")
    return [read_file(p) for paths in matches.values() for p in paths]


def benchmark_info(results_dir: Path) -> dict[str, dict[str, Any]]:
    """``results/benchmarks.json`` (units, types, param names); {} when absent."""
    path = results_dir / "benchmarks.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def unit_of(name: str, info: dict[str, dict[str, Any]]) -> str:
    """asv unit of a benchmark: from benchmarks.json, else from asv's name prefixes."""
    unit = (info.get(name) or {}).get("unit")
    if unit:
        return "second" if unit == "seconds" else "byte" if unit == "bytes" else str(unit)
    leaf = name.rsplit(".", 1)[-1]
    if leaf.startswith(("time_", "timeraw_")):
        return "second"
    if leaf.startswith(("mem_", "peakmem_")):
        return "byte"
    return "unit"


def load_history(results_dir: Path, machine: str | None = None) -> dict[str, list[HistoryPoint]]:
    """Every series in an asv results tree, each sorted by commit date.

    Missing values (failed or skipped benchmarks) are left out.  The order
    is by commit date (then hash): asv orders by the branch's git history,
    which needs the benchmarked repository; dates agree with it on a linear
    branch, which is what the history of main is.
    """
    files = read_all(Path(results_dir), machine)
    multi_env = len({f.env for f in files}) > 1
    multi_machine = len({f.machine for f in files}) > 1
    out: dict[str, list[HistoryPoint]] = {}
    for f in files:
        for e in f.entries:
            if e.value is None:
                continue
            key = e.series + (f" [{f.env}]" if multi_env else "") + (f" @{f.machine}" if multi_machine else "")
            out.setdefault(key, []).append(
                HistoryPoint(commit=f.commit, date=f.date, value=e.value, samples=e.samples, params=e.params, env=f.env)
            )
    for points in out.values():
        points.sort(key=lambda p: (p.date, p.commit))
    return dict(sorted(out.items()))
