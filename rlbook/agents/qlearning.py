"""Tabular Q-learning (Watkins & Dayan, 1992), taught in chapter 2.

After every transition ``(s, a, r, s')`` the table moves towards the Bellman target
of the *best* next action, whatever action the agent takes next (off-policy):

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') * (1 - terminated) - Q(s, a))

Acting (epsilon-greedy with random tie-breaking), the table, the config checks and the
checkpoints are shared with SARSA in :mod:`rlbook.agents.tabular`.
"""

from __future__ import annotations

from rlbook._validate import config
from rlbook.agents.tabular import TabularAgent, TabularConfig

__all__ = ["QLearningConfig", "QLearningAgent"]


@config
class QLearningConfig(TabularConfig):
    """Hyperparameters of tabular Q-learning.

    The defaults solve FrozenLake-v1 (4x4, slippery) in 60,000 steps.
    """


class QLearningAgent(TabularAgent):
    """Epsilon-greedy tabular Q-learning on a ``Discrete`` observation space.

    Args:
        observation_space: must be ``Discrete``; wrap a ``Box`` environment in
            :class:`rlbook.envs.DiscretizedObservationWrapper` first.
        action_space: must be ``Discrete``.
        config: hyperparameters (:class:`QLearningConfig`); keyword arguments
            override single fields, e.g. ``QLearningAgent(obs_sp, act_sp, gamma=0.9)``.
    """

    algorithm = "qlearning"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = QLearningConfig

    # fmt: off
    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Learn from one transition; ``truncated`` is accepted and
        deliberately unused."""
        self.learn(obs, action, reward, next_obs, terminated)
        self.env_steps += 1

    def learn(self, obs, action, reward, next_obs, terminated) -> float:
        """One Q-learning backup of the table ``self.Q``; returns the TD error.

        Bootstrapping stops only when the episode *terminated* (a real end such
        as falling into a hole): after a time-limit *truncation* the next state
        still has a future, so its value is kept in the target.
        """
        Q, c = self.Q, self.config
        # target = r + gamma * max_a' Q(s', a'), and just r when s' is terminal
        target = (
            reward
            if terminated
            else reward + c.gamma * max(Q[next_obs, a] for a in self.actions)
        )
        td_error = target - Q[obs, action]
        Q[obs, action] += c.alpha * td_error
        return td_error
    # fmt: on
