"""Measurements of what an agent believes against what actually happens (chapters 4-5).

:func:`q_versus_returns` plays greedy episodes and records, at every step, the
agent's predicted ``Q(s_t, a_t)`` of the action it took and the discounted return
``G_t`` that followed. For a greedy agent, ``Q(s_t, a_t)`` is an estimate of exactly
that expected return, so ``mean(Q - G)`` > 0 measures *overestimation* (chapter 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlbook._validate import positive, unit_interval

__all__ = ["QVersusReturns", "q_versus_returns"]


@dataclass(frozen=True)
class QVersusReturns:
    """Per-step records of greedy episodes, concatenated over episodes (all shape ``(N,)``)."""

    q: np.ndarray
    """The agent's prediction ``Q(s_t, a_t)`` for the action it took."""
    returns: np.ndarray
    """The discounted return ``G_t = r_t + gamma r_{t+1} + ...`` realised from step ``t`` to the
    episode's end."""
    step: np.ndarray
    """``t``, the step's index inside its episode."""
    episode: np.ndarray
    """Which episode the step belongs to (0, 1, ...)."""
    steps_left: np.ndarray
    """Steps from ``t`` to the episode's end, ``t`` included (1 on the last step)."""
    truncated: np.ndarray
    """True where the step's episode was cut by a time limit rather than terminated.

    Such an episode's return is cut short: the last steps of it underestimate the
    return the agent would have collected. :meth:`reliable` drops them."""

    def reliable(self, gamma: float, max_reward: float, tol: float = 1.0) -> np.ndarray:
        """Boolean mask of the steps whose realised return is within ``tol`` of the uncut one.

        After a truncation at most ``gamma^k * max_reward / (1 - gamma)`` is missing from
        a return ``k = steps_left`` steps before the cut; steps of terminated episodes
        miss nothing.
        """
        if gamma >= 1.0:
            return ~self.truncated
        missing = gamma**self.steps_left * max_reward / (1.0 - gamma)
        return ~self.truncated | (missing <= tol)


# fmt: off
def q_versus_returns(
    agent, env, gamma: float, episodes: int = 1
) -> QVersusReturns:
    """Play ``episodes`` greedy episodes and record predicted Q and realised
    discounted returns.

    The agent acts greedily on its own Q-values (``argmax_a Q(s, a)``), so this
    works for any feed-forward agent with a ``q_values(obs_batch) -> (B, A)``
    method (not the recurrent DQN, whose Q-values depend on earlier
    observations).

    Use an environment with a longer time limit than the one trained on (for
    example ``gym.make("CartPole-v1", max_episode_steps=2000)``) when the agent
    reaches the limit: a DQN that bootstraps through truncations estimates the
    return of an episode that goes on, which a cut episode cannot show.

    Args:
        agent: has ``q_values``; e.g. :class:`rlbook.agents.dqn.DQNAgent`.
        env: a single ``gymnasium.Env`` (not a vector env), seeded by the
            caller.
        gamma: the discount factor the agent was trained with, in [0, 1].
        episodes: how many episodes to play.

    Returns:
        A :class:`QVersusReturns` with one entry per step.
    """
    from rlbook.losses import discounted_returns

    unit_interval("gamma", gamma)
    positive("episodes", episodes, integer=True)
    cols: dict[str, list[np.ndarray]] = {
        k: []
        for k in ("q", "returns", "step", "episode", "steps_left", "truncated")
    }
    for ep in range(episodes):
        obs, _ = env.reset()
        qs, rewards = [], []
        terminated = truncated = False
        while not (terminated or truncated):
            q = np.asarray(agent.q_values(np.asarray(obs)[None]))[0]
            action = int(q.argmax())
            obs, reward, terminated, truncated, _ = env.step(action)
            qs.append(q[action])  # the prediction for the action taken
            rewards.append(float(reward))
        n = len(rewards)
        done = np.zeros(n)
        # the return stops at the episode's end (cut short if truncated)
        done[-1] = 1.0
        cols["q"].append(np.asarray(qs, np.float64))
        cols["returns"].append(
            discounted_returns(rewards, done, gamma).astype(np.float64)
        )
        cols["step"].append(np.arange(n))
        cols["episode"].append(np.full(n, ep))
        cols["steps_left"].append(np.arange(n, 0, -1))
        cols["truncated"].append(
            np.full(n, bool(truncated) and not terminated)
        )
    return QVersusReturns(**{k: np.concatenate(v) for k, v in cols.items()})
# fmt: on
