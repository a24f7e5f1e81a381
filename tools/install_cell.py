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


def apply(path: pathlib.Path, write: bool = True) -> bool:
    """Make the first code cell the install cell; returns whether the notebook changed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    if "pip install" not in "".join(cell["source"]):
        raise SystemExit(f"{path}: the first code cell is not an install cell; add one by hand first")
    wanted = source().splitlines(keepends=True)
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if cell["source"] == wanted and all(t in tags for t in TAGS):
        return False
    cell["source"] = wanted
    tags.extend(t for t in TAGS if t not in tags)
    if write:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    changed = [p for p in args.notebooks if apply(p, write=not args.check)]
    for path in changed:
        print(f"{path}: install cell {'would change' if args.check else 'rewritten'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
