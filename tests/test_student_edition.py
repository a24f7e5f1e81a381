"""The student edition: student/ is what tools/student.py generates from book/, and it
holds every exercise (statement, stub, check) and no solution. The same generator writes the
plain-Markdown notebooks colab/book/ and colab/student/ (tests/test_plain_notebooks.py); the sync
test covers them too."""

import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("student", ROOT / "tools" / "student.py")
student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student)
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_student_notebooks_are_in_sync_with_the_book():
    stale = student.out_of_date(ROOT)
    assert not stale, (
        f"student/ or colab/ is out of date: {stale}. Run `make student` and commit the result."
    )


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def _solutions(cells):
    """The code of each gated solution of a source notebook, and the other cells' code."""
    inside, solutions, other = False, [], []
    for cell in cells:
        if cell["cell_type"] == "markdown" and "{solution-start}" in _source(cell):
            inside = True
        elif cell["cell_type"] == "markdown" and "{solution-end}" in _source(cell):
            inside = False
        elif cell["cell_type"] == "code":
            (solutions if inside else other).append(_source(cell))
    return solutions, other


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_keeps_exercises_and_drops_solutions(source):
    cells = _cells(source)
    kept = _cells(ROOT / "student" / source.name)
    text = "\n".join(_source(c) for c in kept)
    assert (
        "{solution-start}" not in text and "{solution-end}" not in text and "{solution}" not in text
    )
    solutions, other = _solutions(cells)
    elsewhere = {line.strip() for src in other for line in src.splitlines()}
    distinctive = [
        line.strip()
        for src in solutions
        for line in src.splitlines()
        if len(line.strip()) >= 12 and line.strip() not in elsewhere
    ]
    if solutions:
        assert distinctive, f"{source.name}: no distinctive solution line to test"
    kept_lines = {line.strip() for c in kept for line in _source(c).splitlines()}
    leaked = [line for line in distinctive if line in kept_lines]
    assert not leaked, f"solution code in student/{source.name}: {leaked}"
    # Every exercise statement, and every cell outside the solutions, is kept (ids included).
    ids = [c["id"] for c in kept]
    assert ids == [c["id"] for c in cells if c["id"] in set(ids)]
    assert text.count("{exercise}") == sum(_source(c).count("{exercise}") for c in cells)
    assert sum("raise NotImplementedError" in _source(c) for c in kept) >= text.count("{exercise}")
    assert all(
        c.get("outputs", []) == [] and c.get("execution_count") is None
        for c in kept
        if c["cell_type"] == "code"
    )


def test_student_intro_promises_no_solutions():
    """The student edition's intro (tools/student.py's STUDENT_TEXT) does not offer dropdowns."""
    intro = (ROOT / "student" / "intro.md").read_text(encoding="utf-8")
    assert "dropdown" not in intro.replace("behind dropdowns)", "")
    assert "leaves the solutions out" in intro
    with pytest.raises(ValueError, match="STUDENT_TEXT"):
        student.student_page("intro.md", "An intro without the sentence.")


def _nb(*cells):
    return {
        "cells": [
            {
                "cell_type": kind,
                "id": f"c{i}",
                "metadata": meta,
                "source": src,
                **({"outputs": [{"text": "x"}], "execution_count": 3} if kind == "code" else {}),
            }
            for i, (kind, src, meta) in enumerate(cells)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_generator_removes_gated_and_inline_solutions_and_tagged_cells():
    nb = _nb(
        ("markdown", "```{exercise} E\n:label: e\n```", {}),
        ("code", "def f():\n    raise NotImplementedError", {}),
        ("markdown", "```{solution-start} e\n:class: dropdown\n```", {}),
        ("code", "def f():\n    return 42", {}),
        ("markdown", "```{solution-end}\n```", {}),
        ("markdown", "Text.\n\n````{solution} e\nThe answer is 42.\n````\nMore text.", {}),
        ("code", "print(inspect.getsource(f))", {"tags": ["remove-student"]}),
        ("code", "f()", {}),
    )
    out = student.student_notebook(nb, "x.ipynb")
    sources = ["".join(c["source"]) for c in out["cells"]]
    assert sources == [
        "```{exercise} E\n:label: e\n```",
        "def f():\n    raise NotImplementedError",
        "Text.\n\nMore text.",
        "f()",
    ]
    assert all(
        c["outputs"] == [] and c["execution_count"] is None
        for c in out["cells"]
        if c["cell_type"] == "code"
    )
    assert nb["cells"][3]["outputs"], "the source notebook is not changed"
    assert out["metadata"]["rlbook"]["edition"] == "student"


def test_generator_refuses_unbalanced_markers():
    with pytest.raises(student.SolutionMarkerError, match="never closed"):
        student.student_notebook(
            _nb(("markdown", "```{solution-start} e\n```", {}), ("code", "x = 1", {}))
        )
    with pytest.raises(student.SolutionMarkerError, match="never opened"):
        student.student_notebook(_nb(("markdown", "```{solution-end}\n```", {})))


def test_student_book_config_points_the_launch_buttons_at_student(tmp_path):
    import yaml

    student.book_config(tmp_path, ROOT)
    toc = yaml.safe_load((tmp_path / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    assert all(f.startswith("student/") for f in files)
    assert all((ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists() for f in files)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert (
        config["repository"]["path_to_book"] == ""
    )  # URL path = page path = student/NN_name.ipynb
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert "student edition" in config["title"]
    # Its own execution cache: the two editions can be built at the same time (.ci/run does).
    root_cache = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["cache"]
    assert config["execute"]["cache"] == str(tmp_path / ".jupyter_cache")
    assert (ROOT / root_cache).resolve() != tmp_path / ".jupyter_cache"
