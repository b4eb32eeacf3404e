"""``python -m harness compare``: the regression gate.

``compare BASE HEAD``     HEAD against BASE (harness files/dirs or asv commits)
``compare A..B``          two asv commits
``compare RUN --baseline trio,mp_forkserver``
                          subint (``--subject``) against other backends in one run

Exit status: 0 no regression, 1 a regression (a cell slower, or one that
measured in BASE and hung/failed in HEAD), 2 bad input.  ``--baseline``
mode is descriptive and exits 0 whatever the ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from harness.commands.common import csv_list
from harness.compare_input import Sample, Side, baseline_pairs, load_side, pair_sides, split_range
from harness.compare_render import Report, as_json, render_markdown, render_table
from harness.comparison import CORRECTIONS, GateConfig, Judgement, Pair, judge
from harness.errors import UsageError


def fraction(text: str, what: str, above_one: bool = False) -> float:
    """``5%``, ``0.05`` or ``5`` (a bare number >= 1 is read as percent) -> 0.05.

    ``above_one`` admits ``250%`` (a change may be more than double)."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise UsageError(f"{what}: expected a fraction or percentage, got {text!r}") from None
    if not t.endswith("%") and value >= 1:
        value /= 100
    if math.isnan(value) or value < 0 or (value >= 1 and not above_one) or math.isinf(value):
        raise UsageError(f"{what}: must be {'>= 0' if above_one else 'in [0, 100%)'}, got {text!r}")
    return value


def add_gate_options(p: argparse.ArgumentParser) -> None:
    """The gate's knobs; shared with ``sensitivity`` so both judge alike."""
    p.add_argument("--alpha", default="0.01", help="significance after correction (default 0.01)")
    p.add_argument("--min-change", default="5%", help="smallest ratio change called a change (default 5%%)")
    p.add_argument("--ci", default="95%", help="confidence level of the ratio interval (default 95%%)")
    p.add_argument("--correction", choices=tuple(CORRECTIONS), default="holm",
                   help="multiple-comparison correction: holm (family-wise, default), bh (FDR), none")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible)")


def gate_config(args: argparse.Namespace) -> GateConfig:
    alpha = fraction(args.alpha, "--alpha")
    ci = fraction(args.ci, "--ci")
    if alpha <= 0 or ci <= 0:
        raise UsageError("--alpha and --ci must be > 0")
    if args.bootstrap < 100:
        raise UsageError("--bootstrap must be >= 100")
    return GateConfig(alpha=alpha, min_change=fraction(args.min_change, "--min-change", above_one=True), ci_level=ci,
                      correction=args.correction, bootstrap=args.bootstrap, seed=args.seed)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="regression gate: HEAD vs BASE, or subint vs other backends",
                       description="The regression gate: HEAD against BASE (harness result files or directories, "
                                   "or asv commits), or --subject against --baseline backends inside one run. "
                                   "Exit 0: no regression, 1: regression, 2: bad input.")
    p.add_argument("sides", nargs="+", metavar="SIDE",
                   help="BASE HEAD (result file, directory, or asv commit), A..B, or one RUN with --baseline")
    p.add_argument("--baseline", help="compare --subject against these backends inside one run (comma separated)")
    p.add_argument("--subject", default="subint", help="the backend put against --baseline (default subint)")
    p.add_argument("--format", choices=("table", "md", "json"), default="table")
    p.add_argument("--results-dir", type=Path, help="asv results tree (default: asv.conf.json's, else results/)")
    p.add_argument("--machine", help="asv machine name, when a commit has results from several")
    p.add_argument("--python", help="only these Pythons (cp311,cp314 or asv's 3.14)")
    p.add_argument("--backend", help="only these backends (comma separated)")
    p.add_argument("--scenario", help="only these scenarios (comma separated)")
    add_gate_options(p)
    p.set_defaults(func=main)


def _keep(s: Sample, args: argparse.Namespace) -> bool:
    for attr, value in (("python", s.python), ("backend", s.backend), ("scenario", s.labels.get("scenario", ""))):
        if attr == "backend" and args.baseline:
            continue  # the backends are the comparison itself
        wanted = csv_list(getattr(args, attr))
        if wanted and value not in wanted:
            return False
    return True


def _filter(side: Side, args: argparse.Namespace) -> Side:
    side.samples = {k: s for k, s in side.samples.items() if _keep(s, args)}
    if not side.samples:
        raise UsageError(f"{side.arg}: nothing left after --python/--backend/--scenario")
    return side


def _label(side: Side) -> str:
    return side.arg + (f" ({side.commit[:12]})" if side.commit and side.kind == "asv" else "")


def _failed(sample: Sample, why: str) -> Judgement:
    pair = Pair(key=sample.key, python=sample.python, name=sample.name, unit=sample.unit, base=sample.runs, head=[],
                labels=sample.labels)
    from harness.stats import median

    values = [v for r in sample.runs for v in r]
    return Judgement(pair, median(values), math.nan, math.nan, math.nan, math.nan, math.nan,
                     verdict="failed", note=f"HEAD {why}"[:120])


def build_report(args: argparse.Namespace) -> Report:
    cfg = gate_config(args)
    sides: list[str] = list(args.sides)
    if args.baseline:
        if len(sides) != 1:
            raise UsageError("--baseline compares backends inside ONE run: give one RUN")
        side = _filter(load_side(sides[0], args.results_dir, args.machine), args)
        baselines = csv_list(args.baseline) or []
        pairs = baseline_pairs(side, args.subject, baselines)
        judgements = judge(pairs, cfg)
        for j in judgements:
            if j.verdict == "unchanged":
                j.verdict = "n.s."  # two backends are not "unchanged": the difference is not significant
        return Report(f"{args.subject} vs {', '.join(baselines)}", side.arg, "", cfg, judgements, gate=False)
    if len(sides) == 1:
        rng = split_range(sides[0])
        if rng is None:
            raise UsageError("compare needs BASE and HEAD (or an asv range A..B, or one RUN with --baseline)")
        sides = list(rng)
    if len(sides) != 2:
        raise UsageError(f"compare takes BASE and HEAD, got {len(sides)} arguments")
    base = _filter(load_side(sides[0], args.results_dir, args.machine), args)
    head = _filter(load_side(sides[1], args.results_dir, args.machine), args)
    pairing = pair_sides(base, head)
    judgements = judge(pairing.pairs, cfg) + [_failed(s, why) for s, why in pairing.failed]
    return Report("spawn-harness compare", _label(base), _label(head), cfg, judgements,
                  pairing.only_base, pairing.only_head)


def main(args: argparse.Namespace) -> int:
    report = build_report(args)
    if args.format == "json":
        json.dump(as_json(report), sys.stdout, indent=1)
        print()
    elif args.format == "md":
        print(render_markdown(report))
    else:
        print(render_table(report))
    return 1 if report.regression else 0
