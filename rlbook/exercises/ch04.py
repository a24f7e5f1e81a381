"""Checks for the exercises of chapter 4 (double DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_max_bias", "check_double_td_target"]


def _numpy(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


# E[max of n independent standard normal draws], to four decimals.
_EXPECTED_MAX_STD_NORMAL = {1: 0.0, 2: 0.5642, 3: 0.8463, 10: 1.5388}

# (true values, sigma) -> the bias of the max, sigma * E[max of n standard normals]:
# every action has the same true value, so the bias is the noise's expected max.
_BIAS_CASES = [
    (np.zeros(2), 1.0),
    (np.zeros(10), 1.0),
    (np.array([5.0, 5.0, 5.0]), 2.0),
]


@check
def check_max_bias(max_bias) -> Verdict:
    """Check ``max_bias(true_values, sigma, n_samples, rng) -> float``.

    The expected answer is ``E[max_a (q_a + sigma * eps_a)] - max_a q_a`` with
    ``eps_a`` independent standard normal draws, estimated from ``n_samples`` draws.
    """
    n_samples = 100_000
    tol = 0.05
    got, want = [], []
    for true_values, sigma in _BIAS_CASES:
        value = call_student(max_bias, true_values.copy(), sigma, n_samples, np.random.default_rng(0),
                             what="your max_bias")
        if value is None:
            return wrong("max_bias returned None: return one number, the estimated bias of the max.")
        value = _numpy(value)
        if value.size != 1:
            return wrong(f"max_bias should return one number (the average over all samples), got an array of shape "
                         f"{value.shape}. Take the max over the actions of each sample, then average over samples.")
        got.append(float(value.reshape(())))
        want.append(sigma * _EXPECTED_MAX_STD_NORMAL[true_values.size])
    got, want = np.array(got), np.array(want)
    if np.allclose(got, want, atol=tol):
        return correct(f"the max of noisy estimates is biased upward: +{want[0]:.2f} sigma with 2 actions, "
                       f"+{want[1]:.2f} sigma with 10 actions, although every estimate is unbiased on its own.")
    if np.allclose(got, 0.0, atol=tol):
        return wrong("your bias is about 0 in every case. The order of max and mean matters: take the max over the "
                     "actions of *each* sample of noisy estimates, then average those maxima over samples "
                     "(averaging the estimates first removes the noise, and with it the bias).")
    shifted = want + np.array([tv.max() for tv, _ in _BIAS_CASES])
    if np.allclose(got, shifted, atol=tol):
        return wrong("you returned E[max_a estimate], not the bias: subtract the true maximum, max(true_values) "
                     f"(for true values {_BIAS_CASES[2][0].tolist()} you got {got[2]:.2f}).")
    unit = np.array([_EXPECTED_MAX_STD_NORMAL[tv.size] for tv, _ in _BIAS_CASES])
    if np.allclose(got, unit, atol=tol):
        return wrong("the noise ignores sigma: with sigma = 2 the noisy estimates are true_values + 2 * eps, so the "
                     f"bias doubles (expected {want[2]:.2f}, got {got[2]:.2f}).")
    if np.all(got > want + 1.0):
        return wrong("your bias is far too large: it looks like one max over all samples (the largest draw of all). "
                     "Take the max over the action axis of each sample, then the mean over samples.")
    return wrong(f"for the cases (true values, sigma) = {[(tv.tolist(), s) for tv, s in _BIAS_CASES]} the biases are "
                 f"about {np.round(want, 2).tolist()}, got {np.round(got, 2).tolist()}. Draw noisy estimates of shape "
                 "(n_samples, n_actions), take the max over actions, average, subtract max(true_values).")


# Four transitions, three actions; the third terminated. The networks disagree on the
# best next action in every row, so each mix-up of selection and evaluation shows.
_REWARD = np.array([1.0, 0.5, 2.0, -1.0], np.float32)
_NEXT_Q_ONLINE = np.array([[1.0, 3.0, 2.0], [5.0, 0.0, 1.0], [0.0, 2.0, 4.0], [2.0, 2.5, 1.0]], np.float32)
_NEXT_Q_TARGET = np.array([[4.0, 1.0, 2.0], [3.0, 6.0, 0.0], [7.0, 1.0, 5.0], [0.0, 3.0, 8.0]], np.float32)
_TERMINATED = np.array([0.0, 0.0, 1.0, 0.0], np.float32)
_GAMMA = 0.9


def _rows(q, idx):
    return q[np.arange(len(q)), idx]


@check
def check_double_td_target(double_td_target) -> Verdict:
    """Check ``double_td_target(reward, next_q_online, next_q_target, terminated, gamma) -> (B,)`` (NumPy or TF)."""
    got = call_student(double_td_target, _REWARD.copy(), _NEXT_Q_ONLINE.copy(), _NEXT_Q_TARGET.copy(),
                       _TERMINATED.copy(), _GAMMA, what="your double_td_target")
    if got is None:
        return wrong("double_td_target returned None: return the targets, one per transition.")
    got = _numpy(got)
    not_end = 1.0 - _TERMINATED
    chosen = _NEXT_Q_ONLINE.argmax(axis=1)

    def target(next_value, mask=not_end):
        return _REWARD + _GAMMA * mask * next_value

    want = target(_rows(_NEXT_Q_TARGET, chosen))  # [1.9, 3.2, 2.0, 1.7]
    if got.shape != want.shape:
        return wrong(f"expected one target per transition, shape {want.shape}, got shape {got.shape}. Pick one "
                     "action per row (argmax over axis=-1) and one value per row.")
    if np.allclose(got, want):
        return correct("y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_online(s', a')): the online net "
                       "selects, the target net evaluates.")
    if np.allclose(got, target(_NEXT_Q_TARGET.max(axis=1))):
        return wrong("that is the vanilla DQN target, max_a' Q_target(s', a') (and what the original post's code "
                     "ended up using). Let the online network choose the action (argmax of next_q_online), then "
                     "read that action's value from next_q_target.")
    if np.allclose(got, target(_rows(_NEXT_Q_ONLINE, _NEXT_Q_TARGET.argmax(axis=1)))):
        return wrong("the roles are swapped: you selected with the target network and evaluated with the online one. "
                     "The online network selects (argmax of next_q_online); the target network evaluates.")
    if np.allclose(got, target(_NEXT_Q_ONLINE.max(axis=1))):
        return wrong("you used the online network's own value of its chosen action, max_a' Q_online(s', a'): one "
                     "network both selects and evaluates, which is the overestimating max again. Evaluate the "
                     "chosen action with next_q_target.")
    if np.allclose(got, target(_rows(_NEXT_Q_TARGET, chosen), mask=1.0)):
        return wrong("the third transition terminated, so its target is just its reward (2.0): multiply the "
                     "bootstrap term by (1 - terminated).")
    if np.allclose(got, _GAMMA * (_REWARD + not_end * _rows(_NEXT_Q_TARGET, chosen))):
        return wrong("the reward is not discounted (it arrives now): only the next state's value is multiplied by gamma.")
    return wrong(f"expected {np.round(want, 3).tolist()}, got {np.round(got, 3).tolist()}: the online net picks actions "
                 f"{chosen.tolist()}, and the target net's values of those actions are "
                 f"{_rows(_NEXT_Q_TARGET, chosen).tolist()}.")
