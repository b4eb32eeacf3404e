"""``python -m harness backends``: every backend, available or not, and why."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness import envs, pythons
from harness.backends import LAYERS
from harness.runner import Plan, Runner


def add_parser(sub: Any) -> None:
    p = sub.add_parser("backends", help="list backends, available or not, and why")
    p.add_argument("--python", default="current", help="interpreters, as for 'run' (default: current)")
    p.add_argument("--layer", choices=LAYERS, default="floor")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    chosen, _ = pythons.select(args.python)
    rows: list[dict[str, Any]] = []
    for interp in chosen:
        if args.layer == "floor":
            interp = envs.ensure_env(interp, log=lambda m: print(m, file=sys.stderr))
        runner = Runner(Plan(interpreters=[interp], layers=[args.layer]), progress_quiet=True)
        probe = runner.probe(interp, args.layer)
        for name, info in probe["backends"].items():
            rows.append({"python": probe["python"]["python_tag"], "layer": args.layer, "backend": name, **info})
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return 0
    width = max((len(r["backend"]) for r in rows), default=7)
    for r in rows:
        state = "available" if r["available"] else f"unavailable: {r['reason']}"
        print(f"{r['python']:<7} {r['layer']}.{r['backend']:<{width}}  {state}")
        print(f"{'':<7} {'':<{len(r['layer']) + 1 + width}}  {r['description']} [{', '.join(r['transports'])}]")
    return 0
