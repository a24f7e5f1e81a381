"""Checks for the exercises of chapter 3 (DQN)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import (
    Case,
    Mistake,
    StudentError,
    Verdict,
    _short,
    agent_verdict,
    call_student,
    check,
    close,
    fail,
    flags_hint,
    fmt,
    fresh_rng,
    grade,
    name_of,
    shape_is,
    td_cases,
    tensor_hint,
    terminal_flags,
    to_array,
    to_scalar,
    wrong,
)

__all__ = ["check_td_target", "check_soft_update", "check_dqn_learning_step", "check_dqn_agent"]


def td_batch(rng: np.random.Generator, batch: int, n_actions: int, terminal: str = "mixed"):
    """A random batch of transitions: rewards (B,), next Q-values (B, A), terminated flags (B,)."""
    reward = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
    next_q = np.round(rng.normal(2.0, 2.0, size=(batch, n_actions)), 2).astype(np.float32)
    return reward, next_q, terminal_flags(rng, batch, terminal)


def _td_cases(rng):
    n_actions = int(rng.integers(2, 5))
    for batch, terminal, gamma in td_cases(rng):
        r, q, t = td_batch(rng, batch, n_actions, terminal)
        text = f"(rewards {fmt(r)}, next Q-values {fmt(q)}, terminated {fmt(t, 0)}, gamma {gamma})"
        yield Case(
            (r, q, t, gamma),
            ("reward", "next_q_target", "terminated", "gamma"),
            text,
            what=f"one target per transition, shape ({batch},)",
            r=r.astype(np.float64),
            q=q.astype(np.float64),
            t=t.astype(np.float64),
            gamma=gamma,
        )


def _td(c, best=None, gamma=None, mask=None, reward_discounted=False):
    """The TD target of case ``c``, or a typical mistake's version of it."""
    best = c.q.max(axis=1) if best is None else best
    gamma = c.gamma if gamma is None else gamma
    mask = 1 - c.t if mask is None else mask
    if reward_discounted:
        return gamma * (c.r + mask * best)
    return c.r + gamma * mask * best


_TD_MISTAKES = [
    Mistake(
        "the terminated transitions still bootstrap: their target is just the reward. "
        "Multiply the bootstrap term by (1 - terminated).",
        lambda c: _td(c, mask=1.0),
    ),
    Mistake(
        "the flag is the wrong way round: bootstrap when the episode goes on, (1 - terminated), "
        "not terminated.",
        lambda c: _td(c, mask=c.t),
    ),
    Mistake(
        "you averaged the next Q-values; Q-learning bootstraps from the best next action: "
        "max over a'.",
        lambda c: _td(c, best=c.q.mean(axis=1)),
    ),
    Mistake(
        "you used the index of the best next action (argmax); the target needs its value, "
        "max over a'.",
        lambda c: _td(c, best=c.q.argmax(axis=1)),
    ),
    Mistake(
        "you took the min over the next actions; use the max.",
        lambda c: _td(c, best=c.q.min(axis=1)),
    ),
    Mistake(
        "you took one max over the whole batch; take it per transition, over the action axis "
        "(axis=-1).",
        lambda c: _td(c, best=c.q.max()),
    ),
    Mistake(
        "the reward is not discounted: it arrives now. Only the next state's value is "
        "multiplied by gamma.",
        lambda c: _td(c, reward_discounted=True),
    ),
    Mistake(
        "the next state's value must be discounted: multiply it by gamma.",
        lambda c: _td(c, gamma=1.0),
    ),
    Mistake(
        "the sign of the bootstrap term is flipped: "
        "y = r + gamma * (1 - terminated) * max_a' Q(s', a').",
        lambda c: _td(c, gamma=-c.gamma),
    ),
    Mistake(
        "you summed the next Q-values; take the max over a'.",
        lambda c: _td(c, best=c.q.sum(axis=1)),
    ),
    Mistake(
        lambda c: (
            f"one target per transition has shape ({len(c.r)},). "
            "Take the max over the action axis without keepdims."
        ),
        test=shape_is(lambda c: (len(c.r), 1), lambda c: (1, len(c.r))),
    ),
    Mistake(
        lambda c: (
            f"the targets should have shape ({len(c.r)},), one per transition: take the max per "
            "transition, over the action axis (axis=-1), not over the batch."
        ),
        test=lambda c, got: np.shape(got) == (c.q.shape[1],) or np.size(got) == 1,
    ),
]


@check
def check_td_target(td_target) -> Verdict:
    """Check ``td_target(reward, next_q_target, terminated, gamma) -> (B,)`` (NumPy or TF).

    Cases (random on every call): a mixed batch, a batch of one, an all-terminal batch, a batch
    with no terminal, and gamma in {0.5, 0.9, 0.99}.
    """
    return grade(
        td_target,
        _td_cases(fresh_rng()),
        _td,
        _TD_MISTAKES,
        signature="(reward, next_q_target, terminated, gamma)",
        hint=flags_hint,
        done=(
            f"{name_of(td_target)}: y = r + gamma * (1 - terminated) * max_a' Q_target(s', a'), "
            "one value per transition, for every batch the check tried."
        ),
    )


def _weights(rng: np.random.Generator):
    shapes = [
        (int(rng.integers(2, 5)), int(rng.integers(2, 4))),
        (int(rng.integers(2, 4)),),
        (3, 1),
    ]
    return [rng.normal(size=s) for s in shapes[: int(rng.integers(2, 4))]]


def _soft_cases(rng):
    small = float(np.round(rng.uniform(0.01, 0.2), 3))
    for tau in (small, 1.0, 0.0, float(np.round(rng.uniform(0.3, 0.7), 3))):
        target = _weights(rng)
        online = [rng.normal(size=w.shape) for w in target]
        given = [w.copy() for w in target]  # may be updated in place (and returned): accepted
        yield Case(
            (given, online, tau),
            (None, "online_weights", "tau"),
            target=target,
            online=online,
            tau=tau,
        )


def _soft(c, tau=None):
    tau = c.tau if tau is None else tau
    return [tau * o + (1 - tau) * t for t, o in zip(c.target, c.online)]


def _read_weights(out, c, name):
    if out is None:
        in_place = all(close(a, w) for a, w in zip(c.given[0], _soft(c)))
        fail(
            f"{name} returned None{' (it updated the list in place)' if in_place else ''}: "
            "return the list of new target weights."
        )
    if not isinstance(out, (list, tuple)):
        fail(
            f"{name} returned a {type(out).__name__}; return a list with one array per weight, "
            "like model.get_weights()."
        )
    if len(out) != len(c.target):
        fail(
            f"{name} returned {len(out)} arrays for {len(c.target)} weights; return one new "
            "array per weight (loop over zip(target_weights, online_weights))."
        )
    return [to_array(o, name, "one array per weight", shape=t.shape) for o, t in zip(out, c.target)]


def _all_close(got, want) -> bool:
    return all(close(g, w) for g, w in zip(got, want))


_SOFT_MISTAKES = [
    Mistake(
        lambda c: (
            f"tau and 1 - tau are swapped (tau = {c.tau}): the target should move only a fraction "
            "tau towards the online weights, tau * online + (1 - tau) * target."
        ),
        lambda c: _soft(c, 1 - c.tau),
    ),
    Mistake(
        lambda c: (
            f"with tau = {c.tau} that is a hard copy of the online weights; a soft update moves "
            "the target a fraction tau of the way: tau * online + (1 - tau) * target."
        ),
        lambda c: c.online,
    ),
    Mistake(
        lambda c: (
            f"with tau = {c.tau} the target weights did not change; move them a fraction tau "
            "towards the online weights."
        ),
        lambda c: c.target,
    ),
] + [
    Mistake(
        lambda c, k=k: f"you used tau = {k}, not the `tau` argument ({c.tau}): use the parameter.",
        lambda c, k=k: _soft(c, k),
    )
    for k in (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
]


@check
def check_soft_update(soft_update) -> Verdict:
    """Check ``soft_update(target_weights, online_weights, tau) -> new target weights``.

    The weights are lists of arrays, as ``model.get_weights()`` returns them.

    Cases (random weights on every call): a random small tau, tau = 1 (the hard copy), tau = 0
    (no change) and a second random tau. An answer that updates the target list in place *and*
    returns it is accepted; one that changes the online weights is not.
    """
    return grade(
        soft_update,
        _soft_cases(fresh_rng()),
        _soft,
        _SOFT_MISTAKES,
        read=_read_weights,
        same=_all_close,
        signature="soft_update(target_weights, online_weights, tau)",
        explain=lambda got, want, c: (
            f"with tau = {c.tau} the new target weights should be tau * online + (1 - tau) * "
            "target, element by element."
        ),
        done=(
            f"{name_of(soft_update)}: target <- tau * online + (1 - tau) * target, for every tau; "
            "with tau = 1 it is the hard copy, with tau = 0 no change."
        ),
    )


# -- the whole learning step, and the student's DQN learns ----------------------------------------

_STEP_SIG = "dqn_learning_step(q_network, target_network, optimizer, batch, gamma)"
_SGD_LR = 0.01  # the unit cases hand the student plain SGD: the weights move by -lr * gradient


def _step_hint(err, line: str) -> str | None:
    text = str(err)
    if "No gradients provided" in text or ("NoneType" in text and "grad" in line):
        return (
            "The tape recorded no path from q_network's weights to the loss: call "
            "`q_network(obs)` and compute the loss inside `with tf.GradientTape() as tape:`, "
            "then `tape.gradient(loss, q_network.trainable_variables)`."
        )
    if "one_hot" in line:
        return (
            "tf.one_hot(action, depth) needs the number of actions as its depth, "
            "q_values.shape[-1] (not a number written in: the check's networks have 3 or 4 "
            "actions)."
        )
    if "Incompatible shapes" in text or "broadcast" in text:
        return (
            "The target y and Q(s, a) must both have shape (B,), one number per transition. "
            "tf.gather(q_values, action) picks whole rows; one Q(s, a) per transition is "
            "tf.gather(q_values, action, axis=1, batch_dims=1)."
        )
    if ("truth value" in text and "ambiguous" in text) or "as a Python `bool`" in text:
        return (
            "`terminated` is a tensor, one flag per transition: `if` and `not` do not work on "
            "it. Multiply instead: (1 - terminated)."
        )
    if "SymbolicTensor" in text or "symbolic tf.Tensor" in text or "symbolic tensor" in text:
        return (
            "Inside tf.function a tensor has no value yet, so .numpy(), float() and NumPy "
            "functions cannot read it: use TensorFlow operations (tf.reduce_max, tf.gather, "
            "tf.one_hot, tf.reduce_mean)."
        )
    if "expected to be a" in text and "tensor" in text:
        return "Two tensors of different dtypes met: convert one with tf.cast(x, tf.float32)."
    return tensor_hint(err, line)


def _loss_tensor(value, name: str):
    """The student's returned loss as a float32 scalar tensor, or a "not yet"."""
    import tensorflow as tf

    what = "return the loss of the minibatch, one number (the mean over the minibatch)"
    if value is None:
        fail(
            f"{name} returned None: did you forget the `return loss` line? {what[0].upper()}"
            f"{what[1:]}."
        )
    try:
        loss = tf.convert_to_tensor(value)
    except Exception:  # noqa: BLE001 - a tuple of tensors, a dict, ...
        fail(f"{name} returned a {type(value).__name__}; {what}.")
    if not (loss.dtype.is_floating or loss.dtype.is_integer):
        fail(f"{name} returned values of type {loss.dtype.name}; {what}.")
    if loss.shape.num_elements() != 1:
        fail(
            f"{name} returned a tensor of shape {tuple(loss.shape)}, not one number; {what} "
            "(tf.reduce_mean)."
        )
    return tf.reshape(tf.cast(loss, tf.float32), [])


def _unit_networks(rng: np.random.Generator):
    """An online and a target Q-network of one small architecture (weights set per case)."""
    from rlbook.nets import q_network

    # 3 or 4 actions: an answer written for CartPole's 2 alone fails every call, not one in three
    obs_dim, n_actions = int(rng.integers(3, 6)), int(rng.integers(3, 5))
    hidden = (int(rng.integers(6, 12)),)
    nets = [
        q_network((obs_dim,), n_actions, hidden=hidden, seed=int(rng.integers(2**20)), name=n)
        for n in ("q_online", "q_target")
    ]
    return nets, obs_dim, n_actions


def _unit_batch(rng, batch: int, obs_dim: int, n_actions: int, terminal: str):
    import tensorflow as tf

    action = rng.integers(0, n_actions, size=batch)
    if batch > 1:
        action[:2] = rng.permutation(n_actions)[:2]  # at least two different actions
    terminated = terminal_flags(rng, batch, terminal)
    arrays = (
        rng.normal(size=(batch, obs_dim)).astype(np.float32),
        action.astype(np.int64),
        np.round(rng.uniform(-2.0, 3.0, size=batch), 2).astype(np.float32),
        rng.normal(size=(batch, obs_dim)).astype(np.float32),
        terminated,
    )
    return arrays, tuple(tf.constant(a) for a in arrays)


def _reference_step(online, target, batch, gamma, weights=None, **mistake) -> dict:
    """Loss and gradient of one DQN step on ``batch``, right or with one named ``mistake``.

    Mistakes: ``net="online"`` (target from the online net), ``stop=False`` (and the gradient
    flows through it), ``mask="none" | "flipped"``, ``best="batch"`` (one max over the batch),
    ``discount="reward" | "none"``, ``pick="max" | "all" | "no_batch_dims" | "column"``,
    ``reduce="sum"``. ``weights``: the online network's weights to start from.

    Returns:
        ``{loss kind: (loss, [gradient per weight])}`` for each of :data:`_LOSSES`.
    """
    import tensorflow as tf

    if weights is not None:  # where the step started
        online.set_weights(weights)
    obs, action, reward, next_obs, terminated = batch
    net, stop = mistake.get("net", "target"), mistake.get("stop", True)
    with tf.GradientTape(persistent=True) as tape:
        next_q = (target if net == "target" else online)(next_obs)
        if mistake.get("best") == "batch":
            best = tf.reduce_max(next_q)
        else:
            best = tf.reduce_max(next_q, axis=-1)
        not_end = {"none": 1.0, "flipped": terminated}.get(mistake.get("mask"), 1.0 - terminated)
        discount = mistake.get("discount")
        if discount == "reward":
            y = gamma * (reward + not_end * best)
        elif discount == "none":
            y = reward + not_end * best
        else:
            y = reward + gamma * not_end * best
        if stop:
            y = tf.stop_gradient(y)
        q = online(obs)
        pick = mistake.get("pick")
        if pick == "max":
            q_taken = tf.reduce_max(q, axis=-1)
        elif pick == "all":
            q_taken = q  # (B, A): y[:, None] against every action's Q-value
            y = y[:, None]
        elif pick == "no_batch_dims":
            q_taken = tf.gather(q, action, axis=1)  # (B, B)
        else:
            q_taken = tf.reduce_sum(q * tf.one_hot(action, q.shape[-1]), axis=-1)
            if pick == "column":
                q_taken = q_taken[:, None]  # (B, 1): y - q_taken broadcasts to (B, B)
        d = y - q_taken
        reduce = tf.reduce_sum if mistake.get("reduce") == "sum" else tf.reduce_mean
        values = {
            "huber": reduce(tf.where(tf.abs(d) <= 1.0, 0.5 * tf.square(d), tf.abs(d) - 0.5)),
            "mse": reduce(tf.square(d)),
        }
    out = {}
    for kind, value in values.items():
        grads = tape.gradient(value, online.trainable_variables)
        out[kind] = (float(value), [g.numpy().astype(np.float64) for g in grads])
    value, grads = out["mse"]
    out["half_mse"] = (value / 2, [g / 2 for g in grads])
    return out


_LOSSES = ("huber", "mse", "half_mse")
_STEP_MISTAKES = [  # (mistake, message)
    (
        dict(net="online"),
        "the target uses `q_network`: compute max_a' Q(s', a') with `target_network`, the "
        "slowly moving copy that holds the target still.",
    ),
    (
        dict(net="online", stop=False),
        "the target is computed with `q_network` inside the tape, so the gradient also flows "
        "through the target: compute it with `target_network`, held fixed (outside the tape, or "
        "wrapped in tf.stop_gradient).",
    ),
    (
        dict(mask="none"),
        "the terminated transitions still bootstrap: their target is just the reward. "
        "Multiply the bootstrap term by (1 - terminated).",
    ),
    (
        dict(mask="flipped"),
        "the flag is the wrong way round: bootstrap when the episode goes on, "
        "(1 - terminated), not terminated.",
    ),
    (
        dict(best="batch"),
        "you took one max over the whole minibatch of next Q-values; take it per transition, "
        "over the action axis (axis=-1).",
    ),
    (
        dict(discount="reward"),
        "the reward is discounted too: it arrives now. Only the next state's value is "
        "multiplied by gamma.",
    ),
    (dict(discount="none"), "the next state's value must be discounted: multiply it by gamma."),
    (
        dict(pick="max"),
        "Q(s, a) must be the Q-value of the action taken, not max_a Q(s, a): pick it with "
        "tf.gather(q_values, action, axis=1, batch_dims=1) (or a one-hot mask).",
    ),
    (
        dict(pick="all"),
        "you compared y with the Q-values of every action; the loss uses only Q(s, a), the "
        "value of the action taken: tf.gather(q_values, action, axis=1, batch_dims=1).",
    ),
    (
        dict(pick="no_batch_dims"),
        "tf.gather(q_values, action, axis=1) without batch_dims=1 gives, for every transition, "
        "the Q-values of all the minibatch's actions (shape (B, B)); with batch_dims=1 it picks "
        "one Q(s_i, a_i) per transition.",
    ),
    (
        dict(pick="column"),
        "Q(s, a) has shape (B, 1) and the target shape (B,): their difference broadcasts to "
        "(B, B), every target against every Q-value. Make both shape (B,).",
    ),
    (
        dict(reduce="sum"),
        "the loss is summed over the minibatch, not averaged: take tf.reduce_mean (a sum makes "
        "the step size grow with the batch size).",
    ),
]


def _relative_error(got, want) -> float:
    num = np.sqrt(sum(float(np.sum((g - w) ** 2)) for g, w in zip(got, want)))
    den = np.sqrt(sum(float(np.sum(w**2)) for w in want))
    return num / max(den, 1e-6)


def _follows(moved, steps: dict) -> bool:
    """The weights moved by one SGD step down one of the accepted losses' gradients."""
    return any(_relative_error(moved, grads) < 2e-3 for _, grads in steps.values())


def _step_cases(rng, name: str):
    import tensorflow as tf

    (online, target), obs_dim, n_actions = _unit_networks(rng)
    first = int(rng.integers(5, 10))
    for size, terminal, gamma in [  # (minibatch size, terminal transitions, gamma)
        (first if first != n_actions else first + 1, "mixed", float(rng.choice([0.9, 0.99]))),
        (1, "none", 0.9),
        (int(rng.integers(3, 7)), "all", 0.99),
        (int(rng.integers(5, 10)), "none", 0.5),
    ]:
        for net in (online, target):
            net.set_weights(
                [rng.normal(0.0, 0.6, w.shape).astype(np.float32) for w in net.get_weights()]
            )
        arrays, batch = _unit_batch(rng, size, obs_dim, n_actions, terminal)
        optimizer = tf.keras.optimizers.SGD(learning_rate=_SGD_LR)
        optimizer.build(online.trainable_variables)
        yield Case(
            (online, target, optimizer, batch, gamma),
            (None, None, None, None, "gamma"),
            f"(a minibatch of {size}, terminated {fmt(arrays[4], 0)}, gamma {gamma})",
            online=online,
            target=target,
            optimizer=optimizer,
            batch=batch,
            gamma=gamma,
            before=(online.get_weights(), target.get_weights()),
            name=name,
        )


def _read_step(got, c, name):
    """The gradient the student's step followed (the weights' change / lr); checks the rest."""
    online_before, target_before = c.before
    if any(not np.array_equal(a, b) for a, b in zip(c.target.get_weights(), target_before)):
        fail(
            f"{name} changed target_network's weights. The step only reads the target network "
            "(to compute y); the agent moves it towards q_network every C steps."
        )
    moved = [
        (b.astype(np.float64) - a) / _SGD_LR for b, a in zip(online_before, c.online.get_weights())
    ]
    steps = int(c.optimizer.iterations.numpy())
    if all(not np.any(m) for m in moved):
        fail(
            f"{name} did not change q_network's weights {c.text}. Take one step of the optimizer "
            "you are given: grads = tape.gradient(loss, q_network.trainable_variables), then "
            "optimizer.apply_gradients(zip(grads, q_network.trainable_variables))."
        )
    if steps == 0:
        fail(
            f"{name} changed q_network's weights without the optimizer it is given: step with "
            "`optimizer.apply_gradients(...)` (the agent hands it its Adam)."
        )
    if steps > 1:
        fail(f"{name} took {steps} optimizer steps on one minibatch; take one.")
    right = _reference_step(c.online, c.target, c.batch, c.gamma, weights=online_before)
    kind = next((k for k in _LOSSES if _relative_error(moved, right[k][1]) < 2e-3), None)
    if kind is not None:
        loss = to_scalar(got, name, "the loss of the minibatch, one number")
        if not close(loss, right[kind][0], rtol=1e-3, atol=1e-4):
            fail(
                f"{name} took the right step but returned {fmt(loss)}; the loss of this "
                f"minibatch (before the step) is {fmt(right[kind][0])} {c.text}. Return the loss "
                "you computed in the tape."
            )
    return moved


def _step_mistake(hint, **mistake) -> Mistake:
    def test(c, moved):
        return _follows(
            moved,
            _reference_step(c.online, c.target, c.batch, c.gamma, weights=c.before[0], **mistake),
        )

    return Mistake(hint, test=test)


_UPHILL = Mistake(
    lambda c: (
        f"{c.name}'s step went uphill: it increased the loss. optimizer.apply_gradients "
        "minimises: give it the gradients of the loss itself (not of its negative)."
    ),
    test=lambda c, moved: _follows(
        [-m for m in moved],
        _reference_step(c.online, c.target, c.batch, c.gamma, weights=c.before[0]),
    ),
)


@check
def check_dqn_learning_step(dqn_learning_step) -> Verdict:
    """Check ``dqn_learning_step(q_network, target_network, optimizer, batch, gamma) -> loss``.

    ``batch`` is ``(obs, action, reward, next_obs, terminated)``, TensorFlow tensors of shapes
    ``(B, d)``, ``(B,)``, ``(B,)``, ``(B, d)``, ``(B,)``. The function must compute the target
    ``y = r + gamma (1 - terminated) max_a' Q_target(s', a')`` with ``target_network``, held
    fixed; the mean loss between ``Q(s, a)`` (the online network's value of the action taken)
    and ``y`` (Huber, squared error or half the squared error); take one step of ``optimizer``
    on ``q_network``'s weights; leave ``target_network`` alone; and return the loss.

    Cases (small random networks and minibatches on every call): a mixed minibatch, a
    minibatch of one, an all-terminal one and one without a terminal, gamma in
    {0.5, 0.9, 0.99}. The check hands the student plain SGD, so the weights' change is the
    gradient the step took, compared with the gradients of the right loss and of typical
    mistakes.
    """
    name = name_of(dqn_learning_step)
    return grade(
        dqn_learning_step,
        _step_cases(fresh_rng(), name),
        lambda c: _reference_step(c.online, c.target, c.batch, c.gamma),
        [_UPHILL] + [_step_mistake(hint, **m) for m, hint in _STEP_MISTAKES],
        read=_read_step,
        same=_follows,
        signature=_STEP_SIG,
        hint=_step_hint,
        explain=lambda got, want, c: (
            f"{name} moved q_network's weights, but not as one gradient step on the mean loss "
            "between Q(s, a) (the action taken) and y = r + gamma * (1 - terminated) * max_a' "
            "Q_target(s', a') would. Compare your step with lines 2.3.2 to 2.3.4 of the "
            "algorithm box."
        ),
        done=(
            f"{name}: the target from target_network held fixed, Q(s, a) of the actions taken, "
            "the mean loss and one optimizer step on q_network, for every minibatch the check "
            "tried."
        ),
    )


# The run the agent check trains: rlbook's DQN defaults, with learning starting sooner, a
# training call every 32 environment steps and epsilon decaying over 3,000 steps, so that a
# correct step passes within a few seconds.
_AGENT_CONFIG = dict(learning_starts=500, train_every=32, epsilon_decay_steps=3_000)
_AGENT_STEPS, _EVAL_EVERY, _EVAL_EPISODES = 8_000, 500, 10
_PASS_RETURN = 100.0
# An untrained network's greedy policy sometimes balances the pole by chance; the check starts
# from one that does not (its greedy mean return below this), so a pass shows learning.
_UNTRAINED_BELOW = 30.0


class _NotCompiled(Exception):
    """The student's step does not run inside ``tf.function`` (the message says where)."""


def _student_agent(step, name: str, env, seed: int, compiled: bool):
    """rlbook's ``DQNAgent`` whose learning step calls the student's ``step``.

    The student's function computes the target, the loss and the optimizer step; the gradient
    step counter and the periodic target update (line 2.3.5 of the algorithm box) stay the
    library's, as do acting, replay and the training loop. ``compiled``: the training calls run
    in one ``tf.function`` each (``rlbook.speed.repeat``, as the agent's own), else eagerly.
    """
    import tensorflow as tf

    from rlbook.agents.dqn import DQNAgent
    from rlbook.speed import repeat

    student_step = tf.autograph.experimental.do_not_convert(step)  # their code runs as written

    class StudentDQNAgent(DQNAgent):
        student_error = None  # the last StudentError (tf.function re-raises it as another type)

        def learn(self, obs, action, reward, next_obs, terminated, weights=None):
            c = self.config
            try:
                loss = call_student(
                    student_step,
                    self.q_network,
                    self.target_network,
                    self.optimizer,
                    (obs, action, reward, next_obs, terminated),
                    c.gamma,
                    name=name,
                    signature=_STEP_SIG,
                    hint=_step_hint,
                )
                loss = _loss_tensor(loss, name)
            except StudentError as err:
                self.student_error = err
                raise
            self.gradient_steps_done.assign_add(1)
            # Every C gradient steps the target network moves towards the online one.
            due = tf.equal(self.gradient_steps_done % c.target_update_every, 0)
            for var, target_var in zip(self.q_network.variables, self.target_network.variables):
                target_var.assign(
                    tf.where(due, c.tau * var + (1.0 - c.tau) * target_var, target_var)
                )
            return {"loss": loss}

        def _compiled_learn(self, *batches):
            try:
                return self._compiled(*batches)
            except Exception as err:  # noqa: BLE001 - whatever stops tracing: say where
                if self.student_error is not None:
                    raise _NotCompiled(self.student_error.verdict.message) from None
                raise _NotCompiled(f"{name} failed inside tf.function ({_short(err)})") from None

        def _eager_learn(self, *batches):
            losses = [
                float(self.learn(*[tf.constant(b[k]) for b in batches])["loss"])
                for k in range(self.config.gradient_steps)
            ]
            return {"loss": float(np.mean(losses))}

    agent = StudentDQNAgent(
        env.single_observation_space,
        env.single_action_space,
        num_envs=env.num_envs,
        seed=seed,
        **_AGENT_CONFIG,
    )
    if compiled:
        agent._compiled = repeat(
            tf.autograph.experimental.do_not_convert(agent.learn), agent.config.gradient_steps
        )
        agent._learn_many = agent._compiled_learn
    else:
        agent._learn_many = agent._eager_learn
    return agent


def _train_student_agent(step, name: str, seed: int, compiled: bool):
    """Train; returns ``(first evaluation that passed or None, best evaluation mean)``."""
    from rlbook.envs import make_vec_env
    from rlbook.train import evaluate, train

    env = make_vec_env("CartPole-v1", 4, seed=seed)
    eval_env = make_vec_env("CartPole-v1", _EVAL_EPISODES, seed=seed + 50_000)
    try:
        for attempt in range(20):  # a network that does not balance the pole before training
            agent = _student_agent(step, name, env, seed + attempt, compiled)
            if evaluate(agent, eval_env, episodes=_EVAL_EPISODES).mean() < _UNTRAINED_BELOW:
                break
        history = train(
            agent,
            env,
            steps=_AGENT_STEPS,
            eval_env=eval_env,
            eval_every=_EVAL_EVERY,
            eval_episodes=_EVAL_EPISODES,
            stop_at=_PASS_RETURN,
            progress=False,
        )
    finally:
        env.close()
        eval_env.close()
    best = max((e["mean"] for e in history.evaluations), default=0.0)
    return history.solved_at(_PASS_RETURN), best


@check
def check_dqn_agent(dqn_learning_step) -> Verdict:
    """Train rlbook's DQN agent with the student's ``dqn_learning_step`` on CartPole-v1.

    The agent (``DQNAgent`` with learning from step 500, a training call of 16 gradient steps
    every 32 environment steps, epsilon from 1 to 0.02 over 3,000 steps; everything else its
    defaults) learns with the student's function inside ``rlbook.train.train``, on 4 copies of
    CartPole-v1 with a new seed on every call, for at most 8,000 environment steps; every 500
    steps its greedy policy plays 10 episodes. It starts from a network whose greedy policy
    does not already balance the pole (mean return below 30: untrained networks sometimes do,
    by chance). It passes when an evaluation's mean return reaches 100 (a random policy's is
    about 22) *and* the function passes :func:`check_dqn_learning_step`; when the agent does not
    learn, that check says why.

    The agent compiles its training calls with ``tf.function``, as rlbook's does. A function
    that cannot run there (``.numpy()``, NumPy functions or a Python ``if`` on tensors) but
    passes its own check trains eagerly instead: slower, with the same result, and the
    verdict says where it could not be compiled.
    """
    from rlbook.train import TrainingDiverged

    name = name_of(dqn_learning_step)
    seed = int(fresh_rng().integers(2**31 - 100_000))
    problem, note, unit = None, "", None
    try:
        try:
            solved, best = _train_student_agent(dqn_learning_step, name, seed, compiled=True)
        except _NotCompiled as err:
            unit = check_dqn_learning_step(dqn_learning_step)
            if "NotImplementedError" in unit.message:
                return unit
            note = (
                f" tf.function could not compile {name}, so the agent ran it eagerly (slower, "
                f"the same result). Where it stopped: {err}"
            )
            if not unit.ok:  # (a crash says where already)
                return wrong(unit.message + ("" if " raised " in unit.message else note))
            solved, best = _train_student_agent(dqn_learning_step, name, seed, compiled=False)
    except StudentError as err:
        problem = err.verdict.message
    except TrainingDiverged as err:
        problem = (
            f"the loss that {name} returned became {err.value} at step {err.step:,}: the "
            "training diverged."
        )
    if problem is not None and "NotImplementedError" in problem:
        return wrong(problem)  # the stub: nothing to diagnose yet
    unit = unit or check_dqn_learning_step(dqn_learning_step)
    if solved is not None:
        steps, reached = (
            solved["step"],
            (
                f"reached a greedy mean return of {solved['mean']:.0f} over {_EVAL_EPISODES} "
                f"episodes (it needs {_PASS_RETURN:.0f}, and started below {_UNTRAINED_BELOW:.0f})"
            ),
        )
    else:
        steps, reached = (
            _AGENT_STEPS,
            (
                f"made {best:.0f} at best, the mean return of the best greedy evaluation (it needs "
                f"{_PASS_RETURN:.0f})"
            ),
        )
    run = f"{steps:,} steps of CartPole-v1 (the agent learning with {name})"
    forgiving = "CartPole forgives some mistakes for a while."
    return agent_verdict(
        run,
        reached,
        solved is not None,
        problem,
        [(name, unit)],
        forgiving=forgiving,
        learns="your own learning step learns",
        note=note,
    )
