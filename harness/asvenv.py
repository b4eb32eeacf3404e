"""``python -m harness.asvenv [PYTHON]``: print an interpreter asv can run the floor suite in.

asv's ``existing:`` environments install nothing, so the interpreter must
already have what a benchmark process imports: trio (the harness's one
third-party need) and asv_runner (what asv's benchmark runner script
imports).  This makes (once, then reuses from the harness cache) a virtual
environment with both for the Python chosen as ``--python`` chooses
(``3.14``, ``current``, a path), and prints its interpreter, for
``asv run -E existing:$(python -m harness.asvenv 3.14) --set-commit-hash ...``.
After the first call it needs no network.
"""

from __future__ import annotations

import sys

from harness import envs, pythons
from harness.errors import UsageError

REQUIREMENTS = [*envs.FLOOR_REQUIREMENTS, "asv_runner>=0.2"]


def interpreter(spec: str = "current") -> str:
    """Path of a cached interpreter of ``spec`` with trio and asv_runner."""
    chosen, _ = pythons.select(spec)
    if len(chosen) != 1:
        raise UsageError(f"{spec!r}: name exactly one Python, got {len(chosen)}")
    return envs.ensure_env(chosen[0], REQUIREMENTS, name="asv").executable


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m harness.asvenv [PYTHON]   (3.14, current, or a path)", file=sys.stderr)
        return 2
    try:
        print(interpreter(argv[0] if argv else "current"))
    except UsageError as exc:
        print(f"harness.asvenv: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
