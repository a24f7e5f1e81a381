"""Checks for the exercises of chapter 5 (dueling DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_dueling_combine", "check_split_q"]


def _numpy(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


# Three states, three actions. The batch has as many rows as actions, so a mean over
# the wrong axis still gives the right shape (and a wrong number).
_VALUE = np.array([[10.0], [0.0], [-2.0]], np.float32)
_ADVANTAGE = np.array([[1.0, 2.0, 6.0], [-3.0, 0.0, 6.0], [4.0, 4.0, 4.0]], np.float32)


@check
def check_dueling_combine(dueling_combine) -> Verdict:
    """Check ``dueling_combine(value (B, 1), advantage (B, A)) -> Q (B, A)`` (NumPy or TF)."""
    got = call_student(dueling_combine, _VALUE.copy(), _ADVANTAGE.copy(), what="your dueling_combine")
    if got is None:
        return wrong("dueling_combine returned None: return the Q-values, shape (B, A).")
    got = _numpy(got)
    v, a = _VALUE.astype(np.float64), _ADVANTAGE.astype(np.float64)
    want = v + a - a.mean(axis=1, keepdims=True)  # [[7, 8, 12], [-4, -1, 5], [-2, -2, -2]]
    if got.shape != want.shape:
        return wrong(f"expected Q-values of shape {want.shape} (one per state and action), got shape {got.shape}. "
                     "value has shape (B, 1) so that it broadcasts over the actions; keep keepdims=True on the mean.")
    if np.allclose(got, want):
        return correct("Q = V + A - mean_a A: the advantages of each state are centred, so V(s) is the mean of Q(s, .).")
    if np.allclose(got, v + a):
        return wrong("you returned V + A. Without subtracting the mean advantage, V and A are not identifiable: "
                     "V + c and A - c give the same Q for any c. Subtract each state's mean advantage.")
    if np.allclose(got, v + a - a.max(axis=1, keepdims=True)):
        return wrong("you subtracted the max advantage, the other aggregation of Wang et al. (2016); this book "
                     "(like the paper's experiments) subtracts the mean, which changes more smoothly.")
    if np.allclose(got, v + a - a.mean(axis=0, keepdims=True)):
        return wrong("you averaged the advantages over the batch (axis 0). Each state has its own mean: average over "
                     "the actions, axis=-1 (or 1), with keepdims=True.")
    if np.allclose(got, v + a - a.mean()):
        return wrong("you subtracted one mean over the whole batch; subtract each state's own mean over its actions "
                     "(axis=-1, keepdims=True).")
    return wrong(f"for V = {v[:, 0].tolist()} and A = {a.tolist()} expected Q = {want.tolist()}, got "
                 f"{np.round(got, 3).tolist()}.")


_Q = np.array([[1.0, 3.0, 8.0], [-2.0, -2.0, -5.0]])


@check
def check_split_q(split_q) -> Verdict:
    """Check ``split_q(q (B, A)) -> (v (B,), a (B, A))``: the split a mean-centred dueling head represents."""
    result = call_student(split_q, _Q.copy(), what="your split_q")
    if result is None:
        return wrong("split_q returned None: return a pair (v, a).")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return wrong("split_q should return a pair (v, a): v of shape (B,), a of shape (B, A).")
    v, a = _numpy(result[0]), _numpy(result[1])
    if v.shape == (len(_Q), 1):
        v = v[:, 0]
    if v.shape != (len(_Q),) or a.shape != _Q.shape:
        return wrong(f"expected v of shape ({len(_Q)},) and a of shape {_Q.shape}, got {v.shape} and {a.shape}.")
    if not np.allclose(v[:, None] + a, _Q):
        return wrong("v + a must give back Q for every action: a(s, a) = Q(s, a) - v(s).")
    if np.allclose(v, _Q.mean(axis=1)):
        return correct("v is the mean of Q over the actions and a = Q - v, whose mean is 0. Any other split would "
                       "also give back Q from V + A; the mean-centring fixes this one.")
    if np.allclose(v, _Q.max(axis=1)):
        return wrong("v = max_a Q is the split of a head that subtracts the *max* advantage (then the best action's "
                     "advantage is 0). The head of this chapter subtracts the mean, so the advantages must average to 0.")
    if np.allclose(v, 0.0):
        return wrong("v = 0 and a = Q gives back Q, but so does v = c and a = Q - c for any c: that is exactly why V and "
                     "A are unidentifiable without a constraint. With the mean subtracted, the advantages average to 0.")
    return wrong(f"v + a gives back Q, but the advantages of each state should average to 0 (yours average to "
                 f"{np.round(a.mean(axis=1), 3).tolist()}): v is the mean of Q over the actions.")
