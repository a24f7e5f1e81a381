"""The notebooks that the launch buttons open read as plain Markdown (Colab, plain JupyterLab).

``colab/book/`` (full edition) and ``colab/student/`` (student edition) are generated from
``book/`` by tools/student.py with tools/plain_markdown.py; the sync test is in
tests/test_student_edition.py. Here: every Markdown cell, rendered by a CommonMark renderer
(markdown-it-py, what Colab's renderer follows), shows no MyST syntax and links nowhere relative;
the full edition's solutions are hidden until asked for; the numbers agree with the HTML book's.
"""

import importlib.util
import json
import pathlib
import re
import sys

import pytest
from markdown_it import MarkdownIt

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "plain_markdown", ROOT / "tools" / "plain_markdown.py"
)
plain = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plain)
sys.path.insert(0, str(ROOT / "_ext"))
import chapter_numbers  # noqa: E402

PLAIN = sorted((ROOT / "colab").glob("*/[0-9][0-9]_*.ipynb"))
COMMONMARK = MarkdownIt("commonmark")

# What MyST leaves in CommonMark's rendering when nothing renders it: a colon fence as text, a
# directive's or role's {name}, an option line, a backtick-fenced directive's language class.
LEFTOVERS = {
    "colon fence": re.compile(r":::"),
    "role": re.compile(r"\{[a-z][\w:-]*\}\s*<code>"),
    "directive": re.compile(
        r"\{(?:exercise|solution[\w-]*|prf:\w+|admonition|warning|note|tip|"
        r"important|caution|danger|hint|seealso|figure|glue[\w:]*|"
        r"code-cell|math|bibliography|dropdown|div|card)\}"
    ),
    "option": re.compile(r"(?m)^\s*:(?:label|class|name|nonumber|width|align):"),
    "fenced directive": re.compile(r'class="language-\{'),
}
LINK = re.compile(r'(?:href|src)="([^"]*)"')


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def myst_leftovers(markdown: str) -> list[str]:
    """What of ``markdown`` would show as raw MyST (or a dead relative link) in Colab."""
    html = COMMONMARK.render(markdown)
    found = [f"{kind}: {m.group(0)!r}" for kind, rx in LEFTOVERS.items() for m in rx.finditer(html)]
    found += [
        f"relative link: {url!r}"
        for url in LINK.findall(html)
        if not re.match(r"^(?:https?:|mailto:|data:|#)", url)
    ]
    return found


def test_there_are_plain_notebooks_of_both_editions():
    book = sorted(p.name for p in PLAIN if p.parent.name == "book")
    student = sorted(p.name for p in PLAIN if p.parent.name == "student")
    assert book == student == sorted(p.name for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", PLAIN, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_markdown_cells_render_without_myst(path):
    problems = [
        f"cell {i} ({cell.get('id')}): {problem}"
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "markdown"
        for problem in myst_leftovers(_source(cell))
    ]
    assert not problems, f"{path.relative_to(ROOT)} shows MyST as text in Colab:\n  " + "\n  ".join(
        problems
    )


def test_the_detector_finds_each_kind_of_leftover():
    """So that the test above cannot pass by detecting nothing."""
    for text in (
        ":::{exercise}\n:label: ex-a\n\n**A**\n\n:::",
        "See {prf:ref}`alg-dqn`.",
        "```{warning}\nCareful.\n```",
        '<a href="references.html#cite-x">X (2000)</a>',
        "[chapter 3](03_dqn.ipynb)",
    ):
        assert myst_leftovers(text), text
    assert not myst_leftovers("**Exercise 3.2: The soft update**\n\n> **Note**\n>\n> $x$")


@pytest.mark.parametrize(
    "path", [p for p in PLAIN if p.parent.name == "book"], ids=lambda p: p.stem
)
def test_full_edition_hides_each_solution_under_a_solution_heading(path):
    cells = _cells(path)
    source = _cells(ROOT / "book" / path.name)
    n_solutions = sum("{solution-start}" in _source(c) for c in source)
    headings = [
        i for i, c in enumerate(cells) if _source(c).startswith("#### Solution to Exercise")
    ]
    assert len(headings) == n_solutions
    for i in headings:
        code = cells[i + 1]
        assert code["cell_type"] == "code", f"cell {i + 1}: the solution's code should follow"
        assert code["metadata"]["cellView"] == "form", "Colab: code hidden (form view)"
        assert code["metadata"]["jupyter"]["source_hidden"] is True, "JupyterLab: input collapsed"
        assert _source(code).startswith("#@title Solution to Exercise")
    # Every code cell of the source is there, with its code unchanged (the title line aside).
    plain_code = [
        re.sub(r"^#@title.*\n", "", _source(c)) for c in cells if c["cell_type"] == "code"
    ]
    assert plain_code == [_source(c) for c in source if c["cell_type"] == "code"]
    assert all(len(line) <= 79 for c in plain_code for line in c.splitlines())


@pytest.mark.parametrize(
    "path", [p for p in PLAIN if p.parent.name == "student"], ids=lambda p: p.stem
)
def test_student_plain_edition_has_the_student_editions_cells_and_no_solution(path):
    cells, student = _cells(path), _cells(ROOT / "student" / path.name)
    assert [c["id"] for c in cells] == [c["id"] for c in student]
    assert [_source(c) for c in cells if c["cell_type"] == "code"] == [
        _source(c) for c in student if c["cell_type"] == "code"
    ]
    text = "\n".join(_source(c) for c in cells)
    assert "Solution to" not in text and "source_hidden" not in json.dumps(cells)


def _exercise_titles(cells):
    return re.findall(r"\*\*(Exercise \d+\.\d+): ", "\n".join(_source(c) for c in cells))


@pytest.mark.parametrize(
    "path", [p for p in PLAIN if p.parent.name == "book"], ids=lambda p: p.stem
)
def test_exercises_are_numbered_per_chapter_in_order(path):
    chapter = int(path.name[:2])
    titles = _exercise_titles(_cells(path))
    n = sum(_source(c).count(":::{exercise}") for c in _cells(ROOT / "book" / path.name))
    assert titles == [f"Exercise {chapter}.{k}" for k in range(1, n + 1)]
    assert _exercise_titles(_cells(ROOT / "colab" / "student" / path.name)) == titles


def test_html_book_numbers_exercises_and_algorithms_the_same_way():
    """_ext/chapter_numbers.py turns Sphinx's book-wide numbers into per-chapter ones."""

    class Env:
        toc_fignumbers = {
            "book/intro": {},
            "book/03_dqn": {
                "exercise": {"ex-b": (5,), "ex-a": (4,)},
                "algorithm": {"alg": (1,)},
                "figure": {"f": (7,)},
            },
            "book/04_double_dqn": {"exercise": {"ex-c": (6,)}, "algorithm": {"alg-d": (2,)}},
        }

    env = Env()
    changed = chapter_numbers.renumber(None, env)
    assert changed == ["book/03_dqn", "book/04_double_dqn"]
    assert env.toc_fignumbers["book/03_dqn"] == {
        "exercise": {"ex-a": (3, 1), "ex-b": (3, 2)},
        "algorithm": {"alg": (3, 1)},
        "figure": {"f": (7,)},
    }
    assert env.toc_fignumbers["book/04_double_dqn"]["algorithm"] == {"alg-d": (4, 1)}
    assert chapter_numbers.renumber(None, env) == [], "idempotent"


def _convert(markdown, edition="book", refs=None):
    nb = {
        "cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": markdown}],
        "metadata": {},
    }
    out = plain.plain_notebook(nb, "03_dqn.ipynb", edition, refs=refs or {})
    return _source(out["cells"][0])


def test_conversions():
    assert _convert(":::{exercise}\n:label: ex-x\n\n**The soft update**\n\nWrite it.\n\n:::") == (
        "**Exercise 3.1: The soft update**\n\nWrite it."
    )
    assert _convert("::::{warning}\n\n**Errata: x**\n\nText\nmore.\n\n::::") == (
        "> **Errata: x**\n>\n> Text\n> more."
    )
    box = _convert(
        ":::{prf:algorithm}\n:label: alg-dqn\n\n**DQN**\n\n1. a\n    1. b\n\n:::\n\n"
        "As {prf:ref}`alg-dqn` and {prf:ref}`alg-double-dqn` say.",
        refs={"alg-double-dqn": "Algorithm 4.1"},
    )
    assert box == (
        "**Algorithm 3.1: DQN**\n\n1. a\n    1. b\n\nAs Algorithm 3.1 and Algorithm 4.1 say."
    )
    base = plain.published_url()
    assert base.startswith("https://") and base.endswith("/")
    assert _convert('<a href="references.html#cite-x">X</a>') == (
        f'<a href="{base}book/references.html#cite-x">X</a>'
    )
    assert (
        _convert("[chapter 4](04_double_dqn.ipynb)")
        == f"[chapter 4]({base}book/04_double_dqn.html)"
    )
    student = _convert("[chapter 4](04_double_dqn.ipynb)", edition="student")
    assert student == f"[chapter 4]({plain.colab_url('colab/student/04_double_dqn.ipynb')})"
    assert _convert("Text with $x$ and [a link](https://example.org).") == (
        "Text with $x$ and [a link](https://example.org)."
    )
