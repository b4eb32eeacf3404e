"""``subint`` floor: a bare PEP 734 sub-interpreter on its own thread.

The child runs :func:`harness.childside.serve_queue` and talks over two
``concurrent.interpreters`` queues; the parent waits on the queues from a trio
worker thread.  Needs ``concurrent.interpreters`` (Python 3.14+): elsewhere the
backend is unavailable with that reason, the same gate tractor applies.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from harness import wire
from harness.backends.base import Availability, Backend, Child, Session

REQUIRES = "requires Python 3.14+ (concurrent.interpreters, PEP 734)"

_CHILD_CODE = """\
import sys
for _p in reversed(_harness_paths.split("\\0")):
    if _p and _p not in sys.path:
        sys.path.insert(0, _p)
from harness import childside
childside.serve_queue(q_in, q_out, _harness_backend)
"""

#: How long ``stop`` waits for the interpreter's thread before giving up on it.
_STOP_GRACE = 10.0


def _interpreters() -> Any:
    import concurrent.interpreters as interpreters  # type: ignore[import-not-found]

    return interpreters


class SubintChild(Child):
    pid = None

    def __init__(self, interp: Any, q_in: Any, q_out: Any, thread: threading.Thread) -> None:
        self._interp = interp
        self._q_in = q_in
        self._q_out = q_out
        self._thread = thread

    async def _get(self) -> bytes:
        return await trio.to_thread.run_sync(self._q_out.get, abandon_on_cancel=True)

    async def rpc(self, payload: bytes) -> bytes:
        self._q_in.put(bytes([wire.ECHO]) + payload)
        reply = await self._get()
        return reply[1:]

    async def stream(self, count: int, size: int) -> int:
        self._q_in.put(bytes([wire.STREAM]) + wire.STREAM_REQUEST.pack(count, size))

        def drain() -> int:
            total = 0
            while True:
                msg = self._q_out.get()
                if msg[0] == wire.END:
                    return total
                total += len(msg) - 1

        return await trio.to_thread.run_sync(drain, abandon_on_cancel=True)

    async def stop(self) -> None:
        self._q_in.put(bytes([wire.STOP]))

        def finish() -> None:
            self._thread.join(_STOP_GRACE)
            if self._thread.is_alive():
                raise TimeoutError("sub-interpreter did not return after STOP")
            self._interp.close()

        await trio.to_thread.run_sync(finish, abandon_on_cancel=True)

    def kill(self) -> None:
        # A running interpreter cannot be killed from outside; the worker that
        # owns it exits with os._exit after a hang, which ends the thread too.
        pass


class SubintSession(Session):
    in_process = True

    def __init__(self, backend: str) -> None:
        self._backend = backend
        self._paths = "\0".join(p for p in sys.path if p)

    def _start(self) -> SubintChild:
        interpreters = _interpreters()
        interp = interpreters.create()
        q_in = interpreters.create_queue()
        q_out = interpreters.create_queue()
        interp.prepare_main(
            q_in=q_in, q_out=q_out, _harness_paths=self._paths, _harness_backend=self._backend
        )
        thread = threading.Thread(target=interp.exec, args=(_CHILD_CODE,), daemon=True)
        thread.start()
        child = SubintChild(interp, q_in, q_out, thread)
        msg = q_out.get()
        if msg[0] != wire.READY:
            raise RuntimeError(f"sub-interpreter sent opcode {msg[0]} before READY")
        return child

    async def spawn(self) -> Child:
        return await trio.to_thread.run_sync(self._start, abandon_on_cancel=True)


class SubintBackend(Backend):
    """PEP 734 sub-interpreter (concurrent.interpreters) on its own thread, queue channel."""

    name = "subint"
    transports = ("queue",)

    def availability(self) -> Availability:
        try:
            _interpreters()
        except ImportError:
            return Availability.no(REQUIRES)
        return Availability.ok()

    @asynccontextmanager
    async def session(self, transport: str) -> AsyncIterator[Session]:
        yield SubintSession(self.name)
