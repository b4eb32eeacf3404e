"""Every available floor backend spawns, round-trips, streams and stops for real."""

from __future__ import annotations

import os
import sys

import pytest
import trio

from harness.backends import floor_backends
from harness.backends.floor_subint import REQUIRES
from harness.procmem import read_memory

BACKENDS = floor_backends()
AVAILABLE = [n for n, b in BACKENDS.items() if b.availability().available]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("name", AVAILABLE)
@pytest.mark.parametrize("transport", ["tcp", "uds"])
def test_backend_full_cycle(name: str, transport: str) -> None:
    backend = BACKENDS[name]
    if transport not in backend.transports:
        pytest.skip(f"{name} has no {transport} transport")

    async def main() -> None:
        async with backend.session(transport) as session:
            with trio.fail_after(30):
                child = await session.spawn()
                pid = child.pid
                if pid is not None:
                    assert _alive(pid)
                    assert read_memory(pid)["rss"] > 0
                assert await child.rpc(b"hello") == b"hello"
                assert await child.rpc(b"") == b""
                assert await child.stream(50, 4096) == 50 * 4096
                assert await child.stream(3, 1 << 20) == 3 << 20
                await child.stop()
                if pid is not None:
                    assert not _alive(pid), "stop() returned while the child still runs"

    trio.run(main)


def test_concurrent_spawns_are_distinct_children() -> None:
    backend = BACKENDS["trio"]

    async def main() -> None:
        async with backend.session("tcp") as session:
            children = []

            async def one() -> None:
                children.append(await session.spawn())

            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    for _ in range(4):
                        nursery.start_soon(one)
                assert len({c.pid for c in children}) == 4
                for i, c in enumerate(children):
                    assert await c.rpc(bytes([i])) == bytes([i])
                for c in children:
                    await c.stop()

    trio.run(main)


def test_subint_gate_names_its_reason() -> None:
    avail = BACKENDS["subint"].availability()
    if sys.version_info >= (3, 14):
        assert avail.available
    else:
        assert not avail.available
        assert avail.reason == REQUIRES


def test_fork_and_exec_children_are_separate_processes() -> None:
    async def main() -> None:
        for name in ("fork", "trio"):
            async with BACKENDS[name].session("tcp") as session:
                child = await session.spawn()
                assert child.pid is not None and child.pid != os.getpid()
                await child.stop()

    trio.run(main)


def test_private_subint_gate_names_its_reason() -> None:
    avail = BACKENDS["subint_private"].availability()
    if sys.version_info >= (3, 13):
        assert avail.available
    else:
        assert not avail.available
        assert "private _interpreters" in avail.reason


def test_private_subint_runs_for_real_on_313(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import harness, have_python

    if not have_python("3.13"):
        pytest.skip("no Python 3.13 on this machine")
    import json

    out = tmp_path / "p.json"
    cp = harness("run", "--python", "3.13", "--quick", "--backend", "subint_private,subint",
                 "--scenario", "spawn,rpc_rtt", "-o", str(out), "-q")
    assert cp.returncode == 0, cp.stderr
    cells = json.loads(out.read_text())["harness"]["cells"]
    private = [c for c in cells if c["backend"] == "subint_private"]
    assert private and all(c["status"] == "ok" for c in private)
    # the public API stays gated on 3.13: the private one is not passed off as it
    assert all(c["status"] == "unavailable" for c in cells if c["backend"] == "subint")
