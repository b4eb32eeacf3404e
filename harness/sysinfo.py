"""Metadata about the interpreter and the machine, recorded with every result.

Stdlib only: :func:`python_metadata` runs inside workers on any target Python.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from harness import __version__

BYTECODE_ENV = "SPAWN_HARNESS_BYTECODE"
CACHE_ENV = "SPAWN_HARNESS_CACHE"


def cache_dir() -> Path:
    """Where the harness keeps what outlives a run: provisioned Pythons, venvs,
    the primed bytecode cache, tractor sources (``$SPAWN_HARNESS_CACHE``)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "spawn-harness"))


def is_free_threaded() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def python_tag(version_info: Any = None, free_threaded: bool | None = None) -> str:
    """``cp313``, ``cp314t``: the short name results and tables use for a Python."""
    vi = version_info or sys.version_info
    ft = is_free_threaded() if free_threaded is None else free_threaded
    return f"cp{vi[0]}{vi[1]}{'t' if ft else ''}"


def python_metadata() -> dict[str, Any]:
    meta: dict[str, Any] = {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation().lower(),
        "python_executable": sys.executable,
        "python_tag": python_tag(),
        "python_build": "free-threaded" if is_free_threaded() else "default",
        "bytecode_cache": os.environ.get(BYTECODE_ENV, "unmanaged"),
    }
    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None:
        meta["python_gil"] = "enabled" if gil() else "disabled"
    try:
        import trio

        meta["trio_version"] = trio.__version__
    except ImportError:
        pass
    return meta


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_metadata() -> dict[str, Any]:
    meta: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "cpu_model_name": cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "platform": platform.platform(),
        "harness_version": __version__,
    }
    commit = git_commit(Path(__file__).resolve().parent.parent)
    if commit:
        meta["harness_commit"] = commit
    return meta


def load_avg_1min() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def git_commit(path: Path) -> str | None:
    if not (path / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
