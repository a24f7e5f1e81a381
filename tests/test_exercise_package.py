"""The shape of the exercise package (issue 19, point 4): checks a reader can follow.

A check is its cases, its reference and its table of typical mistakes, run by ``_core.grade``;
no function grows past a screen, and chapters share helpers through ``_core`` and ``_pg`` only.
(No cap on the package's lines: a cap made the red-team pass drop hints for wrong answers it had
just caught, see docs/maintaining.md.)
"""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "rlbook" / "exercises"
MODULES = sorted(PACKAGE.glob("*.py"))
CHAPTERS = [p for p in MODULES if p.stem.startswith("ch")]
LONGEST_FUNCTION = 80


def _tree(path: pathlib.Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _checks(path: pathlib.Path) -> list[str]:
    """The public check functions of a chapter module (decorated with ``@check``)."""
    return [
        node.name
        for node in _tree(path).body
        if isinstance(node, ast.FunctionDef)
        and any(getattr(d, "id", None) == "check" for d in node.decorator_list)
    ]


def test_every_chapter_module_has_checks_and_exports_them():
    assert len(CHAPTERS) >= 10
    for path in CHAPTERS:
        names = _checks(path)
        assert names, path.name
        exported = next(
            node.value
            for node in _tree(path).body
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__"
        )
        assert set(names) <= {ast.literal_eval(e) for e in exported.elts}, path.name


def test_no_function_in_the_package_is_over_80_lines():
    too_long = [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in MODULES
        for node in ast.walk(_tree(path))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > LONGEST_FUNCTION
    ]
    assert not too_long


def test_chapters_share_helpers_through_core_and_pg_only():
    for path in CHAPTERS:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                others = [m for m in modules if m.startswith("rlbook.exercises.ch")]
                assert not others, f"{path.name} imports {others}"
