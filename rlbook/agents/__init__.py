"""The book's agents, one module per algorithm, and :data:`ALGORITHMS`, the table of them.

Modules: ``qlearning`` and ``sarsa`` (chapter 2, sharing ``tabular``), ``dqn`` and
``recurrent_dqn`` (chapters 3-5), ``reinforce`` (chapter 6), ``actor_critic``
(chapter 7) and ``ppo`` (chapter 9), the last three sharing ``policy_gradient``, and
``sac`` (the soft actor-critic, for continuous actions).

Every agent has the same vocabulary: ``act(obs, greedy=False)``; ``observe(...)``,
which the training loop calls after every step; the training call ``update()`` of the
agents that learn from a batch (DQN, REINFORCE, the actor-critic, PPO, SAC), which ``observe``
makes when a batch is ready; ``learn(...)``, the algorithm's learning step that the
chapter prints (called by ``update``, or by ``observe`` for the tabular agents); and
the running counters ``env_steps`` (environment steps observed) and ``updates``
(training calls made).

:data:`ALGORITHMS` is the one list of algorithms: the command line (``rlbook train
NAME``), the checkpoints (:func:`load` builds only the classes it lists) and the
benchmark (:mod:`rlbook.bench`) read it. An entry's defaults are tuned for its default
environment; its :class:`Preset` s hold the settings that work on other environments
(``rlbook train ppo --env LunarLander-v3`` takes PPO's), and a flag given on the command line
wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rlbook import checkpoint
from rlbook.agents.actor_critic import ActorCriticAgent, ActorCriticConfig
from rlbook.agents.dqn import DQNAgent, DQNConfig
from rlbook.agents.ppo import PENDULUM, PPOAgent, PPOConfig
from rlbook.agents.qlearning import QLearningAgent, QLearningConfig
from rlbook.agents.recurrent_dqn import RecurrentDQNAgent, RecurrentDQNConfig
from rlbook.agents.reinforce import ReinforceAgent, ReinforceConfig
from rlbook.agents.sac import SACAgent, SACConfig
from rlbook.agents.sarsa import SarsaAgent, SarsaConfig
from rlbook.agents.tabular import TabularAgent

__all__ = ["Algorithm", "ALGORITHMS", "Preset", "algorithm", "load"]


@dataclass(frozen=True)
class Preset:
    """What an algorithm changes from its defaults on one environment (:attr:`Algorithm.presets`).

    The values are checked when the registry is built: the config's own checks run on
    ``config``, so a preset holding a value the config refuses fails at import, not in a run.
    """

    config: Mapping[str, object] = field(default_factory=dict, hash=False)
    """Config fields to override (field name -> value); the other fields keep their defaults."""
    num_envs: int | None = None
    """Environment copies stepped together (``None``: the algorithm's default)."""
    steps: int | None = None
    """Budget of environment steps (``None``: the algorithm's default)."""
    note: str = ""
    """Where the settings come from and what they reach, for ``--help`` and the docs."""

    def __post_init__(self):
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        for name, value in (("num_envs", self.num_envs), ("steps", self.steps)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"a preset's {name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class Algorithm:
    """One algorithm: its agent and config classes, and what it runs on by default."""

    name: str
    """The name on the command line, in checkpoints and in the benchmark."""
    agent_class: type
    """Builds the agent: ``agent_class(observation_space, action_space, config, ...)``."""
    config_class: type
    """The frozen dataclass of its hyperparameters."""
    env: str
    """The Gymnasium environment it runs on by default (the command line's ``--env``)."""
    num_envs: int
    """Copies of the environment stepped together by default (command line and benchmark)."""
    steps: int
    """Default budget of environment steps (command line and benchmark)."""
    presets: Mapping[str, Preset] = field(default_factory=dict, hash=False)
    """Settings for other environments than ``env``: environment id -> :class:`Preset`. The
    command line applies the preset of the ``--env`` it is given (flags given explicitly win)."""

    def __post_init__(self):
        # The agent class writes its algorithm's name into checkpoints: the two must agree.
        if (self.agent_class.algorithm, self.agent_class.config_class) != (
            self.name,
            self.config_class,
        ):
            raise ValueError(f"{self.agent_class.__name__} does not match its entry {self.name!r}")
        object.__setattr__(self, "presets", MappingProxyType(dict(self.presets)))
        for env_id, preset in self.presets.items():
            try:
                self.config_class(**preset.config)  # the config's checks, on the preset's values
            except (TypeError, ValueError) as err:
                raise ValueError(f"{self.name}'s preset for {env_id}: {err}") from err

    def preset(self, env_id: str) -> Preset:
        """The :class:`Preset` for ``env_id`` (an empty one: no change, for an env without one)."""
        return self.presets.get(env_id, Preset())

    def settings(self, env_id: str) -> tuple[dict, int, int]:
        """``(config overrides, num_envs, steps)`` on ``env_id``: the preset's, or the defaults."""
        preset = self.preset(env_id)
        return (
            dict(preset.config),
            preset.num_envs or self.num_envs,
            preset.steps or self.steps,
        )

    @property
    def tabular(self) -> bool:
        """Whether the agent keeps a table (a ``Discrete`` observation space, one environment)."""
        return issubclass(self.agent_class, TabularAgent)


PPO_LUNAR_LANDER = Preset(
    config={
        "hidden": (64, 64),
        "gamma": 0.999,
        "gae_lambda": 0.98,
        "lr": 0.001,
        "critic_lr": 0.001,
        "n_steps": 256,
        "update_epochs": 10,
        "num_minibatches": 8,
        "entropy_coef": 0.01,
    },
    num_envs=16,
    steps=400_000,
    note="rl-baselines3-zoo's PPO for LunarLander (gamma 0.999, GAE lambda 0.98, entropy 0.01, "
    "16 copies, two layers of 64) with shorter rollouts (256 steps), minibatches of 512, 10 "
    "epochs and learning rates of 1e-3, to reach a greedy mean of 200 in fewer steps and "
    "seconds (docs/performance.md)",
)
"""PPO on LunarLander-v3 (``rlbook train ppo --env LunarLander-v3``, ``rlbook.bench ppo_lunar``)."""

PPO_PENDULUM = Preset(
    config=PENDULUM,
    num_envs=8,
    steps=50_000,
    note="chapter 10's Gaussian-policy settings (rlbook.agents.ppo.PENDULUM): rl-baselines3-zoo's "
    "PPO for Pendulum without gSDE (8 copies, rollouts of 256, gamma 0.9, GAE lambda 0.95, "
    "two layers of 64, learning rates of 1e-3); 50,000 steps reach a greedy mean of -115 to "
    "-222 on seeds 0-7 (median -160), and 80,000 or 100,000 change little",
)
"""PPO on Pendulum-v1 (``rlbook train ppo --env Pendulum-v1``), with chapter 10's settings."""

ALGORITHMS: dict[str, Algorithm] = {
    entry.name: entry
    for entry in (
        Algorithm("qlearning", QLearningAgent, QLearningConfig, "FrozenLake-v1", 1, 60_000),
        Algorithm("sarsa", SarsaAgent, SarsaConfig, "FrozenLake-v1", 1, 60_000),
        Algorithm("dqn", DQNAgent, DQNConfig, "CartPole-v1", 4, 50_000),
        Algorithm("recurrent_dqn", RecurrentDQNAgent, RecurrentDQNConfig, "CartPole-v1", 4, 50_000),
        Algorithm("reinforce", ReinforceAgent, ReinforceConfig, "CartPole-v1", 8, 300_000),
        Algorithm("actor_critic", ActorCriticAgent, ActorCriticConfig, "CartPole-v1", 8, 100_000),
        Algorithm(
            "ppo",
            PPOAgent,
            PPOConfig,
            "CartPole-v1",
            8,
            100_000,
            presets={"LunarLander-v3": PPO_LUNAR_LANDER, "Pendulum-v1": PPO_PENDULUM},
        ),
        Algorithm("sac", SACAgent, SACConfig, "Pendulum-v1", 1, 20_000),
    )
}
"""Every algorithm of the book, by name. DQN's variants (double target, dueling head,
image network) are flags of its config; the recurrent DQN has its own agent class."""


def algorithm(name: str) -> Algorithm:
    """The entry of :data:`ALGORITHMS` called ``name`` (a ``ValueError`` lists the names)."""
    if not isinstance(name, str) or name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[name]


def load(path):
    """The agent saved at ``path``, whatever its algorithm (one of :data:`ALGORITHMS`).

    A checkpoint naming an algorithm outside the table is refused with
    :class:`rlbook.checkpoint.CheckpointError`: a file never chooses what code runs.
    """
    return checkpoint.load(path, {name: a.agent_class for name, a in ALGORITHMS.items()})
