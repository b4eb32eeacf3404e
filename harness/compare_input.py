"""What ``compare`` compares: each side is harness result files or an asv commit.

A side argument is, in this order:

1. an existing path: a harness result file or a directory of them
   (``results.load_results``);
2. an asv commit in the asv results tree (``--results-dir``, else the
   ``results_dir`` of ``asv.conf.json``, else ``results/``): a hash prefix as
   in the result file names (``<commit[:8]>-<env>.json``), or a git ref
   resolved in the benchmarked repository when that is a local checkout;
3. ``BASE..HEAD`` as a single argument: two asv commits.

Everything is reduced to :class:`Sample` (runs of values plus labels) so the
statistics never care where numbers came from.  Harness samples keep their
per-worker-process runs; an asv sample is one run (asv pools its processes'
samples), or a single value with asv's stored 99% interval when asv ran
without ``--record-samples``.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import asv_results
from harness.comparison import Pair
from harness.errors import UsageError
from harness.results import load_results

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Backends the harness knows; an asv parameter equal to one of these names a backend.
KNOWN_BACKENDS = ("subint", "trio", "mp_spawn", "mp_forkserver", "fork", "main_thread", "mp", "infected_asyncio")

#: scenario -> the worker job that measures it (for matching hung/error statuses).
JOB_OF = {"spawn_cold": "spawn", "spawn_warm": "spawn", "teardown": "spawn", "memory_uss": "memory",
          "memory_rss": "memory"}


@dataclass
class Sample:
    key: tuple[str, ...]
    python: str
    name: str
    unit: str
    runs: list[list[float]]
    labels: dict[str, str] = field(default_factory=dict)
    ci99: tuple[float, float] | None = None
    group: tuple[str, ...] = ()  # same benchmark, any backend (for --baseline)
    backend: str = ""
    transport: str = ""


@dataclass
class Side:
    arg: str
    kind: str  # "harness" | "asv"
    samples: dict[tuple[str, ...], Sample]
    failures: dict[tuple[str, str, str, str], str] = field(default_factory=dict)  # (py, layer, backend, job)
    sources: list[str] = field(default_factory=list)
    commit: str = ""

    def pythons(self) -> list[str]:
        return sorted({s.python for s in self.samples.values()})


# -- harness result files ------------------------------------------------------
def harness_side(arg: str, path: Path) -> Side:
    rs = load_results([path])
    samples: dict[tuple[str, ...], Sample] = {}
    for cell in rs.cells.values():
        if not cell.values:
            continue
        samples[cell.key] = Sample(
            key=cell.key, python=cell.python, name=cell.name, unit=cell.unit, runs=[list(r) for r in cell.runs],
            labels={"layer": cell.layer, "backend": cell.backend, "scenario": cell.scenario,
                    "param": cell.param, "transport": cell.transport},
            group=(cell.python, cell.layer, cell.scenario, cell.param),
            backend=cell.backend, transport=cell.transport,
        )
    failures = {}
    for s in rs.statuses:
        if s.get("status") in ("hung", "error"):
            k = (str(s.get("python_tag", "")), str(s.get("layer", "")), str(s.get("backend", "")), str(s.get("job", "")))
            failures[k] = f"{s.get('status')}: {s.get('reason', '')}".strip()
    commits = {str(m.get("target", {}).get("tractor_commit") or m.get("harness_commit") or "")
               for m in rs.metadata if isinstance(m, dict)} - {""}
    return Side(arg, "harness", samples, failures, rs.sources, commit=",".join(sorted(commits)))


# -- asv ----------------------------------------------------------------------------
ASV_CONFIGS = ("asv.conf.json", "asv.ci.conf.json")


def asv_config(root: Path = PROJECT_ROOT, name: str = "asv.conf.json") -> dict[str, Any]:
    path = root / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    # asv.conf.json allows // comments
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def default_results_dir(root: Path = PROJECT_ROOT) -> Path:
    """The first asv results tree that holds results: asv.conf.json's (tractor's
    history), then asv.ci.conf.json's (the floor's); ``results/`` if neither does."""
    dirs = [root / str(asv_config(root, name).get("results_dir") or "results") for name in ASV_CONFIGS]
    return next((d for d in dirs if asv_results.machines(d)), dirs[0])


def _resolve_ref(ref: str, root: Path = PROJECT_ROOT) -> str | None:
    """A git ref to a full hash, in the asv repo when it is local, else in the project."""
    repo = str(asv_config(root).get("repo") or ".")
    where = (root / repo) if not re.match(r"^[a-z+]+://|^git@", repo) else root
    try:
        cp = subprocess.run(["git", "-C", str(where), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                            capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return cp.stdout.strip() or None if cp.returncode == 0 else None


def _asv_backend(values: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The parameter that names a backend (``'subint'``), and the others."""
    for i, v in enumerate(values):
        name = v.strip("'\"")
        if name in KNOWN_BACKENDS:
            return name, values[:i] + ("*",) + values[i + 1:]
    return "", values


def asv_side(arg: str, results_dir: Path, machine: str | None) -> Side:
    files = asv_results.commit_files(results_dir, arg, machine) if re.fullmatch(r"[0-9a-fA-F]{4,40}", arg) else []
    if not files:
        full = _resolve_ref(arg)
        if full:
            files = asv_results.commit_files(results_dir, full[:8], machine)
    if not files:
        have = asv_results.machines(results_dir)
        where = f"asv results in {results_dir}" if have else f"asv results ({results_dir} has none)"
        raise UsageError(f"{arg}: not a result file or directory, and no commit {arg!r} in {where}")
    found_machines = sorted({f.machine for f in files})
    if len(found_machines) > 1:
        raise UsageError(f"commit {arg} has asv results on machines {', '.join(found_machines)}: pick one with --machine")
    info = asv_results.benchmark_info(results_dir)
    samples: dict[tuple[str, ...], Sample] = {}
    for f in files:
        python = f.python or f.env
        for e in f.entries:
            if e.value is None:
                continue
            ci = (e.stats["ci_99_a"], e.stats["ci_99_b"]) if {"ci_99_a", "ci_99_b"} <= e.stats.keys() else None
            backend, rest = _asv_backend(e.param_values)
            key = ("asv", python, e.series)
            samples[key] = Sample(
                key=key, python=python, name=e.series, unit=asv_results.unit_of(e.name, info),
                runs=[e.samples] if e.samples else [[e.value]], ci99=ci,
                labels={"benchmark": e.name, "params": e.params, "env": f.env},
                group=("asv", python, e.name, *rest), backend=backend,
            )
    return Side(arg, "asv", samples, {}, [str(f.path) for f in files], commit=files[0].commit)


def load_side(arg: str, results_dir: Path | None, machine: str | None) -> Side:
    path = Path(arg)
    if path.exists():
        return harness_side(arg, path)
    if path.suffix == ".json" or "/" in arg:
        raise UsageError(f"{arg}: no such result file or directory")
    return asv_side(arg, results_dir or default_results_dir(), machine)


def split_range(arg: str) -> tuple[str, str] | None:
    """``A..B`` (not an existing path) -> (A, B)."""
    if ".." in arg and not Path(arg).exists():
        a, _, b = arg.partition("..")
        if a and b and ".." not in b:
            return a, b
    return None


# -- pairing -------------------------------------------------------------------------
def _pair(base: Sample, head: Sample, key: tuple[str, ...], name: str, labels: dict[str, str]) -> Pair:
    if base.unit != head.unit:
        raise UsageError(f"{name}: mismatched units, {base.unit} in BASE but {head.unit} in HEAD")
    return Pair(key=key, python=head.python, name=name, unit=head.unit, base=base.runs, head=head.runs,
                base_ci99=base.ci99, head_ci99=head.ci99, labels=labels)


@dataclass
class Pairing:
    pairs: list[Pair]
    only_base: list[Sample]
    only_head: list[Sample]
    failed: list[tuple[Sample, str]]  # present in BASE, hung/errored in HEAD


def pair_sides(base: Side, head: Side) -> Pairing:
    pairs = [_pair(base.samples[k], head.samples[k], k, head.samples[k].name, head.samples[k].labels)
             for k in base.samples if k in head.samples]
    only_base, failed = [], []
    for k, s in base.samples.items():
        if k in head.samples:
            continue
        job = JOB_OF.get(s.labels.get("scenario", ""), s.labels.get("scenario", ""))
        why = head.failures.get((s.python, s.labels.get("layer", ""), s.backend, job))
        (failed.append((s, why)) if why else only_base.append(s))
    only_head = [s for k, s in head.samples.items() if k not in base.samples]
    if not pairs and not failed:
        raise UsageError(
            f"BASE and HEAD have no benchmark in common (BASE: {len(base.samples)} on "
            f"{', '.join(base.pythons()) or 'nothing'}; HEAD: {len(head.samples)} on {', '.join(head.pythons()) or 'nothing'})")
    return Pairing(pairs, only_base, only_head, failed)


def baseline_pairs(side: Side, subject: str, baselines: list[str]) -> list[Pair]:
    """``subject`` against each baseline backend inside one run, per Python.

    Same transport when the baseline has it, else the baseline's first."""
    by_group: dict[tuple[str, ...], dict[str, list[Sample]]] = {}
    for s in side.samples.values():
        if s.backend:
            by_group.setdefault(s.group, {}).setdefault(s.backend, []).append(s)
    known = {s.backend for s in side.samples.values()}
    if subject not in known:
        raise UsageError(f"{side.arg}: no {subject!r} results (backends here: {', '.join(sorted(known)) or 'none'})")
    missing = [b for b in baselines if b not in known]
    if missing:
        raise UsageError(f"{side.arg}: no results for baseline {', '.join(missing)} (have: {', '.join(sorted(known))})")
    pairs: list[Pair] = []
    for group, backends in sorted(by_group.items()):
        for subj in sorted(backends.get(subject, []), key=lambda s: s.transport):
            for base_name in baselines:
                cands = sorted(backends.get(base_name, []), key=lambda s: s.transport)
                if not cands:
                    continue
                base = next((c for c in cands if c.transport == subj.transport), cands[0])
                tag = lambda s: s.backend + (f"[{s.transport}]" if s.transport else "")  # noqa: E731
                what = subj.labels.get("scenario") or subj.labels.get("benchmark", "")
                param = subj.labels.get("param") or ""
                layer = subj.labels.get("layer", "")
                name = f"{layer + '.' if layer else ''}{what}{f'[{param}]' if param else ''} {tag(subj)} / {tag(base)}"
                if side.kind == "asv":
                    name = f"{subj.name} / {base_name}"
                key = (*group, subj.transport, subject, base_name)
                labels = {**subj.labels, "subject": subject, "baseline": base_name,
                          "baseline_transport": base.transport}
                pairs.append(_pair(base, subj, key, name, labels))
    if not pairs:
        raise UsageError(f"{side.arg}: {subject} and {', '.join(baselines)} share no scenario to compare")
    return pairs
