"""Floor benchmarks: the raw mechanisms, on every Python, with or without tractor.

Parametrized by every floor backend; one that cannot run on this Python (subint
before 3.14) is skipped by asv, not failed.
"""

from __future__ import annotations

from harness.backends import floor_backends

from benchmarks._suite import _Fanout, _Memory, _Rpc, _Spawn, _Stream, _SubintRatios

LAYER = "floor"
BACKENDS = list(floor_backends())


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
