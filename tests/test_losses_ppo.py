"""GAE(lambda) and PPO's clipped surrogate (chapter 9) on hand-computed numbers."""

import numpy as np
import pytest
import tensorflow as tf

from rlbook.losses import (
    discounted_returns,
    gae_advantages,
    ppo_clip_loss,
    ppo_diagnostics,
    td_errors,
)

# -- GAE ---------------------------------------------------------------------------------

# One copy, five steps, gamma = lambda = 0.5 (gamma lambda = 0.25). Episodes:
#   s0 -> s1 -> (terminated)  |  s2 -> s3 -> (truncated, final obs worth 6)  |  s4 -> (rollout ends)
REWARDS = [1.0, 2.0, 3.0, 4.0, 5.0]
VALUES = [1.0, 1.0, 2.0, 2.0, 3.0]  # V(s_t)
NEXT_VALUES = [1.0, 9.0, 2.0, 6.0, 4.0]  # V(s_{t+1}); 9 is never used (terminated)
TERMINATED = [0, 1, 0, 0, 0]
TRUNCATED = [0, 0, 0, 1, 0]


def test_gae_hand_computed_with_a_termination_and_a_truncation():
    adv, ret = gae_advantages(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, 0.5, 0.5)
    # delta_t = r + 0.5 (1 - terminated) V(s') - V(s):
    #   0.5, 2 - 1 = 1 (terminated: no bootstrap), 2, 4 + 3 - 2 = 5 (truncated: bootstraps), 4
    # A_t = delta_t + 0.25 (1 - done) A_{t+1}, backwards:
    #   A4 = 4; A3 = 5 (episode ended: the sum stops); A2 = 2 + 0.25 * 5 = 3.25;
    #   A1 = 1; A0 = 0.5 + 0.25 * 1 = 0.75
    np.testing.assert_allclose(adv, [0.75, 1.0, 3.25, 5.0, 4.0])
    np.testing.assert_allclose(ret, [1.75, 2.0, 5.25, 7.0, 7.0])  # R = A + V
    assert adv.dtype == ret.dtype == np.float32 and adv.shape == ret.shape == (5,)


def _random_rollout(seed, T=7, N=3):
    """A rollout whose next_values are consistent: V(s_{t+1}) is the next row's V(s) unless
    the episode ended (then it is V of the final observation, another number)."""
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(T, N))
    v = rng.normal(size=(T + 1, N))  # V(s_0) ... V(s_T)
    terminated = rng.random((T, N)) < 0.15
    truncated = ~terminated & (rng.random((T, N)) < 0.15)
    done = terminated | truncated
    next_values = np.where(done, rng.normal(size=(T, N)), v[1:])
    return rewards, v[:-1], next_values, terminated, truncated


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_lambda_0_is_chapter_7s_one_step_target(seed):
    rewards, values, next_values, terminated, truncated = _random_rollout(seed)
    adv, ret = gae_advantages(rewards, values, next_values, terminated, truncated, 0.9, 0.0)
    # A_t = delta_t (td_errors: bootstraps unless terminated) and R_t = r + gamma (1 - term) V(s')
    delta = td_errors(
        rewards.ravel(), values.ravel(), next_values.ravel(), terminated.ravel(), 0.9
    ).numpy()
    np.testing.assert_allclose(adv.ravel(), delta, rtol=1e-5, atol=1e-5)
    one_step = rewards + 0.9 * (1 - terminated) * next_values
    np.testing.assert_allclose(ret, one_step, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_lambda_1_is_the_discounted_return_minus_v(seed):
    rewards, values, next_values, terminated, truncated = _random_rollout(seed)
    adv, ret = gae_advantages(rewards, values, next_values, terminated, truncated, 0.9, 1.0)
    # Chapter 7's rule: at a truncation the rest of the episode is worth gamma V(final obs),
    # folded into the reward; the rollout's end bootstraps from V(s_T).
    cut = truncated & ~terminated
    g = discounted_returns(
        rewards + 0.9 * cut * next_values,
        terminated | truncated,
        0.9,
        bootstrap=next_values[-1],
    )
    np.testing.assert_allclose(ret, g, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(adv, g - values, rtol=1e-5, atol=1e-5)


def test_gae_of_copies_is_gae_of_each_copy():
    rewards, values, next_values, terminated, truncated = _random_rollout(3)
    adv, ret = gae_advantages(rewards, values, next_values, terminated, truncated, 0.99, 0.95)
    for i in range(rewards.shape[1]):
        a, r = gae_advantages(
            rewards[:, i], values[:, i], next_values[:, i], terminated[:, i], truncated[:, i],
            0.99, 0.95,
        )  # fmt: skip
        np.testing.assert_allclose(adv[:, i], a, rtol=1e-6)
        np.testing.assert_allclose(ret[:, i], r, rtol=1e-6)


def test_gae_bad_input():
    args = (REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED)
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\], got 1.5"):
        gae_advantages(*args, 1.5, 0.9)
    with pytest.raises(ValueError, match=r"lam must be a number in \[0, 1\], got -0.1"):
        gae_advantages(*args, 0.9, -0.1)
    with pytest.raises(ValueError, match=r"next_values must have the shape of rewards \(5,\)"):
        gae_advantages(REWARDS, VALUES, NEXT_VALUES[:4], TERMINATED, TRUNCATED, 0.9, 0.9)
    with pytest.raises(ValueError, match=r"values must have the shape .* reshaped to \(T, N\)"):
        gae_advantages(REWARDS, np.ones((5, 1)), NEXT_VALUES, TERMINATED, TRUNCATED, 0.9, 0.9)
    with pytest.raises(ValueError, match=r"rewards must have shape \(T,\) or \(T, N\)"):
        gae_advantages(np.ones((2, 2, 2)), *[np.ones((2, 2, 2))] * 4, 0.9, 0.9)


# -- the clipped surrogate -------------------------------------------------------------------

EPS = 0.2
RATIO = np.array([1.1, 1.5, 0.5, 0.5, 1.5, 0.9])
ADV = np.array([1.0, 1.0, 1.0, -1.0, -2.0, -1.0], np.float32)
OLD = np.log([0.5, 0.2, 0.4, 0.6, 0.3, 0.5]).astype(np.float32)
NEW = (OLD + np.log(RATIO)).astype(np.float32)  # log pi = log pi_old + log rho


def test_clip_loss_hand_computed():
    # min(rho A, clip(rho, 0.8, 1.2) A) per sample:
    #   1.1 (inside) | min(1.5, 1.2) = 1.2 (clipped: A > 0, rho > 1.2)
    #   min(0.5, 0.8) = 0.5 (rho moved against A > 0: not clipped)
    #   min(-0.5, -0.8) = -0.8 (clipped: A < 0, rho < 0.8)
    #   min(-3, -2.4) = -3 (rho moved against A < 0: not clipped) | -0.9 (inside)
    want = -(1.1 + 1.2 + 0.5 - 0.8 - 3.0 - 0.9) / 6
    assert ppo_clip_loss(NEW, OLD, ADV, EPS).numpy() == pytest.approx(want, rel=1e-5)
    # without clipping: -mean(rho A) = -(1.1 + 1.5 + 0.5 - 0.5 - 3 - 0.9) / 6
    unclipped = -(1.1 + 1.5 + 0.5 - 0.5 - 3.0 - 0.9) / 6
    assert ppo_clip_loss(NEW, OLD, ADV, None).numpy() == pytest.approx(unclipped, rel=1e-5)


def test_clipped_samples_get_no_gradient():
    log_probs = tf.Variable(NEW)
    with tf.GradientTape() as tape:
        loss = ppo_clip_loss(log_probs, OLD, ADV, EPS)
    grad = tape.gradient(loss, log_probs).numpy()
    # d/dlog pi of -rho A / B is -rho A / B where the unclipped term is taken, 0 where clipped
    want = -RATIO * ADV / 6
    want[[1, 3]] = 0.0
    np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-7)
    with tf.GradientTape() as tape:
        loss = ppo_clip_loss(log_probs, OLD, ADV, None)
    np.testing.assert_allclose(tape.gradient(loss, log_probs).numpy(), -RATIO * ADV / 6, rtol=1e-5)


def test_at_ratio_one_the_gradient_is_the_policy_gradient():
    # pi = pi_old: d/dlog pi of L^CLIP is -A / B, the gradient of -mean(A log pi) (chapters 6-7)
    log_probs = tf.Variable(OLD)
    with tf.GradientTape() as tape:
        loss = ppo_clip_loss(log_probs, OLD, ADV, EPS)
    assert loss.numpy() == pytest.approx(-ADV.mean(), rel=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, log_probs).numpy(), -ADV / 6, rtol=1e-6)


def test_old_log_probs_and_advantages_are_held_fixed():
    old, adv = tf.Variable(OLD), tf.Variable(ADV)
    with tf.GradientTape(persistent=True) as tape:
        loss = ppo_clip_loss(NEW, old, adv, EPS)
    assert tape.gradient(loss, old) is None and tape.gradient(loss, adv) is None


def test_diagnostics_hand_computed():
    d = ppo_diagnostics(NEW, OLD, EPS)
    # |rho - 1| > 0.2 for rho = 1.5, 0.5, 0.5, 1.5: four of six
    assert d["clip_fraction"].numpy() == pytest.approx(4 / 6)
    want_kl = np.mean((RATIO - 1) - np.log(RATIO))
    assert d["approx_kl"].numpy() == pytest.approx(want_kl, rel=1e-4)
    zero = ppo_diagnostics(OLD, OLD, EPS)
    assert zero["approx_kl"].numpy() == 0.0 and zero["clip_fraction"].numpy() == 0.0


def test_clip_loss_bad_input():
    with pytest.raises(ValueError, match=r"clip_eps must be a number in \(0, 1\) or None, got 0"):
        ppo_clip_loss(NEW, OLD, ADV, 0)
    with pytest.raises(ValueError, match=r"advantages must have the shape of log_probs"):
        ppo_clip_loss(NEW, OLD, ADV[:, None], EPS)
