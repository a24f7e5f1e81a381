"""Colab's install cell, tested as Colab runs it.

A Colab runtime already has TensorFlow, Keras, NumPy and matplotlib. The notebooks' install cell
must add rlbook and what it needs without downgrading or replacing any of them (a resolver
conflict there breaks the student's runtime), and the chapter must then run.

The slow test (``make test-colab``, which sets RLBOOK_TEST_COLAB=1) does what a fresh Colab
runtime does, in a fresh virtual environment under _build/colab-venv:

1. installs tests/colab_preinstalled.txt (Colab-like versions) and the test's own tools
   (pytest, nbval, ipykernel, which Colab also has in some version);
2. runs the `%pip install ...` line of chapter 1's first cell with its arguments unchanged, except
   that ``rlbook @ git+<repository>@<branch>`` becomes ``rlbook @ file://<a copy of this
   checkout>``, plus ``--report`` so that pip says what it installed;
3. checks with ``pip check``, pip's report and a before/after ``pip freeze`` that nothing that
   was installed before changed version, and that rlbook comes from the venv;
4. runs chapter 1 with nbval in that venv;
5. runs the `%pip install ...` line of the Box2D chapters' cell (tools/install_cell.py,
   ``BOX2D_CHAPTERS``: ``rlbook[box2d]``) the same way, checks again that nothing preinstalled
   changed, and that LunarLander-v3 steps.

Python: RLBOOK_COLAB_PYTHON (``make test-colab COLAB_PYTHON=python3.12`` for Colab's own 3.12),
else the interpreter running the tests. The fast tests always run: they check that the install
line is found and rewritten as the slow test needs.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "01_gym_basics.ipynb"
PREINSTALLED = ROOT / "tests" / "colab_preinstalled.txt"
COLAB_DIR = ROOT / "_build" / "colab-venv"
TOOLS = ["pytest>=8", "nbval>=0.11", "ipykernel>=6"]


def install_arguments(notebook: pathlib.Path = CHAPTER) -> list[str]:
    """The arguments of the `%pip install ...` line in a notebook's first code cell."""
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    return _pip_arguments("".join(cells[0]["source"]), notebook.name)


def box2d_install_arguments() -> list[str]:
    """The arguments of the `%pip install ...` line of the Box2D chapters' install cell."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "install_cell", ROOT / "tools" / "install_cell.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return _pip_arguments(tool.source(box2d=True), "the Box2D chapters' cell")


def _pip_arguments(cell: str, where: str) -> list[str]:
    lines = [line.strip() for line in cell.splitlines() if line.strip().startswith("%pip install")]
    assert len(lines) == 1, f"{where}: expected one `%pip install` line, got {lines}"
    return shlex.split(lines[0])[1:]  # drop "%pip"


_GIT_REQUIREMENT = re.compile(r"rlbook\s*(\[[^\]]*\])?\s*@\s*git\+")


def local_arguments(args: list[str], source: pathlib.Path) -> list[str]:
    """The same arguments (extras too), installing rlbook from `source`, not the git repository."""
    local = []
    for a in args:
        match = _GIT_REQUIREMENT.match(a)
        local.append(f"rlbook{match.group(1) or ''} @ {source.as_uri()}" if match else a)
    assert sum(a != b for a, b in zip(args, local)) == 1, (
        f"no `rlbook @ git+...` argument in {args}"
    )
    return local


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _freeze(python: pathlib.Path, env: dict) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, env=env, check=True
    ).stdout
    return {
        _canonical(n): v
        for n, v in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)$", out, flags=re.MULTILINE)
    }


def test_install_line_is_found_and_rewritten_for_a_local_checkout(tmp_path):
    args = install_arguments()
    assert args[0] == "install", args
    local = local_arguments(args, tmp_path)
    assert f"rlbook @ {tmp_path.as_uri()}" in local
    assert not any("git+" in a for a in local), local


def test_box2d_install_line_keeps_its_extra_when_rewritten(tmp_path):
    args = box2d_install_arguments()
    assert args[0] == "install" and any(a.startswith("rlbook[box2d] @ git+") for a in args), args
    local = local_arguments(args, tmp_path)
    assert f"rlbook[box2d] @ {tmp_path.as_uri()}" in local, local
    assert not any("git+" in a for a in local), local


@pytest.mark.skipif(
    not os.environ.get("RLBOOK_TEST_COLAB"),
    reason="slow (installs TensorFlow into a fresh venv): run `make test-colab`",
)
def test_install_cell_keeps_colab_packages_and_chapter_1_runs(tmp_path):
    interpreter = os.environ.get("RLBOOK_COLAB_PYTHON") or sys.executable
    shutil.rmtree(COLAB_DIR, ignore_errors=True)
    subprocess.run([interpreter, "-m", "venv", str(COLAB_DIR)], check=True)
    python = COLAB_DIR / "bin" / "python"
    # Nothing of this checkout may be importable except through the install under test.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PIP_DISABLE_PIP_VERSION_CHECK="1")

    def pip(*args):
        result = subprocess.run(
            [str(python), "-m", "pip", *args], capture_output=True, text=True, env=env, check=False
        )
        assert result.returncode == 0, (
            f"pip {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        return result.stdout

    pip("install", "--quiet", "--upgrade", "pip")
    pip("install", "--quiet", "-r", str(PREINSTALLED), *TOOLS)
    before = _freeze(python, env)
    wanted = {
        _canonical(n): v
        for n, v in re.findall(
            r"^([A-Za-z0-9._-]+)==(\S+)$", PREINSTALLED.read_text(), flags=re.MULTILINE
        )
    }
    assert all(before.get(n) == v for n, v in wanted.items()), (
        f"Colab-like set not installed: {before}"
    )

    # The install cell installs from the repository; here from a copy of this checkout (so the
    # build leaves nothing in the work tree), with the cell's own arguments.
    source = tmp_path / "rlbook-src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "rlbook", source / "rlbook", ignore=shutil.ignore_patterns("__pycache__")
    )
    report_path = tmp_path / "report.json"
    t0 = time.perf_counter()
    pip(*local_arguments(install_arguments(), source), "--report", str(report_path))
    seconds = time.perf_counter() - t0
    pip("check")

    after = _freeze(python, env)
    report = json.loads(report_path.read_text())
    installed = {
        _canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    replaced = {n: f"{before[n]} -> {v}" for n, v in installed.items() if n in before}
    changed = {
        n: f"{v} -> {after.get(n, 'removed')}" for n, v in before.items() if after.get(n) != v
    }
    print(
        f"\ninstall cell: {seconds:.1f} s, {len(installed)} packages installed: "
        + ", ".join(f"{n}=={v}" for n, v in sorted(installed.items()))
    )
    assert not replaced, (
        f"the install cell replaces preinstalled packages (pip's report): {replaced}"
    )
    assert not changed, (
        f"preinstalled packages changed version (pip freeze before/after): {changed}"
    )
    assert "rlbook" in installed, sorted(installed)

    where = subprocess.run(
        [str(python), "-c", "import rlbook; print(rlbook.__file__)"],
        capture_output=True,
        text=True,
        cwd=CHAPTER.parent,
        env=env,
        check=False,
    )
    assert str(COLAB_DIR) in where.stdout, where.stdout + where.stderr

    result = subprocess.run(
        [str(python), "-m", "pytest", str(CHAPTER), "--nbval-lax", "-p", "no:cacheprovider", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (
        f"chapter 1 failed in the Colab-like venv:\n{result.stdout[-4000:]}"
    )

    # The Box2D chapters' line (rlbook[box2d]), as the cell runs it when rlbook is missing: it adds
    # Box2D and still leaves Colab's packages alone.
    t0 = time.perf_counter()
    pip(*local_arguments(box2d_install_arguments(), source), "--report", str(report_path))
    seconds = time.perf_counter() - t0
    pip("check")
    report = json.loads(report_path.read_text())
    installed = {
        _canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    print(
        f"box2d install line: {seconds:.1f} s, {len(installed)} packages installed: "
        + ", ".join(f"{n}=={v}" for n, v in sorted(installed.items()))
    )
    after = _freeze(python, env)
    changed = {
        n: f"{v} -> {after.get(n, 'removed')}" for n, v in before.items() if after.get(n) != v
    }
    assert not changed, f"the box2d line changed preinstalled packages: {changed}"
    assert "box2d" in after, sorted(after)
    lander = subprocess.run(
        [
            str(python),
            "-c",
            "import gymnasium as gym; env = gym.make('LunarLander-v3'); env.reset(seed=0); "
            "print(env.step(0)[0].shape)",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert lander.returncode == 0 and "(8,)" in lander.stdout, lander.stdout + lander.stderr
