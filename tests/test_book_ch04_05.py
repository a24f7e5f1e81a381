"""Chapters 4 and 5 train the variant they teach, and show the library's answer after the exercise.

``DQNConfig`` defaults to vanilla DQN (chapter 3), so every agent that chapters 4 and 5 build
must name both flags, ``double`` and ``dueling``: a chapter that relied on the defaults would
silently train another algorithm than the one its text describes.

Reads the notebooks as stored (``.ipynb``, or MyST Markdown with ``{code-cell}`` blocks); runs
nothing.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = ("04_double_dqn", "05_dueling_dqn")


def _chapter(stem: str) -> pathlib.Path:
    for suffix in (".ipynb", ".md"):
        if (BOOK / (stem + suffix)).exists():
            return BOOK / (stem + suffix)
    raise FileNotFoundError(stem)


def _cells(path: pathlib.Path) -> list[tuple[str, str]]:
    """(kind, source) of every cell in reading order; kind is "code" or "markdown"."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]
    text = path.read_text()
    cells, pos = [], 0
    for m in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.DOTALL):
        cells.append(("markdown", text[pos : m.start()]))
        cells.append(("code", m.group(1)))
        pos = m.end()
    cells.append(("markdown", text[pos:]))
    return cells


def _code(source: str) -> str:
    """Drop IPython magics and shell lines so the cell parses as Python."""
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_dqn_agent_names_both_variant_flags(stem):
    calls = []
    for kind, source in _cells(_chapter(stem)):
        if kind != "code":
            continue
        for node in ast.walk(ast.parse(_code(source))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                "DQNAgent",
                "DQNConfig",
            ):
                calls.append(node)
                names = {k.arg for k in node.keywords}
                assert {"double", "dueling"} <= names, (
                    f"{stem}: {node.func.id}(...) on line {node.lineno} of its cell must pass "
                    f"double= and dueling= explicitly (got {sorted(n for n in names if n)})"
                )
    assert calls, f"{stem} builds no DQNAgent: the test looks in the wrong place"


def _first_index(cells, needle: str, start: int = 0) -> int:
    for i in range(start, len(cells)):
        if needle in cells[i][1]:
            return i
    raise AssertionError(f"{needle!r} not found after cell {start}")


@pytest.mark.parametrize(
    "stem, label, shown",
    [
        ("04_double_dqn", "ex-double-td-target", "inspect.getsource(double_td_target)"),
        ("05_dueling_dqn", "ex-dueling-combine", "inspect.getsource(dueling_q)"),
        ("05_dueling_dqn", "ex-split-q", "inspect.getsource(dueling_q)"),
    ],
)
def test_library_answer_is_printed_after_the_exercise(stem, label, shown):
    cells = _cells(_chapter(stem))
    exercise = _first_index(cells, f":label: {label}")
    solution_end = _first_index(cells, "{solution-end}", exercise)
    printed = _first_index(cells, shown)
    assert printed > solution_end, f"{stem}: {shown} comes before the end of exercise {label}"


def test_chapter_4_prints_the_agents_learning_step_after_its_algorithm_box():
    cells = _cells(_chapter("04_double_dqn"))
    box = _first_index(cells, "{prf:algorithm}")
    step = _first_index(cells, "inspect.getsource(DQNAgent.", box)
    assert step == box + 1, "the learning step should follow the algorithm box directly"
