"""``trio`` floor: exec a fresh interpreter that dials back, as tractor's trio backend does."""

from __future__ import annotations

import sys

import trio

from harness.backends.base import Availability
from harness.backends.socket_child import ProcessHandle, SocketBackend, SocketSession


class ExecSession(SocketSession):
    async def _start(self, token: str) -> ProcessHandle:
        argv = [sys.executable, "-m", "harness.childside", *self.child_args(token)]
        proc = await trio.lowlevel.open_process(argv)

        async def wait() -> None:
            await proc.wait()

        return ProcessHandle(proc.pid, wait)


class ExecBackend(SocketBackend):
    """exec a fresh python (sys.executable -m harness.childside), child connects back."""

    name = "trio"
    session_class = ExecSession

    def availability(self) -> Availability:
        return Availability.ok()
