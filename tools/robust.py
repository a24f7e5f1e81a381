"""The robustness sweep: does every training claim of the book hold on any machine?

A chapter's runs are deterministic on one machine, not across machines: another CPU,
oneDNN on or off, or another thread count changes the last bits of the arithmetic,
and training drifts onto another trajectory. So each claim a chapter asserts with
``rlbook.claims.expect`` must hold with a margin. This tool reruns every chapter

* on shifted seeds: ``RLBOOK_SEED_OFFSET`` = 0, 100, 200, 300, 400 (every seed a
  chapter uses is ``SEED`` plus a constant, and ``SEED`` is the offset),
* under numeric configurations named ``on-2``, ``off-1``, ...: oneDNN on or off
  (``TF_ENABLE_ONEDNN_OPTS``) with one or two TensorFlow threads
  (``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS``, which the worker
  processes of ``run_parallel`` inherit). The plan: every offset under ``off-1``
  and ``on-2``, and the shipped seeds (offset 0) under all four,

with ``RLBOOK_CLAIMS_LOG`` set, so that ``expect`` records every claim's value and
margin instead of stopping at the first failure. The training unit tests and the
exercise agent checks run under the same plan (the agent checks draw fresh seeds on
every call). Then it prints, for each claim, its pass count and its worst margin.
It exits 1 if any claim failed or any run crashed.

    make test-robust                               # the whole plan: about 1.5 hours
    python tools/robust.py --chapters 03 --offsets 0 100 --configs on-1 off-2
    python tools/robust.py --report                # the table from the runs so far

Runs go two at a time (``--jobs``). Results are kept in ``_build/robust/`` with a hash
of the notebook (or test files) they ran: a run whose result is there is not repeated,
so an interrupted sweep resumes, and a chapter that changed since is run again
(``--fresh`` starts over, for example after a change to the package). Run it before
every release and whenever a chapter's settings change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "robust"
OFFSETS = (0, 100, 200, 300, 400)
CONFIGS = {
    f"{dnn}-{threads}": {
        "TF_ENABLE_ONEDNN_OPTS": "1" if dnn == "on" else "0",
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
    }
    for dnn in ("on", "off")
    for threads in (1, 2)
}
# The unit tests that train an agent and assert that it learned, and the tests that
# run each exercise's agent check on the reference solution.
TRAINING_TESTS = (
    "tests/test_qlearning.py::test_frozenlake_learns",
    "tests/test_tabular.py::test_cliffwalking_sarsa_walks_the_safe_path_and_qlearning_the_cliff_edge",
    "tests/test_reinforce.py::test_learns_on_cartpole_quickly",
    "tests/test_actor_critic.py::test_learns_on_cartpole_quickly",
    "tests/test_ppo.py::test_learns_on_cartpole_quickly",
    "tests/test_sac.py::test_learns_on_pendulum",
    "tests/test_exercises_ch02.py::test_q_learning_agent_learns_with_the_reference",
    "tests/test_exercises_ch03.py::test_dqn_agent_learns_with_the_reference",
    "tests/test_exercises_ch06.py::test_reinforce_agent_learns_with_the_reference",
    "tests/test_exercises_ch07.py::test_actor_critic_agent_learns_with_the_reference",
    "tests/test_ppo_continuous.py::test_learns_pendulum_with_the_pendulum_settings",
    "tests/test_exercises_ch09.py::test_ppo_agent_solves_cartpole_with_the_reference",
    "tests/test_exercises_ch10.py::test_sac_agent_swings_up_with_the_reference",
)


RUNNING: set[subprocess.Popen] = set()  # the runs in progress, stopped with the sweep


def plan(configs: list[str] | None, offsets: list[int] | None) -> list[tuple[str, int]]:
    """The (configuration, offset) pairs to run.

    By default: every offset under two opposite configurations, oneDNN off with one
    thread and oneDNN on with two (what ``make test`` runs here), then offset 0 (the
    seeds the book ships with) under the other two. That is every seed under two
    numeric configurations, and the shipped seeds under all four. Given ``configs``
    or ``offsets``, the full grid of them.
    """
    if configs is None and offsets is None:
        grid = [(c, o) for c in ("off-1", "on-2") for o in OFFSETS]
        return grid + [("on-1", 0), ("off-2", 0)]
    return [(c, o) for c in configs or list(CONFIGS) for o in offsets or list(OFFSETS)]


def chapters() -> dict[str, Path]:
    return {p.name[:2]: p for p in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))}


def run_dir(target: str, config: str, offset: int) -> Path:
    return OUT / target / config / str(offset)


def source_hash(target: str) -> str:
    """A hash of what a run executes: the notebook's code, or the training tests' files.

    A stored run whose hash differs (the chapter changed since) is stale: it is run
    again, and the report leaves it out.
    """
    if target == "tests":
        paths = sorted({ROOT / t.split("::")[0] for t in TRAINING_TESTS})
        data = b"".join(p.read_bytes() for p in paths)
    else:  # the code cells only: a change of prose does not change what runs
        cells = json.loads(chapters()[target].read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        data = "\n".join(code).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def stored(folder: Path, target: str) -> dict | None:
    """The stored status of a run, if it is there and not stale."""
    status_file = folder / "status.json"
    if not status_file.exists():
        return None
    status = json.loads(status_file.read_text())
    return status if status.get("source") == source_hash(target) else None


def run_one(target: str, config: str, offset: int) -> dict:
    """One run: a chapter notebook under nbval, or the training tests ("tests")."""
    folder = run_dir(target, config, offset)
    status = stored(folder, target)
    if status is not None:
        return status
    status_file = folder / "status.json"
    status_file.unlink(missing_ok=True)
    source = source_hash(target)
    folder.mkdir(parents=True, exist_ok=True)
    claims = folder / "claims.jsonl"
    claims.unlink(missing_ok=True)
    env = dict(os.environ, **CONFIGS[config])
    env.pop("RLBOOK_EXECUTED", None)  # a shifted seed's outputs are not the book's
    env.update(
        RLBOOK_SEED_OFFSET=str(offset),
        RLBOOK_CLAIMS_LOG=str(claims),
        RLBOOK_PROGRESS="0",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONHASHSEED="0",
    )
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if target == "tests":
        command = [*pytest, *TRAINING_TESTS, "--junitxml", str(folder / "junit.xml")]
    else:
        command = [*pytest, str(chapters()[target].relative_to(ROOT)), "--nbval-lax"]
    t0 = time.time()
    # Each run in its own process group: an interrupted sweep stops the notebook's kernel
    # and its worker processes too, not only pytest.
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    RUNNING.add(proc)
    try:
        output, _ = proc.communicate()
    finally:
        RUNNING.discard(proc)
    (folder / "output.txt").write_text(output)
    status = {"exit": proc.returncode, "seconds": round(time.time() - t0, 1), "source": source}
    status_file.write_text(json.dumps(status))
    print(
        f"{target:5s} {config:6s} offset {offset:>3}: exit {proc.returncode}, "
        f"{status['seconds']:.0f} s",
        flush=True,
    )
    return status


def current_runs(folder: Path = OUT) -> list[Path]:
    """The stored runs that are not stale, as their folders."""
    known = {*chapters(), "tests"}
    return [
        f.parent
        for f in sorted(folder.glob("*/*/*/status.json"))
        if f.parent.parent.parent.name in known
        and stored(f.parent, f.parent.parent.parent.name) is not None
    ]


def results(folder: Path = OUT) -> tuple[dict, list, dict]:
    """(claims, crashed runs, runs per target) from the stored runs that are not stale.

    claims[(target, claim)] is a list of (config, offset, record) with the record
    of ``expect`` (value, op, bound, margin, passed); a training test counts as a
    claim with only ``passed``. runs[target] is the set of its (config, offset).
    """
    claims: dict = defaultdict(list)
    crashed = []
    runs: dict = defaultdict(set)
    for run in current_runs(folder):
        target, config, offset = run.parent.parent.name, run.parent.name, int(run.name)
        runs[target].add((config, offset))
        status = json.loads((run / "status.json").read_text())
        log = run / "claims.jsonl"
        for line in log.read_text().splitlines() if log.exists() else []:
            record = json.loads(line)
            claims[target, record["claim"]].append((config, offset, record))
        junit = run / "junit.xml"
        if junit.exists():
            for case in ET.parse(junit).iter("testcase"):
                if case.find("skipped") is not None:
                    continue
                passed = case.find("failure") is None and case.find("error") is None
                name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
                claims[target, name].append((config, offset, {"passed": passed}))
        # In a notebook, expect() only records; a non-zero exit is a crash or a plain
        # assert. For the tests, failures are listed above.
        if status["exit"] != 0 and not (target == "tests" and junit.exists()):
            tail = (run / "output.txt").read_text().strip().splitlines()[-3:]
            crashed.append((target, config, offset, " | ".join(tail)))
    return claims, crashed, runs


def report(folder: Path = OUT) -> int:
    claims, crashed, runs = results(folder)
    print("| chapter | claim | passed | worst margin (value vs bound) | worst run |")
    print("| --- | --- | --- | --- | --- |")
    failed = 0
    for (target, claim), seen in sorted(claims.items()):
        passes = sum(r["passed"] for _, _, r in seen)
        total = len(runs[target])  # a run that crashed before the claim counts as a fail
        failed += total - passes
        with_margin = [(r["margin"], c, o, r) for c, o, r in seen if "margin" in r]
        if with_margin:
            m, c, o, r = min(with_margin, key=lambda t: (t[0] != t[0], t[0]))
            worst = f"{m:+.4g} ({r['value']:.4g} {r['op']} {r['bound']:.4g})"
            where = f"{c}, offset {o}"
        else:
            bad = [(c, o) for c, o, r in seen if not r["passed"]]
            worst, where = "n/a (pass or fail)", (f"{bad[0][0]}, offset {bad[0][1]}" if bad else "")
        cell = claim.replace("|", "\\|")  # a claim such as "max |Q - Q*|" stays in its cell
        print(f"| {target} | {cell} | {passes}/{total} | {worst} | {where} |")
    for target, config, offset, tail in crashed:
        print(f"CRASHED: {target} {config} offset {offset}: {tail}")
    runs_total = sum(len(v) for v in runs.values())
    print(
        f"{runs_total} runs, {len(claims)} claims, {failed} failed claim checks, "
        f"{len(crashed)} crashed runs"
    )
    return 1 if failed or crashed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/robust.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--chapters",
        nargs="*",
        default=None,
        help="two-digit chapter numbers, and/or 'tests' (default: all)",
    )
    parser.add_argument(
        "--offsets",
        nargs="*",
        type=int,
        default=None,
        help="seed offsets (default: the plan above)",
    )
    parser.add_argument(
        "--configs",
        nargs="*",
        default=None,
        choices=list(CONFIGS),
        help="numeric configurations (default: the plan above)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="runs at the same time (default 2)")
    parser.add_argument("--fresh", action="store_true", help="forget the stored runs first")
    parser.add_argument("--report", action="store_true", help="only print the table")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.report:
        return report()
    known = [*chapters(), "tests"]
    targets = args.chapters or known
    unknown = [t for t in targets if t not in known]
    if unknown:
        parser.error(f"--chapters: unknown {unknown}; choose from {known}")
    if args.fresh:
        import shutil

        for t in targets:
            shutil.rmtree(OUT / t, ignore_errors=True)
    jobs = [(t, c, o) for c, o in plan(args.configs, args.offsets) for t in targets]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` stops the runs too
    pool = ThreadPoolExecutor(args.jobs)
    try:
        list(pool.map(lambda job: run_one(*job), jobs))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(RUNNING):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    pool.shutdown()
    return report()


if __name__ == "__main__":
    sys.exit(main())
