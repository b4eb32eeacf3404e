"""``python -m harness history``: change points along the commit history.

Reads asv's ``results/`` tree and any harness result files given (those that
carry a commit), runs E-Divisive means with a permutation test on every
series -- the subint ratio series first -- and reports each step's commit,
size and significance, plus any creep (several small steps the same way).
Exit status 0, or 2 for bad input: it describes; ``compare`` is the gate.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.commands.compare import fraction
from harness.compare_input import default_results_dir
from harness.errors import UsageError
from harness.history import SeriesAnalysis, analyse, collect, pct


def add_parser(sub: Any) -> None:
    p = sub.add_parser("history", help="change points per series over commits (asv results and harness files)",
                       description="Change points along the commit history (E-Divisive means with a permutation "
                                   "test), subint ratio series first, and creeps; reads asv's results tree and "
                                   "harness result files that carry a commit.")
    p.add_argument("paths", nargs="*", type=Path, help="harness result files or directories with commit metadata")
    p.add_argument("--results-dir", type=Path, help="asv results tree (default: asv.conf.json's, else results/)")
    p.add_argument("--no-asv", action="store_true", help="read only the harness files given")
    p.add_argument("--machine", help="asv machine (default: every machine; series are kept apart)")
    p.add_argument("--series", help="only series whose name contains this text")
    p.add_argument("--ratios-only", action="store_true", help="only the subint ratio series")
    p.add_argument("--alpha", default="0.01", help="significance of each split (permutation test; default 0.01)")
    p.add_argument("--min-size", type=int, default=2, help="fewest commits a level may have (default 2)")
    p.add_argument("--permutations", type=int, default=199, help="permutations per test (default 199)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--all", action="store_true", help="also list series without a change point")
    p.add_argument("--format", choices=("table", "md", "json"), default="table")
    p.set_defaults(func=main)


def _short(commit: str) -> str:
    return commit[:8]


def _rows(analyses: list[SeriesAnalysis], everything: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    for a in analyses:
        if not a.changes:
            if everything:
                rows.append([a.name, str(len(a.points)), "-", "", "", "", "", ""])
            continue
        for cp in a.changes:
            rows.append([a.name, str(len(a.points)), _short(a.commit_at(cp.index)),
                         _short(a.commit_at(cp.index - 1)) if cp.index else "", f"{cp.before:.4g}",
                         f"{cp.after:.4g}", pct(cp.rel_change), f"{cp.p_value:.3f}"])
    return rows


def _header() -> list[str]:
    return ["series", "points", "commit", "previous", "before", "after", "change", "p"]


def _creeps(analyses: list[SeriesAnalysis]) -> list[str]:
    return [f"{a.name}: {pct(a.creep.net_change)}, {_short(a.creep.first_commit)}..{_short(a.creep.last_commit)} "
            f"({a.creep.steps} step{'s' if a.creep.steps != 1 else ''} found; trend p={a.creep.p_value:.2g})"
            for a in analyses if a.creep is not None]


def render_table(analyses: list[SeriesAnalysis], everything: bool, method: str) -> str:
    header = _header()
    out: list[str] = []
    for title, group in (("subint ratio series", [a for a in analyses if a.ratio]),
                         ("series", [a for a in analyses if not a.ratio])):
        if not group:
            continue
        rows = _rows(group, everything)
        flat = sum(1 for a in group if not a.changes)
        out.append(f"{title}: {len(group)}, {len(group) - flat} with change points")
        if rows:
            widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
            fmt = lambda r: "  ".join(c.rjust(w) if i in (1, 4, 5, 6, 7) else c.ljust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            out += [fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)]
        out.append("")
    creeps = _creeps(analyses)
    if creeps:
        out.append("creep (a significant trend one step does not explain):")
        out += [f"  {c}" for c in creeps]
        out.append("")
    out.append(f"method: {method}")
    return "\n".join(out)


def render_markdown(analyses: list[SeriesAnalysis], everything: bool, method: str) -> str:
    header = _header()
    rows = _rows(analyses, everything)
    changed = sum(1 for a in analyses if a.changes)
    lines = [f"### spawn-harness history: {changed} of {len(analyses)} series with change points", ""]
    if rows:
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join([f"`{r[0]}`", *r[1:]]) + " |" for r in rows]
        lines.append("")
    for c in _creeps(analyses):
        lines.append(f"- creep: {c}")
    lines += ["", f"<sub>{method}</sub>"]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    alpha = fraction(args.alpha, "--alpha")
    if args.min_size < 2:
        raise UsageError("--min-size must be >= 2")
    if args.permutations < 19:
        raise UsageError("--permutations must be >= 19")
    if alpha <= 1 / (args.permutations + 1):
        raise UsageError(f"--alpha {alpha:g} cannot be reached with {args.permutations} permutations "
                         f"(smallest p is {1 / (args.permutations + 1):.3g})")
    results_dir = None if args.no_asv else (args.results_dir or default_results_dir())
    if args.results_dir is not None and not args.results_dir.is_dir():
        raise UsageError(f"{args.results_dir}: no such asv results directory")
    series, ratio_names = collect(results_dir, args.machine, args.paths)
    if args.ratios_only:
        series = {k: v for k, v in series.items() if k in ratio_names}
    if args.series:
        series = {k: v for k, v in series.items() if args.series in k}
    if not series:
        raise UsageError("no series left after --ratios-only/--series")
    analyses = analyse(series, ratio_names, alpha=alpha, min_size=args.min_size,
                       permutations=args.permutations, seed=args.seed)
    method = (f"E-Divisive means (energy distance), permutation test with {args.permutations} shuffles per split, "
              f"alpha {alpha:g} per split, levels of >= {args.min_size} commits; creep: Mann-Kendall trend, "
              f"Theil-Sen size; ordered by commit date")
    if args.format == "json":
        json.dump({"method": method, "series": [a.as_json() for a in analyses]}, sys.stdout, indent=1)
        print()
    elif args.format == "md":
        print(render_markdown(analyses, args.all, method))
    else:
        print(render_table(analyses, args.all, method))
    return 0
