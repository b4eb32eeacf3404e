"""Shared parent-side logic for floor backends whose children are OS processes.

Each such backend only says how to *start* a process (:meth:`SocketSession._start`)
and how to wait for it to be gone; connecting back, ready, RPC, streaming and
stop are the same for all of them, which is what makes their numbers comparable.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import trio

from harness import wire
from harness.backends.base import Backend, Child, Session, kill_pid
from harness.backends.rendezvous import FramedStream, Rendezvous

#: How long ``stop`` waits for a polite exit before it kills the child.
_STOP_GRACE = 10.0


class ProcessHandle:
    """What a backend's ``_start`` returns: how to wait for and kill the child.
    ``pid`` is None for a child inside this process (a sub-interpreter)."""

    def __init__(self, pid: int | None, wait: Callable[[], Awaitable[None]]) -> None:
        self.pid = pid
        self.wait = wait

    def kill(self) -> None:
        kill_pid(self.pid)


class SocketChild(Child):
    def __init__(self, handle: ProcessHandle, framed: FramedStream) -> None:
        self.pid = handle.pid
        self._handle = handle
        self._framed = framed

    async def rpc(self, payload: bytes) -> bytes:
        await self._framed.send(wire.ECHO, payload)
        op, data = await self._framed.recv()
        if op != wire.ECHO:
            raise RuntimeError(f"child answered opcode {op}, expected ECHO")
        return data

    async def stream(self, count: int, size: int) -> int:
        await self._framed.send(wire.STREAM, wire.STREAM_REQUEST.pack(count, size))
        return await self._framed.skip_frames_until(wire.END)

    async def stop(self) -> None:
        try:
            await self._framed.send(wire.STOP)
            await self._framed.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        with trio.move_on_after(_STOP_GRACE) as scope:
            await self._handle.wait()
        if scope.cancelled_caught:
            self.kill()
            await self._handle.wait()

    def kill(self) -> None:
        self._handle.kill()


class SocketSession(Session):
    def __init__(self, rendezvous: Rendezvous, backend: str) -> None:
        self.rendezvous = rendezvous
        self.backend = backend

    @abc.abstractmethod
    async def _start(self, token: str) -> ProcessHandle:
        """Start a child process that runs :func:`harness.childside.serve_socket`."""

    def child_args(self, token: str) -> tuple[str, str, str, str]:
        return (self.rendezvous.family, self.rendezvous.address, token, self.backend)

    async def spawn(self) -> Child:
        token = self.rendezvous.new_token()
        ready = self.rendezvous.expect(token)
        handle: ProcessHandle | None = None
        try:
            handle = await self._start(token)
            _pid, framed = await ready.receive()
        except BaseException:
            self.rendezvous.forget(token)
            if handle is not None:
                handle.kill()
                with trio.CancelScope(shield=True), trio.move_on_after(5):
                    await handle.wait()
            raise
        return SocketChild(handle, framed)


@asynccontextmanager
async def open_rendezvous(transport: str) -> AsyncIterator[Rendezvous]:
    async with trio.open_nursery() as nursery:
        rendezvous = Rendezvous(transport, nursery)
        await rendezvous.start()
        try:
            yield rendezvous
        finally:
            rendezvous.close()
            nursery.cancel_scope.cancel()


class SocketBackend(Backend):
    """A backend whose children dial back to a rendezvous: its session is the
    listener plus ``session_class`` (override :meth:`make_session` for extra
    arguments)."""

    session_class: type[SocketSession]

    def make_session(self, rendezvous: Rendezvous) -> SocketSession:
        return self.session_class(rendezvous, self.name)

    @asynccontextmanager
    async def session(self, transport: str) -> AsyncIterator[Session]:
        async with open_rendezvous(transport) as rendezvous:
            yield self.make_session(rendezvous)
