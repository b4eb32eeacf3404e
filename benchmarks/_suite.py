"""Benchmark classes shared by the floor and tractor modules.

Every ``track_*`` method runs one harness job in this asv process
(:func:`harness.measure.samples`) and returns all of its measured values, so
asv's number is the median of exactly what ``python -m harness run`` measures
(spawn to ready, teardown, RPC round trip, per-message stream time, fan-out,
memory), and asv's statistics see every sample.  A backend that cannot run on
this Python or this tractor makes ``setup`` raise ``NotImplementedError``,
which asv records as skipped (n/a), never as a failure.

Names start with ``_`` so asv's discovery does not collect these bases; the
modules subclass them with a ``layer`` and the backend ``params``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

try:  # asv's "skipped" from inside a benchmark body (setup may use NotImplementedError)
    from asv_runner.benchmarks.mark import SkipNotImplemented
except ImportError:  # the suite imported outside asv (tests, tools)
    SkipNotImplemented = NotImplementedError  # type: ignore[misc,assignment]

from harness import measure
from harness.backends.base import Unavailable

CFG = measure.ASV_CONFIG

#: Spawn methods the subint ratios divide by.
RATIO_OTHERS = ["trio", "mp_forkserver", "mp_spawn"]
#: Quantities of the subint ratios: warm spawn-to-ready and RPC round trip.
RATIO_QUANTITIES = ["spawn", "rpc_rtt"]


def track(layer: str, measure_values: Callable[[], list[float]]) -> dict[str, Any]:
    """Measure and return every sample for asv; a backend that turns out not
    to run here only when it spawns (tractor gates some methods there) is an
    asv skip, not a failure."""
    try:
        return measure.asv_result(measure_values())
    except Unavailable as exc:
        raise SkipNotImplemented(f"{layer}: {exc}") from None


def skip_unless_runs(layer: str, *names: str) -> None:
    """asv's skip: NotImplementedError from setup marks the benchmark n/a."""
    for name in names:
        try:
            measure.require(layer, name)
        except Unavailable as exc:
            raise NotImplementedError(f"{layer}.{name}: {exc}") from None


class _Base:
    layer = "floor"
    unit = "seconds"
    #: Two fresh asv processes per benchmark, interleaved with the others'
    #: (the runner's rounds); each returns ``CFG.values`` samples.
    rounds = 2
    timeout = 120.0

    def setup(self, backend: str, *_: Any) -> None:
        skip_unless_runs(self.layer, backend)


class _Spawn(_Base):
    """Spawn to ready (cold: the worker's first; warm: the rest) and teardown."""

    param_names = ["backend"]

    def track_spawn_warm(self, backend: str) -> dict[str, Any]:
        return track(self.layer, lambda: measure.samples(self.layer, backend, "spawn_warm", cfg=CFG))

    def track_spawn_cold(self, backend: str) -> dict[str, Any]:
        return track(self.layer, lambda: measure.samples(self.layer, backend, "spawn_cold", cfg=CFG))

    def track_teardown(self, backend: str) -> dict[str, Any]:
        return track(self.layer, lambda: measure.samples(self.layer, backend, "teardown", cfg=CFG))


class _Rpc(_Base):
    """One request/reply round trip to a ready child (16-byte payload)."""

    param_names = ["backend"]

    def track_rpc_rtt(self, backend: str) -> dict[str, Any]:
        return track(self.layer, lambda: measure.samples(self.layer, backend, "rpc_rtt", cfg=CFG))


class _Stream(_Base):
    """Seconds per streamed message of ``size`` bytes (msgs/s = 1/value)."""

    param_names = ["backend", "size"]

    def track_stream(self, backend: str, size: int) -> dict[str, Any]:
        cfg = replace(CFG, stream_sizes=[size])
        return track(self.layer, lambda: measure.samples(self.layer, backend, "stream", size, cfg=cfg))


class _Fanout(_Base):
    """Time until ``n`` concurrently spawned children are all ready."""

    param_names = ["backend", "n"]
    timeout = 300.0

    def track_fanout(self, backend: str, n: int) -> dict[str, Any]:
        cfg = replace(CFG, fanout=[n])
        return track(self.layer, lambda: measure.samples(self.layer, backend, "fanout", n, cfg=cfg))


class _Memory(_Base):
    """Unique set size per child (in-process children: the parent's growth)."""

    param_names = ["backend"]
    unit = "bytes"

    def track_memory_uss(self, backend: str) -> dict[str, Any]:
        return track(self.layer, lambda: measure.samples(self.layer, backend, "memory_uss", cfg=CFG))


class _SubintRatios(_Base):
    """subint / other, paired sample by sample, interleaved in one process.

    Below 1: subint is faster.  Machine drift hits both halves of a pair, so
    this moves only when one mechanism's cost moves relative to the other.
    """

    params = [RATIO_QUANTITIES, RATIO_OTHERS]
    param_names = ["quantity", "other"]
    unit = "ratio"

    def setup(self, quantity: str, other: str) -> None:  # type: ignore[override]
        skip_unless_runs(self.layer, "subint", other)

    def track_subint_ratio(self, quantity: str, other: str) -> dict[str, Any]:
        return track(self.layer, lambda: measure.ratio_samples(self.layer, "subint", other, quantity, cfg=CFG))
