"""Shared fixtures: real runs of the harness, made once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Inherited by every process this test session starts, so the orphan check
#: below looks only at our own descendants, not at other runs on the machine.
SESSION_MARKER = "SPAWN_HARNESS_TEST_SESSION"
os.environ.setdefault(SESSION_MARKER, f"{os.getpid()}")


def harness(*args: str, env: dict[str, str] | None = None, timeout: float = 900,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m harness ARGS`` as a user would; return the finished process."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd or ROOT,
    )


def have_python(version: str) -> bool:
    from harness import pythons

    try:
        pythons.select(version)
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A real ``run --quick`` on the current Python and, where present, 3.14
    (so subint is in it).  Returns the per-Python result files."""
    out = tmp_path_factory.mktemp("quick") / "quick.json"
    pys = "current,3.14" if have_python("3.14") else "current"
    cp = harness("run", "--quick", "--python", pys, "-o", str(out), "-q")
    assert cp.returncode == 0, cp.stderr
    files = sorted(out.parent.glob("quick*.json"))
    assert files, cp.stdout
    return files


def _marked_processes() -> list[tuple[int, str]]:
    """(pid, cmdline) of live processes carrying any harness run marker."""
    from harness.procs import RUN_ID_ENV, _state

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        mine = f"{SESSION_MARKER}={os.environ[SESSION_MARKER]}".encode() in environ
        if mine and any(e.startswith(RUN_ID_ENV.encode() + b"=") for e in environ) and _state(stat) != "Z":
            found.append((int(entry.name), cmd))
    return found


@pytest.fixture(scope="session", autouse=True)
def no_child_outlives_the_suite() -> None:
    """After every test has run, the process table holds no harness child."""
    yield
    leftover = _marked_processes()
    assert not leftover, f"processes outlived the suite: {leftover}"
