"""The time-to-solve benchmark: its protocol and its one-line JSON output."""

import json

import pytest

from rlbook import bench
from rlbook.agents import ALGORITHMS
from rlbook.train import History


@pytest.mark.parametrize(
    "algo",
    [
        "qlearning",
        "dqn",
        "dqn_vanilla",
        "double_dqn",
        "dueling_dqn",
        "reinforce",
        "actor_critic",
        "ppo",
    ],
)
def test_every_algorithm_is_registered_with_a_budget(algo):
    variant = bench.VARIANTS[algo]
    assert callable(variant.setup) and variant.max_steps >= 50_000
    agent, env, eval_env = variant.setup(0)
    assert hasattr(agent, "act") and hasattr(agent, "observe")
    # every variant is an algorithm of the one registry, built by its agent class
    entry = ALGORITHMS[variant.algorithm]
    assert type(agent) is entry.agent_class and isinstance(agent.config, entry.config_class)


def test_sac_runs_the_protocol_on_pendulum():
    variant = bench.VARIANTS["sac"]
    assert (variant.env, variant.solved_at, variant.eval_every) == ("Pendulum-v1", -200.0, 1_000)
    assert variant.max_steps == ALGORITHMS["sac"].steps >= 10_000
    agent, env, eval_env = variant.setup(0)
    assert type(agent) is ALGORITHMS["sac"].agent_class
    assert env.spec.id == eval_env.spec.id == "Pendulum-v1" and eval_env.num_envs == 10
    # the CartPole variants keep CartPole's protocol
    others = {k: v for k, v in bench.VARIANTS.items() if k not in ("sac", "ppo_lunar")}
    assert {(v.env, v.solved_at) for v in others.values()} == {("CartPole-v1", 475.0)}


def test_short_run_prints_one_json_line_with_the_protocol_fields(capsys):
    # 2,000 steps: exactly one evaluation, far too early to solve.
    assert bench.main(["actor_critic", "--seed", "3", "--max-steps", "2000"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert list(row) == ["algo", "seed", "solved", "steps", "train_s", "eval_mean"]
    assert row["algo"] == "actor_critic" and row["seed"] == 3
    assert row["steps"] == 2000
    assert row["train_s"] > 0 and isinstance(row["eval_mean"], float)
    assert row["solved"] == (row["eval_mean"] >= bench.SOLVED_AT)


def test_solved_is_the_first_evaluation_at_or_above_475():
    h = History(
        evaluations=[
            {"step": 2000, "train_seconds": 1.0, "mean": 474.9, "std": 0.0},
            {"step": 4000, "train_seconds": 2.0, "mean": 475.0, "std": 0.0},
            {"step": 6000, "train_seconds": 3.0, "mean": 500.0, "std": 0.0},
        ]
    )
    assert h.solved_at(bench.SOLVED_AT)["step"] == 4000


def test_unknown_algorithm_is_rejected():
    with pytest.raises(ValueError, match="unknown algorithm 'not_an_algorithm'; choose one of"):
        bench.run("not_an_algorithm", 0)
    with pytest.raises(SystemExit):
        bench.main(["not_an_algorithm"])


def test_dqn_variants_differ_from_chapter_3_defaults_only_by_their_flags():
    from dataclasses import asdict, replace

    from rlbook.agents.dqn import DQNConfig

    chapter_3 = DQNConfig()
    built = {
        name: bench.VARIANTS[name].setup(0)[0].config
        for name in bench.VARIANTS
        if bench.VARIANTS[name].algorithm == "dqn"
    }
    assert built["dqn_vanilla"] == chapter_3
    assert built["double_dqn"] == replace(chapter_3, double=True)
    assert built["dueling_dqn"] == replace(chapter_3, dueling=True)
    assert built["dqn"] == replace(chapter_3, **bench.BEST_DQN)
    # the best DQN doubles chapter 3's gradient steps per environment step (the replay ratio)
    best, ratio = asdict(built["dqn"]), lambda c: c["gradient_steps"] / c["train_every"]
    assert ratio(best) == 2 * ratio(asdict(chapter_3))
