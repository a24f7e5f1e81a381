"""Checks for the exercises of chapter 4 (double DQN)."""

from __future__ import annotations

import math
import re

import numpy as np

from rlbook.exercises import _core
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of, td

# fmt: off
__all__ = ["check_max_bias", "check_double_td_target"]

_erf = np.vectorize(math.erf, otypes=[float])  # for Phi(z) = (1 + erf(z / sqrt(2))) / 2


def expected_max(true_values, sigma: float) -> float:
    """E[max_a (q_a + sigma * eps_a)] for independent standard normal eps, by integration:
    E[X] = hi - integral_lo^hi P(X <= x) dx, with P(X <= x) = prod_a Phi((x - q_a) / sigma)."""
    q = np.asarray(true_values, np.float64)
    x = np.linspace(q.min() - 9 * sigma, q.max() + 9 * sigma, 40_001)
    cdf = np.prod(0.5 * (1.0 + _erf((x[:, None] - q[None, :]) / (sigma * np.sqrt(2.0)))), axis=1)
    return float(x[-1] - np.sum((cdf[1:] + cdf[:-1]) * np.diff(x)) / 2)


def _bias_cases(rng):
    n, c = int(rng.integers(3, 11)), float(np.round(rng.uniform(1.0, 6.0), 1))
    gap, n_samples = float(np.round(rng.uniform(0.3, 1.0), 2)), int(rng.integers(40, 80)) * 1000
    for tv, sigma in [
        (np.zeros(n), float(np.round(rng.uniform(0.5, 1.5), 2))),
        (np.full(3, c), 2.0),
        (np.array([c, c - gap, c - 2 * gap, c + gap]), float(np.round(rng.uniform(1.0, 2.0), 2))),
        (np.array([c]), 1.0),
    ]:
        bias = expected_max(tv, sigma) - tv.max()
        yield Case((tv, sigma, n_samples, np.random.default_rng(int(rng.integers(2**31)))),
                   ("true_values", "sigma", "n_samples", None),
                   f"(true values {fmt(tv)}, sigma {sigma}: the bias is {bias:.3f})",
                   tv=tv, sigma=sigma, bias=bias, tol=0.04 * sigma, n=n_samples)


def _read_bias(value, c, name):
    if np.ndim(value) == 1 and np.size(value) == len(c.tv) > 1:
        fail(f"{name} returned one number per action (shape {np.shape(value)}); return one number: "
             "take the max over the actions of each sample, then the mean over samples.")
    if np.ndim(value) == 1 and np.size(value) == c.n:
        fail(f"{name} returned one number per sample (shape {np.shape(value)}); return one number: "
             "the mean of those maxima over the samples, minus max(true_values).")
    return _core.to_scalar(value, name, "one number, the estimated bias of the max (a float)")


def _bias_hint(err, line: str) -> str | None:
    if "broadcast" in str(err):
        return ("Draw the noise with size=(n_samples, len(true_values)), one draw per sample and "
                "action: true_values, shape (A,), then broadcasts over its rows.")
    return None


def _within(got, want) -> bool:
    return abs((got[0] if isinstance(got, tuple) else got) - want[0]) <= want[1]


_SIGMA = ("the noise has standard deviation sigma: true_values + sigma * rng.normal(size=...), "
          "or rng.normal(true_values, sigma, size=...). sigma is not a variance: "
          "do not square it or take its square root.")

_BIAS_MISTAKES = [  # (each answer with the case's tolerance)
    ("your bias is about 0. Two usual causes: "
     "the mean taken before the max (averaging the noisy estimates first removes the noise, and "
     "the bias), or one noise draw shared by all actions. "
     "Draw independent noise of shape (n_samples, A), "
     "take the max over the actions of each sample, "
     "then average those maxima.", lambda c: (0.0, c.tol)),
    ("you returned E[max_a estimate], not its bias: subtract the true maximum, max(true_values).",
     lambda c: (c.bias + c.tv.max(), c.tol)),
    ("subtract the largest true value, max(true_values), not their mean.",
     lambda c: (c.bias + c.tv.max() - c.tv.mean(), c.tol)),
    ("the noise ignores sigma: the noisy estimates are true_values + sigma * eps, "
     "so the bias grows with sigma.", lambda c: (expected_max(c.tv, 1.0) - c.tv.max(), c.tol)),
    ("the sign is flipped: the bias is E[max] - max(true_values), and it is positive.",
     lambda c: (-c.bias, c.tol)),
    (_SIGMA, lambda c: (expected_max(c.tv, c.sigma**2) - c.tv.max(), c.tol)),
    (_SIGMA, lambda c: (expected_max(c.tv, np.sqrt(c.sigma)) - c.tv.max(), c.tol)),
    _core.Mistake("your bias is far too large: "
                  "it looks like the max over all samples (the largest draw of all), "
                  "or over the sample axis. "
                  "Take the max over the action axis (axis=1) of each sample, "
                  "then the mean over samples.",
                  test=lambda c, got: got > c.bias + 1.0),
]


@check
def check_max_bias(max_bias) -> Verdict:
    """Check ``max_bias(true_values, sigma, n_samples, rng) -> float``, an estimate of
    ``E[max_a (q_a + sigma * eps_a)] - max_a q_a`` from ``n_samples`` draws of the generator it
    is given, for equal, unequal and single true values."""
    name, rng = name_of(max_bias), fresh_rng()
    cases = list(_bias_cases(rng))
    per_sigma = cases[0].bias / cases[0].sigma
    verdict = grade(
        max_bias, cases, lambda c: (c.bias, c.tol), _BIAS_MISTAKES, read=_read_bias, same=_within,
        signature="max_bias(true_values, sigma, n_samples, rng)", hint=_bias_hint,
        explain=lambda got, want, c: (f"the bias should be {want[0]:.3f}, yours is {got:.3f}. "
                                      "Draw noisy estimates of shape (n_samples, n_actions), "
                                      "take the max over actions, average, "
                                      "subtract max(true_values)."),
        done=(f"{name}: the max of noisy estimates is biased upward (+{per_sigma:.2f} sigma with "
              f"{len(cases[0].tv)} equal actions), "
              "although every estimate is unbiased on its own."))
    if not verdict.ok:
        return verdict
    seed, tv, sigma = int(rng.integers(2**31)), cases[0].tv, cases[0].sigma
    twice = [_core.call_student(max_bias, tv.copy(), sigma, 2000, np.random.default_rng(seed))
             for _ in range(2)]
    if not np.isclose(*(_core.to_scalar(x, name, "one number") for x in twice)):
        return _core.wrong(f"{name} gave two different results for two generators with the same "
                           "seed: draw the noise with the `rng` you are given (rng.normal), "
                           "not np.random.")
    few = [_core.call_student(max_bias, np.zeros(2), 1.0, 2, np.random.default_rng(seed + i))
           for i in range(20)]  # two samples of two equal actions: a spread of about 0.58
    if np.std([_core.to_scalar(x, name, "one number") for x in few]) < 0.2:
        return _core.wrong(f"{name} gave nearly the same estimate on 20 generators with "
                           "n_samples = 2: draw exactly n_samples estimates, not a number of "
                           "samples of your own.")
    return verdict


def _double_cases(rng):
    """The online network's best and worst next actions are never the target network's best."""
    n_actions = int(rng.integers(3, 5))
    for r, t, gamma in _core.td_batches(rng):
        batch, rows = len(r), np.arange(len(r))
        qo, qt = np.round(rng.normal(2.0, 2.0, size=(2, batch, n_actions)), 2).astype(np.float32)
        for i in rows:  # online's values in decreasing order, qt's best neither first nor last
            order = list(rng.permutation([a for a in range(n_actions) if a != qt[i].argmax()]))
            order.insert(int(rng.integers(1, n_actions - 1)), qt[i].argmax())
            qo[i, order] = np.sort(qo[i])[::-1]
        yield Case((r, qo, qt, t, gamma),
                   ("reward", "next_q_online", "next_q_target", "terminated", "gamma"),
                   f"(rewards {fmt(r)}, next_q_online {fmt(qo)}, next_q_target {fmt(qt)}, "
                   f"terminated {fmt(t, 0)}, gamma {gamma})",
                   what=f"one target per transition, shape ({batch},)", r=r.astype(float),
                   t=t.astype(float), qo=qo.astype(float), qt=qt.astype(float), gamma=gamma,
                   rows=rows, boot=qt[rows, qo.argmax(axis=1)].astype(float))


_DOUBLE_MISTAKES = _core.TD_MISTAKES + [
    ("that is the vanilla DQN target, "
     "max_a' Q_target(s', a') (and what the original post's code ended up using). "
     "Let the online network choose the action (argmax of next_q_online), "
     "then read that action's value from next_q_target.", lambda c: td(c, boot=c.qt.max(axis=1))),
    ("the roles are swapped: "
     "you selected with the target network and evaluated with the online one. "
     "The online network selects (argmax of next_q_online); the target evaluates.",
     lambda c: td(c, boot=c.qo[c.rows, c.qt.argmax(axis=1)])),
    ("you used the online network's own value of its chosen action, max_a' Q_online(s', a'): "
     "one network both selects and evaluates, which is the overestimating max again. "
     "Evaluate the chosen action with next_q_target.", lambda c: td(c, boot=c.qo.max(axis=1))),
    ("you used the index of the chosen action (argmax) as its value; "
     "read its value from next_q_target.",  # (not when every index that counts is 0: y = r)
     lambda c: td(c, boot=c.qo.argmax(axis=1)) if (c.qo.argmax(axis=1) * (1 - c.t)).any()
     else None),
    ("you selected the worst action (argmin); the online network selects the best one, argmax.",
     lambda c: td(c, boot=c.qt[c.rows, c.qo.argmin(axis=1)])),
    ("you argmax-ed the whole array (no axis): that is one index into the flattened array. "
     "Use next_q_online.argmax(axis=1), one action per row.",
     lambda c: td(c, boot=c.qt[c.rows, c.qo.argmax()]) if c.qo.argmax() < c.qt.shape[1]
     else None),
    (lambda c: "np.take_along_axis(next_q_target, best[:, None], axis=-1) has shape "
               f"({len(c.r)}, 1): take [:, 0] before adding it to the rewards, shape "
               f"({len(c.r)},), or the sum broadcasts to {(len(c.r),) * 2}.",
     lambda c: td(c, boot=c.boot[:, None])),
    _core.shape_mistake(
        lambda c: "next_q_target[:, best] takes every row's value of every chosen action "
                  f"(shape {(len(c.r),) * 2}). Pick one per row: next_q_target[np.arange(B), best] "
                  "or np.take_along_axis(next_q_target, best[:, None], axis=-1)[:, 0].",
        lambda c, shape: len(c.r) > 1 and shape == (len(c.r),) * 2),
]


def _double_hint(err, line: str) -> str | None:
    if isinstance(err, IndexError) and "argmax" in line:
        return ("argmax without axis=1 (or with axis=0) does not give one action per row: "
                "use next_q_online.argmax(axis=1).")
    if re.search(r"(broadcast|Incompatible shapes).*(\(\d+, ?\d+\)|\[\d+, ?\d+\])", str(err)):
        return ("An array of shape (B, A) met the rewards, shape (B,): pick one value per row, "
                "next_q_target[np.arange(B), best] (indexing with best alone, or tf.gather "
                "without batch_dims=1, takes whole rows).")
    return _core.flags_hint(err, line)


@check
def check_double_td_target(double_td_target) -> Verdict:
    """Check ``double_td_target(reward, next_q_online, next_q_target, terminated, gamma) -> (B,)``
    with the two networks disagreeing on the best next action in every row."""
    rule = "y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_online(s', a'))"
    return grade(
        double_td_target, _double_cases(fresh_rng()), td, _DOUBLE_MISTAKES,
        signature="(reward, next_q_online, next_q_target, terminated, gamma)",
        hint=_double_hint, rule=rule,
        done=(f"{name_of(double_td_target)}: {rule}: "
              "the online net selects, the target net evaluates."))
