"""The canary slowdown knob: a documented, off-by-default delay in child start-up.

``SPAWN_HARNESS_CANARY="subint:20ms,mp_spawn:5ms"`` makes every child of the
named backends sleep that long before it reports ready; ``backend:hang`` makes it
never report ready.  It exists to prove that the pipeline (asv, compare,
sensitivity) catches a slowdown of known size, and to test hang handling.

Stdlib only: it runs inside spawned children and sub-interpreters.
"""

from __future__ import annotations

import os
import time

ENV_VAR = "SPAWN_HARNESS_CANARY"
HANG = float("inf")


def parse_delay(text: str) -> float:
    """``"20ms"``, ``"0.02"``, ``"0.02s"``, ``"hang"`` -> seconds (inf for hang)."""
    text = text.strip().lower()
    if text == "hang":
        return HANG
    if text.endswith("ms"):
        value = float(text[:-2]) / 1000.0
    elif text.endswith("us"):
        value = float(text[:-2]) / 1e6
    elif text.endswith("s"):
        value = float(text[:-1])
    else:
        value = float(text)
    if value < 0 or value != value:
        raise ValueError(f"canary delay must be >= 0, got {text!r}")
    return value


def parse(spec: str) -> dict[str, float]:
    """Parse the knob's value into ``{backend: delay_seconds}``."""
    delays: dict[str, float] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        backend, sep, delay = item.rpartition(":")
        if not sep or not backend:
            raise ValueError(f"canary entry {item!r} is not BACKEND:DELAY")
        delays[backend.strip()] = parse_delay(delay)
    return delays


def delay_for(backend: str, environ: dict[str, str] | None = None) -> float:
    spec = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if not spec:
        return 0.0
    return parse(spec).get(backend, 0.0)


def apply(backend: str) -> None:
    """Called by a child before it reports ready."""
    delay = delay_for(backend)
    if delay == HANG:
        while True:
            time.sleep(3600)
    elif delay > 0:
        time.sleep(delay)
