"""``python -m harness COMMAND``: one module per command under ``harness.commands``.

Every command module has ``add_parser(subparsers)`` and ``main(args) -> int``.
Bad input raises :class:`~harness.errors.UsageError` (or is an argparse error):
either way the user sees one line on stderr and the exit status is 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from harness import __version__
from harness.errors import UsageError

#: Command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("run", "backends", "pythons", "compare", "history", "sensitivity", "report")


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m harness", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"spawn-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMANDS:
        module = importlib.import_module(f"harness.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
