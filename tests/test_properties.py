"""Property-based tests (hypothesis) of the discretizing wrapper, discounted returns and TD targets.

tests/test_envs.py already checks that every observation lands in the declared space
and that distinct bins get distinct codes; these add monotonicity, clipping, decoding
and agreement with np.digitize. The returns and targets are checked against their
definitions and the identities they must satisfy, on random inputs.
"""

import gymnasium as gym
import numpy as np
import tensorflow as tf
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rlbook.envs import DiscretizedObservationWrapper
from rlbook.losses import (
    discounted_returns,
    double_td_target,
    dueling_q,
    q_loss,
    td_errors,
    td_target,
)

finite = st.floats(
    -1e3, 1e3, allow_nan=False, allow_infinity=False, width=32, allow_subnormal=False
)
gammas = st.floats(0.0, 1.0)


def _wrapper(n_bins, low, high):
    class BoxEnv(gym.Env):
        observation_space = gym.spaces.Box(
            np.asarray(low, np.float32), np.asarray(high, np.float32)
        )
        action_space = gym.spaces.Discrete(2)

    return DiscretizedObservationWrapper(BoxEnv(), n_bins=n_bins, low=low, high=high)


@st.composite
def wrappers(draw, max_dims=4):
    d = draw(st.integers(1, max_dims))
    n_bins = draw(st.lists(st.integers(1, 8), min_size=d, max_size=d))
    low = np.array(draw(st.lists(st.floats(-100, 100), min_size=d, max_size=d)))
    width = np.array(draw(st.lists(st.floats(0.01, 100), min_size=d, max_size=d)))
    return _wrapper(n_bins, low, low + width)


# -- the discretizing wrapper --------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(env=wrappers(), data=st.data())
def test_bins_agree_with_np_digitize_on_the_inner_edges(env, data):
    obs = np.array(
        data.draw(
            st.lists(st.floats(-1e4, 1e4), min_size=len(env.n_bins), max_size=len(env.n_bins))
        )
    )
    for i, n in enumerate(env.n_bins):
        inner = np.linspace(env.low[i], env.high[i], n + 1)[1:-1]
        assert env.bins(obs)[i] == np.digitize(obs[i], inner)


@settings(max_examples=150, deadline=None)
@given(env=wrappers(), data=st.data())
def test_a_code_decodes_back_to_its_bins(env, data):
    """Mixed radix, first dimension least significant: unravel_index(code, n_bins, order='F')."""
    d = len(env.n_bins)
    obs = np.array(data.draw(st.lists(st.floats(-1e4, 1e4), min_size=d, max_size=d)))
    code = env.observation(obs)
    np.testing.assert_array_equal(
        np.unravel_index(code, tuple(env.n_bins), order="F"), env.bins(obs)
    )


@settings(max_examples=150, deadline=None)
@given(env=wrappers(), data=st.data())
def test_bins_are_monotone_in_each_dimension(env, data):
    d = len(env.n_bins)
    obs = np.array(data.draw(st.lists(st.floats(-1e4, 1e4), min_size=d, max_size=d)))
    i = data.draw(st.integers(0, d - 1))
    bigger = obs.copy()
    bigger[i] += data.draw(st.floats(0, 1e4))
    before, after = env.bins(obs), env.bins(bigger)
    assert after[i] >= before[i]
    np.testing.assert_array_equal(np.delete(after, i), np.delete(before, i))


@settings(max_examples=100, deadline=None)
@given(env=wrappers(), data=st.data())
def test_out_of_range_values_clip_into_the_edge_bins(env, data):
    d = len(env.n_bins)
    below = env.low - np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=d, max_size=d)))
    above = env.high + np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=d, max_size=d)))
    np.testing.assert_array_equal(env.bins(below), np.zeros(d))
    np.testing.assert_array_equal(env.bins(above), env.n_bins - 1)


@settings(max_examples=30, deadline=None)
@given(n_bins=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_every_code_is_reached_by_some_observation(n_bins):
    """Surjective: the declared Discrete(prod n_i) has no unreachable states (bin centres hit them
    all)."""
    d = len(n_bins)
    env = _wrapper(n_bins, [0.0] * d, [1.0] * d)
    grids = np.meshgrid(*[(np.arange(n) + 0.5) / n for n in n_bins], indexing="ij")
    codes = {env.observation(np.array(point)) for point in zip(*(g.ravel() for g in grids))}
    assert codes == set(range(env.observation_space.n))


# -- discounted returns ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(rewards=st.lists(finite, min_size=1, max_size=30), gamma=gammas, bootstrap=finite)
def test_returns_match_the_definition(rewards, gamma, bootstrap):
    """G_t = sum_k gamma^k r_{t+k} + gamma^(T-t) * bootstrap for one unfinished rollout."""
    r = np.array(rewards, np.float64)
    T = len(r)
    want = [
        sum(gamma**k * r[t + k] for k in range(T - t)) + gamma ** (T - t) * bootstrap
        for t in range(T)
    ]
    got = discounted_returns(r, np.zeros(T), gamma, bootstrap=bootstrap)
    scale = 1.0 + np.abs(r).sum() + abs(bootstrap)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * scale)


@settings(max_examples=100, deadline=None)
@given(
    first=st.lists(finite, min_size=1, max_size=15),
    second=st.lists(finite, min_size=1, max_size=15),
    gamma=gammas,
    bootstrap=finite,
)
def test_returns_restart_at_an_episode_end(first, second, gamma, bootstrap):
    """Two episodes back to back = each one alone (the first ended, so nothing leaks across)."""
    dones = np.zeros(len(first) + len(second))
    dones[len(first) - 1] = 1
    together = discounted_returns(first + second, dones, gamma, bootstrap=bootstrap)
    alone = np.concatenate(
        [
            discounted_returns(first, np.eye(len(first))[-1], gamma),
            discounted_returns(second, np.zeros(len(second)), gamma, bootstrap=bootstrap),
        ]
    )
    np.testing.assert_array_equal(together, alone)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), gamma=gammas)
def test_vector_returns_are_the_columns_computed_alone(data, gamma):
    T, N = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 4))
    rewards = data.draw(hnp.arrays(np.float64, (T, N), elements=finite))
    dones = data.draw(hnp.arrays(np.bool_, (T, N)))
    bootstrap = data.draw(hnp.arrays(np.float64, (N,), elements=finite))
    together = discounted_returns(rewards, dones, gamma, bootstrap=bootstrap)
    for j in range(N):
        np.testing.assert_array_equal(
            together[:, j],
            discounted_returns(rewards[:, j], dones[:, j], gamma, bootstrap=bootstrap[j]),
        )


@settings(max_examples=100, deadline=None)
@given(rewards=st.lists(st.floats(-1, 1), min_size=1, max_size=40), gamma=st.floats(0.0, 0.99))
def test_returns_are_bounded_by_the_geometric_series(rewards, gamma):
    got = discounted_returns(rewards, np.zeros(len(rewards)), gamma)
    assert np.all(np.abs(got) <= max(abs(r) for r in rewards) / (1 - gamma) + 1e-5)


@settings(max_examples=50, deadline=None)
@given(rewards=st.lists(st.floats(-10, 10), min_size=1, max_size=20))
def test_gamma_zero_gives_the_rewards(rewards):
    got = discounted_returns(rewards, np.zeros(len(rewards)), 0.0, bootstrap=99.0)
    np.testing.assert_array_equal(
        got, np.asarray(rewards, np.float32)
    )  # float32 out: compare after the same cast


# -- TD targets ------------------------------------------------------------------------------------


@st.composite
def batches(draw):
    B, A = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    # No subnormal floats: TensorFlow's CPU kernels flush them to zero (a hardware mode), which is
    # not what these properties are about.
    q = st.floats(-100, 100, width=32, allow_subnormal=False)
    return {
        "reward": draw(
            hnp.arrays(
                np.float32, (B,), elements=st.floats(-10, 10, width=32, allow_subnormal=False)
            )
        ),
        "q_online": draw(hnp.arrays(np.float32, (B, A), elements=q)),
        "q_target": draw(hnp.arrays(np.float32, (B, A), elements=q)),
        "terminated": draw(hnp.arrays(np.bool_, (B,))).astype(np.float32),
        "gamma": draw(gammas),
    }


@settings(max_examples=60, deadline=None)
@given(b=batches())
def test_td_target_matches_its_equation(b):
    y = td_target(b["reward"], b["q_target"], b["terminated"], b["gamma"]).numpy()
    want = b["reward"] + b["gamma"] * (1 - b["terminated"]) * b["q_target"].max(axis=1)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-4)


@settings(max_examples=60, deadline=None)
@given(b=batches())
def test_terminated_targets_are_the_reward_alone(b):
    ones = np.ones_like(b["terminated"])
    np.testing.assert_array_equal(
        td_target(b["reward"], b["q_target"], ones, b["gamma"]).numpy(), b["reward"]
    )
    np.testing.assert_array_equal(
        double_td_target(b["reward"], b["q_online"], b["q_target"], ones, b["gamma"]).numpy(),
        b["reward"],
    )


@settings(max_examples=60, deadline=None)
@given(b=batches())
def test_double_target_never_exceeds_the_vanilla_one(b):
    """Q_target(s', argmax Q_online) <= max Q_target(s'): double DQN cannot overestimate more than
    DQN."""
    args = (b["terminated"], b["gamma"])
    double = double_td_target(b["reward"], b["q_online"], b["q_target"], *args).numpy()
    vanilla = td_target(b["reward"], b["q_target"], *args).numpy()
    assert np.all(double <= vanilla + 1e-4)


@settings(max_examples=60, deadline=None)
@given(b=batches())
def test_double_target_with_one_network_is_the_vanilla_target(b):
    q = b["q_target"]
    assume(all(len(set(row)) == len(row) for row in q.tolist()))  # no ties: argmax is unambiguous
    args = (b["terminated"], b["gamma"])
    np.testing.assert_array_equal(
        double_td_target(b["reward"], q, q, *args).numpy(), td_target(b["reward"], q, *args).numpy()
    )


@settings(max_examples=40, deadline=None)
@given(b=batches(), shift=st.floats(-50, 50, width=32, allow_subnormal=False))
def test_dueling_q_is_unchanged_by_shifting_the_advantages(b, shift):
    value = b["reward"][:, None]
    q1, q2 = (
        dueling_q(value, b["q_online"]).numpy(),
        dueling_q(value, b["q_online"] + shift).numpy(),
    )
    np.testing.assert_allclose(q1, q2, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(
        q1.mean(axis=1), b["reward"], rtol=1e-4, atol=1e-3
    )  # V(s) = mean_a Q(s, a)


@settings(max_examples=40, deadline=None)
@given(b=batches())
def test_huber_is_below_half_the_squared_error(b):
    actions = np.zeros(len(b["reward"]), np.int64)
    y = td_target(b["reward"], b["q_target"], b["terminated"], b["gamma"])
    huber, mse = (
        q_loss(b["q_online"], actions, y, "huber").numpy(),
        q_loss(b["q_online"], actions, y, "mse").numpy(),
    )
    assert huber <= mse / 2 + 1e-3 * (1 + mse)


@settings(max_examples=40, deadline=None)
@given(b=batches())
def test_td_errors_are_the_target_minus_the_value(b):
    values, next_values = b["q_online"][:, 0], b["q_target"][:, 0]
    delta = td_errors(b["reward"], values, next_values, b["terminated"], b["gamma"]).numpy()
    want = b["reward"] + b["gamma"] * (1 - b["terminated"]) * next_values - values
    np.testing.assert_allclose(delta, want, rtol=1e-5, atol=1e-3)
    with tf.GradientTape() as tape:  # and the gradient reaches V(s_t) only, with slope -1
        v, nv = tf.constant(values), tf.constant(next_values)
        tape.watch([v, nv])
        total = tf.reduce_sum(td_errors(b["reward"], v, nv, b["terminated"], b["gamma"]))
    grad_v, grad_next = tape.gradient(total, [v, nv])
    np.testing.assert_array_equal(grad_v.numpy(), -np.ones_like(values))
    assert grad_next is None or not np.any(grad_next.numpy())
