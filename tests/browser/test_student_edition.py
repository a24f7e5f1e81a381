"""The student edition (`make book-student`) keeps the exercises and drops every solution.

It is built from ``student/`` (the solution-free notebooks generated from ``book/``), so the
student page of ``book/NN_name`` is ``student/NN_name``, and its Binder and Colab buttons open
``colab/student/NN_name.ipynb``, its plain-Markdown copy.

A solution is the code between a notebook's ``{solution-start}`` and ``{solution-end}`` markdown
cells. Its distinctive lines (those that appear nowhere in the full book's page outside its
solution dropdowns: not in other cells, not in printed library source) must be absent from the
student page; each page with solutions must have some, so the test cannot pass vacuously.
Plain HTML parsing: no browser needed, but it runs with the browser tests, after both builds.
"""

from __future__ import annotations

import json
import pathlib
import re
from html.parser import HTMLParser

import pytest
import yaml
from book_site import ROOT, toc_pages


class _Text(HTMLParser):
    """The page's text, split into what is inside solution admonitions and what is outside."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.outside_solutions: list[str] = []
        self.classes: list[str] = []
        self._divs: list[bool] = []  # for each open <div>: is it a solution?

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        self.classes += classes
        if tag == "div":
            self._divs.append("solution" in classes)

    def handle_endtag(self, tag):
        if tag == "div" and self._divs:
            self._divs.pop()

    def handle_data(self, data):
        self.parts.append(data)
        if not any(self._divs):
            self.outside_solutions.append(data)


def _page(html_dir: pathlib.Path, page: str) -> _Text:
    parser = _Text()
    parser.feed((html_dir / f"{page}.html").read_text(encoding="utf-8"))
    return parser


def solution_lines(notebook: pathlib.Path) -> list[str]:
    """Lines of the solution cells that occur in no other cell of the notebook (stripped)."""
    cells = json.loads(notebook.read_text())["cells"]
    inside, solution, other = False, [], []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "{solution-start}" in source:
            inside = True
        elif cell["cell_type"] == "markdown" and "{solution-end}" in source:
            inside = False
        elif cell["cell_type"] == "code":
            (solution if inside else other).append(source)
    elsewhere = {line.strip() for src in other for line in src.splitlines()}
    return [
        line.strip()
        for src in solution
        for line in src.splitlines()
        if len(line.strip()) >= 12 and line.strip() not in elsewhere
    ]


CHAPTERS = [p for p in toc_pages() if (ROOT / f"{p}.ipynb").exists()]


@pytest.mark.parametrize("page", CHAPTERS)
def test_student_pages_have_exercises_but_no_solution_code(page, book_html, student_html):
    full, student = _page(book_html, page), _page(student_html, _student_page(page))
    full_text, student_text = "".join(full.parts), "".join(student.parts)
    outside = "".join(full.outside_solutions)
    lines = [line for line in solution_lines(ROOT / f"{page}.ipynb") if line not in outside]
    if "solution" in full.classes:
        assert lines, f"{page}: no solution line is distinctive enough to test the student edition"

    assert full.classes.count("exercise") == student.classes.count("exercise"), (
        "the student edition must keep every exercise"
    )
    assert "solution" not in student.classes, "a solution admonition is still in the student page"
    missing_in_full = [line for line in lines if line not in full_text]
    assert not missing_in_full, (
        f"solution lines not found in the full book (test out of date?): {missing_in_full}"
    )
    leaked = [line for line in lines if line in student_text]
    assert not leaked, f"{page}: solution code in the student edition:\n  " + "\n  ".join(leaked)


def _student_page(page: str) -> str:
    return page.replace("book/", "student/", 1)


@pytest.mark.parametrize("page", CHAPTERS)
def test_student_launch_buttons_open_the_solution_free_notebook(page, student_html):
    html = (student_html / f"{_student_page(page)}.html").read_text(encoding="utf-8")
    # The plain-Markdown copy of the student notebook (tools/plain_markdown.py): Colab renders it.
    notebook = f"colab/{_student_page(page)}.ipynb"
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    assert f"/blob/{branch}/{notebook}" in html, f"no Colab link to {notebook}"
    assert f"tree/{notebook}" in html.replace("%2F", "/"), f"no Binder link to {notebook}"
    for full in (f"{page}.ipynb", f"colab/{page}.ipynb"):
        assert f"/blob/{branch}/{full}" not in html, "a launch button opens the full notebook"
        assert f"tree/{full}" not in html.replace("%2F", "/"), "Binder opens the full notebook"


def test_student_edition_ships_no_source_notebooks(student_html):
    """The downloadable sources hold the solutions: the student build does not copy them."""
    leaked = sorted(
        str(p.relative_to(student_html)) for p in student_html.rglob("_sources/**/*.ipynb")
    )
    assert not leaked, f"source notebooks (with solutions) in the student edition: {leaked}"


def _numbers(text: str, kind: str) -> list[str]:
    return re.findall(rf"\b{kind} (\d+\.\d+)\b", text)


@pytest.mark.parametrize("page", CHAPTERS)
def test_html_and_plain_notebooks_number_exercises_and_algorithms_alike(
    page, book_html, student_html
):
    """_ext/chapter_numbers.py (HTML) and tools/plain_markdown.py (colab/) agree: Exercise 3.2 is
    the same exercise in the HTML book, its student edition and the notebooks Colab opens."""
    for html_dir, html_page, edition in (
        (book_html, page, "book"),
        (student_html, _student_page(page), "student"),
    ):
        html = (html_dir / f"{html_page}.html").read_text(encoding="utf-8")
        captions = re.findall(r'<span class="caption-number">(\w+) (\d+\.\d+) </span>', html)
        notebook = ROOT / "colab" / edition / f"{page.split('/')[-1]}.ipynb"
        text = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
        plain = re.findall(r"^\*\*(\w+) (\d+\.\d+): ", text, flags=re.M)
        assert captions == plain, f"{html_page}: HTML {captions} != colab/{edition} {plain}"
