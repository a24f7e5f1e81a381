"""Checkpoints: exact round trips, resumable counters, atomic writes, clear errors."""

import os

import numpy as np
import pytest

from rlbook import checkpoint
from rlbook.agents import ALGORITHMS, load
from rlbook.checkpoint import CheckpointError
from rlbook.envs import make_env, make_vec_env
from rlbook.train import evaluate, train

# Small networks and budgets: each agent trains for a fraction of a second.
SMALL = {
    "dqn": dict(
        hidden=(16,),
        batch_size=16,
        learning_starts=64,
        train_every=16,
        gradient_steps=2,
        target_update_every=4,
        buffer_size=1_000,
    ),
    "reinforce": dict(hidden=(16,), batch_episodes=2, baseline_steps=2),
    "actor_critic": dict(hidden=(16,), n_steps=8, critic_steps=2),
}


def _trained(algo, steps=400, **overrides):
    if algo == "qlearning":
        from rlbook.agents.qlearning import QLearningAgent

        env = make_env("FrozenLake-v1", seed=0)
        agent = QLearningAgent(env.observation_space, env.action_space, **overrides)
        train(agent, env, steps=3_000, progress=False)
        return agent
    cls = ALGORITHMS[algo].agent_class
    env = make_vec_env("CartPole-v1", 2, seed=0)
    agent = cls(
        env.single_observation_space,
        env.single_action_space,
        num_envs=2,
        **{**SMALL[algo], **overrides},
    )
    train(agent, env, steps=steps, progress=False)
    return agent


@pytest.fixture(scope="module")
def agents():
    return {algo: _trained(algo) for algo in ("qlearning", "dqn", "reinforce", "actor_critic")}


@pytest.fixture(scope="module")
def saved(agents, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    return {
        algo: agent.save(str(folder / algo), metadata={"env_id": "x"})
        for algo, agent in agents.items()
    }


def _eval_env(algo):
    return make_env("FrozenLake-v1" if algo == "qlearning" else "CartPole-v1", seed=123)


@pytest.mark.parametrize("algo", ["qlearning", "dqn", "reinforce", "actor_critic"])
def test_loaded_agent_reproduces_greedy_returns_exactly(agents, saved, algo):
    agent = agents[algo]
    loaded = type(agent).load(saved[algo])
    assert type(loaded) is type(agent) and loaded.config == agent.config
    episodes = 20 if algo == "qlearning" else 3
    # The saved agent and the loaded one see the same episodes; the loaded agent starts from the
    # random state saved with it (Q-learning breaks ties with it), the original from the same state.
    expected = evaluate(type(agent).load(saved[algo]), _eval_env(algo), episodes)
    np.testing.assert_array_equal(evaluate(loaded, _eval_env(algo), episodes), expected)
    if algo != "qlearning":  # the network agents' greedy actions use no randomness at all
        np.testing.assert_array_equal(evaluate(agent, _eval_env(algo), episodes), expected)


def test_qlearning_table_counters_and_tie_breaking_state(agents, saved):
    agent, loaded = agents["qlearning"], load(saved["qlearning"])
    assert dict(loaded.Q) == dict(agent.Q) and loaded.env_steps == agent.env_steps
    assert loaded.rng.getstate() == agent.rng.getstate()


def test_dqn_counters_optimizer_and_replay_resume(agents, saved):
    agent, loaded = agents["dqn"], load(saved["dqn"])
    assert loaded.env_steps == agent.env_steps > 0
    assert int(loaded.gradient_steps_done.numpy()) == int(agent.gradient_steps_done.numpy()) > 0
    assert loaded.updates == agent.updates > 0
    for a, b in zip(agent.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(agent.target_network.get_weights(), loaded.target_network.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert (
        len(loaded.buffer) == len(agent.buffer) > 0 and loaded.buffer.cursor == agent.buffer.cursor
    )
    np.testing.assert_array_equal(loaded.buffer.obs, agent.buffer.obs)
    assert loaded.rng.bit_generator.state == agent.rng.bit_generator.state
    # Training continues from there (the buffer is full enough to sample at once).
    history = train(loaded, make_vec_env("CartPole-v1", 2, seed=1), steps=64, progress=False)
    assert "loss" in history.metrics and loaded.env_steps == agent.env_steps + 64


def test_policy_gradient_counters(agents, saved):
    for algo in ("reinforce", "actor_critic"):
        agent, loaded = agents[algo], load(saved[algo])
        assert loaded.updates == agent.updates > 0 and loaded.env_steps == agent.env_steps == 400
        assert loaded.rng.bit_generator.state == agent.rng.bit_generator.state


def test_header_says_what_is_inside(saved):
    header = checkpoint.read_header(saved["dqn"])
    assert header["algorithm"] == "dqn" and header["agent_class"] == "DQNAgent"
    assert header["config"]["hidden"] == [16] and header["metadata"] == {"env_id": "x"}
    assert ["weights.online.000", [4, 16]] in header["architecture"]["weights"]


def test_save_without_replay_is_smaller(agents, tmp_path):
    agent = agents["dqn"]
    with_replay, without = agent.save(tmp_path / "a"), agent.save(tmp_path / "b", replay=False)
    assert os.path.getsize(without) < os.path.getsize(with_replay)
    assert len(load(without).buffer) == 0


# -- atomic writes ------------------------------------------------------------------------------


def test_a_crash_during_save_leaves_the_previous_checkpoint_loadable(agents, tmp_path, monkeypatch):
    agent = agents["qlearning"]
    path = tmp_path / "ql.ckpt"
    agent.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):  # half an archive reaches the disk, then the process "dies"
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.np, "savez", crash)
    agent.env_steps += 1
    with pytest.raises(KeyboardInterrupt):
        agent.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load(path).env_steps == agent.env_steps - 1
    assert os.listdir(tmp_path) == ["ql.ckpt"]  # no temporary file left behind


def test_save_replaces_the_file_in_one_step(agents, tmp_path, monkeypatch):
    """The target is only ever renamed onto, never opened for writing."""
    path = tmp_path / "ql.ckpt"
    agents["qlearning"].save(path)
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(
        checkpoint.os,
        "replace",
        lambda src, dst: (replaced.append((src, dst)), real_replace(src, dst)),
    )
    agents["qlearning"].save(path)
    ((src, dst),) = replaced
    assert dst == str(path) and os.path.dirname(src) == str(tmp_path) and src.endswith(".tmp")


# -- errors ----------------------------------------------------------------------------------------


def test_wrong_algorithm_is_refused(saved):
    from rlbook.agents.dqn import DQNAgent
    from rlbook.agents.reinforce import ReinforceAgent

    with pytest.raises(
        CheckpointError,
        match=r"holds a 'qlearning' agent \(QLearningAgent\), expected a 'dqn' agent",
    ):
        DQNAgent.load(saved["qlearning"])
    with pytest.raises(CheckpointError, match="holds a 'actor_critic' agent"):
        ReinforceAgent.load(saved["actor_critic"])


def test_wrong_architecture_is_refused(saved):
    from rlbook.agents.dqn import DQNAgent

    space = make_env("CartPole-v1")
    wider = DQNAgent(
        space.observation_space, space.action_space, **{**SMALL["dqn"], "hidden": (32,)}
    )
    with pytest.raises(
        CheckpointError,
        match=r"weight 'weights.online.000' has shape \(4, 16\) in the checkpoint "
        r"and \(4, 32\) in the agent",
    ):
        wider.restore(saved["dqn"])
    dueling = DQNAgent(
        space.observation_space, space.action_space, **{**SMALL["dqn"], "dueling": True}
    )
    with pytest.raises(
        CheckpointError,
        match="saved from an agent with dueling=False, but this agent has dueling=True",
    ):
        dueling.restore(saved["dqn"])


def test_restore_into_a_matching_agent_keeps_its_config(saved, agents):
    from rlbook.agents.actor_critic import ActorCriticAgent

    env = make_vec_env("CartPole-v1", 2, seed=0)
    fresh = ActorCriticAgent(
        env.single_observation_space,
        env.single_action_space,
        num_envs=2,
        **{**SMALL["actor_critic"], "lr": 1e-4},
    )
    fresh.restore(saved["actor_critic"])
    assert fresh.config.lr == 1e-4 and fresh.updates == agents["actor_critic"].updates
    obs = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(fresh.logits(obs), agents["actor_critic"].logits(obs))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_files_give_a_clear_error(saved, tmp_path, damage):
    data = open(saved["reinforce"], "rb").read()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":  # one byte inside the stored weights: the zip's CRC catches it
        i = len(data) // 2
        data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
    elif damage == "garbage":
        data = b"this is not a checkpoint"
    else:
        data = b""
    path = tmp_path / "bad.ckpt"
    path.write_bytes(data)
    with pytest.raises(
        CheckpointError, match="is not a readable rlbook checkpoint: it is truncated or corrupt"
    ):
        load(path)


def test_other_files_and_missing_files(tmp_path):
    other = tmp_path / "other.npz"
    with open(other, "wb") as f:
        np.savez(f, x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an rlbook checkpoint"):
        load(other)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load(tmp_path / "missing")


def test_metadata_must_be_json(agents, tmp_path):
    with pytest.raises(CheckpointError, match="not JSON-serializable"):
        agents["qlearning"].save(tmp_path / "x", metadata={"when": object()})
    assert not os.listdir(tmp_path)


# -- what a file may name, files of the previous format, damage anywhere ----------------------


def _rewrite_header(src, dst, **changes):
    """A copy of checkpoint ``src`` at ``dst`` whose JSON header has ``changes``."""
    import json

    import numpy as np

    with np.load(src, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(str(arrays["header"]))
    header.update(changes)
    arrays["header"] = np.array(json.dumps(header))
    with open(dst, "wb") as f:
        np.savez(f, **arrays)
    return dst


@pytest.mark.parametrize(
    "name", ["os:system", "rlbook.cli:main", "builtins:eval", "DQNAgent", "checkpoint"]
)
def test_a_checkpoint_can_only_name_an_algorithm_of_the_table(saved, tmp_path, name):
    path = _rewrite_header(saved["dqn"], tmp_path / "evil.ckpt", algorithm=name, agent_class=name)
    with pytest.raises(CheckpointError, match=f"holds an unknown algorithm {name!r}; known: "):
        load(path)
    with pytest.raises(CheckpointError, match=f"holds a {name!r} agent"):
        ALGORITHMS["dqn"].agent_class.load(path)


def test_the_table_is_what_the_cli_checkpoints_and_benchmark_use():
    from rlbook import bench, cli

    assert set(ALGORITHMS) == {
        "qlearning",
        "sarsa",
        "dqn",
        "recurrent_dqn",
        "reinforce",
        "actor_critic",
        "ppo",
        "sac",
    }
    for name, entry in ALGORITHMS.items():
        assert entry.agent_class.algorithm == name  # what the agent writes into its files
        assert entry.agent_class.config_class is entry.config_class
    assert {v.algorithm for v in bench.VARIANTS.values()} <= set(ALGORITHMS)
    assert not hasattr(cli, "ALGOS") and not hasattr(checkpoint, "ALGORITHMS")


DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.mark.parametrize("algo", ["qlearning", "dqn", "recurrent_dqn", "reinforce", "actor_critic"])
def test_checkpoints_of_format_version_1_still_load(algo):
    """Files written before the agents shared one vocabulary (tests/data/v1_*.ckpt, made by
    the previous format): renamed counters and config fields are mapped on reading."""
    import json

    path = os.path.join(DATA, f"v1_{algo}.ckpt")
    assert checkpoint.read_header(path)["version"] == checkpoint.VERSION  # upgraded on reading
    agent = load(path)
    assert type(agent) is ALGORITHMS[algo].agent_class
    assert type(agent).load(path).env_steps == agent.env_steps > 0
    expected = json.load(open(os.path.join(DATA, "v1_expected.json")))
    obs = np.asarray(expected["obs"], np.float32)
    if algo == "qlearning":
        assert len(agent.Q) > 0 and agent.env_steps == 500
    elif "dqn" in algo:
        np.testing.assert_allclose(agent.q_values(obs), expected["outputs"][algo], rtol=1e-6)
        done = int(agent.gradient_steps_done.numpy())
        assert done > 0 and agent.updates == done // agent.config.gradient_steps
    else:
        np.testing.assert_allclose(agent.logits(obs), expected["outputs"][algo], rtol=1e-6)
    if algo == "reinforce":  # saved as critic_lr=0.02, critic_steps=2
        assert agent.config.baseline_lr == 0.02 and agent.config.baseline_steps == 2


@pytest.mark.parametrize("algo", ["qlearning", "dqn"])
def test_random_bit_flips_give_checkpoint_error_or_a_clean_load(saved, tmp_path, algo):
    """Flip one bit of a saved file, many times (seeded): reading never lets another exception
    out. Among the flips, a zip entry's compression method (zipfile's NotImplementedError,
    "That compression method is not supported") and its flags (a password-required
    RuntimeError)."""
    data = open(saved[algo], "rb").read()
    rng = np.random.default_rng(0)
    # random bits anywhere, plus every bit of each central-directory entry's flags (a set bit 0
    # asks for a password) and compression method (most values are methods zipfile lacks)
    central = [i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)]
    flips = [(int(i), int(rng.integers(8))) for i in rng.integers(0, len(data), 150)]
    flips += [(c + field, bit) for c in central for field in (8, 10) for bit in range(8)]
    causes = set()
    path = tmp_path / "flipped.ckpt"
    for i, bit in flips:
        damaged = bytearray(data)
        damaged[i] ^= 1 << bit
        path.write_bytes(bytes(damaged))
        try:
            load(path)
        except CheckpointError as err:
            causes.add(type(err.__cause__).__name__)
    assert {"NotImplementedError", "RuntimeError", "BadZipFile"} <= causes, causes
