"""One cached environment per Python with the tractor under test installed.

``--target tractor --tractor SPEC`` installs SPEC (see :mod:`.sources`) into a
venv per interpreter, honouring what the target itself asks for: when the
source has a ``uv.lock``, its pins (exported by ``uv export --frozen``) are the
install's constraints.  That matters: the subint branches break on trio 0.35
and their lock pins trio 0.29.  Environments live under
``~/.cache/spawn-harness/venvs``, named by interpreter, source and constraints,
so a second run reuses them.  Without ``--tractor`` the chosen interpreters
must already import tractor.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

from harness import envs
from harness.errors import UsageError
from harness.pythons import Interpreter
from harness.tractor_layer.sources import Source, resolve, src_cache

Log = Callable[[str], None] | None

_QUERY = r"""
import json, sys
out = {}
try:
    import importlib.metadata as md
    import tractor
    out["tractor_version"] = md.version("tractor")
    out["tractor_location"] = tractor.__path__[0]
    try:
        direct = json.loads(md.distribution("tractor").read_text("direct_url.json") or "{}")
        out["tractor_commit"] = direct.get("vcs_info", {}).get("commit_id", "")
    except Exception:
        pass
    import trio
    out["trio_version"] = trio.__version__
except Exception as exc:
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps(out))
"""


def query_tractor(python: str) -> dict[str, str]:
    """What tractor ``python`` imports (isolated from PYTHONPATH and the cwd)."""
    try:
        cp = subprocess.run([python, "-I", "-W", "ignore", "-c", _QUERY], capture_output=True, text=True, timeout=120)
        return json.loads(cp.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def constraints_for(src: Source) -> Path | None:
    """The source's ``uv.lock`` as a pip constraints file, or None without a lock."""
    if src.kind == "wheel" or not (src.path / "uv.lock").exists():
        return None
    out = src_cache() / f"{src.key}.constraints.txt"
    if out.exists():
        return out
    uv = envs.find_uv()
    if uv is None:
        raise UsageError(f"{src.path}/uv.lock pins tractor's dependencies; reading it needs uv (pip install uv)")
    tmp = out.with_suffix(".tmp")
    cp = subprocess.run([uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet",
                         "--format", "requirements-txt", "-o", str(tmp)], cwd=src.path, capture_output=True,
                        text=True, timeout=300)
    if cp.returncode != 0:
        tail = (cp.stderr.strip() or "no output").splitlines()[-1]
        raise UsageError(f"uv export of {src.path}/uv.lock failed: {tail[:300]}")
    tmp.replace(out)
    return out


def requires_python(src: Source) -> str | None:
    """The source's ``requires-python`` (pyproject, or the wheel's METADATA)."""
    if src.kind == "wheel":
        with zipfile.ZipFile(src.path) as zf:
            meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
            if meta is None:
                return None
            for line in zf.read(meta).decode(errors="replace").splitlines():
                if line.lower().startswith("requires-python:"):
                    return line.split(":", 1)[1].strip()
        return None
    pyproject = src.path / "pyproject.toml"
    if not pyproject.exists():
        return None
    try:
        return tomllib.loads(pyproject.read_text()).get("project", {}).get("requires-python")
    except tomllib.TOMLDecodeError:
        return None


def python_fits(spec: str | None, version: str) -> bool:
    """Does ``version`` satisfy ``spec``?  True when unknown (the installer decides)."""
    if not spec:
        return True
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:
        return True
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


def _installed(chosen: list[Interpreter]) -> tuple[list[Interpreter], dict[str, str]]:
    target: dict[str, str] = {"tractor_spec": "(installed)"}
    for interp in chosen:
        info = query_tractor(interp.executable)
        if "error" in info:
            raise UsageError(f"--target tractor: {interp.executable} cannot import tractor ({info['error']}); "
                             "pass --tractor PATH[@REF] | GIT-URL[@REF] | WHEEL")
        for key in ("tractor_version", "tractor_commit", "tractor_location"):
            if info.get(key):
                target.setdefault(key, info[key])
    return chosen, target


def prepare_interpreters(chosen: list[Interpreter], spec: str | None,
                         log: Log) -> tuple[list[Interpreter], dict[str, str]]:
    """Interpreters that import the tractor under test, and what to record about it."""
    if spec is None:
        return _installed(chosen)
    src = resolve(spec)
    constraints = constraints_for(src)
    wanted = requires_python(src)
    target = {**src.target, "tractor_constraints": "uv.lock" if constraints else "none"}
    reqs = (["-c", str(constraints)] if constraints else []) + [str(src.path)]
    ready: list[Interpreter] = []
    for interp in chosen:
        if not python_fits(wanted, interp.version):
            message = f"{interp.tag}: tractor {spec} requires Python {wanted}; {interp.version} skipped"
            if len(chosen) == 1:
                raise UsageError(message)
            if log:
                log(message)
            continue
        env = envs.ensure_env(interp, reqs, name="tractor", log=log)
        info = query_tractor(env.executable)
        if "error" in info:
            raise UsageError(f"{interp.tag}: tractor installed from {spec} does not import ({info['error']})")
        target.setdefault("tractor_version", info.get("tractor_version", ""))
        ready.append(env)
    if not ready:
        raise UsageError(f"--tractor {spec}: no chosen Python satisfies requires-python {wanted}")
    return ready, {k: v for k, v in target.items() if v}


__all__ = ["prepare_interpreters", "query_tractor", "constraints_for", "requires_python", "python_fits"]
