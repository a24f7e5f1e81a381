"""The command line: help, the train -> save -> evaluate round trip, determinism, errors."""

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

from rlbook import checkpoint
from rlbook.agents import ALGORITHMS
from rlbook.cli import main

# Budgets and networks small enough for a second or two per algorithm.
FAST = {
    "qlearning": ["--steps", "3000"],
    "dqn": [
        "--steps",
        "600",
        "--hidden",
        "16",
        "--learning-starts",
        "200",
        "--train-every",
        "32",
        "--gradient-steps",
        "2",
        "--batch-size",
        "16",
        "--num-envs",
        "2",
    ],
    "reinforce": [
        "--steps",
        "600",
        "--hidden",
        "16",
        "--batch-episodes",
        "2",
        "--baseline-steps",
        "2",
        "--num-envs",
        "2",
    ],
    "actor_critic": [
        "--steps",
        "600",
        "--hidden",
        "16",
        "--n-steps",
        "8",
        "--critic-steps",
        "2",
        "--num-envs",
        "2",
    ],
    "ppo": [
        "--steps",
        "600",
        "--hidden",
        "16",
        "--n-steps",
        "16",
        "--update-epochs",
        "2",
        "--num-minibatches",
        "2",
        "--num-envs",
        "2",
    ],
    "sac": [
        "--steps",
        "400",
        "--hidden",
        "16",
        "--batch-size",
        "32",
        "--learning-starts",
        "100",
        "--train-every",
        "16",
        "--gradient-steps",
        "2",
    ],
}
ENV = {
    "qlearning": "FrozenLake-v1",
    "dqn": "CartPole-v1",
    "reinforce": "CartPole-v1",
    "actor_critic": "CartPole-v1",
    "ppo": "CartPole-v1",
    "sac": "Pendulum-v1",
}


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("RLBOOK_PROGRESS", "0")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _mean(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, text
    return float(match.group(1))


@pytest.mark.parametrize("algo", ["qlearning", "dqn", "reinforce", "actor_critic", "ppo", "sac"])
def test_train_save_evaluate_round_trip(capsys, tmp_path, algo):
    ckpt = str(tmp_path / "ckpt")
    code, out, _ = run(
        capsys, "train", algo, "--env", ENV[algo], "--seed", "0", "--save", ckpt, *FAST[algo]
    )
    assert code == 0 and out.count("\n") == 1  # one summary line
    sampling = "epsilon-greedy, epsilon" if algo in ("qlearning", "dqn") else "actions sampled"
    assert f"stochastic evaluation ({sampling}" in out and "cut by the time limit" in out
    trained = _mean(r"greedy evaluation over 10 episodes: mean (-?[\d.]+)", out)
    code, out, _ = run(capsys, "evaluate", ckpt, "--episodes", "10")
    assert code == 0
    assert _mean(r"10 greedy episodes: mean (-?[\d.]+)", out) == trained
    assert checkpoint.read_header(ckpt)["metadata"]["env_id"] == ENV[algo]


def test_help_lists_every_config_field(capsys):
    for algo in ("qlearning", "dqn", "reinforce", "actor_critic", "ppo", "sac"):
        with pytest.raises(SystemExit) as exit_:
            main(["train", algo, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        for field in dataclasses.fields(ALGORITHMS[algo].config_class):
            if field.name != "seed":  # --seed is the run's seed, shared by env and agent
                assert "--" + field.name.replace("_", "-") in text, (algo, field.name)
        for flag in ("--env", "--steps", "--episodes", "--seed", "--logdir", "--save"):
            assert flag in text
    for argv in (["--help"], ["evaluate", "--help"], ["bench", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
    assert "time-to-solve" in capsys.readouterr().out.lower()


def test_flags_become_config_fields(capsys, tmp_path):
    ckpt = str(tmp_path / "c")
    code, _, _ = run(
        capsys,
        "train",
        "dqn",
        "--no-dueling",
        "--double",
        "--gamma",
        "0.9",
        "--tau",
        "0.5",
        "--save",
        ckpt,
        "--eval-episodes",
        "1",
        *FAST["dqn"],
    )
    config = checkpoint.read_header(ckpt)["config"]
    assert (
        code == 0
        and config["dueling"] is False
        and config["double"] is True
        and config["hidden"] == [16]
    )
    assert (
        config["gamma"] == 0.9 and config["tau"] == 0.5 and config["lr"] == 2e-3
    )  # untouched: the default


def test_tabular_on_a_box_task_with_the_discretizer_logs_and_render(capsys, tmp_path):
    ckpt, gif = str(tmp_path / "q"), str(tmp_path / "ep.gif")
    code, out, _ = run(
        capsys,
        "train",
        "qlearning",
        "--env",
        "CartPole-v1",
        "--steps",
        "2000",
        "--bins",
        "1",
        "1",
        "6",
        "6",
        "--low",
        "-2.4",
        "-2",
        "-0.42",
        "-3.5",
        "--high",
        "2.4",
        "2",
        "0.42",
        "3.5",
        "--save",
        ckpt,
        "--logdir",
        str(tmp_path / "tb"),
        "--eval-episodes",
        "2",
    )
    assert code == 0 and any(
        f.startswith("events.out.tfevents") for f in os.listdir(tmp_path / "tb")
    )
    code, out, _ = run(capsys, "evaluate", ckpt, "--episodes", "2", "--render", gif)
    assert code == 0 and "wrote" in out
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames > 5 and im.size[0] <= 320


def test_an_environment_without_a_time_limit_gets_one_so_a_looping_policy_cannot_hang(
    capsys, tmp_path
):
    """CliffWalking-v1 has no time limit: an under-trained greedy policy that walks into a wall
    forever used to hang the final evaluation."""
    from rlbook.cli import make_envs
    from rlbook.envs import MAX_EPISODE_STEPS

    assert make_envs("CliffWalking-v1", 1, 0, {}, None).spec.max_episode_steps == MAX_EPISODE_STEPS
    assert make_envs("CartPole-v1", 1, 0, {}, None).spec.max_episode_steps == 500  # its own stays
    ckpt = str(tmp_path / "cliff")
    code, out, _ = run(
        capsys,
        "train",
        "qlearning",
        "--env",
        "CliffWalking-v1",
        "--steps",
        "300",
        "--max-episode-steps",
        "50",
        "--save",
        ckpt,
    )
    assert code == 0 and "greedy evaluation over 10 episodes" in out
    assert checkpoint.read_header(ckpt)["metadata"]["env_kwargs"] == {"max_episode_steps": 50}
    greedy = _mean(r"greedy evaluation over 10 episodes: mean (-?[\d.]+)", out)
    assert -50 * 100 <= greedy < 0  # at most 50 steps of at most -100 each
    code, out, _ = run(capsys, "evaluate", ckpt)
    assert code == 0 and _mean(r"10 greedy episodes: mean (-?[\d.]+)", out) == greedy


def test_same_seed_same_returns_across_two_cli_processes(tmp_path):
    """Two separate `python -m rlbook` processes with the same seed log identical episodes."""
    env = {**os.environ, "RLBOOK_PROGRESS": "0", "PYTHONHASHSEED": "0"}
    histories = []
    for i in range(2):
        path = tmp_path / f"h{i}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rlbook",
                "train",
                "qlearning",
                "--steps",
                "3000",
                "--seed",
                "5",
                "--history",
                str(path),
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        histories.append(json.loads(path.read_text()))
    assert histories[0]["episode_returns"] == histories[1]["episode_returns"]
    assert [e["mean"] for e in histories[0]["evaluations"]] == [
        e["mean"] for e in histories[1]["evaluations"]
    ]


def test_same_seed_same_returns_across_two_cli_runs_of_a_network_agent(capsys, tmp_path):
    runs = []
    for i in range(2):
        path = tmp_path / f"h{i}.json"
        assert (
            run(
                capsys,
                "train",
                "actor_critic",
                "--seed",
                "4",
                "--history",
                str(path),
                "--eval-episodes",
                "1",
                *FAST["actor_critic"],
            )[0]
            == 0
        )
        runs.append(json.loads(path.read_text()))
    assert (
        runs[0]["episode_returns"] == runs[1]["episode_returns"]
        and runs[0]["metrics"] == runs[1]["metrics"]
    )


def test_a_diverging_run_stops_with_exit_code_1_and_keeps_the_old_checkpoint(
    capsys, tmp_path, monkeypatch
):
    from rlbook.agents.qlearning import QLearningAgent

    ckpt = tmp_path / "ckpt"
    ckpt.write_bytes(b"the previous checkpoint")
    monkeypatch.setattr(QLearningAgent, "observe", lambda self, *transition: {"loss": float("inf")})
    code, out, err = run(capsys, "train", "qlearning", "--steps", "100", "--save", str(ckpt))
    assert (
        code == 1
        and "training stopped at step 1: the agent reported loss=inf" in err
        and "lower learning rate" in err
    )
    assert ckpt.read_bytes() == b"the previous checkpoint"


def test_ctrl_c_saves_what_was_learned_and_exits_with_130(capsys, tmp_path, monkeypatch):
    from rlbook.agents.qlearning import QLearningAgent

    observe, calls = QLearningAgent.observe, []

    def interrupted(self, *transition):
        calls.append(1)
        if len(calls) == 500:
            raise KeyboardInterrupt  # what Ctrl-C raises in the middle of training
        return observe(self, *transition)

    monkeypatch.setattr(QLearningAgent, "observe", interrupted)
    ckpt, hist = tmp_path / "ckpt", tmp_path / "h.json"
    code, out, _ = run(
        capsys, "train", "qlearning", "--steps", "3000", "--save", str(ckpt), "--history", str(hist)
    )
    assert code == 130 and "interrupted, no final evaluation" in out and f"saved {ckpt}" in out
    history = json.loads(hist.read_text())
    assert history["interrupted"] and history["steps"] == 499 and history["evaluations"] == []
    assert checkpoint.read_header(str(ckpt))["metadata"]["steps"] == 499


def _nan_pole(**kwargs):
    """CartPole whose 5th observation holds a NaN (registered below as NaNPole-v0)."""
    import gymnasium as gym
    import numpy as np

    class NaNAtStep5(gym.Wrapper):
        t = 0

        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.t += 1
            return (obs * np.nan if self.t == 5 else obs), reward, terminated, truncated, info

    return NaNAtStep5(gym.make("CartPole-v1", **kwargs))


def test_a_nan_observation_stops_the_cli_with_one_line_and_exit_code_1(capsys, tmp_path):
    import gymnasium as gym

    if "NaNPole-v0" not in gym.registry:
        gym.register("NaNPole-v0", entry_point=_nan_pole)
    code, out, err = run(
        capsys,
        "train",
        "actor_critic",
        "--env",
        "NaNPole-v0",
        "--num-envs",
        "1",
        "--history",
        str(tmp_path / "h.json"),
        *FAST["actor_critic"][:-2],
    )
    assert code == 1 and out == "" and "Traceback" not in err
    assert (
        "rlbook train: training stopped at step 5: "
        "the environment returned a non-finite observation" in err
    )
    assert json.loads((tmp_path / "h.json").read_text())["steps"] == 4


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "dqn", "--steps", "abc"], "--steps expects an integer, got 'abc'"),
        (["train", "dqn", "--hidden", "64x"], "--hidden expects one or more integers, got '64x'"),
        (["train", "dqn", "--gamma", "x"], "--gamma expects a number, got 'x'"),
        (["train", "dqn", "--gamma"], "--gamma expects a number, got nothing"),
        (
            ["train", "qlearning", "--bins", "6", "a"],
            "--bins expects one or more integers, got '6 a'",
        ),
        (["evaluate", "ckpt", "--episodes", "ten"], "--episodes expects an integer, got 'ten'"),
    ],
)
def test_a_value_of_the_wrong_type_gets_the_one_line_error_of_a_bad_config_value(
    capsys, argv, message
):
    # the same format as `rlbook train dqn --gamma 1.5` (a value the config refuses)
    sub = " ".join(argv[:2]) if argv[0] == "train" else "evaluate"
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"rlbook {sub}: error: {message}\n"


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["train", "dqn", "--gamma", "1.5"], 2, "gamma must be a number in [0, 1], got 1.5"),
        (
            ["train", "dqn", "--model-type", "cnn"],
            2,
            "model_type must be one of 'dense', 'conv', 'lstm', got 'cnn'",
        ),
        (["train", "dqn", "--env", "FrozenLake-v1"], 2, "DQN needs a Box observation space"),
        (["train", "dqn", "--env", "NoSuchEnv-v0"], 2, "cannot make environment 'NoSuchEnv-v0'"),
        (["train", "qlearning", "--env", "CartPole-v1"], 2, "On the command line: --bins N"),
        (["train", "qlearning", "--num-envs", "4"], 2, "QLearningAgent steps one environment"),
        (["train", "reinforce", "--stop-at", "400"], 2, "--stop-at needs --eval-every"),
        (["train", "dqn", "--lrr", "0.1"], 2, "Unrecognized options: --lrr"),
        (
            ["train", "dqn", "--model-type", "lstm"],
            2,
            "RecurrentDQNAgent(...) (rlbook.agents.recurrent_dqn) "
            "On the command line: rlbook train recurrent_dqn.",
        ),
        (["train", "dqn", "--hidden", "0"], 2, "hidden must be a tuple of positive integers"),
        (
            ["train", "dqn", "--seed", "-3"],
            2,
            "seed must be an integer from 0 to 2**32 - 1 (or None), got -3",
        ),
        (["train", "dqn", "--env-kwarg", "oops"], 2, "--env-kwarg expects KEY=VALUE, got 'oops'"),
        (["train", "actor_critic", "--steps", "0"], 2, "--steps must be a positive integer, got 0"),
        (["evaluate", "no/such/file"], 2, "no checkpoint at 'no/such/file'"),
    ],
)
def test_bad_arguments_get_one_clear_line(capsys, argv, code, message):
    try:
        got = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        got = exit_.code
    assert got == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_evaluate_tells_a_missing_path_from_a_broken_file(capsys, tmp_path):
    # A path that does not exist is a bad argument (2); a file that is not a checkpoint is a
    # failure of the work (1). Both get one error line and no traceback.
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"not a checkpoint")
    for path, want in ((tmp_path / "missing.ckpt", 2), (broken, 1)):
        code, out, err = run(capsys, "evaluate", str(path))
        assert code == want, (path, err)
        assert out == "" and err.startswith("rlbook evaluate: error: ") and "Traceback" not in err


# -- the table of bad inputs (docs/bad-input.md) ------------------------------------------
#
# Each row: (what the user wrote, a function doing it). The table of docs/bad-input.md is generated
# from these calls, and the test below checks that the messages it shows are still what the code
# says.


def _cartpole():
    from rlbook.envs import make_env

    return make_env("CartPole-v1", seed=0)


def _bad_qlearning_box():
    from rlbook.agents.qlearning import QLearningAgent

    env = _cartpole()
    QLearningAgent(env.observation_space, env.action_space)


def _bad_qlearning_tuple():
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env

    env = make_env("Blackjack-v1")
    QLearningAgent(env.observation_space, env.action_space)


def _bad_dqn_continuous():
    from rlbook.agents.dqn import DQNAgent
    from rlbook.envs import make_env

    env = make_env("Pendulum-v1")
    DQNAgent(env.observation_space, env.action_space)


def _bad_sac_discrete():
    from rlbook.agents.sac import SACAgent

    env = _cartpole()
    SACAgent(env.observation_space, env.action_space)


def _bad_dqn_discrete_obs():
    from rlbook.agents.dqn import DQNAgent
    from rlbook.envs import make_env

    env = make_env("FrozenLake-v1")
    DQNAgent(env.observation_space, env.action_space)


def _bad_gamma():
    from rlbook.agents.dqn import DQNConfig

    DQNConfig(gamma=1.5)


def _bad_model_type():
    from rlbook.agents.dqn import DQNConfig

    DQNConfig(model_type="cnn")


def _bad_hidden():
    from rlbook.agents.dqn import DQNConfig

    DQNConfig(hidden=64)


def _bad_seed():
    from rlbook.agents.qlearning import QLearningConfig

    QLearningConfig(seed=-3)


def _bad_nan_observation():
    from rlbook.train import train

    class Agent:
        def act(self, obs, greedy=False):
            return 0

        def observe(self, *transition):
            return None

    train(Agent(), _nan_pole(), steps=100, progress=False)


def _bad_field():
    from rlbook.agents.actor_critic import ActorCriticAgent

    env = _cartpole()
    ActorCriticAgent(env.observation_space, env.action_space, learning_rate=0.1)


def _bad_pg_action():
    from rlbook.agents.reinforce import ReinforceAgent
    from rlbook.envs import make_env

    env = make_env("Pendulum-v1")
    ReinforceAgent(env.observation_space, env.action_space)


def _bad_low_high_shapes():
    from rlbook.envs import DiscretizedObservationWrapper

    DiscretizedObservationWrapper(
        _cartpole(), n_bins=6, low=[-2.4, -3, -0.2], high=[2.4, 3, 0.2, 3]
    )


def _bad_infinite_bounds():
    from rlbook.envs import DiscretizedObservationWrapper

    DiscretizedObservationWrapper(_cartpole(), n_bins=6)


def _bad_baseline_shape():
    import numpy as np

    from rlbook.losses import reinforce_loss

    reinforce_loss(np.zeros((3, 2)), [0, 1, 0], [1.0, 2.0, 3.0], baseline=np.zeros((3, 1)))


def _bad_returns_gamma():
    from rlbook.losses import discounted_returns

    discounted_returns([1.0, 1.0], [0, 1], gamma=1.2)


def _bad_no_budget():
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env
    from rlbook.train import train

    env = make_env("FrozenLake-v1")
    train(QLearningAgent(env.observation_space, env.action_space), env)


def _bad_nan_loss():
    from rlbook.envs import make_env
    from rlbook.train import train

    class Diverging:
        def act(self, obs, greedy=False):
            return 0

        def observe(self, *transition):
            return {"loss": float("nan")}

    train(Diverging(), make_env("CartPole-v1"), steps=100, progress=False)


def _bad_wrong_algorithm():
    from rlbook.agents.dqn import DQNAgent

    DQNAgent.load("ql.ckpt")


def _bad_wrong_architecture():
    from rlbook.agents.dqn import DQNAgent

    env = _cartpole()
    DQNAgent(env.observation_space, env.action_space, hidden=(32,)).restore("dqn.ckpt")


def _bad_corrupt():
    from rlbook.agents import load

    load("broken.ckpt")


def _bad_cli_box_qlearning():
    return main(["train", "qlearning", "--env", "CartPole-v1"])


def _bad_cli_gamma():
    return main(["train", "dqn", "--gamma", "1.5"])


def _bad_cli_type():
    return main(["train", "dqn", "--steps", "abc"])


def _bad_dqn_lstm():
    from rlbook.agents.dqn import DQNAgent

    env = _cartpole()
    DQNAgent(env.observation_space, env.action_space, model_type="lstm")


def _bad_ppo_unbounded_box():
    import gymnasium as gym
    import numpy as np

    from rlbook.agents.ppo import PPOAgent

    env = _cartpole()
    PPOAgent(env.observation_space, gym.spaces.Box(-np.inf, np.inf, (1,)))


def _bad_seed_too_large():
    from rlbook.agents.dqn import DQNConfig

    DQNConfig(seed=2**64)


def _bad_config_class():
    from rlbook.agents.dqn import DQNConfig
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env

    env = make_env("FrozenLake-v1")
    QLearningAgent(env.observation_space, env.action_space, config=DQNConfig())


def _bad_discrete_start():
    import gymnasium as gym

    from rlbook.agents.dqn import DQNAgent

    DQNAgent(_cartpole().observation_space, gym.spaces.Discrete(2, start=1))


def _bad_act_shape():
    import numpy as np

    from rlbook.agents.dqn import DQNAgent

    env = _cartpole()
    DQNAgent(env.observation_space, env.action_space).act(np.zeros(3, np.float32))


def _bad_stop_at():
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env
    from rlbook.train import train

    env = make_env("FrozenLake-v1")
    train(QLearningAgent(env.observation_space, env.action_space), env, steps=100, stop_at=0.7)


def _bad_unknown_env():
    from rlbook.envs import make_env

    make_env("CartPole-v9")


def _bad_save_missing_directory():
    from rlbook.agents import load

    load("ql.ckpt").save("no/such/dir/agent.ckpt")


def _bad_load_directory():
    from rlbook.agents import load

    load(".")


def _bad_cli_save_missing_directory():
    return main(["train", "dqn", "--save", "no/such/dir/dqn.ckpt"])


BAD_INPUTS = [
    ("`QLearningAgent(cartpole.observation_space, ...)` (a Box observation)", _bad_qlearning_box),
    (
        "`QLearningAgent(blackjack.observation_space, ...)` (a Tuple of Discrete observations)",
        _bad_qlearning_tuple,
    ),
    (
        "`DQNAgent(pendulum.observation_space, pendulum.action_space)` (continuous actions)",
        _bad_dqn_continuous,
    ),
    (
        "`DQNAgent(frozenlake.observation_space, ...)` (Discrete observations)",
        _bad_dqn_discrete_obs,
    ),
    ("`ReinforceAgent(pendulum.observation_space, pendulum.action_space)`", _bad_pg_action),
    ("`SACAgent(cartpole.observation_space, cartpole.action_space)`", _bad_sac_discrete),
    (
        "`PPOAgent(cartpole.observation_space, Box(-inf, inf, (1,)))` (unbounded actions)",
        _bad_ppo_unbounded_box,
    ),
    ("`DQNConfig(gamma=1.5)`", _bad_gamma),
    ('`DQNConfig(model_type="cnn")`', _bad_model_type),
    ('`DQNAgent(..., model_type="lstm")`', _bad_dqn_lstm),
    ("`DQNConfig(hidden=64)`", _bad_hidden),
    ("`QLearningConfig(seed=-3)`", _bad_seed),
    ("`DQNConfig(seed=2**64)` (more than TensorFlow takes)", _bad_seed_too_large),
    ("`QLearningAgent(..., config=DQNConfig())` (another algorithm's config)", _bad_config_class),
    (
        "`DQNAgent(cartpole.observation_space, Discrete(2, start=1))` (actions numbered from 1)",
        _bad_discrete_start,
    ),
    ("`dqn_agent.act(obs)` with 3 numbers for CartPole's 4", _bad_act_shape),
    ('`make_env("CartPole-v9")` (an unregistered id)', _bad_unknown_env),
    ("`ActorCriticAgent(..., learning_rate=0.1)` (no such field)", _bad_field),
    (
        "`DiscretizedObservationWrapper(cartpole, n_bins=6, low=[3 values], high=[4 values])`",
        _bad_low_high_shapes,
    ),
    (
        "`DiscretizedObservationWrapper(cartpole, n_bins=6)` "
        "(CartPole's velocity bounds are infinite)",
        _bad_infinite_bounds,
    ),
    (
        "`reinforce_loss(logits, actions, returns, baseline=critic_output)` "
        "with a `(N, 1)` baseline",
        _bad_baseline_shape,
    ),
    ("`discounted_returns(rewards, dones, gamma=1.2)`", _bad_returns_gamma),
    ("`train(agent, env)` (no budget)", _bad_no_budget),
    ("`train(agent, env, steps=100, stop_at=0.7)` (no `eval_every`)", _bad_stop_at),
    ("an agent whose loss becomes NaN during `train`", _bad_nan_loss),
    ("an environment whose 5th observation is NaN, during `train`", _bad_nan_observation),
    ('`DQNAgent.load("ql.ckpt")` (a Q-learning checkpoint)', _bad_wrong_algorithm),
    (
        '`DQNAgent(..., hidden=(32,)).restore("dqn.ckpt")` (saved with `hidden=(16,)`)',
        _bad_wrong_architecture,
    ),
    ('`rlbook.agents.load("broken.ckpt")` (a truncated file)', _bad_corrupt),
    ('`rlbook.agents.load(".")` (a directory)', _bad_load_directory),
    ('`agent.save("no/such/dir/agent.ckpt")`', _bad_save_missing_directory),
    ("`rlbook train qlearning --env CartPole-v1`", _bad_cli_box_qlearning),
    ("`rlbook train dqn --gamma 1.5`", _bad_cli_gamma),
    ("`rlbook train dqn --steps abc`", _bad_cli_type),
    ("`rlbook train dqn --save no/such/dir/dqn.ckpt`", _bad_cli_save_missing_directory),
]


def bad_input_messages(folder) -> list[tuple[str, str, str]]:
    """Run every bad input in ``folder``: ``(what, error type, message)`` rows.

    A CLI row's message is its stderr line."""
    import contextlib
    import io

    from rlbook.agents.dqn import DQNAgent
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env

    old = os.getcwd()
    os.chdir(folder)
    try:
        lake, pole = make_env("FrozenLake-v1"), _cartpole()
        QLearningAgent(lake.observation_space, lake.action_space).save("ql.ckpt")
        DQNAgent(pole.observation_space, pole.action_space, hidden=(16,)).save("dqn.ckpt")
        data = open("ql.ckpt", "rb").read()
        open("broken.ckpt", "wb").write(data[: len(data) // 2])
        rows = []
        for what, call in BAD_INPUTS:
            stderr = io.StringIO()
            try:
                with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                    code = call()
            except Exception as err:  # noqa: BLE001 - collecting messages is the point
                rows.append((what, type(err).__name__, str(err)))
                continue
            assert code, f"{what} was accepted"
            rows.append((what, f"exit code {code}", stderr.getvalue().strip()))
        return rows
    finally:
        os.chdir(old)


def test_bad_input_table_is_what_the_code_says(tmp_path):
    table = open(os.path.join(os.path.dirname(__file__), "..", "docs", "bad-input.md")).read()
    for what, error, message in bad_input_messages(tmp_path):
        cell = message.replace("|", "\\|").replace("\n", " ")
        assert f"| {what} | {error} | {cell} |" in table, (
            f"docs/bad-input.md is out of date for {what} (`python tests/test_cli.py` prints it)"
        )


if __name__ == "__main__":  # `python tests/test_cli.py` prints docs/bad-input.md's table
    import tempfile

    print("| what you did | error | message |\n| --- | --- | --- |")
    for what, error, message in bad_input_messages(tempfile.mkdtemp()):
        print(f"| {what} | {error} | {message.replace('|', chr(92) + '|').replace(chr(10), ' ')} |")
