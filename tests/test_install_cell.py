"""The install cell at the top of every chapter installs rlbook only when it is missing.

JupyterLab's Run All ignores the ``skip-execution`` tag, so the cell runs whenever a student runs
the notebook: it must leave an installed rlbook (an editable checkout, Binder's postBuild install)
alone, work offline, and say what it did in one line. tests/test_environment.py checks that its
URL is the repository and branch of _config.yml.

The behaviour tests run the cell's code (as IPython transforms it) in a fresh interpreter with a
stand-in for ``get_ipython()`` that records the ``%pip`` magic instead of running it, so nothing
is installed and no network is used.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _install_cell(path: pathlib.Path) -> dict:
    return next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def _expected_requirement() -> str:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return f"rlbook @ git+{repo['url'].rstrip('/')}@{repo['branch']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_installs_only_when_import_fails(path):
    _check_install_only_when_import_fails(path)


def _check_install_only_when_import_fails(path: pathlib.Path) -> None:
    cell = _install_cell(path)
    source = "".join(cell["source"])
    lines = source.splitlines()
    assert {"skip-execution", "nbval-skip"} <= set(cell["metadata"].get("tags", [])), path.name
    assert "try:" in lines and "    import rlbook" in lines, (
        f"{path.name}: the cell must try `import rlbook` first"
    )
    pip = [i for i, line in enumerate(lines) if "%pip install" in line]
    handler = [i for i, line in enumerate(lines) if line.startswith("except ModuleNotFoundError")]
    assert len(pip) == 1 and len(handler) == 1, (
        f"{path.name}: one %pip line, under `except ModuleNotFoundError:`"
    )
    assert pip[0] > handler[0] and lines[pip[0]].startswith("    "), (
        f"{path.name}: %pip must run only in the except branch"
    )
    assert "--upgrade" not in source and "--force" not in source and "-U " not in source, path.name
    assert max(len(line) for line in lines) <= 79, (
        f"{path.name}: install cell has a line over 79 characters"
    )


RUNNER = r"""
import importlib.abc, json, sys
calls = []

class Shell:  # stands in for IPython's shell: records %pip instead of running it
    def run_line_magic(self, name, line, *args):
        calls.append([name, line])

class HideRlbook(importlib.abc.MetaPathFinder):  # makes `import rlbook` fail as if not installed
    def find_spec(self, name, path=None, target=None):
        if name == "rlbook" or name.startswith("rlbook."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

if sys.argv[2] == "missing":
    sys.meta_path.insert(0, HideRlbook())
if sys.argv[2] == "no-box2d":  # `import Box2D` fails with ModuleNotFoundError
    sys.modules["Box2D"] = None
exec(sys.argv[1], {"get_ipython": Shell})
print("CALLS=" + json.dumps(calls))
"""


def _run_cell(
    path: pathlib.Path, mode: str, extra_path: pathlib.Path | None = None
) -> tuple[list[str], list[list[str]]]:
    """Run the install cell's code; `extra_path` goes on PYTHONPATH (a stand-in Box2D)."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell("".join(_install_cell(path)["source"]))
    pythonpath = os.pathsep.join(str(p) for p in (ROOT, extra_path) if p)
    env = dict(os.environ, PYTHONPATH=pythonpath, PIP_NO_INDEX="1")  # PIP_NO_INDEX: no network
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, code, mode],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    *printed, calls = result.stdout.splitlines()
    assert calls.startswith("CALLS="), result.stdout
    return printed, json.loads(calls.removeprefix("CALLS="))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_leaves_an_installed_rlbook_alone(path):
    printed, calls = _run_cell(path, "installed")
    assert calls == [], f"{path.name}: the cell ran {calls} although rlbook imports"
    assert len(printed) == 1 and "nothing to install" in printed[0], printed
    assert str(ROOT / "rlbook") in printed[0], (
        f"the line should say which rlbook is installed: {printed}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_installs_a_missing_rlbook_from_the_repository(path):
    printed, calls = _run_cell(path, "missing")
    if path.name in _tool().BOX2D_CHAPTERS:  # with the box2d extra (pip's -q is its --quiet)
        requirement = _expected_requirement().replace("rlbook @", "rlbook[box2d] @", 1)
        assert calls == [["pip", f'install -q "{requirement}"']], calls
    else:
        assert calls == [["pip", f'install --quiet "{_expected_requirement()}"']], calls
    assert len(printed) == 1 and "not installed" in printed[0] and "installing" in printed[0], (
        printed
    )


def _tool():
    """tools/install_cell.py, the script that writes the cell."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "install_cell", ROOT / "tools" / "install_cell.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_every_install_cell_is_the_canonical_one():
    """tools/install_cell.py writes it (run it after merging notebooks from other branches)."""
    tool = _tool()
    stale = [p.name for p in NOTEBOOKS if tool.apply(p, write=False)]
    assert not stale, f"run `python tools/install_cell.py book/*.ipynb`: {stale}"
    assert _expected_requirement() in tool.source()


def _code(src, **meta):
    return {
        "cell_type": "code",
        "id": src[:6],
        "metadata": meta,
        "execution_count": None,
        "outputs": [],
        "source": [src],
    }


def _notebook(path: pathlib.Path, *cells) -> pathlib.Path:
    """Write a small notebook: a title, then `cells`."""
    nb = {
        "cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": ["# T"]}]
        + list(cells),
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    return path


def test_install_cell_tool_moves_the_cell_above_code_added_before_it(tmp_path):
    tool = _tool()
    path = _notebook(
        tmp_path / "n.ipynb",
        _code("from rlbook import diagrams"),
        _code('%pip install --quiet "rlbook @ git+https://example.org/old@main"'),
    )
    assert tool.main([str(path)]) == 0
    cells = json.loads(path.read_text())["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]
    assert "".join(cells[1]["source"]) == tool.source() and cells[2]["source"] == [
        "from rlbook import diagrams"
    ]
    assert {"skip-execution", "nbval-skip"} <= set(cells[1]["metadata"]["tags"])
    assert tool.main(["--check", str(path)]) == 0  # idempotent


def test_only_the_box2d_chapters_install_the_box2d_extra(tmp_path):
    """BOX2D_CHAPTERS (tools/install_cell.py) get `rlbook[box2d]`; every other chapter keeps the
    plain cell. Tried on stand-in notebooks: one named as the list's first chapter, one not."""
    tool = _tool()
    assert tool.BOX2D_CHAPTERS and all(n.endswith(".ipynb") for n in tool.BOX2D_CHAPTERS)
    old = _code('%pip install --quiet "rlbook @ git+https://example.org/old@main"')
    (tmp_path / "book").mkdir()
    box2d = _notebook(tmp_path / "book" / tool.BOX2D_CHAPTERS[0], old)
    plain = _notebook(tmp_path / "book" / "03_dqn.ipynb", old)
    assert tool.main([str(box2d), str(plain)]) == 0
    assert tool.main(["--check", str(box2d), str(plain)]) == 0  # idempotent

    assert "".join(_install_cell(plain)["source"]) == tool.source()
    assert "".join(_install_cell(box2d)["source"]) == tool.source(box2d=True)
    for path in (box2d, plain):
        _check_install_only_when_import_fails(path)  # the same rules for both cells

    # rlbook missing (Colab): the one %pip line installs rlbook, with the extra only in box2d.
    requirement = _expected_requirement()
    with_extra = requirement.replace("rlbook @", "rlbook[box2d] @", 1)
    printed, calls = _run_cell(plain, "missing")
    assert calls == [["pip", f'install --quiet "{requirement}"']], calls
    printed, calls = _run_cell(box2d, "missing")
    assert calls == [["pip", f'install -q "{with_extra}"']], calls
    assert printed == ["rlbook is not installed: installing it from GitHub, with Box2D."]

    # rlbook installed: nothing is installed either way; the box2d chapter says whether Box2D is
    # there, and if not, how to add it without touching rlbook.
    fake = tmp_path / "site"
    (fake / "Box2D").mkdir(parents=True)
    (fake / "Box2D" / "__init__.py").write_text("")
    for mode, expected in (("installed", ": nothing to install."), ("no-box2d", "without Box2D")):
        printed, calls = _run_cell(box2d, mode, fake)
        assert calls == [] and len(printed) == 1, (printed, calls)
        assert str(ROOT / "rlbook") in printed[0] and expected in printed[0], printed
    assert "pip install 'gymnasium[box2d]'" in printed[0], printed


def test_chapters_not_listed_leave_box2d_out():
    tool = _tool()
    for path in NOTEBOOKS:
        text = "".join(_install_cell(path)["source"])
        if path.name in tool.BOX2D_CHAPTERS:
            assert "rlbook[box2d] @" in text, path.name
        else:
            assert "box2d" not in text.lower(), f"{path.name} is not in BOX2D_CHAPTERS"
