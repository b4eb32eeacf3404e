"""``README.md``: the same report as tables and PNGs, for a repository or a PR comment.

bench_runner-style: headline numbers, then each figure (PNG, which every
Markdown viewer shows) with its table.  Markdown renderers pass raw HTML
through, so untrusted strings get HTML escaping *and* Markdown escaping
(:func:`md`); commands go in a fence longer than any backtick run inside.
"""

from __future__ import annotations

import re

from harness.report.environment import Environment
from harness.report.model import Section, Table
from harness.report.page import Page

#: Inline Markdown syntax.  Block syntax (``#``, ``-``, ``>`` at a line start)
#: cannot arise: every untrusted string lands mid-line (table cell, after a label).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(value: object) -> str:
    """One line of inert Markdown text: HTML entities for ``& < >``, backslashes for inline syntax."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def fence(text: str, info: str = "") -> str:
    """A code block that ``text`` cannot close early (a fence longer than its longest backtick run)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def table(t: Table) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(md(c) for c in cells) + " |"

    align = ["---:" if i in t.numeric else "---" for i in range(len(t.header))]
    lines = [row(t.header), "| " + " | ".join(align) + " |", *(row(r) for r in t.rows)]
    cap = f"*{md(t.caption)}*\n\n" if t.caption else ""
    return cap + "\n".join(lines)


def _env(env: Environment) -> str:
    parts = ["## Environment", ""]
    parts += [f"> **Warning:** {md(w)}\n" for w in env.warnings] or ["No warnings.\n"]
    parts += [f"- {md(n)}" for n in env.notes]
    parts.append("")
    parts.append(table(Table(["machine", "value"], [[k, v] for k, v in env.facts])))
    parts.append("")
    parts.append("Produced by:")
    parts.append("")
    for command, files in env.commands:
        parts.append(fence(command, "sh"))
        parts.append(f"→ {md(files)}")
        parts.append("")
    if env.pythons:
        parts += [table(env.pythons), ""]
    if env.not_measured:
        parts += ["Not measured:", "", table(env.not_measured), ""]
    return "\n".join(parts)


def _section(sec: Section) -> str:
    parts = [f"## {md(sec.title)}", "", md(sec.lead), ""]
    parts += [f"*{md(n)}*\n" for n in sec.notes]
    for fig in sec.saved:
        parts += [f"![{md(fig.title)}]({fig.png})", ""]
    for t in sec.tables:
        parts += [table(t), ""]
    return "\n".join(parts)


def render(page: Page) -> str:
    parts = [f"# {md(page.title)}", "", md(page.subtitle), ""]
    if page.headlines:
        parts.append(table(Table(["at a glance", "value", "where"],
                                 [[h.label, h.value, h.detail] for h in page.headlines])))
        parts.append("")
    parts.append("The same report with interactive-size figures: [index.html](index.html).")
    parts.append("")
    parts.append(_env(page.env))
    parts += [_section(s) for s in page.sections]
    parts.append(f"---\nGenerated {md(page.generated)} by `python -m harness report`.\n")
    return "\n".join(parts)
