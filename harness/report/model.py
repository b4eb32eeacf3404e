"""The report's parts, independent of how they are rendered (HTML page or README).

Every figure module returns a :class:`Section`: its matplotlib figures (not yet
saved, so tests can inspect the objects), a caption saying how to read them,
and the numbers behind them as plain-text tables.  Strings here are raw, never
pre-escaped: each renderer escapes for its own format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from matplotlib.figure import Figure

from harness.report.style import SavedFigure


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    #: Column indices to right-align (numbers).
    numeric: set[int] = field(default_factory=set)
    caption: str = ""


@dataclass
class Section:
    id: str
    title: str
    #: One short paragraph: what is drawn and what to look for.
    lead: str
    figures: dict[str, Figure] = field(default_factory=dict)
    saved: list[SavedFigure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    #: Why something is missing (no subint data, no asv history...).
    notes: list[str] = field(default_factory=list)


@dataclass
class Headline:
    """A big number at the top of the page: label, value, and a line of context."""

    label: str
    value: str
    detail: str
    tone: str = "neutral"  # neutral | good | warn


def figure_section(id: str, title: str, lead: str, fig: Figure | None,
                   table: Callable[[], Table], empty: str) -> Section:
    """A section of one figure (keyed by the section id) and its table, or a
    note saying the results hold nothing to draw."""
    sec = Section(id=id, title=title, lead=lead)
    if fig is None:
        sec.notes.append(empty)
        return sec
    sec.figures[id] = fig
    sec.tables.append(table())
    return sec
