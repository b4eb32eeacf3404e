"""asv benchmark suite: thin glue over :mod:`harness.measure`.

The suite sits beside the harness it drives.  An asv environment built from
``asv.conf.json`` has the harness installed; an ``existing:`` environment or a
checkout may not, so fall back to the tree this directory lives in.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import harness  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
