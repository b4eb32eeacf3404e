"""``trio`` floor: exec a fresh interpreter that dials back, as tractor's trio backend does."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from harness.backends.base import Availability, Backend, Session
from harness.backends.socket_child import ProcessHandle, SocketSession, open_rendezvous


class ExecSession(SocketSession):
    async def _start(self, token: str) -> ProcessHandle:
        argv = [sys.executable, "-m", "harness.childside", *self.child_args(token)]
        proc = await trio.lowlevel.open_process(argv)

        async def wait() -> None:
            await proc.wait()

        return ProcessHandle(proc.pid, wait)


class ExecBackend(Backend):
    """exec a fresh python (sys.executable -m harness.childside), child connects back."""

    name = "trio"

    def availability(self) -> Availability:
        return Availability.ok()

    @asynccontextmanager
    async def session(self, transport: str) -> AsyncIterator[Session]:
        async with open_rendezvous(transport) as rendezvous:
            yield ExecSession(rendezvous, self.name)
