"""Docstrings and comments of the package cite only files that exist in the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A repository path as the package cites one: a top-level folder or file of this repository.
CITED = re.compile(
    r"``?((?:rlbook|tests|book|benchmarks|tools|_ext|student|docs)/[\w./-]+\.\w+)``?"
)


def test_cited_files_exist():
    missing = []
    for path in sorted((ROOT / "rlbook").rglob("*.py")):
        for match in CITED.finditer(path.read_text()):
            if "NN" not in match.group(1) and not (ROOT / match.group(1)).exists():  # NN: a pattern
                missing.append(f"{path.relative_to(ROOT)} cites {match.group(1)}")
    assert not missing, "\n".join(missing)


def test_no_design_document_is_cited():
    # DESIGN.md lives outside the repository: a reader of the package cannot open it.
    cited = [p.name for p in (ROOT / "rlbook").rglob("*.py") if "DESIGN.md" in p.read_text()]
    assert not cited, cited
