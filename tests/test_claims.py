"""rlbook.claims: the chapters' checks with margins, and the seed offset of the sweep."""

import json
import math
import pathlib
import re

import pytest

from rlbook.claims import expect, margin, seed_offset


@pytest.mark.parametrize(
    ("value", "op", "bound", "expected"),
    [
        (480, ">=", 475, 5.0),
        (470, ">=", 475, -5.0),
        (3, "<", 5, 2.0),
        (7, "<=", 5, -2.0),
        (-13, "==", -13, 0.0),
        (-15, "==", -13, -2.0),
        (-11, "==", -13, -2.0),
    ],
)
def test_margin_is_the_distance_on_the_right_side(value, op, bound, expected):
    assert margin(value, op, bound) == expected


def test_expect_passes_and_fails_with_the_claim_in_the_message(monkeypatch):
    monkeypatch.delenv("RLBOOK_CLAIMS_LOG", raising=False)
    expect("greedy mean", 480, ">=", 475)
    expect("equal", 2, "==", 2)
    with pytest.raises(AssertionError, match=r"greedy mean: expected >= 475, got 470"):
        expect("greedy mean", 470, ">=", 475)
    with pytest.raises(AssertionError, match="margin"):
        expect("strict", 5, ">", 5)  # holds with equality: margin 0, still a failure
    with pytest.raises(AssertionError):
        expect("not a number", math.nan, "<", 1.0)
    with pytest.raises(ValueError, match="op must be one of"):
        expect("bad op", 1, "=>", 0)


def test_expect_records_instead_of_raising_when_a_log_is_set(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("RLBOOK_CLAIMS_LOG", str(log))
    expect("passes", 10, ">", 4)
    expect("fails", 1, ">=", 4)  # recorded, not raised: the sweep judges it
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["claim"] for r in records] == ["passes", "fails"]
    assert [r["passed"] for r in records] == [True, False]
    assert [r["margin"] for r in records] == [6.0, -3.0]
    assert records[1]["value"] == 1.0 and records[1]["bound"] == 4.0 and records[1]["op"] == ">="


def test_seed_offset_defaults_to_zero_and_reads_the_variable(monkeypatch):
    monkeypatch.delenv("RLBOOK_SEED_OFFSET", raising=False)
    assert seed_offset() == 0
    monkeypatch.setenv("RLBOOK_SEED_OFFSET", "300")
    assert seed_offset() == 300
    monkeypatch.setenv("RLBOOK_SEED_OFFSET", "three")
    with pytest.raises(ValueError, match="RLBOOK_SEED_OFFSET must be a whole number"):
        seed_offset()


def test_every_chapter_shifts_its_seeds_and_checks_with_expect():
    # The sweep shifts seeds through SEED: no chapter may give a literal seed to a
    # run, and every chapter's check cell uses expect().
    for path in sorted(pathlib.Path("book").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert "SEED = seed_offset()" in code, path
        assert "expect(" in code, path
        assert not re.findall(r"seed=\d|SEEDS = \(\d", code), path


def test_every_claim_of_a_chapter_has_its_own_name():
    # The sweep's table (tools/robust.py) counts each claim by its name: two expect()
    # calls with one name would be merged and miscounted.
    for path in sorted(pathlib.Path("book").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        names = re.findall(r"expect\(\s*(f?\"[^\"]*\")", code)
        assert names, path
        assert len(names) == len(set(names)), (path, sorted(n for n in names if names.count(n) > 1))
