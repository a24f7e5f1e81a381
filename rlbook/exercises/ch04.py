"""Checks for the exercises of chapter 4 (double DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import (
    Case,
    Mistake,
    Verdict,
    call_student,
    check,
    fail,
    flags_hint,
    fmt,
    fresh_rng,
    grade,
    name_of,
    td_cases,
    terminal_flags,
    to_scalar,
    wrong,
)

__all__ = ["check_max_bias", "check_double_td_target"]


def _normal_cdf(x):
    """Phi(x) from erf (Abramowitz and Stegun 7.1.26, error below 2e-7): no SciPy needed."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


def expected_max(true_values, sigma: float) -> float:
    """E[max_a (q_a + sigma * eps_a)] for independent standard normal eps, by numerical integration.

    For X = the max, E[X] = hi - integral_lo^hi P(X <= x) dx when P(X <= lo) ~ 0 and P(X <= hi) ~ 1,
    and P(X <= x) = prod_a Phi((x - q_a) / sigma).
    """
    q = np.asarray(true_values, np.float64)
    lo, hi = q.min() - 9 * sigma, q.max() + 9 * sigma
    x = np.linspace(lo, hi, 40_001)
    cdf = np.prod(_normal_cdf((x[:, None] - q[None, :]) / sigma), axis=1)
    return float(hi - np.sum((cdf[1:] + cdf[:-1]) * np.diff(x)) / 2)


def _bias_cases(rng):
    n = int(rng.integers(3, 11))
    c = float(np.round(rng.uniform(1.0, 6.0), 1))
    gap = float(np.round(rng.uniform(0.3, 1.0), 2))
    n_samples = int(rng.integers(40, 80)) * 1000
    for true_values, sigma in [
        (np.zeros(n), float(np.round(rng.uniform(0.5, 1.5), 2))),
        (np.full(3, c), 2.0),
        (np.array([c, c - gap, c - 2 * gap, c + gap]), float(np.round(rng.uniform(1.0, 2.0), 2))),
        (np.array([c]), 1.0),
    ]:
        bias = expected_max(true_values, sigma) - true_values.max()
        yield Case(
            (true_values, sigma, n_samples, np.random.default_rng(int(rng.integers(2**31)))),
            ("true_values", "sigma", "n_samples", None),
            f"(true values {fmt(true_values)}, sigma {sigma}: the bias is {bias:.3f})",
            tv=true_values,
            sigma=sigma,
            bias=bias,
            tol=0.04 * sigma,
        )


def _read_bias(value, c, name):
    if np.ndim(value) == 1 and np.size(value) == len(c.tv) > 1:
        fail(
            f"{name} returned one number per action (shape {np.shape(value)}); return one "
            "number: take the max over the actions of each sample, then the mean over samples."
        )
    return to_scalar(value, name, "one number, the estimated bias of the max (a float)")


def _within(got, want) -> bool:
    """``got`` (a number, or a reference's ``(bias, tolerance)``) is within ``want``'s tolerance."""
    got = got[0] if isinstance(got, tuple) else got
    return abs(got - want[0]) <= want[1]


_BIAS_MISTAKES = [
    Mistake(
        "your bias is about 0. Two usual causes: the mean taken before the max (averaging the "
        "noisy estimates first removes the noise, and the bias), or one noise draw shared by all "
        "actions. Draw independent noise of shape (n_samples, A), take the max over the actions "
        "of each sample, then average those maxima.",
        lambda c: (0.0, c.tol),
    ),
    Mistake(
        "you returned E[max_a estimate], not its bias: subtract the true maximum, "
        "max(true_values).",
        lambda c: (c.bias + c.tv.max(), c.tol),
    ),
    Mistake(
        "subtract the largest true value, max(true_values), not their mean.",
        lambda c: (c.bias + c.tv.max() - c.tv.mean(), c.tol),
    ),
    Mistake(
        "the noise ignores sigma: the noisy estimates are true_values + sigma * eps, so the bias "
        "grows with sigma.",
        lambda c: (expected_max(c.tv, 1.0) - c.tv.max(), c.tol),
    ),
    Mistake(
        "the sign is flipped: the bias is E[max] - max(true_values), and it is positive.",
        lambda c: (-c.bias, c.tol),
    ),
    Mistake(
        "your bias is far too large: it looks like the max over all samples (the largest draw of "
        "all), or over the sample axis. Take the max over the action axis (axis=1) of each "
        "sample, then the mean over samples.",
        test=lambda c, got: got > c.bias + 1.0,
    ),
]


@check
def check_max_bias(max_bias) -> Verdict:
    """Check ``max_bias(true_values, sigma, n_samples, rng) -> float``.

    The expected answer is ``E[max_a (q_a + sigma * eps_a)] - max_a q_a`` with ``eps_a``
    independent standard normal draws, estimated from ``n_samples`` draws. Cases (random on every
    call): equal true values for a random number of actions, equal non-zero values with another
    sigma, unequal values, and a single action (no bias). The answer must be one float, use the
    generator it is given, and leave ``true_values`` unchanged.
    """
    name, rng = name_of(max_bias), fresh_rng()
    cases = list(_bias_cases(rng))
    per_sigma = cases[0].bias / cases[0].sigma
    verdict = grade(
        max_bias,
        cases,
        lambda c: (c.bias, c.tol),
        _BIAS_MISTAKES,
        read=_read_bias,
        same=_within,
        signature="max_bias(true_values, sigma, n_samples, rng)",
        explain=lambda got, want, c: (
            f"the bias should be {want[0]:.3f}, yours is {got:.3f}. Draw noisy estimates of "
            "shape (n_samples, n_actions), take the max over actions, average, subtract "
            "max(true_values)."
        ),
        done=(
            f"{name}: the max of noisy estimates is biased upward (+{per_sigma:.2f} sigma with "
            f"{len(cases[0].tv)} equal actions), although every estimate is unbiased on its own."
        ),
    )
    if not verdict.ok:
        return verdict
    seed, tv, sigma = int(rng.integers(2**31)), cases[0].tv, cases[0].sigma
    twice = [
        call_student(max_bias, tv.copy(), sigma, 2000, np.random.default_rng(seed), name=name)
        for _ in range(2)
    ]
    if not np.isclose(*(to_scalar(x, name, "one number") for x in twice)):
        return wrong(
            f"{name} gave two different results for two generators with the same seed: draw the "
            "noise with the `rng` you are given (rng.normal), not np.random."
        )
    return verdict


def _double_batch(rng, batch, n_actions, terminal):
    """Rewards, online and target next Q-values, flags; the networks disagree on the best action."""
    reward = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
    online = np.round(rng.normal(2.0, 2.0, size=(batch, n_actions)), 2).astype(np.float32)
    target = np.round(rng.normal(2.0, 2.0, size=(batch, n_actions)), 2).astype(np.float32)
    for i in range(batch):  # the online net's best and worst actions are not the target net's best
        best_target = int(target[i].argmax())
        values = np.sort(online[i])
        others = [a for a in range(n_actions) if a != best_target]
        hi, lo = rng.choice(others, size=2, replace=False)
        rest = [a for a in range(n_actions) if a not in (hi, lo)]
        online[i, hi], online[i, lo] = values[-1], values[0]
        online[i, rng.permutation(rest)] = values[1:-1]
    return reward, online, target, terminal_flags(rng, batch, terminal)


def _double_cases(rng):
    n_actions = int(rng.integers(3, 5))
    for batch, terminal, gamma in td_cases(rng):
        arrays = _double_batch(rng, batch, n_actions, terminal)
        r, qo, qt, t = (x.astype(np.float64) for x in arrays)
        yield Case(
            (*arrays, gamma),
            ("reward", "next_q_online", "next_q_target", "terminated", "gamma"),
            f"(rewards {fmt(r)}, next_q_online {fmt(qo)}, next_q_target {fmt(qt)}, "
            f"terminated {fmt(t, 0)}, gamma {gamma})",
            what=f"one target per transition, shape ({batch},)",
            r=r,
            qo=qo,
            qt=qt,
            t=t,
            gamma=gamma,
            rows=np.arange(batch),
        )


def _double(c, value=None, mask=None, gamma=None):
    """The double DQN target of case ``c``, or a typical mistake's version of it."""
    value = c.qt[c.rows, c.qo.argmax(axis=1)] if value is None else value
    mask = 1 - c.t if mask is None else mask
    return c.r + (c.gamma if gamma is None else gamma) * mask * value


_DOUBLE_MISTAKES = [
    Mistake(
        "that is the vanilla DQN target, max_a' Q_target(s', a') (and what the original post's "
        "code ended up using). Let the online network choose the action (argmax of "
        "next_q_online), then read that action's value from next_q_target.",
        lambda c: _double(c, c.qt.max(axis=1)),
    ),
    Mistake(
        "the roles are swapped: you selected with the target network and evaluated with the "
        "online one. The online network selects (argmax of next_q_online); the target evaluates.",
        lambda c: _double(c, c.qo[c.rows, c.qt.argmax(axis=1)]),
    ),
    Mistake(
        "you used the online network's own value of its chosen action, max_a' Q_online(s', a'): "
        "one network both selects and evaluates, which is the overestimating max again. "
        "Evaluate the chosen action with next_q_target.",
        lambda c: _double(c, c.qo.max(axis=1)),
    ),
    Mistake(
        "you used the index of the chosen action (argmax) as its value; read its value from "
        "next_q_target.",
        lambda c: _double(c, c.qo.argmax(axis=1).astype(np.float64)),
    ),
    Mistake(
        "you selected the worst action (argmin); the online network selects the best one, argmax.",
        lambda c: _double(c, c.qt[c.rows, c.qo.argmin(axis=1)]),
    ),
    Mistake(
        "the terminated transitions still bootstrap: their target is just the reward. Multiply "
        "the bootstrap term by (1 - terminated).",
        lambda c: _double(c, mask=1.0),
    ),
    Mistake(
        "the reward is not discounted (it arrives now): only the next state's value is "
        "multiplied by gamma.",
        lambda c: c.gamma * _double(c, gamma=1.0),
    ),
    Mistake(
        "the next state's value must be discounted: multiply it by gamma.",
        lambda c: _double(c, gamma=1.0),
    ),
    Mistake(
        lambda c: (
            f"next_q_target[:, best] takes every row's value of every chosen action (shape "
            f"{(len(c.r),) * 2}). Pick one per row: next_q_target[np.arange(B), best] or "
            "np.take_along_axis(next_q_target, best[:, None], axis=-1)[:, 0]."
        ),
        test=lambda c, got: len(c.r) > 1 and np.shape(got) == (len(c.r),) * 2,
    ),
]


@check
def check_double_td_target(double_td_target) -> Verdict:
    """Check ``double_td_target(reward, next_q_online, next_q_target, terminated, gamma) -> (B,)``.

    Cases (random on every call, the two networks disagreeing on the best next action in every
    row): a mixed batch, a batch of one, an all-terminal batch, gamma in {0.5, 0.9, 0.99}.
    """
    return grade(
        double_td_target,
        _double_cases(fresh_rng()),
        _double,
        _DOUBLE_MISTAKES,
        signature="(reward, next_q_online, next_q_target, terminated, gamma)",
        hint=flags_hint,
        done=(
            f"{name_of(double_td_target)}: y = r + gamma * (1 - terminated) * Q_target(s', "
            "argmax_a' Q_online(s', a')): the online net selects, the target net evaluates."
        ),
    )
