"""``python -m harness sensitivity``: this machine's false-alarm rate and detection power.

Runs A (no change) and B (canary delay of known size) workers of the spawn
scenario, then judges many resampled A/A and A/B comparisons with the
harness gate and with asv's and pyperf's rules.  Reports the smallest change
detected with >= 95% power at <= 1% false alarms, in ms and as % of the
backend's spawn-to-ready median.  See :mod:`harness.sensitivity`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from harness import envs, pythons
from harness.commands.common import csv_list, int_list
from harness.commands.compare import add_gate_options, gate_config
from harness.errors import UsageError
from harness.runner import PROJECT_ROOT
from harness.scenarios import JobConfig
from harness.sensitivity import (FA_TARGET, POWER_TARGET, RULE_TITLES, RULES, BackendResult, collect, evaluate,
                                 load_conditions, parse_delays, save_summary)

DEFAULT = {"rounds": 10, "values": 10, "warmups": 2, "delays": "4%,8%,12%,20%", "per_side": "3", "pairs": 400}
QUICK = {"rounds": 4, "values": 5, "warmups": 1, "delays": "600%", "per_side": "3", "pairs": 60}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sensitivity", help="measure the gate's false-alarm rate and power on this machine",
                       description="Measure this machine's false-alarm rate (A/A runs) and detection power (A/B runs "
                                   "with a canary delay) for the compare gate and for asv's and pyperf's rules.")
    p.add_argument("--backend", help="backends, comma separated (default subint; with --from: all saved)")
    p.add_argument("--python", default="auto",
                   help="one interpreter (default: current, or the first with subint when --backend has it)")
    p.add_argument("--delays", help="canary sizes: %% of the pilot median or ms (default "
                   + DEFAULT["delays"].replace("%", "%%") + ")")
    p.add_argument("--rounds", type=int, help=f"rounds of (A, A, each B) workers (default {DEFAULT['rounds']})")
    p.add_argument("--values", type=int, help=f"spawns measured per worker (default {DEFAULT['values']})")
    p.add_argument("--warmups", type=int, help=f"warm-up spawns per worker (default {DEFAULT['warmups']})")
    p.add_argument("--per-side", help="runs per side of one comparison, comma separated to see how power grows "
                   f"with runs (default {DEFAULT['per_side']}: what 'run' makes)")
    p.add_argument("--pairs", type=int, help=f"resampled comparisons per condition (default {DEFAULT['pairs']})")
    p.add_argument("--quick", action="store_true", help="a smoke pass for tests: few runs, one large delay")
    p.add_argument("--from", dest="from_dir", type=Path, help="re-judge runs saved by an earlier sensitivity run")
    p.add_argument("-o", "--output", type=Path, help="directory for the runs and sensitivity.json "
                   "(default results/harness/scratch/sensitivity-STAMP)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true")
    add_gate_options(p)
    p.set_defaults(func=main, bootstrap=1000)


def _opt(args: argparse.Namespace, name: str) -> Any:
    value = getattr(args, name)
    if value is None:
        value = (QUICK if args.quick else DEFAULT)[name]
    if isinstance(value, int) and value < (0 if name == "warmups" else 1):
        raise UsageError(f"--{name.replace('_', '-')} must be >= 1")
    return value


def _interpreter(spec: str, backends: list[str]) -> pythons.Interpreter:
    if spec == "auto":
        cur = pythons.current()
        if "subint" not in backends or cur.subint:
            return cur
        found = [i for i in pythons.discover() if i.subint and not i.free_threaded]
        if not found:
            raise UsageError("subint needs Python 3.14+; none found (see 'python -m harness pythons')")
        return found[-1]
    chosen, _ = pythons.select(spec)
    if len(chosen) != 1:
        raise UsageError("--python: sensitivity takes one interpreter")
    return chosen[0]


def _ms(s: float) -> str:
    return f"{s * 1000:.2f} ms"


def _pct(r: float) -> str:
    return "-" if not math.isfinite(r) else f"{r:.1%}"


def render(results: list[BackendResult], out_dir: Path | None) -> str:
    lines: list[str] = []
    for res in results:
        lines.append(f"sensitivity: floor.{res.backend} spawn-to-ready (spawn_warm) on {res.python}: "
                     f"median {_ms(res.a_median_s)} over {res.a_runs} A runs ({res.a_values} spawns)")
        lines.append(f"  each comparison: {res.per_side} runs a side; {res.pairs} resampled comparisons per condition")
        header = ["rule", "A/A false alarms", *(f"+{_ms(s.delay_s)} ({s.delay_s / res.a_median_s:.1%})"
                                                for s in res.sizes)]
        body = []
        for r in RULES:
            fa = res.false_alarms[r]
            row = [RULE_TITLES[r], f"{_pct(fa.rate)} ({fa.alarms}/{fa.total})"]
            row += [_pct(s.power[r].rate) for s in res.sizes]
            body.append(row)
        widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
        fmt = lambda row: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                    for i, (c, w) in enumerate(zip(row, widths)))
        measured = ", ".join(f"+{_ms(s.delay_s)}: {s.shift_s * 1000:+.2f} ms" for s in res.sizes)
        lines += ["", "  power = share of A/B comparisons called slower, by canary delay (% of the A median)",
                  f"  measured B - A medians (delay plus load that hit B's runs): {measured}",
                  "  " + fmt(header), "  " + fmt(["-" * w for w in widths]), *("  " + fmt(b) for b in body), ""]
        mbody = [[RULE_TITLES[r], f"p < {res.thresholds.get(r, math.nan):.2g}"] + [_pct(s.matched.get(r, math.nan))
                                                                                for s in res.sizes] for r in RULES]
        mheader = ["rule", "matched threshold", *header[2:]]
        mw = [max(len(h), *(len(b[i]) for b in mbody)) for i, h in enumerate(mheader)]
        mfmt = lambda row: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                     for i, (c, w) in enumerate(zip(row, mw)))
        lines += [f"  power at a matched {FA_TARGET:.0%} A/A false-alarm rate (each rule's threshold tuned on these "
                  "A/A pairs; optimistic)", "  " + mfmt(mheader), "  " + mfmt(["-" * w for w in mw]),
                  *("  " + mfmt(b) for b in mbody), ""]
        lines.append(f"  smallest change detected with >= {POWER_TARGET:.0%} power at <= {FA_TARGET:.0%} false alarms:")
        for r in RULES:
            sm = res.smallest(r)
            if not sm["fa_ok"]:
                lines.append(f"    {RULE_TITLES[r]}: fails the false-alarm target ({_pct(sm['false_alarm_rate'])} > "
                             f"{FA_TARGET:.0%})")
            elif "tested_s" not in sm:
                lines.append(f"    {RULE_TITLES[r]}: none of the tested sizes (largest "
                             f"{_ms(max((s.delay_s for s in res.sizes), default=0))})")
            else:
                lines.append(f"    {RULE_TITLES[r]}: {_ms(sm['tested_s'])} = {sm['tested_rel']:.1%} of the median "
                             f"(tested); ~{_ms(sm['interpolated_s'])} = {sm['interpolated_rel']:.1%} interpolated")
        for r in RULES:
            sm = res.smallest(r, matched=True)
            where = (f"{_ms(sm['tested_s'])} = {sm['tested_rel']:.1%} (tested); ~{_ms(sm['interpolated_s'])} = "
                     f"{sm['interpolated_rel']:.1%} interpolated") if "tested_s" in sm else "none of the tested sizes"
            lines.append(f"    {RULE_TITLES[r]}, matched threshold: {where}")
        d = res.disjoint["harness"]
        lines.append(f"  A/A, independent (disjoint consecutive blocks of the A runs): harness gate "
                     f"{d.alarms} of {d.total} called slower; asv {res.disjoint['asv'].alarms}, "
                     f"pyperf {res.disjoint['pyperf'].alarms}")
        lines.append("")
    if out_dir is not None:
        lines.append(f"runs and summary: {out_dir} (re-judge with --from {out_dir}; "
                     f"'compare {out_dir}/<backend>-A.json {out_dir}/<backend>-B-...json' replays a known change)")
    return "\n".join(lines).rstrip()


def main(args: argparse.Namespace) -> int:
    cfg = gate_config(args)
    backends = csv_list(args.backend) or ([] if args.from_dir else ["subint"])
    sides, pairs = int_list(_opt(args, "per_side"), "--per-side"), _opt(args, "pairs")
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    if args.from_dir is not None:
        out_dir = args.from_dir
        conds = load_conditions(out_dir)
        if backends:
            missing = [b for b in backends if b not in conds]
            if missing:
                raise UsageError(f"--from {out_dir}: no runs for {', '.join(missing)} (have: {', '.join(conds)})")
            conds = {b: conds[b] for b in backends}
        python = ""
    else:
        delays = parse_delays(_opt(args, "delays"))
        jc = JobConfig(warmups=_opt(args, "warmups"), values=_opt(args, "values"))
        interp = _interpreter(args.python, backends)
        interp = envs.ensure_env(interp, log=log)
        python = interp.tag
        out_dir = args.output or PROJECT_ROOT / "results" / "harness" / "scratch" / \
            f"sensitivity-{time.strftime('%Y%m%d-%H%M%S')}-{interp.tag}"
        conds = collect(interp, backends, delays, _opt(args, "rounds"), jc, out_dir, log, seed=args.seed)
    results = []
    for b, cs in conds.items():
        for k in sides:
            log(f"{b}: judging {pairs} resampled comparisons per condition, {k} runs a side")
            results.append(evaluate(cs, cfg, k, pairs, seed=args.seed, python=python or cs[0].python))
    if args.from_dir is None or args.output is not None:  # re-judging never overwrites the original summary
        out_dir = args.output or out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        save_summary(out_dir, results, {"gate": cfg.describe(), "pairs": pairs})
    if args.json:
        json.dump({"dir": str(out_dir), "gate": cfg.describe(), "backends": [r.as_json() for r in results]},
                  sys.stdout, indent=1)
        print()
    else:
        print(render(results, out_dir))
    return 0
