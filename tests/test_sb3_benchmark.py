"""benchmarks/sb3.py, the Stable-Baselines3 comparison, read without running it.

It runs in its own venv (PyTorch, Stable-Baselines3), so these tests never import it: they read
its literal tables with ``ast`` and check them against rl-baselines3-zoo's values (as read from
the zoo's ``hyperparams/*.yml``, the files its docstring names) and against rlbook.bench's protocol.
"""

from __future__ import annotations

import ast
import pathlib

from rlbook import bench

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "sb3.py"


def _literal(name: str):
    """The value of the module-level assignment ``name = <literal>`` in benchmarks/sb3.py."""
    tree = ast.parse(SCRIPT.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"benchmarks/sb3.py has no literal {name} = ...")


def test_cartpole_ppo_is_the_zoos_entry():
    """rl-baselines3-zoo, hyperparams/ppo.yml, CartPole-v1 ("# Tuned")."""
    assert _literal("HYPERPARAMS")[("ppo", "CartPole-v1")] == {
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
    }


def test_the_other_entries_name_the_zoos_key_values():
    table = _literal("HYPERPARAMS")
    assert set(table) == {
        ("ppo", "CartPole-v1"),
        ("ppo", "LunarLander-v3"),
        ("a2c", "CartPole-v1"),
        ("dqn", "CartPole-v1"),
        ("sac", "Pendulum-v1"),
    }
    dqn = table[("dqn", "CartPole-v1")]
    assert (dqn["train_freq"], dqn["gradient_steps"]) == (256, 128)
    assert dqn["target_update_interval"] == 10 and dqn["exploration_fraction"] == 0.16
    assert dqn["learning_rate"] == 2.3e-3 and dqn["policy_kwargs"] == {"net_arch": [256, 256]}
    assert table[("sac", "Pendulum-v1")] == {
        "n_envs": 1,
        "n_timesteps": 20_000,
        "policy": "MlpPolicy",
        "learning_rate": 1e-3,
    }
    assert table[("a2c", "CartPole-v1")]["n_envs"] == 8
    lander = table[("ppo", "LunarLander-v3")]
    assert (lander["n_envs"], lander["n_steps"], lander["batch_size"], lander["n_epochs"]) == (
        16,
        1024,
        64,
        4,
    )
    assert (lander["gamma"], lander["gae_lambda"], lander["ent_coef"]) == (0.999, 0.98, 0.01)


def test_protocol_is_rlbook_bench_s():
    """Same evaluation interval, episodes and threshold as `python -m rlbook.bench`."""
    protocol = _literal("PROTOCOL")
    assert _literal("EVAL_EPISODES") == bench.EVAL_EPISODES
    assert protocol[bench.ENV_ID] == (bench.EVAL_EVERY, bench.SOLVED_AT)
    sac = bench.VARIANTS["sac"]
    assert protocol[sac.env] == (sac.eval_every, sac.solved_at)
    assert protocol["LunarLander-v3"] == (10_000, 200.0)
    defaults = _literal("DEFAULT_ENV")
    assert defaults == {
        "ppo": bench.ENV_ID,
        "a2c": bench.ENV_ID,
        "dqn": bench.ENV_ID,
        "sac": sac.env,
    }
    # every (algorithm, environment) the script can run has a protocol
    assert {env for _, env in _literal("HYPERPARAMS")} <= set(protocol)


def test_script_imports_nothing_of_rlbook_or_tensorflow():
    """Its venv has neither; it imports torch and Stable-Baselines3 only inside functions."""
    tree = ast.parse(SCRIPT.read_text())
    top = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert top <= {"__future__", "argparse", "json", "sys", "time"}, top
    every = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not every & {"rlbook", "tensorflow", "keras"}, every


def _script():
    """benchmarks/sb3.py as a module: its top level imports only the standard library."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sb3_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_zoo_schedules_and_keywords():
    script = _script()
    kwargs = script.constructor_kwargs(_literal("HYPERPARAMS")[("ppo", "CartPole-v1")])
    assert "n_envs" not in kwargs and "n_timesteps" not in kwargs and "policy" not in kwargs
    # lin_X: X at the start of learn (progress_remaining 1), X/4 three quarters in, 0 at the end
    assert [kwargs["learning_rate"](p) for p in (1.0, 0.25, 0.0)] == [0.001, 0.00025, 0.0]
    assert kwargs["clip_range"](0.5) == 0.1
    assert kwargs["n_steps"] == 32 and kwargs["gamma"] == 0.98


def test_greedy_returns_are_what_rlbook_evaluate_measures():
    """The same greedy policy on the same seeded copies gives the same ten returns."""
    import gymnasium as gym
    import numpy as np

    from rlbook.envs import make_vec_env
    from rlbook.train import evaluate

    def policy(obs):  # push the cart towards the side the pole leans to
        return (obs[:, 2] > 0).astype(np.int64)

    class SB3Like:
        def predict(self, obs, deterministic=False):
            assert deterministic
            return policy(obs), None

    class RlbookLike:
        def act(self, obs, greedy=False):
            assert greedy
            return policy(obs)

    envs = gym.make_vec(
        "CartPole-v1",
        num_envs=10,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )
    envs.reset(seed=10_007)
    theirs = _script().greedy_returns(SB3Like(), envs)
    ours = evaluate(RlbookLike(), make_vec_env("CartPole-v1", 10, seed=10_007))
    assert theirs.shape == (10,) and np.array_equal(theirs, ours), (theirs, ours)
    assert len(set(theirs.tolist())) > 1  # the copies are seeded apart, not one episode ten times
