"""Errors a user can cause; the CLI turns them into one line and exit status 2."""


class UsageError(Exception):
    """Bad input: unknown backend, missing Python, malformed result file..."""
