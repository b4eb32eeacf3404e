"""Which spawn backends the installed tractor has, and which of them run here.

Nothing here names a backend: the keys come from tractor's own registry, the
``_methods`` dict and the ``SpawnMethodKey`` literal of its spawn module (which
moved from ``tractor._spawn`` to ``tractor.spawn._spawn``).  Whether a key runs
is decided by tractor's own gates: ``try_set_start_method`` raises for keys
this Python cannot have (the subint family below 3.14), and some keys raise
``NotImplementedError`` only when a child is started.  Both are recorded as
*unavailable* with tractor's message, never as failures.
"""

from __future__ import annotations

import importlib
import typing
from types import ModuleType
from typing import Any

from harness.backends.base import Availability

#: Where tractor keeps its spawn registry, newest layout first.
SPAWN_MODULES: tuple[str, ...] = ("tractor.spawn._spawn", "tractor._spawn")

#: RuntimeError messages that are tractor's "not on this platform/Python"
#: gates rather than bugs (lower-case substrings).
RUNTIME_GATES: tuple[str, ...] = ("requires python",)


def spawn_module() -> ModuleType:
    """Import tractor's spawn registry module (ImportError if there is none)."""
    errors: list[str] = []
    for name in SPAWN_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
            continue
        if spawn_keys(module):
            return module
        errors.append(f"{name}: no _methods / SpawnMethodKey")
    raise ImportError("tractor spawn registry not found (" + "; ".join(errors) + ")")


def spawn_keys(module: ModuleType) -> list[str]:
    """Spawn-method keys of ``module``: ``_methods`` order, then any key only
    the ``SpawnMethodKey`` literal names (a reserved key is still reported)."""
    keys: list[str] = []
    methods = getattr(module, "_methods", None)
    if isinstance(methods, dict):
        keys += [k for k in methods if isinstance(k, str)]
    literal = getattr(module, "SpawnMethodKey", None)
    if literal is not None:
        keys += [k for k in typing.get_args(literal) if isinstance(k, str) and k not in keys]
    return keys


def first_line(text: str, limit: int = 400) -> str:
    """tractor's gate messages run to many lines (analysis, links); the first
    line is the sentence that says why, so that is what a result records."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    one = " ".join(line.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def gate_message(exc: BaseException) -> str | None:
    """If ``exc`` (or anything grouped or chained in it) is one of tractor's
    "not available here" gates, the reason to record; otherwise None."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, NotImplementedError) or (
            type(e) is RuntimeError and any(g in str(e).lower() for g in RUNTIME_GATES)
        ):
            return f"tractor: {type(e).__name__}: {first_line(str(e))}"
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        for linked in (e.__cause__, e.__context__):
            if linked is not None:
                stack.append(linked)
    return None


def check_key(module: ModuleType, key: str) -> Availability:
    """Ask tractor's own ``try_set_start_method`` whether ``key`` runs here.

    It sets module globals (the start method), which is harmless in the probe
    and in a worker that is about to use that key anyway.
    """
    setter: Any = getattr(module, "try_set_start_method", None)
    if setter is None:
        return Availability.ok()
    try:
        setter(key)
    except (RuntimeError, NotImplementedError, ValueError) as exc:
        if isinstance(exc, ValueError):
            return Availability.no(f"tractor: ValueError: {first_line(str(exc))}")
        reason = gate_message(exc)
        if reason is None:
            raise
        return Availability.no(reason)
    return Availability.ok()
