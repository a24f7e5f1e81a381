"""Checks for the exercises of chapter 8 (comparing the algorithms)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import (
    Verdict,
    assert_unchanged,
    call_student,
    check,
    correct,
    fresh_rng,
    name_of,
    snapshot,
    wrong,
)

__all__ = ["check_time_to_solve", "check_replay_ratio"]


def _evals(rng, means):
    """Evaluations as the training loop records them: steps and seconds both increasing."""
    every = int(rng.integers(1, 6)) * 1000
    per_step = float(rng.uniform(0.5, 2.0)) / 1000
    return [
        {
            "step": every * (i + 1),
            "train_seconds": round(per_step * every * (i + 1) + 0.01 * i, 3),
            "mean": float(m),
            "std": float(np.round(rng.uniform(0, 30), 1)),
        }
        for i, m in enumerate(means)
    ]


@check
def check_time_to_solve(time_to_solve) -> Verdict:
    """Check ``time_to_solve(evaluations, threshold) -> (step, train_seconds) or None``.

    Cases (random steps, seconds and threshold on every call): solved, then falling back, then
    better (the first solve counts, not the best or the last); a mean exactly at the threshold;
    never solved; solved at the first evaluation; no evaluations at all.
    """
    name = name_of(time_to_solve)
    rng = fresh_rng()
    th = float(rng.choice([475.0, 195.0, float(rng.integers(100, 450))]))
    low = lambda: float(np.round(rng.uniform(0.1, 0.9) * th, 1))  # noqa: E731
    k = int(rng.integers(1, 4))
    cases = [
        ("first_not_best", [low() for _ in range(k)] + [th + 5.0, low(), th + 20.0, th - 1.0]),
        ("at_threshold", [low(), th, th + 15.0, low()]),
        ("never", [low() for _ in range(int(rng.integers(2, 6)))]),
        ("first", [th + 1.0, low(), th + 2.0]),
        ("empty", []),
    ]
    for kind, means in cases:
        evaluations = _evals(rng, means)
        given = snapshot(evaluations)[0]
        got = call_student(
            time_to_solve, given, th, name=name, signature="time_to_solve(evaluations, threshold)"
        )
        assert_unchanged(name, [evaluations], [given], ["evaluations"])
        first = next((e for e in evaluations if e["mean"] >= th), None)
        want = None if first is None else (first["step"], first["train_seconds"])
        shown = [e["mean"] for e in evaluations]
        if want is None:
            if got is not None:
                what = (
                    "an empty list of evaluations"
                    if not evaluations
                    else f"evaluation means {shown}"
                )
                return wrong(
                    f"with {what} no evaluation reaches {th:g}, so the run is not solved: return "
                    "None, "
                    f"got {got!r}"
                    + (
                        " (None, not False or 0: check with `is None`)."
                        if got is False or got == 0
                        else "."
                    )
                )
            continue
        if got is None:
            return wrong(
                f"the evaluation means {shown} reach the threshold {th:g} (a mean equal to the "
                "threshold "
                f"counts), but {name} returned None."
            )
        if isinstance(got, dict):
            return wrong(
                f"{name} returned the evaluation's dict; return the pair (e['step'], "
                "e['train_seconds'])."
            )
        try:
            step, seconds = got
        except (TypeError, ValueError):
            return wrong(
                f"return a pair (step, train_seconds) of the first solved evaluation, got {got!r}."
            )
        if (step, seconds) == want:
            continue
        if (seconds, step) == want:
            return wrong("the pair is in the wrong order: return (step, train_seconds).")
        if isinstance(step, (int, np.integer)) and 0 <= step < len(means) and step != want[0]:
            return wrong(
                "you returned the evaluation's position in the list; return its 'step' entry "
                "(environment steps taken) and its 'train_seconds'."
            )
        solved = [e for e in evaluations if e["mean"] >= th]
        best = max(evaluations, key=lambda e: e["mean"])
        if kind == "first_not_best" and (step, seconds) in {
            (best["step"], best["train_seconds"]),
            (solved[-1]["step"], solved[-1]["train_seconds"]),
        }:
            return wrong(
                "you returned the best (or the last) solved evaluation; the benchmark counts the "
                "FIRST "
                "evaluation that reaches the threshold, even if the agent falls back afterwards."
            )
        if kind == "at_threshold" and (step, seconds) == (
            evaluations[2]["step"],
            evaluations[2]["train_seconds"],
        ):
            return wrong("a mean equal to the threshold counts as solved: compare with >=, not >.")
        return wrong(
            f"for evaluation means {shown} and threshold {th:g} expected {want} (step, "
            "train_seconds), "
            f"got {(step, seconds)}."
        )
    return correct(
        f"{name}: the first evaluation whose mean reaches the threshold, its steps and its "
        "training "
        "seconds; None when there is none."
    )


@check
def check_replay_ratio(replay_ratio) -> Verdict:
    """Check ``replay_ratio(batch_size, gradient_steps, train_every) -> float``.

    Cases (random on every call): settings where the ratio is not a whole number (so integer
    division shows), one where it is, and train_every = 1. The answer must be a float.
    """
    name = name_of(replay_ratio)
    rng = fresh_rng()
    b1, k1 = int(rng.choice([32, 64, 128])), int(rng.integers(1, 5))
    cases = [
        (
            b1,
            k1,
            int(rng.choice([5, 7])),
        ),  # b1 * k1 is never a multiple of 5 or 7: not a whole number
        (int(rng.choice([16, 32])), int(rng.integers(1, 4)), 4),
        (int(rng.choice([64, 256])), int(rng.integers(1, 9)), 1),
    ]
    for b, k, every in cases:
        got = call_student(
            replay_ratio,
            b,
            k,
            every,
            name=name,
            signature="replay_ratio(batch_size, gradient_steps, train_every)",
        )
        want = b * k / every
        call = f"replay_ratio({b}, {k}, {every})"
        if got is None:
            return wrong(f"{name} returned None: return a number (a float).")
        if isinstance(got, str):
            return wrong(f"{call} returned the string {got!r}; return the number itself, a float.")
        if isinstance(got, (bool, np.bool_)) or not isinstance(
            got, (int, float, np.integer, np.floating)
        ):
            return wrong(
                f"{call} returned {got!r} ({type(got).__name__}); return one number, a float."
            )
        if isinstance(got, (int, np.integer)):
            if got == b * k // every and want != got:
                return wrong(
                    f"{call} returned {got}, not {want:g}: replay_ratio must return a float: use / "
                    "not // (integer division drops the fraction)."
                )
            if got == round(want) and want != got:
                return wrong(f"{call} returned {got}, rounded; return the float {want:g}.")
            if got == want:
                return wrong(
                    f"{call} returned the int {got}; replay_ratio must return a float: use /, "
                    "not // (and no int(...))."
                )
        got = float(got)
        if np.isclose(got, want):
            continue
        if np.isclose(got, b * k):
            return wrong(
                f"{b} x {k} transitions are sampled per training call, but a call happens only "
                "every "
                f"{every} environment steps: divide by train_every."
            )
        if np.isclose(got, k / every):
            return wrong(
                "that is gradient steps per environment step; each gradient step samples a whole "
                "minibatch, so multiply by batch_size."
            )
        if np.isclose(got, every / (b * k)):
            return wrong(
                "upside down: the ratio is sampled transitions per stored transition, "
                "batch_size * gradient_steps / train_every."
            )
        if (
            np.isclose(got, b / every)
            or np.isclose(got, b * every / k)
            or np.isclose(got, b * every)
        ):
            return wrong(
                "each training call takes gradient_steps minibatches of batch_size transitions, "
                "once every train_every environment steps: batch_size * gradient_steps / "
                "train_every."
            )
        return wrong(
            f"for batch_size={b}, gradient_steps={k}, train_every={every} expected {want:g}, got "
            f"{got:g}."
        )
    return correct(
        f"{name}: batch_size * gradient_steps / train_every, a float: each stored transition is "
        "sampled "
        "that many times on average (while it stays in the buffer)."
    )
