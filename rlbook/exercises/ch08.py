"""Checks for the exercises of chapter 8 (comparing the algorithms)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Case, Mistake, Verdict, check, fail, fresh_rng, grade, name_of

# fmt: off
__all__ = ["check_time_to_solve", "check_replay_ratio"]


def _evals(rng, means):
    """Evaluations as the training loop records them: steps and seconds both increasing."""
    every, per_step = int(rng.integers(1, 6)) * 1000, float(rng.uniform(0.5, 2.0)) / 1000
    step = [every * (i + 1) for i in range(len(means))]
    return [dict(step=s, train_seconds=round(per_step * s + 0.01 * i, 3), mean=float(m),
                 std=5.0 + i) for i, (s, m) in enumerate(zip(step, means))]


def _solve_cases(rng):
    t = float(rng.choice([475.0, 195.0, float(rng.integers(100, 450))]))
    o = 195.0 if t == 475.0 else 475.0  # another threshold: a fixed 475 fails somewhere
    low = lambda th: float(np.round(rng.uniform(0.1, 0.9) * th, 1))  # noqa: E731
    k = int(rng.integers(1, 4))
    for kind, th, means in [
        ("first_not_best", t, [low(t) for _ in range(k)] + [t + 5.0, low(t), t + 20.0, t - 1.0]),
        ("at_threshold", t, [low(t), t, t + 15.0, low(t)]),
        ("never", t, [low(t) for _ in range(int(rng.integers(2, 6)))]),
        ("first", t, [t + 1.0, low(t), t + 2.0]),
        ("other_threshold", o, [low(o), o + 10.0, max(o + 5.0, 480.0), 500.0, low(o)]),
        ("empty", t, []),
    ]:
        evaluations = _evals(rng, means)
        shown = f"evaluation means {means}" if means else "an empty list of evaluations"
        yield Case((evaluations, th), ("evaluations", "threshold"), kind=kind, evals=evaluations,
                   th=th, shown=shown)


def _pair(e):
    return None if e is None else (e["step"], e["train_seconds"])


def _first(c, at_least=True, th=None):
    th = c.th if th is None else th
    return _pair(next((e for e in c.evals if (e["mean"] >= th if at_least else e["mean"] > th)),
                      None))


def _read_pair(got, c, name):
    if got is None or isinstance(got, (bool, int, float)) and not got:
        return got  # (None, or a False or 0 where None is meant: a mistake of the table)
    if isinstance(got, dict):
        fail(f"{name} returned the evaluation's dict; "
             "return the pair (e['step'], e['train_seconds']).")
    try:
        step, seconds = got
    except (TypeError, ValueError):
        fail(f"return a pair (step, train_seconds) of the first solved evaluation, got {got!r}.")
    return step, seconds


_SOLVE_MISTAKES = [
    Mistake(lambda c: f"with {c.shown} the first evaluation is below the threshold {c.th:g}, and "
                      f"{c.name} returned None there: return None only after the loop has "
                      "looked at every evaluation (an `else: return None` inside the loop "
                      "stops at the first one).",
            test=lambda c, got: got is None and c.evals[0]["mean"] < c.th),
    Mistake(lambda c: f"with {c.shown} no evaluation reaches {c.th:g}, so the run is not solved: "
                      "return None, "
                      f"got {c.got!r}" + (" (None, not False or 0: check with `is None`)."
            if c.got in (False, 0) else "."), test=lambda c, got: c.want is None),
    Mistake(lambda c: f"for threshold {c.th:g} your answer is the first evaluation that reaches a "
                      "fixed number: compare each mean with the parameter `threshold`, not with "
                      "CartPole's 475 or another constant.",
            test=lambda c, got: any(got == _first(c, th=x) != c.want
                                    for x in (475.0,) if x != c.th)),
    Mistake(lambda c: f"the {c.shown} reach the threshold {c.th:g} (a mean equal to the threshold "
                      f"counts), but {c.name} returned None.", test=lambda c, got: got is None),
    ("the pair is in the wrong order: return (step, train_seconds).", lambda c: c.want[::-1]),
    Mistake("you returned the evaluation's position in the list; "
            "return its 'step' entry (environment steps taken) and its 'train_seconds'.",
            test=lambda c, got: isinstance(got[0], (int, np.integer)) and got[0] < len(c.evals)),
    ("you returned the best (or the last) solved evaluation; "
     "the benchmark counts the FIRST evaluation that reaches the threshold, "
     "even if the agent falls back afterwards.",  # (the best is the last solved in this case)
     lambda c: (_pair(max(c.evals, key=lambda e: e["mean"]))
                if c.kind in ("first_not_best", "other_threshold") else None)),
    ("a mean equal to the threshold counts as solved: compare with >=, not >.",
     lambda c: _first(c, at_least=False) if c.kind == "at_threshold" else None),
    ("the pair's second entry is the training time, e['train_seconds'], not the mean return.",
     lambda c: None if c.want is None else (c.want[0], next(
         e["mean"] for e in c.evals if e["step"] == c.want[0]))),
]


def _solve_hint(err, line: str) -> str | None:
    if isinstance(err, StopIteration):
        return ("next(...) raises StopIteration when no evaluation reaches the threshold: "
                "give it a default, next(..., None).")
    return None


@check
def check_time_to_solve(time_to_solve) -> Verdict:
    """Check ``time_to_solve(evaluations, threshold) -> (step, train_seconds) or None`` on runs
    solved, then falling back, then better (the first solve counts); a mean exactly at the
    threshold; never solved; solved at the first evaluation; another threshold (an answer that
    compares with CartPole's 475 fails somewhere); no evaluations at all."""
    return grade(
        time_to_solve, _solve_cases(fresh_rng()), _first, _SOLVE_MISTAKES, read=_read_pair,
        same=lambda got, want: got == want, signature="time_to_solve(evaluations, threshold)",
        hint=_solve_hint,
        explain=lambda got, want, c: (
            f"for {c.shown} and threshold {c.th:g} expected {want} (step, train_seconds), "
            f"got {got}: the 'step' and 'train_seconds' of the first evaluation in the list "
            "whose 'mean' is at least the threshold."),
        done=(f"{name_of(time_to_solve)}: the first evaluation whose mean reaches the threshold, "
              "its steps and its training seconds; None when there is none."))


def _ratio_cases(rng):
    b1, k1 = int(rng.choice([32, 64, 128])), int(rng.integers(1, 5))
    for b, k, every in [
        (b1, k1, int(rng.choice([5, 7]))),  # b1 * k1 is never a multiple of 5 or 7: a fraction
        (int(rng.choice([16, 32])), int(rng.integers(1, 4)), 4),
        (int(rng.choice([64, 256])), int(rng.integers(1, 9)), 1),
    ]:
        call = f"replay_ratio({b}, {k}, {every})"
        yield Case((b, k, every), ("batch_size", "gradient_steps", "train_every"), b=b, k=k,
                   every=every, call=call)


def _read_ratio(got, c, name):
    if got is None:
        fail(f"{name} returned None: return a number (a float).")
    if isinstance(got, str):
        fail(f"{c.call} returned the string {got!r}; return the number itself, a float.")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer,
                                                                  np.floating)):
        fail(f"{c.call} returned {got!r} ({type(got).__name__}); return one number, a float.")
    return got


def _close_to(*values):
    return lambda c, got: any(np.isclose(float(got), v(c.b, c.k, c.every)) for v in values)


def _an_int(got) -> bool:
    return isinstance(got, (int, np.integer))


_RATIO_MISTAKES = [Mistake(hint, test=test) for hint, test in [
    (lambda c: (f"{c.call} returned {c.got}, not {c.want:g}: " if c.want % 1 else
                f"{c.call} returned the int {c.got}, not {float(c.want)!r}: ")
     + "replay_ratio must return a float: use / not // (integer division drops the fraction).",
     lambda c, got: _an_int(got) and got == c.b * c.k // c.every),
    (lambda c: f"{c.call} returned {c.got}, not {c.want:g}: the fraction is gone; "
               "use / alone, without // or int(...).",
     lambda c, got: np.isclose(float(got), c.b * c.k // c.every) and c.want % 1),
    (lambda c: f"{c.call} returned {c.got}, rounded; return the float {c.want:g}.",
     lambda c, got: _an_int(got) and got == round(c.want) != c.want),
    (lambda c: f"{c.b} x {c.k} transitions are sampled per training call, "
               f"but a call happens only every {c.every} environment steps: "
               "divide by train_every.", _close_to(lambda b, k, every: b * k)),
    ("that is gradient steps per environment step; each gradient step samples a whole minibatch, "
     "so multiply by batch_size.", _close_to(lambda b, k, every: k / every)),
    ("upside down: the ratio is sampled transitions per stored transition, "
     "batch_size * gradient_steps / train_every.", _close_to(lambda b, k, every: every / (b * k))),
    ("each training call takes gradient_steps minibatches of batch_size transitions, "
     "once every train_every environment steps: batch_size * gradient_steps / train_every.",
     _close_to(lambda b, k, e: b / e, lambda b, k, e: b * e / k, lambda b, k, e: b * e)),
]]


@check
def check_replay_ratio(replay_ratio) -> Verdict:
    """Check ``replay_ratio(batch_size, gradient_steps, train_every) -> float`` where the ratio
    is not a whole number (integer division shows), where it is, and with train_every = 1."""
    return grade(
        replay_ratio, _ratio_cases(fresh_rng()), lambda c: c.b * c.k / c.every, _RATIO_MISTAKES,
        read=_read_ratio,
        same=lambda got, want: not _an_int(got) and np.isclose(got, want),
        signature="replay_ratio(batch_size, gradient_steps, train_every)",
        explain=lambda got, want, c: (
            f"for batch_size={c.b}, gradient_steps={c.k}, train_every={c.every} expected "
            f"{want:g}, got {float(got):g}: each training call samples gradient_steps minibatches "
            "of batch_size transitions, one call every train_every environment steps."),
        done=(f"{name_of(replay_ratio)}: batch_size * gradient_steps / train_every, a float: "
              "each stored transition is sampled that many times on average (while it stays in "
              "the buffer)."))
