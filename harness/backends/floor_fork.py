"""``fork`` floor: a bare ``os.fork``; the lower bound for creating a process."""

from __future__ import annotations

import os
import warnings

from harness import childside
from harness.backends.base import Availability
from harness.backends.pidwait import wait_pid
from harness.backends.socket_child import ProcessHandle, SocketBackend, SocketSession


class ForkSession(SocketSession):
    async def _start(self, token: str) -> ProcessHandle:
        args = self.child_args(token)
        with warnings.catch_warnings():
            # 3.12+ warns that the (trio) parent has threads; the child touches
            # none of the parent's state and leaves through os._exit.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            status = 0
            try:
                childside.socket_entry(*args)
            except BaseException:
                status = 1
            finally:
                os._exit(status)

        async def wait() -> None:
            await wait_pid(pid)

        return ProcessHandle(pid, wait)


class ForkBackend(SocketBackend):
    """os.fork() of the worker, child connects back; no exec, no imports."""

    name = "fork"
    session_class = ForkSession

    def availability(self) -> Availability:
        if not hasattr(os, "fork"):
            return Availability.no("os.fork is not available on this platform")
        if not hasattr(os, "pidfd_open"):
            return Availability.no("needs os.pidfd_open (Linux 5.3+) to reap without blocking")
        return Availability.ok()
