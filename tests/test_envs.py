import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlbook.envs import DiscretizedObservationWrapper, HideVelocities, make_env, make_vec_env


def _box_env(low, high):
    class BoxEnv(gym.Env):
        observation_space = gym.spaces.Box(
            np.asarray(low, np.float32), np.asarray(high, np.float32)
        )
        action_space = gym.spaces.Discrete(2)

    return BoxEnv()


def test_declared_size_is_product_of_bins():
    env = DiscretizedObservationWrapper(
        make_env("CartPole-v1", seed=0),
        n_bins=8,
        low=[-2.4, -2, -0.42, -3.5],
        high=[2.4, 2, 0.42, 3.5],
    )
    assert env.observation_space == gym.spaces.Discrete(8**4)
    mixed = DiscretizedObservationWrapper(
        make_env("CartPole-v1", seed=0),
        n_bins=(1, 1, 6, 12),
        low=[-2.4, -2, -0.42, -3.5],
        high=[2.4, 2, 0.42, 3.5],
    )
    assert mixed.observation_space == gym.spaces.Discrete(72)


def test_hand_computed_codes():
    env = DiscretizedObservationWrapper(_box_env([0, 0], [3, 3]), n_bins=3)
    # bins are [0,1), [1,2), [2,3]; code = b0 + 3 * b1
    assert env.observation(np.array([0.5, 0.5])) == 0
    assert env.observation(np.array([1.5, 0.5])) == 1
    assert env.observation(np.array([0.5, 1.5])) == 3
    assert env.observation(np.array([2.5, 2.5])) == 8
    # out of range clips into the edge bins
    assert env.observation(np.array([-10.0, 99.0])) == 0 + 3 * 2


def test_original_encoding_collides_and_ours_does_not():
    """The errata: base n_bins + 1 over np.digitize's n_bins + 2 values collides; ours is a
    bijection."""
    n_bins = 3

    def original_code(digits):
        return sum(d * (n_bins + 1) ** i for i, d in enumerate(digits))

    digit_values = range(n_bins + 2)  # what np.digitize against n_bins + 1 edges can return
    codes = [original_code((a, b)) for a in digit_values for b in digit_values]
    assert len(set(codes)) < len(codes)  # (4, 0) and (0, 1) share the code 4
    assert max(codes) >= n_bins**2  # and codes exceed Discrete(n_bins ** d)

    env = DiscretizedObservationWrapper(_box_env([0, 0], [3, 3]), n_bins=n_bins)
    centres = [(i + 0.5) for i in range(n_bins)]
    ours = {env.observation(np.array([x, y])) for x in centres for y in centres}
    assert ours == set(range(n_bins**2))


@settings(max_examples=200, deadline=None)
@given(
    n_bins=st.lists(st.integers(1, 7), min_size=1, max_size=4),
    data=st.data(),
)
def test_every_observation_maps_into_declared_space(n_bins, data):
    d = len(n_bins)
    env = DiscretizedObservationWrapper(_box_env([-1.0] * d, [1.0] * d), n_bins=n_bins)
    obs = np.array(data.draw(st.lists(st.floats(-1e6, 1e6), min_size=d, max_size=d)))
    code = env.observation(obs)
    assert isinstance(code, int)
    assert env.observation_space.contains(code)
    bins = env.bins(obs)
    assert np.all((bins >= 0) & (bins < np.asarray(n_bins)))


@settings(max_examples=100, deadline=None)
@given(n_bins=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_distinct_bins_give_distinct_codes(n_bins, data):
    d = len(n_bins)
    env = DiscretizedObservationWrapper(_box_env([0.0] * d, [1.0] * d), n_bins=n_bins)
    b1 = [data.draw(st.integers(0, n - 1)) for n in n_bins]
    b2 = [data.draw(st.integers(0, n - 1)) for n in n_bins]

    def centre(b):
        return np.array([(bi + 0.5) / n for bi, n in zip(b, n_bins)])

    c1, c2 = env.observation(centre(b1)), env.observation(centre(b2))
    assert (c1 == c2) == (b1 == b2)
    assert list(env.bins(centre(b1))) == b1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_bins=0), "n_bins must be an integer >= 1"),
        (dict(n_bins=2.5), "n_bins must be an integer >= 1"),
        (dict(n_bins=(2, 2)), "sequence of 4"),
        (
            dict(n_bins=4, low=[-1, -1, -1], high=[1, 1, 1, 1]),
            "low must have one value per observation dimension (4)",
        ),
        (
            dict(n_bins=4, low=[-1, -1, -1, -1], high=[1, 1]),
            "high must have one value per observation dimension (4)",
        ),
        (dict(n_bins=4, low=[1, -1, -1, -1], high=[-1, 1, 1, 1]), "low must be below high"),
        (dict(n_bins=4), "low is required"),  # CartPole's velocity bounds are infinite
    ],
)
def test_bad_wrapper_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        DiscretizedObservationWrapper(make_env("CartPole-v1", seed=0), **kwargs)
    assert message in str(err.value)


def test_wrapper_rejects_discrete_observations():
    with pytest.raises(TypeError, match="needs a Box observation space"):
        DiscretizedObservationWrapper(make_env("FrozenLake-v1", seed=0))


def _random_returns(seed, episodes=3):
    env = make_env("CartPole-v1", seed=seed)
    out = []
    for _ in range(episodes):
        env.reset()
        total, done = 0.0, False
        while not done:
            _, r, term, trunc, _ = env.step(env.action_space.sample())
            total += r
            done = term or trunc
        out.append(total)
    return out


def test_same_seed_same_returns():
    assert _random_returns(3) == _random_returns(3)
    assert _random_returns(3) != _random_returns(4)


def test_vec_env_seeded_and_validated():
    a, b = make_vec_env("CartPole-v1", 3, seed=1), make_vec_env("CartPole-v1", 3, seed=1)
    np.testing.assert_array_equal(a.reset()[0], b.reset()[0])
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        make_vec_env("CartPole-v1", 0)


def test_hide_velocities_keeps_position_and_angle():
    full, masked = make_env("CartPole-v1", seed=5), HideVelocities(make_env("CartPole-v1", seed=5))
    space = full.observation_space
    assert masked.observation_space == gym.spaces.Box(
        space.low[[0, 2]], space.high[[0, 2]], dtype=np.float32
    )
    obs_full, _ = full.reset()
    obs, _ = masked.reset()
    np.testing.assert_array_equal(obs, obs_full[[0, 2]])
    for action in [0, 1, 1, 0, 1]:
        obs_full, r_full, term_full, trunc_full, _ = full.step(action)
        obs, r, term, trunc, _ = masked.step(action)
        np.testing.assert_array_equal(obs, obs_full[[0, 2]])
        assert obs.dtype == np.float32 and masked.observation_space.contains(obs)
        assert (r, term, trunc) == (r_full, term_full, trunc_full)


def test_hide_velocities_custom_keep_and_vector_env():
    env = HideVelocities(make_env("CartPole-v1", seed=0), keep=(3, 1))
    obs, _ = env.reset()
    assert obs.shape == (2,) and env.observation_space.shape == (2,)
    np.testing.assert_array_equal(
        env.observation_space.high, env.unwrapped.observation_space.high[[3, 1]]
    )
    envs = make_vec_env("CartPole-v1", 3, seed=0, wrappers=[HideVelocities])
    assert envs.single_observation_space.shape == (2,)
    assert envs.reset()[0].shape == (3, 2)


@pytest.mark.parametrize("keep", [(), (0, 0), (0, 4), (-1,), (1.0,), (True,)])
def test_hide_velocities_bad_keep(keep):
    with pytest.raises(
        ValueError, match=r"keep must be a non-empty sequence of distinct indices in 0..3"
    ):
        HideVelocities(make_env("CartPole-v1", seed=0), keep=keep)


def test_hide_velocities_needs_a_flat_box():
    with pytest.raises(TypeError, match="one-dimensional Box"):
        HideVelocities(make_env("FrozenLake-v1", seed=0))
    with pytest.raises(TypeError, match="one-dimensional Box"):
        HideVelocities(make_env("rlbook/ImageGrid-v0", seed=0))
