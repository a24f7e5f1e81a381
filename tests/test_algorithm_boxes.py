"""The algorithm boxes, the code comments and the prose use the same step numbers.

Each chapter prints its agent's learning step with ``inspect.getsource`` next to a
``:::{prf:algorithm}`` box, and maps one to the other: the code's numbered comments
(``# 2.3.2 The target ...``, ``# 2.3-2.5 ...``) and the prose's "step 2.4", "lines 2.3.2 to
2.3.4" name lines of the box. This test fails when a number names no line of the box.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pathlib
import re

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NUM = r"\d+(?:\.\d+)*"
STEP_LINE = re.compile(r"^(\s*)(\d+)\.\s")
COMMENT = re.compile(rf"#\s*({NUM})(?:-({NUM}))?\.?\s")
PROSE = re.compile(
    rf"(?<!-)\b(?:steps?|lines?|comments?)\s+({NUM}(?:(?:,\s*|\s+and\s+|\s+to\s+){NUM})*)",
    re.IGNORECASE,
)


def _cells(notebook):
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def box_steps(markdown: str) -> set[str]:
    """The hierarchical numbers of the numbered lines of every algorithm box in ``markdown``."""
    steps: set[str] = set()
    for box in re.findall(r":::\{prf:algorithm\}(.*?)\n:::", markdown, re.DOTALL):
        stack: list[tuple[int, str]] = []  # (indent, number) of the open levels
        for line in box.splitlines():
            match = STEP_LINE.match(line)
            if not match:
                continue
            indent = len(match.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, match.group(2)))
            steps.add(".".join(n for _, n in stack))
    return steps


def printed_functions(notebook) -> list:
    """The objects a notebook prints with ``inspect.getsource``, resolved by its imports."""
    code = "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code")
    imported = {}
    for module, names in re.findall(r"from (rlbook[\w.]*) import \(?([\w,\s]+)\)?", code):
        for name in re.split(r"[,\s]+", names.strip()):
            if name:
                imported[name] = module
    found = []
    for dotted in re.findall(r"inspect\.getsource\(([\w.]+)\)", code):
        head, *rest = dotted.split(".")
        if head not in imported:
            continue
        module = importlib.import_module(imported[head])
        obj = getattr(module, head, None) or importlib.import_module(f"{module.__name__}.{head}")
        for attr in rest:
            obj = getattr(obj, attr)
        found.append((dotted, obj))
    return found


def comment_numbers(source: str) -> set[str]:
    numbers = set()
    for first, last in COMMENT.findall(source):
        numbers.add(first)
        if last:
            numbers.add(last)
    return numbers


def prose_numbers(markdown: str) -> set[str]:
    text = re.sub(r":::\{prf:algorithm\}.*?\n:::", " ", markdown, flags=re.DOTALL)
    return {n for group in PROSE.findall(text) for n in re.findall(NUM, group)}


NOTEBOOKS = [
    nb
    for nb in sorted(BOOK.glob("*.ipynb"))
    if any(":::{prf:algorithm}" in "".join(c["source"]) for c in _cells(nb))
]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_code_comments_and_prose_use_the_boxs_numbers(notebook):
    markdown = "\n\n".join(
        "".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "markdown"
    )
    steps = box_steps(markdown)
    assert steps, f"{notebook.name}: no numbered lines in its algorithm box"
    bad = []
    for dotted, obj in printed_functions(notebook):
        for number in sorted(comment_numbers(inspect.getsource(obj)) - steps):
            bad.append(f"comment '# {number}' of {dotted}")
    for number in sorted(prose_numbers(markdown) - steps):
        bad.append(f"'step/line/comment {number}' in the prose")
    assert not bad, f"{notebook.name}: numbers that name no line of the box {sorted(steps)}: {bad}"


def test_the_parsers_on_a_small_box():
    box = (
        ":::{prf:algorithm}\n:label: x\n\n1. Init\n2. Repeat:\n    1. act\n    2. learn:\n"
        "        1. sample\n        2. target\n3. Done\n\n:::"
    )
    assert box_steps(box) == {"1", "2", "2.1", "2.2", "2.2.1", "2.2.2", "3"}
    code = "x = 1  # 2.2.1 Sample.\n# 2.1-2.2 Both.\ny = 2  # 10 apples\n"
    assert comment_numbers(code) == {"2.2.1", "2.1", "2.2", "10"}
    assert prose_numbers("Steps 2.1 and 2.2 run; line 3, then comments 1 to 2.2.2.") == {
        "2.1",
        "2.2",
        "3",
        "1",
        "2.2.2",
    }
