"""Targets and losses as small pure functions, each beside its equation.

Every function is stateless and batch-first (the leading axis is the batch), takes
and returns ``tf.Tensor``-compatible values, and wraps the part that must not be
differentiated in ``tf.stop_gradient``. ``tests/test_losses_value.py`` and
``tests/test_losses_pg.py`` check each one against numbers computed by hand.

Chapters: value targets in 3-5 (DQN, double DQN, dueling DQN); returns and
policy-gradient losses in 6-7 (REINFORCE, actor-critic); GAE and the clipped
surrogate objective in 9 (PPO); Gaussian policies and the soft actor-critic's
targets and losses for continuous actions (``tests/test_losses_continuous.py``).
"""

from __future__ import annotations

import tensorflow as tf

# -- value-based targets (chapters 3-5) ----------------------------------------------


def td_target(reward, next_q_target, terminated, gamma: float) -> tf.Tensor:
    """The DQN target (Mnih et al., 2015), held fixed by ``stop_gradient``.

    ``y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')``

    Bootstrapping stops only when the episode *terminated*; a time-limit
    truncation keeps the next state's value (the caller passes ``terminated``,
    not ``done``).

    Args:
        reward: shape ``(B,)``.
        next_q_target: the target network's Q-values of the next states,
            ``(B, A)``.
        terminated: 1.0 where the transition ended the episode for real,
            ``(B,)``.
        gamma: discount factor in [0, 1].

    Returns:
        The targets, shape ``(B,)``.
    """
    reward = tf.convert_to_tensor(reward, tf.float32)
    not_end = 1.0 - tf.cast(terminated, tf.float32)
    return tf.stop_gradient(
        reward + gamma * not_end * tf.reduce_max(next_q_target, axis=-1)
    )


def double_td_target(
    reward, next_q_online, next_q_target, terminated, gamma: float
) -> tf.Tensor:
    """The double-DQN target (van Hasselt, Guez & Silver, 2016), held fixed.

    ``y = r + gamma * (1 - terminated)
    * Q_target(s', argmax_a' Q_online(s', a'))``

    The online network *selects* the next action and the target network
    *evaluates* it, so one network's overestimated action is not also the one
    whose value is used.

    Any leading batch shape works (``(B, T, A)`` for sequences); shapes below
    are the flat case.

    Args:
        reward: shape ``(B,)``.
        next_q_online: the online network's Q-values of the next states,
            ``(B, A)``.
        next_q_target: the target network's Q-values of the next states,
            ``(B, A)``.
        terminated: ``(B,)``.
        gamma: discount factor in [0, 1].

    Returns:
        The targets, shape ``(B,)``.
    """
    reward = tf.convert_to_tensor(reward, tf.float32)
    not_end = 1.0 - tf.cast(terminated, tf.float32)
    # selected by the online net
    best = tf.argmax(next_q_online, axis=-1, output_type=tf.int32)
    # valued by the target net
    evaluated = tf.gather(
        next_q_target, best, axis=-1, batch_dims=best.shape.rank
    )
    return tf.stop_gradient(reward + gamma * not_end * evaluated)


def dueling_q(value, advantage) -> tf.Tensor:
    """Combine a dueling head's outputs (Wang et al., 2016).

    ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``

    Without the subtracted mean, V and A are not identifiable (adding c to V
    and subtracting c from every A gives the same Q); with it, the advantages
    of each state average to zero and V(s) is the mean of Q(s, .).

    Args:
        value: shape ``(B, 1)``.
        advantage: shape ``(B, A)``.

    Returns:
        Q-values, shape ``(B, A)``.
    """
    return (
        value + advantage - tf.reduce_mean(advantage, axis=-1, keepdims=True)
    )


def q_loss(
    q_values, actions, targets, kind: str = "huber", weights=None
) -> tf.Tensor:
    """Mean loss between ``Q(s, a)`` of the actions taken and their targets.

    ``L = sum_i w_i l(y_i - Q(s_i, a_i)) / max(sum_i w_i, 1)`` with
    ``l(d) = d^2`` (``"mse"``) or the Huber function (``"huber"``: ``d^2 / 2``
    for ``|d| <= 1``, ``|d| - 1/2`` beyond), which keeps the gradient bounded
    when a target is far off. Without ``weights`` every ``w_i = 1`` (a plain
    mean). With 0/1 weights (a mask) the ``max`` changes nothing unless every
    weight is 0, where it gives a loss of 0 instead of 0/0; fractional weights
    that sum to less than 1 are not scaled up.

    Args:
        q_values: the online network's Q-values, ``(B, A)`` (or ``(B, T, A)``
            for sequences).
        actions: the actions taken, integers ``(B,)`` (or ``(B, T)``).
        targets: ``(B,)`` (or ``(B, T)``), already held fixed.
        kind: ``"mse"`` or ``"huber"``.
        weights: optional ``(B,)`` (or ``(B, T)``): 0 drops a term, e.g. the
            steps of a replayed sequence that belong to the next episode.

    Returns:
        A scalar.
    """
    actions = tf.cast(actions, tf.int32)
    q_taken = tf.gather(
        q_values, actions, axis=-1, batch_dims=actions.shape.rank
    )
    diff = tf.stop_gradient(targets) - q_taken
    if kind == "mse":
        per_term = tf.square(diff)
    elif kind == "huber":
        abs_diff = tf.abs(diff)
        per_term = tf.where(
            abs_diff <= 1.0, 0.5 * tf.square(diff), abs_diff - 0.5
        )
    else:
        raise ValueError(f"loss must be 'mse' or 'huber', got {kind!r}")
    if weights is None:
        return tf.reduce_mean(per_term)
    weights = tf.cast(weights, per_term.dtype)
    return tf.reduce_sum(per_term * weights) / tf.maximum(
        tf.reduce_sum(weights), 1.0
    )


# -- returns and policy-gradient losses (chapters 6-7) --------------------------------
#
# Returns are computed in NumPy on the collected rollout, before any gradient is
# taken: they are inputs of the loss, constants for the gradient (which is what
# ``stop_gradient`` would make them anyway), and a Python loop over a 500-step episode
# costs microseconds in NumPy but milliseconds as eager TensorFlow ops.


def discounted_returns(rewards, dones, gamma: float, bootstrap=0.0):
    """Discounted returns of a rollout, computed backwards from its last step.

    ``G_t = r_{t+1} + gamma * (1 - done_{t+1}) * G_{t+1}``, starting from
    ``G_T = bootstrap``. The indices are Sutton & Barto's: ``r_{t+1}`` is the
    reward that follows the action of step ``t``, stored at ``rewards[t]``, and
    ``done_{t+1}`` (``dones[t]``) says whether the episode ended with it.

    ``dones[t]`` marks the last step of an episode: the return restarts there,
    so one array can hold several episodes back to back (the Monte Carlo return
    of chapter 6 when every episode in it is complete, an n-step return of
    chapter 7 when the rollout was cut and ``bootstrap`` is the critic's V of
    the state after its last step). Computing backwards turns the double sum of
    the definition into one pass.

    A time-limit truncation is not a real end: a caller with a critic adds
    ``gamma * V(s_{t+1})`` to the truncated step's reward and marks it done, so
    its return is ``r_{t+1} + gamma * V(s_{t+1})`` (the agents of chapters 6-7
    do this).

    Args:
        rewards: ``(T,)``, or ``(T, N)`` for ``N`` environments stepped
            together (time first, the order in which a vector environment
            produces them).
        dones: same shape as ``rewards``; 1 (or True) where an episode ended.
        gamma: discount factor in [0, 1].
        bootstrap: the value of what follows step ``T - 1`` (a number, or
            ``(N,)``); ignored where the last step is done.

    Returns:
        A float32 NumPy array of the returns, the shape of ``rewards``.
    """
    import numpy as np

    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones, dtype=np.float64)
    if rewards.ndim not in (1, 2) or dones.shape != rewards.shape:
        raise ValueError(
            "rewards must have shape (T,) or (T, N) and dones the same "
            f"shape; got rewards {rewards.shape} and dones {dones.shape}"
        )
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
    returns = np.empty_like(rewards)
    g = np.broadcast_to(
        np.asarray(bootstrap, dtype=np.float64), rewards.shape[1:]
    ).copy()
    for t in range(len(rewards) - 1, -1, -1):
        # G_t = r_{t+1} + gamma * (1 - done_{t+1}) * G_{t+1}, r_{t+1} being
        # rewards[t]: the future after an episode end is cut.
        g = rewards[t] + gamma * (1.0 - dones[t]) * g
        returns[t] = g
    return returns.astype(np.float32)


def td_errors(
    rewards, values, next_values, terminated, gamma: float
) -> tf.Tensor:
    """One-step TD errors with the TD target held fixed (chapter 7).

    ``delta_t = [r_{t+1} + gamma * (1 - terminated_{t+1}) * V(s_{t+1})]
    - V(s_t)``,
    the bracket wrapped in ``stop_gradient``.

    Bootstrapping stops only on ``terminated``: after a truncation the next
    state still has a future worth ``V(s_{t+1})``.

    Args:
        rewards, terminated: shape ``(B,)``.
        values: ``V(s_t)``, shape ``(B,)`` (squeeze a critic's ``(B, 1)``
            output first).
        next_values: ``V(s_{t+1})``, shape ``(B,)``.
        gamma: discount factor in [0, 1].

    Returns:
        The TD errors, shape ``(B,)``; gradients reach ``values`` only.
    """
    rewards = tf.convert_to_tensor(rewards, tf.float32)
    values = tf.convert_to_tensor(values, tf.float32)
    _same_shape("values", values, "rewards", rewards)
    not_end = 1.0 - tf.cast(terminated, tf.float32)
    next_values = tf.convert_to_tensor(next_values, tf.float32)
    target = tf.stop_gradient(rewards + gamma * not_end * next_values)
    return target - values


def log_prob(logits, actions) -> tf.Tensor:
    """``log pi(a|s)`` of the actions taken, from a softmax policy's logits.

    Args:
        logits: ``(B, A)``.
        actions: integers ``(B,)``.

    Returns:
        ``(B,)``.
    """
    actions = tf.cast(actions, tf.int32)
    log_pi = tf.nn.log_softmax(logits, axis=-1)
    return tf.gather(log_pi, actions, axis=-1, batch_dims=1)


def entropy(logits) -> tf.Tensor:
    """Entropy ``H = -sum_a pi(a|s) log pi(a|s)`` of a softmax policy, shape ``(B,)``."""
    log_pi = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_sum(tf.exp(log_pi) * log_pi, axis=-1)


def normalize_advantages(weights) -> tf.Tensor:
    """Scale a batch of policy-gradient weights to mean 0 and standard
    deviation 1.

    ``w_i <- (w_i - mean(w)) / (std(w) + 1e-8)``

    A common trick (used by both losses below when ``normalize=True``): the
    step size no longer depends on the scale of the rewards, and the subtracted
    batch mean acts as one more, batch-wide, baseline. The small constant keeps
    a batch of equal weights finite (they all become 0).

    Args:
        weights: ``(B,)``, e.g. ``G_t - V(s_t)`` or the TD errors.

    Returns:
        ``(B,)``.
    """
    mean, variance = tf.nn.moments(weights, axes=[0])
    return (weights - mean) / (tf.sqrt(variance) + 1e-8)


def value_loss(values, targets) -> tf.Tensor:
    """The critic's regression: mean squared error of ``V(s_t)`` to fixed
    targets.

    ``L_V = mean_t (y_t - V(s_t))^2``, with ``y_t`` held fixed
    (``stop_gradient``).

    The targets are the returns ``G_t`` for REINFORCE's baseline (chapter 6)
    and the n-step targets for the actor-critic's critic (chapter 7). The
    square makes it a regression; without it, minimising ``V - y`` just pushes
    V down forever.

    Args:
        values: ``V(s_t)``, ``(B,)`` (a ``(B, 1)`` network output is rejected).
        targets: ``y_t``, ``(B,)``.

    Returns:
        A scalar; its gradient reaches ``values`` only:
        ``-2 (y_t - V(s_t)) / B``.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    targets = tf.convert_to_tensor(targets, tf.float32)
    _same_shape("values", values, "targets", targets)
    return tf.reduce_mean(tf.square(tf.stop_gradient(targets) - values))


def reinforce_loss(
    logits,
    actions,
    returns,
    baseline=None,
    entropy_coef: float = 0.0,
    normalize: bool = False,
) -> tf.Tensor:
    """The REINFORCE loss (Williams, 1992), optionally with a baseline
    (chapter 6).

    ``L = -mean_t[(G_t - b(s_t)) log pi(a_t|s_t)] - c_H mean_t H(pi(.|s_t))``

    Its gradient is the policy-gradient estimate: it raises ``log pi`` of
    actions that did better than the baseline and lowers the others. The weight
    ``G_t - b(s_t)`` is held fixed (``stop_gradient``): the baseline is trained
    by its own loss (:func:`value_loss`), never through the policy's.

    Args:
        logits: the policy's logits, ``(B, A)``.
        actions: integers ``(B,)``.
        returns: ``G_t``, ``(B,)``.
        baseline: ``None`` or ``b(s_t)``, shape ``(B,)``: one value *per step*.
            A ``(B, 1)`` critic output is rejected, because ``(B,) - (B, 1)``
            silently broadcasts to a ``(B, B)`` matrix.
        entropy_coef: ``c_H >= 0``; a positive value rewards uncertain
            policies, which keeps them exploring.
        normalize: scale the weights ``G_t - b(s_t)`` of the batch with
            :func:`normalize_advantages` first.

    Returns:
        A scalar.
    """
    returns = tf.convert_to_tensor(returns, tf.float32)
    weight = returns
    if baseline is not None:
        baseline = tf.convert_to_tensor(baseline, tf.float32)
        _same_shape("baseline", baseline, "returns", returns)
        weight = returns - baseline
    if normalize:
        weight = normalize_advantages(weight)
    loss = -tf.reduce_mean(
        tf.stop_gradient(weight) * log_prob(logits, actions)
    )
    if entropy_coef:
        loss -= entropy_coef * tf.reduce_mean(entropy(logits))
    return loss


def actor_critic_losses(
    logits,
    actions,
    values,
    targets,
    entropy_coef: float = 0.0,
    normalize: bool = False,
) -> dict[str, tf.Tensor]:
    """Both losses of the advantage actor-critic (Mnih et al., 2016),
    chapter 7.

    ``delta_t = y_t - V(s_t)`` with the target ``y_t`` held fixed, then

    * critic: ``L_V = mean_t delta_t^2``, :func:`value_loss` (a regression of
      V on y);
    * actor:
      ``L_pi = -mean_t[delta_t log pi(a_t|s_t)] - c_H mean_t H(pi(.|s_t))``,
      with ``delta_t`` held fixed: the critic is trained by ``L_V`` only.

    ``y_t`` is the one-step TD target
    ``r_{t+1} + gamma (1 - terminated_{t+1}) V(s_{t+1})`` of the one-step
    algorithm, or
    an n-step return from :func:`discounted_returns`.

    Args:
        logits: the actor's logits, ``(B, A)``.
        actions: integers ``(B,)``.
        values: the critic's ``V(s_t)``, ``(B,)`` (a ``(B, 1)`` output is
            rejected).
        targets: ``y_t``, ``(B,)``.
        entropy_coef: weight ``c_H >= 0`` of the entropy bonus.
        normalize: scale the actor's weights ``delta_t`` over the batch with
            :func:`normalize_advantages` (the critic's loss is unchanged).

    Returns:
        ``{"policy_loss": L_pi, "value_loss": L_V, "entropy": mean H}``,
        scalars; ``policy_loss`` sends gradients to ``logits`` only,
        ``value_loss`` to ``values`` only.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    targets = tf.convert_to_tensor(targets, tf.float32)
    _same_shape("values", values, "targets", targets)
    # the TD error as the actor's weight, held fixed: the critic learns from
    # L_V alone
    weight = tf.stop_gradient(targets - values)
    if normalize:
        weight = normalize_advantages(weight)
    mean_entropy = tf.reduce_mean(entropy(logits))
    log_pi = log_prob(logits, actions)
    policy_loss = (
        -tf.reduce_mean(weight * log_pi) - entropy_coef * mean_entropy
    )
    return {
        "policy_loss": policy_loss,
        "value_loss": value_loss(values, targets),
        "entropy": mean_entropy,
    }


# -- generalized advantages and the clipped surrogate (chapter 9, PPO) --------


def gae_advantages(
    rewards, values, next_values, terminated, truncated,
    gamma: float, lam: float,
):
    """Generalized advantage estimates, GAE(lambda) (Schulman et al., 2016).

    ``delta_t = r_{t+1} + gamma (1 - terminated_{t+1}) V(s_{t+1}) - V(s_t)``

    ``A_t = delta_t + gamma lambda (1 - done_{t+1}) A_{t+1}``, with
    ``done = terminated or truncated`` and nothing after the rollout's last
    step (``A_T = 0``).

    The value targets are ``R_t = A_t + V(s_t)``. Indices as in
    :func:`discounted_returns`: row ``t`` holds the step taken from ``s_t``,
    its reward ``r_{t+1}``, ``V(s_{t+1})`` of the state it led to and whether
    the episode ended there.

    Chapter 7's rule for the ends of episodes holds in both lines. The TD error
    bootstraps from ``V(s_{t+1})`` unless the episode *terminated*: after a
    time-limit truncation ``s_{t+1}`` is the real final observation (not the
    reset one) and its value stands for the rest of the episode. The
    recursion stops at every episode end, terminated or truncated: the next
    row belongs to the next episode. The rollout's last row bootstraps the same
    way, from ``V`` of the observation after it.

    ``lam`` trades bias for variance between two targets met before:

    * ``lam = 0``: ``A_t = delta_t``, the one-step TD error, and ``R_t`` the
      one-step target of chapter 7 (:func:`td_errors`);
    * ``lam = 1``: ``A_t = G_t - V(s_t)`` and ``R_t = G_t``, the discounted
      return of chapter 6, bootstrapped where the rollout or the episode was
      cut (:func:`discounted_returns`), since the sum of ``gamma^k delta``
      telescopes (when ``next_values[t] == values[t + 1]`` inside an episode).

    Computed in NumPy, before any gradient, like :func:`discounted_returns`:
    advantages and targets are inputs of the losses, constants for the
    gradient.

    Args:
        rewards: ``(T,)``, or ``(T, N)`` for ``N`` environment copies (time
            first).
        values: ``V(s_t)``, the shape of ``rewards``.
        next_values: ``V(s_{t+1})`` of the observation each step led to (the
            real final one at a truncation), the shape of ``rewards``.
        terminated: 1 (or True) where the step ended the episode for real.
        truncated: 1 (or True) where a time limit cut the episode.
        gamma: discount factor in [0, 1].
        lam: the GAE parameter lambda in [0, 1].

    Returns:
        ``(advantages, returns)``, float32 NumPy arrays the shape of
        ``rewards``: ``A_t`` and the value targets ``R_t = A_t + V(s_t)``.
    """
    import numpy as np

    from rlbook._validate import unit_interval

    rewards, values, next_values, terminated, truncated = _rollout(
        rewards=rewards, values=values, next_values=next_values,
        terminated=terminated, truncated=truncated)
    unit_interval("gamma", gamma)
    unit_interval("lam", lam)
    # delta_t = r_{t+1} + gamma (1 - terminated) V(s_{t+1}) - V(s_t), all rows
    deltas = rewards + gamma * (1.0 - terminated) * next_values - values
    not_done = (1.0 - terminated) * (1.0 - truncated)
    advantages = np.empty_like(rewards)
    a = np.zeros(rewards.shape[1:])  # A_T = 0: nothing after the rollout
    for t in range(len(rewards) - 1, -1, -1):
        # A_t = delta_t + gamma lambda (1 - done) A_{t+1}: the sum stops at
        # an episode end (the next row is another episode).
        a = deltas[t] + gamma * lam * not_done[t] * a
        advantages[t] = a
    returns = advantages + values
    return advantages.astype(np.float32), returns.astype(np.float32)


def ppo_clip_loss(
    log_probs, old_log_probs, advantages, clip_eps: float | None
) -> tf.Tensor:
    """The clipped surrogate objective of PPO (Schulman et al., 2017), as a
    loss to minimise.

    ``rho_t = pi(a_t|s_t) / pi_old(a_t|s_t)
    = exp(log pi(a_t|s_t) - log pi_old(a_t|s_t))``

    ``L^CLIP = -mean_t min(rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t)``

    At ``rho = 1`` (the policy that collected the data) its gradient is the
    policy gradient ``-mean(A_t grad log pi(a_t|s_t))`` of chapters 6-7. The
    ``min`` takes the clipped term only where it is the smaller, so a sample
    stops pulling once its ratio has moved past ``1 + eps`` with ``A > 0``, or
    below ``1 - eps`` with ``A < 0``: its gradient is then zero, so several
    epochs on one rollout have no reason to push the policy far from
    ``pi_old`` (a removed incentive, not a bound: a step can still overshoot,
    and chapter 9 measures the KL it leaves). A ratio
    that moved the wrong way (``rho < 1 - eps`` with ``A > 0``) keeps its
    gradient, which pulls it back.

    ``clip_eps=None`` gives the unclipped surrogate ``-mean(rho_t A_t)``
    (the "conservative policy iteration" objective), to see what clipping
    prevents.

    Takes log-probabilities rather than logits, so any policy (softmax,
    Gaussian) can use it.

    Args:
        log_probs: ``log pi(a_t|s_t)`` under the policy being trained,
            ``(B,)``.
        old_log_probs: ``log pi_old(a_t|s_t)`` when the data was collected,
            ``(B,)``; held fixed.
        advantages: ``A_t``, ``(B,)``; held fixed.
        clip_eps: ``eps`` in (0, 1), or ``None`` for no clipping.

    Returns:
        A scalar; its gradient reaches ``log_probs`` only.
    """
    log_probs = tf.convert_to_tensor(log_probs, tf.float32)
    old_log_probs = tf.convert_to_tensor(old_log_probs, tf.float32)
    advantages = tf.convert_to_tensor(advantages, tf.float32)
    _same_shape("old_log_probs", old_log_probs, "log_probs", log_probs)
    _same_shape("advantages", advantages, "log_probs", log_probs)
    if clip_eps is not None and not 0.0 < clip_eps < 1.0:
        raise ValueError(
            f"clip_eps must be a number in (0, 1) or None, got {clip_eps!r}"
        )
    advantages = tf.stop_gradient(advantages)
    # rho = pi / pi_old, from log-probabilities (a ratio of small numbers)
    ratio = tf.exp(log_probs - tf.stop_gradient(old_log_probs))
    surrogate = ratio * advantages
    if clip_eps is not None:
        clipped = tf.clip_by_value(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
        # the pessimistic (smaller) of the two objectives, sample by sample
        surrogate = tf.minimum(surrogate, clipped * advantages)
    return -tf.reduce_mean(surrogate)


def ppo_diagnostics(
    log_probs, old_log_probs, clip_eps: float
) -> dict[str, tf.Tensor]:
    """How far the policy has moved from the one that collected the data.

    * ``approx_kl = mean_t[(rho_t - 1) - log rho_t]``, an estimate of
      ``KL(pi_old || pi)`` from the samples (each term is >= 0, and it is
      unbiased since ``E_old[rho] = 1``; Schulman, "Approximating KL
      divergence", 2020);
    * ``clip_fraction = mean_t 1[|rho_t - 1| > eps]``, the share of samples
      whose ratio is outside the clip range (measured even when the loss does
      not clip).

    Args:
        log_probs, old_log_probs: ``(B,)``, as for :func:`ppo_clip_loss`.
        clip_eps: ``eps``.

    Returns:
        ``{"approx_kl": ..., "clip_fraction": ...}``, scalars (no gradient).
    """
    log_ratio = tf.stop_gradient(
        tf.convert_to_tensor(log_probs, tf.float32)
        - tf.convert_to_tensor(old_log_probs, tf.float32)
    )
    ratio = tf.exp(log_ratio)
    outside = tf.cast(tf.abs(ratio - 1.0) > clip_eps, tf.float32)
    return {
        "approx_kl": tf.reduce_mean((ratio - 1.0) - log_ratio),
        "clip_fraction": tf.reduce_mean(outside),
    }


# -- Gaussian policies and soft actor-critic (continuous actions, issue 21) -----
#
# A policy over continuous actions is a diagonal Gaussian: a mean and a log standard
# deviation per action dimension, which the actor network outputs. SAC squashes its
# sample through tanh, so that actions lie in (-1, 1) and are then rescaled to the
# action space's bounds.

_LOG_2PI = 1.8378770664093453  # log(2 pi)
_LOG_2 = 0.6931471805599453  # log(2)


def gaussian_log_prob(mean, log_std, actions) -> tf.Tensor:
    """``log pi(a|s)`` of a diagonal Gaussian policy, summed over the action
    dimensions.

    ``log pi(a|s) = sum_j [-(a_j - mu_j)^2 / (2 sigma_j^2) - log sigma_j
    - log(2 pi) / 2]``

    The dimensions are independent, so the density is a product over them and
    its logarithm a sum.

    Args:
        mean: ``mu(s)``, ``(B, A)``.
        log_std: ``log sigma``, ``(B, A)``, or ``(A,)`` for a standard
            deviation that does not depend on the state.
        actions: ``(B, A)``; a one-dimensional action space still has its axis
            (``(B, 1)``, not ``(B,)``).

    Returns:
        ``(B,)``.
    """
    mean, log_std, actions = _gaussian_args(mean, log_std, actions=actions)
    z = (actions - mean) * tf.exp(-log_std)  # (a - mu) / sigma
    return tf.reduce_sum(-0.5 * tf.square(z) - log_std - 0.5 * _LOG_2PI,
                         axis=-1)


def gaussian_entropy(log_std) -> tf.Tensor:
    """Entropy of a diagonal Gaussian, summed over the action dimensions.

    ``H = sum_j [log sigma_j + (1 + log(2 pi)) / 2]``

    It depends on the spread only, not on the mean, and is negative once
    ``sigma`` is small enough (a density, unlike a probability, can exceed 1).

    Args:
        log_std: ``(B, A)`` (or ``(A,)``: one policy, one number).

    Returns:
        ``(B,)`` (or a scalar for ``(A,)``).
    """
    log_std = tf.convert_to_tensor(log_std, tf.float32)
    if log_std.shape.rank not in (1, 2):
        raise ValueError(
            f"log_std must have shape (B, A) or (A,), got {log_std.shape}")
    return tf.reduce_sum(log_std + 0.5 * (1.0 + _LOG_2PI), axis=-1)


def tanh_log_det_jacobian(pre_tanh) -> tf.Tensor:
    """``log |d tanh(u) / du|`` summed over the action dimensions, computed
    stably.

    ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2 u))``

    (from ``1 - tanh(u)^2 = 4 / (e^u + e^-u)^2``). The left-hand side is what
    the equation says, but for ``|u| > 9`` or so ``tanh(u)`` rounds to 1 in
    float32 and its logarithm is ``-inf``; the right-hand side stays finite.

    Args:
        pre_tanh: ``u``, ``(B, A)``.

    Returns:
        ``(B,)``.
    """
    u = tf.convert_to_tensor(pre_tanh, tf.float32)
    return tf.reduce_sum(2.0 * (_LOG_2 - u - tf.nn.softplus(-2.0 * u)),
                         axis=-1)


def squashed_gaussian_log_prob(mean, log_std, pre_tanh) -> tf.Tensor:
    """``log pi(a|s)`` of ``a = tanh(u)``, ``u ~ N(mu, sigma^2)``: SAC's policy
    (Haarnoja et al., 2018, appendix C).

    ``log pi(a|s) = log N(u; mu, sigma) - sum_j log(1 - tanh(u_j)^2)``

    Squashing changes the density by the derivative of tanh (the change of
    variables formula): where tanh flattens (large ``|u|``) many ``u`` map onto
    few ``a``, and the density of ``a`` is higher there. The correction is
    computed by :func:`tanh_log_det_jacobian`, which stays finite for large
    ``|u|``. It takes ``u`` rather than ``a``: inverting tanh near
    ``a = +-1`` loses every digit.

    Args:
        mean: ``mu(s)``, ``(B, A)``.
        log_std: ``log sigma(s)``, ``(B, A)`` (or ``(A,)``).
        pre_tanh: the Gaussian sample ``u`` before squashing, ``(B, A)``.

    Returns:
        ``(B,)``.
    """
    mean, log_std, u = _gaussian_args(mean, log_std, actions=pre_tanh,
                                      actions_name="pre_tanh")
    return gaussian_log_prob(mean, log_std, u) - tanh_log_det_jacobian(u)


def sac_critic_target(
    reward, next_q1, next_q2, next_log_prob, terminated, gamma: float, alpha,
) -> tf.Tensor:
    """The soft Bellman target of SAC's critics (Haarnoja et al., 2018),
    held fixed.

    ``y = r + gamma (1 - terminated)
    (min(Q1_target(s', a'), Q2_target(s', a')) - alpha log pi(a'|s'))``,
    with ``a' ~ pi(.|s')`` sampled from the *current* policy.

    Two ideas: the value of ``s'`` includes the entropy bonus
    ``-alpha log pi(a'|s')`` (the "soft" value), and it takes the smaller of
    two critics' estimates (clipped double Q, Fujimoto et al., 2018), which
    counters the overestimation a maximising actor feeds on. As in chapter 7,
    bootstrapping stops only on ``terminated``: a transition cut by a time
    limit (Pendulum's 200 steps) still has the value of ``s'``.

    Args:
        reward, terminated: ``(B,)``.
        next_q1, next_q2: the target critics' ``Q(s', a')``, ``(B,)``
            (squeeze a ``(B, 1)`` output first).
        next_log_prob: ``log pi(a'|s')``, ``(B,)``.
        gamma: discount factor in [0, 1].
        alpha: the temperature, ``>= 0`` (a number or a scalar tensor).

    Returns:
        The targets, ``(B,)``; no gradient flows through them.
    """
    reward = tf.convert_to_tensor(reward, tf.float32)
    next_q1 = tf.convert_to_tensor(next_q1, tf.float32)
    next_q2 = tf.convert_to_tensor(next_q2, tf.float32)
    next_log_prob = tf.convert_to_tensor(next_log_prob, tf.float32)
    for name, x in (("next_q1", next_q1), ("next_q2", next_q2),
                    ("next_log_prob", next_log_prob)):
        _same_shape(name, x, "reward", reward)
    _check_number("gamma", gamma, high=1.0)
    _check_number("alpha", alpha)
    not_end = 1.0 - tf.cast(terminated, tf.float32)
    soft_value = tf.minimum(next_q1, next_q2) - alpha * next_log_prob
    return tf.stop_gradient(reward + gamma * not_end * soft_value)


def sac_actor_loss(q1, q2, log_prob, alpha) -> tf.Tensor:
    """SAC's policy loss: ``L_pi = mean_i [alpha log pi(a_i|s_i)
    - min(Q1(s_i, a_i), Q2(s_i, a_i))]``.

    The actions ``a_i = tanh(mu(s_i) + sigma(s_i) eps_i)`` are sampled from the
    current policy with the noise ``eps_i`` outside the network (the
    *reparameterisation trick*), so the gradient flows from the critics' Q
    back through ``a_i`` into the actor. Minimising it raises Q while keeping
    the policy random (the entropy term). The temperature is held fixed here.

    Args:
        q1, q2: the critics' ``Q(s, a)`` of the sampled actions, ``(B,)``.
        log_prob: ``log pi(a|s)`` of those actions, ``(B,)``.
        alpha: the temperature, ``>= 0``.

    Returns:
        A scalar.
    """
    q1 = tf.convert_to_tensor(q1, tf.float32)
    q2 = tf.convert_to_tensor(q2, tf.float32)
    log_prob = tf.convert_to_tensor(log_prob, tf.float32)
    _same_shape("q2", q2, "q1", q1)
    _same_shape("log_prob", log_prob, "q1", q1)
    _check_number("alpha", alpha)
    alpha = tf.stop_gradient(alpha)
    return tf.reduce_mean(alpha * log_prob - tf.minimum(q1, q2))


def sac_temperature_loss(log_alpha, log_prob, target_entropy: float
                         ) -> tf.Tensor:
    """The loss that tunes SAC's temperature (Haarnoja et al., 2018b, "SAC
    algorithms and applications", section 5).

    ``L(alpha) = -mean_i [log alpha (log pi(a_i|s_i) + H_target)]``,
    with ``log pi`` held fixed.

    Its gradient in ``log alpha`` is ``mean(-log pi) - H_target``: the
    policy's entropy estimate minus the target. When the policy is less random
    than the target, the gradient is negative and a step *raises* alpha (more
    reward for entropy); when it is more random, alpha falls. The usual target
    is ``-|A|``, minus the number of action dimensions. Learning ``log alpha``
    rather than alpha keeps alpha positive.

    Args:
        log_alpha: ``log alpha``, a scalar (the variable being learned).
        log_prob: ``log pi(a|s)`` of actions sampled from the current policy,
            ``(B,)``.
        target_entropy: ``H_target``.

    Returns:
        A scalar; its gradient reaches ``log_alpha`` only.
    """
    log_alpha = tf.convert_to_tensor(log_alpha, tf.float32)
    log_prob = tf.convert_to_tensor(log_prob, tf.float32)
    if log_alpha.shape.rank not in (None, 0):
        raise ValueError(
            f"log_alpha must be a scalar, got shape {log_alpha.shape}")
    if log_prob.shape.rank not in (None, 1):
        raise ValueError(
            f"log_prob must have shape (B,), got {log_prob.shape}")
    _check_number("target_entropy", target_entropy, low=-float("inf"))
    return -tf.reduce_mean(
        log_alpha * tf.stop_gradient(log_prob + target_entropy))


def _gaussian_args(mean, log_std, *, actions, actions_name="actions"):
    """``mean``, ``log_std`` and the actions as float32 tensors, shapes checked:
    ``mean`` and the actions ``(B, A)``, ``log_std`` ``(B, A)`` or ``(A,)``."""
    mean = tf.convert_to_tensor(mean, tf.float32)
    log_std = tf.convert_to_tensor(log_std, tf.float32)
    actions = tf.convert_to_tensor(actions, tf.float32)
    if mean.shape.rank != 2:
        raise ValueError(
            f"mean must have shape (B, A), got {mean.shape}; a one-dimensional "
            "action space keeps its axis, (B, 1)")
    if not actions.shape.is_compatible_with(mean.shape):
        raise ValueError(
            f"{actions_name} must have the shape of mean {mean.shape}, got "
            f"{actions.shape}; a one-dimensional action space keeps its axis, "
            "(B, 1)")
    ok = log_std.shape.rank in (1, 2) and log_std.shape[-1:].is_compatible_with(
        mean.shape[-1:])
    if ok and log_std.shape.rank == 2:
        ok = log_std.shape.is_compatible_with(mean.shape)
    if not ok:
        raise ValueError(
            f"log_std must have the shape of mean {mean.shape} or one number "
            f"per action dimension ({mean.shape[-1]},), got {log_std.shape}")
    return mean, log_std, actions


def _check_number(name: str, value, low: float = 0.0, high: float = float("inf")
                  ) -> None:
    """A plain Python number must lie in [low, high]; a tensor (a learned
    temperature) is not checked."""
    import math
    from numbers import Real

    if isinstance(value, bool) or (
        isinstance(value, Real)
        and not (math.isfinite(value) and low <= value <= high)
    ):
        accepted = (f"a number in [{low:g}, {high:g}]" if math.isfinite(high)
                    else f"a number >= {low:g}" if math.isfinite(low)
                    else "a finite number")
        raise ValueError(f"{name} must be {accepted}, got {value!r}")


def _rollout(**arrays):
    """The arrays of a rollout as float64, checked: ``rewards`` ``(T,)`` or
    ``(T, N)``, the others its shape."""
    import numpy as np

    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    shape = arrays["rewards"].shape
    if len(shape) not in (1, 2):
        raise ValueError(f"rewards must have shape (T,) or (T, N), got {shape}")
    for name, x in arrays.items():
        if x.shape != shape:
            hint = "; a (T * N, 1) critic output must be reshaped to (T, N)"
            hint = hint if "values" in name else ""
            raise ValueError(f"{name} must have the shape of rewards {shape}, got {x.shape}{hint}")
    return tuple(arrays.values())


def _same_shape(name: str, x: tf.Tensor, other_name: str, other: tf.Tensor) -> None:
    # Static shapes are known eagerly and in a traced tf.function alike.
    ranks = x.shape.rank, other.shape.rank
    if None not in ranks and ranks[0] != ranks[1]:
        raise ValueError(
            f"{name} must have the shape of {other_name}, one number per step {other.shape}, "
            f"got {x.shape}; a (B, 1) critic output must be squeezed to (B,), or (B,) - (B, 1) "
            "broadcasts to (B, B)"
        )
