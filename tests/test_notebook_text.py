"""The book's text has no leftovers: no paragraph said twice in a chapter, no marker tokens.

Catches what a merge or an unfinished edit leaves behind: a markdown paragraph pasted twice
into one notebook, or a ``SOLVED_``, ``TODO`` or ``XXX`` marker anywhere in ``book/``.
"""

from __future__ import annotations

import json
import pathlib
import re
from collections import Counter

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
TEXT_FILES = sorted(p for p in BOOK.rglob("*") if p.suffix in {".ipynb", ".md", ".bib", ".py"})
TOKENS = re.compile(r"SOLVED_|\bTODO\b|\bXXX\b")
MIN_CHARS = 60  # shorter paragraphs (a directive's closing fence, "## Check") may repeat


def paragraphs(notebook: pathlib.Path) -> list[str]:
    """The markdown paragraphs of a notebook, whitespace-normalised, long enough to matter."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for block in re.split(r"\n\s*\n", "".join(cell["source"])):
            text = " ".join(block.split())
            if len(text) >= MIN_CHARS and not text.startswith(("```", ":")):
                found.append(text)
    return found


def test_the_book_has_notebooks():
    assert len(NOTEBOOKS) >= 8


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_no_markdown_paragraph_appears_twice(notebook):
    counts = Counter(paragraphs(notebook))
    repeated = [text[:100] for text, n in counts.items() if n > 1]
    assert not repeated, f"{notebook.name} repeats these paragraphs: {repeated}"


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(BOOK)))
def test_no_leftover_tokens(path):
    hits = [
        f"line {i}: {line.strip()[:100]}"
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TOKENS.search(line)
    ]
    assert not hits, f"{path.name} has leftover markers (SOLVED_, TODO, XXX): {hits}"


def test_the_checks_catch_what_they_should(tmp_path):
    """The two checks themselves: a duplicated paragraph and a marker are found."""
    para = "A paragraph long enough to count, written once and then pasted a second time."
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": [para + "\n\nOther text.\n"]},
            {"cell_type": "markdown", "source": ["Intro.\n\n" + para]},
        ]
    }
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    assert Counter(paragraphs(path))[para] == 2
    assert TOKENS.search("SOLVED_What the measurement shows")
    assert TOKENS.search("# TODO: fix") and TOKENS.search("XXX")
    assert not TOKENS.search("TODOS and XXXL are words")


def test_every_chapter_is_in_the_table_of_contents():
    """A notebook missing from ``_toc.yml`` is built by no edition, and the intro's link to it
    breaks the build (``-W``) only once the book is built: say so at once."""
    toc = (BOOK.parent / "_toc.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"file:\s*book/([\w-]+)", toc))
    missing = [p.stem for p in NOTEBOOKS if p.stem not in listed]
    assert not missing, f"add these chapters to _toc.yml: {missing}"
