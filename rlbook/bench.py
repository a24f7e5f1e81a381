"""Time-to-solve benchmark on CartPole-v1: ``python -m rlbook.bench ALGO --seed S``.

Protocol (the same for every algorithm):

* train on CartPole-v1 with the algorithm's chapter defaults;
* every 2,000 environment steps, evaluate the greedy policy for 10 episodes on a
  separate CartPole-v1;
* the run is *solved* at the first evaluation whose mean return is >= 475; ``steps``
  is the number of environment steps taken by then and ``train_s`` the wall-clock
  seconds spent outside evaluation: building the agent and its environments,
  TensorFlow's tracing of the training function, acting and learning.

It prints one JSON line ``{"algo", "seed", "solved", "steps", "train_s", "eval_mean"}``.
Each algorithm has a ``setup(seed) -> (agent, train_env, eval_env)`` function below,
registered in :data:`ALGOS`, that builds exactly what its chapter uses, so the
benchmark measures the book's code and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

ENV_ID = "CartPole-v1"
EVAL_EVERY = 2_000
EVAL_EPISODES = 10
SOLVED_AT = 475.0

# name -> (setup(seed) -> (agent, train_env, eval_env), default step budget)
ALGOS: dict[str, tuple[Callable, int]] = {}


def register(name: str, max_steps: int):
    """Decorator: add ``setup`` to the benchmark under ``name`` with a default budget."""

    def deco(setup: Callable) -> Callable:
        ALGOS[name] = (setup, max_steps)
        return setup

    return deco


# -- setups: one per algorithm, building exactly what its chapter uses -----------------
# (each returns (agent, train_env, eval_env); add new algorithms below with @register)


DQN_ENVS = 4
"""CartPole copies stepped together by the DQN of chapter 3 (batched acting)."""


def _dqn(seed: int, **overrides):
    from rlbook.agents.dqn import DQNAgent
    from rlbook.envs import make_vec_env

    env = make_vec_env(ENV_ID, DQN_ENVS, seed=seed)
    eval_env = make_vec_env(ENV_ID, EVAL_EPISODES, seed=seed + 10_000)
    agent = DQNAgent(
        env.single_observation_space,
        env.single_action_space,
        num_envs=DQN_ENVS,
        seed=seed,
        **overrides,
    )
    return agent, env, eval_env


@register("dqn", 50_000)
def dqn_setup(seed: int):
    """The book's best DQN: chapter 3's defaults with the double target and the dueling head
    (chapters 4 and 5) switched on, on 4 CartPole copies."""
    return _dqn(seed, double=True, dueling=True)


@register("dqn_vanilla", 50_000)
def dqn_vanilla_setup(seed: int):
    """Chapter 3's DQN as it is taught and trained: its defaults, the max target and a plain head."""  # noqa: E501 (one line: chapter 8 prints it)
    return _dqn(seed)


@register("double_dqn", 50_000)
def double_dqn_setup(seed: int):
    """Double target, plain head (chapter 4)."""
    return _dqn(seed, double=True, dueling=False)


@register("dueling_dqn", 50_000)
def dueling_dqn_setup(seed: int):
    """Dueling head, plain max target (chapter 5)."""
    return _dqn(seed, double=False, dueling=True)


PG_ENVS = 8
"""CartPole copies stepped together by REINFORCE and the actor-critic (chapters 6-7)."""


def _policy_gradient(agent_class, seed: int):
    from rlbook.envs import make_vec_env

    env = make_vec_env(ENV_ID, PG_ENVS, seed=seed)
    eval_env = make_vec_env(ENV_ID, EVAL_EPISODES, seed=seed + 10_000)
    agent = agent_class(
        env.single_observation_space, env.single_action_space, num_envs=PG_ENVS, seed=seed
    )
    return agent, env, eval_env


@register("reinforce", 300_000)
def reinforce_setup(seed: int):
    """Chapter 6's REINFORCE with its defaults (learned value baseline) on 8 CartPole copies."""
    from rlbook.agents.reinforce import ReinforceAgent

    return _policy_gradient(ReinforceAgent, seed)


@register("actor_critic", 100_000)
def actor_critic_setup(seed: int):
    """Chapter 7's actor-critic with its defaults (n-step targets, batched updates) on 8 CartPole copies."""  # noqa: E501 (one line: chapter 8 prints it)
    from rlbook.agents.actor_critic import ActorCriticAgent

    return _policy_gradient(ActorCriticAgent, seed)


CARTPOLE_BINS = (1, 1, 6, 12)
"""Chapter 2's discretization of CartPole: pole angle and angular velocity only."""
CARTPOLE_LOW = (-2.4, -3.0, -0.21, -2.0)
CARTPOLE_HIGH = (2.4, 3.0, 0.21, 2.0)


@register("qlearning", 200_000)
def qlearning_setup(seed: int):
    """Chapter 2's tabular Q-learning on discretized CartPole (one environment, a table of 72 states)."""  # noqa: E501 (one line: chapter 8 prints it)
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import DiscretizedObservationWrapper, make_env

    def discretized(s):
        return DiscretizedObservationWrapper(
            make_env(ENV_ID, seed=s), n_bins=CARTPOLE_BINS, low=CARTPOLE_LOW, high=CARTPOLE_HIGH
        )

    env, eval_env = discretized(seed), discretized(seed + 10_000)
    agent = QLearningAgent(
        env.observation_space, env.action_space, seed=seed, epsilon_decay_steps=30_000
    )
    return agent, env, eval_env


def run_history(
    algo: str, seed: int, max_steps: int | None = None, progress: bool = False, stop: bool = True
):
    """Run the protocol once; return the result row and the training :class:`~rlbook.train.History`.

    Args:
        algo: a name in :data:`ALGOS`.
        seed: seeds the agent and the training environments (evaluation uses ``seed + 10_000``).
        max_steps: environment step budget (default: the algorithm's).
        progress: show a progress bar.
        stop: stop at the first solved evaluation (the benchmark). ``False`` keeps training
            for the whole budget (learning curves, chapter 8). For the neural agents the
            row is the same either way, since their greedy actions draw no random numbers
            (tabular Q-learning breaks ties at random, so its evaluations use its stream).
    """
    from rlbook.train import train

    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; choose one of {sorted(ALGOS)}")
    setup, default_steps = ALGOS[algo]
    import tensorflow  # noqa: F401  (importing TensorFlow takes seconds; that is not training)

    start = time.perf_counter()
    agent, env, eval_env = setup(seed)
    setup_s = (
        time.perf_counter() - start
    )  # building networks and environments counts as training time
    history = train(
        agent,
        env,
        steps=max_steps or default_steps,
        eval_env=eval_env,
        eval_every=EVAL_EVERY,
        eval_episodes=EVAL_EPISODES,
        stop_at=SOLVED_AT if stop else None,
        progress=progress,
    )
    solved = history.solved_at(SOLVED_AT)
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
    :func:`run_parallel`; ``train_s`` of runs sharing the machine is still a little
    slower than alone.

    Returns:
        ``[(row, history), ...]`` in the order of ``tasks``.
    """
    calls = [(algo, seed, max_steps, False, stop) for algo, seed in tasks]
    return run_parallel(run_history, calls, workers)


def run_parallel(fn: Callable, args, workers: int = 2) -> list:
    """``[fn(*a) for a in args]``, computed on ``workers`` processes, in the order of ``args``.

    For independent, seeded runs, such as those that chapters 4 and 5 define in the
    notebook itself: a spawned process could not import a function defined there, so
    ``fn`` travels to the workers by value with ``cloudpickle``. Processes are *spawned*
    (fresh interpreters), never forked from a caller whose TensorFlow already runs
    threads, and each keeps TensorFlow to one thread, so two runs use two cores without
    fighting over them. Each worker starts by importing
    what ``fn`` uses (TensorFlow takes a few seconds). Calls start in the order given:
    put the longest first.

    Args:
        fn: a function of the items of ``args``; it and its results must be picklable
            (functions and classes defined in the notebook are).
        args: a sequence of argument tuples, one per call.
        workers: processes to use (at most one per call).

    Returns:
        The results, ``[fn(*args[0]), fn(*args[1]), ...]``.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import cloudpickle

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(
            f"workers must be a whole number of processes, at least 1; got {workers!r}"
        )
    calls = [cloudpickle.dumps((fn, tuple(a))) for a in args]
    if not calls:
        return []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(calls))),
        mp_context=context,
        initializer=_one_thread_per_worker,
    ) as pool:
        futures = [pool.submit(_call_pickled, call) for call in calls]
        return [future.result() for future in futures]


def _call_pickled(call: bytes):
    import pickle

    fn, args = pickle.loads(call)
    return fn(*args)


def _one_thread_per_worker() -> None:
    # Runs before TensorFlow is imported in the worker. Two workers on two cores each
    # get one core; TensorFlow's own thread pools would otherwise oversubscribe them.
    import os

    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def run(algo: str, seed: int, max_steps: int | None = None, progress: bool = False) -> dict:
    """Run the protocol once and return the result row (what the command prints)."""
    return run_history(algo, seed, max_steps, progress)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rlbook.bench",
        description="Time-to-solve on CartPole-v1: evaluate every 2,000 steps (10 greedy "
        "episodes); solved at the first mean return >= 475. Prints one JSON line.",
    )
    parser.add_argument("algo", choices=sorted(ALGOS), help="algorithm to benchmark")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="environment step budget (default: the algorithm's)",
    )
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.algo, args.seed, args.max_steps, args.progress)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
