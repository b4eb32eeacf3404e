"""One tractor spawn method as a harness :class:`Backend`, through tractor's public API.

A worker's session is one root actor (``open_root_actor(start_method=KEY,
enable_transports=[T], registry_addrs=[unique])``).  Each child lives in its own
actor nursery, held open by a task in the session's trio nursery:

- ``spawn`` = ``an.start_actor(...)`` returned **and** the first
  ``portal.run(child.ready)`` answered (the child finishes booting during its
  first RPC); the ``start_actor`` part alone is kept in ``Child.phases``;
- ``stop`` = ``portal.cancel_actor()`` (returns on the child's ack) **and** the
  actor nursery's exit (tractor reaps there), then a check that the child is
  really gone: its pid no longer runs, or for an in-process sub-interpreter
  child, its interpreter id is no longer listed by ``concurrent.interpreters``.

Why one actor nursery per child: ``cancel_actor`` does not reap and a shared
nursery reaps only when it closes, so a per-child nursery is the only public
way to make ``stop`` end when the child is gone; and scenarios stop children
from other tasks than the one that spawned them (fanout), so the nursery must
live in a task of its own.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from harness.backends.base import Availability, Backend, Child, Session, Unavailable, kill_pid
from harness.tractor_layer import child as child_mod
from harness.tractor_layer.pairing import IN_PROCESS
from harness.tractor_layer.registry import check_key, gate_message, spawn_module

#: How long ``stop`` polls for an in-process child's interpreter to disappear
#: before it gives up (tractor abandons a wedged subint after its own timeout).
_GONE_POLL = 0.001


def registry_addr(transport: str) -> tuple[str, Any]:
    """A registry address no other worker uses: a free TCP port, or a socket
    file named after this process under ``$XDG_RUNTIME_DIR/tractor`` (the runner
    gives every run its own ``XDG_RUNTIME_DIR``)."""
    if transport == "tcp":
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return ("127.0.0.1", s.getsockname()[1])
    if transport == "uds":
        base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / "tractor"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        return (str(base), f"harness-registry@{os.getpid()}.sock")
    raise Unavailable(f"tractor layer: transport {transport!r} is not tcp or uds")


def _current_interpreter_ids() -> set[int] | None:
    try:
        import concurrent.interpreters as interpreters  # type: ignore[import-not-found]
    except ImportError:
        return None
    return {i.id for i in interpreters.list_all()}


async def wait_pid_gone(pid: int) -> None:
    """Return once ``pid`` has exited (it may be another process's child, as
    under a forkserver, so this watches a pidfd and never reaps)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        await trio.lowlevel.wait_readable(fd)
    finally:
        os.close(fd)


class TractorChild(Child):
    def __init__(self, session: "TractorSession", name: str) -> None:
        self._session = session
        self.name = name
        self.portal: Any = None
        self.interp_id: int | None = None
        #: sub-timings of this child's spawn, seconds (``start_actor``).
        self.phases: dict[str, float] = {}
        self._release = trio.Event()
        self._gone = trio.Event()
        self._error: BaseException | None = None

    async def hold(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The child's lifetime: its own actor nursery, open until ``stop``."""
        import tractor

        try:
            async with tractor.open_nursery() as an:
                t0 = time.perf_counter()
                self.portal = await an.start_actor(
                    self.name,
                    enable_modules=[child_mod.__name__],
                    enable_transports=[self._session.transport],
                )
                self.phases["start_actor"] = time.perf_counter() - t0
                task_status.started()
                await self._release.wait()
                await self.portal.cancel_actor()
        except Exception as exc:  # noqa: BLE001 - handed to stop(), which raises it
            if self.portal is None:
                raise  # before started(): nursery.start re-raises it in spawn
            self._error = exc
        finally:
            self._gone.set()

    async def rpc(self, payload: bytes) -> bytes:
        return await self.portal.run(child_mod.echo, payload=payload)

    async def stream(self, count: int, size: int) -> int:
        total = 0
        async with self.portal.open_context(child_mod.stream_bytes, count=count, size=size) as (ctx, _first):
            async with ctx.open_stream() as s:
                async for msg in s:
                    total += len(msg)
        return total

    async def stop(self) -> None:
        self._release.set()
        await self._gone.wait()
        if self._error is not None:
            raise self._error
        if self.pid is not None:
            await wait_pid_gone(self.pid)
        elif self.interp_id is not None:
            while True:
                ids = _current_interpreter_ids()
                if ids is None or self.interp_id not in ids:
                    break
                await trio.sleep(_GONE_POLL)
        self._session.children.discard(self)

    def kill(self) -> None:
        kill_pid(self.pid)


class TractorSession(Session):
    def __init__(self, key: str, transport: str, nursery: trio.Nursery) -> None:
        self.key = key
        self.transport = transport
        self.in_process = key in IN_PROCESS
        self.children: set[TractorChild] = set()
        self._nursery = nursery
        self._count = 0

    async def spawn(self) -> Child:
        self._count += 1
        child = TractorChild(self, f"c{self._count}")
        try:
            await self._nursery.start(child.hold)
            info = await child.portal.run(child_mod.ready, canary_key=f"tractor.{self.key}")
        except BaseException as exc:
            reason = gate_message(exc)
            if reason is not None:
                raise Unavailable(reason) from exc
            raise
        self.children.add(child)
        pid, interp_id = int(info["pid"]), info.get("interp")
        child.interp_id = interp_id
        child.pid = None if pid == os.getpid() else pid
        if (child.pid is None) != self.in_process:
            where = "in" if child.pid is None else "outside"
            raise RuntimeError(f"tractor {self.key!r} child runs {where} the parent process; "
                               "update harness.tractor_layer.pairing.IN_PROCESS")
        return child

    def kill_all(self) -> None:
        for child in list(self.children):
            child.kill()


class TractorBackend(Backend):
    """tractor spawn method, driven through open_root_actor / start_actor / Portal."""

    layer = "tractor"
    transports = ("tcp", "uds")

    def __init__(self, key: str) -> None:
        self.name = key
        self.in_process = key in IN_PROCESS

    def describe(self) -> str:
        return f"tractor start_method={self.name!r}: start_actor + first portal.run, Portal RPC and context streams"

    def availability(self) -> Availability:
        return check_key(spawn_module(), self.name)

    @asynccontextmanager
    async def session(self, transport: str) -> AsyncIterator[Session]:
        import tractor

        addr = registry_addr(transport)
        async with tractor.open_root_actor(
            start_method=self.name,
            enable_transports=[transport],
            registry_addrs=[addr],
        ):
            async with trio.open_nursery() as nursery:
                session = TractorSession(self.name, transport, nursery)
                try:
                    yield session
                except BaseException:
                    # A hung or failed job: kill what is left so tractor's
                    # (shielded) teardown finds dead children, not wedged ones.
                    session.kill_all()
                    nursery.cancel_scope.cancel()
                    raise
                nursery.cancel_scope.cancel()
