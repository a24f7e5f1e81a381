"""Stable-Baselines3 under the protocol of ``python -m rlbook.bench``: the same-run comparison.

Not part of rlbook, and not run by its tests: it needs PyTorch and Stable-Baselines3, which are in
none of the book's environments. Make a separate venv, outside the repository, installing the
CPU build of PyTorch first (so that pip does not fetch a CUDA build for Stable-Baselines3):

    python3 -m venv /work/sb3venv
    /work/sb3venv/bin/pip install torch==2.13.0
    /work/sb3venv/bin/pip install stable-baselines3==2.9.0 "gymnasium[box2d,classic-control]==1.4.0"

Then, from the repository's root (one JSON line, as ``python -m rlbook.bench`` prints):

    /work/sb3venv/bin/python benchmarks/sb3.py ppo --seed 0        # CartPole-v1
    /work/sb3venv/bin/python benchmarks/sb3.py a2c --seed 0        # CartPole-v1
    /work/sb3venv/bin/python benchmarks/sb3.py dqn --seed 0        # CartPole-v1
    /work/sb3venv/bin/python benchmarks/sb3.py sac --seed 0        # Pendulum-v1
    /work/sb3venv/bin/python benchmarks/sb3.py ppo --env LunarLander-v3 --seed 0

The protocol is rlbook.bench's (its constants are repeated below, since this venv has no
TensorFlow to import rlbook with; tests/test_sb3_benchmark.py checks that they agree):

* train with the rl-baselines3-zoo hyperparameters of the algorithm and environment
  (:data:`HYPERPARAMS`), on the zoo's number of environment copies, seeded with ``--seed``;
* every ``eval_every`` environment steps (summed over the copies: 2,000 on CartPole-v1,
  1,000 on Pendulum-v1, 10,000 on LunarLander-v3), evaluate the greedy policy
  (``predict(deterministic=True)``) for 10 episodes on 10 separate copies seeded ``seed + 10_000``
  once, one episode each, as ``rlbook.train.evaluate`` does;
* the run is solved at the first evaluation whose mean return reaches the threshold (475 on
  CartPole-v1, -200 on Pendulum-v1, 200 on LunarLander-v3); ``steps`` is the environment steps
  taken by then and ``train_s`` the wall-clock seconds outside evaluation from the creation of
  the training environments and the model on: building them, acting and learning. Importing
  PyTorch, Stable-Baselines3 and Gymnasium is not counted (rlbook.bench does not count importing
  TensorFlow either).

Hyperparameters: rl-baselines3-zoo (DLR-RM/rl-baselines3-zoo), ``hyperparams/ppo.yml``,
``a2c.yml``, ``dqn.yml`` and ``sac.yml``, the entries ``CartPole-v1``, ``Pendulum-v1`` and
``LunarLander-v2`` (read at the commits 208b6fd, c6c209e, ce95481 and c94924e of those files).
The zoo tunes LunarLander-v2; v3 is the same task with bugs fixed, and its later files carry the
same values under the v3 name. Every key the zoo sets is passed; the rest are
Stable-Baselines3's defaults, as in the zoo. ``lin_X`` is the zoo's linear schedule: X times the
remaining fraction of ``n_timesteps``. ``learn`` is always given the zoo's ``n_timesteps``, so the
schedules are the zoo's even when ``--max-steps`` stops a run earlier.

Threads: one by default (``torch.set_num_threads(1)``), while rlbook.bench runs TensorFlow with
its defaults (two threads on the book's 2-core machines). PyTorch's own default (one OpenMP thread
per core) collapses when anything else runs: on the 2-core machine at load average 8, PPO's first
4,000 CartPole steps took 51.6 s of train_s with two threads and 5.1 s with one. Nearly idle
(load 1), the two are close (PPO seed 0: 4.34 s with one, 4.02 s with two; A2C: 4.68 s and
4.88 s). Fair is SB3's faster setting: ``--threads 2`` (or ``0``, PyTorch's default) measures the
other; the count used goes to stderr. docs/performance.md says how the campaign picks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

# -- the protocol (rlbook/bench.py's values; tests/test_sb3_benchmark.py compares them) ---------
EVAL_EPISODES = 10
PROTOCOL = {
    # env id: (evaluate every this many environment steps, solved at this greedy mean)
    "CartPole-v1": (2_000, 475.0),
    "Pendulum-v1": (1_000, -200.0),
    "LunarLander-v3": (10_000, 200.0),
}
DEFAULT_ENV = {
    "ppo": "CartPole-v1",
    "a2c": "CartPole-v1",
    "dqn": "CartPole-v1",
    "sac": "Pendulum-v1",
}

# -- rl-baselines3-zoo's hyperparameters, key for key (see the docstring for the files) ---------
# n_envs (1 when the zoo names none) and n_timesteps are the zoo's; the other keys go to the
# algorithm's constructor, "lin_X" as a linear schedule and policy_kwargs as a dict.
HYPERPARAMS = {
    ("ppo", "CartPole-v1"): {
        "n_envs": 8,
        "n_timesteps": 100_000,
        "policy": "MlpPolicy",
        "n_steps": 32,
        "batch_size": 256,
        "gae_lambda": 0.8,
        "gamma": 0.98,
        "n_epochs": 20,
        "ent_coef": 0.0,
        "learning_rate": "lin_0.001",
        "clip_range": "lin_0.2",
    },
    ("ppo", "LunarLander-v3"): {
        "n_envs": 16,
        "n_timesteps": 1_000_000,
        "policy": "MlpPolicy",
        "n_steps": 1024,
        "batch_size": 64,
        "gae_lambda": 0.98,
        "gamma": 0.999,
        "n_epochs": 4,
        "ent_coef": 0.01,
    },
    ("a2c", "CartPole-v1"): {
        "n_envs": 8,
        "n_timesteps": 500_000,
        "policy": "MlpPolicy",
        "ent_coef": 0.0,
    },
    ("dqn", "CartPole-v1"): {
        "n_envs": 1,
        "n_timesteps": 50_000,
        "policy": "MlpPolicy",
        "learning_rate": 2.3e-3,
        "batch_size": 64,
        "buffer_size": 100_000,
        "learning_starts": 1000,
        "gamma": 0.99,
        "target_update_interval": 10,
        "train_freq": 256,
        "gradient_steps": 128,
        "exploration_fraction": 0.16,
        "exploration_final_eps": 0.04,
        "policy_kwargs": {"net_arch": [256, 256]},
    },
    ("sac", "Pendulum-v1"): {
        "n_envs": 1,
        "n_timesteps": 20_000,
        "policy": "MlpPolicy",
        "learning_rate": 1e-3,
    },
}


def linear_schedule(initial: float):
    """The zoo's ``lin_X``: ``X * progress_remaining`` (1 at the start of learn, 0 at its end)."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    return schedule


def constructor_kwargs(params: dict) -> dict:
    """The zoo's entry as keyword arguments of the algorithm (schedules made callable)."""
    kwargs = {k: v for k, v in params.items() if k not in ("n_envs", "n_timesteps", "policy")}
    for key, value in kwargs.items():
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[key] = linear_schedule(float(value.removeprefix("lin_")))
    return kwargs


def greedy_returns(model, envs, episodes: int = EVAL_EPISODES):
    """Returns of ``episodes`` greedy episodes on the vector env ``envs`` (one per copy per
    round), as ``rlbook.train.evaluate`` plays them."""
    import numpy as np

    returns: list[float] = []
    while len(returns) < episodes:
        obs, _ = envs.reset()
        total = np.zeros(envs.num_envs)
        running = np.ones(envs.num_envs, dtype=bool)
        while running.any():
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = envs.step(action)
            total += reward * running
            running &= ~(terminated | truncated)
        returns.extend(total.tolist())
    return np.asarray(returns[:episodes])


def run(
    algo: str, env_id: str, seed: int, max_steps: int | None = None, progress: bool = False
) -> dict:
    """One run of the protocol; returns the JSON row (with `progress`, a stderr line per
    evaluation)."""
    import gymnasium as gym
    import stable_baselines3 as sb3
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    params = HYPERPARAMS[(algo, env_id)]
    eval_every, solved_at = PROTOCOL[env_id]
    budget = min(max_steps or params["n_timesteps"], params["n_timesteps"])

    class Protocol(BaseCallback):
        """Evaluates every `eval_every` steps outside the clock; stops when solved."""

        def __init__(self, start: float):
            super().__init__()
            self.start, self.eval_seconds = start, 0.0
            self.next_eval = eval_every
            self.last: dict | None = None
            self.solved = False

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.next_eval += eval_every
                now = time.perf_counter()
                train_s = now - self.start - self.eval_seconds
                mean = float(greedy_returns(self.model, eval_env).mean())
                self.eval_seconds += time.perf_counter() - now
                self.last = {"step": self.num_timesteps, "train_s": train_s, "mean": mean}
                self.solved = mean >= solved_at
                if progress:
                    print(
                        f"step {self.num_timesteps}: greedy mean {mean:.1f}, train_s {train_s:.1f}",
                        file=sys.stderr,
                        flush=True,
                    )
                if self.solved:
                    return False
            return self.num_timesteps < budget

    # The clock starts before every environment is built, the evaluation copies too, as in
    # rlbook.bench (its setup builds both and counts them).
    start = time.perf_counter()
    env = make_vec_env(env_id, n_envs=params["n_envs"], seed=seed)
    eval_env = gym.make_vec(
        env_id,
        num_envs=EVAL_EPISODES,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )
    eval_env.reset(seed=seed + 10_000)
    algorithm = getattr(sb3, algo.upper())
    model = algorithm(params["policy"], env, seed=seed, verbose=0, **constructor_kwargs(params))
    callback = Protocol(start)
    model.learn(total_timesteps=params["n_timesteps"], callback=callback)
    last = callback.last
    return {
        "algo": f"sb3_{algo}" if env_id == DEFAULT_ENV[algo] else f"sb3_{algo}_{env_id}",
        "seed": seed,
        "solved": callback.solved,
        "steps": int(last["step"]) if last else int(model.num_timesteps),
        "train_s": round(last["train_s"] if last else time.perf_counter() - start, 2),
        "eval_mean": round(last["mean"], 1) if last else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/sb3.py",
        description="Stable-Baselines3 with rl-baselines3-zoo hyperparameters under "
        "rlbook.bench's protocol. Prints one JSON line.",
    )
    parser.add_argument("algo", choices=sorted(DEFAULT_ENV), help="Stable-Baselines3 algorithm")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--env",
        default=None,
        help="environment (default: CartPole-v1, Pendulum-v1 for sac; "
        + ", ".join(f"{a} also on {e}" for a, e in HYPERPARAMS if e != DEFAULT_ENV[a])
        + ")",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many environment steps (default and most: the zoo's n_timesteps)",
    )
    parser.add_argument("--progress", action="store_true", help="one line per evaluation on stderr")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch.set_num_threads(N) first (default 1; 0 keeps PyTorch's default, one per core)",
    )
    args = parser.parse_args(argv)
    env_id = args.env or DEFAULT_ENV[args.algo]
    if (args.algo, env_id) not in HYPERPARAMS:
        parser.error(
            f"--env {env_id} has no zoo entry for {args.algo}; choose one of "
            + str(sorted(e for a, e in HYPERPARAMS if a == args.algo))
        )
    if args.max_steps is not None and args.max_steps < 1:
        parser.error(f"--max-steps must be a positive integer, got {args.max_steps}")
    # Imports happen before the clock starts (rlbook.bench imports TensorFlow first likewise).
    import gymnasium  # noqa: F401
    import stable_baselines3  # noqa: F401
    import torch

    if args.threads < 0:
        parser.error(f"--threads must be 0 (PyTorch's default) or more, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
        f"stable-baselines3 {stable_baselines3.__version__}",
        file=sys.stderr,
    )
    print(json.dumps(run(args.algo, env_id, args.seed, args.max_steps, args.progress)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
