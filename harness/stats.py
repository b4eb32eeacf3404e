"""Small descriptive statistics shared by tables, compare and reports."""

from __future__ import annotations

import math
from collections.abc import Sequence


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default), ``q`` in [0, 1]."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return quantile(values, 0.5)


def format_value(value: float, unit: str) -> str:
    if value != value:
        return "-"
    if unit == "byte":
        for name, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if value >= factor:
                return f"{value / factor:.1f} {name}"
        return f"{value:.0f} B"
    if unit == "second":
        for name, factor in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
            if value >= factor:
                scaled = value / factor
                return f"{scaled:.3g} {name}" if scaled < 100 else f"{scaled:.0f} {name}"
        return f"{value / 1e-9:.0f} ns"
    return f"{value:.4g}"
