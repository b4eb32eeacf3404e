"""tractor benchmarks: tractor's own spawn backends, when tractor is importable.

The parameter list is what the installed tractor's spawn registry holds (asv
keys results by parameter value, so a method a branch adds or drops only adds
or ends its own series).  Without a working tractor the single placeholder
parameter makes every benchmark an asv skip.
"""

from __future__ import annotations

from harness import measure

from benchmarks._suite import _Fanout, _Memory, _Rpc, _Spawn, _Stream, _SubintRatios

LAYER = "tractor"
NO_TRACTOR = "no-tractor"


def _backends() -> list[str]:
    try:
        found = list(measure.backends(LAYER))
    except Exception:  # noqa: BLE001 - no (working) tractor: its benchmarks skip
        found = []
    return found or [NO_TRACTOR]


BACKENDS = _backends()


class Spawn(_Spawn):
    layer = LAYER
    params = [BACKENDS]


class Rpc(_Rpc):
    layer = LAYER
    params = [BACKENDS]


class Stream(_Stream):
    layer = LAYER
    params = [BACKENDS, [64, 4096, 1024 * 1024]]


class Fanout(_Fanout):
    layer = LAYER
    params = [BACKENDS, [1, 4, 16]]


class Memory(_Memory):
    layer = LAYER
    params = [BACKENDS]


class SubintRatios(_SubintRatios):
    layer = LAYER
