"""Checks for the exercises of chapter 6 (REINFORCE)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_episode_returns", "check_reinforce_loss"]

# One episode of four steps.
_REWARDS = np.array([1.0, 0.0, 2.0, 1.0])
_GAMMA = 0.5


def _numpy(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


def _suffix_returns(rewards, gamma):
    out, g = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


@check
def check_episode_returns(episode_returns) -> Verdict:
    """Check ``episode_returns(rewards, gamma) -> G`` for one complete episode (shape ``(T,)``)."""
    got = call_student(episode_returns, _REWARDS.copy(), _GAMMA, what="your episode_returns")
    if got is None:
        return wrong("episode_returns returned None: return the array of returns, one per step.")
    got = _numpy(got).reshape(-1)
    want = _suffix_returns(_REWARDS, _GAMMA)  # [1.625, 1.25, 2.5, 1.0]
    if got.shape != want.shape:
        return wrong(f"expected one return per step ({len(want)} values for {len(_REWARDS)} rewards), got {got.size}.")
    if np.allclose(got, want):
        return correct("G_t = r_t + gamma * G_{t+1}, computed from the last step back: one pass over the episode.")
    if np.allclose(got, want[::-1]):
        return wrong("the returns are right but in reverse order: after the backward loop, reverse the list "
                     "so that entry t is G_t.")
    forward = np.zeros(len(_REWARDS))
    g = 0.0
    for t, r in enumerate(_REWARDS):
        g = r + _GAMMA * g
        forward[t] = g
    if np.allclose(got, forward):
        return wrong("you accumulated rewards from the start of the episode; the return G_t looks *forward*, at "
                     "the rewards from step t to the end. Loop over the rewards from the last one back.")
    if np.allclose(got, _suffix_returns(_REWARDS, 1.0)):
        return wrong("the returns are not discounted: each step further away should count gamma times less.")
    discounted_now = np.zeros(len(_REWARDS))
    g = 0.0
    for t in range(len(_REWARDS) - 1, -1, -1):
        g = _GAMMA * (_REWARDS[t] + g)
        discounted_now[t] = g
    if np.allclose(got, discounted_now):
        return wrong("the reward of step t itself is not discounted (it arrives now): G_t = r_t + gamma * G_{t+1}.")
    if np.allclose(got, want[0]):
        return wrong("every step got the episode's total return G_0; G_t counts only the rewards from step t on.")
    return wrong(f"for rewards {_REWARDS.tolist()} and gamma {_GAMMA} the returns are {want.tolist()}, "
                 f"got {np.round(got, 4).tolist()}.")


# Four steps, three actions; distinct numbers so that each mistake gives a different loss.
_LOGITS = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 3.0]], np.float32)
_ACTIONS = np.array([0, 2, 1, 0])
_RETURNS = np.array([3.0, 1.0, 4.0, 2.0], np.float32)
_VALUES = np.array([[2.0], [2.5], [1.0], [0.5]], np.float32)  # straight from a critic: shape (N, 1)


def _log_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@check
def check_reinforce_loss(reinforce_loss) -> Verdict:
    """Check ``reinforce_loss(logits, actions, returns, values) -> scalar`` with ``values`` of shape ``(N, 1)``."""
    args = (_LOGITS.copy(), _ACTIONS.copy(), _RETURNS.copy(), _VALUES.copy())
    got = call_student(reinforce_loss, *args, what="your reinforce_loss")
    if got is None:
        return wrong("reinforce_loss returned None: return the loss, one number.")
    got = _numpy(got)
    if got.size != 1:
        return wrong(f"the loss should be one number (the mean over steps), got shape {got.shape}.")
    got = float(got.reshape(()))
    n = len(_ACTIONS)
    log_pi = _log_softmax(_LOGITS.astype(np.float64))[np.arange(n), _ACTIONS]
    adv = _RETURNS - _VALUES[:, 0]
    want = -np.mean(adv * log_pi)
    if np.isclose(got, want, rtol=1e-4):
        problem = _baseline_gets_no_gradient(reinforce_loss)  # a Verdict is falsy when not ok: test for None
        return problem if problem is not None else correct(
            "L = -mean[(G_t - V(s_t)) log pi(a_t|s_t)], one advantage per step.")
    candidates = [
        (-np.mean((_RETURNS[None, :] - _VALUES) * log_pi),
         "returns - values with values of shape (N, 1) broadcasts to an N x N matrix (every return minus every "
         "value). Squeeze the critic's output to shape (N,) first, e.g. values[:, 0]."),
        (np.mean(adv * log_pi), "the sign is flipped: minimizing this loss would make the better-than-expected "
                                "actions *less* likely. The loss is -mean(...)."),
        (-np.mean(_RETURNS * log_pi), "the baseline is missing: weight each log-probability by G_t - V(s_t)."),
        (-np.sum(adv * log_pi), "use the mean over steps, not the sum (the step size should not grow with the batch)."),
        (-np.mean(adv * np.exp(log_pi)), "use the log-probability log pi(a|s), not the probability pi(a|s)."),
        (-np.mean(adv * _LOGITS[np.arange(n), _ACTIONS]),
         "logits are not log-probabilities: apply a log-softmax first (tf.nn.log_softmax)."),
    ]
    for value, message in candidates:
        if np.isclose(got, value, rtol=1e-4):
            return wrong(message)
    return wrong(f"expected {want:.4f}, got {got:.4f}.")


def _baseline_gets_no_gradient(reinforce_loss) -> Verdict | None:
    """If the student's function runs on TF variables, the baseline must get no gradient from the loss."""
    import tensorflow as tf

    values = tf.Variable(_VALUES)
    try:
        with tf.GradientTape() as tape:
            loss = reinforce_loss(tf.constant(_LOGITS), tf.constant(_ACTIONS), tf.constant(_RETURNS), values)
        grad = tape.gradient(loss, values)
    except Exception:  # NumPy-only code: nothing to check
        return None
    if grad is not None and np.any(np.abs(grad.numpy()) > 1e-8):
        return wrong("the value is right, but the policy loss sends gradients into the baseline. Hold the advantage "
                     "fixed with tf.stop_gradient(returns - values): the baseline learns from its own loss.")
    return None
