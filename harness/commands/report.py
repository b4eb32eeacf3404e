"""``python -m harness report``: a static perf report (index.html, README.md, SVG/PNG figures)."""

from __future__ import annotations

import argparse
import os
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


def prepare_output(out_dir: Path) -> None:
    """Create ``out_dir`` or fail with one line: it must be a writable directory."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory")
    try:
        (out_dir / "figures").mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot write the report there ({exc.strerror or exc})") from None


def main(args: argparse.Namespace) -> int:
    from harness.report.data import load

    # Every input is checked before matplotlib is imported: bad input fails in a blink.
    data = load(args.results or [DEFAULT_RESULTS])
    if not data.cells():
        raise UsageError("the result files hold no measured values (every cell failed or was unavailable)")
    asv = args.asv_results
    if asv is not None and not asv.is_dir():
        raise UsageError(f"--asv-results {asv}: not a directory")
    prepare_output(args.output)

    from harness.report import timeline
    from harness.report.build import build

    if asv is None:
        asv = timeline.default_results_dir()
    repo = args.git_repo if args.git_repo is not None else timeline.default_repo()
    index = build(data, args.output, asv_results=asv, machine=args.machine, repo=repo)
    print(f"report: {index}")
    print(f"        {index.parent / 'README.md'}")
    return 0
