"""The parent end of the process children's channel: a listener they dial back to.

Children connect, send ``READY token pid`` and then speak :mod:`harness.wire`.
The rendezvous routes each connection to the spawn waiting for that token, so
many children can come up concurrently (fan-out) over one listener.
"""

from __future__ import annotations

import itertools
import os
import tempfile

import trio

from harness import wire

_RECV_CHUNK = 256 * 1024


class FramedStream:
    """Length-prefixed frames over a trio stream, with a receive buffer."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self._buf = bytearray()

    async def _fill(self, n: int) -> None:
        while len(self._buf) < n:
            data = await self._stream.receive_some(max(_RECV_CHUNK, n - len(self._buf)))
            if not data:
                raise EOFError("child closed the connection")
            self._buf += data

    async def recv(self) -> tuple[int, bytes]:
        await self._fill(wire.HEADER.size)
        length, op = wire.HEADER.unpack_from(self._buf)
        end = wire.HEADER.size + length
        await self._fill(end)
        payload = bytes(self._buf[wire.HEADER.size:end])
        del self._buf[:end]
        return op, payload

    async def skip_frames_until(self, stop_op: int) -> int:
        """Consume frames up to and including ``stop_op``; return payload bytes seen."""
        total = 0
        while True:
            await self._fill(wire.HEADER.size)
            length, op = wire.HEADER.unpack_from(self._buf)
            end = wire.HEADER.size + length
            await self._fill(end)
            del self._buf[:end]
            if op == stop_op:
                return total
            total += length

    async def send(self, op: int, payload: bytes = b"") -> None:
        await self._stream.send_all(wire.frame(op, payload))

    async def aclose(self) -> None:
        await self._stream.aclose()


class Rendezvous:
    """A TCP or UDS listener plus the routing of ready children to their spawns."""

    def __init__(self, family: str, nursery: trio.Nursery) -> None:
        if family not in ("tcp", "uds"):
            raise ValueError(f"unknown transport {family!r}")
        self.family = family
        self._nursery = nursery
        self._waiting: dict[str, trio.MemorySendChannel[tuple[int, FramedStream]]] = {}
        self._tokens = itertools.count()
        self.address = ""
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None

    async def start(self) -> None:
        if self.family == "tcp":
            listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
            listener = listeners[0]
            host, port = listener.socket.getsockname()[:2]
            self.address = f"{host}:{port}"
        else:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="spawn-harness-")
            path = os.path.join(self._tmpdir.name, "rv.sock")
            sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
            await sock.bind(path)
            sock.listen(128)
            listener = trio.SocketListener(sock)
            self.address = path
        self._listener = listener
        self._nursery.start_soon(self._accept_loop)

    def close(self) -> None:
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def new_token(self) -> str:
        return f"c{next(self._tokens)}"

    def expect(self, token: str) -> trio.MemoryReceiveChannel[tuple[int, FramedStream]]:
        """Register interest in ``token`` *before* starting the child."""
        send, recv = trio.open_memory_channel[tuple[int, FramedStream]](1)
        self._waiting[token] = send
        return recv

    def forget(self, token: str) -> None:
        self._waiting.pop(token, None)

    async def _accept_loop(self) -> None:
        # Not trio.serve_listeners: it closes each stream when its handler
        # returns, and these streams outlive the handshake.
        while True:
            stream = await self._listener.accept()
            self._nursery.start_soon(self._handle, stream)

    async def _handle(self, stream: trio.SocketStream) -> None:
        if self.family == "tcp":
            stream.setsockopt(trio.socket.IPPROTO_TCP, trio.socket.TCP_NODELAY, True)
        framed = FramedStream(stream)
        try:
            op, payload = await framed.recv()
        except (EOFError, trio.BrokenResourceError):
            await stream.aclose()
            return
        token, _, pid = payload.decode().partition(" ")
        send = self._waiting.pop(token, None)
        if op != wire.READY or send is None:
            await stream.aclose()
            return
        # The connection now belongs to the spawn that waits for this token.
        send.send_nowait((int(pid), framed))
