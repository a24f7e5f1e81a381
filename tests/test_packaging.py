"""The repository's own conventions: one list of requirements, clean notebooks, a complete TOC."""

import json
import os
import pathlib
import re
import tomllib

import yaml
from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _normalise(req: str) -> str:
    r = Requirement(req)
    extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
    return f"{r.name.lower().replace('_', '-')}{extras}{r.specifier}"


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["book"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml needs exactly one pip: section"
    got = {_normalise(r) for r in pip_lists[0]}
    assert got == wanted, f"only in environment.yml: {sorted(got - wanted)}; only in pyproject.toml: {sorted(wanted - got)}"


def _notebooks():
    return sorted((ROOT / "book").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs():
    assert _notebooks(), "no notebooks found in book/"
    dirty = []
    for path in _notebooks():
        nb = json.loads(path.read_text())
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
                dirty.append(f"{path.name} cell {i}")
    assert not dirty, f"notebooks must be committed without outputs: {dirty}"


def test_install_cell_is_skipped_by_build_and_nbval():
    for path in _notebooks():
        code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        first = code[0]
        tags = set(first.get("metadata", {}).get("tags", []))
        assert "pip install" in "".join(first["source"]), f"{path.name}: first code cell should install rlbook"
        assert {"skip-execution", "nbval-skip"} <= tags, f"{path.name}: install cell must be tagged skip-execution and nbval-skip"


def test_toc_lists_existing_files_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    for f in files:
        assert any((ROOT / (f + ext)).exists() for ext in (".md", ".ipynb")), f"_toc.yml names missing {f}"
    numbers = [int(m.group(1)) for f in files if (m := re.search(r"/(\d\d)_", f))]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 7, numbers


def test_binder_installs_the_package_after_the_environment():
    post_build = ROOT / "postBuild"
    assert post_build.exists() and os.access(post_build, os.X_OK), "Binder needs an executable postBuild"
    assert "pip install --no-deps" in post_build.read_text()  # environment.yml already has the dependencies
