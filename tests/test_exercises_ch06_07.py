"""The checks of chapters 6-7 accept the reference solutions and name typical mistakes."""

import numpy as np
import tensorflow as tf

from rlbook.exercises import (check_actor_critic_losses, check_episode_returns, check_reinforce_loss,
                              check_td_targets)
from rlbook.losses import actor_critic_losses, discounted_returns, reinforce_loss


def _stub(*args):
    raise NotImplementedError


# -- chapter 6 -------------------------------------------------------------------------


def test_episode_returns_accepts_a_backward_loop_and_the_library():
    def backward(rewards, gamma):
        g, out = 0.0, []
        for r in reversed(rewards):
            g = r + gamma * g
            out.append(g)
        return out[::-1]

    assert check_episode_returns(backward).ok
    assert check_episode_returns(lambda r, g: discounted_returns(r, np.zeros(len(r)), g)).ok


def test_episode_returns_names_the_mistake():
    def not_reversed(rewards, gamma):
        g, out = 0.0, []
        for r in reversed(rewards):
            g = r + gamma * g
            out.append(g)
        return out

    def forward(rewards, gamma):
        g, out = 0.0, []
        for r in rewards:
            g = r + gamma * g
            out.append(g)
        return out

    def discounts_now(rewards, gamma):
        g, out = 0.0, []
        for r in reversed(rewards):
            g = gamma * (r + g)
            out.append(g)
        return out[::-1]

    assert "reverse order" in check_episode_returns(not_reversed).message
    assert "looks *forward*" in check_episode_returns(forward).message
    assert "not discounted" in check_episode_returns(lambda r, g: np.cumsum(r[::-1])[::-1]).message
    assert "arrives now" in check_episode_returns(discounts_now).message
    assert "returned None" in check_episode_returns(lambda r, g: None).message
    assert "NotImplementedError" in check_episode_returns(_stub).message


def _ref_reinforce(logits, actions, returns, values):
    advantage = tf.stop_gradient(returns - values[:, 0])
    log_pi = tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)
    return -tf.reduce_mean(advantage * log_pi)


def test_reinforce_loss_accepts_reference_and_library():
    assert check_reinforce_loss(_ref_reinforce).ok
    assert check_reinforce_loss(lambda lg, a, g, v: reinforce_loss(lg, a, g, tf.squeeze(v, -1))).ok

    def numpy_version(logits, actions, returns, values):
        z = logits - logits.max(axis=1, keepdims=True)
        log_pi = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -np.mean((returns - values[:, 0]) * log_pi[np.arange(len(actions)), actions])

    assert check_reinforce_loss(numpy_version).ok


def test_reinforce_loss_names_the_mistake():
    def log_pi(logits, actions):
        return tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)

    broadcast = lambda lg, a, g, v: -tf.reduce_mean(tf.stop_gradient(g - v) * log_pi(lg, a))  # (N,) - (N, 1)
    flipped = lambda lg, a, g, v: -_ref_reinforce(lg, a, g, v)
    no_baseline = lambda lg, a, g, v: -tf.reduce_mean(g * log_pi(lg, a))
    probs = lambda lg, a, g, v: -tf.reduce_mean((g - v[:, 0]) * tf.exp(log_pi(lg, a)))
    raw_logits = lambda lg, a, g, v: -tf.reduce_mean((g - v[:, 0]) * tf.gather(lg, a, batch_dims=1))
    no_stop = lambda lg, a, g, v: -tf.reduce_mean((g - v[:, 0]) * log_pi(lg, a))
    assert "N x N" in check_reinforce_loss(broadcast).message
    assert "sign is flipped" in check_reinforce_loss(flipped).message
    assert "baseline is missing" in check_reinforce_loss(no_baseline).message
    assert "not the probability" in check_reinforce_loss(probs).message
    assert "log-softmax" in check_reinforce_loss(raw_logits).message
    assert "stop_gradient" in check_reinforce_loss(no_stop).message
    assert "NotImplementedError" in check_reinforce_loss(_stub).message


# -- chapter 7 -------------------------------------------------------------------------


def test_td_targets():
    ok = lambda r, v, term, trunc, g: r + g * (1 - term) * v
    assert check_td_targets(ok).ok
    assert "Stop bootstrapping only on terminated" in check_td_targets(
        lambda r, v, term, trunc, g: r + g * (1 - np.maximum(term, trunc)) * v).message
    assert "nothing follows a real end" in check_td_targets(lambda r, v, term, trunc, g: r + g * v).message
    assert "not discounted" in check_td_targets(lambda r, v, term, trunc, g: g * (r + (1 - term) * v)).message
    assert "multiply V(s') by gamma" in check_td_targets(lambda r, v, term, trunc, g: r + (1 - term) * v).message
    assert "NotImplementedError" in check_td_targets(_stub).message


def _ref_ac(logits, actions, values, targets):
    delta = tf.stop_gradient(targets) - values
    log_pi = tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)
    return -tf.reduce_mean(tf.stop_gradient(delta) * log_pi), tf.reduce_mean(tf.square(delta))


def test_actor_critic_losses_accepts_reference_and_library():
    assert check_actor_critic_losses(_ref_ac).ok

    def library(logits, actions, values, targets):
        out = actor_critic_losses(logits, actions, values, targets)
        return out["policy_loss"], out["value_loss"]

    assert check_actor_critic_losses(library).ok


def test_actor_critic_losses_names_the_mistake():
    def log_pi(logits, actions):
        return tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)

    def variant(critic_fn=None, weight_fn=None, stop=True):
        def fn(logits, actions, values, targets):
            y = tf.stop_gradient(targets) if stop else targets
            delta = y - values
            weight = weight_fn(targets, delta) if weight_fn else tf.stop_gradient(delta)
            critic = critic_fn(delta) if critic_fn else tf.reduce_mean(tf.square(delta))
            return -tf.reduce_mean(weight * log_pi(logits, actions)), critic
        return fn

    assert "missing its square" in check_actor_critic_losses(variant(critic_fn=lambda d: tf.reduce_mean(-d))).message
    assert "absolute value" in check_actor_critic_losses(variant(critic_fn=lambda d: tf.reduce_mean(tf.abs(d)))).message
    assert "not by the target" in check_actor_critic_losses(variant(weight_fn=lambda y, d: y)).message
    assert "wrong sign" in check_actor_critic_losses(variant(weight_fn=lambda y, d: -tf.stop_gradient(d))).message
    assert "into V(s)" in check_actor_critic_losses(variant(weight_fn=lambda y, d: d)).message
    assert "into the TD target" in check_actor_critic_losses(variant(stop=False)).message
    assert "swapped" in check_actor_critic_losses(lambda *a: _ref_ac(*a)[::-1]).message
    assert "(actor_loss, critic_loss)" in check_actor_critic_losses(lambda *a: 1.0).message
