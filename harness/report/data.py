"""What the report draws from: result files grouped by bytecode-cache condition.

``load_results`` merges every file into one cell per (python, layer, backend,
scenario, param, transport).  A ``--bytecode cold`` run and a warm one have the
same keys, so merging them would pour cold-cache samples into warm cells; the
report keeps one :class:`ResultSet` per condition instead and draws them side
by side.  Ordering helpers live here so every figure and table sorts Pythons and
backends the same way.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.results import Cell, ResultSet, load_file, result_files

#: Bytecode-cache conditions, the order they are shown in.  ``warm`` is the
#: steady state people compare; ``cold`` is what a first boot after an upgrade
#: pays.
CONDITIONS = ("warm", "cold", "unmanaged")
CONDITION_LABELS = {"warm": "warm .pyc", "cold": "cold .pyc", "unmanaged": "unmanaged .pyc"}

#: Backends in the order people think of them: exec, multiprocessing, fork, subint.
BACKEND_ORDER = ("trio", "mp_spawn", "mp_forkserver", "fork", "subint")
LAYER_ORDER = ("floor", "tractor")


@dataclass
class FileInfo:
    """One result file and the run-level metadata the runner wrote into it."""

    path: str
    condition: str
    metadata: dict[str, Any]


@dataclass
class ReportData:
    """Result sets per bytecode condition, and the files they came from."""

    conditions: dict[str, ResultSet] = field(default_factory=dict)
    files: list[FileInfo] = field(default_factory=list)

    @property
    def primary_condition(self) -> str:
        """The condition fan-out and stream figures use: warm when there is one."""
        return next(iter(self.conditions), "warm")

    def pythons(self) -> list[str]:
        return sort_pythons({p for rs in self.conditions.values() for p in rs.pythons()})

    def cells(self, scenario: str | None = None, condition: str | None = None) -> list[Cell]:
        """Cells with samples, optionally of one scenario and one condition."""
        sets = [self.conditions[condition]] if condition else list(self.conditions.values())
        return [c for rs in sets for c in rs.cells.values()
                if c.values and (scenario is None or c.scenario == scenario)]


def _condition_of(rs: ResultSet) -> str:
    for meta in rs.metadata:
        value = meta.get("bytecode_cache")
        if value:
            return str(value)
    for cell in rs.cells.values():
        value = cell.metadata.get("bytecode_cache")
        if value:
            return str(value)
    return "unmanaged"


def load(paths: list[Path]) -> ReportData:
    """Load result files and directories; bad input raises ``UsageError`` (from ``harness.results``)."""
    data = ReportData()
    per_condition: dict[str, ResultSet] = {}
    for p in paths:
        for f in result_files(Path(p)):
            rs = load_file(f)
            cond = _condition_of(rs)
            data.files.append(FileInfo(str(f), cond, rs.metadata[0] if rs.metadata else {}))
            per_condition.setdefault(cond, ResultSet()).merge(rs)
    known = [c for c in CONDITIONS if c in per_condition]
    data.conditions = {c: per_condition[c] for c in [*known, *sorted(set(per_condition) - set(known))]}
    return data


def python_sort_key(tag: str) -> tuple[Any, ...]:
    """``cp39`` < ``cp314`` < ``cp314t``: numeric, free-threaded after default."""
    m = re.fullmatch(r"cp(\d)(\d+)(t?)", tag)
    if not m:
        return (1, tag)
    return (0, int(m.group(1)), int(m.group(2)), m.group(3))


def sort_pythons(tags: list[str] | set[str]) -> list[str]:
    return sorted(set(tags), key=python_sort_key)


def python_label(tag: str) -> str:
    """``cp314t`` -> ``3.14t``: what people call the interpreter."""
    m = re.fullmatch(r"cp(\d)(\d+)(t?)", tag)
    return f"{m.group(1)}.{m.group(2)}{m.group(3)}" if m else tag


def backend_sort_key(name: str) -> tuple[int, str]:
    return (BACKEND_ORDER.index(name) if name in BACKEND_ORDER else len(BACKEND_ORDER), name)


def layer_sort_key(name: str) -> tuple[int, str]:
    return (LAYER_ORDER.index(name) if name in LAYER_ORDER else len(LAYER_ORDER), name)


def series_key(cell: Cell) -> tuple[str, str, str]:
    return (cell.layer, cell.backend, cell.transport)


def series_labels(cells: list[Cell]) -> dict[tuple[str, str, str], str]:
    """Short legend labels: the backend, plus the layer only when tractor is in
    the data, plus the transport only when one backend ran over several."""
    keys = {series_key(c) for c in cells}
    layers = {k[0] for k in keys}
    transports: dict[tuple[str, str], set[str]] = {}
    for layer, backend, transport in keys:
        transports.setdefault((layer, backend), set()).add(transport)
    out = {}
    for layer, backend, transport in keys:
        label = backend if layers == {"floor"} else f"{layer}.{backend}"
        if len(transports[(layer, backend)]) > 1:
            label += f" [{transport}]"
        out[(layer, backend, transport)] = label
    return out


def sort_series(keys: set[tuple[str, str, str]] | list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return sorted(set(keys), key=lambda k: (backend_sort_key(k[1]), layer_sort_key(k[0]), k[2]))


def parse_size(param: str) -> int | None:
    """``64B`` / ``4KiB`` / ``1MiB`` (as ``format_param`` writes them) -> bytes."""
    m = re.fullmatch(r"(\d+)(B|KiB|MiB|GiB)", param.strip())
    if not m:
        return None
    return int(m.group(1)) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m.group(2)]


def parse_fanout(param: str) -> int | None:
    m = re.fullmatch(r"N=(\d+)", param.strip())
    return int(m.group(1)) if m else None


def cv(values: list[float]) -> float:
    """Coefficient of variation (sample stdev / mean); NaN under two samples or a zero mean."""
    if len(values) < 2 or statistics.fmean(values) == 0:
        return math.nan
    return statistics.stdev(values) / statistics.fmean(values)
