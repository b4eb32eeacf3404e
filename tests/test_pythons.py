"""Finding and provisioning interpreters, and running the matrix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from harness import pythons
from harness.errors import UsageError
from tests.conftest import ROOT, harness

SCRIPT = ROOT / "scripts" / "provision-debian-pythons.sh"


def test_discover_reports_what_each_interpreter_says() -> None:
    found = pythons.discover()
    assert found, "at least the running interpreter"
    me = f"{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"
    assert any(i.version == me for i in found)
    for interp in found[:4]:
        cp = subprocess.run([interp.executable, "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True)
        assert cp.stdout.strip() == interp.version
        assert interp.subint == (tuple(map(int, interp.minor.split("."))) >= (3, 14))


def test_pyenv_versions_are_found_when_present() -> None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    present = {p.name.rsplit(".", 1)[0] for p in root.glob("3.1[1-5].*") if (p / "bin" / "python3").exists()}
    if not present:
        pytest.skip("no pyenv versions on this machine")
    minors = {i.minor for i in pythons.discover()}
    assert present <= minors


def test_select_resolves_versions_and_rejects_absent_ones() -> None:
    found = pythons.discover()
    chosen, _ = pythons.select(found[0].minor, found)
    assert [c.tag for c in chosen] == [found[0].tag]
    all_, notes = pythons.select("all", found)
    assert len({c.tag for c in all_}) == len(all_) == len({i.tag for i in found})
    missing = {"3.12", "3.13", "3.14", "3.15"} - {i.minor for i in found}
    assert len(notes) == len(missing)
    with pytest.raises(UsageError, match="no such interpreter"):
        pythons.select("3.9", found)
    with pytest.raises(UsageError, match="expected a version"):
        pythons.select("banana", found)


def test_pythons_command_json() -> None:
    cp = harness("pythons", "--json")
    assert cp.returncode == 0, cp.stderr
    rows = json.loads(cp.stdout)
    assert {"tag", "version", "build", "executable", "subint"} <= set(rows[0])


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="provisioning needs a Debian host (apt-get)")
def test_provisioned_314_runs_subint_and_second_provision_is_a_no_op() -> None:
    # `make test` provisions before the suite; this checks what it left.
    cp = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=900)
    assert cp.returncode == 0, cp.stderr
    assert "up to date" in cp.stdout + cp.stderr
    bin_dir = subprocess.run(["bash", str(SCRIPT), "--print-bin-dir"], capture_output=True, text=True).stdout.strip()
    exe = Path(bin_dir) / "python3.14"
    interp = pythons.inspect(str(exe))
    assert interp is not None and interp.minor == "3.14" and interp.subint
    bad = subprocess.run(["bash", str(SCRIPT), "--versions", "2.7"], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_matrix_writes_one_file_per_python(quick_results: list[Path]) -> None:
    if len(quick_results) < 2:
        pytest.skip("only one Python available for the matrix")
    tags = set()
    for f in quick_results:
        suite = pyperf.BenchmarkSuite.load(str(f))
        file_tags = {b.get_metadata().get("python_tag") for b in suite}
        assert len(file_tags) == 1
        tag = file_tags.pop()
        assert f.stem.endswith(tag)
        tags.add(tag)
    assert "cp314" in tags
