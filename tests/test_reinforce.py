"""REINFORCE agent (chapter 6): returns per episode, baseline shapes, seeding, bad input, smoke
runs."""

import gymnasium as gym
import numpy as np
import pytest

from rlbook.agents.reinforce import ReinforceAgent, ReinforceConfig, _EpisodeCollector
from rlbook.claims import seed_offset
from rlbook.envs import make_env, make_vec_env
from rlbook.nets import sample_categorical, softmax
from rlbook.train import train

OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
ACTIONS = gym.spaces.Discrete(2)
SMALL = dict(hidden=(8,), batch_episodes=2)


def _agent(num_envs=1, **kw):
    return ReinforceAgent(OBS_SPACE, ACTIONS, num_envs=num_envs, **{**SMALL, **kw})


def _obs(n, value):
    return np.full((n, 4), value, np.float32)


def _record_updates(agent):
    """Wrap the compiled learning step to keep the (obs, actions, returns) it receives."""
    calls, compiled = [], agent._compiled_step

    def recording(obs, actions, returns):
        calls.append((obs.copy(), actions.copy(), returns.copy()))
        return compiled(obs, actions, returns)

    agent._compiled_step = recording
    return calls


def test_returns_are_computed_backwards_per_episode():
    agent = _agent(num_envs=2, gamma=0.5, baseline=None, batch_episodes=1)
    calls = _record_updates(agent)
    no, yes = np.array([False, False]), np.array([True, False])
    # env 0: rewards 1, 2, 4 then terminated; env 1 keeps running
    agent.observe(_obs(2, 0), [0, 1], [1.0, 9.0], _obs(2, 1), no, no)
    agent.observe(_obs(2, 1), [1, 1], [2.0, 9.0], _obs(2, 2), no, no)
    assert not calls
    agent.observe(_obs(2, 2), [0, 1], [4.0, 9.0], _obs(2, 3), yes, no)
    ((obs, actions, returns),) = calls
    np.testing.assert_allclose(returns, [3.0, 4.0, 4.0])  # 1 + .5*4, 2 + .5*4, 4
    np.testing.assert_array_equal(actions, [0, 1, 0])
    np.testing.assert_array_equal(obs[:, 0], [0, 1, 2])
    assert agent.updates == 1 and agent.env_steps == 6


def test_truncated_episode_bootstraps_from_the_learned_value():
    agent = _agent(gamma=0.5, baseline="value", batch_episodes=2)
    calls = _record_updates(agent)
    last = np.full(4, 7.0, np.float32)
    v_last = agent.values(last)[0]  # the value network before the update
    agent.observe(np.zeros(4, np.float32), 0, 1.0, last, False, True)  # cut by the time limit
    agent.observe(np.zeros(4, np.float32), 0, 1.0, last, True, False)  # a real end: nothing follows
    ((_, _, returns),) = calls
    np.testing.assert_allclose(returns, [1.0 + 0.5 * v_last, 1.0], rtol=1e-5)


def test_baseline_is_one_value_per_step():
    agent = _agent(baseline="value")
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    assert agent.value_network.output_shape == (None, 1)
    assert agent.values(obs).shape == (5,)  # squeezed, so G - V(s) stays (N,)
    np.testing.assert_allclose(
        agent.values(obs), agent.value_network(obs).numpy()[:, 0], rtol=1e-5, atol=1e-6
    )


def test_update_happens_after_batch_episodes_and_numpy_copy_follows():
    env = make_env("CartPole-v1", seed=0)
    agent = ReinforceAgent(env.observation_space, env.action_space, **SMALL)
    history = train(agent, env, episodes=4, progress=False)
    assert agent.updates == 2 and len(history.metrics["policy_loss"]) == 2
    assert agent.env_steps == history.steps
    assert all(
        np.isfinite(history.metrics[k][-1][1])
        for k in ("policy_loss", "value_loss", "entropy", "mean_v")
    )
    obs = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.logits(obs), agent.policy(obs).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(agent.probs(obs).sum(axis=1), 1.0)


def test_greedy_is_argmax_and_sampling_follows_pi():
    agent = _agent()
    obs = np.random.default_rng(2).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_array_equal(agent.act(obs, greedy=True), agent.logits(obs).argmax(axis=1))
    logits = np.log(np.array([[0.2, 0.5, 0.3]]))
    draws = sample_categorical(np.repeat(logits, 20_000, axis=0), np.random.default_rng(0))
    np.testing.assert_allclose(
        np.bincount(draws, minlength=3) / 20_000, softmax(logits)[0], atol=0.01
    )


def test_collector_keeps_episodes_intact_when_it_compacts_and_grows():
    col = _EpisodeCollector(num_envs=2, obs_dim=1, capacity=2)
    lengths, popped = {0: 3, 1: 7}, {0: [], 1: []}
    counts, step = [0, 0], 0
    while len(popped[1]) < 2:
        col.add(np.array([[step], [step]], np.float32), [step, step], [1.0, 2.0])
        for i in (0, 1):
            counts[i] += 1
            if counts[i] == lengths[i]:
                obs, act, rew = col.pop_episode(i)
                popped[i].append(act.tolist())
                counts[i] = 0
        step += 1
    assert popped[0][:3] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert popped[1] == [list(range(7)), list(range(7, 14))]


def _seeded_returns(seed):
    env = make_vec_env("CartPole-v1", 2, seed=seed)
    agent = ReinforceAgent(
        env.single_observation_space,
        env.single_action_space,
        num_envs=2,
        seed=seed,
        baseline_steps=2,
        **SMALL,
    )
    return train(agent, env, steps=500, progress=False).episode_returns


def test_same_seed_same_returns():
    a, b = _seeded_returns(3), _seeded_returns(3)
    assert a == b and len(a) > 10
    assert _seeded_returns(4) != a


def test_learns_on_cartpole_quickly():
    seed = seed_offset()  # 0; the robustness sweep (tools/robust.py) shifts it
    env = make_vec_env("CartPole-v1", 8, seed=seed)
    agent = ReinforceAgent(
        env.single_observation_space, env.single_action_space, num_envs=8, seed=seed
    )
    history = train(agent, env, steps=6_000, progress=False)
    assert np.mean(history.episode_returns[-20:]) > 2 * np.mean(history.episode_returns[:20])


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(gamma=1.5), r"gamma must be a number in \[0, 1\]"),
        (dict(gamma=-0.1), r"gamma must be a number in \[0, 1\]"),
        (dict(lr=0.0), "lr must be a positive number"),
        (dict(lr=-1e-3), "lr must be a positive number"),
        (dict(baseline_lr=0), "baseline_lr must be a positive number"),
        (dict(baseline="critic"), "baseline must be None or 'value'"),
        (dict(batch_episodes=0), "batch_episodes must be a positive integer"),
        (dict(baseline_steps=0), "baseline_steps must be a positive integer"),
        (dict(entropy_coef=-0.1), "entropy_coef must be a number >= 0"),
        (dict(hidden=64), "hidden must be a tuple of positive integers"),
    ],
)
def test_bad_config(kw, message):
    with pytest.raises(ValueError, match=message):
        ReinforceConfig(**kw)
    with pytest.raises(ValueError, match=message):
        _agent(**kw)


def test_unknown_field():
    with pytest.raises(TypeError, match="unknown ReinforceConfig field"):
        _agent(learning_rate=0.1)


def test_bad_spaces():
    with pytest.raises(
        TypeError, match="needs a Gaussian policy .* which chapters 6-7 do not build"
    ):
        ReinforceAgent(OBS_SPACE, gym.spaces.Box(-1, 1, (1,)))
    with pytest.raises(TypeError, match="FlattenObservation"):
        ReinforceAgent(gym.spaces.Discrete(16), ACTIONS)
    with pytest.raises(TypeError, match=r"flat Box observations of shape \(d,\)"):
        ReinforceAgent(gym.spaces.Box(0, 255, (8, 8, 3), np.uint8), ACTIONS)
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        ReinforceAgent(OBS_SPACE, ACTIONS, num_envs=0)
