"""The runner: fresh worker processes, interleaved in rounds, bounded in time.

Why not ``pyperf.Runner``: it runs one benchmark's worker processes back to
back, so drift (another tenant, thermal state) lands on whichever backend ran
at that moment; it cannot kill a worker whose child never answers, and it loses
a benchmark's samples when a worker dies.  This runner keeps pyperf's model (many
fresh processes, warm-ups apart, raw values kept, pyperf JSON out) and adds:
rounds that rotate through every (backend, job) cell so drift hits all alike; a
deadline per worker, after which its whole process group is killed and the cell
recorded as hung; a sweep for any process that still carries the run's marker;
and an atomic rewrite of the result file after every cell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness import procs
from harness.errors import UsageError
from harness.progress import Progress
from harness.pythons import Interpreter
from harness.results import ResultWriter
from harness.scenarios import JobConfig
from harness.sysinfo import BYTECODE_ENV, cache_dir, load_avg_1min, machine_metadata

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Plan:
    interpreters: list[Interpreter]
    layers: list[str] = field(default_factory=lambda: ["floor"])
    target_name: str = "floor"
    backends: list[str] | None = None  # None: every available one
    jobs: list[str] = field(default_factory=lambda: ["spawn", "rpc_rtt", "stream", "fanout", "memory"])
    transports: list[str] | None = None  # None: each backend's default
    rounds: int = 3
    config: JobConfig = field(default_factory=JobConfig)
    bytecode: str = "warm"  # warm | cold | unmanaged
    output: Path | None = None
    command: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    target: dict[str, str] = field(default_factory=dict)


@dataclass
class CellSpec:
    interpreter: Interpreter
    layer: str
    backend: str
    job: str
    transport: str

    @property
    def label(self) -> str:
        return f"{self.interpreter.tag} {self.layer}.{self.backend} {self.job} {self.transport}"


@dataclass
class RunOutcome:
    files: list[Path]
    interrupted: bool = False
    cells: list[dict[str, Any]] = field(default_factory=list)


def worker_deadline(job: str, cfg: JobConfig) -> float:
    """A worker's hard deadline: every sample at its timeout, plus start-up slack.
    Workers enforce per-sample timeouts themselves; this only catches a worker
    that is wedged where it cannot (an import, a C call holding the GIL)."""
    n = cfg.warmups + cfg.values
    samples = {
        "spawn": 2 + 2 * n,
        "rpc_rtt": 4 + 5 * n,
        "stream": 4 + len(cfg.stream_sizes) * n,
        "fanout": 4 + sum(2 * (1 + k / 4) * max(1, cfg.values // 10) for k in cfg.fanout),
        "memory": 4 + 3 * cfg.memory_children,
    }.get(job, 4 * n)
    return 30.0 + cfg.timeout * min(samples, 60)


class Runner:
    def __init__(self, plan: Plan, progress_quiet: bool = False) -> None:
        self.plan = plan
        self.run_id = uuid.uuid4().hex[:12]
        self.quiet = progress_quiet
        self._tmp = Path(tempfile.mkdtemp(prefix=f"spawn-harness-{self.run_id}-"))
        self.machine = machine_metadata()

    def close(self) -> None:
        """Remove the run's scratch directory (specs, worker outputs, XDG dir).
        ``run`` does this itself; callers driving ``run_worker`` directly call it."""
        shutil.rmtree(self._tmp, ignore_errors=True)

    # -- environment -----------------------------------------------------
    def worker_env(self, interp: Interpreter, fresh_cache: Path | None = None,
                   measuring: bool = True) -> dict[str, str]:
        """The environment of a worker; ``measuring=False`` (probe, prime)
        leaves out the plan's extra variables such as the canary."""
        env = dict(os.environ)
        env.update(interp.env)
        if measuring:
            env.update(self.plan.extra_env)
        env[procs.RUN_ID_ENV] = self.run_id
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
        env[BYTECODE_ENV] = self.plan.bytecode
        if self.plan.bytecode == "warm":
            env["PYTHONPYCACHEPREFIX"] = str(cache_dir() / "pycache")
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        elif self.plan.bytecode == "cold":
            env["PYTHONPYCACHEPREFIX"] = str(fresh_cache or self._tmp / "empty-pycache")
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        # tractor puts UDS sockets under $XDG_RUNTIME_DIR; give each run its own.
        env.setdefault("XDG_RUNTIME_DIR", str(self._tmp / "xdg"))
        (self._tmp / "xdg").mkdir(exist_ok=True, mode=0o700)
        return env

    def _call(self, interp: Interpreter, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        proc = subprocess.Popen(
            [interp.executable, "-m", "harness.worker", *args],
            env=self.worker_env(interp, measuring=False),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            procs.kill_group(proc.pid)
            out, err = proc.communicate()
            raise UsageError(f"{interp.executable}: harness.worker {args[0]} did not finish in {timeout:g}s") from None
        finally:
            procs.kill_group(proc.pid)
            procs.kill_marked(self.run_id)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def probe(self, interp: Interpreter, layer: str) -> dict[str, Any]:
        cp = self._call(interp, ["probe", layer], timeout=120)
        try:
            data = json.loads(cp.stdout)
        except json.JSONDecodeError:
            last = (cp.stderr.strip().splitlines() or ["no output"])[-1]
            raise UsageError(f"{interp.executable}: cannot run the harness worker ({last})") from None
        if "error" in data:
            raise UsageError(f"{interp.tag}: {layer} layer unavailable: {data['error']}")
        return data

    def prime(self, interp: Interpreter, layer: str) -> None:
        self._call(interp, ["prime", layer], timeout=300)

    # -- one worker -------------------------------------------------------
    def run_worker(self, cell: CellSpec) -> dict[str, Any]:
        cfg = self.plan.config
        spec = {
            "layer": cell.layer,
            "backend": cell.backend,
            "job": cell.job,
            "transport": cell.transport,
            "config": asdict(cfg),
            "target": self.plan.target,
        }
        work = Path(tempfile.mkdtemp(prefix="w-", dir=self._tmp))
        spec_path, out_path, err_path = work / "spec.json", work / "out.json", work / "stderr.log"
        spec_path.write_text(json.dumps(spec))
        deadline = worker_deadline(cell.job, cfg)
        env = self.worker_env(cell.interpreter, fresh_cache=work / "pycache")
        killed = False
        with err_path.open("w") as err:
            proc = subprocess.Popen(
                [cell.interpreter.executable, "-m", "harness.worker", "run", str(spec_path), str(out_path)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                killed = True
            finally:
                procs.kill_group(proc.pid)
                proc.wait()
                procs.kill_marked(self.run_id)
        try:
            output = json.loads(out_path.read_text())
        except (OSError, json.JSONDecodeError):
            tail = err_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            output = {"status": "error", "reason": f"worker exited {proc.returncode} without a result: {tail[0][:300]}"}
        if killed and output.get("status") in ("running", "ok"):
            was_ok = output.get("status") == "ok"
            output["status"] = "ok" if was_ok else "hung"
            note = f"worker killed at its {deadline:g}s deadline"
            if was_ok:
                output["session_exit"] = note
            else:
                output["reason"] = note
                output["hung"] = {"scenario": cell.job, "param": None, "phase": "worker", "timeout": deadline}
        elif output.get("status") == "running":
            output["status"] = "error"
            output["reason"] = f"worker exited {proc.returncode} mid-run"
        return output

    # -- the run ------------------------------------------------------------
    def output_path(self, interp: Interpreter, multi: bool, stamp: str) -> Path:
        out = self.plan.output
        if out is None:
            return PROJECT_ROOT / "results" / "harness" / f"{stamp}-{self.plan.target_name}-{interp.tag}.json"
        if multi:
            return out.with_name(f"{out.stem}-{interp.tag}{out.suffix or '.json'}")
        return out

    def run(self) -> RunOutcome:
        plan = self.plan
        stamp = time.strftime("%Y%m%d-%H%M%S")
        multi = len(plan.interpreters) > 1
        progress = Progress(0, quiet=self.quiet)
        probes: dict[tuple[str, str], dict[str, Any]] = {}
        for interp in plan.interpreters:
            for layer in plan.layers:
                probes[(interp.tag, layer)] = self.probe(interp, layer)
        if plan.backends:
            known = {name for p in probes.values() for name in p["backends"]}
            for name in plan.backends:
                if name not in known:
                    raise UsageError(f"unknown backend {name!r} (known: {', '.join(sorted(known))})")
        writers: dict[str, ResultWriter] = {}
        cells: list[CellSpec] = []
        for interp in plan.interpreters:
            python_meta = probes[(interp.tag, plan.layers[0])]["python"]
            run_meta = {
                **self.machine,
                "command": plan.command,
                "run_id": self.run_id,
                "bytecode_cache": plan.bytecode,
                "rounds": plan.rounds,
                "config": asdict(plan.config),
                "python": python_meta,
                "backends": {layer: probes[(interp.tag, layer)]["backends"] for layer in plan.layers},
                **({"target": plan.target} if plan.target else {}),
            }
            writer = ResultWriter(self.output_path(interp, multi, stamp), run_meta)
            writers[interp.tag] = writer
            for layer in plan.layers:
                backends = probes[(interp.tag, layer)]["backends"]
                names = [n for n in (plan.backends or list(backends)) if n in backends]
                for name in names:
                    info = backends[name]
                    transports = plan.transports or info["transports"][:1]
                    usable = [t for t in transports if t in info["transports"]] or info["transports"][:1]
                    if not info["available"]:
                        for job in plan.jobs:
                            writer.add(
                                {"layer": layer, "backend": name, "job": job, "transport": usable[0], "round": 0},
                                {"status": "unavailable", "reason": info["reason"], "python": python_meta},
                                {},
                            )
                        progress.note(f"{interp.tag}: {layer}.{name} unavailable: {info['reason']}")
                        continue
                    for transport in usable:
                        for job in plan.jobs:
                            cells.append(CellSpec(interp, layer, name, job, transport))
            writer.save()
        for interp in plan.interpreters:
            if plan.bytecode == "warm":
                progress.note(f"{interp.tag}: priming the bytecode cache")
                for layer in plan.layers:
                    self.prime(interp, layer)
        # Interleave: jobs outermost so consecutive workers alternate backends
        # (and Pythons), and each round starts one cell further along.
        cells.sort(key=lambda c: (plan.jobs.index(c.job), c.transport, c.backend, c.layer, c.interpreter.tag))
        progress.total = len(cells) * plan.rounds
        outcome = RunOutcome(files=[w.path for w in writers.values()])
        try:
            for r in range(plan.rounds):
                shift = (r * max(1, len(cells) // max(1, plan.rounds))) % max(1, len(cells))
                for cell in cells[shift:] + cells[:shift]:
                    t0 = time.monotonic()
                    load = load_avg_1min()
                    output = self.run_worker(cell)
                    duration = time.monotonic() - t0
                    meta = {
                        **self.machine,
                        "load_avg_1min": load,
                        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                        "bytecode_cache": plan.bytecode,
                        **{f"target_{k}": v for k, v in plan.target.items()},
                    }
                    record = {
                        "layer": cell.layer, "backend": cell.backend, "job": cell.job,
                        "transport": cell.transport, "round": r, "duration": round(duration, 3),
                        "python_tag": cell.interpreter.tag,
                    }
                    writer = writers[cell.interpreter.tag]
                    writer.add(record, output, meta)
                    writer.save()
                    status = output.get("status", "error")
                    detail = "" if status == "ok" else f": {output.get('reason', '')}"
                    progress.step(f"r{r + 1}/{plan.rounds} {cell.label}", f"{status}{detail}")
        except KeyboardInterrupt:
            outcome.interrupted = True
        finally:
            procs.kill_marked(self.run_id)
            for w in writers.values():
                w.save()
            self.close()
            outcome.cells = [c for w in writers.values() for c in w.cells]
        return outcome
