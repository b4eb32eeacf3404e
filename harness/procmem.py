"""Memory of a process from /proc (Linux): RSS, PSS and USS in bytes."""

from __future__ import annotations


def read_memory(pid: int | str = "self") -> dict[str, int]:
    """``{"rss": .., "pss": .., "uss": ..}`` from ``/proc/PID/smaps_rollup``.

    USS (private clean + private dirty) is what the process would give back if
    it exited: the fair per-child figure when children share pages with a
    forkserver or their parent.
    """
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return {
        "rss": fields.get("Rss", 0),
        "pss": fields.get("Pss", 0),
        "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
    }
