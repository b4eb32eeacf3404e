"""tractor benchmarks: tractor's own spawn backends, when tractor is importable.

The parameter list is fixed (the spawn methods tractor's branches have had) so
that asv's history keeps one series per method across commits and branches; a
method the installed tractor lacks, or a missing tractor, is an asv skip.
Methods a newer tractor adds are appended.
"""

from __future__ import annotations

from harness import measure

from benchmarks._suite import _Fanout, _Memory, _Rpc, _Spawn, _Stream, _SubintRatios

LAYER = "tractor"
#: tractor's ``SpawnMethodKey`` values across main and the subint branches.
KNOWN = ["trio", "mp_spawn", "mp_forkserver", "subint", "subint_fork", "subint_forkserver"]


def _backends() -> list[str]:
    try:
        found = list(measure.backends(LAYER))
    except Exception:  # noqa: BLE001 - no (working) tractor: its benchmarks skip
        found = []
    return KNOWN + [name for name in found if name not in KNOWN]


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
