"""Chapter 6's checks: discounted returns (one episode or several back to back), REINFORCE loss."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_episode_returns, check_reinforce_loss


def episode_returns(rewards, gamma):
    returns = np.zeros(len(rewards))
    g = 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        returns[t] = g
    return returns


def batch_returns(rewards, dones, gamma):
    returns = np.zeros(len(rewards))
    g = 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * (1.0 - dones[t]) * g
        returns[t] = g
    return returns


def test_episode_returns_accepts_both_forms():
    accepts(check_episode_returns, episode_returns)
    accepts(check_episode_returns, batch_returns)
    check_leaves_inputs_alone(check_episode_returns, batch_returns)
    check_leaves_inputs_alone(check_episode_returns, episode_returns)
    stub_is_not_yet(check_episode_returns)


def _backward(step, reverse_at_end=True):
    def fn(rewards, gamma):
        g, out = 0.0, []
        for r in reversed(rewards):
            g = step(r, g, gamma)
            out.append(g)
        return out[::-1] if reverse_at_end else out

    return fn


def test_episode_returns_typical_mistakes():
    def forward(rewards, gamma):  # G_t summed over the rewards *before* t
        return np.array(
            [
                sum(gamma**k * r for k, r in enumerate(rewards[: t + 1][::-1]))
                for t in range(len(rewards))
            ]
        )

    rejects(
        check_episode_returns,
        _backward(lambda r, g, gamma: r + gamma * g, reverse_at_end=False),
        "reverse order",
    )
    rejects(check_episode_returns, forward, "looks *forward*")
    rejects(
        check_episode_returns, lambda r, g: np.cumsum(np.asarray(r)[::-1])[::-1], "not discounted"
    )
    rejects(check_episode_returns, _backward(lambda r, g, gamma: gamma * (r + g)), "arrives now")
    rejects(
        check_episode_returns,
        lambda r, g: np.full(len(r), episode_returns(r, g)[0]),
        "total return G_0",
    )
    rejects(
        check_episode_returns, lambda r, g: list(episode_returns(r, g)[1:]) + [0.0], "off by one"
    )
    rejects(check_episode_returns, lambda r, g: np.ones(9), "one return per step")  # constant
    rejects(check_episode_returns, lambda r, g: None, "returned None")

    def reverses_in_place(rewards, gamma):
        rewards.reverse()  # a list method: the caller's list is now backwards
        g, out = 0.0, []
        for r in rewards:
            g = r + gamma * g
            out.append(g)
        return out[::-1]

    rejects(check_episode_returns, reverses_in_place, "changed its argument `rewards` in place")
    raising_shows_student_line(
        check_episode_returns,
        lambda rewards, gamma: rewards[::-1] * gamma ** np.arange(3),
        "rewards[::-1] * gamma ** np.arange(3)",
    )


def test_episode_returns_back_to_back_mistakes():
    rejects(
        check_episode_returns, lambda r, d, g: episode_returns(r, g), "not reset at episode ends"
    )

    def reset_too_late(rewards, dones, gamma):
        returns, g = np.zeros(len(rewards)), 0.0
        for t in reversed(range(len(rewards))):
            g = rewards[t] + gamma * g
            returns[t] = g
            if dones[t]:  # too late: G_t already took the next episode's return
                g = 0.0
        return returns

    def reset_before_use(rewards, dones, gamma):
        returns, g = np.zeros(len(rewards)), 0.0
        for t in reversed(range(len(rewards))):
            if t > 0 and dones[t - 1]:  # a correct variant: the step before starts a new episode
                returns[t] = g = rewards[t] + gamma * g
                g = 0.0
                continue
            returns[t] = g = rewards[t] + gamma * g
        return returns

    accepts(check_episode_returns, reset_before_use, times=1)
    rejects(check_episode_returns, reset_too_late, "one step off")
    rejects(check_episode_returns, lambda r, d, g: batch_returns(r, d, 1.0), "not discounted")


def my_reinforce_loss(logits, actions, returns, values):
    advantage = tf.stop_gradient(returns - values[:, 0])
    log_pi = tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)
    return -tf.reduce_mean(advantage * log_pi)


def _log_pi(logits, actions):
    return tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)


def test_reinforce_loss_accepts_the_reference():
    accepts(check_reinforce_loss, my_reinforce_loss, times=2)

    def sparse_ce(logits, actions, returns, values):
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
        return tf.reduce_mean(tf.stop_gradient(returns - tf.squeeze(values, -1)) * ce)

    accepts(check_reinforce_loss, sparse_ce, times=1)
    stub_is_not_yet(check_reinforce_loss)


def test_reinforce_loss_typical_mistakes():
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean(tf.stop_gradient(g - v) * _log_pi(lg, a)),
        "N x N",
    )
    rejects(
        check_reinforce_loss, lambda lg, a, g, v: -my_reinforce_loss(lg, a, g, v), "sign is flipped"
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean(g * _log_pi(lg, a)),
        "baseline is missing",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_sum(tf.stop_gradient(g - v[:, 0]) * _log_pi(lg, a)),
        "not the sum",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean(tf.stop_gradient(g - v[:, 0]) * tf.exp(_log_pi(lg, a))),
        "not the probability",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: (
            -tf.reduce_mean(tf.stop_gradient(g - v[:, 0]) * tf.gather(lg, a, batch_dims=1))
        ),
        "log-softmax",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean((g - v[:, 0]) * _log_pi(lg, a)),
        "tf.stop_gradient",
    )
    rejects(check_reinforce_loss, lambda lg, a, g, v: tf.constant(-1.2345), "expected")  # constant
    rejects(check_reinforce_loss, lambda lg, a, g, v: 0.51, "expected")  # constant float

    def numpy_loss(logits, actions, returns, values):
        z = logits.numpy()
        log_pi = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        adv = returns.numpy() - values.numpy()[:, 0]
        return -np.mean(adv * log_pi[np.arange(len(z)), actions.numpy()])

    rejects(check_reinforce_loss, numpy_loss, "no gradient reaches the logits")

    def numpy_methods(logits, actions, returns, values):
        z = logits - logits.max(axis=1, keepdims=True)
        return z

    v = raising_shows_student_line(
        check_reinforce_loss, numpy_methods, "logits.max(axis=1, keepdims=True)"
    )
    assert "TensorFlow operations" in v.message and "ops.py" not in v.message
