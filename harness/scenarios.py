"""What is measured, the same way for every backend (floor and tractor).

A scenario drives one backend session inside a worker process and hands every
sample to a :class:`Recorder`.  Warm-ups are recorded apart from values; a
sample that overruns its timeout raises :class:`Hung`, which ends the scenario
(the worker records it and exits; the runner moves on).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import trio

from harness.backends.base import Child, Session
from harness.procmem import read_memory

T = TypeVar("T")

#: CLI scenario name -> the worker job that measures it.  ``spawn`` also yields
#: ``spawn_cold`` and ``teardown``: each warm spawn is followed by a timed stop.
SCENARIOS: dict[str, str] = {
    "spawn": "spawn",
    "teardown": "spawn",
    "rpc_rtt": "rpc_rtt",
    "stream": "stream",
    "fanout": "fanout",
    "memory": "memory",
}
JOBS: tuple[str, ...] = ("spawn", "rpc_rtt", "stream", "fanout", "memory")

RPC_PAYLOAD = b"x" * 16
STREAM_BATCH_BYTES = 8 * 1024 * 1024


def stream_count(size: int) -> int:
    """Messages per stream sample: ~8 MiB per batch, between 8 and 2000 messages."""
    return max(8, min(2000, STREAM_BATCH_BYTES // max(1, size)))


@dataclass
class JobConfig:
    warmups: int = 2
    values: int = 10
    timeout: float = 10.0
    stream_sizes: list[int] = field(default_factory=lambda: [64, 4096, 1024 * 1024])
    fanout: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32])
    memory_children: int = 4


class Hung(Exception):
    def __init__(self, scenario: str, param: Any, phase: str, timeout: float) -> None:
        where = scenario if param is None else f"{scenario}[{param}]"
        super().__init__(f"{where}: {phase} exceeded {timeout:g}s")
        self.scenario = scenario
        self.param = param
        self.phase = phase
        self.timeout = timeout


@dataclass
class Series:
    scenario: str
    param: Any
    unit: str
    values: list[float] = field(default_factory=list)
    warmups: list[float] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "param": self.param,
            "unit": self.unit,
            "values": self.values,
            "warmups": self.warmups,
            "metadata": self.metadata,
        }


class Recorder:
    """Collects series and tracks live children so a hang can kill them."""

    def __init__(self, on_series_done: Callable[[], None] = lambda: None) -> None:
        self.series: list[Series] = []
        self.live: set[Child] = set()
        self._on_done = on_series_done

    def new(self, scenario: str, param: Any = None, unit: str = "second", **metadata: Any) -> Series:
        s = Series(scenario, param, unit, metadata=dict(metadata))
        self.series.append(s)
        return s

    def done(self) -> None:
        self._on_done()

    def kill_all(self) -> None:
        for child in list(self.live):
            child.kill()


async def _timed(
    coro_fn: Callable[[], Awaitable[T]], timeout: float, hung: Hung
) -> tuple[float, T]:
    t0 = time.perf_counter()
    with trio.move_on_after(timeout) as scope:
        result = await coro_fn()
        return time.perf_counter() - t0, result
    assert scope.cancelled_caught
    raise hung


async def _spawn(session: Session, rec: Recorder, cfg: JobConfig, scenario: str, param: Any = None) -> tuple[float, Child]:
    elapsed, child = await _timed(session.spawn, cfg.timeout, Hung(scenario, param, "spawn", cfg.timeout))
    rec.live.add(child)
    return elapsed, child


async def _stop(child: Child, rec: Recorder, cfg: JobConfig, scenario: str, param: Any = None) -> float:
    elapsed, _ = await _timed(child.stop, cfg.timeout, Hung(scenario, param, "stop", cfg.timeout))
    rec.live.discard(child)
    return elapsed


async def job_spawn(session: Session, cfg: JobConfig, rec: Recorder) -> None:
    """spawn_cold (the worker's first spawn), spawn_warm and teardown."""
    cold = rec.new("spawn_cold")
    warm = rec.new("spawn_warm")
    down = rec.new("teardown")
    t, child = await _spawn(session, rec, cfg, "spawn_cold")
    cold.values.append(t)
    down.warmups.append(await _stop(child, rec, cfg, "spawn_cold"))
    phases: dict[str, Series] = {}
    for i in range(cfg.warmups + cfg.values):
        t, child = await _spawn(session, rec, cfg, "spawn_warm")
        d = await _stop(child, rec, cfg, "teardown")
        warming = i < cfg.warmups
        (warm.warmups if warming else warm.values).append(t)
        (down.warmups if warming else down.values).append(d)
        for phase, seconds in child.phases.items():
            if phase not in phases:
                phases[phase] = rec.new(phase)
            (phases[phase].warmups if warming else phases[phase].values).append(seconds)
    rec.done()


async def job_rpc_rtt(session: Session, cfg: JobConfig, rec: Recorder) -> None:
    rtt = rec.new("rpc_rtt", payload_bytes=len(RPC_PAYLOAD))
    _, child = await _spawn(session, rec, cfg, "rpc_rtt")
    hung = Hung("rpc_rtt", None, "rpc", cfg.timeout)
    # RTT samples are cheap and noisy (CV 0.3-0.5): take 5x the spawn count.
    n_warm, n_values = cfg.warmups * 5, cfg.values * 5
    for i in range(n_warm + n_values):
        t, reply = await _timed(lambda: child.rpc(RPC_PAYLOAD), cfg.timeout, hung)
        if reply != RPC_PAYLOAD:
            raise RuntimeError("rpc echo came back changed")
        (rtt.warmups if i < n_warm else rtt.values).append(t)
    await _stop(child, rec, cfg, "rpc_rtt")
    rec.done()


async def job_stream(session: Session, cfg: JobConfig, rec: Recorder) -> None:
    """Per payload size: seconds per message (msgs/s and MB/s are derived)."""
    _, child = await _spawn(session, rec, cfg, "stream")
    for size in cfg.stream_sizes:
        count = stream_count(size)
        series = rec.new("stream", size, message_bytes=size, messages_per_sample=count)
        hung = Hung("stream", size, "stream", cfg.timeout)
        for i in range(cfg.warmups + cfg.values):
            t, got = await _timed(lambda: child.stream(count, size), cfg.timeout, hung)
            if got != count * size:
                raise RuntimeError(f"stream delivered {got} bytes, expected {count * size}")
            (series.warmups if i < cfg.warmups else series.values).append(t / count)
        rec.done()
    await _stop(child, rec, cfg, "stream")


async def job_fanout(session: Session, cfg: JobConfig, rec: Recorder) -> None:
    """N concurrent spawns: time until all N are ready.  Larger N are skipped after a hang."""
    _, child = await _spawn(session, rec, cfg, "fanout")  # warms the session up
    await _stop(child, rec, cfg, "fanout")
    for n in cfg.fanout:
        series = rec.new("fanout", n, concurrency=n)
        timeout = cfg.timeout * (1 + n / 4)
        reps = max(1, cfg.values // 10)  # each sample already holds N spawns
        for _ in range(reps):
            children: list[Child] = []

            async def one() -> None:
                c = await session.spawn()
                rec.live.add(c)
                children.append(c)

            async def all_ready() -> None:
                async with trio.open_nursery() as nursery:
                    for _ in range(n):
                        nursery.start_soon(one)

            t, _ = await _timed(all_ready, timeout, Hung("fanout", n, "spawn", timeout))
            series.values.append(t)

            async def stop_all() -> None:
                async with trio.open_nursery() as nursery:
                    for c in children:
                        nursery.start_soon(c.stop)

            await _timed(stop_all, timeout, Hung("fanout", n, "stop", timeout))
            rec.live.difference_update(children)
        rec.done()


async def job_memory(session: Session, cfg: JobConfig, rec: Recorder) -> None:
    """Per-child USS and RSS; for in-process children, the parent's growth per child."""
    k = cfg.memory_children
    method = "parent growth / child" if session.in_process else "child /proc smaps_rollup"
    uss = rec.new("memory_uss", unit="byte", memory_method=method)
    rss = rec.new("memory_rss", unit="byte", memory_method=method)
    before = read_memory()
    children: list[Child] = []
    for _ in range(k):
        _, child = await _spawn(session, rec, cfg, "memory")
        await _timed(lambda: child.rpc(RPC_PAYLOAD), cfg.timeout, Hung("memory", None, "rpc", cfg.timeout))
        children.append(child)
    if session.in_process:
        after = read_memory()
        uss.values.append(max(1.0, (after["uss"] - before["uss"]) / k))
        rss.values.append(max(1.0, (after["rss"] - before["rss"]) / k))
    else:
        for child in children:
            assert child.pid is not None
            mem = read_memory(child.pid)
            uss.values.append(float(mem["uss"]))
            rss.values.append(float(mem["rss"]))
    for child in children:
        await _stop(child, rec, cfg, "memory")
    rec.done()


JOB_FUNCS: dict[str, Callable[[Session, JobConfig, Recorder], Awaitable[None]]] = {
    "spawn": job_spawn,
    "rpc_rtt": job_rpc_rtt,
    "stream": job_stream,
    "fanout": job_fanout,
    "memory": job_memory,
}
