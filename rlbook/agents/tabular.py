"""What tabular Q-learning and SARSA share (chapter 2): the config, the table and acting.

:class:`TabularAgent` holds a Q-table, picks actions epsilon-greedily with random
tie-breaking, anneals epsilon with the environment steps, and saves and loads its
table. A subclass adds ``observe`` and its learning step ``learn``, which make it Q-learning
(:mod:`rlbook.agents.qlearning`) or SARSA (:mod:`rlbook.agents.sarsa`).

The Q-table is a ``defaultdict(float)`` keyed by ``(state, action)``: unseen pairs
read as 0, and nothing is allocated for states never visited.
"""

from __future__ import annotations

import random
from collections import defaultdict

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import (
    agent_config,
    check_config,
    config,
    interval,
    numbered_from_zero,
    show_space,
)
from rlbook.schedules import make_schedule

__all__ = ["TabularConfig", "TabularAgent"]


@config
class TabularConfig:
    """Hyperparameters of a tabular agent. The defaults solve FrozenLake-v1 (4x4, slippery)."""

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
    """Shape of the annealing: "linear", "exponential" or "constant" (stays at
    start)."""
    seed: int | None = 0
    """Seed of the agent's own random choices (exploration and tie-breaking)."""

    def __post_init__(self):
        check_config(self, alpha=interval(0, 1, open_low=True))


class TabularAgent(ck.Checkpointable):
    """Epsilon-greedy acting on a Q-table over a ``Discrete`` observation space.

    Args:
        observation_space: must be ``Discrete``; wrap a ``Box`` environment in
            :class:`rlbook.envs.DiscretizedObservationWrapper` first.
        action_space: must be ``Discrete``.
        config: hyperparameters (an instance of the subclass's ``config_class``);
            keyword arguments override single fields, e.g. ``gamma=0.9``.
    """

    config_class = TabularConfig

    def __init__(
        self, observation_space, action_space, config: TabularConfig | None = None, **overrides
    ):
        name = type(self).__name__
        if not isinstance(observation_space, gym.spaces.Discrete):
            wrapper = (
                "rlbook.envs.DiscreteTupleWrapper(env) to number the tuples"
                if isinstance(observation_space, gym.spaces.Tuple)
                else "rlbook.envs.DiscretizedObservationWrapper(env, n_bins=..., low=..., "
                "high=...) to turn a Box observation into a single integer"
            )
            raise TypeError(
                f"{name} needs a Discrete observation space, got {show_space(observation_space)}. "
                f"Wrap the environment in {wrapper}."
            )
        if not isinstance(action_space, gym.spaces.Discrete):
            raise TypeError(f"{name} needs a Discrete action space, got {show_space(action_space)}")
        numbered_from_zero(action_space, name)
        config = agent_config(self.config_class, config, overrides, name)
        self.config = config
        self.actions = list(range(int(action_space.n)))  # one entry per action: action_space.n
        self.Q: defaultdict = defaultdict(float)
        self.rng = random.Random(config.seed)
        self.epsilon_fn = make_schedule(
            config.epsilon_schedule,
            config.epsilon_start,
            config.epsilon_end,
            config.epsilon_decay_steps,
        )
        self.env_steps = 0
        """Environment steps observed (one learning step each)."""

    @property
    def epsilon(self) -> float:
        """The current exploration rate (a function of the steps taken so far)."""
        return self.epsilon_fn(self.env_steps)

    # fmt: off
    def greedy_action(self, obs) -> int:
        """An action with the highest Q(obs, a); ties are broken uniformly at
        random."""
        qvals = [self.Q[obs, a] for a in self.actions]
        best = max(qvals)
        best_actions = [a for a, q in zip(self.actions, qvals) if q == best]
        return (
            best_actions[0]
            if len(best_actions) == 1
            else self.rng.choice(best_actions)
        )

    def act(self, obs, greedy: bool = False) -> int:
        """Epsilon-greedy action for ``obs`` (greedy when ``greedy=True``)."""
        if not greedy and self.rng.random() < self.epsilon:
            return self.rng.choice(self.actions)
        return self.greedy_action(obs)
    # fmt: on

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Learn from one transition (each algorithm defines its own ``learn``)."""
        raise NotImplementedError

    def q_table(self, n_states: int) -> np.ndarray:
        """The Q-values as a NumPy array of shape ``(n_states, n_actions)`` (for plots)."""
        table = np.zeros((n_states, len(self.actions)))
        for (s, a), q in self.Q.items():
            table[s, a] = q
        return table

    # -- checkpoints (see rlbook.checkpoint) ------------------------------------------
    def _checkpoint(self, replay: bool = True):
        keys = list(self.Q)
        if not all(isinstance(s, (int, np.integer)) for s, _ in keys):
            raise ck.CheckpointError(
                "only Q-tables keyed by integer states (a Discrete observation space) can be saved"
            )
        arrays = {
            "weights.qtable.states": np.array([s for s, _ in keys], dtype=np.int64),
            "weights.qtable.actions": np.array([a for _, a in keys], dtype=np.int64),
            "weights.qtable.values": np.array([self.Q[k] for k in keys], dtype=np.float64),
        }
        counters = {"env_steps": self.env_steps, "rng": ck.rng_state(self.rng)}
        return {"n_actions": len(self.actions)}, counters, arrays

    @classmethod
    def _from_checkpoint_spec(cls, spec: dict, config: TabularConfig) -> TabularAgent:
        # The table grows with the states it meets: the observation space's size is never used.
        return cls(gym.spaces.Discrete(1), gym.spaces.Discrete(spec["n_actions"]), config)

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        states = arrays["weights.qtable.states"].tolist()
        actions = arrays["weights.qtable.actions"].tolist()
        values = arrays["weights.qtable.values"].tolist()
        self.Q = defaultdict(float, zip(zip(states, actions), values))
        self.env_steps = int(counters["env_steps"])
        ck.set_rng_state(self.rng, counters["rng"])
