"""The Makefile's targets: each is declared .PHONY, has a rule, and is listed by `make help`."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text()


def _phony() -> set[str]:
    match = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", MAKEFILE, flags=re.MULTILINE)
    assert match, "the Makefile should declare its targets .PHONY"
    return set(match.group(1).replace("\\\n", " ").split())


def _rules() -> set[str]:
    """Targets with a rule, except files (paths, variables) and special targets (.PHONY)."""
    names = set()
    for line in MAKEFILE.splitlines():
        match = re.match(r"^([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*)*)\s*:(?!=)", line)
        if match:
            names.update(match.group(1).split())
    return names


def _help() -> set[str]:
    return set(re.findall(r'^\t@echo "make ([\w-]+)\s', MAKEFILE, flags=re.MULTILINE))


def test_every_target_is_phony_has_a_rule_and_is_listed_by_make_help():
    phony, rules, listed = _phony(), _rules(), _help()
    assert rules == phony, f"not .PHONY: {rules - phony}; .PHONY without a rule: {phony - rules}"
    assert listed == phony, f"missing from `make help`: {phony - listed}; unknown: {listed - phony}"


def test_no_stamp_targets_besides_the_one_install_stamp():
    stamps = set(re.findall(r"\$\(VENV\)/(\.installed[\w%-]*)", MAKEFILE))
    assert stamps == {".installed"}, f"vestigial stamp targets: {stamps - {'.installed'}}"
