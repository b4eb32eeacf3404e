"""Which floor each tractor backend is compared with, and which run in-process.

Data, not code, so a new tractor key shows up as "no floor" instead of being
silently matched.  Stdlib only: the summary imports this in the orchestrator,
where tractor is not installed.
"""

from __future__ import annotations

#: tractor key -> floor backend of the same (or the closest) mechanism.
FLOOR_FOR: dict[str, str] = {
    # Same mechanism, same name.
    "trio": "trio",  # exec a fresh interpreter that dials back
    "mp_spawn": "mp_spawn",
    "mp_forkserver": "mp_forkserver",
    "subint": "subint",  # PEP 734 sub-interpreter on a thread, in-process
    # No exact floor: the closest one.
    "main_thread_forkserver": "fork",  # os.fork() from a worker thread of the parent
    "subint_fork": "mp_forkserver",  # fork from a launchpad subint; blocked in CPython today
    "subint_forkserver": "subint",  # forked child hosting its runtime in a subint (reserved)
}

#: tractor keys whose children live inside the parent process (memory is then
#: the parent's growth per child).  Checked against the pid each child reports.
IN_PROCESS: frozenset[str] = frozenset({"subint"})


def floor_for(key: str) -> str | None:
    """The floor backend a tractor key is compared with, or None if unmapped."""
    return FLOOR_FOR.get(key)
