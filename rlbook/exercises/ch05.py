"""Checks for the exercises of chapter 5 (dueling DQN)."""

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
    wrong,
)

__all__ = ["check_dueling_combine", "check_split_q"]

_KEEPDIMS = (
    "the mean over actions needs keepdims=True: advantage.mean(axis=-1, keepdims=True) has "
    "shape (B, 1) and subtracts each state's own mean from its row. Without it the means, shape "
    "(B,), are lined up with the actions instead"
)


def _broadcast_hint(err, line: str) -> str | None:
    if "broadcast" in str(err) or "Incompatible shapes" in str(err):
        if "mean" in line:
            return _KEEPDIMS + "."
        return "value has shape (B, 1) so that it broadcasts over the actions: keep it that way."
    return None


@check
def check_dueling_combine(dueling_combine) -> Verdict:
    """Check ``dueling_combine(value (B, 1), advantage (B, A)) -> Q (B, A)`` (NumPy or TF).

    Cases (random on every call): a square batch (B = A, where a mean over the wrong axis or
    without keepdims still has the right shape), a batch with B != A, and a batch of one.
    """
    name = name_of(dueling_combine)
    rng = fresh_rng()
    n_actions = int(rng.integers(3, 6))
    for batch in (n_actions, n_actions + int(rng.integers(1, 4)), 1):
        value = np.round(rng.normal(0.0, 5.0, size=(batch, 1)), 2).astype(np.float32)
        advantage = np.round(rng.normal(0.0, 3.0, size=(batch, n_actions)), 2).astype(np.float32)
        given = snapshot(value, advantage)
        got = call_student(
            dueling_combine,
            *given,
            name=name,
            hint=_broadcast_hint,
            signature="dueling_combine(value, advantage)",
        )
        assert_unchanged(name, [value, advantage], given, ["value", "advantage"])
        got = to_array(got, name, f"the Q-values, shape ({batch}, {n_actions})")
        v, a = value.astype(np.float64), advantage.astype(np.float64)
        want = v + a - a.mean(axis=1, keepdims=True)
        case = f"(value {fmt(v[:, 0])} of shape {value.shape}, advantage {fmt(a)})"
        if got.shape != want.shape:
            if got.shape == (batch,) or got.shape == (batch, 1):
                return wrong(
                    f"{name} returned shape {got.shape}; return one Q-value per state and action, "
                    f"shape ({batch}, {n_actions}): do not reduce over the actions."
                )
            return wrong(
                f"expected Q-values of shape {want.shape} (one per state and action), got shape "
                f"{got.shape}. value has shape (B, 1) so that it broadcasts over the actions; keep "
                "keepdims=True on the mean."
            )
        if close(got, want):
            continue
        message = diagnose(
            got,
            [
                (v + a - a.mean(axis=1)[None, :], _KEEPDIMS + "."),
                (
                    v[:, 0][None, :] + a - a.mean(axis=1, keepdims=True),
                    "value has shape (B, 1) so that it broadcasts over the actions: keep it that "
                    "way (value[:, 0] "
                    "lines up the values with the actions).",
                ),
                (
                    v + a,
                    "you returned V + A. Without subtracting the mean advantage, V and A are not "
                    "identifiable: V + c and A - c give the same Q for any c. Subtract each "
                    "state's mean "
                    "advantage.",
                ),
                (
                    v + a - a.max(axis=1, keepdims=True),
                    "you subtracted the max advantage, the other aggregation of "
                    "Wang et al. (2016); this book (like the paper's experiments) "
                    "subtracts the mean, which changes more smoothly.",
                ),
                (
                    v + a - a.mean(axis=0, keepdims=True),
                    "you averaged the advantages over the batch (axis 0). Each "
                    "state has its own mean: average over the actions, axis=-1, "
                    "with keepdims=True.",
                ),
                (
                    v + a - a.mean(),
                    "you subtracted one mean over the whole batch; subtract each state's own mean "
                    "over its actions (axis=-1, keepdims=True).",
                ),
                (
                    v - a + a.mean(axis=1, keepdims=True),
                    "the advantage has the wrong sign: Q = V + A - mean_a A.",
                ),
                (v + a - a.sum(axis=1, keepdims=True), "subtract the mean advantage, not the sum."),
            ],
        )
        return wrong(f"{message or 'expected Q = ' + fmt(want) + ', got ' + fmt(got) + '.'} {case}")
    return correct(
        f"{name}: Q = V + A - mean_a A, each state's advantages centred on its own mean, so V(s) "
        "is "
        "the mean of Q(s, .)."
    )


def _split_hint(err, line: str) -> str | None:
    if "broadcast" in str(err) or "Incompatible shapes" in str(err):
        return (
            "v has shape (B,): to subtract it from every action of its row, use v[:, None] "
            "(shape (B, 1))."
        )
    return None


@check
def check_split_q(split_q) -> Verdict:
    """Check ``split_q(q (B, A)) -> (v (B,), a (B, A))``, the split a mean-centred head represents.

    Cases (random on every call): a square batch (B = A), a batch with B != A, a batch of one.
    A ``v`` of shape ``(B, 1)`` is accepted.
    """
    name = name_of(split_q)
    rng = fresh_rng()
    n_actions = int(rng.integers(3, 6))
    for batch in (n_actions, n_actions + int(rng.integers(1, 4)), 1):
        q = np.round(rng.normal(0.0, 4.0, size=(batch, n_actions)), 2)
        given = q.copy()
        result = call_student(split_q, given, name=name, hint=_split_hint, signature="split_q(q)")
        assert_unchanged(name, [q], [given], ["q"])
        if result is None:
            return wrong(f"{name} returned None: return a pair (v, a).")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return wrong(f"{name} should return a pair (v, a): v of shape (B,), a of shape (B, A).")
        v = to_array(result[0], name, "v, shape (B,)")
        a = to_array(result[1], name, "a, shape (B, A)")
        if v.shape == q.shape and a.shape in ((batch,), (batch, 1)):
            return wrong(f"{name} returned (a, v); return them in the order (v, a).")
        if v.shape == (batch, 1):
            v = v[:, 0]
        if v.shape != (batch,) or a.shape != q.shape:
            return wrong(
                f"expected v of shape ({batch},) and a of shape {q.shape}, got {v.shape} and "
                f"{a.shape}."
            )
        case = f"(q = {fmt(q)})"
        if not close(v[:, None] + a, q):
            if close(v[None, :] + a, q) and batch == n_actions:
                return wrong(
                    f"v + a does not give back Q: you subtracted v along the actions. Use "
                    f"q - v[:, None]. {case}"
                )
            return wrong(
                f"v + a must give back Q for every action: a(s, a) = Q(s, a) - v(s). {case}"
            )
        if close(v, q.mean(axis=1)):
            continue
        message = diagnose(
            v,
            [
                (
                    q.max(axis=1),
                    "v = max_a Q is the split of a head that subtracts the *max* advantage (then "
                    "the "
                    "best action's advantage is 0). The head of this chapter subtracts the mean, "
                    "so the "
                    "advantages must average to 0.",
                ),
                (
                    np.zeros(batch),
                    "v = 0 and a = Q gives back Q, but so does v = c and a = Q - c for any c: that "
                    "is "
                    "exactly why V and A are unidentifiable without a constraint. With the mean "
                    "subtracted, the advantages average to 0.",
                ),
                (
                    q.mean(axis=0)[:batch] if batch <= n_actions else None,
                    "average over the actions of each state (axis=1), not over the batch.",
                ),
            ],
        )
        return wrong(
            message + f" {case}"
            if message
            else "v + a gives back Q, but the advantages of each state should average to 0 (yours "
            "average "
            f"to {fmt(a.mean(axis=1))}): v is the mean of Q over the actions. {case}"
        )
    return correct(
        f"{name}: v is the mean of Q over the actions and a = Q - v, whose mean is 0. Any other "
        "split would also give back Q from V + A; the mean-centring fixes this one."
    )
