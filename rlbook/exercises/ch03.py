"""Checks for the exercises of chapter 3 (DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_td_target", "check_soft_update"]

# Three transitions, two actions; the last one terminated.
_REWARD = np.array([1.0, 0.5, 2.0], np.float32)
_NEXT_Q = np.array([[3.0, 1.0], [-1.0, 4.0], [10.0, 8.0]], np.float32)
_TERMINATED = np.array([0.0, 0.0, 1.0], np.float32)
_GAMMA = 0.9


def _numpy(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


@check
def check_td_target(td_target) -> Verdict:
    """Check ``td_target(reward, next_q_target, terminated, gamma) -> (B,)`` (NumPy or TF)."""
    got = _numpy(call_student(td_target, _REWARD, _NEXT_Q, _TERMINATED, _GAMMA, what="your td_target"))
    want = (_REWARD + _GAMMA * (1 - _TERMINATED) * _NEXT_Q.max(axis=1)).astype(np.float64)  # [3.7, 4.1, 2.0]
    if got.shape != want.shape:
        return wrong(f"expected one target per transition, shape {want.shape}, got shape {got.shape}. "
                     "Take the max over the action axis (axis=-1), not over the whole batch.")
    if np.allclose(got, want):
        return correct("y = r + gamma * (1 - terminated) * max_a' Q_target(s', a'), one value per transition.")
    if np.allclose(got, _REWARD + _GAMMA * _NEXT_Q.max(axis=1)):
        return wrong("the last transition terminated, so its target is just its reward (2.0); multiply the "
                     "bootstrap term by (1 - terminated).")
    if np.allclose(got, _REWARD + _GAMMA * (1 - _TERMINATED) * _NEXT_Q.mean(axis=1)):
        return wrong("you averaged the next Q-values; Q-learning bootstraps from the best next action: max over a'.")
    if np.allclose(got, _REWARD + _GAMMA * (1 - _TERMINATED) * _NEXT_Q.max()):
        return wrong("you took the max over the whole batch; take it per transition, over the action axis (axis=-1).")
    if np.allclose(got, _GAMMA * (_REWARD + (1 - _TERMINATED) * _NEXT_Q.max(axis=1))):
        return wrong("the reward is not discounted: it arrives now. Only the next state's value is multiplied by gamma.")
    return wrong(f"expected {np.round(want, 3).tolist()}, got {np.round(got, 3).tolist()} for rewards "
                 f"{_REWARD.tolist()}, next Q-values {_NEXT_Q.tolist()}, terminated {_TERMINATED.tolist()}, gamma {_GAMMA}.")


@check
def check_soft_update(soft_update) -> Verdict:
    """Check ``soft_update(target_weights, online_weights, tau) -> new target weights`` (lists of arrays)."""
    rng = np.random.default_rng(0)
    target = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    online = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    tau = 0.1
    result = call_student(soft_update, [t.copy() for t in target], [o.copy() for o in online], tau,
                          what="your soft_update")
    if result is None:
        return wrong("soft_update returned None: return the list of new target weights.")
    result = [np.asarray(r, dtype=np.float64) for r in result]
    if len(result) != len(target) or any(r.shape != t.shape for r, t in zip(result, target)):
        return wrong("return one array per weight, each with the shape of the corresponding target weight.")
    want = [tau * o + (1 - tau) * t for t, o in zip(target, online)]
    if all(np.allclose(r, w) for r, w in zip(result, want)):
        return correct("target <- tau * online + (1 - tau) * target; with tau = 1 this is the hard copy.")
    if all(np.allclose(r, (1 - tau) * o + tau * t) for r, t, o in zip(result, target, online)):
        return wrong("tau and 1 - tau are swapped: the target should move only a small step (tau) towards the online net.")
    if all(np.allclose(r, o) for r, o in zip(result, online)):
        return wrong("that is a hard copy of the online weights; a soft update moves the target a fraction tau of the way.")
    if all(np.allclose(r, t) for r, t in zip(result, target)):
        return wrong("the target weights did not change; move them a fraction tau towards the online weights.")
    return wrong("the new target weights should be tau * online + (1 - tau) * target, element by element.")
