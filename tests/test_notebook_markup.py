"""The notebooks' prose reads in Colab and plain Jupyter too (tools/notebook_markup.py).

The first test fails on any Markdown cell that the conversion script would still change (a
{cite} role, a backtick-fenced exercise, an admonition with its title after the braces, ...):
run ``python tools/notebook_markup.py book/*.ipynb`` to fix it. The others pin down what the
script produces, on prose it has not seen.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "notebook_markup", ROOT / "tools" / "notebook_markup.py"
)
markup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(markup)

BIB = markup.read_bib()
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def convert(text: str) -> str:
    return markup.convert_markdown(text, BIB)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_prose_has_no_markup_the_script_would_convert(path):
    changed = markup.convert_notebook(path, BIB, write=False)
    assert not changed, (
        f"{path.name}: cells {changed} hold raw MyST markup that Colab shows as text; "
        f"run `python tools/notebook_markup.py book/*.ipynb`"
    )
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            assert not re.search(r"\{cite(:\w+)?\}`", source), (path.name, cell.get("id"))
            assert not re.search(
                r"^\s*`{3,}\{(exercise|solution-start|solution-end|admonition)\}",
                source,
                flags=re.MULTILINE,
            ), (path.name, cell.get("id"))


def test_citation_links_land_on_bibliography_entries():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["config"]["bibtex_cite_id"] == "cite-{key}"
    assert ":all:" in (ROOT / "book" / "references.md").read_text()  # listed even if never cited
    linked = set()
    for path in NOTEBOOKS:
        for key in re.findall(r'href=\\"references\.html#cite-([^"\\]+)\\"', path.read_text()):
            assert key in {k.lower() for k in BIB}, f"{path.name} links to an unknown entry {key!r}"
            linked.add(key)
    assert {"watkins1992", "mnih2015"} <= linked, linked  # chapters 2 and 3 cite them


def test_read_bib_gives_surnames_and_years():
    assert BIB["watkins1992"] == (["Watkins", "Dayan"], "1992")
    assert BIB["vanhasselt2010"] == (["van Hasselt"], "2010")


def test_citation_roles_become_author_year_links():
    assert convert("Q-learning {cite}`watkins1992` improves") == (
        'Q-learning <a href="references.html#cite-watkins1992">'
        "Watkins and Dayan (1992)</a> improves"
    )
    assert convert("{cite:t}`mnih2015` showed") == (
        '<a href="references.html#cite-mnih2015">Mnih et al. (2015)</a> showed'
    )
    assert convert("as shown {cite:p}`vanhasselt2010,vanhasselt2016`.") == (
        'as shown (<a href="references.html#cite-vanhasselt2010">van Hasselt, 2010</a>; '
        '<a href="references.html#cite-vanhasselt2016">van Hasselt et al., 2016</a>).'
    )
    assert convert("{cite}`watkins1992,williams1992`").count("<a href") == 2
    with pytest.raises(KeyError, match="no entry 'nobody2020'"):
        convert("{cite}`nobody2020`")


def test_other_roles_become_markdown():
    assert convert("see {doc}`chapter 3 <03_dqn>`") == "see [chapter 3](03_dqn.ipynb)"
    assert convert("{math}`x^2`") == "$x^2$"


def test_code_is_left_alone():
    text = "```python\nprint('{cite}`watkins1992`')\n```\n\n```{code-cell} ipython3\nx = 1\n```"
    assert convert(text) == text
    math = "```{math}\n:label: eq-1\na = b\n```"
    assert convert(math) == math


def test_exercise_gets_a_colon_fence_and_a_bold_title_line():
    text = (
        "```{exercise} One episode\n:label: ex-run\n\nWrite `run`, as in {cite}`williams1992`.\n```"
    )
    out = convert(text)
    link = '<a href="references.html#cite-williams1992">Williams (1992)</a>'
    # the blank line before ::: keeps the fence off the last sentence in Colab
    assert (
        out == ":::{exercise}\n:label: ex-run\n\n**One episode**\n\n"
        f"Write `run`, as in {link}.\n\n:::"
    )
    assert convert(out) == out  # idempotent


def test_solution_gates_read_as_markdown():
    start = convert("```{solution-start} ex-run\n:class: dropdown\n```")
    assert (
        start == ":::{solution-start} ex-run\n:class: dropdown\n\n"
        "**Solution** (try the exercise first)\n\n:::"
    )
    assert convert("```{solution-end}\n```") == ":::{solution-end}\n:::"
    assert convert(start) == start


def test_admonition_with_a_known_class_becomes_that_box_with_a_bold_title():
    text = (
        "````{admonition} Errata: the original\n:class: warning\n\n"
        "It did `x`:\n\n```python\ny = 1\n```\n"
        "````"
    )
    out = convert(text)
    assert out == (
        "::::{warning}\n\n**Errata: the original**\n\nIt did `x`:\n\n```python\ny = 1\n```\n\n::::"
    )
    assert convert(out) == out
    custom = "```{admonition} A title\n:class: dropdown\n\nBody.\n```"
    assert convert(custom) == ":::{admonition} A title\n:class: dropdown\n\nBody.\n\n:::"


def test_nested_directives_get_longer_outer_fences():
    text = "````{prf:algorithm} DQN\n:label: alg-dqn\n\n```{note}\nInner.\n```\n````"
    out = convert(text)
    assert out.splitlines()[0] == "::::{prf:algorithm}" and out.splitlines()[-1] == "::::"
    assert ":::{note}" in out and "**DQN**" in out
    assert convert(out) == out


def test_script_rewrites_a_notebook_in_place_and_then_leaves_it(tmp_path):
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "id": "a",
                "metadata": {},
                "source": [
                    "As {cite}`williams1992` put it.\n",
                    "\n",
                    "```{exercise} T\n",
                    "Do it.\n",
                    "```",
                ],
            },
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": ["# {cite}`x` in code stays"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb, indent=1) + "\n")
    assert markup.main(["--check", str(path)]) == 1
    assert markup.main([str(path)]) == 0
    cells = json.loads(path.read_text())["cells"]
    assert "Williams (1992)</a> put it." in "".join(cells[0]["source"])
    assert cells[1]["source"] == ["# {cite}`x` in code stays"]
    assert markup.main(["--check", str(path)]) == 0
