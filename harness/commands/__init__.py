"""One module per ``python -m harness`` command (asv's layout)."""
