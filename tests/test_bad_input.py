"""Bad input at the public entry points gets one clear error naming the parameter.

Each test here was a failure of the bad-input policy (docs/bad-input.md): a deep NumPy,
TensorFlow, Gymnasium or matplotlib error, a Python error without the parameter's name, a
silently wrong result, or a run that trained for minutes and then could not save.
"""

import math
import os

import gymnasium as gym
import numpy as np
import pytest

from rlbook import checkpoint
from rlbook.agents import ALGORITHMS, algorithm, load
from rlbook.cli import main
from rlbook.envs import make_env, make_vec_env
from rlbook.train import History, evaluate, train

BOX4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
PENDULUM_OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
PENDULUM_ACT = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


def _spaces(name):
    if ALGORITHMS[name].tabular:
        return gym.spaces.Discrete(16), gym.spaces.Discrete(4)
    if name == "sac":
        return PENDULUM_OBS, PENDULUM_ACT
    return BOX4, gym.spaces.Discrete(2)


def _agent(name, **kwargs):
    return ALGORITHMS[name].agent_class(*_spaces(name), **kwargs)


# -- configs and constructors ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_a_seed_tensorflow_cannot_take_is_refused_by_every_config(name):
    # Before: accepted, then TensorFlow's "Can't convert Python sequence with out-of-range
    # integer to Tensor" when the agent was built (or on `rlbook train --seed`).
    config_class = ALGORITHMS[name].config_class
    with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 2\*\*32 - 1"):
        config_class(seed=2**64)
    assert config_class(seed=2**32 - 1).seed == 2**32 - 1


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_a_config_of_another_class_is_refused(name):
    # Before: QLearningAgent kept a DQNConfig (and read its fields by name later); the others
    # raised dataclasses' "must be called with a dataclass type or instance" for config="x".
    entry = ALGORITHMS[name]
    other = ALGORITHMS["sac" if name != "sac" else "dqn"].config_class()
    for config in (other, "x"):
        with pytest.raises(TypeError) as err:
            entry.agent_class(*_spaces(name), config=config)
        assert str(err.value).startswith(
            f"{entry.agent_class.__name__} needs config to be a {entry.config_class.__name__}"
        ), str(err.value)


@pytest.mark.parametrize("name", ["ppo", "sac"])
def test_a_box_action_space_without_dimensions_is_refused(name):
    # Before: Keras' "Received an invalid value for `units`, expected a positive integer".
    empty = gym.spaces.Box(-1.0, 1.0, (0,), np.float32)
    with pytest.raises(ValueError, match=r"Box action space of shape \(A,\) with finite bounds"):
        ALGORITHMS[name].agent_class(PENDULUM_OBS, empty)


@pytest.mark.parametrize("name", ["qlearning", "dqn", "reinforce", "actor_critic", "ppo"])
def test_discrete_actions_not_numbered_from_zero_are_refused(name):
    # Before: accepted; the agent then sent actions 0..n-1 to an environment numbering 1..n.
    obs_space = _spaces(name)[0]
    with pytest.raises(ValueError, match=r"numbered from 0 .* got Discrete\(2, start=1\)"):
        ALGORITHMS[name].agent_class(obs_space, gym.spaces.Discrete(2, start=1))


# -- acting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["dqn", "recurrent_dqn", "reinforce", "actor_critic", "ppo", "sac"]
)
def test_act_names_the_observation_shape_it_needs(name):
    # Before: NumPy's "cannot reshape array of size 3 into shape (4)" or "matmul: Input operand 1
    # has a mismatch in its core dimension 0", and SAC (before learning_starts) or DQN (a (2d,)
    # vector read as two observations) returned actions for a wrong observation without a word.
    agent = _agent(name)
    d = agent.obs_shape[0] if hasattr(agent, "obs_shape") else agent.obs_dim
    cls = type(agent).__name__
    for obs, got in [
        (np.zeros(d - 1, np.float32), f"shape ({d - 1},)"),
        (np.zeros(2 * d, np.float32), f"shape ({2 * d},)"),
        (np.zeros((2, d, 1), np.float32), f"shape (2, {d}, 1)"),
        (0.0, "shape ()"),
        (["a"] * d, "list"),
    ]:
        for greedy in (False, True):
            with pytest.raises(ValueError) as err:
                agent.act(obs, greedy=greedy)
            message = str(err.value)
            assert message.startswith(f"{cls}.act needs obs of shape ({d},) (one observation)")
            assert got in message, message
    # One observation and a batch still work as before.
    one, batch = np.zeros(d, np.float32), np.zeros((3, d), np.float32)
    assert np.shape(agent.act(one, greedy=True)) == np.shape(agent.act(batch, greedy=True))[1:]
    assert len(agent.act(batch, greedy=True)) == 3


# -- train and evaluate --------------------------------------------------------------------


class _CountingAgent:
    """Counts its steps: a refused call must refuse before the first one."""

    def __init__(self):
        self.steps = 0

    def act(self, obs, greedy=False):
        self.steps += 1
        return 0

    def observe(self, *transition):
        return None


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(stop_at=195.0), ValueError, "stop_at needs eval_every= and eval_env="),
        (
            dict(stop_at=math.nan, eval_every=10),
            ValueError,
            "stop_at must be a finite number (a mean return) or None, got nan",
        ),
        (dict(stop_at="x", eval_every=10), ValueError, "stop_at must be a finite number"),
        (
            dict(eval_every=10, eval_episodes=0),
            ValueError,
            "eval_episodes must be a positive integer, got 0",
        ),
        (dict(eval_every=10, eval_episodes="3"), ValueError, "eval_episodes must be a positive"),
        (dict(callback="x"), TypeError, "callback must be a function of the History"),
        (dict(history=[]), TypeError, "history must be a rlbook.train.History"),
    ],
)
def test_train_refuses_bad_arguments_before_the_first_step(kwargs, error, message):
    # Before: stop_at without eval_every (or NaN) never stopped anything, silently; eval_episodes
    # failed after eval_every steps, naming "episodes"; a bad callback or history failed later with
    # "'str' object is not callable" or an AttributeError.
    env = make_env("CartPole-v1", seed=0)
    agent = _CountingAgent()
    if "eval_every" in kwargs:
        kwargs = {**kwargs, "eval_env": make_env("CartPole-v1", seed=1)}
    with pytest.raises(error) as err:
        train(agent, env, steps=100, progress=False, **kwargs)
    assert str(err.value).startswith(message), str(err.value)
    assert agent.steps == 0


def test_train_and_evaluate_refuse_what_is_not_an_environment_or_an_agent():
    # Before: AttributeError: 'str' object has no attribute 'reset' (or 'act').
    env = make_env("CartPole-v1", seed=0)
    for call in (
        lambda: train(_CountingAgent(), "CartPole-v1", steps=10, progress=False),
        lambda: evaluate(_CountingAgent(), "CartPole-v1", 1),
    ):
        with pytest.raises(TypeError, match=r"env must be a gymnasium.Env .* got 'CartPole-v1'; "):
            call()
    with pytest.raises(TypeError, match="make one with rlbook.envs.make_env"):
        train(_CountingAgent(), "CartPole-v1", steps=10, progress=False)
    with pytest.raises(TypeError, match=r"agent must be an agent object with act\(\) and observe"):
        train(None, env, steps=10, progress=False)


def test_a_table_is_refused_a_box_environment_and_an_agent_the_wrong_number_of_copies():
    # Before: the table's random first action (3) hit CartPole's assertion "3 (<class 'int'>)
    # invalid", or evaluate failed with "unhashable type: 'numpy.ndarray'"; an agent built for one
    # copy failed on four with NumPy's "cannot reshape array of size 16 into shape (1,4)".
    pole = make_env("CartPole-v1", seed=0)
    table = _agent("qlearning")
    for call in (
        lambda: train(table, pole, steps=10, progress=False),
        lambda: evaluate(table, pole, 1),
    ):
        with pytest.raises(TypeError, match="QLearningAgent keeps a table of Discrete states"):
            call()
    dqn = ALGORITHMS["dqn"].agent_class(pole.observation_space, pole.action_space)
    with pytest.raises(
        ValueError, match="built for num_envs=1 environment copies, but env steps 4"
    ):
        train(dqn, make_vec_env("CartPole-v1", 4, seed=0), steps=100, progress=False)


@pytest.mark.parametrize("episodes", [0, 2.5, "3", None, True])
def test_evaluate_names_episodes(episodes):
    # Before: TypeError "'<' not supported between instances of 'str' and 'int'" or NumPy's
    # "expected a sequence of integers or a single integer, got '2.5'".
    with pytest.raises(ValueError, match=f"episodes must be a positive integer, got {episodes!r}"):
        evaluate(_CountingAgent(), make_env("CartPole-v1"), episodes)


def test_history_rolling_mean_names_its_window():
    # Before: window=0 gave NaNs with a division warning; -3 an IndexError.
    history = History(episode_returns=[1.0, 2.0, 3.0])
    for window in (0, -3, 2.5):
        with pytest.raises(ValueError, match=f"window must be a positive integer, got {window}"):
            history.rolling_mean(window)


# -- environments and the algorithm table -------------------------------------------------------


def test_make_env_and_make_vec_env_name_what_they_accept():
    # Before: Gymnasium's NameNotFound, "Seed must be a python integer" from deep in its seeding,
    # "'float' object cannot be interpreted as an integer", and num_envs=True made one copy.
    for call in (lambda: make_env("NoSuchEnv-v0"), lambda: make_vec_env("NoSuchEnv-v0", 2)):
        with pytest.raises(ValueError, match=r"cannot make environment 'NoSuchEnv-v0': .*exist"):
            call()
    with pytest.raises(ValueError, match="provides versioned environments"):
        make_env("CartPole-v9")
    for seed in (-1, "a", 1.0):
        with pytest.raises(ValueError, match=f"seed must be an integer >= 0, got {seed!r}"):
            make_env("CartPole-v1", seed=seed)
        with pytest.raises(ValueError, match=f"seed must be an integer >= 0, got {seed!r}"):
            make_vec_env("CartPole-v1", 2, seed=seed)
    for copies in (0, 2.0, "2", True):
        with pytest.raises(
            ValueError, match=f"num_envs must be a positive integer, got {copies!r}"
        ):
            make_vec_env("CartPole-v1", copies)
    with pytest.raises(TypeError, match="env_id must be a string such as 'CartPole-v1', got None"):
        make_env(None)


def test_algorithm_lists_the_names_whatever_it_is_given():
    # Before: TypeError: unhashable type: 'list'.
    with pytest.raises(ValueError, match=r"unknown algorithm \['dqn'\]; choose one of"):
        algorithm(["dqn"])


# -- checkpoints ------------------------------------------------------------------------------


def test_save_refuses_a_path_it_cannot_write_and_leaves_nothing_behind(tmp_path, monkeypatch):
    # Before: FileNotFoundError naming a temporary file ('.../x.ckpt.opzm_0a6.tmp') for a missing
    # directory; IsADirectoryError with the temporary name for a directory; metadata="x" and
    # replay="yes" were written without a word.
    agent = _agent("qlearning")
    monkeypatch.chdir(tmp_path)
    os.mkdir("adir")
    with pytest.raises(FileNotFoundError, match="the directory 'nodir' does not exist"):
        agent.save("nodir/agent.ckpt")
    with pytest.raises(
        checkpoint.CheckpointError, match="cannot save to 'adir': it is a directory"
    ):
        agent.save("adir")
    with pytest.raises(TypeError, match="metadata must be a dict"):
        agent.save("a.ckpt", metadata="x")
    with pytest.raises(TypeError, match="replay must be True or False, got 'yes'"):
        agent.save("a.ckpt", replay="yes")
    with pytest.raises(TypeError, match="path must be a file path"):
        agent.save(None)
    with pytest.raises(ValueError, match="path must name a file, got ''"):
        agent.save("")
    assert sorted(os.listdir(".")) == ["adir"] and os.listdir("adir") == []


def test_load_says_a_directory_is_not_a_checkpoint(tmp_path):
    # Before: "'adir' is not a readable rlbook checkpoint: it is truncated or corrupt
    # (IsADirectoryError ...)", and "expected str, bytes or os.PathLike object" for None.
    with pytest.raises(checkpoint.CheckpointError, match="is a directory, not a checkpoint file"):
        load(str(tmp_path))
    with pytest.raises(TypeError, match=r"path must be a file path \(a str or os.PathLike\)"):
        load(None)


# -- the command line and the benchmark ------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--save", "nodir/x.ckpt"], "--save nodir/x.ckpt: the directory nodir does not exist"),
        (["--save", "adir"], "--save adir is a directory"),
        (["--history", "nodir/h.json"], "--history nodir/h.json: the directory nodir does not"),
        (["--logdir", "afile"], "--logdir afile is a file; give a directory"),
        (
            ["--stop-at", "nan", "--eval-every", "100"],
            "--stop-at must be a finite number (a mean return), got nan",
        ),
    ],
)
def test_train_refuses_an_output_it_could_not_write_before_training(
    capsys, tmp_path, monkeypatch, argv, message
):
    # Before: the run trained, then died with a traceback in agent.save (or _write_history, or
    # the TensorBoard writer) and everything it learned was lost; --stop-at nan never stopped.
    monkeypatch.chdir(tmp_path)
    os.mkdir("adir")
    open("afile", "w").close()
    code = main(["train", "qlearning", "--steps", "100", "--no-progress", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"rlbook train qlearning: error: {message}") and err.count("\n") == 1


def test_evaluate_checks_seed_and_fps_before_playing(capsys, tmp_path):
    # Before: --seed -1 reached Gymnasium ("Seed must be greater or equal to zero") through a
    # misleading "the checkpoint's agent does not fit"; --fps 0 only after the episodes.
    path = str(tmp_path / "ql.ckpt")
    _agent("qlearning").save(path, metadata={"env_id": "FrozenLake-v1"})
    for argv, message in [
        (["--seed", "-1"], "--seed must be an integer >= 0, got -1"),
        (["--render", str(tmp_path / "x.gif"), "--fps", "0"], "--fps must be a positive integer"),
    ]:
        assert main(["evaluate", path, "--episodes", "1", *argv]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.startswith(f"rlbook evaluate: error: {message}"), err


def test_the_benchmark_checks_its_run_before_starting_it(capsys):
    # Before: --seed -1 ended in a traceback from Gymnasium's seeding; max_steps=0 silently ran
    # the default budget; a task without a seed failed with "not enough values to unpack".
    from rlbook import bench

    with pytest.raises(SystemExit) as exit_:
        bench.main(["qlearning", "--seed", "-1"])
    assert exit_.value.code == 2
    assert "error: --seed must be an integer from 0 to 2**32 - 1, got -1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_steps must be a positive integer, got 0"):
        bench.run("qlearning", 0, max_steps=0)
    with pytest.raises(
        ValueError, match=r"each task must be a pair \(algo, seed\), got \('dqn',\)"
    ):
        bench.run_histories([("dqn",)])
    with pytest.raises(ValueError, match="unknown algorithm 'nosuch'"):
        bench.run_histories([("nosuch", 0)])


# -- plots and widgets --------------------------------------------------------------------------


def test_plots_name_their_bad_arguments():
    # Before: NaN curves for window=0, matplotlib's "x and y must have same first dimension" for a
    # list against steps, "'History' object is not iterable", KeyError 5 for a missing arrow,
    # matplotlib's KeyError for a colormap, "cannot unpack non-iterable int object" for shape=16.
    import matplotlib

    matplotlib.use("Agg")
    from rlbook.plots import FROZENLAKE_ARROWS, curves_with_spread, learning_curve, q_grid

    history = History(episode_returns=[1.0, 2.0], episode_end_steps=[5, 9])
    with pytest.raises(ValueError, match="window must be a positive integer, got 0"):
        learning_curve(history, window=0)
    with pytest.raises(ValueError, match="x='step' needs a History"):
        learning_curve([1.0, 2.0], x="step")
    with pytest.raises(TypeError, match="history must be a rlbook.train.History or a sequence"):
        learning_curve(None)
    with pytest.raises(TypeError, match=r"got one History \(pass \[history\]\)"):
        curves_with_spread(history)
    with pytest.raises(ValueError, match="points must be an integer >= 2, got 1"):
        curves_with_spread([history], points=1)
    q = np.arange(16 * 6, dtype=float).reshape(16, 6)
    with pytest.raises(ValueError, match=r"arrows has no arrow for the actions \[4, 5\]"):
        q_grid(q, (4, 4), FROZENLAKE_ARROWS)
    with pytest.raises(ValueError, match="cmap must be a matplotlib colormap name"):
        q_grid(q[:, :4], (4, 4), FROZENLAKE_ARROWS, cmap="nope")
    with pytest.raises(ValueError, match="shape must be \\(rows, cols\\) of the grid"):
        q_grid(q[:, :4], 16, FROZENLAKE_ARROWS)
    with pytest.raises(ValueError, match="q_table must be an array of Q-values of shape"):
        q_grid(np.zeros(16), (4, 4), FROZENLAKE_ARROWS)
    with pytest.raises(ValueError, match=r"desc must have the grid's shape \(4, 4\), got \(3, 3\)"):
        q_grid(q[:, :4], (4, 4), FROZENLAKE_ARROWS, desc=np.full((3, 3), "F"))


def test_widgets_name_their_bad_arguments():
    # Before: gamma=1.5 drew a wrong figure without a word; an empty gammas list reached
    # matplotlib ("Number of rows must be a positive integer"); epsilon=1.5 was reported as
    # epsilon_start, a name the caller never wrote.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlbook import widgets

    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\], got 1.5"):
        widgets.draw_gamma(1.5, axes)
    with pytest.raises(ValueError, match="episode_length must be a positive integer, got 0"):
        widgets.draw_gamma(0.9, axes, episode_length=0)
    plt.close("all")
    with pytest.raises(ValueError, match=r"each of gammas must be a number in \[0, 1\], got 1.5"):
        widgets.gamma_small_multiples(gammas=(0.9, 1.5))
    with pytest.raises(TypeError, match="gammas must be a non-empty sequence of numbers"):
        widgets.tabular_small_multiples(gammas=[])
    with pytest.raises(TypeError, match="epsilons must be a non-empty sequence of numbers"):
        widgets.tabular_small_multiples(epsilons=0.1)
    with pytest.raises(ValueError, match=r"^epsilon must be a number in \[0, 1\], got 1.5"):
        widgets.tabular_experiment(epsilon=1.5)
