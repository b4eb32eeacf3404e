"""``compare`` output: an aligned terminal table, GitHub markdown, or JSON.

Changed cells come first in every format (slower, then faster, largest
first), so the answer to "did this PR regress?" is the first line read.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.compare_input import Sample
from harness.comparison import CORRECTIONS, GateConfig, Judgement, changed_first
from harness.stats import format_value


@dataclass
class Report:
    title: str
    base: str
    head: str
    cfg: GateConfig
    judgements: list[Judgement]
    only_base: list[Sample] = field(default_factory=list)
    only_head: list[Sample] = field(default_factory=list)
    gate: bool = True  # False in --baseline mode: nothing is a regression

    def counts(self) -> Counter[str]:
        return Counter(j.verdict for j in self.judgements)

    @property
    def regression(self) -> bool:
        c = self.counts()
        return self.gate and (c["slower"] + c["failed"]) > 0

    def tested(self) -> int:
        return sum(1 for j in self.judgements if math.isfinite(j.p_value))

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c[v]} {v}" for v in ("failed", "slower", "faster", "unchanged", "n.s.") if c[v]]
        if self.only_base:
            parts.append(f"{len(self.only_base)} only in base")
        if self.only_head:
            parts.append(f"{len(self.only_head)} only in head")
        return ", ".join(parts)

    def method(self) -> str:
        return f"{self.cfg.describe()}; {self.tested()} tested comparisons"


def _p(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _ci(j: Judgement) -> str:
    if not math.isfinite(j.ci_low):
        return "-"
    return f"[{j.ci_low:.3f}, {j.ci_high:.3f}]"


def _ratio(j: Judgement) -> str:
    return f"{j.ratio:.3f}x" if math.isfinite(j.ratio) else "-"


def _n(j: Judgement) -> str:
    p = j.pair
    return f"{len(p.base)}x{sum(map(len, p.base))}/{len(p.head)}x{sum(map(len, p.head))}"


def _row(j: Judgement) -> list[str]:
    u = j.pair.unit
    return [j.verdict, j.pair.python, j.pair.name, format_value(j.base_median, u), format_value(j.head_median, u),
            _ratio(j), _ci(j), _p(j.p_adjusted), _n(j), j.note]


def _header(r: Report) -> list[str]:
    corr = {"holm": "Holm", "bh": "BH", "none": "raw"}[r.cfg.correction]
    base, head = ("baseline", "subject") if not r.gate else ("base", "head")
    return ["verdict", "python", "benchmark", base, head, "ratio", f"{r.cfg.ci_level:.0%} CI", f"p ({corr})",
            "runs x n", "note"]


def render_table(r: Report) -> str:
    header = _header(r)
    body = [_row(j) for j in changed_first(r.judgements)]
    right = {3, 4, 5, 7, 8}
    widths = [max([len(h), *(len(b[i]) for b in body)]) for i, h in enumerate(header)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    title = f"{r.title}: {r.base} -> {r.head}" if r.gate else f"{r.title} ({r.base}); ratio = subject / baseline"
    lines = [title, "", fmt(header), fmt(["-" * w for w in widths]), *map(fmt, body)]
    for label, items in (("only in base", r.only_base), ("only in head", r.only_head)):
        if items:
            lines.append(f"{label}: " + ", ".join(f"{s.python} {s.name}" for s in items))
    lines += ["", f"{r.summary()}", f"method: {r.method()}"]
    if r.gate:
        lines.append("result: REGRESSION" if r.regression else "result: no regression")
    return "\n".join(lines)


def _md_table(r: Report, items: list[Judgement]) -> list[str]:
    header = _header(r)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i in (3, 4, 5, 7) else "---"
                                                             for i in range(len(header))) + "|"]
    for j in items:
        cells = _row(j)
        if j.changed or j.verdict == "failed":
            cells[0] = f"**{cells[0]}**"
            cells[5] = f"**{cells[5]}**"
        cells[2] = f"`{cells[2]}`"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


def render_markdown(r: Report) -> str:
    ordered = changed_first(r.judgements)
    changed = [j for j in ordered if j.changed or j.verdict == "failed"]
    rest = [j for j in ordered if j not in changed]
    rest_label = "unchanged" if r.gate else "not significant"
    verdict = ("regression" if r.regression else "no regression") if r.gate else "comparison"
    lines = [f"### {r.title}: {verdict} ({r.summary()})", "",
             f"`{r.base}` → `{r.head}`" if r.gate else f"`{r.base}`, ratio = subject / baseline", ""]
    if changed:
        lines += _md_table(r, changed) + [""]
    if rest:
        lines += [f"<details><summary>{len(rest)} {rest_label}</summary>", "", *_md_table(r, rest), "", "</details>", ""]
    for label, items in (("Only in base", r.only_base), ("Only in head", r.only_head)):
        if items:
            lines.append(f"{label}: " + ", ".join(f"`{s.python} {s.name}`" for s in items))
            lines.append("")
    lines.append(f"<sub>{r.method()}</sub>")
    return "\n".join(lines)


def as_json(r: Report) -> dict[str, Any]:
    return {
        "title": r.title, "base": r.base, "head": r.head, "gate": r.gate, "regression": r.regression,
        "summary": dict(r.counts()),
        "method": {"test": "mann-whitney-u two-sided", "correction": CORRECTIONS[r.cfg.correction],
                   "alpha": r.cfg.alpha, "min_change": r.cfg.min_change, "ci_level": r.cfg.ci_level,
                   "ci": "percentile, two-stage cluster bootstrap (runs, then values within runs)",
                   "bootstrap": r.cfg.bootstrap, "seed": r.cfg.seed, "tested": r.tested()},
        "rows": [j.as_json() for j in changed_first(r.judgements)],
        "only_base": [{"python": s.python, "name": s.name} for s in r.only_base],
        "only_head": [{"python": s.python, "name": s.name} for s in r.only_head],
    }
