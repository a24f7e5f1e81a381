"""Checks for the exercises of chapter 2 (tabular Q-learning)."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_q_update", "check_encode"]


def _reference_update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
    max_q_next = 0.0 if terminated else max(Q[next_obs, a] for a in actions)
    Q[obs, action] += alpha * (reward + gamma * max_q_next - Q[obs, action])


# (description, obs, action, reward, next_obs, terminated, truncated)
_CASES = [
    ("an ordinary step", 0, 0, 1.0, 2, False, False),
    ("a step that terminates the episode", 2, 0, 1.0, 3, True, False),
    ("a step cut short by the time limit (truncated, not terminated)", 2, 1, 0.5, 3, False, True),
]


def _fresh_table():
    Q = defaultdict(float)
    Q[0, 0], Q[0, 1] = 0.5, -1.0
    Q[2, 0], Q[2, 1] = 2.0, 4.0
    Q[3, 0], Q[3, 1] = 10.0, 6.0  # the next state's best action is 0 (value 10)
    return Q


@check
def check_q_update(update) -> Verdict:
    """Check ``update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions)``.

    It must change ``Q[obs, action]`` in place by the Q-learning rule, bootstrapping from
    ``max_a' Q[next_obs, a']`` unless the episode *terminated*.
    """
    alpha, gamma, actions = 0.5, 0.9, [0, 1]
    for what, obs, action, reward, next_obs, terminated, truncated in _CASES:
        expected, got = _fresh_table(), _fresh_table()
        _reference_update(expected, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions)
        call_student(update, got, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions,
                     what="your update")
        want, have = expected[obs, action], got[obs, action]
        if np.isclose(have, want):
            others = {k: v for k, v in got.items() if k != (obs, action)}
            if any(not np.isclose(v, expected[k]) for k, v in others.items()):
                return wrong(f"for {what}, Q[obs, action] is right but other entries of Q changed: update only Q[obs, action].")
            continue
        fresh = _fresh_table()
        old = fresh[obs, action]
        max_next = max(fresh[next_obs, a] for a in actions)
        if np.isclose(have, old):
            return wrong(f"for {what}, Q[obs, action] did not change (still {old}). Update the table in place: "
                         "Q[obs, action] += alpha * (target - Q[obs, action]).")
        if what.startswith("a step cut short") and np.isclose(have, old + alpha * (reward - old)):
            return wrong(f"for {what} you dropped the bootstrap term. Only `terminated` means the future is worth 0; "
                         "after a truncation the next state still has a value, so keep gamma * max_a' Q(next_obs, a').")
        if what.startswith("a step that terminates") and np.isclose(have, old + alpha * (reward + gamma * max_next - old)):
            return wrong(f"for {what} you still bootstrapped from the next state. When `terminated` is True the "
                         "target is just the reward.")
        target = reward + (0.0 if terminated else gamma * max_next)
        if np.isclose(have, target):
            return wrong(f"for {what} you set Q[obs, action] to the target ({target}); move it only a fraction alpha "
                         "of the way: Q += alpha * (target - Q).")
        if not terminated and np.isclose(have, old + alpha * (reward + gamma * fresh[next_obs, action] - old)):
            return wrong(f"for {what} you bootstrapped from Q(next_obs, action) (the action just taken). Q-learning uses "
                         "the best next action: max over a' of Q(next_obs, a').")
        return wrong(f"for {what} expected Q[obs, action] = {want:.4f}, got {have:.4f}. Target: reward + gamma * "
                     "max_a' Q(next_obs, a') (without the max term if terminated); step size alpha.")
    return correct("your update matches the Q-learning rule, stops bootstrapping only on `terminated`, "
                   "and keeps the next state's value after a truncation.")


@check
def check_encode(encode) -> Verdict:
    """Check ``encode(bins, n_bins)``: bin indices (each in ``0 .. n_bins - 1``) -> one integer.

    Any encoding is accepted that gives every tuple of bins its own code in
    ``0 .. n_bins ** d - 1`` (the size the wrapper declares).
    """
    for n_bins, dims in ((3, 2), (4, 3), (2, 4)):
        seen: dict[int, tuple] = {}
        for bins in itertools.product(range(n_bins), repeat=dims):
            code = call_student(encode, list(bins), n_bins, what="your encode")
            if isinstance(code, (np.integer,)):
                code = int(code)
            if not isinstance(code, int) or isinstance(code, bool):
                return wrong(f"encode({list(bins)}, {n_bins}) returned {code!r} ({type(code).__name__}); return one int.")
            if not 0 <= code < n_bins**dims:
                return wrong(
                    f"encode({list(bins)}, n_bins={n_bins}) = {code}, outside 0 .. {n_bins**dims - 1}: the wrapper declares "
                    f"Discrete(n_bins ** d) = Discrete({n_bins**dims}). Base n_bins + 1 (the original's bug) overshoots; "
                    "use base n_bins."
                )
            if code in seen:
                return wrong(
                    f"bins {list(seen[code])} and {list(bins)} (n_bins={n_bins}) both encode to {code}: two different "
                    "states would share one row of the Q-table. Read the bins as the digits of a number in base n_bins."
                )
            seen[code] = bins
    return correct("every tuple of bins gets its own code, and the codes fill exactly 0 .. n_bins ** d - 1.")
