"""``python -m harness pythons``: the interpreters a run can use."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness import pythons


def add_parser(sub: Any) -> None:
    p = sub.add_parser("pythons", help="list usable Python interpreters and what each can run")
    p.add_argument("--python", action="append", default=[], metavar="PATH",
                   help="also inspect this interpreter (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=main)


def _backends(i: pythons.Interpreter) -> str:
    subint = "subint: yes" if i.subint else "subint: requires 3.14+"
    return f"{subint}; trio: {i.trio or 'not installed (a venv is made on use)'}"


def main(args: argparse.Namespace) -> int:
    found = pythons.discover(args.python)
    for path in args.python:
        if pythons.inspect(path) is None:
            from harness.errors import UsageError

            raise UsageError(f"--python {path}: not a runnable Python interpreter")
    if args.json:
        json.dump([i.as_json() for i in found], sys.stdout, indent=1)
        print()
        return 0
    for i in found:
        print(f"{i.tag:<7} {i.version:<8} {i.build:<13} {i.source:<11} {i.executable}")
        print(f"{'':<7} {_backends(i)}")
    return 0
