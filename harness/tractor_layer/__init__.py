"""The tractor layer: tractor's own spawn backends, measured like the floors.

Kept import-free at module level: every tractor child imports
``harness.tractor_layer.child`` (and so this package) and must not pay for more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.backends.base import Backend


def tractor_backends() -> "dict[str, Backend]":
    """One backend per key of the installed tractor's spawn registry.

    Raises ImportError when tractor (or its registry) cannot be imported; the
    probe reports that as the layer being unavailable.
    """
    from harness.tractor_layer.backend import TractorBackend
    from harness.tractor_layer.registry import spawn_keys, spawn_module

    return {key: TractorBackend(key) for key in spawn_keys(spawn_module())}
