import numpy as np
import pytest
import tensorflow as tf

from rlbook.losses import double_td_target, dueling_q, q_loss, td_target

# Two transitions, three actions; the second one terminated.
REWARD = np.array([1.0, 2.0], np.float32)
TERMINATED = np.array([0.0, 1.0], np.float32)
NEXT_Q_TARGET = np.array([[1.0, 5.0, 3.0], [4.0, 0.0, 9.0]], np.float32)
NEXT_Q_ONLINE = np.array([[2.0, 1.0, 7.0], [0.0, 8.0, 1.0]], np.float32)


def test_td_target_hand_computed():
    # y0 = 1 + 0.9 * max(1, 5, 3) = 5.5 ; y1 = 2 (terminated: no bootstrap)
    y = td_target(REWARD, NEXT_Q_TARGET, TERMINATED, 0.9)
    np.testing.assert_allclose(y.numpy(), [5.5, 2.0])


def test_td_target_bootstraps_after_truncation():
    # truncation is not passed as terminated: the future is kept
    y = td_target(REWARD, NEXT_Q_TARGET, np.zeros(2, np.float32), 0.5)
    np.testing.assert_allclose(y.numpy(), [1 + 0.5 * 5, 2 + 0.5 * 9])


def test_double_td_target_hand_computed():
    # online picks action 2 in row 0 -> target's Q = 3 -> y0 = 1 +
    # 0.9 * 3 = 3.7 (vanilla would use 5)
    y = double_td_target(REWARD, NEXT_Q_ONLINE, NEXT_Q_TARGET, TERMINATED, 0.9)
    np.testing.assert_allclose(y.numpy(), [3.7, 2.0])
    # row 1 not terminated: online picks action 1 -> target's Q = 0 -> y1 = 2
    y = double_td_target(REWARD, NEXT_Q_ONLINE, NEXT_Q_TARGET, np.zeros(2, np.float32), 0.9)
    np.testing.assert_allclose(y.numpy(), [3.7, 2.0])


def test_targets_do_not_propagate_gradients():
    q = tf.Variable(NEXT_Q_TARGET)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(
            td_target(REWARD, q, TERMINATED, 0.9) + double_td_target(REWARD, q, q, TERMINATED, 0.9)
        )
    assert tape.gradient(y, q) is None


def test_dueling_q_removes_mean_advantage():
    value = np.array([[10.0], [0.0]], np.float32)
    adv = np.array([[1.0, 2.0, 3.0], [-3.0, 0.0, 6.0]], np.float32)
    q = dueling_q(value, adv).numpy()
    np.testing.assert_allclose(q, [[9.0, 10.0, 11.0], [-4.0, -1.0, 5.0]])
    np.testing.assert_allclose(q.mean(axis=1), [10.0, 0.0])  # V is the mean of Q
    # shifting all advantages by a constant changes nothing: the mean is removed
    np.testing.assert_allclose(dueling_q(value, adv + 7.0).numpy(), q)


def test_q_loss_hand_computed():
    q = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    actions = np.array([1, 0])
    targets = np.array([2.5, 0.0], np.float32)  # differences 0.5 and -3
    assert q_loss(q, actions, targets, "mse").numpy() == pytest.approx((0.25 + 9.0) / 2)
    assert q_loss(q, actions, targets, "huber").numpy() == pytest.approx((0.125 + 2.5) / 2)
    with pytest.raises(ValueError, match="loss must be 'mse' or 'huber'"):
        q_loss(q, actions, targets, "l1")


def test_q_loss_weights_and_sequences():
    # (B=1, T=3, A=2) sequence; the third step is masked out
    q = np.array([[[1.0, 2.0], [0.0, 5.0], [9.0, 9.0]]], np.float32)
    actions = np.array([[0, 1, 0]])
    targets = np.array([[2.0, 3.0, 100.0]], np.float32)  # differences 1, -2, (91 masked)
    weights = np.array([[1.0, 1.0, 0.0]], np.float32)
    assert q_loss(q, actions, targets, "mse", weights).numpy() == pytest.approx((1.0 + 4.0) / 2)
    assert q_loss(q, actions, targets, "huber", weights).numpy() == pytest.approx((0.5 + 1.5) / 2)


def test_q_loss_gradient_moves_q_towards_target():
    q = tf.Variable([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        loss = q_loss(q, np.array([0]), np.array([3.0], np.float32), "mse")
    grad = tape.gradient(loss, q).numpy()
    np.testing.assert_allclose(
        grad, [[-4.0, 0.0]]
    )  # d/dq (3 - q)^2 = -2 (3 - 1); other action untouched
