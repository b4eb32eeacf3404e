"""What runs inside every floor child: connect back, say ready, serve, exit.

Stdlib only, and the package ``__init__`` is empty, so a child pays for the
interpreter and ``socket`` and nothing else: the floor is the mechanism's cost.
Entry points:

- ``python -m harness.childside FAMILY ADDRESS TOKEN BACKEND`` (the ``trio`` floor);
- :func:`socket_entry` (multiprocessing targets and ``os.fork`` children);
- :func:`serve_queue` (run inside a sub-interpreter).
"""

from __future__ import annotations

import os
import socket
import sys
import time

from harness import canary, wire


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise EOFError("parent closed the connection")
        got += k
    return bytes(buf)


def _connect(family: str, address: str) -> socket.socket:
    if family == "uds":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address)
    else:
        host, _, port = address.rpartition(":")
        sock = socket.create_connection((host, int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def serve_socket(family: str, address: str, token: str, backend: str) -> None:
    """Connect to the parent, report ready, answer requests until STOP or EOF."""
    canary.apply(backend)
    sock = _connect(family, address)
    try:
        sock.sendall(wire.frame(wire.READY, f"{token} {os.getpid()}".encode()))
        while True:
            length, op = wire.HEADER.unpack(_recv_exact(sock, wire.HEADER.size))
            payload = _recv_exact(sock, length) if length else b""
            if op == wire.ECHO:
                sock.sendall(wire.frame(wire.ECHO, payload))
            elif op == wire.STREAM:
                count, size = wire.STREAM_REQUEST.unpack(payload)
                data = wire.frame(wire.DATA, bytes(size))
                for _ in range(count):
                    sock.sendall(data)
                sock.sendall(wire.frame(wire.END))
            elif op == wire.STOP:
                return
    except EOFError:
        return
    finally:
        sock.close()


def socket_entry(family: str, address: str, token: str, backend: str) -> None:
    """Target for multiprocessing children and forked children."""
    serve_socket(family, address, token, backend)


def queue_getter(q: object):  # type: ignore[no-untyped-def]
    """A blocking ``get`` for an interpreter queue that wakes within microseconds.

    ``concurrent.interpreters.Queue.get`` polls with a fixed 10 ms sleep, which
    would make every round trip cost ~10 ms: a property of that convenience
    method, not of sub-interpreters.  The floor polls ``get_nowait`` with an
    exponential back-off from 20 us to 1 ms instead.
    """
    from concurrent.interpreters import QueueEmpty  # type: ignore[import-not-found]

    get_nowait = q.get_nowait  # type: ignore[attr-defined]

    def get() -> bytes:
        delay = 20e-6
        while True:
            try:
                return get_nowait()
            except QueueEmpty:
                time.sleep(delay)
                delay = min(delay * 2, 1e-3)

    return get


def serve_queue(q_in: object, q_out: object, backend: str) -> None:
    """The sub-interpreter side: the same protocol over two interpreter queues."""
    canary.apply(backend)
    put = q_out.put  # type: ignore[attr-defined]
    get = queue_getter(q_in)
    put(bytes([wire.READY]))
    while True:
        msg = get()
        op = msg[0]
        if op == wire.ECHO:
            put(msg)
        elif op == wire.STREAM:
            count, size = wire.STREAM_REQUEST.unpack(msg[1:])
            data = bytes([wire.DATA]) + bytes(size)
            for _ in range(count):
                put(data)
            put(bytes([wire.END]))
        elif op == wire.STOP:
            return


def main(argv: list[str]) -> int:
    if len(argv) == 1 and argv[0] == "--exit":
        # Used by outside timers (hyperfine) to time this child's start-up alone.
        return 0
    family, address, token, backend = argv
    serve_socket(family, address, token, backend)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
