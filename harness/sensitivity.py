"""How good is the gate on this machine?  False alarms and power, measured.

A gate's statistics are only a model; what matters is how often it cries
wolf when nothing changed and how often it misses a change of a given size,
*here*, with this machine's noise.  So we measure both:

* **A** workers: the backend's spawn scenario, no change.
* **B** workers: the same, with the canary (:mod:`harness.canary`) making
  every child sleep ``d`` before it reports ready -- a regression of known
  size, at several sizes (given in ms or as % of A's spawn-to-ready median,
  measured by a short pilot).

All workers are fresh processes, run in rotated rounds (A, A, B1, B2, ...)
so drift lands on every condition alike; each condition is saved as a
normal harness result file, so ``compare A.json B-10pct.json`` replays a
known regression and ``sensitivity --from DIR`` re-judges without running.

Runs are expensive and comparisons are cheap, so the runs are *reused*: a
comparison takes ``k`` runs a side (``k`` = the rounds a real ``run`` makes),
and many comparisons are resampled from the pools -- A/A pairs from disjoint
random subsets of the A pool (the false-alarm rate), A/B pairs from the A
pool and each B pool (the power at that size).  Resampled pairs share runs,
so they are not independent: the rate is unbiased but its uncertainty is
larger than a binomial count suggests.  The strictly independent A/A count
(consecutive disjoint blocks of the A pool) is reported beside it.

The same resampled pairs are judged by the harness gate and by the two
anchors, so they can be compared on equal terms -- as configured, and with
each rule's p-value threshold tuned so that exactly 1% of the A/A pairs
alarm (power at a matched false-alarm rate: what each statistic could do if
calibrated to this machine; optimistic, as it is tuned on the same pairs):

* asv's compare rule: Mann-Whitney U p < 0.002 (asv's ``is_different``,
  with its 99%-CI fallback when samples are too few) and a factor of 1.1;
* pyperf's compare_to: Student's t-test at 95%, no minimum change.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import canary, procs
from harness.comparison import GateConfig, Pair, judge
from harness.errors import UsageError
from harness.pythons import Interpreter
from harness.results import ResultWriter, load_file
from harness.runner import CellSpec, Plan, Runner
from harness.scenarios import JobConfig
from harness.stats import median
from harness.sysinfo import load_avg_1min

SCENARIO = "spawn_warm"  # spawn to ready, a warm session: what the canary delays
POWER_TARGET = 0.95
FA_TARGET = 0.01


# -- collecting runs ----------------------------------------------------------------
@dataclass
class Condition:
    backend: str
    name: str  # "A", "B-10pct", "B-2ms"
    delay: float  # seconds of canary delay (0 for A)
    requested: str  # as asked: "10%", "2ms", ""
    path: Path
    runs: list[list[float]] = field(default_factory=list)
    python: str = ""

    @property
    def is_a(self) -> bool:
        return self.delay == 0


def parse_delays(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError("--delays: empty list")
    for t in items:
        if t.endswith("%"):
            try:
                v = float(t[:-1])
            except ValueError:
                raise UsageError(f"--delays: cannot read {t!r}") from None
        else:
            try:
                v = canary.parse_delay(t)
            except ValueError:
                raise UsageError(f"--delays: cannot read {t!r} (use 10% or 2ms)") from None
        if not (v > 0 and math.isfinite(v)):
            raise UsageError(f"--delays: {t!r} must be a positive size")
    return items


def _delay_seconds(item: str, pilot_median: float) -> float:
    return float(item[:-1]) / 100 * pilot_median if item.endswith("%") else canary.parse_delay(item)


def _cond_name(item: str) -> str:
    return "B-" + re.sub(r"[^0-9a-zA-Z.]+", "", item.replace("%", "pct"))


class Collector:
    """Runs A and B workers through :class:`harness.runner.Runner`, one worker at a time.

    Uses the runner's per-worker API (probe, prime, run_worker) rather than
    ``Runner.run``: the canary must change between consecutive workers, and
    ``run`` applies one environment to the whole plan.
    """

    def __init__(self, interp: Interpreter, backends: list[str], cfg: JobConfig, out_dir: Path,
                 log: Callable[[str], None]) -> None:
        self.interp = interp
        self.backends = backends
        self.cfg = cfg
        self.out_dir = out_dir
        self.log = log
        self.runner = Runner(Plan(interpreters=[interp], backends=backends, jobs=["spawn"], config=cfg, rounds=1),
                             progress_quiet=True)
        self.writers: dict[tuple[str, str], ResultWriter] = {}
        self.transport: dict[str, str] = {}
        self.python_meta: dict[str, Any] = {}
        self.workers = 0
        self.failed = 0

    def prepare(self) -> None:
        probe = self.runner.probe(self.interp, "floor")
        self.python_meta = probe["python"]
        for b in self.backends:
            info = probe["backends"].get(b)
            if info is None:
                raise UsageError(f"unknown backend {b!r} (known: {', '.join(sorted(probe['backends']))})")
            if not info["available"]:
                raise UsageError(f"{self.interp.tag}: backend {b} unavailable: {info['reason']}")
            self.transport[b] = info["transports"][0]
        self.log(f"{self.interp.tag}: priming the bytecode cache")
        self.runner.prime(self.interp, "floor")

    def writer(self, cond: Condition) -> ResultWriter:
        key = (cond.backend, cond.name)
        if key not in self.writers:
            meta = {**self.runner.machine, "command": "python -m harness sensitivity", "run_id": self.runner.run_id,
                    "python": self.python_meta, "config": asdict(self.cfg),
                    "sensitivity": {"backend": cond.backend, "condition": cond.name, "delay_s": cond.delay,
                                    "requested": cond.requested, "scenario": SCENARIO}}
            self.writers[key] = ResultWriter(cond.path, meta)
        return self.writers[key]

    def run_one(self, cond: Condition, round_no: int) -> None:
        spec = f"{cond.backend}:{cond.delay * 1000:.6f}ms" if cond.delay > 0 else ""
        self.runner.plan.extra_env = {canary.ENV_VAR: spec}
        cell = CellSpec(self.interp, "floor", cond.backend, "spawn", self.transport[cond.backend])
        t0 = time.monotonic()
        load = load_avg_1min()
        output = self.runner.run_worker(cell)
        record = {"layer": "floor", "backend": cond.backend, "job": "spawn", "transport": cell.transport,
                  "round": round_no, "duration": round(time.monotonic() - t0, 3), "python_tag": self.interp.tag}
        w = self.writer(cond)
        w.add(record, output, {**self.runner.machine, "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                               "load_avg_1min": load, "canary": spec or "none"})
        w.save()
        self.workers += 1
        values = next((s["values"] for s in output.get("benchmarks", []) if s.get("scenario") == SCENARIO), None)
        if output.get("status") == "ok" and values:
            cond.runs.append([float(v) for v in values])
        else:
            self.failed += 1
            self.log(f"  {cond.backend} {cond.name}: worker {output.get('status')}: {output.get('reason', '')}")

    def close(self) -> None:
        procs.kill_marked(self.runner.run_id)
        self.runner.close()


def collect(interp: Interpreter, backends: list[str], delays: list[str], rounds: int, cfg: JobConfig,
            out_dir: Path, log: Callable[[str], None], seed: int = 0) -> dict[str, list[Condition]]:
    """Pilot, then ``rounds`` rotated rounds of (A, A, B...) per backend.  Returns conditions per backend."""
    out_dir.mkdir(parents=True, exist_ok=True)
    col = Collector(interp, backends, cfg, out_dir, log)
    rng = np.random.default_rng(seed)
    try:
        col.prepare()
        conds: dict[str, list[Condition]] = {}
        for b in backends:
            a = Condition(b, "A", 0.0, "", out_dir / f"{b}-A.json")
            conds[b] = [a]
            for i in range(2):
                col.run_one(a, -1 - i)
            if not a.runs:
                raise UsageError(f"{b}: the pilot workers measured nothing (see the lines above)")
            # The lower run median: a neighbour's load inflates a run, never deflates it.
            m = min(median(r) for r in a.runs)
            log(f"{b}: pilot spawn-to-ready median {m * 1000:.2f} ms")
            for item in delays:
                d = _delay_seconds(item, m)
                name = _cond_name(item)
                conds[b].append(Condition(b, name, d, item, out_dir / f"{b}-{name}.json"))
        schedule: list[Condition] = []
        for b in backends:
            a, *bs = conds[b]
            schedule += [a, a, *bs]
        total = rounds * len(schedule)
        t0 = time.monotonic()
        done = 0
        for r in range(rounds):
            order = list(schedule)
            rng.shuffle(order)  # type: ignore[arg-type]
            for cond in order:
                col.run_one(cond, r)
                done += 1
                el = time.monotonic() - t0
                log(f"[{done}/{total}] r{r + 1} {cond.backend} {cond.name} "
                    f"({el:.0f}s, eta {el / done * (total - done):.0f}s)")
        return conds
    finally:
        col.close()


def load_conditions(directory: Path) -> dict[str, list[Condition]]:
    """Conditions saved by an earlier :func:`collect` (``--from DIR``)."""
    if not directory.is_dir():
        raise UsageError(f"--from {directory}: no such directory")
    conds: dict[str, list[Condition]] = {}
    for path in sorted(directory.glob("*.json")):
        if path.name == "sensitivity.json":
            continue
        rs = load_file(path)
        meta = next((m.get("sensitivity") for m in rs.metadata if isinstance(m.get("sensitivity"), dict)), None)
        if meta is None:
            continue
        cell = next((c for c in rs.cells.values() if c.scenario == SCENARIO), None)
        cond = Condition(str(meta["backend"]), str(meta["condition"]), float(meta["delay_s"]),
                         str(meta.get("requested", "")), path, [list(r) for r in (cell.runs if cell else [])],
                         cell.python if cell else "")
        conds.setdefault(cond.backend, []).append(cond)
    if not conds:
        raise UsageError(f"--from {directory}: no sensitivity result files in it")
    for b, cs in conds.items():
        cs.sort(key=lambda c: c.delay)
        if not cs[0].is_a:
            raise UsageError(f"--from {directory}: no A (no-delay) runs for {b}")
    return conds


# -- judging ------------------------------------------------------------------------
def _asv_slower(base: list[float], head: list[float]) -> bool:
    """asv compare: different (U p < 0.002, or 99% CIs apart when samples are few) and 10% worse."""
    try:
        from asv import _stats  # type: ignore[import-untyped]
        from asv_runner.statistics import compute_stats  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - asv is a declared dependency
        return False
    (rb, sb), (rh, sh) = compute_stats(base, 1), compute_stats(head, 1)
    if rb is None or rh is None:
        return False
    return bool(_stats.is_different(base, head, sb, sh)) and rh > rb * 1.1


def _pyperf_slower(base: list[float], head: list[float]) -> bool:
    """pyperf compare_to: Student's t-test at 95%, no minimum; slower when the mean grew."""
    from pyperf._utils import is_significant  # type: ignore[import-untyped]

    if len(base) < 2 or len(head) < 2:
        return True  # pyperf calls two single values significant
    significant, _ = is_significant(base, head)
    return bool(significant) and sum(head) / len(head) > sum(base) / len(base)


RULES = ("harness", "harness-nomin", "asv", "pyperf")
RULE_TITLES = {
    "harness": "harness gate",
    "harness-nomin": "harness, no min change",
    "asv": "asv (U p<0.002, x1.1)",
    "pyperf": "pyperf (t-test 95%)",
}


def judge_pair(base: list[list[float]], head: list[list[float]], cfg: GateConfig,
               seed: int) -> tuple[dict[str, str], dict[str, float]]:
    """Every rule's verdict (``slower``, ``faster`` or ``""``) on one comparison, and
    its score for "slower": the rule's p-value when its direction/size condition
    holds, else 1 (for thresholds matched to a false-alarm rate)."""
    from scipy.stats import ttest_ind

    pair = Pair(("x",), "", SCENARIO, "second", base, head)
    one = GateConfig(alpha=cfg.alpha, min_change=0.0, ci_level=cfg.ci_level, correction="none",
                     bootstrap=cfg.bootstrap, seed=seed)
    j = judge([pair], one)[0]
    nomin = j.verdict if j.verdict in ("slower", "faster") else ""
    grow = 1 + cfg.min_change
    gate = ""
    if nomin == "slower" and j.ratio >= grow:
        gate = "slower"
    elif nomin == "faster" and j.ratio <= 1 / grow:
        gate = "faster"
    fb = [v for r in base for v in r]
    fh = [v for r in head for v in r]
    asv = "slower" if _asv_slower(fb, fh) else "faster" if _asv_slower(fh, fb) else ""
    pyp = ""
    if _pyperf_slower(fb, fh):
        pyp = "slower"
    elif _pyperf_slower(fh, fb):
        pyp = "faster"
    verdicts = {"harness": gate, "harness-nomin": nomin, "asv": asv, "pyperf": pyp}
    p = j.p_value if math.isfinite(j.p_value) else 1.0
    p_u = j.p_mwu if math.isfinite(j.p_mwu) else 1.0
    mean_up = sum(fh) / len(fh) > sum(fb) / len(fb)
    p_t = float(ttest_ind(fh, fb).pvalue) if len(fb) > 1 and len(fh) > 1 else 1.0
    scores = {
        "harness": p if j.ratio >= grow else 1.0,
        "harness-nomin": p if j.ratio > 1 else 1.0,
        "asv": p_u if j.ratio > 1.1 else 1.0,
        "pyperf": (p_t if math.isfinite(p_t) else 1.0) if mean_up else 1.0,
    }
    return verdicts, scores


def matched_threshold(null_scores: Sequence[float], rate: float = FA_TARGET) -> float:
    """The largest threshold t with at most ``rate`` of the null scores ``< t``."""
    xs = sorted(null_scores)
    allowed = int(math.floor(rate * len(xs) + 1e-9))
    return xs[allowed] if allowed < len(xs) else math.inf


@dataclass
class Rate:
    alarms: int
    total: int

    @property
    def rate(self) -> float:
        return self.alarms / self.total if self.total else math.nan


@dataclass
class SizeResult:
    condition: str
    requested: str
    delay_s: float
    runs: int
    median_s: float
    shift_s: float  # median(B) - median(A): the delay plus whatever load did to B's runs
    shift_rel: float
    power: dict[str, Rate]
    matched: dict[str, float] = field(default_factory=dict)  # power at the matched false-alarm threshold


@dataclass
class BackendResult:
    backend: str
    python: str
    a_runs: int
    a_values: int
    a_median_s: float
    per_side: int
    pairs: int
    false_alarms: dict[str, Rate]  # "slower" verdicts on A/A
    any_alarms: dict[str, Rate]  # either direction on A/A
    disjoint: dict[str, Rate]  # A/A on consecutive disjoint blocks (independent)
    sizes: list[SizeResult]
    thresholds: dict[str, float] = field(default_factory=dict)  # matched to FA_TARGET on the A/A pairs

    def smallest(self, rule: str, matched: bool = False) -> dict[str, Any]:
        """The smallest tested size with power >= 95%, and a linear interpolation to 95%.

        ``matched``: with the rule's threshold tuned to a 1% A/A false-alarm rate."""
        fa = FA_TARGET if matched else self.false_alarms[rule].rate
        out: dict[str, Any] = {"rule": rule, "false_alarm_rate": fa, "fa_ok": fa <= FA_TARGET}
        if matched:
            out["threshold"] = self.thresholds.get(rule)
        # By the injected delay: it is the known truth (the canary sleeps exactly
        # that long); the measured shift also carries load that hit B's runs.
        ordered = sorted(self.sizes, key=lambda s: s.delay_s)
        prev: SizeResult | None = None

        def power(s: SizeResult) -> float:
            return s.matched.get(rule, math.nan) if matched else s.power[rule].rate

        for s in ordered:
            p = power(s)
            if p >= POWER_TARGET:
                out.update(tested_s=s.delay_s, tested_rel=s.delay_s / self.a_median_s, tested_condition=s.condition)
                lo_shift, lo_p = (prev.delay_s, power(prev)) if prev else (0.0, fa)
                if p > lo_p:
                    x = lo_shift + (POWER_TARGET - lo_p) / (p - lo_p) * (s.delay_s - lo_shift)
                else:
                    x = s.delay_s
                out.update(interpolated_s=x, interpolated_rel=x / self.a_median_s)
                return out
            prev = s
        return out

    def as_json(self) -> dict[str, Any]:
        def rates(d: dict[str, Rate]) -> dict[str, Any]:
            return {k: {"alarms": v.alarms, "total": v.total, "rate": v.rate} for k, v in d.items()}

        return {
            "backend": self.backend, "python": self.python, "scenario": SCENARIO,
            "a_runs": self.a_runs, "a_values": self.a_values, "a_median_s": self.a_median_s,
            "per_side": self.per_side, "pairs": self.pairs,
            "false_alarms": rates(self.false_alarms), "any_alarms": rates(self.any_alarms),
            "disjoint_aa": rates(self.disjoint),
            "sizes": [{**{k: v for k, v in asdict(s).items() if k != "power"}, "power": rates(s.power)}
                      for s in self.sizes],
            "matched_thresholds": self.thresholds,
            "smallest_detectable": {r: self.smallest(r) for r in RULES},
            "smallest_detectable_matched": {r: self.smallest(r, matched=True) for r in RULES},
        }


def evaluate(conds: Sequence[Condition], cfg: GateConfig, per_side: int, pairs: int, seed: int = 0,
             python: str = "") -> BackendResult:
    a = next(c for c in conds if c.is_a)
    bs = [c for c in conds if not c.is_a]
    k = per_side
    if len(a.runs) < 2 * k:
        raise UsageError(f"{a.backend}: {len(a.runs)} A runs; need at least {2 * k} for {k} runs a side "
                         "(more --rounds or fewer --per-side)")
    rng = np.random.default_rng(seed)
    fa = {r: Rate(0, 0) for r in RULES}
    anya = {r: Rate(0, 0) for r in RULES}
    null_scores: dict[str, list[float]] = {r: [] for r in RULES}
    for i in range(pairs):
        perm = rng.permutation(len(a.runs))
        base = [a.runs[j] for j in perm[:k]]
        head = [a.runs[j] for j in perm[k:2 * k]]
        verdicts, scores = judge_pair(base, head, cfg, seed + i)
        for r, sc in scores.items():
            null_scores[r].append(sc)
        for r, v in verdicts.items():
            fa[r].total += 1
            anya[r].total += 1
            fa[r].alarms += v == "slower"
            anya[r].alarms += v != ""
    disjoint = {r: Rate(0, 0) for r in RULES}
    for start in range(0, len(a.runs) - 2 * k + 1, 2 * k):
        verdicts, _ = judge_pair(a.runs[start:start + k], a.runs[start + k:start + 2 * k], cfg, seed)
        for r, v in verdicts.items():
            disjoint[r].total += 1
            disjoint[r].alarms += v == "slower"
    thresholds = {r: matched_threshold(null_scores[r]) for r in RULES}
    a_med = median([v for r in a.runs for v in r])
    sizes = []
    for b in bs:
        if len(b.runs) < k:
            continue
        power = {r: Rate(0, 0) for r in RULES}
        hits = {r: 0 for r in RULES}
        for i in range(pairs):
            base = [a.runs[j] for j in rng.choice(len(a.runs), k, replace=False)]
            head = [b.runs[j] for j in rng.choice(len(b.runs), k, replace=False)]
            verdicts, scores = judge_pair(base, head, cfg, seed + pairs + i)
            for r, v in verdicts.items():
                power[r].total += 1
                power[r].alarms += v == "slower"
                hits[r] += scores[r] < thresholds[r]
        b_med = median([v for r in b.runs for v in r])
        sizes.append(SizeResult(b.name, b.requested, b.delay, len(b.runs), b_med, b_med - a_med,
                                b_med / a_med - 1, power, {r: hits[r] / pairs for r in RULES}))
    return BackendResult(a.backend, python, len(a.runs), sum(map(len, a.runs)), a_med, k, pairs,
                         fa, anya, disjoint, sizes, thresholds)


def save_summary(out_dir: Path, results: list[BackendResult], extra: dict[str, Any]) -> Path:
    path = out_dir / "sensitivity.json"
    path.write_text(json.dumps({**extra, "backends": [r.as_json() for r in results]}, indent=1))
    return path
