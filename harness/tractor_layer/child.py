"""What a tractor child actor runs: the functions the parent calls by RPC.

Imported *inside* every child (``enable_modules=[__name__]``), so it imports
only tractor and the stdlib.  No ``from __future__ import annotations``: tractor
evaluates the ``ctx: tractor.Context`` annotation when ``@tractor.context``
decorates, and a string annotation would not be recognised.
"""

import os

import tractor

from harness import canary


def _interpreter_id() -> int | None:
    try:
        import concurrent.interpreters as interpreters  # type: ignore[import-not-found]
    except ImportError:
        return None
    return interpreters.get_current().id


async def ready(canary_key: str = "") -> dict[str, int | None]:
    """The first RPC: the child finishes booting while answering it.

    Returns where the child runs: its pid, so the parent can watch it exit, and
    its interpreter id, so the parent can watch an in-process sub-interpreter
    child (whose pid is the parent's) be destroyed.  ``canary_key`` lets
    ``--canary tractor.KEY:DELAY`` slow it down or hang it.
    """
    if canary_key:
        canary.apply(canary_key)
    return {"pid": os.getpid(), "interp": _interpreter_id()}


async def echo(payload: bytes) -> bytes:
    """One RPC round trip: the payload comes back unchanged."""
    return payload


@tractor.context
async def stream_bytes(ctx: tractor.Context, count: int, size: int) -> None:
    """Send ``count`` messages of ``size`` zero bytes over a context stream."""
    await ctx.started()
    data = bytes(size)
    async with ctx.open_stream() as stream:
        for _ in range(count):
            await stream.send(data)
