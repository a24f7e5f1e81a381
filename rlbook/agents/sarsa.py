"""SARSA (Rummery & Niranjan, 1994; Sutton & Barto, section 6.4), taught in chapter 2.

SARSA learns from the quintuple ``(s, a, r, s', a')``: its target uses the action
``a'`` the agent will *actually* take in ``s'`` (epsilon-greedy), not the best one:

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * Q(s', a') * (1 - terminated) - Q(s, a))

So it learns the value of the policy it follows, exploration included (on-policy),
where Q-learning learns the value of the greedy policy (off-policy). Acting, the table,
the config checks and the checkpoints are shared with Q-learning in
:mod:`rlbook.agents.tabular`.
"""

from __future__ import annotations

from rlbook._validate import config
from rlbook.agents.tabular import TabularAgent, TabularConfig

__all__ = ["SarsaConfig", "SarsaAgent"]


@config
class SarsaConfig(TabularConfig):
    """Hyperparameters of SARSA (the same fields as Q-learning's)."""


class SarsaAgent(TabularAgent):
    """Epsilon-greedy SARSA on a ``Discrete`` observation space.

    ``observe`` picks the next action right away (it is part of the target) and ``act``
    then returns that same action, so the action learned from is the action taken.

    Args:
        observation_space: must be ``Discrete``.
        action_space: must be ``Discrete``.
        config: hyperparameters (:class:`SarsaConfig`); keyword arguments override
            single fields, e.g. ``SarsaAgent(obs_sp, act_sp, alpha=0.5)``.
    """

    algorithm = "sarsa"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = SarsaConfig

    def __init__(
        self, observation_space, action_space, config: SarsaConfig | None = None, **overrides
    ):
        super().__init__(observation_space, action_space, config, **overrides)
        self.next_action: tuple | None = None  # (next_obs, a') chosen by the last observe()

    def act(self, obs, greedy: bool = False) -> int:
        """Epsilon-greedy action; during an episode, the ``a'`` its last update used."""
        if not greedy and self.next_action is not None and self.next_action[0] == obs:
            action, self.next_action = self.next_action[1], None
            return action
        return super().act(obs, greedy)

    # fmt: off
    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Learn from one transition, choosing the next action a' on the
        way."""
        self.env_steps += 1
        self.next_action = None
        next_action = None if terminated else super().act(next_obs)
        self.learn(obs, action, reward, next_obs, next_action, terminated)
        # the episode goes on from next_obs with a'
        if not (terminated or truncated):
            self.next_action = (next_obs, next_action)

    def learn(
        self, obs, action, reward, next_obs, next_action, terminated
    ) -> float:
        """One SARSA backup of the table ``self.Q``; returns the TD error.

        ``next_action`` is the action the agent takes in ``next_obs``; it is
        ignored when the episode terminated (no future). A truncated episode
        still bootstraps.
        """
        Q, c = self.Q, self.config
        # target = r + gamma * Q(s', a') with a' the next action taken, and
        # just r when s' is terminal
        target = (
            reward
            if terminated
            else reward + c.gamma * Q[next_obs, next_action]
        )
        td_error = target - Q[obs, action]
        Q[obs, action] += c.alpha * td_error
        return td_error
    # fmt: on
