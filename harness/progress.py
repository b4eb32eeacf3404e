"""Progress lines on stderr for long runs (plain lines: readable in CI logs too)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.started = time.monotonic()

    def note(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def step(self, label: str, outcome: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        eta = ""
        if 0 < self.done < self.total:
            eta = f" eta {elapsed / self.done * (self.total - self.done):.0f}s"
        width = len(str(self.total))
        self.note(f"[{self.done:>{width}}/{self.total}] {label} {outcome} ({elapsed:.0f}s{eta})")
