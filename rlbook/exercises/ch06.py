"""Checks for the exercises of chapter 6 (REINFORCE)."""

from __future__ import annotations

import inspect

import numpy as np

from rlbook.exercises._core import (
    Verdict,
    assert_unchanged,
    call_student,
    check,
    close,
    correct,
    diagnose,
    fmt,
    fresh_rng,
    name_of,
    snapshot,
    tensor_hint,
    to_array,
    wrong,
)

__all__ = ["check_episode_returns", "check_reinforce_loss"]


def _returns(rewards, dones, gamma, reset_offset=0):
    """G_t = r_t + gamma * (1 - done_t) * G_{t+1}, from the last step back (a NumPy reference)."""
    out, g = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        k = t + reset_offset
        end = dones[k] if 0 <= k < len(dones) else 0.0
        g = rewards[t] + gamma * (1.0 - end) * g
        out[t] = g
    return out


def _n_parameters(fn) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(
        1
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    )


@check
def check_episode_returns(episode_returns) -> Verdict:
    """Check discounted returns, for one episode at a time or several episodes back to back.

    Two forms are accepted, told apart by the number of parameters:

    * ``episode_returns(rewards, gamma) -> G`` for one complete episode: called on several
      episodes of random lengths (one of them a single step), with gamma in {0.5, 0.9, 1.0};
    * ``episode_returns(rewards, dones, gamma) -> G`` for several complete episodes back to back,
      ``dones[t] = 1`` on each episode's last step: the return restarts after every end. Called
      on batches of three or four episodes of random lengths (one a single step), and on a batch
      of one episode.

    Rewards are random on every call, given as a list or an array, and never changed in place.
    """
    name = name_of(episode_returns)
    rng = fresh_rng()
    n_params = _n_parameters(episode_returns)
    batched = n_params == 3
    signature = "(rewards, dones, gamma)" if batched else "(rewards, gamma)"
    gammas = [float(rng.choice([0.9, 0.8])), 0.5, 1.0]
    for i, gamma in enumerate(gammas):
        if batched:
            lengths = [int(n) for n in rng.integers(2, 6, size=int(rng.integers(3, 5)))]
            lengths[int(rng.integers(len(lengths)))] = 1
            if i == 2:
                lengths = [int(rng.integers(3, 7))]
        else:
            lengths = [[int(rng.integers(4, 8))], [1], [int(rng.integers(2, 5))]][i]
        rewards = [float(x) for x in np.round(rng.uniform(-1.0, 3.0, size=sum(lengths)), 1)]
        dones = np.concatenate([np.eye(1, n, n - 1)[0] for n in lengths])
        given = list(rewards) if i % 2 == 0 else np.array(rewards)
        before = snapshot(given)
        args = (given, dones.copy(), gamma) if batched else (given, gamma)
        got = call_student(
            episode_returns, *args, name=name, signature=f"episode_returns{signature}"
        )
        assert_unchanged(name, before, [given], ["rewards"])
        got = to_array(got, name, f"one return per step, shape ({len(rewards)},)")
        r = np.array(rewards)
        want = _returns(r, dones, gamma)
        what = (
            f"episodes of {lengths} steps back to back"
            if batched
            else f"an episode of {lengths[0]} step{'s' if lengths[0] > 1 else ''}"
        )
        case = f"(rewards {fmt(r)}{', dones ' + fmt(dones, 0) if batched else ''}, gamma {gamma})"
        if got.shape != want.shape:
            return wrong(
                f"for {what} expected one return per step, {len(want)} values, got shape "
                f"{got.shape}. "
                f"{case}"
            )
        if close(got, want):
            continue
        forward = np.zeros(len(r))
        g = 0.0
        for t in range(len(r)):
            g = 0.0 if t > 0 and dones[t - 1] else g
            g = r[t] + gamma * g
            forward[t] = g
        now = np.zeros(len(r))
        g = 0.0
        for t in range(len(r) - 1, -1, -1):
            g = gamma * (r[t] + (1.0 - dones[t]) * g)
            now[t] = g
        candidates = []
        if batched:
            candidates += [
                (
                    _returns(r, np.zeros(len(r)), gamma),
                    "returns are not reset at episode ends: after an "
                    "episode's last step (dones[t] = 1) the next episode's "
                    "rewards must not flow back into it. Restart the sum: "
                    "G_t = r_t + gamma * (1 - dones[t]) * G_{t+1}.",
                ),
                (
                    _returns(r, dones, gamma, reset_offset=1),
                    "the reset is one step off: at an episode's last "
                    "step t (dones[t] = 1) G_t = r_t, so use dones[t] "
                    "(not dones[t + 1]) when computing G_t.",
                ),
                (
                    _returns(r, dones, gamma, reset_offset=-1),
                    "the reset is one step off: at an episode's last "
                    "step t (dones[t] = 1) G_t = r_t, so use dones[t] "
                    "(not dones[t - 1]) when computing G_t.",
                ),
            ]
        candidates += [
            (
                want[::-1],
                "the returns are right but in reverse order: after the backward loop, reverse the "
                "list so that entry t is G_t.",
            ),
            (
                forward,
                "you accumulated rewards from the start of the episode; the return G_t looks "
                "*forward*, "
                "at the rewards from step t to the end. Loop over the rewards from the last one "
                "back.",
            ),
            (
                _returns(r, dones, 1.0),
                "the returns are not discounted: each step further away should count "
                "gamma times less.",
            ),
            (
                now,
                "the reward of step t itself is not discounted (it arrives now): G_t = r_t + gamma "
                "* G_{t+1}.",
            ),
            (
                np.full(len(r), want[0]),
                "every step got the episode's total return G_0; G_t counts only the "
                "rewards from step t on.",
            ),
            (
                np.concatenate([[0.0], want[:-1]]) if len(r) > 1 else None,
                "the returns are shifted by one step: entry t must be G_t.",
            ),
            (
                np.concatenate([want[1:], [0.0]]) if len(r) > 1 else None,
                "the returns are shifted by one step "
                "(off by one): entry t must be G_t, "
                "which includes r_t.",
            ),
        ]
        message = diagnose(got, candidates)
        return wrong(
            f"for {what}: {message or 'expected ' + fmt(want, 4) + ', got ' + fmt(got, 4) + '.'} "
            f"{case}"
        )
    if batched:
        return correct(
            f"{name}: G_t = r_t + gamma * (1 - done_t) * G_(t+1), from the last step back, "
            "restarting "
            "at every episode end."
        )
    return correct(
        f"{name}: G_t = r_t + gamma * G_(t+1), computed from the last step back, one pass over the "
        "episode."
    )


# -- the REINFORCE loss -------------------------------------------------------------------------


def _log_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def policy_batch(rng, n, n_actions):
    """Random logits (N, A), actions (N,) and weights: a batch of steps for a policy loss."""
    logits = np.round(rng.normal(0.0, 1.5, size=(n, n_actions)), 2).astype(np.float32)
    actions = rng.integers(n_actions, size=n).astype(np.int32)
    return logits, actions


def grads_or_none(tape, loss, variables):
    import tensorflow as tf

    try:
        grads = tape.gradient(loss, variables, unconnected_gradients=tf.UnconnectedGradients.NONE)
    except Exception:  # noqa: BLE001 - e.g. a NumPy value: no gradient at all
        return [None] * len(variables)
    return [
        None if g is None else np.asarray(tf.convert_to_tensor(g).numpy(), np.float64)
        for g in grads
    ]


def moves(g) -> bool:
    return g is not None and bool(np.any(np.abs(g) > 1e-7))


@check
def check_reinforce_loss(reinforce_loss) -> Verdict:
    """Check ``reinforce_loss(logits, actions, returns, values) -> scalar``, values of shape (N, 1).

    The inputs are TensorFlow tensors, as the agent passes them. Cases (random on every call): a
    batch of several steps, a batch of one step, and a batch with three or four actions. Besides
    the value of the loss, the check looks at its gradient: the logits must receive exactly the
    policy-gradient of the loss, and the baseline ``values`` must receive none (the advantage is
    held fixed with ``tf.stop_gradient``).
    """
    import tensorflow as tf

    name = name_of(reinforce_loss)
    rng = fresh_rng()
    for n, n_actions in (
        (int(rng.integers(5, 9)), 2),
        (1, 2),
        (int(rng.integers(3, 7)), int(rng.integers(3, 5))),
    ):
        logits_np, actions_np = policy_batch(rng, n, n_actions)
        returns_np = np.round(rng.uniform(0.0, 10.0, size=n), 2).astype(np.float32)
        values_np = np.round(rng.uniform(0.0, 10.0, size=(n, 1)), 2).astype(np.float32)
        logits, values = tf.Variable(logits_np), tf.Variable(values_np)
        returns, actions = tf.Variable(returns_np), tf.constant(actions_np)
        with tf.GradientTape(persistent=True) as tape:
            got = call_student(
                reinforce_loss,
                logits,
                actions,
                returns,
                values,
                name=name,
                hint=tensor_hint,
                signature="(logits, actions, returns, values)",
            )
        assert_unchanged(
            name,
            [logits_np, values_np, returns_np],
            [logits.numpy(), values.numpy(), returns.numpy()],
            ["logits", "values", "returns"],
        )
        arr = to_array(got, name, "the loss, one number (a scalar tensor)")
        case = (
            f"(logits {fmt(logits_np)}, actions {actions_np.tolist()}, returns {fmt(returns_np)}, "
            f"values {fmt(values_np[:, 0])} of shape ({n}, 1))"
        )
        if arr.shape == (n, n) and n > 1:
            return wrong(
                f"{name} returned a matrix of shape {arr.shape}: returns - values with values of "
                "shape "
                f"(N, 1) broadcasts to N x N (every return minus every value). Use values[:, 0]."
            )
        if arr.size != 1:
            return wrong(
                f"the loss should be one number (the mean over steps), got shape {arr.shape}."
            )
        loss = float(arr.reshape(()))
        lp = _log_softmax(logits_np.astype(np.float64))
        rows = np.arange(n)
        log_pi = lp[rows, actions_np]
        adv = returns_np.astype(np.float64) - values_np[:, 0]
        want = -np.mean(adv * log_pi)
        if not np.isclose(loss, want, rtol=1e-4, atol=1e-5):
            message = diagnose(
                loss,
                [
                    (
                        -np.mean((returns_np[None, :] - values_np) * log_pi),
                        "returns - values with values of shape "
                        "(N, 1) broadcasts to an N x N matrix (every return minus every value). "
                        "Squeeze the critic's "
                        "output to shape (N,) first, e.g. values[:, 0].",
                    ),
                    (
                        np.mean(adv * log_pi),
                        "the sign is flipped: minimizing this loss would make the "
                        "better-than-expected actions *less* likely. The loss is -mean(...).",
                    ),
                    (
                        -np.mean(returns_np * log_pi),
                        "the baseline is missing: weight each log-probability by G_t - V(s_t).",
                    ),
                    (
                        -np.sum(adv * log_pi),
                        "use the mean over steps, not the sum (the step size should not grow "
                        "with the batch).",
                    ),
                    (
                        -np.mean(adv * np.exp(log_pi)),
                        "use the log-probability log pi(a|s), not the probability pi(a|s).",
                    ),
                    (
                        -np.mean(adv * logits_np[rows, actions_np]),
                        "logits are not log-probabilities: apply a "
                        "log-softmax first (tf.nn.log_softmax).",
                    ),
                    (
                        -np.mean(adv * np.log(np.maximum(logits_np[rows, actions_np], 1e-30))),
                        "logits are not probabilities: use tf.nn.log_softmax(logits), not the log "
                        "of the logits.",
                    ),
                    (
                        -np.mean(adv[:, None] * lp),
                        "pick the log-probability of the action taken in each step "
                        "(tf.gather(log_probs, actions, batch_dims=1)), not all of them.",
                    ),
                    (
                        -np.mean(adv * lp[rows, 0]),
                        "pick the log-probability of the action taken in each step, "
                        "tf.gather(log_probs, actions, batch_dims=1).",
                    ),
                ],
            )
            return wrong(f"{message or f'expected {want:.4f}, got {loss:.4f}.'} {case}")
        g_logits, g_values, g_returns = grads_or_none(tape, got, [logits, values, returns])
        del tape
        if g_logits is None or not moves(g_logits):
            return wrong(
                "the value is right, but no gradient reaches the logits, so the policy could not "
                "learn "
                f"from it: compute the loss with TensorFlow operations on the tensors {name} "
                "receives "
                "(tf.nn.log_softmax, tf.gather, tf.reduce_mean), not NumPy or .numpy()."
            )
        if moves(g_values):
            return wrong(
                "the value is right, but the policy loss sends gradients into the baseline V(s). "
                "Hold "
                "the advantage fixed with tf.stop_gradient(returns - values[:, 0]): the baseline "
                "learns "
                "from its own loss."
            )
        onehot = np.eye(n_actions)[actions_np]
        want_grad = -(adv / n)[:, None] * (onehot - np.exp(lp))
        if not close(g_logits, want_grad, rtol=1e-3, atol=1e-5):
            return wrong(
                "the value is right, but its gradient with respect to the logits is not the "
                "policy "
                "gradient -(G - V) * grad log pi(a|s) / N. Is a tf.stop_gradient around log pi? "
                f"{case}"
            )
        del g_returns
    return correct(
        f"{name}: L = -mean[(G_t - V(s_t)) log pi(a_t|s_t)], one advantage per step, with the "
        "gradient flowing into the logits only."
    )
