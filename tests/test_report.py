"""``python -m harness report``: built from real quick-run results, opened in a real browser.

The report is built once from the session's real ``run --quick`` files plus an
asv ``results/`` tree (asv's on-disk format, written here because a real asv
history needs many benchmarked commits) whose commits live in a real git
repository.  Headless Chromium then loads the page: the page's own check
script records whether every image decoded, and the browser log must hold no
console message (the page's Content-Security-Policy reports any blocked
script there).  Chromium is installed with apt-get when missing and we are
root; the browser tests skip only when it cannot be installed at all.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import harness

HOSTILE = "<script>alert(1)</script>"
HOSTILE_COMMAND = "python -m harness run <img src=x onerror=alert(2)> ```"
#: A backend name that is markup and broken mathtext: escaping must hold in HTML and in matplotlib.
HOSTILE_BACKEND = "<i>evil</i>$\\frac{$"
UNIT = re.compile(r"\((ms|MB/s|MiB|×|bytes|children)[,)]")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


# -- fixtures: an asv history in a git repository, and the built report ------------

def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    cp = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return cp.stdout.strip()


STEP_AT = 8


def write_asv_history(root: Path, commits: int = 16) -> tuple[Path, Path, list[str]]:
    """A git repo with ``commits`` commits and an asv results tree measuring each.

    ``track_subint_ratio('spawn', 'trio')`` steps from ~1.30 to ~0.90 at commit
    ``STEP_AT``, whose message is markup; the other ratio series stay flat.
    """
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    hashes = []
    for i in range(commits):
        (repo / "f.txt").write_text(str(i))
        _git(repo, "add", "f.txt")
        msg = f"{HOSTILE} subint: faster start" if i == STEP_AT else f"commit {i}"
        _git(repo, "commit", "-q", "-m", msg)
        hashes.append(_git(repo, "rev-parse", "HEAD"))
    results = root / "results"
    machine = results / "ci-box"
    machine.mkdir(parents=True)
    (machine / "machine.json").write_text(json.dumps({"machine": "ci-box", "version": 1}))
    name = "floor.SubintRatios.track_subint_ratio"
    params = [["'spawn'", "'rpc_rtt'"], ["'trio'", "'mp_forkserver'", "'mp_spawn'"]]
    (results / "benchmarks.json").write_text(json.dumps({
        name: {"name": name, "type": "track", "unit": "ratio", "params": params,
               "param_names": ["quantity", "other"], "version": "1"}, "version": 2}))
    wiggle = [0.01, -0.012, 0.004, -0.006, 0.011, -0.003, 0.007, -0.009]
    for i, commit in enumerate(hashes):
        spawn_trio = (1.30 if i < STEP_AT else 0.90) + wiggle[i % len(wiggle)]
        values = [spawn_trio, 1.6 + wiggle[(i + 1) % 8], 1.1 + wiggle[(i + 2) % 8],
                  40 + 10 * wiggle[(i + 3) % 8], 55 + 10 * wiggle[(i + 4) % 8], 50 + 10 * wiggle[(i + 5) % 8]]
        data = {
            "commit_hash": commit, "env_name": "virtualenv-py3.14", "date": 1_760_000_000_000 + i * 86_400_000,
            "params": {"machine": "ci-box", "python": "3.14"}, "python": "3.14", "requirements": {},
            "env_vars": {},
            "result_columns": ["result", "params", "version", "started_at", "duration", "stats_ci_99_a",
                               "stats_ci_99_b", "stats_q_25", "stats_q_75", "stats_number", "stats_repeat",
                               "samples", "profile"],
            "results": {name: [values, params, "1", 1_760_000_000_000, 12.0]},
            "durations": {}, "version": 2,
        }
        (machine / f"{commit[:8]}-virtualenv-py3.14.json").write_text(json.dumps(data))
    return results, repo, hashes


@pytest.fixture(scope="module")
def asv_history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    return write_asv_history(tmp_path_factory.mktemp("asv"))


@pytest.fixture(scope="module")
def built(quick_results: list[Path], asv_history: tuple[Path, Path, list[str]],
          tmp_path_factory: pytest.TempPathFactory) -> Path:
    results, repo, _ = asv_history
    out = tmp_path_factory.mktemp("report") / "site"
    cp = harness("report", *map(str, quick_results), "-o", str(out), "--asv-results", str(results),
                 "--git-repo", str(repo))
    assert cp.returncode == 0, cp.stderr
    assert str(out / "index.html") in cp.stdout
    return out


class _Refs(HTMLParser):
    """Every ``src``/``href`` in a page, and the text of every ``<script>``."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]


def _refs(html: str) -> _Refs:
    p = _Refs()
    p.feed(html)
    return p


# -- the report from real results ---------------------------------------------------

def test_report_has_every_figure_and_every_reference_exists(built: Path, quick_results: list[Path]) -> None:
    html = (built / "index.html").read_text()
    refs = _refs(html)
    local = [r for r in refs.refs if not r.startswith("#")]
    assert local, "the page references no figure"
    for ref in local:
        assert not re.match(r"^[a-z]+:", ref), f"external reference {ref!r}: the directory must be self-contained"
        assert (built / ref).is_file(), f"index.html references missing {ref}"
    readme = (built / "README.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images and all((built / i).is_file() for i in images)
    names = {Path(r).stem for r in local if r.startswith("figures/")}
    expected = {"spawn_warm", "spawn_cold", "fanout", "stream", "memory", "history"}
    if any("cp314" in p.name or "cp315" in p.name for p in quick_results):
        expected.add("subint_ratios")
    assert expected <= names, names
    for name in names:
        for suffix in (".svg", ".png"):
            path = built / "figures" / f"{name}{suffix}"
            assert path.stat().st_size > 5000, f"{path} looks empty"
    # The exact command that made the data is on the page and in the README.
    command = json.loads(quick_results[0].read_text())["harness"]["metadata"]["command"]
    assert command.split(" -o ")[0] in html and "run --quick" in readme


def test_readme_tables_and_history_change_point(built: Path, asv_history: tuple[Path, Path, list[str]]) -> None:
    _, _, hashes = asv_history
    readme = (built / "README.md").read_text()
    tables = [line for line in readme.splitlines() if line.startswith("| ")]
    assert len(tables) > 10
    for line in tables:  # every row of a table has the same number of unescaped pipes as its header
        assert line.rstrip().endswith("|")
    # The step at STEP_AT is found, at the right commit, and named by its (escaped) subject.
    row = next(line for line in tables if hashes[STEP_AT][:10] in line)
    assert "spawn" in row and "/ trio" in row and "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert re.search(r"-3\d(\.\d)?%", row), row
    # No change point on the flat series.
    assert not any(h[:10] in readme for i, h in enumerate(hashes) if i not in (STEP_AT, len(hashes) - 1))


def test_figure_svgs_keep_titles_and_unit_labels_as_text(built: Path) -> None:
    for svg in sorted((built / "figures").glob("*.svg")):
        texts = " ".join(t for t in ET.parse(svg).getroot().itertext())
        assert UNIT.search(texts), f"{svg.name}: no axis label with a unit"
    spawn = " ".join(ET.parse(built / "figures" / "spawn_warm.svg").getroot().itertext())
    assert "Spawn to ready, steady state" in spawn and "spawn to ready (ms, log scale)" in spawn


# -- in a browser -----------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium() -> str:
    """Path to Chromium; installs Debian's package when missing and we may (root, apt-get)."""
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    found = next((p for p in map(shutil.which, names) if p), None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and cannot be (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, capture_output=True, timeout=1200).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        cp = subprocess.run(install, env=env, capture_output=True, text=True, timeout=1200)
        if cp.returncode != 0:
            pytest.skip(f"apt-get install chromium failed: {cp.stderr.strip().splitlines()[-1:]}")
    found = next((p for p in map(shutil.which, names) if p), None)
    if not found:
        pytest.skip("chromium installed but not on PATH")
    return found


def browse(chrome: str, page: Path, tmp: Path, *args: str) -> tuple[str, list[str]]:
    """Load ``page`` headless; return (stdout, console lines from the browser log)."""
    cp = subprocess.run([chrome, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args,
                         page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr[-2000:]
    console = [line for line in cp.stderr.splitlines() if ":CONSOLE" in line]
    return cp.stdout, console


def _body_attrs(dom: str) -> dict[str, str]:
    m = re.search(r"<body([^>]*)>", dom)
    assert m, dom[:500]
    return dict(re.findall(r'(data-[\w-]+)="([^"]*)"', m.group(1)))


def test_page_loads_in_chromium_with_every_image(built: Path, chromium: str, tmp_path: Path) -> None:
    dom, console = browse(chromium, built / "index.html", tmp_path, "--virtual-time-budget=10000", "--dump-dom")
    attrs = _body_attrs(dom)
    assert attrs.get("data-checked") == "yes", "the page's image check did not run (blocked script?)"
    n_imgs = len(re.findall(r"<img\b", (built / "index.html").read_text()))
    assert attrs["data-images"] == str(n_imgs) and n_imgs >= 5
    assert attrs["data-broken-images"] == "", f"images that did not load: {attrs['data-broken-images']}"
    assert not console, console
    shot = tmp_path / "page.png"
    browse(chromium, built / "index.html", tmp_path, "--window-size=1280,3000", "--hide-scrollbars",
           f"--screenshot={shot}")
    from PIL import Image

    img = Image.open(shot).convert("L")
    lo, hi = img.getextrema()
    assert img.size == (1280, 3000) and hi - lo > 100, "blank screenshot"


def test_broken_image_is_detected(built: Path, chromium: str, tmp_path: Path) -> None:
    """The image check above can fail: a page whose figure is gone is reported."""
    site = tmp_path / "site"
    shutil.copytree(built, site)
    victim = next((site / "figures").glob("*.svg"))
    victim.unlink()
    dom, _ = browse(chromium, site / "index.html", tmp_path, "--virtual-time-budget=10000", "--dump-dom")
    assert f"figures/{victim.name}" in _body_attrs(dom)["data-broken-images"]


# -- untrusted strings ------------------------------------------------------------------

def _poison(src: Path, dst: Path) -> None:
    """A real result file with markup as hostname, CPU, command and one backend's name."""
    data = json.loads(src.read_text())
    meta = data["harness"]["metadata"]
    meta.update(hostname=HOSTILE, cpu_model_name="</td><b>cpu", command=HOSTILE_COMMAND)
    data.setdefault("metadata", {})["hostname"] = HOSTILE
    for bench in data["benchmarks"]:
        bm = bench.setdefault("metadata", {})
        backend = bm.get("backend") or data["metadata"].get("backend")
        if backend == "trio" or any(r.get("metadata", {}).get("backend") == "trio" for r in bench["runs"]):
            bm["backend"] = HOSTILE_BACKEND
            for run in bench["runs"]:
                run.get("metadata", {}).pop("backend", None)
    dst.write_text(json.dumps(data))


def test_hostile_strings_render_as_text(quick_results: list[Path], asv_history: tuple[Path, Path, list[str]],
                                        chromium: str, tmp_path: Path) -> None:
    results, repo, _ = asv_history
    poisoned = tmp_path / "poisoned.json"
    _poison(quick_results[-1], poisoned)
    out = tmp_path / "site"
    cp = harness("report", str(poisoned), "-o", str(out), "--asv-results", str(results), "--git-repo", str(repo))
    assert cp.returncode == 0, cp.stderr
    html = (out / "index.html").read_text()
    for raw in (HOSTILE, "<img src=x", "<i>evil</i>", "</td><b>cpu"):
        assert raw not in html, f"unescaped {raw!r} in index.html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;evil&lt;/i&gt;" in html
    assert _refs(html).scripts == 1  # only the page's own image check
    readme = (out / "README.md").read_text()
    # The command is verbatim inside a fence longer than its own backticks (code is inert there)...
    fenced = re.findall(r"^(`{3,})sh\n(.*?)\n\1$", readme, flags=re.M | re.S)
    assert [body for _, body in fenced] == [HOSTILE_COMMAND] and len(fenced[0][0]) > 3
    # ...and everywhere else every hostile string is escaped.
    prose = re.sub(r"^(`{3,})sh\n.*?\n\1$", "", readme, flags=re.M | re.S)
    for raw in (HOSTILE, "<img src=x", "<i>evil</i>", "</td><b>"):
        assert raw not in prose, f"unescaped {raw!r} in README.md"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in prose
    # matplotlib drew the backend name literally (no mathtext), and SVG escaped it.
    spawn_svg = (out / "figures" / "spawn_warm.svg").read_text()
    assert "&lt;i&gt;evil&lt;/i&gt;$\\frac{$" in spawn_svg
    dom, console = browse(chromium, out / "index.html", tmp_path, "--virtual-time-budget=10000", "--dump-dom")
    assert _body_attrs(dom).get("data-checked") == "yes"
    assert dom.count("<script") == 1 and "<img src=x" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown, as text
    assert not console, console


# -- figure objects ---------------------------------------------------------------------

def _derived(quick_results: list[Path], tmp: Path) -> list[Path]:
    """The real files, plus a tractor-layer twin (3x slower) and a cold-bytecode copy of one."""
    src = quick_results[-1]
    data = json.loads(src.read_text())
    twin = copy.deepcopy(data)
    for bench in twin["benchmarks"]:
        bench.setdefault("metadata", {})["layer"] = "tractor"
        for run in bench["runs"]:
            run.get("metadata", {}).pop("layer", None)
            run["values"] = [v * 3 for v in run.get("values", [])]
    data["benchmarks"] += twin["benchmarks"]
    (tmp / "both.json").write_text(json.dumps(data))
    cold = json.loads(src.read_text())
    cold["harness"]["metadata"]["bytecode_cache"] = "cold"
    (tmp / "cold.json").write_text(json.dumps(cold))
    return [tmp / "both.json", tmp / "cold.json"]


def test_figures_titled_with_unit_labels_and_layers_side_by_side(
        quick_results: list[Path], asv_history: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    from harness.report import fanout, memory, ratios, spawn, stream, timeline
    from harness.report.data import load

    data = load(_derived(quick_results, tmp_path))
    assert list(data.conditions) == ["warm", "cold"]
    figures = {}
    for module in (spawn, ratios, fanout, stream, memory):
        figures.update(module.section(data).figures)
    figures.update(timeline.section(asv_history[0]).figures)
    assert {"spawn_warm", "spawn_cold", "fanout", "stream", "memory", "history"} <= set(figures)
    for name, fig in figures.items():
        assert fig.get_suptitle(), f"{name}: no title"
        data_axes = [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
        assert data_axes, name
        for ax in data_axes:
            assert ax.get_title(), f"{name}: an untitled panel"
            xlabels = [a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax)]
            assert any(xlabels), f"{name}: a panel without an x label"
            ylabels = [a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax)]
            assert any(ylabels), f"{name}: a panel without a y label"
            if name != "subint_ratios":  # the heatmap's axes are categories; its colour bar has the unit
                assert all(UNIT.search(y) for y in ylabels if y), f"{name}: y axis without a unit: {ylabels}"
        if name == "subint_ratios":
            bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
            assert UNIT.search(bar.get_ylabel()), bar.get_ylabel()
    # floor and tractor side by side, warm and cold: four legend entries in the spawn figure.
    # (in a spare panel when the grid has one, else under the grid as a figure legend)
    spawn_fig = figures["spawn_warm"]
    legends = [ax.get_legend() for ax in spawn_fig.axes if ax.get_legend()] + list(spawn_fig.legends)
    legend = [t.get_text() for lg in legends for t in lg.get_texts()]
    assert legend == ["floor · warm .pyc", "floor · cold .pyc", "tractor · warm .pyc"], legend
    # The tractor twin is 3x its floor, and the overhead table says so.
    over = spawn.tractor_table(data)
    assert over is not None
    warm_rows = [r for r in over.rows if r[3] == "spawn_warm" and r[4] == "warm .pyc"]
    assert warm_rows and all(r[-1] == "3.0×" for r in warm_rows), over.rows
    # The fan-out curves keep floor and tractor apart, with a fitted exponent each.
    curves = fanout.curves(data)
    labels = {c.label for cs in curves.values() for c in cs}
    assert {"floor.fork", "tractor.fork"} <= labels


def test_fanout_exponent_fit() -> None:
    from harness.report.fanout import fit_exponent

    ns = [1, 2, 4, 8, 16]
    assert fit_exponent(ns, [0.01 * n for n in ns]) == pytest.approx(1.0)
    assert fit_exponent(ns, [0.02 * n ** 0.5 for n in ns]) == pytest.approx(0.5)
    assert fit_exponent([4], [0.1]) != fit_exponent([4], [0.1])  # NaN: one N fits nothing


# -- bad input --------------------------------------------------------------------------

def _one_line_exit_2(cp: subprocess.CompletedProcess[str], needle: str) -> None:
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], cp.stderr
    assert "Traceback" not in cp.stderr


def test_bad_input_is_one_line_exit_2(quick_results: list[Path], tmp_path: Path) -> None:
    good = str(quick_results[0])
    _one_line_exit_2(harness("report", str(tmp_path / "nope.json"), "-o", str(tmp_path / "o")),
                     "no such result file")
    (tmp_path / "bad.json").write_text("{not json")
    _one_line_exit_2(harness("report", str(tmp_path / "bad.json"), "-o", str(tmp_path / "o")),
                     "not a readable JSON result file")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    _one_line_exit_2(harness("report", str(tmp_path / "other.json"), "-o", str(tmp_path / "o")),
                     "not a pyperf/harness result file")
    (tmp_path / "file").write_text("")
    _one_line_exit_2(harness("report", good, "-o", str(tmp_path / "file" / "sub")), "cannot write the report")
    _one_line_exit_2(harness("report", good, "-o", str(tmp_path / "file")), "not a directory")
    _one_line_exit_2(harness("report", good, "-o", str(tmp_path / "o"), "--asv-results", str(tmp_path / "none")),
                     "--asv-results")
    asv = tmp_path / "asv"
    (asv / "m").mkdir(parents=True)
    (asv / "m" / "machine.json").write_text("{}")
    (asv / "m" / "abcd1234-env.json").write_text("{broken")
    _one_line_exit_2(harness("report", good, "-o", str(tmp_path / "o"), "--asv-results", str(asv)),
                     "abcd1234-env.json")


# -- environment warnings ---------------------------------------------------------------

def test_environment_warns_on_load_noise_and_few_samples(quick_results: list[Path]) -> None:
    """The same real cells, made to look quiet and then busy: the warnings follow."""
    from harness.report.data import load
    from harness.report.environment import gather

    data = load(quick_results)
    cells = data.cells()
    cpus = int(cells[0].metadata["cpu_count"])
    for c in cells:
        c.metadata["load_avg_1min"] = 0.1 * cpus
        c.runs = [[0.010, 0.0101, 0.0099, 0.010]] * 3  # 12 samples, CV ~1%
    quiet = gather(data)
    assert not [w for w in quiet.warnings if w.startswith(("Busy", "Noisy", "Few"))], quiet.warnings
    for c in cells:
        c.metadata["load_avg_1min"] = 3.0 * cpus
        c.runs = [[0.010, 0.030, 0.005]]  # 3 samples, CV ~90%
    busy = gather(data)
    assert any(w.startswith("Busy machine") and f"on {cpus} CPUs" in w for w in busy.warnings), busy.warnings
    assert any(w.startswith("Noisy samples") for w in busy.warnings), busy.warnings
    assert any(w.startswith("Few samples") for w in busy.warnings), busy.warnings
    assert busy.noisy is not None and busy.noisy.rows
