"""Chapter 7's checks: one-step TD targets, and the actor and critic losses with their gradients."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_actor_critic_losses, check_td_targets


def td_targets(rewards, next_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_values


def test_td_targets_accepts_the_reference():
    accepts(check_td_targets, td_targets)
    check_leaves_inputs_alone(check_td_targets, td_targets)
    stub_is_not_yet(check_td_targets)


def test_td_targets_typical_mistakes():
    rejects(
        check_td_targets,
        lambda r, v, term, trunc, g: r + g * (1 - np.maximum(term, trunc)) * v,
        "done = terminated or truncated",
    )
    rejects(
        check_td_targets,
        lambda r, v, term, trunc, g: r + g * (1 - trunc) * v,
        "instead of terminated",
    )
    rejects(check_td_targets, lambda r, v, term, trunc, g: r + g * v, "(1 - terminated)")
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: g * (r + (1 - term) * v), "not discounted"
    )
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: r + (1 - term) * v, "multiply V(s') by gamma"
    )
    rejects(check_td_targets, lambda r, v, term, trunc, g: r + g * term * v, "wrong way round")
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: np.array([2.8, 1.0, 6.4, 7.7]), ""
    )  # the old answer
    rejects(check_td_targets, lambda r, v, term, trunc, g: r, "expected")  # constant bootstrap

    def subtracts_both(r, v, term, trunc, g):
        return r + g * (1 - term - trunc) * v

    rejects(check_td_targets, subtracts_both, "only on terminated")

    def in_place(rewards, next_values, terminated, truncated, gamma):
        next_values *= gamma * (1.0 - terminated)
        return rewards + next_values

    rejects(check_td_targets, in_place, "`next_values` in place")

    def if_terminated(rewards, next_values, terminated, truncated, gamma):
        if terminated:
            return rewards
        return rewards + gamma * next_values

    raising_shows_student_line(check_td_targets, if_terminated, "if terminated:")


def my_losses(logits, actions, values, targets):
    delta = tf.stop_gradient(targets) - values
    log_pi = tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)
    actor_loss = -tf.reduce_mean(tf.stop_gradient(delta) * log_pi)
    critic_loss = tf.reduce_mean(tf.square(delta))
    return actor_loss, critic_loss


def _log_pi(logits, actions):
    return tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)


def test_actor_critic_losses_accept_the_reference_and_a_half_square():
    accepts(check_actor_critic_losses, my_losses, times=2)

    def half(logits, actions, values, targets):
        actor, critic = my_losses(logits, actions, values, targets)
        return actor, 0.5 * critic

    accepts(check_actor_critic_losses, half, times=1)
    stub_is_not_yet(check_actor_critic_losses)


def _losses(actor=None, critic=None):
    def fn(logits, actions, values, targets):
        delta = tf.stop_gradient(targets) - values
        a = (
            actor(logits, actions, values, targets, delta)
            if actor
            else -tf.reduce_mean(tf.stop_gradient(delta) * _log_pi(logits, actions))
        )
        c = critic(values, targets, delta) if critic else tf.reduce_mean(tf.square(delta))
        return a, c

    return fn


def test_actor_critic_losses_typical_mistakes():
    rejects(check_actor_critic_losses, lambda *args: my_losses(*args)[::-1], "swapped")
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(d)),
        "missing its square",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(tf.abs(d))),
        "absolute value",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(d) ** 2),
        "then average",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(tf.square(y - v))),
        "held fixed (tf.stop_gradient(targets))",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: -tf.reduce_mean(d * _log_pi(lg, a))),
        "tf.stop_gradient(delta)",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: -tf.reduce_mean(y * _log_pi(lg, a))),
        "not by the target y",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: tf.reduce_mean(tf.stop_gradient(d) * _log_pi(lg, a))),
        "wrong sign",
    )
    rejects(
        check_actor_critic_losses,
        _losses(
            actor=lambda lg, a, v, y, d: (
                -tf.reduce_mean(tf.stop_gradient(d) * tf.exp(_log_pi(lg, a)))
            )
        ),
        "not pi(a|s)",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: -tf.reduce_sum(tf.stop_gradient(d) * _log_pi(lg, a))),
        "not the sum",
    )
    rejects(check_actor_critic_losses, lambda *args: (0.5, 1.0), "should be")  # constant

    def numpy_losses(logits, actions, values, targets):
        z = logits.numpy()
        log_pi = (z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[
            np.arange(len(z)), actions.numpy()
        ]
        delta = targets.numpy() - values.numpy()
        return -np.mean(delta * log_pi), np.mean(delta**2)

    rejects(check_actor_critic_losses, numpy_losses, "no gradient reaches")
    raising_shows_student_line(
        check_actor_critic_losses,
        lambda lg, a, v, y: (lg.max(axis=1), tf.reduce_mean((y - v) ** 2)),
        "lg.max(axis=1)",
    )
