"""Tabular Q-learning (Watkins & Dayan, 1992), taught in chapter 2.

The Q-table is a ``defaultdict(float)`` keyed by ``(state, action)``: unseen pairs
read as 0, and nothing is allocated for states never visited. The update is the
Bellman backup

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') * (1 - terminated) - Q(s, a))

and actions are chosen epsilon-greedily with random tie-breaking.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import gymnasium as gym

from rlbook import checkpoint as ck
from rlbook._validate import non_negative_int, positive, unit_interval, with_overrides
from rlbook.schedules import make_schedule

__all__ = ["QLearningConfig", "QLearningAgent", "q_update"]


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of tabular Q-learning. The defaults solve FrozenLake-v1 (4x4, slippery) in 60,000 steps."""

    alpha: float = 0.1
    """Learning rate: how far each update moves Q(s, a) towards its target."""
    gamma: float = 0.99
    """Discount factor in [0, 1]: how much a reward one step later is worth."""
    epsilon_start: float = 1.0
    """Exploration rate at step 0 (probability of a uniformly random action)."""
    epsilon_end: float = 0.01
    """Exploration rate once the schedule has finished."""
    epsilon_decay_steps: int = 40_000
    """Environment steps over which epsilon goes from start to end."""
    epsilon_schedule: str = "exponential"
    """Shape of the annealing: ``"linear"``, ``"exponential"`` or ``"constant"`` (stays at start)."""
    seed: int | None = 0
    """Seed of the agent's own random choices (exploration and tie-breaking)."""

    def __post_init__(self):
        from rlbook._validate import check_config, interval

        check_config(self, alpha=interval(0, 1, open_low=True))


def q_update(Q, actions, obs, action, reward, next_obs, terminated, alpha, gamma) -> float:
    """Apply one Q-learning backup to the table ``Q`` in place and return the TD error.

    Bootstrapping stops only when the episode *terminated* (a real end such as
    falling into a hole): after a time-limit *truncation* the next state still has a
    future, so its value is kept in the target.
    """
    # The target: r + gamma * max_a' Q(s', a'), with the max dropped at a true end.
    max_q_next = 0.0 if terminated else max(Q[next_obs, a] for a in actions)
    td_error = reward + gamma * max_q_next - Q[obs, action]
    Q[obs, action] += alpha * td_error
    return td_error


class QLearningAgent(ck.Checkpointable):
    """Epsilon-greedy tabular Q-learning on a ``Discrete`` observation space.

    Args:
        observation_space: must be ``Discrete``; wrap a ``Box`` environment in
            :class:`rlbook.envs.DiscretizedObservationWrapper` first.
        action_space: must be ``Discrete``.
        config: hyperparameters (:class:`QLearningConfig`); keyword arguments
            override single fields, e.g. ``QLearningAgent(obs_sp, act_sp, gamma=0.9)``.
    """

    def __init__(self, observation_space, action_space, config: QLearningConfig | None = None, **overrides):
        if not isinstance(observation_space, gym.spaces.Discrete):
            raise TypeError(
                f"QLearningAgent needs a Discrete observation space, got {observation_space!r}. "
                "Wrap the environment in rlbook.envs.DiscretizedObservationWrapper(env, n_bins=..., "
                "low=..., high=...) to turn a Box observation into a single integer."
            )
        if not isinstance(action_space, gym.spaces.Discrete):
            raise TypeError(f"QLearningAgent needs a Discrete action space, got {action_space!r}")
        config = config or QLearningConfig()
        if overrides:
            config = with_overrides(config, overrides)
        self.config = config
        # Errata: the original wrote range(env.action_space), which is a TypeError;
        # the number of actions is action_space.n.
        self.actions = list(range(int(action_space.n)))
        self.Q: defaultdict = defaultdict(float)
        self.rng = random.Random(config.seed)
        self.epsilon_fn = make_schedule(
            config.epsilon_schedule, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps
        )
        self.steps = 0

    @property
    def epsilon(self) -> float:
        """The current exploration rate (a function of the steps taken so far)."""
        return self.epsilon_fn(self.steps)

    def greedy_action(self, obs) -> int:
        """An action with the highest Q(obs, a); ties are broken uniformly at random."""
        qvals = [self.Q[obs, a] for a in self.actions]
        best = max(qvals)
        best_actions = [a for a, q in zip(self.actions, qvals) if q == best]
        return best_actions[0] if len(best_actions) == 1 else self.rng.choice(best_actions)

    def act(self, obs, greedy: bool = False) -> int:
        """Epsilon-greedy action for ``obs`` (greedy when ``greedy=True``)."""
        if not greedy and self.rng.random() < self.epsilon:
            return self.rng.choice(self.actions)
        return self.greedy_action(obs)

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Learn from one transition; ``truncated`` is accepted and deliberately unused."""
        q_update(self.Q, self.actions, obs, action, reward, next_obs, terminated,
                 self.config.alpha, self.config.gamma)
        self.steps += 1
        return None

    def q_table(self, n_states: int):
        """The Q-values as a NumPy array of shape ``(n_states, n_actions)`` (for plots)."""
        import numpy as np

        table = np.zeros((n_states, len(self.actions)))
        for (s, a), q in self.Q.items():
            table[s, a] = q
        return table

    # -- checkpoints (see rlbook.checkpoint) ------------------------------------------
    def _checkpoint(self, replay: bool = True):
        import numpy as np

        keys = list(self.Q)
        if not all(isinstance(s, (int, np.integer)) for s, _ in keys):
            raise ck.CheckpointError("only Q-tables keyed by integer states (a Discrete observation space) can be saved")
        arrays = {
            "weights.qtable.states": np.array([s for s, _ in keys], dtype=np.int64),
            "weights.qtable.actions": np.array([a for _, a in keys], dtype=np.int64),
            "weights.qtable.values": np.array([self.Q[k] for k in keys], dtype=np.float64),
        }
        return {"n_actions": len(self.actions)}, {"steps": self.steps, "rng": ck.rng_state(self.rng)}, arrays

    @classmethod
    def _from_checkpoint_spec(cls, spec: dict, config: QLearningConfig) -> QLearningAgent:
        # The table grows with the states it meets: the observation space's size is never used.
        return cls(gym.spaces.Discrete(1), gym.spaces.Discrete(spec["n_actions"]), config)

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        states, actions = arrays["weights.qtable.states"].tolist(), arrays["weights.qtable.actions"].tolist()
        self.Q = defaultdict(float, zip(zip(states, actions), arrays["weights.qtable.values"].tolist()))
        self.steps = int(counters["steps"])
        ck.set_rng_state(self.rng, counters["rng"])
