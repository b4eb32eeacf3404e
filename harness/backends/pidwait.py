"""Wait for a child pid to exit without blocking the trio loop (Linux pidfd)."""

from __future__ import annotations

import os

import trio


async def wait_pid(pid: int) -> int:
    """Wait until ``pid`` (our child) exits, reap it, return its raw wait status."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return _reap(pid)
    try:
        await trio.lowlevel.wait_readable(fd)
    finally:
        os.close(fd)
    return _reap(pid)


def _reap(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 0
    return status

