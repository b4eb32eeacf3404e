"""Bad input: one clear line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import harness


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "--backend", "nope"], "unknown backend 'nope'"),
        (["run", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["run", "--python", "9.9"], "--python 9.9"),
        (["run", "--python", "/no/such/python"], "not a runnable Python"),
        (["run", "--transport", "carrier-pigeon"], "unknown transport"),
        (["run", "--canary", "subint"], "--canary"),
        (["run", "--rounds", "0"], "--rounds"),
        (["run", "--fanout", "1,x"], "--fanout"),
        (["run", "--bogus-flag"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        (["backends", "--python", "2.1"], "--python 2.1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    cp = harness(*args)
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1, cp.stderr
    assert needle in lines[0]
    assert "Traceback" not in cp.stderr


def test_backends_lists_unavailable_with_reason() -> None:
    cp = harness("backends", "--json")
    assert cp.returncode == 0, cp.stderr
    rows = {r["backend"]: r for r in json.loads(cp.stdout)}
    assert {"trio", "mp_spawn", "mp_forkserver", "fork", "subint"} <= set(rows)
    assert rows["trio"]["available"]
    if not rows["subint"]["available"]:
        assert "requires Python 3.14+" in rows["subint"]["reason"]


def test_run_json_output(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    cp = harness("run", "--quick", "--scenario", "rpc_rtt", "--backend", "fork", "--json", "-q", "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    data = json.loads(cp.stdout)
    assert data["files"] == [str(out)]
    row = next(r for r in data["rows"] if r["scenario"] == "rpc_rtt")
    assert row["backend"] == "fork" and row["n"] >= 3 and row["median"] > 0
