"""Checks for the exercises of chapter 5 (dueling DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises import _core
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of

# fmt: off
__all__ = ["check_dueling_combine", "check_split_q"]

_KEEPDIMS = ("the mean over actions needs keepdims=True: "
             "advantage.mean(axis=-1, keepdims=True) has shape (B, 1) and subtracts each state's "
             "own mean from its row. Without it the means, shape (B,), "
             "are lined up with the actions instead")


def _broadcast_hint(err, line: str) -> str | None:
    if "broadcast" in str(err) or "Incompatible shapes" in str(err):
        if "mean" in line:
            return _KEEPDIMS + "."
        return "value has shape (B, 1) so that it broadcasts over the actions: keep it that way."
    return None


def _action_counts(rng):  # three numbers of actions (a count of one's own fits one case)
    counts = [int(n) for n in rng.permutation(np.arange(3, 7))[:3]]
    return zip(counts, (counts[0], counts[1] + int(rng.integers(1, 4)), 1))  # B = A, B > A, 1


_COUNT = ("you divided the sum by a count of your own, or by len(...), the batch size: use each "
          "state's mean over its actions, {} (the check tries several numbers of actions).")


def _combine_cases(rng):
    for n_actions, batch in _action_counts(rng):
        value = np.round(rng.normal(0.0, 5.0, size=(batch, 1)), 2).astype(np.float32)
        advantage = np.round(rng.normal(0.0, 3.0, size=(batch, n_actions)), 2).astype(np.float32)
        v, a = value.astype(np.float64), advantage.astype(np.float64)
        text = f"(value {fmt(v[:, 0])} of shape {value.shape}, advantage {fmt(a)})"
        what = f"the Q-values, shape ({batch}, {n_actions})"
        yield Case((value, advantage), ("value", "advantage"), text, what=what, v=v, a=a)


_COMBINE_MISTAKES = [
    (_KEEPDIMS + ".", lambda c: c.v + c.a - c.a.mean(axis=1)[None, :]),
    ("value has shape (B, 1) so that it broadcasts over the actions: "
     "keep it that way (value[:, 0] lines up the values with the actions).",
     lambda c: c.v[:, 0][None, :] + c.a - c.a.mean(axis=1, keepdims=True)),
    ("you returned V + A. Without subtracting the mean advantage, V and A are not identifiable: "
     "V + c and A - c give the same Q for any c. Subtract each state's mean advantage.",
     lambda c: c.v + c.a),
    ("you subtracted the max advantage, the other aggregation of Wang et al. (2016); "
     "this book (like the paper's experiments) subtracts the mean, which changes more smoothly.",
     lambda c: c.v + c.a - c.a.max(axis=1, keepdims=True)),
    ("you averaged the advantages over the batch (axis 0). Each state has its own mean: "
     "average over the actions, axis=-1, with keepdims=True.",
     lambda c: c.v + c.a - c.a.mean(axis=0, keepdims=True)),
    ("you subtracted one mean over the whole batch; "
     "subtract each state's own mean over its actions (axis=-1, keepdims=True).",
     lambda c: c.v + c.a - c.a.mean()),
    ("the advantage has the wrong sign: Q = V + A - mean_a A.",
     lambda c: c.v - c.a + c.a.mean(axis=1, keepdims=True)),
    ("subtract the mean advantage, not the sum.",
     lambda c: c.v + c.a - c.a.sum(axis=1, keepdims=True)),
    ("V is missing: your Q-values average to 0 in every state. Q = V + A - mean_a A: "
     "subtract the mean of the advantages only, then add the value.",
     lambda c: c.a - c.a.mean(axis=1, keepdims=True)),
    _core.Mistake(_COUNT.format("advantage.mean(axis=-1, keepdims=True)"), test=lambda c, got: any(
        _core.close(got, c.v + c.a - c.a.sum(axis=1, keepdims=True) / k) for k in range(2, 10))),
    _core.shape_mistake(lambda c: f"one Q-value per state and action has shape {c.a.shape}: "
                                  "do not reduce over the actions.",
                        lambda c, shape: shape in ((len(c.a),), (len(c.a), 1))),
]


def _explain_combine(got, want, c) -> str:
    if np.shape(got) != want.shape:
        return (f"expected Q-values of shape {want.shape} (one per state and action), "
                f"got shape {np.shape(got)}. "
                "value has shape (B, 1) so that it broadcasts over the actions; "
                "keep keepdims=True on the mean.")
    return (f"expected Q = {fmt(want)}, got {fmt(got)}: Q = V + A - mean_a A, each state's "
            "advantages minus their own mean, plus the state's value.")


@check
def check_dueling_combine(dueling_combine) -> Verdict:
    """Check ``dueling_combine(value (B, 1), advantage (B, A)) -> Q (B, A)`` (NumPy or TF) on a
    square batch (B = A: a mean over the wrong axis still has the right shape), B != A, B = 1."""
    return grade(
        dueling_combine, _combine_cases(fresh_rng()),
        lambda c: c.v + c.a - c.a.mean(axis=1, keepdims=True), _COMBINE_MISTAKES,
        signature="dueling_combine(value, advantage)", hint=_broadcast_hint,
        explain=_explain_combine,
        done=(f"{name_of(dueling_combine)}: Q = V + A - mean_a A, "
              "each state's advantages centred on its own mean, so V(s) is the mean of Q(s, .)."))


def _split_cases(rng):
    for n_actions, batch in _action_counts(rng):
        q = np.round(rng.normal(0.0, 4.0, size=(batch, n_actions)), 2)
        yield Case((q,), ("q",), f"(q = {fmt(q)})", q=q)


def _read_split(result, c, name):
    if result is None:
        fail(f"{name} returned None: return a pair (v, a).")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{name} should return a pair (v, a): v of shape (B,), a of shape (B, A).")
    v, c.a = (_core.to_array(x, name, f"{w}, shape {s}")
              for x, w, s in zip(result, "va", ("(B,)", "(B, A)")))
    batch = len(c.q)
    if v.shape == ():
        fail(f"{name} returned one v for the whole batch: v has one value per state, shape "
             f"({batch},), the mean of Q over that state's actions, q.mean(axis=1).")
    if v.shape == c.q.shape and c.a.shape in ((batch,), (batch, 1)):
        fail(f"{name} returned (a, v); return them in the order (v, a).")
    v = v[:, 0] if v.shape == (batch, 1) else v
    if v.shape != (batch,) or c.a.shape != c.q.shape:
        fail(f"expected v of shape ({batch},) and a of shape {c.q.shape}, "
             f"got {v.shape} and {c.a.shape}.")
    if not _core.close(v[:, None] + c.a, c.q):
        if _core.close(v[None, :] + c.a, c.q) and batch == c.q.shape[1]:
            fail("v + a does not give back Q: you subtracted v along the actions. "
                 f"Use q - v[:, None]. {c.text}")
        fail(f"v + a must give back Q for every action: a(s, a) = Q(s, a) - v(s). {c.text}")
    return v


_SPLIT_MISTAKES = [
    ("v = max_a Q is the split of a head that subtracts the *max* advantage (then the best "
     "action's advantage is 0). The head of this chapter subtracts the mean, "
     "so the advantages must average to 0.", lambda c: c.q.max(axis=1)),
    ("v = 0 and a = Q gives back Q, but so does v = c and a = Q - c for any c: "
     "that is exactly why V and A are unidentifiable without a constraint. "
     "With the mean subtracted, the advantages average to 0.", lambda c: np.zeros(len(c.q))),
    ("average over the actions of each state (axis=1), not over the batch.",
     lambda c: c.q.mean(axis=0)[: len(c.q)] if len(c.q) <= c.q.shape[1] else None),
    _core.Mistake(_COUNT.format("q.mean(axis=1)"), test=lambda c, got: any(
        _core.close(got, c.q.sum(axis=1) / k) for k in range(2, 10))),
]


@check
def check_split_q(split_q) -> Verdict:
    """Check ``split_q(q (B, A)) -> (v (B,), a (B, A))``, the split a mean-centred head
    represents (a ``v`` of shape ``(B, 1)`` is accepted), on B = A, B != A and B = 1."""
    return grade(
        split_q, _split_cases(fresh_rng()), lambda c: c.q.mean(axis=1), _SPLIT_MISTAKES,
        read=_read_split, signature="split_q(q)",
        hint=lambda err, line: ("v has shape (B,): to subtract it from every action of its row, "
                                "use v[:, None] (shape (B, 1))."
                                if "broadcast" in str(err) or "Incompatible" in str(err) else None),
        explain=lambda got, want, c: ("v + a gives back Q, "
                                      "but the advantages of each state should average to 0 "
                                      f"(yours average to {fmt(c.a.mean(axis=1))}): "
                                      "v is the mean of Q over the actions."),
        done=(f"{name_of(split_q)}: v is the mean of Q over the actions and a = Q - v, "
              "whose mean is 0. Any other split would also give back Q from V + A; "
              "the mean-centring fixes this one."))
