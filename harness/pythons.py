"""Finding the Python interpreters a run can use.

Looks where users keep them: ``pythonX.Y`` on PATH, pyenv's versions, uv's
managed Pythons, the harness's own provisioned ones
(``scripts/provision-debian-pythons.sh``), and paths given explicitly.  Each
candidate is asked about itself in a subprocess, so what is reported is what
that interpreter says, not what its file name suggests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.sysinfo import cache_dir

SUPPORTED_MINORS = range(11, 16)  # the worker needs 3.11+ (exception groups)

_PROBE = r"""
import json, sys, sysconfig, multiprocessing
try:
    import concurrent.interpreters
    subint = True
except ImportError:
    subint = False
try:
    import trio
    trio_v = trio.__version__
except ImportError:
    trio_v = None
ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
print(json.dumps({
    "version": "%d.%d.%d" % sys.version_info[:3],
    "minor": "%d.%d" % sys.version_info[:2],
    "free_threaded": ft,
    "tag": "cp%d%d%s" % (sys.version_info[0], sys.version_info[1], "t" if ft else ""),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "subint": subint,
    "start_methods": multiprocessing.get_all_start_methods(),
    "trio": trio_v,
}))
"""


@dataclass(frozen=True)
class Interpreter:
    tag: str  # cp313, cp314t
    executable: str
    version: str = ""
    free_threaded: bool = False
    source: str = ""
    subint: bool = False
    trio: str | None = None
    env: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def build(self) -> str:
        return "free-threaded" if self.free_threaded else "default"

    def as_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "version": self.version,
            "build": self.build,
            "executable": self.executable,
            "source": self.source,
            "subint": self.subint,
            "trio": self.trio,
        }


def inspect(executable: str, source: str = "explicit") -> Interpreter | None:
    """Ask ``executable`` what it is; None if it does not run."""
    try:
        cp = subprocess.run(
            [executable, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=60
        )
        info = json.loads(cp.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError, ValueError):
        return None
    return Interpreter(
        tag=info["tag"],
        executable=executable,
        version=info["version"],
        free_threaded=info["free_threaded"],
        source=source,
        subint=info["subint"],
        trio=info["trio"],
    )


def current() -> Interpreter:
    found = inspect(sys.executable, "current")
    if found is None:  # pragma: no cover - we are running in it
        raise UsageError(f"{sys.executable}: cannot inspect the running interpreter")
    return found


def provisioned_bin_dir() -> Path:
    return cache_dir() / "bin"


def _candidates() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = [(sys.executable, "current")]
    prov = provisioned_bin_dir()
    if prov.is_dir():
        found += [(str(p), "provisioned") for p in sorted(prov.glob("python3.*"))]
    for minor in SUPPORTED_MINORS:
        for suffix in ("", "t"):
            exe = shutil.which(f"python3.{minor}{suffix}")
            if exe and "/shims/" not in exe:  # pyenv shims re-dispatch; pyenv's dirs are read below
                found.append((exe, "PATH"))
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for version_dir in sorted(Path(pyenv_root, "versions").glob("3.*")):
        exe = version_dir / "bin" / "python3"
        if exe.exists():
            found.append((str(exe), "pyenv"))
    uv_dir = Path(os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local" / "share" / "uv" / "python"))
    for exe in sorted(uv_dir.glob("cpython-3.*/bin/python3")):
        found.append((str(exe), "uv"))
    return found


def discover(extra: list[str] | None = None) -> list[Interpreter]:
    """Every distinct usable interpreter of a supported version, newest first."""
    seen: set[str] = set()
    out: list[Interpreter] = []
    for exe, source in [(e, "explicit") for e in (extra or [])] + _candidates():
        real = os.path.realpath(exe)
        if real in seen:
            continue
        seen.add(real)
        interp = inspect(exe, source)
        if interp is None or int(interp.minor.split(".")[1]) not in SUPPORTED_MINORS:
            continue
        out.append(interp)
    out.sort(key=lambda i: (tuple(int(x) for x in i.version.split(".")), i.free_threaded), reverse=True)
    return out


def select(spec: str, found: list[Interpreter] | None = None) -> tuple[list[Interpreter], list[str]]:
    """Resolve ``--python``: ``3.13``, ``3.14t``, ``all``, ``current`` or a path, comma separated.

    Returns the interpreters (one per tag) and notes about what ``all`` skipped.
    A version or path asked for by name that is not there is a UsageError.
    """
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    if not wanted:
        raise UsageError("--python: empty list")
    chosen: dict[str, Interpreter] = {}
    notes: list[str] = []
    pool: list[Interpreter] | None = found
    for item in wanted:
        if item == "current":
            interp = current()
            chosen.setdefault(interp.tag, interp)
        elif "/" in item or os.path.exists(item):
            interp = inspect(item)
            if interp is None:
                raise UsageError(f"--python {item}: not a runnable Python interpreter")
            chosen.setdefault(interp.tag, interp)
        elif item == "all":
            pool = pool if pool is not None else discover()
            for interp in pool:
                if interp.tag not in chosen:
                    chosen[interp.tag] = interp
            for minor in ("3.12", "3.13", "3.14", "3.15"):
                if not any(i.minor == minor for i in chosen.values()):
                    notes.append(f"python {minor}: not found, skipped")
        else:
            tag = _tag_for(item)
            pool = pool if pool is not None else discover()
            match = next((i for i in pool if i.tag == tag), None)
            if match is None:
                have = ", ".join(sorted({i.minor + ("t" if i.free_threaded else "") for i in pool})) or "none"
                raise UsageError(f"--python {item}: no such interpreter found (have: {have}); see 'python -m harness pythons'")
            chosen.setdefault(tag, match)
    return list(chosen.values()), notes


def _tag_for(item: str) -> str:
    text = item.lower().removeprefix("python").removeprefix("cp")
    ft = text.endswith("t")
    text = text.rstrip("t")
    parts = text.split(".") if "." in text else [text[:1], text[1:]]
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        raise UsageError(f"--python {item}: expected a version like 3.13 or 3.14t, 'all', or a path") from None
    return f"cp{major}{minor}{'t' if ft else ''}"
