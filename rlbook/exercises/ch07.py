"""Checks for the exercises of chapter 7 (actor-critic)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_td_targets", "check_actor_critic_losses"]

# Four transitions: the second terminated, the third was cut by the time limit.
_REWARDS = np.array([1.0, 1.0, 1.0, 0.5], np.float32)
_NEXT_VALUES = np.array([2.0, 4.0, 6.0, 8.0], np.float32)
_TERMINATED = np.array([0.0, 1.0, 0.0, 0.0], np.float32)
_TRUNCATED = np.array([0.0, 0.0, 1.0, 0.0], np.float32)
_GAMMA = 0.9


def _numpy(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


@check
def check_td_targets(td_targets) -> Verdict:
    """Check ``td_targets(rewards, next_values, terminated, truncated, gamma) -> (B,)``."""
    got = call_student(td_targets, _REWARDS.copy(), _NEXT_VALUES.copy(), _TERMINATED.copy(), _TRUNCATED.copy(),
                       _GAMMA, what="your td_targets")
    if got is None:
        return wrong("td_targets returned None: return one target per transition.")
    got = _numpy(got).reshape(-1)
    r, v, term, trunc = (x.astype(np.float64) for x in (_REWARDS, _NEXT_VALUES, _TERMINATED, _TRUNCATED))
    g = _GAMMA
    want = r + g * (1 - term) * v  # [2.8, 1.0, 6.4, 7.7]
    if got.shape != want.shape:
        return wrong(f"expected one target per transition, shape {want.shape}, got shape {got.shape}.")
    if np.allclose(got, want):
        return correct("y = r + gamma * (1 - terminated) * V(s'): the truncated transition still bootstraps.")
    candidates = [
        (r + g * (1 - np.maximum(term, trunc)) * v,
         "the third transition was truncated by the time limit, not terminated: the pole was still up, so its "
         "future is worth V(s'). Stop bootstrapping only on terminated."),
        (r + g * v, "the second transition terminated: nothing follows a real end, so its target is just r."),
        (g * (r + (1 - term) * v), "the reward is not discounted (it arrives now); only V(s') is multiplied by gamma."),
        (r + (1 - term) * v, "the next state's value must be discounted: multiply V(s') by gamma."),
    ]
    for value, message in candidates:
        if np.allclose(got, value):
            return wrong(message)
    return wrong(f"expected {np.round(want, 3).tolist()}, got {np.round(got, 3).tolist()}.")


# Four steps, two actions.
_LOGITS = np.array([[0.0, 1.0], [2.0, 0.0], [0.5, -0.5], [0.0, 0.0]], np.float32)
_ACTIONS = np.array([1, 1, 0, 0])
_VALUES = np.array([1.0, 3.0, 2.0, 0.5], np.float32)
_TARGETS = np.array([2.0, 1.0, 2.5, 3.0], np.float32)


@check
def check_actor_critic_losses(losses) -> Verdict:
    """Check ``losses(logits, actions, values, targets) -> (actor_loss, critic_loss)``, values of shape ``(N,)``."""
    out = call_student(losses, _LOGITS.copy(), _ACTIONS.copy(), _VALUES.copy(), _TARGETS.copy(),
                       what="your actor_critic_losses")
    if out is None:
        return wrong("the function returned None: return the pair (actor_loss, critic_loss).")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return wrong("return two numbers, (actor_loss, critic_loss), in this order.")
    actor, critic = (float(_numpy(x).reshape(())) for x in out)
    z = _LOGITS.astype(np.float64)
    log_pi = (z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(4), _ACTIONS]
    delta = _TARGETS - _VALUES
    want_actor, want_critic = -np.mean(delta * log_pi), np.mean(delta ** 2)
    critic_ok = np.isclose(critic, want_critic, rtol=1e-4) or np.isclose(critic, 0.5 * want_critic, rtol=1e-4)
    actor_ok = np.isclose(actor, want_actor, rtol=1e-4)
    if np.isclose(actor, want_critic, rtol=1e-4) and np.isclose(critic, want_actor, rtol=1e-4):
        return wrong("the two losses are swapped: return (actor_loss, critic_loss).")
    if not critic_ok:
        if np.isclose(abs(critic), abs(np.mean(delta)), rtol=1e-4):
            return wrong("the critic loss is missing its square: mean(V - y) can be made as small as you like by "
                         "pushing V down forever. Regress V on the target: mean((y - V)^2).")
        if np.isclose(critic, np.mean(np.abs(delta)), rtol=1e-4):
            return wrong("use the squared TD error for the critic, mean((y - V)^2), not its absolute value.")
        return wrong(f"the critic loss should be mean((y - V(s))^2) = {want_critic:.4f}, got {critic:.4f}.")
    if not actor_ok:
        candidates = [
            (-np.mean(_TARGETS * log_pi), "weight log pi(a|s) by the TD error delta = y - V(s), not by the target y."),
            (np.mean(delta * log_pi), "the actor loss has the wrong sign: it is -mean(delta * log pi(a|s))."),
            (-np.mean(delta * np.exp(log_pi)), "use log pi(a|s), not pi(a|s)."),
        ]
        for value, message in candidates:
            if np.isclose(actor, value, rtol=1e-4):
                return wrong(message)
        return wrong(f"the actor loss should be -mean(delta * log pi(a|s)) = {want_actor:.4f}, got {actor:.4f}.")
    problem = _gradients_flow_where_they_should(losses)  # a Verdict is falsy when not ok: test for None
    return problem if problem is not None else correct(
        "critic: mean(delta^2) with the target held fixed; actor: -mean(delta * log pi(a|s)) with delta held fixed.")


def _gradients_flow_where_they_should(losses) -> Verdict | None:
    """With TF inputs: no gradient into the target, and none from the actor's loss into V(s)."""
    import tensorflow as tf

    values, targets = tf.Variable(_VALUES), tf.Variable(_TARGETS)
    try:
        with tf.GradientTape(persistent=True) as tape:
            actor, critic = losses(tf.constant(_LOGITS), tf.constant(_ACTIONS), values, targets)
        to_values = tape.gradient(actor, values)
        to_targets = tape.gradient(critic, targets)
    except Exception:  # NumPy-only code: nothing to check
        return None
    moves = lambda g: g is not None and np.any(np.abs(g.numpy()) > 1e-8)  # noqa: E731
    if moves(to_targets):
        return wrong("the numbers are right, but the critic loss sends gradients into the TD target: the target "
                     "must be held fixed (tf.stop_gradient), or V(s') is dragged towards V(s) as well.")
    if moves(to_values):
        return wrong("the numbers are right, but the actor loss sends gradients into V(s): hold the TD error fixed "
                     "in the actor loss (tf.stop_gradient(delta)); the critic learns from its own loss.")
    return None
