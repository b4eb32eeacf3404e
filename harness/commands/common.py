"""Argument helpers shared by commands."""

from __future__ import annotations

from harness.errors import UsageError


def csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError("empty list")
    return items


def int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"{what}: expected comma-separated integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise UsageError(f"{what}: expected positive integers, got {text!r}")
    return values


def size_list(text: str, what: str) -> list[int]:
    out = []
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            continue
        factor = 1
        for suffix, f in (("kib", 1 << 10), ("mib", 1 << 20), ("k", 1 << 10), ("m", 1 << 20), ("b", 1)):
            if item.endswith(suffix):
                item, factor = item[: -len(suffix)], f
                break
        try:
            value = int(item) * factor
        except ValueError:
            raise UsageError(f"{what}: cannot read size {item!r} (use 64, 4KiB, 1MiB)") from None
        if value <= 0:
            raise UsageError(f"{what}: sizes must be positive")
        out.append(value)
    if not out:
        raise UsageError(f"{what}: empty list")
    return out
