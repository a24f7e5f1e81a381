"""Per-environment presets in the registry: checked when built, applied by the CLI, flags win."""

import gymnasium as gym
import pytest

from rlbook import bench, checkpoint, cli
from rlbook.agents import ALGORITHMS, Algorithm, Preset
from rlbook.agents.ppo import PENDULUM, PPOAgent, PPOConfig

LUNAR = "LunarLander-v3"


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("RLBOOK_PROGRESS", "0")


def _parsed(monkeypatch, *argv):
    """What ``rlbook ARGV`` hands to cmd_train (algo, args), without training."""
    seen = {}

    def fake_cmd_train(algo, args):
        seen.update(algo=algo, args=args)
        return 0

    monkeypatch.setattr(cli, "cmd_train", fake_cmd_train)
    assert cli.main(list(argv)) == 0
    return seen["algo"], seen["args"]


def test_ppo_has_a_lunar_lander_preset_that_changes_its_cartpole_defaults():
    entry = ALGORITHMS["ppo"]
    overrides, num_envs, steps = entry.settings(LUNAR)
    assert overrides["gamma"] == 0.999 and overrides["gae_lambda"] == 0.98
    assert (num_envs, steps) != (entry.num_envs, entry.steps)
    # CartPole (the default env) and an env without a preset keep the chapter's defaults
    for env_id in ("CartPole-v1", "Acrobot-v1"):
        assert entry.settings(env_id) == ({}, 8, 100_000)
    assert PPOConfig().gamma == 0.98 and PPOConfig().n_steps == 32


def test_ppo_on_pendulum_takes_chapter_10s_settings(monkeypatch):
    # The chapter's constant and the command line's preset are one set of settings.
    assert ALGORITHMS["ppo"].settings("Pendulum-v1") == (PENDULUM, 8, 50_000)
    _, args = _parsed(monkeypatch, "train", "ppo", "--env", "Pendulum-v1")
    for name, value in PENDULUM.items():
        assert getattr(args.config, name) == value, name
    assert args.run.num_envs == 8 and PPOConfig(**PENDULUM).gamma != PPOConfig().gamma


def test_docs_list_every_preset_with_its_flags():
    # docs/cli.md has a table row per preset, with the flags --help prints for it.
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "cli.md").read_text()
    for name, entry in ALGORITHMS.items():
        for env_id in entry.presets:
            flags = cli._describe_preset(entry, env_id).replace(", ", " ")
            assert f"| `{name}` | `{env_id}` | `{flags}`" in text, (name, env_id)


def test_every_preset_builds_its_agent_on_its_environment():
    # The config checks ran when the registry was built; the agent's own checks (PPO's
    # num_minibatches must divide n_steps * num_envs) run here, on the real spaces.
    for entry in ALGORITHMS.values():
        for env_id in entry.presets:
            overrides, num_envs, _ = entry.settings(env_id)
            env = gym.make(env_id)
            agent = entry.agent_class(
                env.observation_space, env.action_space, num_envs=num_envs, **overrides
            )
            for name, value in overrides.items():
                assert getattr(agent.config, name) == value, (entry.name, env_id, name)


@pytest.mark.parametrize(
    "preset, message",
    [
        (Preset(config={"gamma": 1.5}), "gamma must be a number in [0, 1], got 1.5"),
        (Preset(config={"num_minibatches": 0}), "num_minibatches must be a positive integer"),
        (Preset(config={"clip_eps": 1.0}), "clip_eps must be a number in (0, 1)"),
        (Preset(config={"gama": 0.9}), "gama"),
    ],
)
def test_a_preset_with_a_bad_value_cannot_enter_the_registry(preset, message):
    with pytest.raises(ValueError, match="ppo's preset for LunarLander-v3") as err:
        Algorithm("ppo", PPOAgent, PPOConfig, "CartPole-v1", 8, 100_000, presets={LUNAR: preset})
    assert message in str(err.value)


@pytest.mark.parametrize("field", ["num_envs", "steps"])
@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_a_preset_with_a_bad_copy_count_or_budget_is_refused(field, value):
    with pytest.raises(ValueError, match=f"a preset's {field} must be a positive integer"):
        Preset(**{field: value})


def test_presets_are_read_only():
    entry = ALGORITHMS["ppo"]
    with pytest.raises(TypeError):
        entry.presets["CartPole-v1"] = Preset()
    with pytest.raises(TypeError):
        entry.presets[LUNAR].config["gamma"] = 0.5


def test_the_cli_applies_the_preset_of_the_env_it_is_given(monkeypatch):
    algo, args = _parsed(monkeypatch, "train", "ppo", "--env", LUNAR)
    overrides, num_envs, _ = ALGORITHMS["ppo"].settings(LUNAR)
    assert algo == "ppo" and args.run.env == LUNAR and args.run.num_envs == num_envs
    for name, value in overrides.items():
        assert getattr(args.config, name) == value, name
    # --env=ID is the same flag
    _, args = _parsed(monkeypatch, "train", "ppo", f"--env={LUNAR}")
    assert args.config.gamma == overrides["gamma"] != PPOConfig().gamma


def test_a_flag_given_on_the_command_line_wins_over_the_preset(monkeypatch):
    _, args = _parsed(
        monkeypatch, "train", "ppo", "--gamma", "0.95", "--env", LUNAR, "--num-envs", "4"
    )
    overrides, _, _ = ALGORITHMS["ppo"].settings(LUNAR)
    assert args.config.gamma == 0.95 and args.run.num_envs == 4
    assert args.config.gae_lambda == overrides["gae_lambda"]  # the fields not given: the preset's


def test_an_env_without_a_preset_gets_the_algorithms_defaults(monkeypatch):
    for argv in (["--env", "Acrobot-v1"], []):
        _, args = _parsed(monkeypatch, "train", "ppo", *argv)
        assert args.run.num_envs == ALGORITHMS["ppo"].num_envs
        for name in ("gamma", "gae_lambda", "n_steps", "hidden", "lr", "entropy_coef"):
            assert getattr(args.config, name) == getattr(PPOConfig(), name), name


def test_help_names_the_presets_and_shows_their_values_as_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "ppo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"Presets (with --env ID, flags given win): {LUNAR}: --num-envs 16" in text
    with pytest.raises(SystemExit):
        cli.main(["train", "ppo", "--env", LUNAR, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"The defaults shown are the preset for {LUNAR}" in text
    assert "(default: 0.999)" in text and "(default: 16)" in text
    assert f"The preset: {ALGORITHMS['ppo'].preset(LUNAR).note}." in text


def test_a_short_cli_run_trains_the_preset_and_saves_it(capsys, tmp_path):
    ckpt = str(tmp_path / "lunar")
    code = cli.main(
        ["train", "ppo", "--env", LUNAR, "--steps", "64", "--eval-episodes", "1"]
        + ["--n-steps", "4", "--save", ckpt]
    )
    assert code == 0, capsys.readouterr()
    header = checkpoint.read_header(ckpt)
    config, (overrides, _, _) = header["config"], ALGORITHMS["ppo"].settings(LUNAR)
    assert config["n_steps"] == 4 and config["gamma"] == overrides["gamma"]
    assert config["hidden"] == list(overrides["hidden"])
    assert header["metadata"]["steps"] == 64 and header["metadata"]["env_id"] == LUNAR
    assert "64 steps" in capsys.readouterr().out


def test_the_benchmark_variant_trains_what_the_cli_trains():
    variant = bench.VARIANTS["ppo_lunar"]
    overrides, num_envs, steps = ALGORITHMS["ppo"].settings(LUNAR)
    assert (variant.env, variant.solved_at, variant.eval_every) == (LUNAR, 200.0, 10_000)
    assert variant.max_steps == steps
    agent, env, eval_env = variant.setup(0)
    assert env.num_envs == agent.num_envs == num_envs and eval_env.num_envs == 10
    assert env.spec.id == eval_env.spec.id == LUNAR
    for name, value in overrides.items():
        assert getattr(agent.config, name) == value, name
    # the CartPole variant keeps the chapter's defaults
    agent, env, _ = bench.VARIANTS["ppo"].setup(0)
    assert agent.config == PPOConfig() and env.num_envs == 8


def test_registry_entries_stay_hashable_with_their_presets():
    # frozen dataclasses are hashable; the read-only mappings of presets are left out of the hash
    assert len({ALGORITHMS["ppo"], ALGORITHMS["ppo"], ALGORITHMS["dqn"]}) == 2
    assert hash(ALGORITHMS["ppo"].preset(LUNAR)) == hash(ALGORITHMS["ppo"].preset(LUNAR))
