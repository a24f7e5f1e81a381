"""Write the canonical install cell as the first code cell of each notebook (idempotent).

The cell installs rlbook only when ``import rlbook`` fails (Colab; JupyterLab's Run All ignores
the skip-execution tag, so it must be harmless where rlbook is installed), says what it did in
one line, and never replaces an installed rlbook. Its requirement names the repository and
branch of _config.yml. tests/test_install_cell.py checks every notebook against it.

The notebooks named in ``BOX2D_CHAPTERS`` (the one list to extend) make Box2D environments
(LunarLander-v3). Their cell installs ``rlbook[box2d]``, pyproject.toml's extra that brings
Box2D; where rlbook is already installed without Box2D, it says so and names the pip command
(it still never reinstalls rlbook). Every other chapter's cell installs plain ``rlbook``, so a
Colab runtime gets no Box2D for it.

Usage: python tools/install_cell.py book/*.ipynb   (--check: change nothing, exit 1 if needed)
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
TAGS = ["skip-execution", "nbval-skip"]  # the book build and nbval skip it
# The notebooks (file names, the same in book/ and student/) whose install cell adds the `box2d`
# extra: those that make a Box2D environment. Add a chapter here, then run this tool on it.
BOX2D_CHAPTERS = ("09_ppo.ipynb",)


def requirement(box2d: bool = False) -> str:
    """``rlbook @ git+<repository>@<branch>``; ``rlbook[box2d] @ ...`` with the extra."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    name = "rlbook[box2d]" if box2d else "rlbook"
    return f"{name} @ git+{repo['url'].rstrip('/')}@{repo['branch']}"


def needs_box2d(path: pathlib.Path) -> bool:
    """Whether a notebook's install cell installs the box2d extra (its name is in the list)."""
    return path.name in BOX2D_CHAPTERS


def source(box2d: bool = False) -> str:
    """The install cell's code: chapters 1-8's, or with ``box2d`` the Box2D chapters'."""
    if box2d:
        return _source_box2d()
    return f'''# Colab / Binder only: installs rlbook if it is missing, never replaces it.
# (The book build and the notebook tests skip this cell.)
try:
    import rlbook
    print(f"rlbook {{rlbook.__version__}} is installed "
          f"({{rlbook.__path__[0]}}): nothing to install.")
except ModuleNotFoundError:
    print("rlbook is not installed: installing it from GitHub.")
    %pip install --quiet "{requirement()}"'''


def _source_box2d() -> str:
    # pip's `-q` (its --quiet) keeps the longer requirement within the book's 79 columns; the
    # message names `pip install`, never `%pip install`: the cell has one %pip line, the one that
    # runs only when rlbook is missing. Box2D is checked by importing it in a nested try (an
    # `importlib` import next to `import rlbook` would trip ruff's import sorting in book/).
    return f'''# Colab / Binder only: installs rlbook if it is missing, never replaces it.
# (The book build and the notebook tests skip this cell.)
# This chapter also needs Box2D (LunarLander): rlbook's box2d extra.
try:
    import rlbook
    where = f"rlbook {{rlbook.__version__}} is installed ({{rlbook.__path__[0]}})"
    try:
        import Box2D  # noqa: F401
        print(f"{{where}}: nothing to install.")
    except ModuleNotFoundError:
        print(f"{{where}} without Box2D: pip install 'gymnasium[box2d]'")
except ModuleNotFoundError:
    print("rlbook is not installed: installing it from GitHub, with Box2D.")
    %pip install -q "{requirement(box2d=True)}"'''


def _is_install_cell(cell: dict) -> bool:
    text = "".join(cell["source"])
    return cell["cell_type"] == "code" and "pip install" in text and "rlbook" in text


def apply(path: pathlib.Path, write: bool = True) -> bool:
    """Make the install cell canonical and the first code cell; returns whether anything changed.

    The install cell is found by its content; if code cells were added above it (they would run
    before rlbook is installed on Colab), it is moved up to just before the first of them.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    found = [i for i, c in enumerate(cells) if _is_install_cell(c)]
    if len(found) != 1:
        raise ValueError(
            f"{path}: expected one install cell (code with `pip install` and rlbook), "
            f"found {len(found)}; add one by hand first"
        )
    index = found[0]
    cell = cells[index]
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    wanted = source(box2d=needs_box2d(path)).splitlines(keepends=True)
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if cell["source"] == wanted and all(t in tags for t in TAGS) and index == first_code:
        return False
    cell["source"] = wanted
    tags.extend(t for t in TAGS if t not in tags)
    if index != first_code:
        cells.insert(first_code, cells.pop(index))
    if write:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            if apply(path, write=not args.check):
                print(f"{path}: install cell {'would change' if args.check else 'rewritten'}")
                status = 1 if args.check else status
        except ValueError as exc:
            print(exc, file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
