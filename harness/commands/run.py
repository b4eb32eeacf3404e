"""``python -m harness run``: measure backends, write results, print the table."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from harness import canary, envs, pythons, summary
from harness.commands.common import csv_list, int_list, size_list
from harness.errors import UsageError
from harness.results import load_results
from harness.runner import Plan, Runner
from harness.scenarios import JOBS, SCENARIOS, JobConfig

DEFAULT = {"rounds": 3, "warmups": 2, "values": 10}
QUICK = {"rounds": 1, "warmups": 1, "values": 3, "stream_sizes": "64,4KiB", "fanout": "1,2,4", "memory_children": 2}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="measure spawn backends and write a result file",
                       description="Measure spawn backends (floor, or tractor beside its floor) and write pyperf JSON.")
    p.add_argument("--python", default="current",
                   help="interpreters: current (default), 3.13, 3.14t, all, or a path; comma separated")
    p.add_argument("--target", choices=("floor", "tractor"), default="floor",
                   help="floor: raw mechanisms only; tractor: tractor's backends beside their floors")
    p.add_argument("--backend", help="comma-separated backend names (default: every available one)")
    p.add_argument("--scenario", help=f"comma-separated: {', '.join(SCENARIOS)} (default: all)")
    p.add_argument("--transport", help="comma-separated: tcp, uds (default: each backend's first)")
    p.add_argument("--quick", action="store_true", help="smoke pass: 1 round, few samples, small sizes")
    p.add_argument("--rounds", type=int, help=f"interleaved rounds of fresh workers (default {DEFAULT['rounds']})")
    p.add_argument("--warmups", type=int, help=f"warm-up samples per worker, kept apart (default {DEFAULT['warmups']})")
    p.add_argument("--values", type=int, help=f"measured samples per worker (default {DEFAULT['values']})")
    p.add_argument("--timeout", type=float, default=10.0, help="per-sample timeout in seconds (default 10)")
    p.add_argument("--stream-sizes", help="payload sizes for stream (default 64,4KiB,1MiB)")
    p.add_argument("--fanout", help="concurrent spawn counts (default 1,2,4,8,16,32)")
    p.add_argument("--memory-children", type=int, help="children per memory sample (default 4)")
    p.add_argument("--bytecode", choices=("warm", "cold", "unmanaged"), default="warm",
                   help="bytecode cache: warm (primed PYTHONPYCACHEPREFIX), cold (none), unmanaged (as the env says)")
    p.add_argument("--canary", help="slow children down: BACKEND:DELAY[,..] (e.g. subint:20ms); for pipeline tests")
    p.add_argument("--tractor", help="tractor to install for --target tractor: path, git URL[@ref], or wheel")
    p.add_argument("-o", "--output", type=Path, help="result file (default results/harness/STAMP-TARGET-PY.json)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=main)


def _positive(value: int | None, default: int, what: str) -> int:
    if value is None:
        return default
    if value < 1:
        raise UsageError(f"{what} must be >= 1, got {value}")
    return value


def build_config(args: argparse.Namespace) -> tuple[JobConfig, int]:
    base: dict[str, Any] = {**DEFAULT, **(QUICK if args.quick else {})}
    cfg = JobConfig(
        warmups=args.warmups if args.warmups is not None and args.warmups >= 0 else base["warmups"],
        values=_positive(args.values, base["values"], "--values"),
        timeout=args.timeout,
    )
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    if args.stream_sizes or "stream_sizes" in base:
        cfg.stream_sizes = size_list(args.stream_sizes or base["stream_sizes"], "--stream-sizes")
    if args.fanout or "fanout" in base:
        cfg.fanout = int_list(args.fanout or base["fanout"], "--fanout")
    cfg.memory_children = _positive(args.memory_children, base.get("memory_children", cfg.memory_children),
                                    "--memory-children")
    return cfg, _positive(args.rounds, base["rounds"], "--rounds")


def jobs_for(scenarios: list[str] | None) -> list[str]:
    if scenarios is None:
        return list(JOBS)
    jobs: list[str] = []
    for name in scenarios:
        if name not in SCENARIOS:
            raise UsageError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
        if SCENARIOS[name] not in jobs:
            jobs.append(SCENARIOS[name])
    return jobs


def main(args: argparse.Namespace) -> int:
    cfg, rounds = build_config(args)
    jobs = jobs_for(csv_list(args.scenario))
    transports = csv_list(args.transport)
    for t in transports or []:
        if t not in ("tcp", "uds", "queue"):
            raise UsageError(f"unknown transport {t!r} (known: tcp, uds)")
    extra_env: dict[str, str] = {}
    if args.canary:
        try:
            canary.parse(args.canary)
        except ValueError as exc:
            raise UsageError(f"--canary: {exc}") from None
        extra_env[canary.ENV_VAR] = args.canary
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    chosen, notes = pythons.select(args.python)
    for note in notes:
        print(note, file=sys.stderr)
    target: dict[str, str] = {}
    layers = ["floor"]
    if args.target == "tractor":
        from harness.tractor_layer.install import prepare_interpreters

        chosen, target = prepare_interpreters(chosen, args.tractor, log=log)
        layers = ["tractor", "floor"]
    else:
        if args.tractor:
            raise UsageError("--tractor needs --target tractor")
        chosen = [envs.ensure_env(i, log=log) for i in chosen]
    plan = Plan(
        interpreters=chosen,
        layers=layers,
        target_name=args.target,
        backends=csv_list(args.backend),
        jobs=jobs,
        transports=transports,
        rounds=rounds,
        config=cfg,
        bytecode=args.bytecode,
        output=args.output,
        command=shlex.join(["python", "-m", "harness", *sys.argv[1:]]) if sys.argv[1:2] == ["run"] else "python -m harness run",
        extra_env=extra_env,
        target=target,
    )
    outcome = Runner(plan, progress_quiet=args.quiet).run()
    rs = load_results(outcome.files)
    if args.json:
        data = summary.as_json(rs)
        data["files"] = [str(f) for f in outcome.files]
        data["interrupted"] = outcome.interrupted
        json.dump(data, sys.stdout, indent=1)
        print()
    else:
        print(summary.render(rs))
        print()
        for f in outcome.files:
            print(f"results: {f}")
    if outcome.interrupted:
        print(f"interrupted: kept every finished cell in {', '.join(map(str, outcome.files))}", file=sys.stderr)
        return 130
    return 0
