"""The worker: one fresh process that measures one job on one backend.

Run by the runner as ``PY -m harness.worker run SPEC OUT`` inside the target
Python's environment.  It writes its output file atomically after every
finished series, so a worker killed at its deadline still hands back what it
measured.  It always leaves through ``os._exit``: a hung sub-interpreter thread
or a wedged runtime must not keep it alive.

Module level imports only the stdlib: ``multiprocessing``'s spawn and forkserver
children re-import ``__main__`` (this module), and the floor must not pay for
trio there.
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback
from typing import Any

FORMAT = 1


def write_json_atomic(path: str, data: Any) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _find(exc: BaseException, kind: type[BaseException],
          _seen: set[int] | None = None) -> BaseException | None:
    """Find ``kind`` in ``exc`` or inside (nested) exception groups.

    ``_seen`` breaks cycles: tractor's teardown can chain a group's
    ``__context__`` back to an exception inside that group."""
    seen = set() if _seen is None else _seen
    if id(exc) in seen:
        return None
    seen.add(id(exc))
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kind, seen)
            if found is not None:
                return found
    cause = exc.__cause__ or exc.__context__
    if cause is not None and isinstance(cause, (kind, BaseExceptionGroup)):
        return _find(cause, kind, seen)
    return None


def resolve_backend(layer: str, name: str) -> Any:
    from harness.backends import layer_backends

    backends = layer_backends(layer)
    if name not in backends:
        raise KeyError(f"no {layer} backend {name!r} on this Python (have: {', '.join(backends)})")
    return backends[name]


def probe(layer: str) -> dict[str, Any]:
    """Availability of every backend of ``layer`` on this Python."""
    from harness.backends import layer_backends
    from harness.sysinfo import python_metadata

    out: dict[str, Any] = {"python": python_metadata(), "backends": {}}
    try:
        backends = layer_backends(layer)
    except Exception as exc:  # noqa: BLE001 - reported as data, e.g. tractor missing
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    for name, backend in backends.items():
        avail = backend.availability()
        out["backends"][name] = {
            "available": avail.available,
            "reason": avail.reason,
            "description": backend.describe(),
            "transports": list(backend.transports),
            "in_process": getattr(backend, "in_process", None),
        }
    return out


def run_job(spec: dict[str, Any], out_path: str) -> int:
    import trio

    from harness.backends.base import Unavailable
    from harness.scenarios import JOB_FUNCS, Hung, JobConfig, Recorder
    from harness.sysinfo import python_metadata

    out: dict[str, Any] = {
        "format": FORMAT,
        "status": "running",
        "python": python_metadata(),
        "spec": spec,
        "benchmarks": [],
    }

    def save() -> None:
        out["benchmarks"] = [s.as_json() for s in rec.series]
        write_json_atomic(out_path, out)

    rec = Recorder(on_series_done=save)
    save()
    try:
        backend = resolve_backend(spec["layer"], spec["backend"])
        avail = backend.availability()
        if not avail.available:
            out.update(status="unavailable", reason=avail.reason)
            save()
            return 0
        cfg = JobConfig(**spec["config"])
        job = JOB_FUNCS[spec["job"]]

        async def main() -> None:
            # One scope bounds opening the session, then (re-armed) leaving it:
            # a root actor, forkserver or listener can hang there too.
            guard = trio.CancelScope(deadline=trio.current_time() + cfg.timeout)
            with guard:
                async with backend.session(spec["transport"]) as session:
                    guard.deadline = math.inf
                    await job(session, cfg, rec)
                    out["status"] = "ok"
                    save()
                    guard.deadline = trio.current_time() + cfg.timeout
            if guard.cancelled_caught:
                phase = "session exit" if out["status"] == "ok" else "session open"
                out["session_exit"] = f"{phase} did not finish within {cfg.timeout:g}s"
                if out["status"] != "ok":
                    raise Hung(spec["job"], None, phase, cfg.timeout)
            else:
                out["session_exit"] = "clean"

        trio.run(main)
        save()
    except BaseException as exc:  # noqa: BLE001 - every outcome is recorded
        hung = _find(exc, Hung)
        unavailable = _find(exc, Unavailable)
        if out["status"] == "ok":
            out["session_exit"] = f"{type(exc).__name__}: {exc}"
        elif hung is not None:
            assert isinstance(hung, Hung)
            out.update(
                status="hung",
                hung={"scenario": hung.scenario, "param": hung.param, "phase": hung.phase, "timeout": hung.timeout},
                reason=str(hung),
            )
        elif unavailable is not None:
            out.update(status="unavailable", reason=str(unavailable))
        elif isinstance(exc, KeyboardInterrupt):
            out.update(status="interrupted", reason="interrupted")
        else:
            out.update(
                status="error",
                reason=f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
                traceback=traceback.format_exc()[-4000:],
            )
        rec.kill_all()
        save()
    return 0


def prime(layer: str) -> int:
    """Warm the bytecode cache: import everything a child of each backend imports."""
    import trio

    from harness.backends import layer_backends

    async def main() -> None:
        for name, backend in layer_backends(layer).items():
            if not backend.availability().available:
                continue
            with trio.move_on_after(30):
                try:
                    async with backend.session(backend.transports[0]) as session:
                        child = await session.spawn()
                        await child.stop()
                except Exception as exc:  # noqa: BLE001 - priming is best effort
                    print(f"prime: {layer}.{name}: {type(exc).__name__}: {exc}", file=sys.stderr)

    trio.run(main)
    return 0


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else ""
    if cmd == "run" and len(argv) == 3:
        with open(argv[1], encoding="utf-8") as f:
            spec = json.load(f)
        return run_job(spec, argv[2])
    if cmd == "probe":
        print(json.dumps(probe(argv[1] if len(argv) > 1 else "floor")))
        return 0
    if cmd == "prime":
        return prime(argv[1] if len(argv) > 1 else "floor")
    print("usage: python -m harness.worker run SPEC OUT | probe [LAYER] | prime [LAYER]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
