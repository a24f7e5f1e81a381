"""Write the canonical install cell as the first code cell of each notebook (idempotent).

The cell installs rlbook only when ``import rlbook`` fails (Colab; JupyterLab's Run All ignores
the skip-execution tag, so it must be harmless where rlbook is installed), says what it did in
one line, and never replaces an installed rlbook. Its requirement names the repository and
branch of _config.yml. tests/test_install_cell.py checks every notebook against it.

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


def requirement() -> str:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return f'rlbook @ git+{repo["url"].rstrip("/")}@{repo["branch"]}'


def source() -> str:
    return f'''# Colab / Binder only: installs rlbook if it is missing, never replaces it.
# (The book build and the notebook tests skip this cell.)
try:
    import rlbook
    print(f"rlbook {{rlbook.__version__}} is installed "
          f"({{rlbook.__path__[0]}}): nothing to install.")
except ModuleNotFoundError:
    print("rlbook is not installed: installing it from GitHub.")
    %pip install --quiet "{requirement()}"'''


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
        raise ValueError(f"{path}: expected one install cell (code with `pip install` and rlbook), "
                         f"found {len(found)}; add one by hand first")
    index = found[0]
    cell = cells[index]
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    wanted = source().splitlines(keepends=True)
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
