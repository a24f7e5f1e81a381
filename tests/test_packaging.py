"""The repository's conventions: a lock in sync with pyproject.toml, clean notebooks, a full TOC."""

import importlib.util
import json
import os
import pathlib
import re

import tomllib
import yaml
from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _lockfile():
    """tools/lockfile.py, the module that reads the lock and writes environment.yml."""
    spec = importlib.util.spec_from_file_location("lockfile", ROOT / "tools" / "lockfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lock_extras() -> list[str]:
    """The extras `make lock` resolves (the Makefile's LOCK_EXTRAS line)."""
    match = re.search(
        r"^LOCK_EXTRAS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE
    )
    assert match, "the Makefile should define LOCK_EXTRAS"
    return match.group(1).split()


def _locked_requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and those of the extras the lock covers."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    missing = [e for e in _lock_extras() if e not in extras]
    assert not missing, f"LOCK_EXTRAS names extras that pyproject.toml lacks: {missing}"
    reqs = project["dependencies"] + [r for e in _lock_extras() for r in extras[e]]
    return [Requirement(r) for r in reqs]


def test_lock_covers_every_extra_the_make_targets_install():
    """`make book`, `make test` and `make test-browser` install only the lock: it needs them all.
    Binder installs the lock too (environment.yml), and chapter 9 needs Box2D there."""
    assert {"book", "test", "browser", "lab", "box2d"} <= set(_lock_extras())


def test_lock_pins_every_dependency_at_a_version_its_range_allows():
    lockfile = _lockfile()
    pins = lockfile.read_lock()
    # The lock is resolved for Binder's and CI's Python on Linux (`make lock`).
    marker_env = {
        "python_version": lockfile.PYTHON,
        "sys_platform": "linux",
        "platform_system": "Linux",
    }
    problems = []
    for req in _locked_requirements():
        if req.marker and not req.marker.evaluate(marker_env):
            continue
        name = lockfile.canonical(req.name)
        if name not in pins:
            problems.append(f"{req} is not in requirements.lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req}: the lock has {name}=={pins[name]}, outside the range")
    assert not problems, (
        "requirements.lock is out of date with pyproject.toml (run `make lock`):\n  "
        + "\n  ".join(problems)
    )


def test_upper_bounds_at_the_next_major_version():
    """A new major release of these is not installed until someone has tried it (make test-latest):
    each has an upper bound `<N`, where N is the major version after the locked one."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = {
        Requirement(r).name: Requirement(r)
        for r in project["dependencies"] + project["optional-dependencies"]["book"]
    }
    pins = _lockfile().read_lock()
    for name in ("tensorflow", "keras", "gymnasium", "numpy", "ipywidgets", "jupyter-book"):
        assert name in reqs, f"pyproject.toml should name {name}"
        uppers = [s.version for s in reqs[name].specifier if s.operator == "<"]
        assert uppers, f"{reqs[name]} needs an upper bound at the next major version"
        locked_major = int(pins[name].split(".")[0])
        assert uppers == [str(locked_major + 1)], (
            f"{reqs[name]}: the upper bound should be <{locked_major + 1} "
            f"(the lock has {pins[name]})"
        )


def test_environment_yml_is_generated_from_the_lock():
    """Binder installs exactly the lock: environment.yml is what `make lock` writes, to the byte."""
    lockfile = _lockfile()
    expected = lockfile.environment_yml(lockfile.read_lock())
    actual = (ROOT / "environment.yml").read_text()
    env = yaml.safe_load(actual)
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml needs exactly one pip: section"
    assert pip_lists[0] == [f"{n}=={v}" for n, v in lockfile.read_lock().items()], (
        "environment.yml's pip list differs from requirements.lock: run `make lock`"
    )
    assert f"python={lockfile.PYTHON}" in env["dependencies"]
    assert actual == expected, (
        "environment.yml was edited by hand: run `make lock` to regenerate it"
    )
    assert "make lock" in actual.splitlines()[0], (
        "environment.yml's first line should say how to regenerate it"
    )


def test_lock_says_how_it_was_made():
    head = (ROOT / "requirements.lock").read_text().splitlines()[:3]
    assert any("make lock" in line for line in head), head


def test_colab_like_versions_are_allowed_by_pyproject():
    """Colab's preinstalled TensorFlow, NumPy and matplotlib satisfy pyproject's ranges, so the
    install cell keeps them (the full check, with pip, is `make test-colab`)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = {Requirement(r).name: Requirement(r) for r in project["dependencies"]}
    pins = [
        line.split("==")
        for line in (ROOT / "tests" / "colab_preinstalled.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {name for name, _ in pins} >= {"tensorflow", "numpy", "matplotlib"}
    for name, version in pins:
        if name in reqs:
            assert reqs[name].specifier.contains(version), (
                f"pyproject's {reqs[name]} excludes Colab's {version}"
            )


def _notebooks():
    return sorted((ROOT / "book").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs():
    assert _notebooks(), "no notebooks found in book/"
    dirty = []
    for path in _notebooks():
        nb = json.loads(path.read_text())
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code" and (
                cell.get("outputs") or cell.get("execution_count") is not None
            ):
                dirty.append(f"{path.name} cell {i}")
    assert not dirty, f"notebooks must be committed without outputs: {dirty}"


def test_install_cell_is_skipped_by_build_and_nbval():
    for path in _notebooks():
        code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        first = code[0]
        tags = set(first.get("metadata", {}).get("tags", []))
        assert "pip install" in "".join(first["source"]), (
            f"{path.name}: first code cell should install rlbook"
        )
        assert {"skip-execution", "nbval-skip"} <= tags, (
            f"{path.name}: install cell must be tagged skip-execution and nbval-skip"
        )


def test_toc_lists_existing_files_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    for f in files:
        assert any((ROOT / (f + ext)).exists() for ext in (".md", ".ipynb")), (
            f"_toc.yml names missing {f}"
        )
    numbers = [int(m.group(1)) for f in files if (m := re.search(r"/(\d\d)_", f))]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 7, numbers


def test_binder_installs_the_package_after_the_environment():
    post_build = ROOT / "postBuild"
    assert post_build.exists() and os.access(post_build, os.X_OK), (
        "Binder needs an executable postBuild"
    )
    assert (
        "pip install --no-deps" in post_build.read_text()
    )  # environment.yml already has the dependencies


def test_compare_lists_what_differs_from_the_lock():
    """`make test-latest` prints this: changed, missing and extra packages (pip itself is not
    one)."""
    freeze = "Alpha_Pkg==1.0\nbeta==2.1\npip==26.0\nextra==0.1\nrlbook==0.1.0\n"
    lines = _lockfile().compare(freeze, {"alpha-pkg": "1.0", "beta": "2.0", "gamma": "3.0"})
    assert lines == [
        "beta: lock 2.0 -> 2.1",
        "gamma: lock 3.0 -> not installed",
        "extra: not in the lock -> 0.1",
    ]
