"""Binder's environment: environment.yml alone is enough to run every notebook's imports.

The slow test creates a fresh virtual environment, installs environment.yml's pip requirements
into it (the exact versions of requirements.lock; pip's download cache makes a rerun cheap),
installs rlbook itself without dependencies (as Binder's postBuild does), runs ``pip check``,
checks that JupyterLab has the jupyterlab-myst extension (so Binder renders the notebooks' MyST),
and imports every module that any notebook in book/ imports, checking that each
``from X import name`` name exists.
It runs only under ``make test-env`` (RLBOOK_TEST_ENV=1), which ``.ci/run`` calls.

The fast tests always run: they check that the notebooks' install cell installs from the
repository and branch named in _config.yml, and that the import scan finds the imports.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import re
import shutil
import subprocess
import venv

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ENV_DIR = ROOT / "_build" / "envtest"


def _code_cells(path: pathlib.Path) -> list[str]:
    """Source of every code cell of a notebook (.ipynb, or MyST Markdown with {code-cell})."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), flags=re.S)


def _notebooks() -> list[pathlib.Path]:
    md_notebooks = [p for p in BOOK.glob("*.md") if "```{code-cell}" in p.read_text()]
    return sorted(list(BOOK.glob("*.ipynb")) + md_notebooks)


def _python_only(source: str) -> str:
    """Drop IPython magics and shell escapes (%pip, !ls), which are not Python."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def notebook_imports() -> dict[str, set[str]]:
    """{module: names imported from it} over every code cell of every notebook."""
    found: dict[str, set[str]] = {}
    for path in _notebooks():
        for source in _code_cells(path):
            try:
                tree = ast.parse(_python_only(source))
            except SyntaxError:  # an exercise stub may be incomplete on purpose
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        found.setdefault(alias.name, set())
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.setdefault(node.module, set()).update(
                        a.name for a in node.names if a.name != "*"
                    )
    return found


def _pip_requirements() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


def test_import_scan_finds_the_notebook_imports():
    imports = notebook_imports()
    assert "rlbook" in {m.split(".")[0] for m in imports}, sorted(imports)
    assert {"numpy", "matplotlib.pyplot"} <= set(imports), sorted(imports)


def test_install_cell_uses_the_configured_repository_and_branch():
    """The repository is named once in _config.yml; every install cell must agree with it (the
    Box2D chapters' cell installs `rlbook[box2d] @ ...`: tools/install_cell.py)."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    url = repo["url"].rstrip("/")
    expected = f"rlbook @ git+{url}@{repo['branch']}"
    for path in sorted(BOOK.glob("*.ipynb")):
        first = _code_cells(path)[0]
        pip_lines = [line for line in first.splitlines() if line.strip().startswith("%pip install")]
        assert len(pip_lines) == 1, (
            f"{path.name}: the install cell should be one `%pip install` line"
        )
        assert expected in pip_lines[0].replace("rlbook[box2d] @", "rlbook @"), (
            f"{path.name}: install cell should install {expected!r}: {pip_lines[0]}"
        )


IMPORT_SCRIPT = r"""
import importlib, json, sys
failures = []
for module, names in json.loads(sys.argv[1]).items():
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        failures.append(f"import {module}: {type(exc).__name__}: {exc}")
        continue
    for name in names:
        if not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except Exception as exc:
                failures.append(f"from {module} import {name}: {type(exc).__name__}: {exc}")
print(json.dumps(failures))
"""


@pytest.mark.skipif(
    not os.environ.get("RLBOOK_TEST_ENV"),
    reason="slow (installs TensorFlow into a fresh venv): run `make test-env`",
)
def test_environment_yml_runs_every_notebook_import(tmp_path):
    python = ENV_DIR / "bin" / "python"
    # Binder's Python is environment.yml's; this venv uses the interpreter running the tests
    # (CI's is 3.11, the same minor version as environment.yml pins).
    shutil.rmtree(ENV_DIR, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(ENV_DIR)

    def pip(*args):
        result = subprocess.run(
            [str(python), "-m", "pip", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (
            f"pip {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        return result.stdout

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(_pip_requirements()) + "\n")
    pip("install", "--quiet", "-r", str(requirements))
    # The install cell installs rlbook from the repository; here, from a copy of this checkout
    # (so the build leaves nothing in the work tree), and with --no-deps so that every
    # dependency must come from environment.yml.
    source = tmp_path / "rlbook-src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "rlbook", source / "rlbook", ignore=shutil.ignore_patterns("__pycache__")
    )
    pip("install", "--quiet", "--no-deps", str(source))
    pip("check")

    # Binder's JupyterLab renders MyST (admonitions, exercises, math) through jupyterlab-myst.
    labext = subprocess.run(
        [str(ENV_DIR / "bin" / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    listing = re.sub(r"\x1b\[[0-9;]*m", "", labext.stdout + labext.stderr)  # drop colours
    assert labext.returncode == 0, listing
    assert re.search(r"jupyterlab-myst v\S+\s+enabled", listing), (
        "jupyterlab-myst is not an enabled JupyterLab extension:\n" + listing
    )

    imports = {m: sorted(n) for m, n in notebook_imports().items()}
    # No PYTHONPATH: only what the venv installed may be imported (not a checkout on the path).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    result = subprocess.run(
        [str(python), "-c", IMPORT_SCRIPT, json.dumps(imports)],
        capture_output=True,
        text=True,
        cwd=BOOK,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert not failures, (
        "environment.yml does not provide what the notebooks import:\n  " + "\n  ".join(failures)
    )
    # The installed rlbook must be this checkout's (not one found on sys.path by accident).
    where = subprocess.run(
        [str(python), "-c", "import rlbook, sys; print(rlbook.__file__)"],
        capture_output=True,
        text=True,
        cwd=BOOK,
        env=env,
    )
    assert str(ENV_DIR) in where.stdout, where.stdout + where.stderr
