"""``python -m harness report``: a static perf report (index.html, README.md, SVG/PNG figures)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import UsageError

DEFAULT_RESULTS = Path("results/harness")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="write a static HTML/Markdown report with figures from result files",
                       description="Write index.html, README.md and figures/ (SVG + PNG) from harness result "
                                   "files, with the subint ratio history from asv results when there are any.")
    p.add_argument("results", nargs="*", type=Path,
                   help=f"result files or directories (default: {DEFAULT_RESULTS})")
    p.add_argument("-o", "--output", type=Path, default=Path("html/report"),
                   help="directory to write (default: html/report)")
    p.add_argument("--asv-results", type=Path,
                   help="asv results/ tree for the history figure (default: asv.conf.json's results_dir "
                        "or results/, when it holds asv data)")
    p.add_argument("--machine", help="asv machine for the history (default: every machine, kept apart)")
    p.add_argument("--git-repo", type=Path,
                   help="checkout of the benchmarked repository, for commit subjects at change points "
                        "(default: asv.conf.json's repo when it is a local path)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    # Imported here: matplotlib is slow to import, and the other commands must not pay for it.
    from harness.report import build, timeline

    results = args.results or [DEFAULT_RESULTS]
    asv = args.asv_results
    if asv is not None and not asv.is_dir():
        raise UsageError(f"--asv-results {asv}: not a directory")
    if asv is None:
        asv = timeline.default_results_dir()
    repo = args.git_repo if args.git_repo is not None else timeline.default_repo()
    index = build(results, args.output, asv_results=asv, machine=args.machine, repo=repo)
    print(f"report: {index}")
    print(f"        {index.parent / 'README.md'}")
    return 0
