"""spawn-harness: benchmark and regression tracking for tractor's spawn backends.

Kept import-free on purpose: spawned children import ``harness.childside`` and
must not pay for anything else in the package.
"""

__version__ = "0.1.0"
