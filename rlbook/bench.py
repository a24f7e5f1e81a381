"""Time-to-solve benchmark on CartPole-v1: ``python -m rlbook.bench ALGO --seed S``.

Protocol (the same for every algorithm):

* train on CartPole-v1 with the algorithm's chapter defaults (``dqn``, the book's best DQN,
  adds what chapters 4, 5 and 8 teach to chapter 3's defaults: see :func:`dqn_setup`);
* every 2,000 environment steps, evaluate the greedy policy for 10 episodes on a
  separate CartPole-v1;
* the run is *solved* at the first evaluation whose mean return is >= 475; ``steps``
  is the number of environment steps taken by then and ``train_s`` the wall-clock
  seconds spent outside evaluation: building the agent and its environments,
  TensorFlow's tracing of the training function, acting and learning.

Continuous actions have no CartPole: ``sac`` runs the same protocol on Pendulum-v1
(200-step episodes, returns of 0 at best), evaluated every 1,000 steps and solved at a
greedy mean of -200 or better. ``ppo_lunar`` is PPO with the registry's LunarLander-v3
preset (what ``rlbook train ppo --env LunarLander-v3`` trains), evaluated every 10,000 steps
and solved at LunarLander's own threshold, a greedy mean of 200. A :class:`Variant` carries
its environment, its evaluation interval and its threshold.

It prints one JSON line ``{"algo", "seed", "solved", "steps", "train_s", "eval_mean"}``.
The benchmark knows *variants* (:data:`VARIANTS`): each is an algorithm of
:data:`rlbook.agents.ALGORITHMS` with the flags of one chapter (``dqn_vanilla``,
``double_dqn``, ``dueling_dqn`` and ``dqn`` are all the algorithm ``dqn``), and a
``setup(seed) -> (agent, train_env, eval_env)`` function below that builds exactly what
its chapter uses, so the benchmark measures the book's code and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral

from rlbook._validate import SEED, positive
from rlbook.agents import ALGORITHMS
from rlbook.parallel import run_parallel

ENV_ID = "CartPole-v1"
EVAL_EVERY = 2_000
EVAL_EPISODES = 10
SOLVED_AT = 475.0


@dataclass(frozen=True)
class Variant:
    """One benchmarked setting of a registered algorithm."""

    algorithm: str
    """Its name in :data:`rlbook.agents.ALGORITHMS`."""
    setup: Callable
    """``setup(seed) -> (agent, train_env, eval_env)``; its docstring says what it builds."""
    max_steps: int
    """Default budget of environment steps."""
    env: str = ENV_ID
    """The Gymnasium environment it trains and is evaluated on."""
    solved_at: float = SOLVED_AT
    """Solved at the first evaluation whose greedy mean return is at least this."""
    eval_every: int = EVAL_EVERY
    """Environment steps between evaluations."""


VARIANTS: dict[str, Variant] = {}
"""Variant name (the ``algo`` of the JSON line) -> :class:`Variant`."""


def register(name: str, algorithm: str, max_steps: int | None = None, **protocol):
    """Decorator: add ``setup`` to the benchmark as ``name``, a variant of ``algorithm``
    (the default budget is the algorithm's, from :data:`rlbook.agents.ALGORITHMS`);
    ``protocol`` sets the :class:`Variant`'s ``env``, ``solved_at`` and ``eval_every``
    when they are not CartPole's."""

    def deco(setup: Callable) -> Callable:
        budget = max_steps or ALGORITHMS[algorithm].steps
        VARIANTS[name] = Variant(algorithm, setup, budget, **protocol)
        return setup

    return deco


# -- setups: one per variant, building exactly what its chapter uses -------------------
# (each returns (agent, train_env, eval_env); add new variants below with @register)


def _on_copies(algorithm: str, seed: int, env_id: str = ENV_ID, **overrides):
    """The algorithm's agent on its registered number of copies of ``env_id`` (batched acting),
    with the registry's preset for ``env_id`` if it has one (``overrides`` win over it)."""
    from rlbook.envs import make_vec_env

    entry = ALGORITHMS[algorithm]
    preset, num_envs, _ = entry.settings(env_id)
    env = make_vec_env(env_id, num_envs, seed=seed)
    eval_env = make_vec_env(env_id, EVAL_EPISODES, seed=seed + 10_000)
    agent = entry.agent_class(
        env.single_observation_space,
        env.single_action_space,
        num_envs=num_envs,
        seed=seed,
        **{**preset, **overrides},
    )
    return agent, env, eval_env


BEST_DQN = {"double": True, "dueling": True, "gradient_steps": 32, "epsilon_decay_steps": 5_000}
"""What ``dqn`` changes from chapter 3's defaults. Twice the gradient steps per training call
double the replay ratio (chapter 8's exercise) to 32, rl-baselines3-zoo's for its CartPole DQN
(128 minibatches of 64 every 256 steps); exploration decays over 5,000 steps instead of 8,000.
Seeds 0-19 solved in 4,000 to 44,000 steps (median 22,000). The double target and the dueling
head alone took a median of 37,000 on seeds 0-9, and seed 6 did not solve in 60,000
(docs/performance.md)."""


@register("dqn", "dqn")
def dqn_setup(seed: int):
    """The book's best DQN: double target, dueling head, twice the gradient steps, shorter exploration."""  # noqa: E501 (one line: chapter 8 prints it)
    # BEST_DQN's flags, on 4 CartPole copies
    return _on_copies("dqn", seed, **BEST_DQN)


@register("dqn_vanilla", "dqn")
def dqn_vanilla_setup(seed: int):
    """Chapter 3's DQN as it is taught and trained: its defaults, the max target and a plain head."""  # noqa: E501 (one line: chapter 8 prints it)
    return _on_copies("dqn", seed)


@register("double_dqn", "dqn")
def double_dqn_setup(seed: int):
    """Double target, plain head (chapter 4)."""
    return _on_copies("dqn", seed, double=True, dueling=False)


@register("dueling_dqn", "dqn")
def dueling_dqn_setup(seed: int):
    """Dueling head, plain max target (chapter 5)."""
    return _on_copies("dqn", seed, double=False, dueling=True)


@register("reinforce", "reinforce")
def reinforce_setup(seed: int):
    """Chapter 6's REINFORCE with its defaults (learned value baseline) on 8 CartPole copies."""
    return _on_copies("reinforce", seed)


@register("actor_critic", "actor_critic")
def actor_critic_setup(seed: int):
    """Chapter 7's actor-critic with its defaults (n-step targets, batched updates) on 8 CartPole copies."""  # noqa: E501 (one line: chapter 8 prints it)
    return _on_copies("actor_critic", seed)


@register("ppo", "ppo")
def ppo_setup(seed: int):
    """PPO with its defaults (GAE, the clipped surrogate, minibatch epochs) on 8 CartPole copies."""  # noqa: E501 (one line: chapter 8 prints it)
    return _on_copies("ppo", seed)


PENDULUM = "Pendulum-v1"
PENDULUM_SOLVED_AT = -200.0
"""Pendulum-v1 has no official threshold; -200 is a pendulum swung up and held in most
episodes (a random policy scores about -1,200, a good one -150)."""


@register("sac", "sac", env=PENDULUM, solved_at=PENDULUM_SOLVED_AT, eval_every=1_000)
def sac_setup(seed: int):
    """The soft actor-critic with its defaults on Pendulum-v1 (continuous torque), one copy."""
    return _on_copies("sac", seed, env_id=PENDULUM)


LUNAR_LANDER = "LunarLander-v3"
LUNAR_LANDER_SOLVED_AT = 200.0
"""LunarLander-v3's own threshold: an episode of 200 points is a safe landing on the pad."""


@register(
    "ppo_lunar",
    "ppo",
    max_steps=ALGORITHMS["ppo"].settings(LUNAR_LANDER)[2],
    env=LUNAR_LANDER,
    solved_at=LUNAR_LANDER_SOLVED_AT,
    eval_every=10_000,
)
def ppo_lunar_setup(seed: int):
    """PPO with its LunarLander-v3 preset, as rlbook train ppo --env LunarLander-v3 trains it."""
    return _on_copies("ppo", seed, env_id=LUNAR_LANDER)


CARTPOLE_BINS = (1, 1, 6, 12)
"""Chapter 2's discretization of CartPole: pole angle and angular velocity only."""
CARTPOLE_LOW = (-2.4, -3.0, -0.21, -2.0)
CARTPOLE_HIGH = (2.4, 3.0, 0.21, 2.0)


@register("qlearning", "qlearning", max_steps=200_000)
def qlearning_setup(seed: int):
    """Chapter 2's tabular Q-learning on discretized CartPole (one environment, a table of 72 states)."""  # noqa: E501 (one line: chapter 8 prints it)
    from rlbook.envs import DiscretizedObservationWrapper, make_env

    def discretized(s):
        return DiscretizedObservationWrapper(
            make_env(ENV_ID, seed=s), n_bins=CARTPOLE_BINS, low=CARTPOLE_LOW, high=CARTPOLE_HIGH
        )

    env, eval_env = discretized(seed), discretized(seed + 10_000)
    agent = ALGORITHMS["qlearning"].agent_class(
        env.observation_space, env.action_space, seed=seed, epsilon_decay_steps=30_000
    )
    return agent, env, eval_env


def check_run(algo: str, seed: int, max_steps: int | None = None) -> None:
    """Refuse a run the benchmark cannot make, before any process or network is started."""
    if not isinstance(algo, str) or algo not in VARIANTS:
        raise ValueError(f"unknown algorithm {algo!r}; choose one of {sorted(VARIANTS)}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not SEED.ok(seed):
        raise ValueError(f"seed must be {SEED.accepted}, got {seed!r}")
    if max_steps is not None:
        positive("max_steps", max_steps, integer=True)


def run_history(
    algo: str, seed: int, max_steps: int | None = None, progress: bool = False, stop: bool = True
):
    """Run the protocol once; return the result row and the training :class:`~rlbook.train.History`.

    Args:
        algo: a variant name in :data:`VARIANTS`.
        seed: seeds the agent and the training environments (evaluation uses ``seed + 10_000``).
        max_steps: environment step budget (default: the algorithm's).
        progress: show a progress bar.
        stop: stop at the first solved evaluation (the benchmark). ``False`` keeps training
            for the whole budget (learning curves, chapter 8). For the neural agents the
            row is the same either way, since their greedy actions draw no random numbers
            (tabular Q-learning breaks ties at random, so its evaluations use its stream).
    """
    from rlbook.train import train

    check_run(algo, seed, max_steps)
    variant = VARIANTS[algo]
    import tensorflow  # noqa: F401  (importing TensorFlow takes seconds; that is not training)

    start = time.perf_counter()
    agent, env, eval_env = variant.setup(seed)
    setup_s = (
        time.perf_counter() - start
    )  # building networks and environments counts as training time
    history = train(
        agent,
        env,
        steps=max_steps or variant.max_steps,
        eval_env=eval_env,
        eval_every=variant.eval_every,
        eval_episodes=EVAL_EPISODES,
        stop_at=variant.solved_at if stop else None,
        progress=progress,
    )
    solved = history.solved_at(variant.solved_at)
    last = solved or (history.evaluations[-1] if history.evaluations else None)
    row = {
        "algo": algo,
        "seed": seed,
        "solved": solved is not None,
        "steps": int(last["step"]) if last else history.steps,
        "train_s": round(setup_s + (last["train_seconds"] if last else history.train_seconds), 2),
        "eval_mean": round(last["mean"], 1) if last else None,
    }
    return row, history


def run_histories(tasks, workers: int = 2, max_steps: int | None = None, stop: bool = True):
    """:func:`run_history` for each ``(algo, seed)`` of ``tasks``, on ``workers`` processes.

    The runs are independent and seeded, so each gives what it gives alone; on a
    2-core machine two at a time take about half the wall-clock time (chapter 8).
    Tasks start in the order given: put the longest first. The workers are those of
    :func:`rlbook.parallel.run_parallel`; ``train_s`` of runs sharing the machine is still a little
    slower than alone.

    Returns:
        ``[(row, history), ...]`` in the order of ``tasks``.
    """
    tasks = list(tasks)
    for task in tasks:
        if not (isinstance(task, (tuple, list)) and len(task) == 2):
            raise ValueError(f"each task must be a pair (algo, seed), got {task!r}")
        check_run(*task, max_steps)
    calls = [(algo, seed, max_steps, False, stop) for algo, seed in tasks]
    return run_parallel(run_history, calls, workers)


def run(algo: str, seed: int, max_steps: int | None = None, progress: bool = False) -> dict:
    """Run the protocol once and return the result row (what the command prints)."""
    return run_history(algo, seed, max_steps, progress)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rlbook.bench",
        description="Time-to-solve on CartPole-v1: evaluate every 2,000 steps (10 greedy "
        "episodes); solved at the first mean return >= 475 (sac: on Pendulum-v1, every 1,000 "
        "steps, solved at >= -200; ppo_lunar: on LunarLander-v3, every 10,000 steps, solved at "
        ">= 200). Prints one JSON line.",
    )
    parser.add_argument("algo", choices=sorted(VARIANTS), help="algorithm (variant) to benchmark")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="environment step budget (default: the algorithm's)",
    )
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)
    try:
        check_run(args.algo, args.seed, args.max_steps)
    except ValueError as err:
        parser.error(str(err).replace("max_steps", "--max-steps").replace("seed", "--seed", 1))
    print(json.dumps(run(args.algo, args.seed, args.max_steps, args.progress)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
