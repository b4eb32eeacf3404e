"""One virtual environment per interpreter, with what the worker needs.

Workers import ``harness`` from the project tree (via ``PYTHONPATH``), so an
environment only needs the worker's third-party needs: trio for the floor, and
tractor (which brings its own trio pin) for the tractor layer.  uv is used when
it is there (fast, and it is how users install Pythons); ``venv`` + pip
otherwise.  Environments are cached by interpreter and requirements, so a
second run reuses them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.errors import UsageError
from harness.pythons import Interpreter, inspect
from harness.sysinfo import cache_dir

FLOOR_REQUIREMENTS = ["trio>=0.25"]


def find_uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    return shutil.which("uv")


def env_dir(interp: Interpreter, requirements: list[str], name: str) -> Path:
    key = hashlib.sha1(
        "\0".join([os.path.realpath(interp.executable), interp.version, *requirements]).encode()
    ).hexdigest()[:10]
    return cache_dir() / "venvs" / f"{interp.tag}-{name}-{key}"


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    cp = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if cp.returncode != 0:
        tail = (cp.stderr.strip() or cp.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise UsageError(f"{what} failed: {tail[0][:300]}")


def ensure_env(interp: Interpreter, requirements: list[str] | None = None, name: str = "floor",
               log=None) -> Interpreter:  # type: ignore[no-untyped-def]
    """Return an interpreter (possibly ``interp`` itself) that has ``requirements``."""
    reqs = list(requirements if requirements is not None else FLOOR_REQUIREMENTS)
    if name == "floor" and interp.trio is not None and _trio_ok(interp.trio):
        return interp
    venv = env_dir(interp, reqs, name)
    python = venv / "bin" / "python"
    stamp = venv / ".harness-ready"
    if not (stamp.exists() and python.exists()):
        if venv.exists():
            shutil.rmtree(venv)
        venv.parent.mkdir(parents=True, exist_ok=True)
        if log:
            log(f"{interp.tag}: creating environment {venv} ({' '.join(reqs)})")
        uv = find_uv()
        if uv:
            _run([uv, "venv", "--quiet", "--python", interp.executable, str(venv)], f"{interp.tag}: uv venv")
            _run([uv, "pip", "install", "--quiet", "--python", str(python), *reqs], f"{interp.tag}: uv pip install")
        else:
            _run([interp.executable, "-m", "venv", str(venv)], f"{interp.tag}: python -m venv")
            _run([str(python), "-m", "pip", "install", "--quiet", *reqs], f"{interp.tag}: pip install")
        stamp.write_text("\n".join(reqs) + "\n")
    found = inspect(str(python), source=f"venv of {interp.source}")
    if found is None:
        raise UsageError(f"{interp.tag}: environment {venv} does not run; delete it and retry")
    return found


def _trio_ok(version: str) -> bool:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (0, 25)
