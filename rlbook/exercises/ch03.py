"""Checks for the exercises of chapter 3 (DQN)."""

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

__all__ = ["check_td_target", "check_soft_update"]


def td_batch(rng: np.random.Generator, batch: int, n_actions: int, terminal: str = "mixed"):
    """A random batch of transitions: rewards (B,), next Q-values (B, A), terminated flags (B,).

    ``terminal`` is "mixed" (at least one of each when B > 1), "all" or "none".
    """
    reward = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
    next_q = np.round(rng.normal(2.0, 2.0, size=(batch, n_actions)), 2).astype(np.float32)
    if terminal == "all":
        terminated = np.ones(batch, np.float32)
    elif terminal == "none":
        terminated = np.zeros(batch, np.float32)
    else:  # about a third terminal, at least one of each when B > 1
        terminated = np.zeros(batch, np.float32)
        terminated[rng.permutation(batch)[: max(1, batch // 3)]] = 1.0
    return reward, next_q, terminated


def _flags_hint(err, line: str) -> str | None:
    if "truth value" in str(err) and "ambiguous" in str(err):
        return (
            "`terminated` is an array, one flag per transition: `if` and `not` do not work on it. "
            "Multiply instead: (1 - terminated)."
        )
    return None


@check
def check_td_target(td_target) -> Verdict:
    """Check ``td_target(reward, next_q_target, terminated, gamma) -> (B,)`` (NumPy or TF).

    Cases (random on every call): a mixed batch, a batch of one, an all-terminal batch, a batch
    with no terminal, and gamma in {0.5, 0.9, 0.99}.
    """
    name = name_of(td_target)
    rng = fresh_rng()
    n_actions = int(rng.integers(2, 5))
    cases = [
        (int(rng.integers(5, 9)), "mixed", float(rng.choice([0.9, 0.99]))),
        (1, "none", 0.9),
        (int(rng.integers(3, 6)), "all", 0.99),
        (int(rng.integers(3, 6)), "mixed", 0.5),
    ]
    for batch, terminal, gamma in cases:
        reward, next_q, terminated = td_batch(rng, batch, n_actions, terminal)
        before = snapshot(reward, next_q, terminated)
        args = snapshot(reward, next_q, terminated)
        got = call_student(
            td_target,
            *args,
            gamma,
            name=name,
            hint=_flags_hint,
            signature="(reward, next_q_target, terminated, gamma)",
        )
        assert_unchanged(name, before, args, ["reward", "next_q_target", "terminated"])
        got = to_array(got, name, f"one target per transition, shape ({batch},)")
        r, q, t = (x.astype(np.float64) for x in (reward, next_q, terminated))
        want = r + gamma * (1 - t) * q.max(axis=1)
        case = f"(rewards {fmt(r)}, next Q-values {fmt(q)}, terminated {fmt(t, 0)}, gamma {gamma})"
        if got.shape != want.shape:
            if got.shape == (batch, 1) or got.shape == (1, batch):
                return wrong(
                    f"{name} returned shape {got.shape}; one target per transition has shape "
                    f"({batch},). Take the max over the action axis without keepdims."
                )
            if got.shape == (n_actions,) or got.size == 1:
                return wrong(
                    f"{name} returned shape {got.shape}, not ({batch},): take the max per "
                    "transition, "
                    "over the action axis (axis=-1), not over the batch."
                )
            return wrong(
                f"expected one target per transition, shape ({batch},), got shape {got.shape}. "
                "Take "
                "the max over the action axis (axis=-1)."
            )
        if close(got, want):
            continue
        message = diagnose(
            got,
            [
                (
                    r + gamma * q.max(axis=1),
                    "the terminated transitions still bootstrap: their target is just "
                    "the reward. Multiply the bootstrap term by (1 - terminated).",
                ),
                (
                    r + gamma * t * q.max(axis=1),
                    "the flag is the wrong way round: bootstrap when the episode "
                    "goes on, (1 - terminated), not terminated.",
                ),
                (
                    r + gamma * (1 - t) * q.mean(axis=1),
                    "you averaged the next Q-values; Q-learning bootstraps "
                    "from the best next action: max over a'.",
                ),
                (
                    r + gamma * (1 - t) * q.argmax(axis=1),
                    "you used the index of the best next action (argmax); "
                    "the target needs its value, max over a'.",
                ),
                (
                    r + gamma * (1 - t) * q.min(axis=1),
                    "you took the min over the next actions; use the max.",
                ),
                (
                    r + gamma * (1 - t) * q.max(),
                    "you took one max over the whole batch; take it per transition, "
                    "over the action axis (axis=-1).",
                ),
                (
                    gamma * (r + (1 - t) * q.max(axis=1)),
                    "the reward is not discounted: it arrives now. Only the "
                    "next state's value is multiplied by gamma.",
                ),
                (
                    r + (1 - t) * q.max(axis=1),
                    "the next state's value must be discounted: multiply it by gamma.",
                ),
                (
                    r - gamma * (1 - t) * q.max(axis=1),
                    "the sign of the bootstrap term is flipped: "
                    "y = r + gamma * (1 - terminated) * max_a' Q(s', a').",
                ),
                (
                    r + gamma * (1 - t) * q.sum(axis=1),
                    "you summed the next Q-values; take the max over a'.",
                ),
            ],
        )
        return wrong(f"{message or 'expected ' + fmt(want) + ', got ' + fmt(got) + '.'} {case}")
    return correct(
        f"{name}: y = r + gamma * (1 - terminated) * max_a' Q_target(s', a'), one value per "
        "transition, for every batch the check tried."
    )


def _weights(rng: np.random.Generator):
    shapes = [
        (int(rng.integers(2, 5)), int(rng.integers(2, 4))),
        (int(rng.integers(2, 4)),),
        (3, 1),
    ]
    return [rng.normal(size=s) for s in shapes[: int(rng.integers(2, 4))]]


@check
def check_soft_update(soft_update) -> Verdict:
    """Check ``soft_update(target_weights, online_weights, tau) -> new target weights``.

    The weights are lists of arrays, as ``model.get_weights()`` returns them.

    Cases (random weights on every call): a random small tau, tau = 1 (the hard copy), tau = 0
    (no change) and a second random tau. An answer that updates the target list in place *and*
    returns it is accepted; one that changes the online weights is not.
    """
    name = name_of(soft_update)
    rng = fresh_rng()
    small = float(np.round(rng.uniform(0.01, 0.2), 3))
    taus = [small, 1.0, 0.0, float(np.round(rng.uniform(0.3, 0.7), 3))]
    results = []
    for tau in taus:
        target = _weights(rng)
        online = [rng.normal(size=w.shape) for w in target]
        want = [tau * o + (1 - tau) * t for t, o in zip(target, online)]
        target_in, online_in = snapshot(target, online)
        out = call_student(
            soft_update,
            target_in,
            online_in,
            tau,
            name=name,
            signature="soft_update(target_weights, online_weights, tau)",
        )
        assert_unchanged(name, [online], [online_in], ["online_weights"])
        if out is None:
            in_place = all(close(a, w) for a, w in zip(target_in, want))
            return wrong(
                f"{name} returned None{' (it updated the list in place)' if in_place else ''}: "
                "return the list of new target weights."
            )
        if not isinstance(out, (list, tuple)):
            return wrong(
                f"{name} returned a {type(out).__name__}; return a list with one array per "
                "weight, like model.get_weights()."
            )
        if len(out) != len(target):
            return wrong(
                f"{name} returned {len(out)} arrays for {len(target)} weights; return one new "
                "array "
                "per weight (loop over zip(target_weights, online_weights))."
            )
        got = [
            to_array(o, name, "one array per weight", shape=t.shape) for o, t in zip(out, target)
        ]
        results.append(got)
        if all(close(g, w) for g, w in zip(got, want)):
            continue
        if all(close(g, (1 - tau) * o + tau * t) for g, t, o in zip(got, target, online)):
            return wrong(
                f"tau and 1 - tau are swapped (tau = {tau}): the target should move only a "
                "fraction "
                "tau towards the online weights, tau * online + (1 - tau) * target."
            )
        if all(close(g, o) for g, o in zip(got, online)):
            return wrong(
                f"with tau = {tau} that is a hard copy of the online weights; a soft update moves "
                "the "
                "target a fraction tau of the way: tau * online + (1 - tau) * target."
            )
        if all(close(g, t) for g, t in zip(got, target)):
            return wrong(
                f"with tau = {tau} the target weights did not change; move them a fraction tau "
                "towards the online weights."
            )
        for c in (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
            if all(close(g, c * o + (1 - c) * t) for g, t, o in zip(got, target, online)):
                return wrong(
                    f"you used tau = {c}, not the `tau` argument ({tau}): use the parameter."
                )
        return wrong(
            f"with tau = {tau} the new target weights should be tau * online + (1 - tau) * target, "
            "element by element."
        )
    return correct(
        f"{name}: target <- tau * online + (1 - tau) * target, for every tau; with tau = 1 it is "
        "the hard copy, with tau = 0 no change."
    )
