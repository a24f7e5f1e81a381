"""The library code the chapters print with ``inspect.getsource`` fits the book's text column.

A chapter shows a function of ``rlbook`` by printing its source; the printed lines must fit in
79 characters like the chapters' own code cells (book/ruff.toml). The formatter runs over
``rlbook/`` at 100 columns, so these functions are kept out of it: rlbook/losses.py is excluded
in pyproject.toml's ``[tool.ruff.format]``, the others sit between ``# fmt: off`` and
``# fmt: on``. This test finds every ``inspect.getsource(X)`` in book/*.ipynb, resolves ``X``
with the notebook's own ``rlbook`` imports and checks every line it prints.
"""

import ast
import inspect
import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
WIDTH = 79


def _code_cells(notebook):
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        # IPython magics and shell escapes are not Python; blank them out, keep the rest.
        lines = [
            "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
        ]
        try:
            yield ast.parse("\n".join(lines))
        except SyntaxError:
            continue


def _printed(notebook):
    """The notebook's rlbook imports (as one module) and the expressions it passes to getsource."""
    imports, printed = [], []
    for tree in _code_cells(notebook):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rlbook"):
                imports.append(node)
            elif isinstance(node, ast.Import) and all(
                alias.name.startswith("rlbook") for alias in node.names
            ):
                imports.append(node)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "getsource"
                and len(node.args) == 1
            ):
                printed.append(ast.unparse(node.args[0]))
    return ast.Module(body=imports, type_ignores=[]), printed


CASES = [
    (notebook.name, expression)
    for notebook in sorted(BOOK.glob("*.ipynb"))
    for expression in _printed(notebook)[1]
]


def test_the_chapters_print_library_code():
    # CASES is what the chapters print; an empty list would make the check below vacuous.
    names = {expression for _, expression in CASES}
    assert {"DQNAgent.learn", "run_episode", "mdp.value_iteration", "QLearningAgent.learn"} <= names
    assert len(CASES) >= 25


@pytest.mark.parametrize(("notebook", "expression"), CASES)
def test_printed_source_fits_the_text_column(notebook, expression):
    imports, _ = _printed(BOOK / notebook)
    namespace = {}
    exec(compile(imports, notebook, "exec"), namespace)
    source = inspect.getsource(eval(expression, namespace))
    wide = [f"{len(line)}: {line}" for line in source.splitlines() if len(line) > WIDTH]
    assert not wide, (
        f"{notebook} prints {expression} with lines over {WIDTH} columns:\n" + "\n".join(wide)
    )
