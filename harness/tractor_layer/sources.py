"""Turning ``--tractor SPEC`` into an immutable source to install from.

SPEC is a checkout (``PATH``), a commit of one (``PATH@REF``), a git URL with an
optional ``@REF``, or a wheel.  Every form ends as a directory (or wheel) under
``~/.cache/spawn-harness/src`` named by what it contains (commit sha or content
hash), so the environment built from it can be cached by that name and a
second run reuses it.  A checkout with uncommitted changes is copied as it is
and marked dirty: results must say they did not come from a commit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.sysinfo import cache_dir
from harness.errors import UsageError

#: Directory names never copied out of a non-git source tree.
SKIP_DIRS: frozenset[str] = frozenset({".git", ".venv", "venv", "__pycache__", "build", "dist", ".pytest_cache",
                                       ".mypy_cache", ".ruff_cache", ".tox", ".nox"})


@dataclass
class Source:
    """Where to install tractor from, and what to record about it."""

    path: Path  # a source directory or a .whl file, immutable once made
    kind: str  # git | path | wheel
    target: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.path.name


def src_cache() -> Path:
    return cache_dir() / "src"


def _git(args: list[str], cwd: Path | None = None, what: str = "git") -> str:
    try:
        cp = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{what}: {exc}") from None
    if cp.returncode != 0:
        tail = (cp.stderr.strip() or cp.stdout.strip()).splitlines()[-1:] or [f"exit {cp.returncode}"]
        raise UsageError(f"{what}: {tail[0][:300]}")
    return cp.stdout


def _is_git(path: Path) -> bool:
    try:
        cp = subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, text=True,
                            timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return cp.returncode == 0


def split_spec(spec: str) -> tuple[str, str | None]:
    """``base@ref`` -> (base, ref); a spec that exists as a path has no ref.

    For URLs an ``@`` only starts a ref after the repository path (so
    ``git@host:repo`` and ``https://user@host/repo`` keep their ``@``).
    """
    if os.path.exists(spec):
        return spec, None
    base, sep, ref = spec.rpartition("@")
    if not sep or not base or not ref or ":" in ref:
        return spec, None
    if "://" in base:
        host_and_path = base.split("://", 1)[1]
        if "/" not in host_and_path:
            return spec, None
    elif os.path.exists(base):
        return base, ref
    elif not is_url(base):
        return spec, None
    return base, ref


def is_url(text: str) -> bool:
    return "://" in text or text.startswith(("git+", "git@"))


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit ``ref`` names in ``repo``; a branch only the remote has counts."""
    for candidate in (ref, f"origin/{ref}"):
        cp = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
                            capture_output=True, text=True, timeout=60)
        if cp.returncode == 0 and cp.stdout.strip():
            return cp.stdout.strip()
    raise UsageError(f"--tractor {repo}@{ref}: no such ref in {repo}")


def _atomic_dir(final: Path, fill: Callable[[Path], None]) -> Path:
    """Create ``final`` by filling a temporary sibling and renaming it (idempotent)."""
    if final.exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        fill(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def export_commit(repo: Path, sha: str) -> Path:
    """The tree of commit ``sha`` as a plain directory (``git archive``)."""

    def fill(tmp: Path) -> None:
        archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", sha], capture_output=True,
                                 timeout=600)
        if archive.returncode != 0:
            raise UsageError(f"git archive {sha[:12]} in {repo} failed: "
                             f"{archive.stderr.decode(errors='replace').strip()[:200]}")
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True, timeout=600)

    return _atomic_dir(src_cache() / f"tractor-{sha[:12]}", fill)


def _tree_files(root: Path) -> list[Path]:
    """Files a source tree consists of: git's view when it is a checkout."""
    if _is_git(root):
        out = _git(["-C", str(root), "ls-files", "-z", "-co", "--exclude-standard"], what=f"git ls-files in {root}")
        return sorted(Path(p) for p in out.split("\0") if p and (root / p).is_file())
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                files.append((Path(dirpath) / name).relative_to(root))
    return files


def snapshot_tree(root: Path) -> Path:
    """Copy a working tree (uncommitted changes and all) to a content-named directory."""
    files = _tree_files(root)
    h = hashlib.sha256()
    for rel in files:
        h.update(str(rel).encode() + b"\0")
        h.update((root / rel).read_bytes() + b"\0")

    def fill(tmp: Path) -> None:
        for rel in files:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, tmp / rel)

    return _atomic_dir(src_cache() / f"tractor-tree-{h.hexdigest()[:12]}", fill)


def from_checkout(path: Path, ref: str | None, spec: str) -> Source:
    if ref is None and not _is_git(path):
        return Source(snapshot_tree(path), "path", {"tractor_spec": spec, "tractor_ref": "(not a git checkout)"})
    if not _is_git(path):
        raise UsageError(f"--tractor {spec}: {path} is not a git checkout, so @{ref} means nothing")
    if ref is None:
        head = _git(["-C", str(path), "rev-parse", "HEAD"], what=f"git rev-parse in {path}").strip()
        dirty = _git(["-C", str(path), "status", "--porcelain"], what=f"git status in {path}").strip()
        branch = _git(["-C", str(path), "rev-parse", "--abbrev-ref", "HEAD"], what="git").strip()
        if dirty:
            return Source(snapshot_tree(path), "path", {"tractor_spec": spec, "tractor_ref": branch,
                                                        "tractor_commit": head, "tractor_dirty": "true"})
        return Source(export_commit(path, head), "git", {"tractor_spec": spec, "tractor_ref": branch,
                                                        "tractor_commit": head})
    sha = resolve_commit(path, ref)
    return Source(export_commit(path, sha), "git", {"tractor_spec": spec, "tractor_ref": ref, "tractor_commit": sha})


def from_url(url: str, ref: str | None, spec: str) -> Source:
    """Clone (or update) a bare mirror of ``url`` in the cache, then export ``ref``."""
    clone_url = url.removeprefix("git+")
    mirror = src_cache() / "git" / (hashlib.sha1(clone_url.encode()).hexdigest()[:12] + ".git")
    if mirror.exists():
        _git(["-C", str(mirror), "fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*",
              "+refs/tags/*:refs/tags/*"], what=f"git fetch {clone_url}")
    else:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        _git(["clone", "--quiet", "--bare", clone_url, str(mirror)], what=f"git clone {clone_url}")
    sha = resolve_commit(mirror, ref or "HEAD")
    return Source(export_commit(mirror, sha), "git",
                  {"tractor_spec": spec, "tractor_ref": ref or "HEAD", "tractor_commit": sha})


def from_wheel(path: Path, spec: str) -> Source:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    final_dir = src_cache() / f"wheel-{digest[:12]}"

    def fill(tmp: Path) -> None:
        shutil.copy2(path, tmp / path.name)

    _atomic_dir(final_dir, fill)
    version = path.name.split("-")[1] if path.name.count("-") >= 2 else ""
    return Source(final_dir / path.name, "wheel",
                  {"tractor_spec": spec, "tractor_wheel_sha256": digest, "tractor_wheel_version": version})


def resolve(spec: str) -> Source:
    """``--tractor SPEC`` -> an immutable installable source (UsageError if it is none)."""
    base, ref = split_spec(spec.strip())
    path = Path(base).expanduser()
    if path.is_file():
        if path.suffix != ".whl" or ref is not None:
            raise UsageError(f"--tractor {spec}: a file must be a wheel (.whl)")
        return from_wheel(path.resolve(), spec)
    if path.is_dir():
        if not (path / "pyproject.toml").exists() and not (path / "setup.py").exists():
            raise UsageError(f"--tractor {spec}: {path} has no pyproject.toml (not a tractor checkout)")
        return from_checkout(path.resolve(), ref, spec)
    if is_url(base):
        return from_url(base, ref, spec)
    raise UsageError(f"--tractor {spec}: not a directory, a wheel, or a git URL")
