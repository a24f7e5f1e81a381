"""Returns and policy-gradient losses (chapters 6-7) on hand-computed numbers."""

import numpy as np
import pytest
import tensorflow as tf

from rlbook.losses import (
    actor_critic_losses,
    discounted_returns,
    entropy,
    log_prob,
    normalize_advantages,
    reinforce_loss,
    td_errors,
    value_loss,
)

# Two states, two actions. Logits (0, 0) -> pi = (1/2, 1/2); logits (ln 3, 0) -> pi = (3/4, 1/4).
LOGITS = np.array([[0.0, 0.0], [np.log(3.0), 0.0]], np.float32)
ACTIONS = np.array([1, 0])
LOG_PI_TAKEN = np.log([0.5, 0.75])


def test_returns_of_one_episode():
    # gamma = 0.5, rewards 1, 2, 4 (ends): G2 = 4, G1 = 2 + 0.5*4 = 4, G0 = 1 + 0.5*4 = 3
    g = discounted_returns([1.0, 2.0, 4.0], [0, 0, 1], 0.5)
    np.testing.assert_allclose(g, [3.0, 4.0, 4.0])
    assert g.dtype == np.float32


def test_returns_restart_after_an_episode_end_inside_the_batch():
    # two episodes back to back: (1, 1 | done) then (2, 2 | cut, bootstrap 10), gamma = 0.9
    g = discounted_returns([1.0, 1.0, 2.0, 2.0], [0, 1, 0, 0], 0.9, bootstrap=10.0)
    # second episode: G3 = 2 + 0.9*10 = 11, G2 = 2 + 0.9*11 = 11.9; first: G1 = 1, G0 = 1.9
    np.testing.assert_allclose(g, [1.9, 1.0, 11.9, 11.0], rtol=1e-6)


def test_bootstrap_is_ignored_when_the_last_step_ends_the_episode():
    np.testing.assert_allclose(
        discounted_returns([1.0, 1.0], [0, 1], 0.9, bootstrap=100.0), [1.9, 1.0]
    )


def test_returns_of_several_environments_time_first():
    rewards = np.array([[1.0, 0.0], [1.0, 3.0]])  # (T=2, N=2)
    dones = np.array([[0, 1], [0, 0]])
    g = discounted_returns(rewards, dones, 0.5, bootstrap=np.array([2.0, 4.0]))
    # env 0: G1 = 1 + 0.5*2 = 2, G0 = 1 + 0.5*2 = 2 ; env 1: G1 = 3 + 0.5*4 = 5, G0 = 0 (done)
    np.testing.assert_allclose(g, [[2.0, 0.0], [2.0, 5.0]])


def test_gamma_zero_and_one():
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], [0, 0, 1], 0.0), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], [0, 0, 1], 1.0), [6.0, 5.0, 3.0])


def test_returns_bad_input():
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\]"):
        discounted_returns([1.0], [1], 1.5)
    with pytest.raises(ValueError, match="dones the same shape"):
        discounted_returns([1.0, 2.0], [1], 0.9)


def test_td_errors_hand_computed_and_stop_on_terminated_only():
    # delta = r + gamma (1 - terminated) V(s') - V(s), gamma = 0.9
    rewards = np.array([1.0, 1.0, 1.0], np.float32)
    values = np.array([2.0, 2.0, 2.0], np.float32)
    next_values = np.array([10.0, 10.0, 10.0], np.float32)
    terminated = np.array(
        [0.0, 1.0, 0.0], np.float32
    )  # the third was truncated: not passed as terminated
    delta = td_errors(rewards, values, next_values, terminated, 0.9)
    np.testing.assert_allclose(delta.numpy(), [8.0, -1.0, 8.0])


def test_td_target_is_held_fixed():
    v = tf.Variable([2.0, 3.0])
    nv = tf.Variable([1.0, 1.0])
    with tf.GradientTape(persistent=True) as tape:
        delta = td_errors([0.0, 0.0], v, nv, [0.0, 0.0], 0.9)
        total = tf.reduce_sum(delta)
    assert tape.gradient(total, nv) is None  # no gradient through the target
    np.testing.assert_allclose(tape.gradient(total, v).numpy(), [-1.0, -1.0])


def test_log_prob_and_entropy():
    np.testing.assert_allclose(log_prob(LOGITS, ACTIONS).numpy(), LOG_PI_TAKEN, rtol=1e-6)
    h = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    np.testing.assert_allclose(entropy(LOGITS).numpy(), [np.log(2.0), h], rtol=1e-6)


def test_reinforce_loss_hand_computed():
    returns = np.array([2.0, -1.0], np.float32)
    # L = -mean(G log pi(a|s)) = -(2 ln 0.5 - ln 0.75) / 2
    want = -(2.0 * LOG_PI_TAKEN[0] - 1.0 * LOG_PI_TAKEN[1]) / 2
    assert reinforce_loss(LOGITS, ACTIONS, returns).numpy() == pytest.approx(want, rel=1e-6)
    baseline = np.array([1.0, 1.0], np.float32)  # weights G - b = (1, -2)
    want_b = -(1.0 * LOG_PI_TAKEN[0] - 2.0 * LOG_PI_TAKEN[1]) / 2
    assert reinforce_loss(LOGITS, ACTIONS, returns, baseline).numpy() == pytest.approx(
        want_b, rel=1e-6
    )
    h = entropy(LOGITS).numpy().mean()
    got = reinforce_loss(LOGITS, ACTIONS, returns, baseline, entropy_coef=0.1).numpy()
    assert got == pytest.approx(want_b - 0.1 * h, abs=1e-6)


def test_policy_gradient_step_makes_good_actions_more_likely():
    # The sign: one gradient-descent step on the loss raises
    # pi(a|s) when G > 0 and lowers it when G < 0.
    for ret, direction in ((1.0, +1), (-1.0, -1)):
        logits = tf.Variable([[0.0, 0.0]])
        with tf.GradientTape() as tape:
            loss = reinforce_loss(logits, [0], [ret])
        grad = tape.gradient(loss, logits).numpy()
        # d/dlogits of -G log softmax_0 = -G (onehot - pi) = -G (0.5, -0.5)
        np.testing.assert_allclose(grad, [[-0.5 * ret, 0.5 * ret]], rtol=1e-6)
        new_pi = tf.nn.softmax(logits - 0.1 * grad).numpy()[0, 0]
        assert np.sign(new_pi - 0.5) == direction


def test_baseline_is_per_step_and_gets_no_policy_gradient():
    b = tf.Variable([1.0, 1.0])
    with tf.GradientTape() as tape:
        loss = reinforce_loss(LOGITS, ACTIONS, [2.0, -1.0], b)
    assert tape.gradient(loss, b) is None
    with pytest.raises(ValueError, match=r"squeezed to \(B,\)"):
        reinforce_loss(LOGITS, ACTIONS, [2.0, -1.0], np.ones((2, 1), np.float32))


def test_the_original_broadcast_bug_is_what_the_shape_check_prevents():
    # What (N,) - (N, 1) does: an N x N matrix, not N per-step advantages.
    returns, v = np.array([3.0, 1.0]), np.array([[1.0], [2.0]])
    assert (returns - v).shape == (2, 2)


def test_actor_critic_losses_hand_computed():
    values = np.array([1.0, 2.0], np.float32)
    targets = np.array([3.0, 0.0], np.float32)  # delta = (2, -2)
    losses = actor_critic_losses(LOGITS, ACTIONS, values, targets)
    assert losses["value_loss"].numpy() == pytest.approx((4.0 + 4.0) / 2)  # squared, not (V - y)
    want_actor = -(2.0 * LOG_PI_TAKEN[0] - 2.0 * LOG_PI_TAKEN[1]) / 2
    assert losses["policy_loss"].numpy() == pytest.approx(want_actor, rel=1e-6)
    with_bonus = actor_critic_losses(LOGITS, ACTIONS, values, targets, entropy_coef=0.5)
    assert with_bonus["policy_loss"].numpy() == pytest.approx(
        want_actor - 0.5 * losses["entropy"].numpy(), rel=1e-6
    )


def test_actor_critic_gradients_flow_where_they_should():
    logits, values, targets = tf.Variable(LOGITS), tf.Variable([1.0, 2.0]), tf.Variable([3.0, 0.0])
    with tf.GradientTape(persistent=True) as tape:
        losses = actor_critic_losses(logits, ACTIONS, values, targets)
    assert tape.gradient(losses["policy_loss"], values) is None  # delta is fixed in the actor loss
    assert tape.gradient(losses["value_loss"], targets) is None  # the target is fixed
    assert tape.gradient(losses["value_loss"], logits) is None
    # d/dV mean((y - V)^2) = -2 (y - V) / B = (-2, 2)
    np.testing.assert_allclose(tape.gradient(losses["value_loss"], values).numpy(), [-2.0, 2.0])
    with pytest.raises(ValueError, match=r"\(B, 1\) critic output"):
        actor_critic_losses(LOGITS, ACTIONS, np.ones((2, 1), np.float32), targets)


def test_reinforce_loss_normalized_weights():
    returns = np.array([3.0, 1.0], np.float32)  # normalized: (1, -1)
    want = -(1.0 * LOG_PI_TAKEN[0] - 1.0 * LOG_PI_TAKEN[1]) / 2
    assert reinforce_loss(LOGITS, ACTIONS, returns, normalize=True).numpy() == pytest.approx(
        want, rel=1e-5
    )
    # a constant baseline changes nothing once the weights are normalized
    shifted = reinforce_loss(
        LOGITS, ACTIONS, returns, np.array([5.0, 5.0], np.float32), normalize=True
    )
    assert shifted.numpy() == pytest.approx(want, rel=1e-5)


def test_normalize_advantages_hand_computed():
    # mean 2, standard deviation sqrt(((1-2)^2 + (2-2)^2 + (3-2)^2) / 3) = sqrt(2/3)
    got = normalize_advantages(tf.constant([1.0, 2.0, 3.0])).numpy()
    np.testing.assert_allclose(got, np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0 / 3.0), rtol=1e-5)
    # equal weights: all 0 (the small constant keeps them finite), not NaN
    np.testing.assert_array_equal(normalize_advantages(tf.constant([5.0, 5.0])).numpy(), [0.0, 0.0])


def test_normalize_advantages_is_the_one_both_losses_use():
    # With normalize=True each loss equals the plain loss on normalize_advantages' weights.
    values = np.array([1.0, 2.0], np.float32)
    targets = np.array([4.0, 0.0], np.float32)  # delta = (3, -2) -> normalized (1, -1)
    want = -(1.0 * LOG_PI_TAKEN[0] - 1.0 * LOG_PI_TAKEN[1]) / 2
    got = actor_critic_losses(LOGITS, ACTIONS, values, targets, normalize=True)
    assert got["policy_loss"].numpy() == pytest.approx(want, rel=1e-5)
    assert got["value_loss"].numpy() == pytest.approx(
        (9.0 + 4.0) / 2
    )  # the critic's loss is not normalized
    weights = normalize_advantages(tf.constant(targets - values)).numpy()
    assert reinforce_loss(LOGITS, ACTIONS, weights).numpy() == pytest.approx(want, rel=1e-5)


def test_value_loss_hand_computed():
    # mean((y - V)^2) = ((3 - 1)^2 + (0 - 2)^2 + (5 - 5)^2) / 3 = 8 / 3
    assert value_loss([1.0, 2.0, 5.0], [3.0, 0.0, 5.0]).numpy() == pytest.approx(8.0 / 3.0)
    with pytest.raises(ValueError, match=r"\(B, 1\) critic output"):
        value_loss(np.ones((3, 1), np.float32), [3.0, 0.0, 5.0])


def test_value_loss_holds_the_targets_fixed():
    values, targets = tf.Variable([1.0, 2.0, 5.0]), tf.Variable([3.0, 0.0, 5.0])
    with tf.GradientTape(persistent=True) as tape:
        loss = value_loss(values, targets)
    assert tape.gradient(loss, targets) is None  # the regression target gets no gradient
    # d/dV mean((y - V)^2) = -2 (y - V) / B = (-4/3, 4/3, 0): V moves towards y
    np.testing.assert_allclose(
        tape.gradient(loss, values).numpy(), [-4.0 / 3.0, 4.0 / 3.0, 0.0], rtol=1e-6
    )


def test_actor_critic_value_loss_is_value_loss():
    values, targets = np.array([1.0, 2.0], np.float32), np.array([3.0, 0.5], np.float32)
    losses = actor_critic_losses(LOGITS, ACTIONS, values, targets)
    assert losses["value_loss"].numpy() == pytest.approx(value_loss(values, targets).numpy())
    assert set(losses) == {"policy_loss", "value_loss", "entropy"}


def test_actor_critic_policy_loss_gradient_wrt_logits():
    # weight delta = (2, -2), log pi(a|s) of the taken actions; d/dlogits of -mean(delta log pi)
    # is -(delta / B) (onehot(a) - pi) per row.
    logits = tf.Variable(LOGITS)
    with tf.GradientTape() as tape:
        loss = actor_critic_losses(logits, ACTIONS, [1.0, 2.0], [3.0, 0.0])["policy_loss"]
    pi = np.array([[0.5, 0.5], [0.75, 0.25]])
    onehot = np.array([[0.0, 1.0], [1.0, 0.0]])
    want = -(np.array([2.0, -2.0])[:, None] / 2) * (onehot - pi)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), want, rtol=1e-5, atol=1e-7)
