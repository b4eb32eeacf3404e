"""``mp_spawn`` / ``mp_forkserver`` floors: a bare ``multiprocessing`` context.

The child target is :func:`harness.childside.socket_entry`; the worker's
``__main__`` (``harness.worker``) imports nothing heavy at module level, so the
spawn child's re-import of ``__main__`` costs what multiprocessing itself costs.
The forkserver is started by the first spawn of the worker: that cost lands in
the *cold* sample, as it does for a real program.
"""

from __future__ import annotations

import multiprocessing

import trio

from harness import childside
from harness.backends.base import Availability
from harness.backends.rendezvous import Rendezvous
from harness.backends.socket_child import ProcessHandle, SocketBackend, SocketSession


class MpSession(SocketSession):
    def __init__(self, rendezvous: Rendezvous, backend: str, method: str) -> None:
        super().__init__(rendezvous, backend)
        self._ctx = multiprocessing.get_context(method)

    async def _start(self, token: str) -> ProcessHandle:
        proc = self._ctx.Process(target=childside.socket_entry, args=self.child_args(token))
        proc.start()
        assert proc.pid is not None

        async def wait() -> None:
            await trio.lowlevel.wait_readable(proc.sentinel)
            proc.join()
            proc.close()

        return ProcessHandle(proc.pid, wait)


class MpBackend(SocketBackend):
    method: str

    def availability(self) -> Availability:
        if self.method not in multiprocessing.get_all_start_methods():
            return Availability.no(f"multiprocessing start method {self.method!r} is not available on this platform")
        return Availability.ok()

    def make_session(self, rendezvous: Rendezvous) -> SocketSession:
        return MpSession(rendezvous, self.name, self.method)


class MpSpawnBackend(MpBackend):
    """multiprocessing 'spawn' context: a fresh interpreter unpickles the target."""

    name = "mp_spawn"
    method = "spawn"


class MpForkserverBackend(MpBackend):
    """multiprocessing 'forkserver' context: children forked from a server process."""

    name = "mp_forkserver"
    method = "forkserver"
