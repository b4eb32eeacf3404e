"""asv benchmark suite: thin glue over :mod:`harness.measure`.

The suite sits beside the harness it drives and imports *that* harness, the
checkout's, ahead of any installed copy: asv reads ``benchmarks/`` from the
checkout on every run but reinstalls an environment only when the benchmarked
tractor commit changes, so an installed harness can be older than the suite.
(``harness.measure`` puts the same directory on its children's PYTHONPATH.)
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if (Path(_ROOT) / "harness" / "measure.py").exists() and "harness" not in sys.modules:
    if _ROOT in sys.path:
        sys.path.remove(_ROOT)
    sys.path.insert(0, _ROOT)
