"""Targets and losses as small pure functions, each beside its equation.

Every function is stateless and batch-first (the leading axis is the batch), takes
and returns ``tf.Tensor``-compatible values, and wraps the part that must not be
differentiated in ``tf.stop_gradient``. The tests in ``tests/test_losses.py`` check
each one against numbers computed by hand.

Chapters: value targets in 3-5 (DQN, double DQN, dueling DQN); returns and
policy-gradient losses in 6-7 (REINFORCE, actor-critic).
"""

from __future__ import annotations

import tensorflow as tf

# -- value-based targets (chapters 3-5) ----------------------------------------------


def td_target(reward, next_q_target, terminated, gamma: float) -> tf.Tensor:
    """The DQN target (Mnih et al., 2015), held fixed by ``stop_gradient``.

    ``y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')``

    Bootstrapping stops only when the episode *terminated*; a time-limit truncation
    keeps the next state's value (the caller passes ``terminated``, not ``done``).

    Args:
        reward: shape ``(B,)``.
        next_q_target: the target network's Q-values of the next states, ``(B, A)``.
        terminated: 1.0 where the transition ended the episode for real, ``(B,)``.
        gamma: discount factor in [0, 1].

    Returns:
        The targets, shape ``(B,)``.
    """
    reward = tf.convert_to_tensor(reward, tf.float32)
    not_end = 1.0 - tf.cast(terminated, tf.float32)
    return tf.stop_gradient(reward + gamma * not_end * tf.reduce_max(next_q_target, axis=-1))


def double_td_target(reward, next_q_online, next_q_target, terminated, gamma: float) -> tf.Tensor:
    """The double-DQN target (van Hasselt, Guez & Silver, 2016), held fixed.

    ``y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_online(s', a'))``

    The online network *selects* the next action and the target network *evaluates*
    it, so one network's overestimated action is not also the one whose value is used.

    Any leading batch shape works (``(B, T, A)`` for sequences); shapes below are the flat case.

    Args:
        reward: shape ``(B,)``.
        next_q_online: the online network's Q-values of the next states, ``(B, A)``.
        next_q_target: the target network's Q-values of the next states, ``(B, A)``.
        terminated: ``(B,)``.
        gamma: discount factor in [0, 1].

    Returns:
        The targets, shape ``(B,)``.
    """
    reward = tf.convert_to_tensor(reward, tf.float32)
    not_end = 1.0 - tf.cast(terminated, tf.float32)
    best = tf.argmax(next_q_online, axis=-1, output_type=tf.int32)  # selected by the online net
    evaluated = tf.gather(next_q_target, best, axis=-1, batch_dims=best.shape.rank)  # valued by the target net
    return tf.stop_gradient(reward + gamma * not_end * evaluated)


def dueling_q(value, advantage) -> tf.Tensor:
    """Combine a dueling head's outputs (Wang et al., 2016).

    ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``

    Without the subtracted mean, V and A are not identifiable (adding c to V and
    subtracting c from every A gives the same Q); with it, the advantages of each
    state average to zero and V(s) is the mean of Q(s, .).

    Args:
        value: shape ``(B, 1)``.
        advantage: shape ``(B, A)``.

    Returns:
        Q-values, shape ``(B, A)``.
    """
    return value + advantage - tf.reduce_mean(advantage, axis=-1, keepdims=True)


def q_loss(q_values, actions, targets, kind: str = "huber", weights=None) -> tf.Tensor:
    """Mean loss between ``Q(s, a)`` of the actions taken and their targets.

    ``L = sum_i w_i l(y_i - Q(s_i, a_i)) / sum_i w_i`` with ``l(d) = d^2`` (``"mse"``) or
    the Huber function (``"huber"``: ``d^2 / 2`` for ``|d| <= 1``, ``|d| - 1/2``
    beyond), which keeps the gradient bounded when a target is far off. Without
    ``weights`` every ``w_i = 1`` (a plain mean).

    Args:
        q_values: the online network's Q-values, ``(B, A)`` (or ``(B, T, A)`` for sequences).
        actions: the actions taken, integers ``(B,)`` (or ``(B, T)``).
        targets: ``(B,)`` (or ``(B, T)``), already held fixed.
        kind: ``"mse"`` or ``"huber"``.
        weights: optional ``(B,)`` (or ``(B, T)``): 0 drops a term, e.g. the steps of a
            replayed sequence that belong to the next episode.

    Returns:
        A scalar.
    """
    actions = tf.cast(actions, tf.int32)
    q_taken = tf.gather(q_values, actions, axis=-1, batch_dims=actions.shape.rank)
    diff = tf.stop_gradient(targets) - q_taken
    if kind == "mse":
        per_term = tf.square(diff)
    elif kind == "huber":
        abs_diff = tf.abs(diff)
        per_term = tf.where(abs_diff <= 1.0, 0.5 * tf.square(diff), abs_diff - 0.5)
    else:
        raise ValueError(f"loss must be 'mse' or 'huber', got {kind!r}")
    if weights is None:
        return tf.reduce_mean(per_term)
    weights = tf.cast(weights, per_term.dtype)
    return tf.reduce_sum(per_term * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


# -- returns and policy-gradient losses (chapters 6-7) --------------------------------
