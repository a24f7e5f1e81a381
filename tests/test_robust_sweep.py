"""tools/robust.py: the plan of the robustness sweep and its table of claims."""

import importlib.util
import json
import pathlib

from rlbook.claims import margin

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("robust", ROOT / "tools" / "robust.py")
robust = importlib.util.module_from_spec(spec)
spec.loader.exec_module(robust)


def test_the_default_plan_is_every_offset_twice_and_the_shipped_seeds_four_times():
    plan = robust.plan(None, None)
    assert [o for c, o in plan if c == "off-1"] == list(robust.OFFSETS)
    assert [o for c, o in plan if c == "on-2"] == list(robust.OFFSETS)
    assert {c for c, o in plan if o == 0} == set(robust.CONFIGS)
    assert len(plan) == len(set(plan)) == 2 * len(robust.OFFSETS) + 2
    assert robust.plan(["on-1"], [5, 6]) == [("on-1", 5), ("on-1", 6)]
    assert robust.CONFIGS["off-1"]["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert robust.CONFIGS["on-2"]["TF_NUM_INTRAOP_THREADS"] == "2"


def _store(folder, target, config, offset, claims, exit_code=0, source=None):
    run = folder / target / config / str(offset)
    run.mkdir(parents=True)
    (run / "claims.jsonl").write_text("".join(json.dumps(c) + "\n" for c in claims))
    (run / "output.txt").write_text("last line of the run\n")
    status = {"exit": exit_code, "seconds": 1.0, "source": source or robust.source_hash(target)}
    (run / "status.json").write_text(json.dumps(status))


def _claim(value, bound, op=">="):
    m = margin(value, op, bound)
    passed = m > 0 or (m == 0 and op in (">=", "<="))
    return {
        "claim": "greedy mean",
        "value": value,
        "op": op,
        "bound": bound,
        "margin": m,
        "passed": passed,
    }


def test_the_table_counts_passes_and_shows_the_worst_margin(tmp_path, capsys):
    _store(tmp_path, "01", "off-1", 0, [_claim(480, 475)])
    _store(tmp_path, "01", "off-1", 100, [_claim(470, 475)])
    _store(tmp_path, "01", "on-2", 0, [_claim(500, 475)])
    _store(tmp_path, "01", "on-2", 100, [_claim(100, 475)], source="stale")  # left out
    assert robust.report(tmp_path) == 1
    out = capsys.readouterr().out
    assert "| 01 | greedy mean | 2/3 | -5 (470 >= 475) | off-1, offset 100 |" in out
    assert "3 runs, 1 claims, 1 failed claim checks, 0 crashed runs" in out


def test_a_run_that_crashed_before_its_claim_counts_as_a_failure(tmp_path, capsys):
    _store(tmp_path, "01", "off-1", 0, [_claim(480, 475)])
    _store(tmp_path, "01", "off-1", 100, [], exit_code=1)
    assert robust.report(tmp_path) == 1
    out = capsys.readouterr().out
    assert "| 01 | greedy mean | 1/2 |" in out
    assert "CRASHED: 01 off-1 offset 100: last line of the run" in out


def test_all_claims_passing_exits_zero(tmp_path, capsys):
    _store(tmp_path, "01", "off-1", 0, [_claim(480, 475)])
    assert robust.report(tmp_path) == 0
    assert "0 failed claim checks" in capsys.readouterr().out
