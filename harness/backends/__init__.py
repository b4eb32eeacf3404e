"""Backend registry.  Floor backends are listed here; the tractor layer
discovers its own from the installed tractor (:mod:`harness.tractor_layer`)."""

from __future__ import annotations

from harness.backends.base import Availability, Backend, Child, Session


def floor_backends() -> dict[str, Backend]:
    from harness.backends.floor_exec import ExecBackend
    from harness.backends.floor_fork import ForkBackend
    from harness.backends.floor_mp import MpForkserverBackend, MpSpawnBackend
    from harness.backends.floor_subint import SubintBackend, SubintPrivateBackend

    backends: list[Backend] = [
        ExecBackend(),
        MpSpawnBackend(),
        MpForkserverBackend(),
        ForkBackend(),
        SubintBackend(),
        SubintPrivateBackend(),
    ]
    return {b.name: b for b in backends}


__all__ = ["Availability", "Backend", "Child", "Session", "floor_backends", "layer_backends"]


LAYERS: tuple[str, ...] = ("floor", "tractor")


def layer_backends(layer: str) -> dict[str, Backend]:
    """Backends of ``layer``; the tractor layer asks the installed tractor."""
    if layer == "floor":
        return floor_backends()
    if layer == "tractor":
        from harness.tractor_layer import tractor_backends

        return tractor_backends()
    raise KeyError(f"unknown layer {layer!r} (known: {', '.join(LAYERS)})")
