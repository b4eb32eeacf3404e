"""The floor children's message format, shared by parent and child.

A frame is ``!IB`` (payload length, opcode) followed by the payload.  The same
opcodes travel over sockets (process backends) and interpreter queues (subint),
where a message is ``bytes([op]) + payload``.  Stdlib only.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct("!IB")
STREAM_REQUEST = struct.Struct("!II")  # count, size

READY = 1
ECHO = 2
STREAM = 3
DATA = 4
END = 5
STOP = 6


def frame(op: int, payload: bytes = b"") -> bytes:
    return HEADER.pack(len(payload), op) + payload
