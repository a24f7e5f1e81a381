"""The package's layers (docs/architecture.md): imports go down, never up, never in a circle.

The imports are read with ``ast`` from the source, so both kinds count: those at the top of a
module and those inside a function (the lazy ones that keep TensorFlow and matplotlib out of a
plain ``import rlbook``). ``importlib`` strings are not seen.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rlbook"

# Lowest first. A module may import modules of its own layer or of a lower one. A new module gets
# a line here and a word in docs/architecture.md.
_LAYERS = {
    "foundation": "rlbook _tf_startup _validate claims",
    "building blocks": "losses schedules replay nets speed envs gridworld mdp diagnostics tblog"
    " checkpoint parallel",
    "agents": "agents",  # and every rlbook.agents.* module
    "loop": "train",
    "drivers": "__main__ cli bench plots widgets render diagrams",
    "exercises": "exercises",  # and every rlbook.exercises.* module
}
LAYERS = {
    layer: [n if n == "rlbook" else f"rlbook.{n}" for n in names.split()]
    for layer, names in _LAYERS.items()
}
PREFIX_LAYERS = {"rlbook.agents.": "agents", "rlbook.exercises.": "exercises"}

# Imports allowed to go up a layer (importer, imported), each with why. None today:
# checkpoint.load is handed the agent classes (rlbook.agents.load passes the registry).
ALLOWED_UP: set[tuple[str, str]] = set()

# Import edges allowed to close a circle, each with why and when it goes. The test fails once an
# edge here no longer exists, so that the exception is deleted with its cause.
KNOWN_CIRCLES: set[tuple[str, str]] = set()


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """The rlbook modules (and the top-level names tools, tests) that module ``name`` imports."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..losses import y
                base = ".".join(package[: len(package) - node.level + 1] + [base]).strip(".")
            # `from rlbook import checkpoint` imports the module rlbook.checkpoint
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top in ("tools", "tests", "benchmarks"):
                found.add(top)
            elif top == "rlbook":
                while target not in MODULES:  # rlbook.nets.q_network -> rlbook.nets
                    target = target.rpartition(".")[0]
                if target != name:
                    found.add(target)
    return found


GRAPH = {name: imports(name) for name in MODULES}


def layer(name: str) -> int:
    order = list(LAYERS)
    for prefix, layer_name in PREFIX_LAYERS.items():
        if name.startswith(prefix):
            return order.index(layer_name)
    for index, members in enumerate(LAYERS.values()):
        if name in members:
            return index
    raise AssertionError(
        f"{name} has no layer: add it to LAYERS in tests/test_architecture.py and say where it "
        "sits in docs/architecture.md"
    )


def test_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


def test_imports_go_down_never_up():
    order = list(LAYERS)
    upward = [
        f"{name} ({order[layer(name)]}) imports {target} ({order[layer(target)]})"
        for name, targets in GRAPH.items()
        for target in targets
        if target.startswith("rlbook")
        and layer(target) > layer(name)
        and (name, target) not in ALLOWED_UP
    ]
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_the_package_never_imports_tools_tests_or_benchmarks():
    outside = {name: t for name, t in GRAPH.items() if t & {"tools", "tests", "benchmarks"}}
    assert not outside, f"rlbook must stand alone: {outside}"


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, as the path of one strongly connected component (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle():
    graph = {
        name: {t for t in targets if (name, t) not in KNOWN_CIRCLES}
        for name, targets in GRAPH.items()
    }
    circles = _circles(graph)
    assert not circles, f"import circles (each a set of modules that import each other): {circles}"


def test_known_circle_exceptions_still_exist():
    stale = [edge for edge in KNOWN_CIRCLES if edge[1] not in GRAPH.get(edge[0], set())]
    assert not stale, f"these imports are gone: delete them from KNOWN_CIRCLES: {stale}"
    if KNOWN_CIRCLES:
        assert _circles(GRAPH), "the known circle is gone: empty KNOWN_CIRCLES"


def test_the_circle_check_sees_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
