"""Checks for the exercises of chapter 4 (double DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import (
    Verdict,
    assert_unchanged,
    call_student,
    check,
    close,
    correct,
    diagnose,
    fmt,
    fresh_rng,
    name_of,
    snapshot,
    to_array,
    to_scalar,
    wrong,
)
from rlbook.exercises._core import flags_hint as _flags_hint, td_cases

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


@check
def check_max_bias(max_bias) -> Verdict:
    """Check ``max_bias(true_values, sigma, n_samples, rng) -> float``.

    The expected answer is ``E[max_a (q_a + sigma * eps_a)] - max_a q_a`` with ``eps_a``
    independent standard normal draws, estimated from ``n_samples`` draws. Cases (random on every
    call): equal true values for a random number of actions, equal non-zero values with another
    sigma, unequal values, and a single action (no bias). The answer must be one float, use the
    generator it is given, and leave ``true_values`` unchanged.
    """
    name = name_of(max_bias)
    rng = fresh_rng()
    n = int(rng.integers(3, 11))
    c = float(np.round(rng.uniform(1.0, 6.0), 1))
    gap = float(np.round(rng.uniform(0.3, 1.0), 2))
    cases = [
        (np.zeros(n), float(np.round(rng.uniform(0.5, 1.5), 2))),
        (np.full(3, c), 2.0),
        (np.array([c, c - gap, c - 2 * gap, c + gap]), float(np.round(rng.uniform(1.0, 2.0), 2))),
        (np.array([c]), 1.0),
    ]
    n_samples = int(rng.integers(40, 80)) * 1000
    got, want, extra = [], [], []
    for true_values, sigma in cases:
        given = true_values.copy()
        value = call_student(
            max_bias,
            given,
            sigma,
            n_samples,
            np.random.default_rng(int(rng.integers(2**31))),
            name=name,
            signature="max_bias(true_values, sigma, n_samples, rng)",
        )
        assert_unchanged(name, [true_values], [given], ["true_values"])
        if (
            value is not None
            and np.size(value) > 1
            and np.ndim(value) == 1
            and np.size(value) == len(true_values)
        ):
            return wrong(
                f"{name} returned one number per action (shape {np.shape(value)}); return one "
                "number: "
                "take the max over the actions of each sample, then the mean over samples."
            )
        got.append(to_scalar(value, name, "one number, the estimated bias of the max (a float)"))
        want.append(expected_max(true_values, sigma) - true_values.max())
        extra.append((true_values, sigma))
    got, want = np.array(got), np.array(want)
    tol = 0.04 * np.array([s for _, s in cases])
    cases_text = "; ".join(
        f"true values {fmt(tv)}, sigma {s}: bias {w:.3f}, yours {g:.3f}"
        for (tv, s), w, g in zip(cases, want, got)
    )
    if np.all(np.abs(got - want) <= tol):
        seed = int(rng.integers(2**31))
        a = call_student(
            max_bias, cases[0][0].copy(), cases[0][1], 2000, np.random.default_rng(seed), name=name
        )
        b = call_student(
            max_bias, cases[0][0].copy(), cases[0][1], 2000, np.random.default_rng(seed), name=name
        )
        if not np.isclose(to_scalar(a, name, "one number"), to_scalar(b, name, "one number")):
            return wrong(
                f"{name} gave two different results for two generators with the same seed: draw "
                "the "
                "noise with the `rng` you are given (rng.normal), not np.random."
            )
        return correct(
            f"{name}: the max of noisy estimates is biased upward (+{want[0] / cases[0][1]:.2f} "
            "sigma "
            f"with {n} equal actions), although every estimate is unbiased on its own."
        )
    if np.all(np.abs(got) <= tol):
        return wrong(
            f"your bias is about 0 in every case ({cases_text}). Two usual causes: the mean taken "
            "before the max (averaging the noisy estimates first removes the noise, and the bias), "
            "or "
            "one noise draw shared by all actions. Draw independent noise of shape (n_samples, A), "
            "take the max over the actions of each sample, then average those maxima."
        )
    shifts = np.array([tv.max() for tv, _ in cases])
    means = np.array([tv.mean() for tv, _ in cases])
    unit = np.array([expected_max(tv, 1.0) - tv.max() for tv, _ in cases])
    checks = [
        (
            want + shifts,
            "you returned E[max_a estimate], not its bias: subtract the true maximum, "
            "max(true_values).",
        ),
        (
            want + shifts - means,
            "subtract the largest true value, max(true_values), not their mean.",
        ),
        (
            unit,
            "the noise ignores sigma: the noisy estimates are true_values + sigma * eps, so the "
            "bias "
            "grows with sigma.",
        ),
        (-want, "the sign is flipped: the bias is E[max] - max(true_values), and it is positive."),
    ]
    for value, message in checks:
        if np.all(np.abs(got - value) <= tol):
            return wrong(f"{message} ({cases_text})")
    if np.all(got > want + 1.0):
        return wrong(
            f"your bias is far too large: it looks like the max over all samples (the largest draw "
            f"of all), or over the sample axis. Take the max over the action axis (axis=1) of each "
            f"sample, then the mean over samples. ({cases_text})"
        )
    return wrong(
        f"{cases_text}. Draw noisy estimates of shape (n_samples, n_actions), take the max over "
        "actions, average, subtract max(true_values)."
    )


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
    if terminal == "all":
        terminated = np.ones(batch, np.float32)
    elif terminal == "none":
        terminated = np.zeros(batch, np.float32)
    else:  # about a third terminal, at least one of each
        terminated = np.zeros(batch, np.float32)
        terminated[rng.permutation(batch)[: max(1, batch // 3)]] = 1.0
    return reward, online, target, terminated


@check
def check_double_td_target(double_td_target) -> Verdict:
    """Check ``double_td_target(reward, next_q_online, next_q_target, terminated, gamma) -> (B,)``.

    Cases (random on every call, the two networks disagreeing on the best next action in every
    row): a mixed batch, a batch of one, an all-terminal batch, gamma in {0.5, 0.9, 0.99}.
    """
    name = name_of(double_td_target)
    rng = fresh_rng()
    n_actions = int(rng.integers(3, 5))
    for batch, terminal, gamma in td_cases(rng):
        arrays = _double_batch(rng, batch, n_actions, terminal)
        given = snapshot(*arrays)
        got = call_student(
            double_td_target,
            *given,
            gamma,
            name=name,
            hint=_flags_hint,
            signature="(reward, next_q_online, next_q_target, terminated, gamma)",
        )
        assert_unchanged(
            name, list(arrays), given, ["reward", "next_q_online", "next_q_target", "terminated"]
        )
        got = to_array(got, name, f"one target per transition, shape ({batch},)")
        r, qo, qt, t = (x.astype(np.float64) for x in arrays)
        rows = np.arange(batch)
        chosen = qo.argmax(axis=1)
        want = r + gamma * (1 - t) * qt[rows, chosen]
        case = (
            f"(rewards {fmt(r)}, next_q_online {fmt(qo)}, next_q_target {fmt(qt)}, terminated "
            f"{fmt(t, 0)}, "
            f"gamma {gamma})"
        )
        if got.shape == (batch, batch) and batch > 1:
            return wrong(
                f"{name} returned shape {got.shape}: next_q_target[:, best] takes every row's "
                "value of "
                "every chosen action. Pick one per row: next_q_target[np.arange(B), best] or "
                "np.take_along_axis(next_q_target, best[:, None], axis=-1)[:, 0]."
            )
        if got.shape != want.shape:
            return wrong(
                f"expected one target per transition, shape ({batch},), got shape {got.shape}. "
                "Pick one "
                "action per row (argmax over axis=-1) and one value per row."
            )
        if close(got, want):
            continue

        def target(value, mask=(1 - t)):
            return r + gamma * mask * value  # noqa: B023 (called at once, in this iteration)

        message = diagnose(
            got,
            [
                (
                    target(qt.max(axis=1)),
                    "that is the vanilla DQN target, max_a' Q_target(s', a') (and what the "
                    "original post's code ended up using). Let the online network choose the "
                    "action (argmax of next_q_online), then read that action's value from "
                    "next_q_target.",
                ),
                (
                    target(qo[rows, qt.argmax(axis=1)]),
                    "the roles are swapped: you selected with the target network "
                    "and evaluated with the online one. The online network "
                    "selects (argmax of next_q_online); the target evaluates.",
                ),
                (
                    target(qo.max(axis=1)),
                    "you used the online network's own value of its chosen action, max_a' "
                    "Q_online(s', a'): one network both selects and evaluates, which is the "
                    "overestimating max again. Evaluate the chosen action with next_q_target.",
                ),
                (
                    target(chosen.astype(np.float64)),
                    "you used the index of the chosen action (argmax) as its value; "
                    "read its value from next_q_target.",
                ),
                (
                    target(qt[rows, qo.argmin(axis=1)]),
                    "you selected the worst action (argmin); the online network "
                    "selects the best one, argmax.",
                ),
                (
                    target(qt[rows, chosen], mask=1.0),
                    "the terminated transitions still bootstrap: their target is "
                    "just the reward. Multiply the bootstrap term by "
                    "(1 - terminated).",
                ),
                (
                    gamma * (r + (1 - t) * qt[rows, chosen]),
                    "the reward is not discounted (it arrives now): only the "
                    "next state's value is multiplied by gamma.",
                ),
                (
                    r + (1 - t) * qt[rows, chosen],
                    "the next state's value must be discounted: multiply it by gamma.",
                ),
            ],
        )
        return wrong(f"{message or 'expected ' + fmt(want) + ', got ' + fmt(got) + '.'} {case}")
    return correct(
        f"{name}: y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_online(s', a')): the "
        "online net selects, the target net evaluates."
    )
