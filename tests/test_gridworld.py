import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlbook.envs import make_env, make_vec_env
from rlbook.gridworld import ACTION_NAMES, AGENT, ENV_ID, GOAL, WALL, ImageGridEnv


def _place(env, agent, goal):
    """Put the agent and the goal on chosen cells (row, col), 1-based inside the walls."""
    env.agent, env.goal = np.array(agent), np.array(goal)


def test_spaces():
    env = ImageGridEnv(size=5)
    assert env.observation_space == gym.spaces.Box(0, 255, (7, 7, 3), np.uint8)
    assert env.action_space == gym.spaces.Discrete(4)
    assert len(ACTION_NAMES) == 4
    assert ImageGridEnv(size=3).observation_space.shape == (5, 5, 3)


def test_passes_gymnasium_env_checker():
    check_env(ImageGridEnv(), skip_render_check=True)


def test_observation_draws_walls_agent_and_goal():
    env = ImageGridEnv(size=4)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.uint8 and env.observation_space.contains(obs)
    assert set(np.unique(obs)) <= {0, 255}
    walls = obs[..., WALL] == 255
    assert walls[0].all() and walls[-1].all() and walls[:, 0].all() and walls[:, -1].all()
    assert not walls[1:-1, 1:-1].any()
    # exactly one agent and one goal, on different cells inside the walls
    assert (obs[..., AGENT] == 255).sum() == 1 and (obs[..., GOAL] == 255).sum() == 1
    assert tuple(np.argwhere(obs[..., AGENT])[0]) == info["agent"]
    assert tuple(np.argwhere(obs[..., GOAL])[0]) == info["goal"]
    assert info["agent"] != info["goal"]
    assert info["distance"] == sum(abs(a - g) for a, g in zip(info["agent"], info["goal"]))


def test_moves_and_walls():
    env = ImageGridEnv(size=5)
    env.reset(seed=0)
    _place(env, (3, 3), (5, 5))
    expected = {0: (2, 3), 1: (3, 4), 2: (4, 3), 3: (3, 2)}  # up, right, down, left
    for action, cell in expected.items():
        _place(env, (3, 3), (5, 5))
        _, reward, terminated, truncated, info = env.step(action)
        assert (
            info["agent"] == cell
            and reward == pytest.approx(-0.01)
            and not terminated
            and not truncated
        )
    _place(env, (1, 1), (5, 5))
    _, _, _, _, info = env.step(0)  # up into the top wall: stays
    assert info["agent"] == (1, 1)
    _, _, _, _, info = env.step(3)  # left into the left wall: stays
    assert info["agent"] == (1, 1)


def test_terminates_on_goal_with_goal_reward():
    env = ImageGridEnv(size=5, goal_reward=2.0, step_reward=-0.5)
    env.reset(seed=0)
    _place(env, (2, 2), (2, 3))
    obs, reward, terminated, truncated, info = env.step(1)  # right, onto the goal
    assert terminated and not truncated and reward == 2.0
    assert info["agent"] == info["goal"] == (2, 3)
    assert obs[2, 3, AGENT] == 255 and obs[2, 3, GOAL] == 255


def test_truncates_at_the_time_limit():
    env = ImageGridEnv(size=5, max_steps=3)
    env.reset(seed=0)
    _place(env, (1, 1), (5, 5))
    flags = [env.step(0)[2:4] for _ in range(3)]  # bump into the wall three times
    assert flags == [(False, False), (False, False), (False, True)]
    # a step that reaches the goal exactly at the limit is terminated, not truncated
    env.reset(seed=0)
    _place(env, (1, 1), (1, 4))
    flags = [env.step(1)[2:4] for _ in range(3)]
    assert flags[-1] == (True, False)


def test_reset_restarts_the_clock():
    env = ImageGridEnv(size=5, max_steps=2)
    env.reset(seed=0)
    _place(env, (1, 1), (5, 5))
    env.step(0)
    env.reset()
    _place(env, (1, 1), (5, 5))
    assert env.step(0)[2:4] == (False, False)


def _episode_trace(seed):
    """Observations and rewards of five random-policy episodes."""
    env = make_env(ENV_ID, seed=seed)
    observations, rewards = [], []
    for _ in range(5):
        obs, _ = env.reset()
        observations.append(obs)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            observations.append(obs)
            rewards.append(reward)
            done = terminated or truncated
    return np.stack(observations), rewards


def test_seeding_is_deterministic():
    (obs_a, rew_a), (obs_b, rew_b), (obs_c, _) = (
        _episode_trace(3),
        _episode_trace(3),
        _episode_trace(4),
    )
    np.testing.assert_array_equal(obs_a, obs_b)
    assert rew_a == rew_b
    assert obs_a.shape != obs_c.shape or not np.array_equal(obs_a, obs_c)
    # an explicit reset seed gives the same first observation
    env = ImageGridEnv()
    np.testing.assert_array_equal(env.reset(seed=7)[0], ImageGridEnv().reset(seed=7)[0])


def test_positions_are_random_and_cover_the_room():
    env = ImageGridEnv(size=3)
    seen_agent, seen_goal = set(), set()
    env.reset(seed=0)
    for _ in range(300):
        _, info = env.reset()
        seen_agent.add(info["agent"])
        seen_goal.add(info["goal"])
    cells = {(r, c) for r in range(1, 4) for c in range(1, 4)}
    assert seen_agent == cells and seen_goal == cells


def test_observations_stay_in_the_declared_space():
    env = make_env(ENV_ID, seed=0, size=4, max_steps=10)
    for _ in range(20):
        obs, _ = env.reset()
        assert env.observation_space.contains(obs)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
            done = terminated or truncated


def test_registered_for_make_and_make_vec():
    env = make_env(ENV_ID, seed=0, size=6)
    assert env.observation_space.shape == (8, 8, 3)
    envs = make_vec_env(ENV_ID, 3, seed=0)
    obs, _ = envs.reset()
    assert obs.shape == (3, 7, 7, 3) and obs.dtype == np.uint8
    obs, reward, terminated, truncated, _ = envs.step(np.array([0, 1, 2]))
    assert obs.shape == (3, 7, 7, 3) and reward.shape == (3,)


def test_render_enlarges_the_observation():
    env = ImageGridEnv(size=5, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    frame = env.render(scale=4)
    assert frame.shape == (28, 28, 3)
    np.testing.assert_array_equal(frame[::4, ::4], obs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=1), "size must be an integer >= 2"),
        (dict(size=4.5), "size must be an integer >= 2"),
        (dict(max_steps=0), "max_steps must be an integer >= 1"),
        (dict(render_mode="human"), "render_mode must be None or 'rgb_array'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImageGridEnv(**kwargs)


def test_bad_actions_and_step_before_reset():
    env = ImageGridEnv()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    for bad in (4, -1, 1.5, "up"):
        with pytest.raises(ValueError, match=r"action must be an integer in 0..3"):
            env.step(bad)
