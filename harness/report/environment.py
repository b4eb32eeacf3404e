"""The environment box: where the numbers came from, and why to distrust them.

A perf page without its machine is a rumour.  This gathers what the result
files recorded (CPU, Pythons and their builds, load, the command that made
the data) and turns what would make the numbers less trustworthy into
warnings a reader sees before the figures: a machine busier than it has CPUs,
noisy cells, few samples, mixed machines or harness versions, cells that hung.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.report.data import CONDITION_LABELS, ReportData, cv, python_label, sort_pythons
from harness.report.model import Table
from harness.stats import median
from harness.summary import problems

#: Load average per CPU above which other work competed with the benchmark.
#: The benchmark's own worker and child keep ~1-2 CPUs busy; beyond one
#: runnable task per CPU, samples queue for a CPU.
LOAD_PER_CPU_WARN = 1.0
#: Coefficient of variation above which a cell is called noisy.
CV_WARN = 0.25
#: Share of noisy cells above which the noise becomes a page-level warning.
NOISY_SHARE_WARN = 0.2
#: Samples per cell under which a comparison is a smoke test, not a measurement.
FEW_SAMPLES = 10


@dataclass
class Environment:
    facts: list[tuple[str, str]] = field(default_factory=list)
    pythons: Table | None = None
    commands: list[tuple[str, str]] = field(default_factory=list)  # (command, which files)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_measured: Table | None = None
    noisy: Table | None = None


def _distinct(values: list[Any]) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if v not in (None, "")))


def gather(data: ReportData) -> Environment:
    env = Environment()
    cells = data.cells()
    metas = [f.metadata for f in data.files] + [c.metadata for c in cells]
    hosts = _distinct([m.get("hostname") for m in metas])
    cpus = _distinct([m.get("cpu_model_name") for m in metas])
    counts = _distinct([m.get("cpu_count") for m in metas])
    platforms = _distinct([m.get("platform") for m in metas])
    commits = _distinct([m.get("harness_commit") for m in metas])
    versions = _distinct([m.get("harness_version") for m in metas])
    dates = sorted(_distinct([c.metadata.get("date") for c in cells]))

    env.facts.append(("host", ", ".join(hosts) or "not recorded"))
    env.facts.append(("CPU", ", ".join(cpus) or "not recorded"))
    env.facts.append(("CPUs", ", ".join(counts) or "not recorded"))
    env.facts.append(("platform", ", ".join(platforms) or "not recorded"))
    harness = ", ".join(versions) or "?"
    if commits:
        harness += " @ " + ", ".join(c[:12] for c in commits)
    env.facts.append(("harness", harness))
    env.facts.append(("bytecode cache", ", ".join(CONDITION_LABELS.get(c, c) for c in data.conditions) or "?"))
    if dates:
        env.facts.append(("measured", dates[0] if dates[0] == dates[-1] else f"{dates[0]} … {dates[-1]}"))

    _load(env, cells, counts)
    _noise(env, data)
    _samples(env, data)
    if len(hosts) > 1 or len(cpus) > 1:
        env.warnings.append(f"Results from {max(len(hosts), len(cpus))} different machines are mixed: "
                            "compare numbers within one machine only.")
    if len(commits) > 1:
        env.warnings.append(f"Results from {len(commits)} harness commits are mixed "
                            f"({', '.join(c[:8] for c in commits)}): a change in the harness can move numbers.")
    throttle_keys = sorted({k for m in metas for k in m if k in ("cpu_freq", "cpu_temp", "cpu_config")})
    if throttle_keys:
        for key in throttle_keys:
            env.facts.append((key.replace("_", " "), ", ".join(_distinct([m.get(key) for m in metas]))))
    else:
        env.notes.append("CPU frequency scaling and thermal throttling are not recorded in these results; "
                         "on a laptop or a shared VM, rerun to confirm a surprising number.")
    env.pythons = _pythons(data)
    env.commands = _commands(data)
    env.not_measured = _not_measured(data, env)
    return env


def _load(env: Environment, cells: list[Any], counts: list[str]) -> None:
    loads = [float(c.metadata["load_avg_1min"]) for c in cells
             if isinstance(c.metadata.get("load_avg_1min"), (int, float))]
    try:
        ncpu = max(int(x) for x in counts)
    except ValueError:
        ncpu = 0
    if not loads:
        env.notes.append("Load average was not recorded.")
        return
    env.facts.append(("load avg (1 min)", f"median {median(loads):.2f}, max {max(loads):.2f}"
                                          + (f" on {ncpu} CPUs" if ncpu else "")))
    if ncpu and max(loads) > LOAD_PER_CPU_WARN * ncpu:
        busy = sum(1 for v in loads if v > LOAD_PER_CPU_WARN * ncpu)
        env.warnings.append(f"Busy machine: the 1-minute load average reached {max(loads):.2f} on {ncpu} CPUs "
                            f"({busy} of {len(loads)} cells above {LOAD_PER_CPU_WARN:g} per CPU). Other work "
                            "competed for the CPUs: times are inflated and noisier than on an idle machine.")
    if ncpu and ncpu <= 2:
        env.notes.append(f"Only {ncpu} CPUs: fan-out beyond {ncpu} children measures CPU contention as much "
                         "as the backend.")


def _noise(env: Environment, data: ReportData) -> None:
    rated = []
    for cond, rs in data.conditions.items():
        for c in rs.cells.values():
            vals = c.values
            if len(vals) >= 3:
                rated.append((cv(vals), cond, c))
    if not rated:
        return
    noisy = sorted((r for r in rated if r[0] > CV_WARN), key=lambda r: -r[0])
    env.facts.append(("noise", f"{len(noisy)} of {len(rated)} cells with CV > {CV_WARN:.0%}"))
    if noisy:
        env.noisy = Table(["cell", ".pyc", "n", "CV"],
                          [[f"{python_label(c.python)} {c.name}", CONDITION_LABELS.get(cond, cond),
                            str(len(c.values)), f"{v:.0%}"] for v, cond, c in noisy[:12]],
                          {2, 3}, caption=f"noisiest cells (CV > {CV_WARN:.0%})")
    if len(noisy) > NOISY_SHARE_WARN * len(rated):
        worst = ", ".join(f"{python_label(c.python)} {c.name} ({v:.0%})" for v, _, c in noisy[:3])
        env.warnings.append(f"Noisy samples: {len(noisy)} of {len(rated)} cells vary by more than "
                            f"{CV_WARN:.0%} (coefficient of variation); worst: {worst}.")


def _samples(env: Environment, data: ReportData) -> None:
    sizes = [len(c.values) for c in data.cells() if c.scenario in ("spawn_warm", "rpc_rtt", "teardown")]
    if sizes and median(sizes) < FEW_SAMPLES:
        env.warnings.append(f"Few samples: a median of {median(sizes):.0f} per cell (a --quick run?). "
                            "Read the figures as a smoke test: differences under ~1.5× may be noise.")


def _pythons(data: ReportData) -> Table:
    seen: dict[str, dict[str, Any]] = {}
    for c in data.cells():
        seen.setdefault(c.python, c.metadata)
    rows = []
    for py in sort_pythons(seen):
        m = seen[py]
        build = str(m.get("python_build", "?"))
        if m.get("python_gil"):
            build += f", GIL {m['python_gil']}"
        rows.append([python_label(py), str(m.get("python_version", "?")),
                     str(m.get("python_implementation", "?")), build,
                     str(m.get("trio_version", "–")), str(m.get("python_executable", "?"))])
    return Table(["Python", "version", "implementation", "build", "trio", "executable"], rows)


def _commands(data: ReportData) -> list[tuple[str, str]]:
    by_command: dict[str, list[str]] = {}
    for f in data.files:
        command = str(f.metadata.get("command") or "not recorded (pyperf file without harness metadata)")
        by_command.setdefault(command, []).append(f.path.rsplit("/", 1)[-1])
    return [(cmd, ", ".join(files)) for cmd, files in by_command.items()]


def _not_measured(data: ReportData, env: Environment) -> Table | None:
    rows = []
    failed = 0
    for cond, rs in data.conditions.items():
        for p in problems(rs):
            status = str(p.get("status", "?"))
            failed += status not in ("unavailable",)
            rows.append([python_label(str(p.get("python_tag", "?"))), f"{p.get('layer')}.{p.get('backend')}",
                         "" if status == "unavailable" else str(p.get("job", "")), status,
                         str(p.get("reason", "")), CONDITION_LABELS.get(cond, cond)])
    if failed:
        env.warnings.append(f"{failed} cell(s) hung or failed and have no numbers: see 'Not measured'.")
    if not rows:
        return None
    # One line per (python, backend, job, status, reason) across conditions.
    unique = list(dict.fromkeys(tuple(r[:5]) for r in rows))
    return Table(["Python", "backend", "job", "status", "reason"], [list(u) for u in unique])
