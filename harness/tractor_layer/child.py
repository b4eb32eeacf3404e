"""What a tractor child actor runs: the functions the parent calls by RPC.

Imported *inside* every child (``enable_modules=[__name__]``), so it imports
only tractor and the stdlib.  No ``from __future__ import annotations``: tractor
evaluates the ``ctx: tractor.Context`` annotation when ``@tractor.context``
decorates, and a string annotation would not be recognised.
"""

import os

import tractor

from harness import canary


async def ready(canary_key: str = "") -> int:
    """The first RPC: the child finishes booting while answering it.

    Returns the pid the child runs in, so the parent can watch it exit (and
    tell an in-process sub-interpreter child, whose pid is the parent's).
    ``canary_key`` lets ``--canary tractor.KEY:DELAY`` slow it down or hang it.
    """
    if canary_key:
        canary.apply(canary_key)
    return os.getpid()


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
