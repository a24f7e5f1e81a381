"""Checks for the exercises of chapter 8 (comparing the algorithms)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_time_to_solve", "check_replay_ratio"]


def _evals(means):
    """Evaluations as the training loop records them: every 2,000 steps, 1.5 s of training per 2,000 steps."""
    return [{"step": 2000 * (i + 1), "train_seconds": 1.5 * (i + 1), "mean": float(m), "std": 0.0}
            for i, m in enumerate(means)]


@check
def check_time_to_solve(time_to_solve) -> Verdict:
    """Check ``time_to_solve(evaluations, threshold) -> (step, train_seconds) or None``."""
    first_not_best = [480.0, 200.0, 500.0]  # solved at once, falls back, then does better
    at_threshold = [300.0, 475.0, 490.0, 480.0]  # exactly 475 counts
    never = [100.0, 200.0]
    for means, want in ((first_not_best, (2000, 1.5)), (at_threshold, (4000, 3.0)), (never, None)):
        got = call_student(time_to_solve, _evals(means), 475.0, what="your time_to_solve")
        if want is None:
            if got is not None:
                return wrong(f"no evaluation of {means} reaches 475, so the run is not solved: return None, got {got!r}.")
            continue
        if got is None:
            return wrong(f"the evaluation means {means} reach 475 (a mean equal to the threshold counts), "
                         "but your function returned None.")
        try:
            step, seconds = got
        except (TypeError, ValueError):
            return wrong(f"return a pair (step, train_seconds) of the first solved evaluation, got {got!r}.")
        if (step, seconds) == want:
            continue
        if isinstance(step, (int, np.integer)) and 0 <= step < len(means):
            return wrong("you returned the evaluation's position in the list; return its 'step' entry "
                         "(environment steps taken) and its 'train_seconds'.")
        if means is first_not_best and (step, seconds) == (6000, 4.5):
            return wrong("you returned the best (or the last) solved evaluation; the benchmark counts the FIRST "
                         "evaluation that reaches the threshold, even if the agent falls back afterwards.")
        if means is at_threshold and (step, seconds) == (6000, 4.5):
            return wrong("a mean equal to the threshold counts as solved: compare with >=, not >.")
        return wrong(f"for evaluation means {means} expected {want} (step, train_seconds), got {(step, seconds)}.")
    return correct("the first evaluation whose mean reaches the threshold: its steps and its training seconds.")


@check
def check_replay_ratio(replay_ratio) -> Verdict:
    """Check ``replay_ratio(batch_size, gradient_steps, train_every) -> float``."""
    cases = [((64, 16, 64), 16.0), ((32, 1, 4), 8.0), ((128, 2, 1), 256.0)]
    for args, want in cases:
        got = call_student(replay_ratio, *args, what="your replay_ratio")
        if got is None:
            return wrong("replay_ratio returned None: return a number.")
        got = float(got)
        if np.isclose(got, want):
            continue
        b, k, every = args
        if np.isclose(got, b * k):
            return wrong(f"{b} x {k} transitions are sampled per training call, but a call happens only every "
                         f"{every} environment steps: divide by train_every.")
        if np.isclose(got, k / every):
            return wrong("that is gradient steps per environment step; each gradient step samples a whole "
                         "minibatch, so multiply by batch_size.")
        if np.isclose(got, every / (b * k)):
            return wrong("upside down: the ratio is sampled transitions per stored transition, "
                         "batch_size * gradient_steps / train_every.")
        return wrong(f"for batch_size={b}, gradient_steps={k}, train_every={every} expected {want}, got {got}.")
    return correct("batch_size * gradient_steps / train_every: each stored transition is sampled that many "
                   "times on average (while it stays in the buffer).")
