"""The one interface every spawn backend implements, floor and tractor alike.

A :class:`Backend` is a way to start a child.  Inside a worker process it opens
one :class:`Session` (listener, forkserver, root actor: whatever lives as long as
the worker), and the session spawns :class:`Child` objects.  ``spawn`` returns
only once the child has answered (*ready*); ``stop`` returns only once the child
is gone (reaped, or its interpreter closed).  Every scenario measures through
this interface, so every backend is measured to the same points.
"""

from __future__ import annotations

import abc
import os
import signal
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""

    @classmethod
    def ok(cls) -> "Availability":
        return cls(True, "")

    @classmethod
    def no(cls, reason: str) -> "Availability":
        return cls(False, reason)


class Child(abc.ABC):
    """One spawned, ready child."""

    #: OS pid of the child process, or None when it lives in the parent's process.
    pid: int | None = None
    #: Named parts of the spawn, in seconds, where a backend can tell them apart
    #: (tractor: ``start_actor`` returned, before the first RPC answered).
    #: Scenarios record each as a series of its own beside ``spawn_warm``.
    phases: dict[str, float] = {}

    @abc.abstractmethod
    async def rpc(self, payload: bytes) -> bytes:
        """One round trip: send ``payload``, return the child's echo."""

    @abc.abstractmethod
    async def stream(self, count: int, size: int) -> int:
        """Ask for ``count`` messages of ``size`` bytes; return bytes received."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Ask the child to exit and return once it is gone."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Last resort after a timeout; must not block."""


class Session(abc.ABC):
    """Per-worker state of a backend; spawns children."""

    #: True when children live inside the parent process (memory is measured as
    #: the parent's growth, not the child's own footprint).
    in_process: bool = False

    @abc.abstractmethod
    async def spawn(self) -> Child:
        """Start a child and return once it has said it is ready."""


class Backend(abc.ABC):
    name: str
    layer: str = "floor"
    #: transports this backend can talk over; the first is the default.
    transports: tuple[str, ...] = ("tcp", "uds")

    @abc.abstractmethod
    def availability(self) -> Availability:
        """Whether this backend can run on this Python, and if not, why."""

    @abc.abstractmethod
    def session(self, transport: str) -> AbstractAsyncContextManager[Session]:
        """Open the per-worker state for ``transport``."""

    def describe(self) -> str:
        return self.__doc__.strip().splitlines()[0] if self.__doc__ else self.name


def kill_pid(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Unavailable(Exception):
    """Raised by a session or spawn when the backend turns out not to run here
    (tractor raises some of its gates only at spawn time).  Recorded with the
    message, never counted as a failure."""
