"""The command line: help, the train -> save -> evaluate round trip, determinism, errors."""

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

from rlbook import checkpoint
from rlbook.cli import main

# Budgets and networks small enough for a second or two per algorithm.
FAST = {
    "qlearning": ["--steps", "3000"],
    "dqn": ["--steps", "600", "--hidden", "16", "--learning-starts", "200", "--train-every", "32",
            "--gradient-steps", "2", "--batch-size", "16", "--num-envs", "2"],
    "reinforce": ["--steps", "600", "--hidden", "16", "--batch-episodes", "2", "--critic-steps", "2", "--num-envs", "2"],
    "actor_critic": ["--steps", "600", "--hidden", "16", "--n-steps", "8", "--critic-steps", "2", "--num-envs", "2"],
}
ENV = {"qlearning": "FrozenLake-v1", "dqn": "CartPole-v1", "reinforce": "CartPole-v1", "actor_critic": "CartPole-v1"}


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


@pytest.mark.parametrize("algo", ["qlearning", "dqn", "reinforce", "actor_critic"])
def test_train_save_evaluate_round_trip(capsys, tmp_path, algo):
    ckpt = str(tmp_path / "ckpt")
    code, out, _ = run(capsys, "train", algo, "--env", ENV[algo], "--seed", "0", "--save", ckpt, *FAST[algo])
    assert code == 0 and out.count("\n") == 1  # one summary line
    trained = _mean(r"greedy evaluation over 10 episodes: mean (-?[\d.]+)", out)
    code, out, _ = run(capsys, "evaluate", ckpt, "--episodes", "10")
    assert code == 0
    assert _mean(r"10 greedy episodes: mean (-?[\d.]+)", out) == trained
    assert checkpoint.read_header(ckpt)["metadata"]["env_id"] == ENV[algo]


def test_help_lists_every_config_field(capsys):
    for algo in ("qlearning", "dqn", "reinforce", "actor_critic"):
        with pytest.raises(SystemExit) as exit_:
            main(["train", algo, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        for field in dataclasses.fields(checkpoint.config_class(algo)):
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
    code, _, _ = run(capsys, "train", "dqn", "--no-dueling", "--double", "--gamma", "0.9", "--tau", "0.5",
                     "--save", ckpt, "--eval-episodes", "1", *FAST["dqn"])
    config = checkpoint.read_header(ckpt)["config"]
    assert code == 0 and config["dueling"] is False and config["double"] is True and config["hidden"] == [16]
    assert config["gamma"] == 0.9 and config["tau"] == 0.5 and config["lr"] == 2e-3  # untouched: the default


def test_tabular_on_a_box_task_with_the_discretizer_logs_and_render(capsys, tmp_path):
    ckpt, gif = str(tmp_path / "q"), str(tmp_path / "ep.gif")
    code, out, _ = run(capsys, "train", "qlearning", "--env", "CartPole-v1", "--steps", "2000", "--bins", "1,1,6,6",
                       "--low=-2.4,-2,-0.42,-3.5", "--high", "2.4,2,0.42,3.5", "--save", ckpt,
                       "--logdir", str(tmp_path / "tb"), "--eval-episodes", "2")
    assert code == 0 and any(f.startswith("events.out.tfevents") for f in os.listdir(tmp_path / "tb"))
    code, out, _ = run(capsys, "evaluate", ckpt, "--episodes", "2", "--render", gif)
    assert code == 0 and "wrote" in out
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames > 5 and im.size[0] <= 320


def test_same_seed_same_returns_across_two_cli_processes(tmp_path):
    """Two separate `python -m rlbook` processes with the same seed log identical episodes."""
    env = {**os.environ, "RLBOOK_PROGRESS": "0", "PYTHONHASHSEED": "0"}
    histories = []
    for i in range(2):
        path = tmp_path / f"h{i}.json"
        subprocess.run([sys.executable, "-m", "rlbook", "train", "qlearning", "--steps", "3000", "--seed", "5",
                        "--history", str(path)], check=True, env=env, capture_output=True)
        histories.append(json.loads(path.read_text()))
    assert histories[0]["episode_returns"] == histories[1]["episode_returns"]
    assert [e["mean"] for e in histories[0]["evaluations"]] == [e["mean"] for e in histories[1]["evaluations"]]


def test_same_seed_same_returns_across_two_cli_runs_of_a_network_agent(capsys, tmp_path):
    runs = []
    for i in range(2):
        path = tmp_path / f"h{i}.json"
        assert run(capsys, "train", "actor_critic", "--seed", "4", "--history", str(path), "--eval-episodes", "1",
                   *FAST["actor_critic"])[0] == 0
        runs.append(json.loads(path.read_text()))
    assert runs[0]["episode_returns"] == runs[1]["episode_returns"] and runs[0]["metrics"] == runs[1]["metrics"]


@pytest.mark.parametrize("argv, code, message", [
    (["train", "dqn", "--gamma", "1.5"], 2, "gamma must be a number in [0, 1], got 1.5"),
    (["train", "dqn", "--model-type", "cnn"], 2, "model_type must be one of ('dense', 'conv', 'lstm'), got 'cnn'"),
    (["train", "dqn", "--env", "FrozenLake-v1"], 2, "DQN needs a Box observation space"),
    (["train", "dqn", "--env", "NoSuchEnv-v0"], 2, "cannot make environment 'NoSuchEnv-v0'"),
    (["train", "qlearning", "--env", "CartPole-v1"], 2, "On the command line: --bins N"),
    (["train", "qlearning", "--num-envs", "4"], 2, "tabular Q-learning steps one environment"),
    (["train", "reinforce", "--stop-at", "400"], 2, "--stop-at needs --eval-every"),
    (["train", "dqn", "--lrr", "0.1"], 2, "unrecognized arguments: --lrr"),
    (["train", "dqn", "--hidden", "64x"], 2, "expected comma-separated int values"),
    (["evaluate", "no/such/file"], 1, "no checkpoint at 'no/such/file'"),
])
def test_bad_arguments_get_one_clear_line(capsys, argv, code, message):
    try:
        got = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        got = exit_.code
    assert got == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
