"""Result files: pyperf JSON (``BenchmarkSuite``) plus a ``harness`` section.

Every worker process becomes one pyperf ``Run`` (values, warm-ups kept apart,
metadata), so ``python -m pyperf stats/compare_to/hist`` read the files as they
are.  pyperf ignores unknown top-level keys; the ``harness`` key holds what
pyperf cannot: the status of every cell (hung, error, unavailable, with the
reason) and the run's own metadata.  Files are rewritten atomically after every
finished cell, so an interrupted run keeps what it had.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError

HARNESS_FORMAT = 1

#: Metadata keys that identify a cell; the rest describe it.
KEY_FIELDS = ("python_tag", "layer", "backend", "scenario", "param", "transport")


def format_param(scenario: str, param: Any) -> str:
    if param is None or param == "":
        return ""
    if scenario == "stream":
        size = int(param)
        for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
            if size >= factor and size % factor == 0:
                return f"{size // factor}{unit}"
        return f"{size}B"
    if scenario == "fanout":
        return f"N={param}"
    return str(param)


def bench_name(layer: str, backend: str, scenario: str, transport: str, param: str) -> str:
    inner = ",".join(p for p in (transport, param) if p)
    return f"{layer}.{backend}.{scenario}" + (f"[{inner}]" if inner else "")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """pyperf metadata: str/int/float, no empty strings, no newlines."""
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if v is None or isinstance(v, bool):
            v = None if v is None else str(v).lower()
        if v is None:
            continue
        if isinstance(v, float) and not math.isfinite(v):
            continue
        if not isinstance(v, (int, float)):
            v = " ".join(str(v).split())
            if not v:
                continue
        out[k] = v
    return out


class ResultWriter:
    """Accumulates worker outputs for one Python and rewrites the file after each."""

    def __init__(self, path: Path, run_metadata: dict[str, Any]) -> None:
        self.path = path
        self.run_metadata = dict(run_metadata)
        self._runs: dict[str, list[dict[str, Any]]] = {}
        self.cells: list[dict[str, Any]] = []

    def add(self, cell: dict[str, Any], output: dict[str, Any], extra_meta: dict[str, Any]) -> None:
        """Record one worker's output.  ``cell`` has layer, backend, job, transport, round."""
        python = output.get("python", {})
        status = {
            **{k: cell[k] for k in ("layer", "backend", "job", "transport", "round")},
            "python_tag": python.get("python_tag", cell.get("python_tag", "")),
            "status": output.get("status", "error"),
            "reason": output.get("reason", ""),
            "duration": cell.get("duration"),
        }
        for key in ("hung", "session_exit", "traceback"):
            if key in output:
                status[key] = output[key]
        self.cells.append(status)
        for series in output.get("benchmarks", []):
            values = [float(v) for v in series.get("values", []) if v and v > 0]
            if not values:
                continue
            param = format_param(series["scenario"], series.get("param"))
            name = bench_name(cell["layer"], cell["backend"], series["scenario"], cell["transport"], param)
            meta = {
                **extra_meta,
                **python,
                **series.get("metadata", {}),
                "name": name,
                "unit": series.get("unit", "second"),
                "loops": 1,
                "layer": cell["layer"],
                "backend": cell["backend"],
                "scenario": series["scenario"],
                "param": param,
                "transport": cell["transport"],
                "round": cell["round"],
                "worker_status": status["status"],
            }
            if cell.get("duration"):
                # pyperf derives a run's duration from its values when this is
                # missing, which is wrong for bytes and per-message values.
                meta["duration"] = float(cell["duration"])
            self._runs.setdefault(name, []).append(
                {
                    "values": values,
                    "warmups": [float(w) for w in series.get("warmups", []) if w >= 0],
                    "metadata": _clean_meta(meta),
                }
            )

    def as_json(self) -> dict[str, Any]:
        import pyperf

        benchmarks = []
        for runs in self._runs.values():
            benchmarks.append(
                pyperf.Benchmark(
                    [
                        pyperf.Run(
                            r["values"],
                            warmups=[(1, w) for w in r["warmups"]] or None,
                            metadata=r["metadata"],
                            collect_metadata=False,
                        )
                        for r in runs
                    ]
                )
            )
        data: dict[str, Any] = {"version": "1.0", "benchmarks": []}
        if benchmarks:
            data = pyperf.BenchmarkSuite(benchmarks)._as_json()
        data["harness"] = {
            "format": HARNESS_FORMAT,
            "metadata": self.run_metadata,
            "cells": self.cells,
        }
        return data

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps(self.as_json(), indent=1))


@dataclass
class Cell:
    """All samples of one (python, layer, backend, scenario, param, transport)."""

    python: str
    layer: str
    backend: str
    scenario: str
    param: str
    transport: str
    unit: str
    runs: list[list[float]] = field(default_factory=list)
    warmups: list[list[float]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.python, self.layer, self.backend, self.scenario, self.param, self.transport)

    @property
    def name(self) -> str:
        return bench_name(self.layer, self.backend, self.scenario, self.transport, self.param)

    @property
    def values(self) -> list[float]:
        return [v for run in self.runs for v in run]


@dataclass
class ResultSet:
    cells: dict[tuple[str, ...], Cell] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def merge(self, other: "ResultSet") -> None:
        for key, cell in other.cells.items():
            mine = self.cells.get(key)
            if mine is None:
                self.cells[key] = cell
            else:
                mine.runs.extend(cell.runs)
                mine.warmups.extend(cell.warmups)
        self.statuses.extend(other.statuses)
        self.metadata.extend(other.metadata)
        self.sources.extend(other.sources)

    def pythons(self) -> list[str]:
        return sorted({c.python for c in self.cells.values()} | {s.get("python_tag", "") for s in self.statuses} - {""})


def _cell_from_benchmark(bench: dict[str, Any], common: dict[str, Any]) -> Cell:
    runs = bench.get("runs")
    if not isinstance(runs, list):
        raise ValueError("benchmark without runs")
    bmeta = {**common, **bench.get("metadata", {})}
    cell: Cell | None = None
    for run in runs:
        meta = {**bmeta, **run.get("metadata", {})}
        values = run.get("values", [])
        if not all(isinstance(v, (int, float)) for v in values):
            raise ValueError("non-numeric value")
        if cell is None:
            name = str(meta.get("name", "?"))
            cell = Cell(
                python=str(meta.get("python_tag") or meta.get("python_version") or "?"),
                layer=str(meta.get("layer", "pyperf")),
                backend=str(meta.get("backend", name)),
                scenario=str(meta.get("scenario", name)),
                param=str(meta.get("param", "")),
                transport=str(meta.get("transport", "")),
                unit=str(meta.get("unit", "second")),
                metadata=meta,
            )
        if values:
            cell.runs.append([float(v) for v in values])
        cell.warmups.append([float(w[1]) for w in run.get("warmups", []) if isinstance(w, list) and len(w) == 2])
    if cell is None:
        raise ValueError("benchmark with no runs")
    return cell


def load_file(path: Path) -> ResultSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such result file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a readable JSON result file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict) or "benchmarks" not in data or not isinstance(data["benchmarks"], list):
        raise UsageError(f"{path}: not a pyperf/harness result file (no 'benchmarks' list)")
    rs = ResultSet(sources=[str(path)])
    common = data.get("metadata") or {}
    try:
        for bench in data["benchmarks"]:
            cell = _cell_from_benchmark(bench, common)
            if cell.key in rs.cells:
                rs.cells[cell.key].runs.extend(cell.runs)
            else:
                rs.cells[cell.key] = cell
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise UsageError(f"{path}: malformed benchmark entry ({exc})") from None
    harness = data.get("harness") or {}
    if isinstance(harness, dict):
        rs.statuses = [c for c in harness.get("cells", []) if isinstance(c, dict)]
        if isinstance(harness.get("metadata"), dict):
            rs.metadata = [harness["metadata"]]
    if not rs.cells and not rs.statuses:
        raise UsageError(f"{path}: holds no benchmarks")
    return rs


def result_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if not p.name.startswith("."))
        files = [p for p in files if _looks_like_result(p)]
        if not files:
            raise UsageError(f"{path}: directory holds no result files")
        return files
    return [path]


def _looks_like_result(path: Path) -> bool:
    """pyperf-shaped JSON; asv's own files (same ``results/`` tree) are not."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("benchmarks"), list)


def load_results(paths: list[Path] | list[str]) -> ResultSet:
    """Load and merge result files and directories; bad input is a UsageError."""
    rs = ResultSet()
    for p in paths:
        for f in result_files(Path(p)):
            rs.merge(load_file(f))
    return rs
