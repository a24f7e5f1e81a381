"""Exact dynamic programming on a small MDP given as arrays (chapter 2's foundations).

Gymnasium's toy-text environments (FrozenLake, CliffWalking, Taxi) publish their model:
``env.unwrapped.P[s][a]`` is a list of ``(probability, next_state, reward, terminated)``.
:func:`transition_arrays` turns it into NumPy arrays, and the rest are a few lines each:

* :func:`value_iteration` - the optimal action values ``Q*`` (Bellman optimality equation);
* :func:`policy_evaluation` - ``Q^pi`` of a given policy, exactly (Bellman expectation
  equation, solved as a linear system);
* :func:`greedy_policy` - the greedy policy of a table of action values;
* :func:`expected_return` and :func:`success_probability` - what a policy collects
  within a time limit, exactly (what a greedy evaluation estimates by sampling);
* :func:`finite_horizon_optimum` - the best any policy can collect within a time limit,
  when its action may also depend on the time left (backward induction).

Conventions: ``S`` states and ``A`` actions. ``P[s, a, s']`` is the probability of
moving from ``s`` to ``s'`` under ``a`` *without* terminating: a transition that
terminates contributes its reward to ``R`` and nothing to ``P``, so the rows of ``P``
sum to one minus the probability of ending there. That folds the ``(1 - terminated)``
of every target into the arrays.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "TabularMDP",
    "transition_arrays",
    "value_iteration",
    "policy_evaluation",
    "greedy_policy",
    "expected_return",
    "success_probability",
    "finite_horizon_optimum",
]


class TabularMDP(NamedTuple):
    """A finite MDP as arrays (see the module docstring for the conventions)."""

    P: np.ndarray
    """``(S, A, S)``: probability of reaching ``s'`` from ``s`` under ``a`` and going on."""
    R: np.ndarray
    """``(S, A)``: expected immediate reward of ``a`` in ``s``."""
    start: np.ndarray
    """``(S,)``: distribution of the first state."""


def transition_arrays(env) -> TabularMDP:
    """The model of a Gymnasium toy-text environment as a :class:`TabularMDP`.

    Args:
        env: an environment (wrappers allowed) whose ``unwrapped.P[s][a]`` lists
            ``(probability, next_state, reward, terminated)`` tuples.

    Returns:
        ``TabularMDP(P, R, start)``; ``start`` is ``unwrapped.initial_state_distrib``
        when the environment has one, else all mass on state 0.
    """
    base = env.unwrapped
    model = base.P
    n_states = len(model)
    n_actions = len(model[0])
    P = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, next_state, reward, terminated in model[s][a]:
                R[s, a] += prob * reward
                if not terminated:  # the future counts only if the episode goes on
                    P[s, a, next_state] += prob
    start = np.asarray(getattr(base, "initial_state_distrib", np.eye(n_states)[0]), dtype=float)
    return TabularMDP(P, R, start)


# fmt: off
def value_iteration(
    P: np.ndarray,
    R: np.ndarray,
    gamma: float,
    tol: float = 1e-10,
    max_iters: int = 100_000,
) -> np.ndarray:
    """Optimal action values by repeating the Bellman optimality backup until
    it stops moving.

    ``Q_{k+1}(s, a) = R(s, a)
    + gamma * sum_s' P(s' | s, a) * max_a' Q_k(s', a')``,
    starting from ``Q_0 = 0``; for ``gamma < 1`` the backup is a contraction,
    so the iterates converge to ``Q*`` (Bellman, 1957; Sutton & Barto, section
    4.4).

    Args:
        P: ``(S, A, S)`` transition probabilities (terminating transitions
            excluded).
        R: ``(S, A)`` expected rewards.
        gamma: discount factor in [0, 1].
        tol: stop when no entry changes by more than this.
        max_iters: give up (``RuntimeError``) after this many sweeps.

    Returns:
        ``Q*`` of shape ``(S, A)``.
    """
    _check_gamma(gamma)
    Q = np.zeros_like(R, dtype=float)
    for _ in range(max_iters):
        # Q(s, a) <- R(s, a) + gamma * sum_s' P(s' | s, a) * max_a' Q(s', a')
        Q_next = R + gamma * P @ Q.max(axis=1)
        if np.max(np.abs(Q_next - Q)) <= tol:
            return Q_next
        Q = Q_next
    raise RuntimeError(
        f"value iteration did not converge in {max_iters} sweeps "
        f"(gamma={gamma})"
    )
# fmt: on


def policy_evaluation(P: np.ndarray, R: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    """The action values ``Q^pi`` of a policy, exactly, from the Bellman expectation equation.

    ``V = R_pi + gamma * P_pi V`` is a linear system: ``V = (I - gamma P_pi)^-1 R_pi``,
    with ``P_pi(s' | s) = sum_a pi(a | s) P(s' | s, a)`` and ``R_pi(s) = sum_a pi(a | s)
    R(s, a)``; then ``Q^pi(s, a) = R(s, a) + gamma * sum_s' P(s' | s, a) V(s')``.

    Args:
        P: ``(S, A, S)`` transition probabilities (terminating transitions excluded).
        R: ``(S, A)`` expected rewards.
        policy: ``(S,)`` integer actions (deterministic) or ``(S, A)`` probabilities.
        gamma: discount factor in [0, 1) (with 1 the system is singular whenever the
            policy can loop forever).

    Returns:
        ``Q^pi`` of shape ``(S, A)``; ``V^pi(s) = sum_a pi(a | s) Q^pi(s, a)``.
    """
    _check_gamma(gamma)
    pi = _as_probabilities(policy, R.shape)
    P_pi = np.einsum("sa,sat->st", pi, P)
    R_pi = (pi * R).sum(axis=1)
    V = np.linalg.solve(np.eye(len(R)) - gamma * P_pi, R_pi)
    return R + gamma * P @ V


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """``argmax_a Q(s, a)`` for every state, shape ``(S,)`` (ties go to the first action)."""
    return np.asarray(Q).argmax(axis=1)


def expected_return(mdp: TabularMDP, policy: np.ndarray, horizon: int, gamma: float = 1.0) -> float:
    """Exact expected return of ``policy`` from the start distribution within ``horizon`` steps.

    Backward induction over the time left: ``V_0 = 0`` and
    ``V_{k+1} = R_pi + gamma * P_pi V_k``; the answer is ``start . V_horizon``. A time
    limit of ``horizon`` steps (Gymnasium's ``TimeLimit``) cuts every episode there.

    Args:
        mdp: the model (:func:`transition_arrays`).
        policy: ``(S,)`` integer actions or ``(S, A)`` probabilities.
        horizon: the time limit, in steps (>= 1).
        gamma: discount factor (1 for the plain sum of rewards).

    Returns:
        The expected return, a float.
    """
    _check_gamma(gamma)
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    pi = _as_probabilities(policy, mdp.R.shape)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    R_pi = (pi * mdp.R).sum(axis=1)
    V = np.zeros(len(R_pi))
    for _ in range(horizon):
        V = R_pi + gamma * P_pi @ V
    return float(mdp.start @ V)


def success_probability(mdp: TabularMDP, policy: np.ndarray, horizon: int) -> float:
    """Probability that ``policy`` reaches the goal within ``horizon`` steps.

    For tasks whose only reward is 1 on reaching the goal (FrozenLake), the expected
    undiscounted return is exactly the probability of success.
    """
    rewards = np.unique(mdp.R[mdp.R != 0])
    if rewards.size and not np.all((rewards > 0) & (rewards <= 1)):
        raise ValueError(
            "success_probability needs rewards in [0, 1] that mark reaching the goal "
            "(as in FrozenLake); use expected_return for other tasks"
        )
    return expected_return(mdp, policy, horizon, gamma=1.0)


def finite_horizon_optimum(
    mdp: TabularMDP, horizon: int, gamma: float = 1.0
) -> tuple[float, np.ndarray]:
    """The best expected return within ``horizon`` steps, and a policy that reaches it.

    With a time limit the best action can depend on the time left: near the end a
    risky shortcut may beat a safe detour. So the optimum is over *time-indexed*
    policies, by backward induction over the steps left (Puterman, 1994, chapter 4):
    ``V_0 = 0``, ``Q_k(s, a) = R(s, a) + gamma * sum_s' P(s' | s, a) V_{k-1}(s')`` and
    ``V_k(s) = max_a Q_k(s, a)``; the answer is ``start . V_horizon``. No policy, with
    or without the clock, collects more within ``horizon`` steps. (Value iteration's
    stationary policy maximises the *discounted* return of an endless episode instead;
    for FrozenLake, whose only reward is reaching the goal, this function's value is the
    best success rate within the time limit.)

    Args:
        mdp: the model (:func:`transition_arrays`).
        horizon: the time limit, in steps (>= 1).
        gamma: discount factor (1, the default, for the plain sum of rewards).

    Returns:
        ``(value, policy)``: the optimal expected return from the start distribution, and
        ``policy`` of shape ``(horizon, S)``, where ``policy[t, s]`` is the action to take
        in ``s`` after ``t`` steps (``horizon - t`` steps left).
    """
    _check_gamma(gamma)
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    V = np.zeros(len(mdp.R))
    policy = np.zeros((horizon, len(mdp.R)), dtype=int)
    for steps_left in range(1, horizon + 1):
        Q = mdp.R + gamma * mdp.P @ V
        policy[horizon - steps_left] = Q.argmax(axis=1)
        V = Q.max(axis=1)
    return float(mdp.start @ V), policy


def _check_gamma(gamma: float) -> None:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")


def _as_probabilities(policy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A policy as ``(S, A)`` action probabilities (integer actions become one-hot rows)."""
    policy = np.asarray(policy)
    n_states, n_actions = shape
    if policy.shape == (n_states,):
        return np.eye(n_actions)[policy.astype(int)]
    if policy.shape == (n_states, n_actions):
        return policy.astype(float)
    raise ValueError(
        f"policy must have shape ({n_states},) or ({n_states}, {n_actions}), got {policy.shape}"
    )
