"""Gaussian policies and the soft actor-critic's target and losses, on hand-computed numbers."""

import math

import numpy as np
import pytest
import tensorflow as tf

from rlbook.losses import (
    gaussian_entropy,
    gaussian_log_prob,
    sac_actor_loss,
    sac_critic_target,
    sac_temperature_loss,
    squashed_gaussian_log_prob,
    tanh_log_det_jacobian,
)

LOG_2PI = math.log(2 * math.pi)  # 1.837877
LN2 = math.log(2.0)  # 0.693147

# -- the diagonal Gaussian -----------------------------------------------------------------


def test_gaussian_log_prob_hand_computed():
    mean = [[0.0, 1.0], [0.0, 0.0]]
    log_std = [[0.0, LN2], [0.0, 0.0]]  # sigma = (1, 2) and (1, 1)
    actions = [[1.0, 3.0], [0.0, 0.0]]
    # row 0: dim 0: z = (1 - 0) / 1 = 1 -> -1/2 - 0 - log(2 pi)/2
    #        dim 1: z = (3 - 1) / 2 = 1 -> -1/2 - ln 2 - log(2 pi)/2
    #        sum = -1 - ln 2 - log(2 pi) = -1 - 0.693147 - 1.837877 = -3.531024
    # row 1: z = 0 in both dims -> 2 * (-log(2 pi)/2) = -1.837877
    got = gaussian_log_prob(mean, log_std, actions).numpy()
    np.testing.assert_allclose(got, [-3.531024, -1.837877], rtol=1e-6)
    assert got.shape == (2,)


def test_gaussian_log_prob_with_one_log_std_for_every_state():
    # log_std (A,) broadcasts over the batch: the same as repeating it per row.
    mean, actions = [[0.0, 1.0], [2.0, -1.0]], [[1.0, 3.0], [0.5, 0.0]]
    shared = gaussian_log_prob(mean, [0.0, LN2], actions)
    repeated = gaussian_log_prob(mean, [[0.0, LN2], [0.0, LN2]], actions)
    np.testing.assert_allclose(shared, repeated)


def test_gaussian_log_prob_is_a_density_that_integrates_to_one():
    # One dimension, mu = 0.3, sigma = 0.5: the trapezoid sum of exp(log p) over a wide grid is 1.
    grid = np.linspace(-5.0, 5.0, 20_001, dtype=np.float32)[:, None]
    mean = np.full_like(grid, 0.3)
    log_p = gaussian_log_prob(mean, np.full_like(grid, math.log(0.5)), grid).numpy()
    assert np.trapezoid(np.exp(log_p), grid[:, 0]) == pytest.approx(1.0, abs=1e-5)


def test_gaussian_entropy_hand_computed():
    # H = sum_j [log sigma_j + (1 + log(2 pi)) / 2]
    # row 0: 0 + ln 2 + 2 * (1 + 1.837877) / 2 = 0.693147 + 2.837877 = 3.531024
    # row 1: 2 * 2.837877 / 2 = 2.837877
    got = gaussian_entropy([[0.0, LN2], [0.0, 0.0]]).numpy()
    np.testing.assert_allclose(got, [3.531024, 2.837877], rtol=1e-6)


def test_gaussian_entropy_is_minus_the_mean_log_prob_of_samples():
    rng = np.random.default_rng(0)
    mean = np.array([[0.5, -1.0, 2.0]], np.float32)
    log_std = np.array([[-0.5, 0.0, 0.7]], np.float32)
    samples = (mean + np.exp(log_std) * rng.normal(size=(200_000, 3))).astype(np.float32)
    log_p = gaussian_log_prob(np.repeat(mean, len(samples), 0), log_std[0], samples)
    assert -float(tf.reduce_mean(log_p)) == pytest.approx(
        float(gaussian_entropy(log_std)[0]), abs=0.01
    )


# -- tanh squashing -----------------------------------------------------------------------


def test_squashed_log_prob_hand_computed():
    # u = 0.5, mu = 0, sigma = 1:
    #   log N(0.5; 0, 1) = -0.125 - 0.918939 = -1.043939
    #   tanh(0.5) = 0.462117; log(1 - 0.462117^2) = log(0.786448) = -0.240229
    #   log pi(a) = -1.043939 - (-0.240229) = -0.803710
    # u = 0: tanh'(0) = 1, so the correction is 0 and log pi = log N(0; 0, 1) = -0.918939
    got = squashed_gaussian_log_prob([[0.0], [0.0]], [[0.0], [0.0]], [[0.5], [0.0]]).numpy()
    np.testing.assert_allclose(got, [-0.803710, -0.918939], rtol=1e-5)


def test_stable_tanh_correction_equals_the_naive_formula_where_that_is_stable():
    u = np.random.default_rng(1).uniform(-4, 4, size=(64, 3)).astype(np.float32)
    naive = np.log(1.0 - np.tanh(u.astype(np.float64)) ** 2).sum(axis=1)
    np.testing.assert_allclose(tanh_log_det_jacobian(u), naive, rtol=1e-5, atol=1e-5)


def test_squashed_log_prob_stays_finite_at_u_20():
    u = np.array([[20.0], [-20.0]], np.float32)
    zeros = np.zeros_like(u)
    # The naive correction in float32: tanh(20) rounds to 1, log(1 - 1) = -inf.
    with np.errstate(divide="ignore"):
        assert not np.isfinite(np.log(1.0 - np.tanh(u) ** 2)).any()
    # Stable: log(1 - tanh(u)^2) = 2 (ln 2 - |u| - softplus(-2|u|)) = 2 (0.693147 - 20) = -38.613706
    #   log N(20; 0, 1) = -200 - 0.918939 = -200.918939
    #   log pi = -200.918939 + 38.613706 = -162.305233 (the same at u = -20: both are even)
    got = squashed_gaussian_log_prob(zeros, zeros, u).numpy()
    np.testing.assert_allclose(got, [-162.305233, -162.305233], rtol=1e-6)
    with tf.GradientTape() as tape:
        mean = tf.Variable(zeros)
        log_p = squashed_gaussian_log_prob(mean, zeros, u)
    assert np.isfinite(tape.gradient(log_p, mean).numpy()).all()


def test_squashed_density_integrates_to_one_over_the_actions():
    # a = tanh(u): integrate pi(a) over a in (-1, 1), with u = artanh(a).
    a = np.linspace(-0.999999, 0.999999, 400_001)
    u = np.arctanh(a).astype(np.float32)[:, None]
    log_p = squashed_gaussian_log_prob(np.full_like(u, 0.4), np.full_like(u, -0.3), u).numpy()
    assert np.trapezoid(np.exp(log_p), a) == pytest.approx(1.0, abs=1e-3)


# -- SAC's target and losses ------------------------------------------------------------------

REWARD = [1.0, 2.0, 3.0]
NEXT_Q1 = [10.0, 4.0, 5.0]
NEXT_Q2 = [8.0, 6.0, 7.0]
NEXT_LOG_PROB = [-1.0, 0.5, 2.0]


def test_sac_critic_target_hand_computed():
    # gamma = 0.5, alpha = 0.2; y = r + gamma (1 - terminated) (min(q1, q2) - alpha log pi)
    # row 0: min(10, 8) = 8; 8 - 0.2 * (-1) = 8.2; 1 + 0.5 * 8.2 = 5.1
    # row 1: min(4, 6) = 4; 4 - 0.2 * 0.5 = 3.9; 2 + 0.5 * 3.9 = 3.95
    # row 2: terminated: no bootstrap, y = r = 3
    y = sac_critic_target(REWARD, NEXT_Q1, NEXT_Q2, NEXT_LOG_PROB, [0, 0, 1], 0.5, 0.2)
    np.testing.assert_allclose(y, [5.1, 3.95, 3.0], rtol=1e-6)


def test_sac_critic_target_bootstraps_a_truncated_transition():
    # A time-limit cut is passed as terminated = 0 (the agent stores `terminated`, not `done`):
    # row 2 then bootstraps, min(5, 7) = 5; 5 - 0.2 * 2 = 4.6; 3 + 0.5 * 4.6 = 5.3
    y = sac_critic_target(REWARD, NEXT_Q1, NEXT_Q2, NEXT_LOG_PROB, [0, 0, 0], 0.5, 0.2)
    np.testing.assert_allclose(y, [5.1, 3.95, 5.3], rtol=1e-6)


def test_sac_critic_target_with_alpha_0_and_equal_critics_is_a_td_target():
    from rlbook.losses import td_target

    q = np.array([10.0, 4.0, 5.0], np.float32)
    y = sac_critic_target(REWARD, q, q, NEXT_LOG_PROB, [0, 1, 0], 0.9, 0.0)
    np.testing.assert_allclose(y, td_target(REWARD, q[:, None], [0, 1, 0], 0.9), rtol=1e-6)


def test_sac_critic_target_is_held_fixed():
    q1, q2, log_p = (tf.Variable(x) for x in (NEXT_Q1, NEXT_Q2, NEXT_LOG_PROB))
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(sac_critic_target(REWARD, q1, q2, log_p, [0, 0, 0], 0.5, 0.2))
    assert all(tape.gradient(y, v) is None for v in (q1, q2, log_p))


def test_sac_actor_loss_hand_computed_and_its_gradients():
    # alpha = 0.5: terms alpha log pi - min(q1, q2):
    #   0.5 * (-1) - min(1, 3) = -1.5;  0.5 * 2 - min(5, 2) = -1;  mean = -1.25
    q1, q2, log_p = tf.Variable([1.0, 5.0]), tf.Variable([3.0, 2.0]), tf.Variable([-1.0, 2.0])
    alpha = tf.Variable(0.5)
    with tf.GradientTape(persistent=True) as tape:
        loss = sac_actor_loss(q1, q2, log_p, alpha)
    assert float(loss) == pytest.approx(-1.25)
    # d/dq flows to the smaller critic of each row only: -1/B = -0.5; d/dlog pi = alpha / B = 0.25
    np.testing.assert_allclose(tape.gradient(loss, q1), [-0.5, 0.0])
    np.testing.assert_allclose(tape.gradient(loss, q2), [0.0, -0.5])
    np.testing.assert_allclose(tape.gradient(loss, log_p), [0.25, 0.25])
    assert tape.gradient(loss, alpha) is None  # the temperature is held fixed here


def test_sac_temperature_loss_hand_computed_and_its_direction():
    # log alpha = ln 0.5 = -0.693147; log pi + H_target = (-1 - 1, 2 - 1) = (-2, 1), mean -0.5
    # L = -(-0.693147 * -0.5) = -0.346574
    log_alpha, log_p = tf.Variable(math.log(0.5)), tf.Variable([-1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        loss = sac_temperature_loss(log_alpha, log_p, -1.0)
    assert float(loss) == pytest.approx(-0.346574, rel=1e-5)
    # dL/dlog alpha = -mean(log pi + H_target) = 0.5 > 0: the entropy estimate -mean(log pi) = -0.5
    # is above the target -1, so a step lowers alpha.
    assert float(tape.gradient(loss, log_alpha)) == pytest.approx(0.5)
    assert tape.gradient(loss, log_p) is None  # log pi is held fixed
    # An entropy estimate below the target (log pi high) gives the opposite sign: alpha rises.
    with tf.GradientTape() as tape:
        loss = sac_temperature_loss(log_alpha, [3.0, 4.0], -1.0)
    assert float(tape.gradient(loss, log_alpha)) == pytest.approx(-2.5)


# -- bad input ------------------------------------------------------------------------------


def test_bad_input_gets_a_message_naming_the_argument():
    with pytest.raises(ValueError, match=r"mean must have shape \(B, A\).*\(B, 1\)"):
        gaussian_log_prob([0.0, 1.0], [0.0, 0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="actions must have the shape of mean"):
        gaussian_log_prob([[0.0, 1.0]], [[0.0, 0.0]], [[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="log_std must have the shape of mean"):
        gaussian_log_prob([[0.0, 1.0]], [0.0, 0.0, 0.0], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="pre_tanh must have the shape of mean"):
        squashed_gaussian_log_prob([[0.0]], [[0.0]], [0.0])
    with pytest.raises(ValueError, match=r"log_std must have shape \(B, A\) or \(A,\)"):
        gaussian_entropy(0.0)
    with pytest.raises(ValueError, match=r"next_q1 must have the shape of reward.*squeezed"):
        sac_critic_target(REWARD, [[q] for q in NEXT_Q1], NEXT_Q2, NEXT_LOG_PROB, [0] * 3, 0.5, 0.2)
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\], got 1.5"):
        sac_critic_target(REWARD, NEXT_Q1, NEXT_Q2, NEXT_LOG_PROB, [0] * 3, 1.5, 0.2)
    with pytest.raises(ValueError, match="alpha must be a number >= 0, got -0.1"):
        sac_actor_loss([1.0], [2.0], [0.0], -0.1)
    with pytest.raises(ValueError, match="log_prob must have the shape of q1"):
        sac_actor_loss([1.0, 2.0], [2.0, 3.0], [[0.0], [1.0]], 0.1)
    with pytest.raises(ValueError, match="log_alpha must be a scalar"):
        sac_temperature_loss([0.0, 0.0], [1.0, 2.0], -1.0)
    with pytest.raises(ValueError, match="target_entropy must be a finite number, got nan"):
        sac_temperature_loss(0.0, [1.0, 2.0], float("nan"))
