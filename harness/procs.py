"""Making sure no child outlives the run.

Every worker runs in its own session (process group), and every process the
harness starts carries ``SPAWN_HARNESS_RUN_ID`` in its environment, inherited by
all descendants, even ones that ``setsid`` away from the group.  After each
worker the runner kills the group and then sweeps /proc for the marker.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

RUN_ID_ENV = "SPAWN_HARNESS_RUN_ID"


def find_marked(run_id: str) -> list[int]:
    """Pids of live processes whose environment carries ``RUN_ID_ENV=run_id``."""
    needle = f"{RUN_ID_ENV}={run_id}".encode()
    me = os.getpid()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if needle in environ.split(b"\0") and _state(stat) != "Z":
            found.append(int(entry.name))
    return found


def _state(stat: str) -> str:
    # /proc/PID/stat: "pid (comm) S ..."; comm may contain spaces and parens.
    return stat.rpartition(")")[2].split()[0]


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_marked(run_id: str, settle: float = 5.0) -> list[int]:
    """SIGKILL every process carrying the marker and wait (up to ``settle``
    seconds) until none is left running; return the pids that were killed."""
    killed: list[int] = []
    deadline = time.monotonic() + settle
    while True:
        pids = find_marked(run_id)
        if not pids or time.monotonic() > deadline:
            return killed
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if pid not in killed:
                killed.append(pid)
        time.sleep(0.02)
