import gymnasium as gym
import numpy as np
import pytest

from rlbook.diagnostics import q_versus_returns


class Corridor(gym.Env):
    """Reward 1 per step; action 0 ends the episode after 3 steps, action 1 after 5 (terminated)."""

    observation_space = gym.spaces.Box(-10, 10, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        length = 3 if action == 0 else 5
        return np.full(1, self.t, np.float32), 1.0, self.t >= length, False, {}


class FixedQ:
    """An 'agent' whose Q-values are the same in every state."""

    def __init__(self, q):
        self.q = np.asarray(q, np.float32)

    def q_values(self, obs):
        return np.tile(self.q, (len(obs), 1))


def test_hand_computed_returns_and_predictions():
    # Greedy picks action 0 (Q = 2 > 0.5): three steps of reward 1, gamma 0.5.
    # G_2 = 1, G_1 = 1 + 0.5 * 1 = 1.5, G_0 = 1 + 0.5 * 1.5 = 1.75.
    r = q_versus_returns(FixedQ([2.0, 0.5]), Corridor(), gamma=0.5, episodes=2)
    np.testing.assert_allclose(r.returns, [1.75, 1.5, 1.0] * 2)
    np.testing.assert_allclose(r.q, [2.0] * 6)
    np.testing.assert_array_equal(r.step, [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(r.episode, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(r.steps_left, [3, 2, 1, 3, 2, 1])
    assert not r.truncated.any() and r.reliable(0.5, max_reward=1.0, tol=0.0).all()


def test_records_q_of_the_greedy_action():
    r = q_versus_returns(FixedQ([0.1, 7.0]), Corridor(), gamma=1.0)
    np.testing.assert_allclose(r.q, [7.0] * 5)  # action 1: five steps
    np.testing.assert_allclose(r.returns, [5, 4, 3, 2, 1])


def test_truncated_episodes_are_flagged_and_their_tail_dropped():
    env = gym.wrappers.TimeLimit(Corridor(), max_episode_steps=4)
    r = q_versus_returns(FixedQ([0.0, 1.0]), env, gamma=0.5)
    np.testing.assert_allclose(r.returns, [1.875, 1.75, 1.5, 1.0])  # cut after 4 of 5 steps
    assert r.truncated.all()
    # k steps before the cut the return misses at most 0.5^k * 1 /
    # (1 - 0.5) = 2^(1 - k): 1/8, 1/4, 1/2, 1.
    np.testing.assert_array_equal(
        r.reliable(0.5, max_reward=1.0, tol=0.2), [True, False, False, False]
    )


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        q_versus_returns(FixedQ([0.0, 1.0]), Corridor(), gamma=1.5)
    with pytest.raises(ValueError, match="episodes"):
        q_versus_returns(FixedQ([0.0, 1.0]), Corridor(), gamma=0.5, episodes=0)
