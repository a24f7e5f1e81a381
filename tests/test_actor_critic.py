"""Actor-critic agent (chapter 7): TD/n-step targets, fixed targets, V(s) critic, sampling, seeding,
bad input."""

import gymnasium as gym
import numpy as np
import pytest

from rlbook.agents.actor_critic import ActorCriticAgent, ActorCriticConfig
from rlbook.claims import seed_offset
from rlbook.envs import make_env, make_vec_env
from rlbook.train import train

OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
ACTIONS = gym.spaces.Discrete(2)


def _agent(num_envs=1, **kw):
    return ActorCriticAgent(OBS_SPACE, ACTIONS, num_envs=num_envs, **{"hidden": (8,), **kw})


def _record_updates(agent):
    """Wrap the compiled step to keep the (obs, actions, targets) it receives."""
    calls, compiled = [], agent._compiled_step

    def recording(obs, actions, targets):
        calls.append((obs.copy(), actions.copy(), targets.copy()))
        return compiled(obs, actions, targets)

    agent._compiled_step = recording
    return calls


def test_one_step_td_target_stops_on_terminated_only():
    agent = _agent(num_envs=3, n_steps=1, gamma=0.9)
    calls = _record_updates(agent)
    rng = np.random.default_rng(0)
    obs, next_obs = rng.normal(size=(2, 3, 4)).astype(np.float32)
    v_next = agent.values(next_obs)  # the critic before the update: the target is held fixed
    agent.observe(
        obs,
        np.array([0, 1, 0]),
        np.array([1.0, 1.0, 1.0]),
        next_obs,
        np.array([False, True, False]),
        np.array([False, False, True]),
    )
    ((_, actions, targets),) = calls
    # y = r + gamma (1 - terminated) V(s'): the truncated copy (third) still bootstraps
    np.testing.assert_allclose(targets, [1 + 0.9 * v_next[0], 1.0, 1 + 0.9 * v_next[2]], rtol=1e-5)
    np.testing.assert_array_equal(actions, [0, 1, 0])
    assert agent.updates == 1


def test_n_step_targets_look_ahead_and_restart_at_episode_ends():
    agent = _agent(num_envs=2, n_steps=2, gamma=0.5)
    calls = _record_updates(agent)
    obs0, obs1, obs2 = (np.full((2, 4), k, np.float32) for k in (0.1, 0.2, 0.3))
    no = np.array([False, False])
    agent.observe(
        obs0, [0, 0], [1.0, 1.0], obs1, np.array([False, True]), no
    )  # env 1 ends at step 0
    assert not calls  # n_steps = 2: no update yet
    v_last = agent.values(obs2)
    agent.observe(obs1, [1, 1], [2.0, 2.0], obs2, no, no)
    ((obs, _, targets),) = calls
    # time-major (t, env) flattened: [t0 e0, t0 e1, t1 e0, t1 e1]
    want = [1 + 0.5 * (2 + 0.5 * v_last[0]), 1.0, 2 + 0.5 * v_last[0], 2 + 0.5 * v_last[1]]
    np.testing.assert_allclose(targets, want, rtol=1e-5)
    np.testing.assert_allclose(obs[:, 0], [0.1, 0.1, 0.2, 0.2])


def test_critic_is_one_output_state_value():
    agent = _agent()
    assert agent.value_network.output_shape == (None, 1)
    obs = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    assert agent.values(obs).shape == (5,)


def test_update_moves_v_towards_the_fixed_target():
    agent = _agent(n_steps=1, gamma=0.9, lr=0.01)
    obs, next_obs = np.zeros(4, np.float32), np.ones(4, np.float32)
    before = agent.values(obs[None])[0]
    target = 5.0 + 0.9 * agent.values(next_obs[None])[0]
    agent.observe(obs, 0, 5.0, next_obs, False, False)
    after = agent.values(obs[None])[0]
    assert abs(target - after) < abs(target - before)  # squared loss: V moved towards y
    np.testing.assert_allclose(
        agent.values(obs[None]), agent.value_network(obs[None]).numpy()[:, 0], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        agent.logits(obs), agent.policy(obs[None]).numpy(), rtol=1e-5, atol=1e-6
    )


def test_actions_are_sampled_from_pi_not_greedy():
    agent = _agent()
    obs = np.random.default_rng(2).normal(size=4).astype(np.float32)
    p = agent.probs(obs)[0]
    draws = agent.act(np.repeat(obs[None], 20_000, axis=0))
    np.testing.assert_allclose(np.bincount(draws, minlength=2) / 20_000, p, atol=0.015)
    assert agent.act(obs, greedy=True) == int(p.argmax())


def _seeded_returns(seed):
    env = make_vec_env("CartPole-v1", 2, seed=seed)
    agent = ActorCriticAgent(
        env.single_observation_space, env.single_action_space, num_envs=2, seed=seed, hidden=(8,)
    )
    return train(agent, env, steps=500, progress=False).episode_returns


def test_same_seed_same_returns():
    a, b = _seeded_returns(3), _seeded_returns(3)
    assert a == b and len(a) > 10
    assert _seeded_returns(4) != a


def test_one_step_algorithm_on_a_single_env():
    env = make_env("CartPole-v1", seed=0)
    agent = ActorCriticAgent(
        env.observation_space, env.action_space, n_steps=1, critic_steps=1, hidden=(8,)
    )
    history = train(agent, env, steps=100, progress=False)
    assert agent.updates == 100 and agent.env_steps == 100
    assert all(
        np.isfinite(history.metrics[k][-1][1])
        for k in ("policy_loss", "value_loss", "entropy", "mean_v")
    )


def test_learns_on_cartpole_quickly():
    seed = seed_offset()  # 0; the robustness sweep (tools/robust.py) shifts it
    env = make_vec_env("CartPole-v1", 8, seed=seed)
    agent = ActorCriticAgent(
        env.single_observation_space, env.single_action_space, num_envs=8, seed=seed
    )
    history = train(agent, env, steps=6_000, progress=False)
    assert np.mean(history.episode_returns[-20:]) > 2 * np.mean(history.episode_returns[:20])


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(gamma=1.01), r"gamma must be a number in \[0, 1\]"),
        (dict(gamma=float("nan")), r"gamma must be a number in \[0, 1\]"),
        (dict(lr=0), "lr must be a positive number"),
        (dict(lr=-0.01), "lr must be a positive number"),
        (dict(n_steps=0), "n_steps must be a positive integer"),
        (dict(entropy_coef=-1.0), "entropy_coef must be a number >= 0"),
        (dict(critic_lr=0), "critic_lr must be a positive number"),
        (dict(critic_steps=0), "critic_steps must be a positive integer"),
        (dict(max_grad_norm=0.0), "max_grad_norm must be a positive number"),
    ],
)
def test_bad_config(kw, message):
    with pytest.raises(ValueError, match=message):
        ActorCriticConfig(**kw)
    with pytest.raises(ValueError, match=message):
        _agent(**kw)


def test_bad_spaces():
    with pytest.raises(
        TypeError, match="needs a Gaussian policy .* which chapters 6-7 do not build"
    ):
        ActorCriticAgent(OBS_SPACE, gym.spaces.Box(-2, 2, (1,)))
    with pytest.raises(TypeError, match="FlattenObservation"):
        ActorCriticAgent(gym.spaces.Discrete(16), ACTIONS)
    with pytest.raises(TypeError, match=r"flat Box observations of shape \(d,\)"):
        ActorCriticAgent(gym.spaces.Box(0, 1, (2, 2)), ACTIONS)
