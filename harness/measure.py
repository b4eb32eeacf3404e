"""In-process measurement: the API asv benchmarks (``benchmarks/``) call.

asv already gives each benchmark a fresh process, so that process plays the
part of the runner's worker: :func:`run_job` hands one job spec to
:func:`harness.worker.run_job` *in process* and returns its series, so an asv
number is the same quantity, measured by the same code, as ``python -m harness
run`` reports.  What the runner would set up around a worker is set up here too
(:func:`worker_context`): ``PYTHONPATH`` so an exec'd child finds
``harness.childside`` (asv drops ``PYTHONPATH``), and ``__main__`` presented as
``harness.worker`` so a multiprocessing ``spawn`` child re-imports what it
re-imports under the runner, not asv's runner script.

:func:`interleaved` is the one thing the worker has no job for: spawns (or
round trips) of several backends alternated sample by sample in one process, so
that drift hits each backend alike and a ratio of paired samples cancels it.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.backends.base import Unavailable
from harness.errors import UsageError
from harness.scenarios import JOBS, JobConfig

#: Jobs' sample sizes in the asv suite: the runner's defaults, with a fan-out
#: ladder short enough for one asv process (asv times out a process at 60 s).
ASV_CONFIG = JobConfig(warmups=2, values=10, timeout=10.0, stream_sizes=[64, 4096, 1024 * 1024],
                       fanout=[1, 4, 16], memory_children=4)

#: Quantities :func:`interleaved` can alternate.
INTERLEAVED = ("spawn", "rpc_rtt")

#: Layers whose sessions cannot coexist in one process: tractor allows one
#: root actor per process, and its session is a root actor.
ONE_SESSION_PER_PROCESS = frozenset({"tractor"})
#: Alternated jobs per backend in :func:`_alternate_blocks`.
BLOCKS = 4

#: Round trips per spawn sample, as :func:`harness.scenarios.job_rpc_rtt` takes them.
RPC_PER_VALUE = 5

_HARNESS_ROOT = str(Path(__file__).resolve().parent.parent)


class MeasureError(RuntimeError):
    """A job hung or failed: asv records the benchmark as failed, not skipped."""


@dataclass
class JobResult:
    """Series of one job, keyed by ``(scenario, param)`` as the worker names them."""

    status: str
    series: dict[tuple[str, Any], list[float]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def values(self, scenario: str, param: Any = None) -> list[float]:
        try:
            return self.series[(scenario, param)]
        except KeyError:
            have = ", ".join(f"{s}[{p}]" if p is not None else s for s, p in self.series) or "none"
            raise UsageError(f"no series {scenario}[{param}] in this job (have: {have})") from None


def backends(layer: str) -> dict[str, Any]:
    """Backends of ``layer``; the tractor layer raises :class:`Unavailable` when
    tractor (or the harness's tractor layer) cannot be imported here."""
    from harness.backends import LAYERS, layer_backends

    if layer not in LAYERS:
        raise UsageError(f"unknown layer {layer!r} (known: {', '.join(LAYERS)})")
    try:
        return layer_backends(layer)
    except ImportError as exc:
        raise Unavailable(f"{layer} layer not importable: {exc}") from None


def require(layer: str, backend: str) -> Any:
    """The backend, if it runs here; :class:`Unavailable` (with why) if not.
    An unknown floor name is a typo (UsageError); an unknown tractor name is
    a method this tractor's branch does not have (Unavailable)."""
    found = backends(layer)
    if backend not in found:
        have = f"{layer} backend {backend!r} (have: {', '.join(found)})"
        if layer == "floor":
            raise UsageError(f"unknown {have}")
        # tractor's set of spawn methods differs between its branches.
        raise Unavailable(f"this tractor has no {have}")
    avail = found[backend].availability()
    if not avail.available:
        raise Unavailable(avail.reason)
    return found[backend]


@contextmanager
def worker_context() -> Iterator[None]:
    """Make this process look to its children as a runner's worker does."""
    main = sys.modules.get("__main__")
    saved_env = os.environ.get("PYTHONPATH")
    paths = [p for p in (saved_env or "").split(os.pathsep) if p]
    if _HARNESS_ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([_HARNESS_ROOT, *paths])
    had_spec = main is not None and hasattr(main, "__spec__")
    saved_spec = getattr(main, "__spec__", None)
    if main is not None:
        import importlib.util

        main.__spec__ = importlib.util.find_spec("harness.worker")
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_env
        if main is not None:
            if had_spec:
                main.__spec__ = saved_spec
            else:
                del main.__spec__


def run_job(layer: str, backend: str, job: str, cfg: JobConfig | None = None,
            transport: str | None = None) -> JobResult:
    """Run one worker job in this process; raise unless it finished ``ok``."""
    from harness import worker

    if job not in JOBS:
        raise UsageError(f"unknown job {job!r} (known: {', '.join(JOBS)})")
    chosen = require(layer, backend)
    transport = transport or chosen.transports[0]
    if transport not in chosen.transports:
        raise UsageError(f"{layer}.{backend} has no transport {transport!r} (has: {', '.join(chosen.transports)})")
    spec = {"layer": layer, "backend": backend, "job": job, "transport": transport,
            "config": asdict(cfg or ASV_CONFIG), "target": {}}
    with tempfile.TemporaryDirectory(prefix="harness-measure-") as tmp, worker_context():
        out_path = os.path.join(tmp, "out.json")
        worker.run_job(spec, out_path)
        with open(out_path, encoding="utf-8") as f:
            out = json.load(f)
    status = out.get("status")
    if status == "unavailable":
        raise Unavailable(out.get("reason", "unavailable"))
    if status != "ok":
        raise MeasureError(f"{layer}.{backend} {job}: {status}: {out.get('reason', '')}")
    series = {(s["scenario"], s["param"]): list(s["values"]) for s in out["benchmarks"]}
    return JobResult(status, series, out)


def samples(layer: str, backend: str, scenario: str, param: Any = None,
            cfg: JobConfig | None = None) -> list[float]:
    """Measured values (warm-ups excluded) of one scenario series."""
    from harness.scenarios import SCENARIOS

    job = SCENARIOS.get(scenario) or {"spawn_cold": "spawn", "spawn_warm": "spawn",
                                      "memory_uss": "memory", "memory_rss": "memory"}.get(scenario)
    if job is None:
        raise UsageError(f"unknown scenario {scenario!r}")
    return run_job(layer, backend, job, cfg).values(scenario, param)


def interleaved(layer: str, names: list[str], quantity: str,
                cfg: JobConfig | None = None) -> dict[str, list[float]]:
    """Samples of ``quantity`` for each backend, alternated in one trio run.

    Sample ``i`` of every backend is taken back to back (order reversed every
    other step), so ``a[i] / b[i]`` is a ratio whose two halves saw the same
    machine.  ``spawn`` is warm spawn-to-ready (each child is stopped before the
    next backend spawns; every session's first, cold spawn is discarded);
    ``rpc_rtt`` is one round trip to a long-lived child per backend.
    """
    import trio

    if quantity not in INTERLEAVED:
        raise UsageError(f"cannot interleave {quantity!r} (can: {', '.join(INTERLEAVED)})")
    if len(set(names)) != len(names) or len(names) < 2:
        raise UsageError(f"need two or more distinct backends, got {names}")
    cfg = cfg or ASV_CONFIG
    chosen = {n: require(layer, n) for n in names}
    if layer in ONE_SESSION_PER_PROCESS:
        return _alternate_blocks(layer, names, quantity, cfg)
    result: dict[str, list[float]] = {}

    async def main() -> None:
        from harness.scenarios import Recorder

        rec = Recorder()
        # As in the worker: one scope bounds opening the sessions, is lifted
        # while measuring (samples have their own timeouts), re-armed to close.
        guard = trio.CancelScope(deadline=trio.current_time() + cfg.timeout * len(names))
        try:
            with guard:
                async with AsyncExitStack() as stack:
                    sessions = {n: await stack.enter_async_context(b.session(b.transports[0]))
                                for n, b in chosen.items()}
                    guard.deadline = math.inf
                    result.update(await _alternate(sessions, quantity, cfg, rec))
                    guard.deadline = trio.current_time() + cfg.timeout * len(names)
        finally:
            rec.kill_all()
        if guard.cancelled_caught and not result:
            raise MeasureError(f"{layer} {'/'.join(names)}: sessions did not open within the timeout")

    with worker_context():
        try:
            trio.run(main)
        except Exception as exc:  # a backend's nursery may wrap Hung in a group
            from harness.scenarios import Hung
            from harness.worker import _find

            hung = _find(exc, Hung)
            if hung is None:
                raise
            raise MeasureError(f"{layer} {'/'.join(names)} {quantity}: {hung}") from exc
    return result


def _alternate_blocks(layer: str, names: list[str], quantity: str, cfg: JobConfig) -> dict[str, list[float]]:
    """Interleave whole worker jobs when two sessions cannot be open at once:
    ``BLOCKS`` short jobs per backend, alternated (order reversed every other
    block), their samples concatenated.  Pairs are then a block apart, not a
    sample apart: drift slower than a block still cancels."""
    job = "spawn" if quantity == "spawn" else "rpc_rtt"
    scenario = "spawn_warm" if quantity == "spawn" else "rpc_rtt"
    per_block = max(1, -(-cfg.values // BLOCKS))
    block_cfg = JobConfig(**{**asdict(cfg), "values": per_block, "warmups": max(1, cfg.warmups // 2)})
    out: dict[str, list[float]] = {n: [] for n in names}
    for b in range(BLOCKS):
        for n in names if b % 2 == 0 else names[::-1]:
            out[n] += run_job(layer, n, job, block_cfg).values(scenario)
    return out


async def _alternate(sessions: dict[str, Any], quantity: str, cfg: JobConfig, rec: Any) -> dict[str, list[float]]:
    from harness.scenarios import RPC_PAYLOAD, Hung, _spawn, _stop, _timed

    names = list(sessions)
    out: dict[str, list[float]] = {n: [] for n in names}
    if quantity == "spawn":
        for n in names:
            _, child = await _spawn(sessions[n], rec, cfg, "spawn_cold", n)
            await _stop(child, rec, cfg, "spawn_cold", n)
        for i in range(cfg.warmups + cfg.values):
            for n in names if i % 2 == 0 else names[::-1]:
                t, child = await _spawn(sessions[n], rec, cfg, "spawn_warm", n)
                await _stop(child, rec, cfg, "teardown", n)
                if i >= cfg.warmups:
                    out[n].append(t)
        return out
    children = {n: (await _spawn(sessions[n], rec, cfg, "rpc_rtt", n))[1] for n in names}
    n_warm, n_values = cfg.warmups * RPC_PER_VALUE, cfg.values * RPC_PER_VALUE
    for i in range(n_warm + n_values):
        for n in names if i % 2 == 0 else names[::-1]:
            child = children[n]
            t, reply = await _timed(lambda: child.rpc(RPC_PAYLOAD), cfg.timeout,
                                    Hung("rpc_rtt", n, "rpc", cfg.timeout))
            if reply != RPC_PAYLOAD:
                raise MeasureError(f"{n}: rpc echo came back changed")
            if i >= n_warm:
                out[n].append(t)
    for n in names:
        await _stop(children[n], rec, cfg, "rpc_rtt", n)
    return out


def ratio_samples(layer: str, numerator: str, denominator: str, quantity: str,
                  cfg: JobConfig | None = None) -> list[float]:
    """Paired ratios of interleaved samples, to 4 significant digits (asv
    prints a dimensionless value in full).

    A spawn ratio is ``numerator[i] / denominator[i]``.  A single round trip
    is microseconds and noisy (CV 0.3-0.5), so an RPC ratio is taken per group
    of ``RPC_PER_VALUE`` interleaved round trips, median over median: one
    ratio per value, as one spawn sample per value.
    """
    got = interleaved(layer, [numerator, denominator], quantity, cfg)
    a, b = got[numerator], got[denominator]
    k = RPC_PER_VALUE if quantity == "rpc_rtt" else 1
    pairs = [(statistics.median(a[i:i + k]), statistics.median(b[i:i + k])) for i in range(0, min(len(a), len(b)), k)]
    return [float(f"{x / y:.4g}") for x, y in pairs if y > 0]


def asv_result(values: list[float]) -> dict[str, Any]:
    """What a ``track_*`` benchmark returns so asv keeps every sample.

    asv reads a benchmark result of the form ``{"samples": [...], "number": n}``
    exactly as it reads its own timing benchmarks' output: the median is the
    value, the samples feed its 99% interval and (``--record-samples``) the
    Mann-Whitney test of ``asv compare``.  A bare number would be one sample per
    asv process, too few for either.
    """
    clean = [float(v) for v in values if v == v]
    if not clean:
        raise MeasureError("no samples measured")
    return {"samples": clean, "number": 1}

