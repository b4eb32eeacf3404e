"""``subint`` floor: a bare PEP 734 sub-interpreter on its own thread.

``subint_private`` does the same through 3.13's private ``_interpreters``
module (sockets only): a separate name, never passed off as ``subint``.

Over ``queue`` (the default) the child runs :func:`harness.childside.serve_queue`
on two ``concurrent.interpreters`` queues; over ``tcp``/``uds`` it runs the same
socket loop as the process floors, dialling back to the parent's rendezvous as
tractor's subint backend does over its IPC transports.  Needs
``concurrent.interpreters`` (Python 3.14+): elsewhere the backend is
unavailable with that reason, the same gate tractor applies.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from harness import childside, wire
from harness.backends.base import Availability, Child, Session
from harness.backends.socket_child import ProcessHandle, SocketBackend, SocketSession

REQUIRES = "requires Python 3.14+ (concurrent.interpreters, PEP 734)"

_PRELUDE = """\
import sys
for _p in reversed(_harness_paths.split("\\0")):
    if _p and _p not in sys.path:
        sys.path.insert(0, _p)
from harness import childside
"""
_QUEUE_CODE = _PRELUDE + "childside.serve_queue(q_in, q_out, _harness_backend)\n"
_SOCKET_CODE = _PRELUDE + "childside.serve_socket(_family, _address, _token, _harness_backend)\n"

#: How long ``stop`` waits for the interpreter's thread before giving up on it.
_STOP_GRACE = 10.0


def _interpreters() -> Any:
    import concurrent.interpreters as interpreters  # type: ignore[import-not-found]

    return interpreters


class Interp:
    """A sub-interpreter running ``code`` on a daemon thread (public PEP 734 API)."""

    def __init__(self, code: str, backend: str, **names: Any) -> None:
        self._create(_harness_paths="\0".join(p for p in sys.path if p), _harness_backend=backend, **names)
        self.thread = threading.Thread(target=self._exec, args=(code,), daemon=True)
        self.thread.start()

    def _create(self, **names: Any) -> None:
        self.interp = _interpreters().create()
        self.interp.prepare_main(**names)

    def _exec(self, code: str) -> None:
        self.interp.exec(code)

    def _close(self) -> None:
        self.interp.close()

    def join_and_close(self) -> None:
        self.thread.join(_STOP_GRACE)
        if self.thread.is_alive():
            raise TimeoutError("sub-interpreter did not return after STOP")
        self._close()

    async def wait(self) -> None:
        await trio.to_thread.run_sync(self.join_and_close, abandon_on_cancel=True)


class PrivateInterp(Interp):
    """The same through CPython 3.13's private ``_interpreters`` module."""

    def _create(self, **names: Any) -> None:
        import _interpreters  # type: ignore[import-not-found]

        self._api = _interpreters
        self.id = _interpreters.create()  # "isolated" config: own GIL, like the public API
        _interpreters.set___main___attrs(self.id, names)

    def _exec(self, code: str) -> None:
        self._api.exec(self.id, code)

    def _close(self) -> None:
        self._api.destroy(self.id)


class SubintQueueChild(Child):
    pid = None

    def __init__(self, interp: Interp, q_in: Any, q_out: Any) -> None:
        self._interp = interp
        self._q_in = q_in
        self._get = childside.queue_getter(q_out)

    async def rpc(self, payload: bytes) -> bytes:
        self._q_in.put(bytes([wire.ECHO]) + payload)
        reply = await trio.to_thread.run_sync(self._get, abandon_on_cancel=True)
        return reply[1:]

    async def stream(self, count: int, size: int) -> int:
        self._q_in.put(bytes([wire.STREAM]) + wire.STREAM_REQUEST.pack(count, size))

        def drain() -> int:
            total = 0
            while True:
                msg = self._get()
                if msg[0] == wire.END:
                    return total
                total += len(msg) - 1

        return await trio.to_thread.run_sync(drain, abandon_on_cancel=True)

    async def stop(self) -> None:
        self._q_in.put(bytes([wire.STOP]))
        await self._interp.wait()

    def kill(self) -> None:
        # A running interpreter cannot be killed from outside; the worker that
        # owns it leaves through os._exit after a hang, which ends the thread.
        pass


class SubintQueueSession(Session):
    in_process = True

    def __init__(self, backend: str) -> None:
        self._backend = backend

    def _start(self) -> SubintQueueChild:
        interpreters = _interpreters()
        q_in = interpreters.create_queue()
        q_out = interpreters.create_queue()
        interp = Interp(_QUEUE_CODE, self._backend, q_in=q_in, q_out=q_out)
        child = SubintQueueChild(interp, q_in, q_out)
        msg = child._get()
        if msg[0] != wire.READY:
            raise RuntimeError(f"sub-interpreter sent opcode {msg[0]} before READY")
        return child

    async def spawn(self) -> Child:
        return await trio.to_thread.run_sync(self._start, abandon_on_cancel=True)


class SubintSocketSession(SocketSession):
    in_process = True
    interp_class: type[Interp] = Interp

    async def _start(self, token: str) -> ProcessHandle:
        family, address, token, backend = self.child_args(token)

        def start() -> Interp:
            return self.interp_class(_SOCKET_CODE, backend, _family=family, _address=address, _token=token)

        interp = await trio.to_thread.run_sync(start)
        return ProcessHandle(None, interp.wait)


class PrivateSubintSocketSession(SubintSocketSession):
    interp_class = PrivateInterp


class SubintBackend(SocketBackend):
    """PEP 734 sub-interpreter (concurrent.interpreters) on its own thread."""

    name = "subint"
    transports = ("queue", "tcp", "uds")
    session_class = SubintSocketSession

    def availability(self) -> Availability:
        try:
            _interpreters()
        except ImportError:
            return Availability.no(REQUIRES)
        return Availability.ok()

    @asynccontextmanager
    async def session(self, transport: str) -> AsyncIterator[Session]:
        if transport == "queue":
            yield SubintQueueSession(self.name)
            return
        async with super().session(transport) as session:
            yield session


class SubintPrivateBackend(SocketBackend):
    """sub-interpreter through CPython's private _interpreters module (3.13), socket channel."""

    name = "subint_private"
    transports = ("tcp", "uds")
    session_class = PrivateSubintSocketSession

    def availability(self) -> Availability:
        try:
            import _interpreters  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            return Availability.no("requires CPython 3.13+ (private _interpreters module)")
        return Availability.ok()
