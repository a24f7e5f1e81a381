"""PPO agent (chapter 9): the rollout and its GAE, the epochs of minibatch steps, clipping,
seeding, checkpoints, bad input, and a short run that learns."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf

from rlbook.agents import ALGORITHMS, load
from rlbook.agents.policy_gradient import PolicyGradientAgent
from rlbook.agents.ppo import PPOAgent, PPOConfig
from rlbook.claims import seed_offset
from rlbook.envs import make_vec_env
from rlbook.losses import gae_advantages
from rlbook.train import train

OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
ACTIONS = gym.spaces.Discrete(2)


def _agent(num_envs=2, **kw):
    kw = {"hidden": (8,), "n_steps": 3, "update_epochs": 2, "num_minibatches": 1, **kw}
    return PPOAgent(OBS_SPACE, ACTIONS, num_envs=num_envs, **kw)


def _record_learn(agent):
    """Wrap ``learn`` to keep the arguments ``update`` hands it."""
    calls, learn = [], agent.learn

    def recording(*args):
        calls.append([np.array(a) for a in args])
        return learn(*args)

    agent.learn = recording
    return calls


def test_update_hands_learn_the_gae_of_the_rollout_with_the_real_final_obs():
    agent = _agent(num_envs=2, n_steps=3, gamma=0.9, gae_lambda=0.8)
    calls = _record_learn(agent)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(3, 2, 4)).astype(np.float32)
    next_obs = rng.normal(size=(3, 2, 4)).astype(np.float32)
    actions = np.array([[0, 1], [1, 1], [0, 0]])
    rewards = np.array([[1.0, 2.0], [0.5, 1.0], [1.0, 1.0]])
    terminated = np.array([[False, True], [False, False], [False, False]])
    truncated = np.array([[False, False], [True, False], [False, False]])  # copy 0 cut at t=1
    # what the networks that collect the rollout say (the targets are computed before learning)
    v, v_next = agent.values(obs.reshape(-1, 4)), agent.values(next_obs.reshape(-1, 4))
    log_pi = tf.nn.log_softmax(agent.policy(obs.reshape(-1, 4))).numpy()
    for t in range(3):
        out = agent.observe(
            obs[t], actions[t], rewards[t], next_obs[t], terminated[t], truncated[t]
        )
        assert (out is None) == (t < 2)  # an update once every copy has taken n_steps steps
    assert agent.env_steps == 6 and agent.updates == 1
    ((b_obs, b_actions, b_old, b_adv, b_ret),) = calls
    np.testing.assert_array_equal(b_obs, obs.reshape(-1, 4))  # time-major: (t, copy) flattened
    np.testing.assert_array_equal(b_actions, actions.ravel())
    np.testing.assert_allclose(b_old, log_pi[np.arange(6), actions.ravel()], rtol=1e-5, atol=1e-6)
    adv, ret = gae_advantages(
        rewards, v.reshape(3, 2), v_next.reshape(3, 2), terminated, truncated, 0.9, 0.8
    )
    np.testing.assert_allclose(b_adv, adv.ravel(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b_ret, ret.ravel(), rtol=1e-5, atol=1e-6)
    # the truncated step bootstraps from V of its real final observation
    assert b_ret[2] == pytest.approx(0.5 + 0.9 * v_next[2], rel=1e-5)


def test_metrics_per_update_and_per_epoch():
    agent = _agent(num_envs=2, n_steps=4, update_epochs=3, num_minibatches=2)
    rng = np.random.default_rng(1)
    out = None
    for _ in range(4):
        o = rng.normal(size=(2, 4)).astype(np.float32)
        out = agent.observe(o, agent.act(o), np.ones(2), o, np.zeros(2, bool), np.zeros(2, bool))
    names = {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"}
    assert set(out) == names and all(np.isfinite(v) for v in out.values())
    assert set(agent.epoch_metrics) == names
    assert all(m.shape == (3,) for m in agent.epoch_metrics.values())
    assert out["approx_kl"] == pytest.approx(agent.epoch_metrics["approx_kl"].mean())
    # the first minibatch of the first epoch meets the policy that collected the data
    assert agent.epoch_metrics["approx_kl"][0] < 1e-3


def test_one_trace_for_every_epoch_of_every_update():
    agent = _agent(num_envs=2, n_steps=4, update_epochs=2, num_minibatches=2)
    rng = np.random.default_rng(2)
    for _ in range(12):  # three updates of two epochs
        o = rng.normal(size=(2, 4)).astype(np.float32)
        agent.observe(o, agent.act(o), np.ones(2), o, np.zeros(2, bool), np.zeros(2, bool))
    assert agent.updates == 3
    assert agent._compiled_epoch.experimental_get_tracing_count() == 1


def _fixed_batch(n=64, seed=0):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    actions = rng.integers(0, 2, n).astype(np.int32)
    advantages = rng.normal(size=n).astype(np.float32)
    return obs, actions, advantages


@pytest.mark.parametrize("clip", [True, False])
def test_learning_raises_log_pi_of_positive_advantages_and_fits_v(clip):
    # four distinct states, action 0 taken in each, advantages +1, +1, -1, -1
    obs = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], np.float32)
    actions, advantages = np.zeros(4, np.int32), np.array([1.0, 1.0, -1.0, -1.0], np.float32)
    agent = _agent(num_envs=1, n_steps=4, update_epochs=3, clip=clip, normalize=False)
    old, v = agent.log_probs(obs, actions), agent.values(obs)
    returns = (v + 2 * advantages).astype(np.float32)
    agent.learn(obs, actions, old, advantages, returns)
    agent.sync()
    np.testing.assert_array_equal(np.sign(agent.log_probs(obs, actions) - old), [1, 1, -1, -1])
    np.testing.assert_array_equal(np.sign(agent.values(obs) - v), [1, 1, -1, -1])  # towards R


def test_clipping_keeps_the_new_policy_near_the_old_one():
    # Many epochs at a large step size on one batch: without clipping the policy runs away
    # from the one that collected the data; with it, far less.
    kl = {}
    for clip in (True, False):
        agent = _agent(num_envs=1, n_steps=64, update_epochs=30, lr=0.03, clip=clip, seed=1)
        obs, actions, advantages = _fixed_batch(seed=1)
        old = agent.log_probs(obs, actions)
        metrics = agent.learn(obs, actions, old, advantages, advantages)
        kl[clip] = metrics["approx_kl"][-1]
        assert metrics["clip_fraction"][0] == 0.0  # the first epoch starts at pi = pi_old
    assert kl[True] < 0.5 * kl[False]  # measured on seeds 1-3: 0.02-0.09 against 0.9-2.4


def test_shares_the_policy_gradient_base_and_vocabulary():
    agent = _agent()
    assert isinstance(agent, PolicyGradientAgent)
    assert agent.policy.output_shape == (None, 2) and agent.value_network.output_shape == (None, 1)
    assert agent.policy_optimizer is not agent.value_optimizer
    assert agent.env_steps == 0 and agent.updates == 0
    entry = ALGORITHMS["ppo"]
    assert entry.agent_class is PPOAgent and entry.config_class is PPOConfig
    assert entry.env == "CartPole-v1"


def _seeded_run(seed, agent=None, steps=480):
    env = make_vec_env("CartPole-v1", 2, seed=seed)
    if agent is None:
        agent = PPOAgent(
            env.single_observation_space,
            env.single_action_space,
            num_envs=2,
            seed=seed,
            hidden=(8,),
            n_steps=16,
            update_epochs=2,
            num_minibatches=2,
        )
    return agent, train(agent, env, steps=steps, progress=False).episode_returns


def test_same_seed_same_returns():
    _, a = _seeded_run(3)
    _, b = _seeded_run(3)
    assert a == b and len(a) > 10
    assert _seeded_run(4)[1] != a


def test_save_load_round_trip_and_determinism_after_it(tmp_path):
    agent, _ = _seeded_run(5, steps=320)  # 10 updates of 2 x 16 steps: the rollout is empty
    path = agent.save(tmp_path / "ppo.ckpt")
    loaded = load(path)
    assert type(loaded) is PPOAgent and loaded.config == agent.config
    assert (loaded.env_steps, loaded.updates) == (agent.env_steps, agent.updates) == (320, 10)
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.logits(obs), agent.logits(obs))
    np.testing.assert_array_equal(loaded.values(obs), agent.values(obs))
    # both go on training identically: weights, Adam's moments and the random stream were saved
    _, after_original = _seeded_run(6, agent=agent)
    _, after_loaded = _seeded_run(6, agent=loaded)
    assert after_original == after_loaded
    np.testing.assert_array_equal(loaded.logits(obs), agent.logits(obs))


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(gamma=1.5), r"gamma must be a number in \[0, 1\]"),
        (dict(gae_lambda=-0.1), r"gae_lambda must be a number in \[0, 1\], got -0.1"),
        (dict(clip_eps=0.0), r"clip_eps must be a number in \(0, 1\), got 0.0"),
        (dict(clip_eps=1.0), r"clip_eps must be a number in \(0, 1\), got 1.0"),
        (dict(lr=0), "lr must be a positive number"),
        (dict(critic_lr=-1e-3), "critic_lr must be a positive number"),
        (dict(n_steps=0), "n_steps must be a positive integer"),
        (dict(update_epochs=0), "update_epochs must be a positive integer"),
        (dict(num_minibatches=0), "num_minibatches must be a positive integer"),
        (dict(entropy_coef=-0.01), "entropy_coef must be a number >= 0"),
        (dict(max_grad_norm=0.0), "max_grad_norm must be a positive number"),
        (dict(clip="yes"), "clip must be True or False"),
        (dict(hidden=()), "hidden must be a tuple of positive integers"),
    ],
)
def test_bad_config(kw, message):
    with pytest.raises(ValueError, match=message):
        PPOConfig(**kw)
    with pytest.raises(ValueError, match=message):
        _agent(**kw)


def test_minibatches_must_divide_the_rollout():
    with pytest.raises(ValueError, match=r"num_minibatches must divide .* = 3 \* 2 = 6; got 4"):
        _agent(num_envs=2, n_steps=3, num_minibatches=4)
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        _agent(num_envs=0)


def test_bad_spaces():
    # a Box of actions is taken (a Gaussian policy, chapter 10), if it is flat and bounded
    assert PPOAgent(OBS_SPACE, gym.spaces.Box(-2, 2, (1,)), hidden=(8,)).gaussian
    with pytest.raises(ValueError, match=r"PPO needs a Box action space of shape \(A,\) with fin"):
        PPOAgent(OBS_SPACE, gym.spaces.Box(-np.inf, np.inf, (1,)))
    with pytest.raises(ValueError, match="PPO needs a Box action space of shape"):
        PPOAgent(OBS_SPACE, gym.spaces.Box(-1, 1, (2, 2)))
    with pytest.raises(TypeError, match="PPO needs a Discrete action space .* or a Box"):
        PPOAgent(OBS_SPACE, gym.spaces.MultiDiscrete([2, 3]))
    with pytest.raises(TypeError, match="FlattenObservation"):
        PPOAgent(gym.spaces.Discrete(16), ACTIONS)


def test_learns_on_cartpole_quickly():
    seed = seed_offset()  # 0; the robustness sweep (tools/robust.py) shifts it
    env = make_vec_env("CartPole-v1", 8, seed=seed)
    agent = PPOAgent(env.single_observation_space, env.single_action_space, num_envs=8, seed=seed)
    history = train(agent, env, steps=6_144, progress=False)  # 24 updates
    returns = history.episode_returns
    # measured on seeds 0-5 (2026-12-07, the 2-core machine): the last 20 episodes are 3.8x to
    # 6.8x longer than the first 20 at this budget
    assert np.mean(returns[-20:]) > 2 * np.mean(returns[:20])
