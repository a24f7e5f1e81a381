"""Checks for the exercises of chapter 3 (DQN)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rlbook.exercises import _core, _pg
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of
from rlbook.exercises._pg import Replay, near, optimizer, read_steps

# fmt: off
__all__ = ["check_td_target", "check_soft_update", "check_dqn_learning_step", "check_dqn_agent"]


def _td_cases(rng):
    n_actions = int(rng.integers(3, 6))  # more than CartPole's 2: a max over 2 columns shows
    for r, t, gamma in _core.td_batches(rng):
        q = np.round(rng.normal(2.0, 2.0, size=(len(r), n_actions)), 2).astype(np.float32)
        for i in np.flatnonzero(t == 0)[:1]:  # one bootstrapped row's best action is the last
            q[i] = np.roll(q[i], n_actions - 1 - int(np.argmax(q[i])))
        yield Case((r, q, t, gamma), ("reward", "next_q_target", "terminated", "gamma"),
                   f"(rewards {fmt(r)}, next Q-values {fmt(q)}, terminated {fmt(t, 0)}, gamma "
                   f"{gamma})", what=f"one target per transition, shape ({len(r)},)",
                   r=r.astype(float), q=q.astype(float), t=t.astype(float), gamma=gamma,
                   boot=q.max(axis=1).astype(float))


_TD_MISTAKES = _core.TD_MISTAKES + [
    ("you averaged the next Q-values; Q-learning bootstraps from the best next action: "
     "max over a'.", lambda c: _core.td(c, boot=c.q.mean(axis=1))),
    ("you used the index of the best next action (argmax); the target needs its value, "
     "max over a'.", lambda c: _core.td(c, boot=c.q.argmax(axis=1))),
    ("you took the min over the next actions; use the max.",
     lambda c: _core.td(c, boot=c.q.min(axis=1))),
    ("you took one max over the whole batch; take it per transition, "
     "over the action axis (axis=-1).", lambda c: _core.td(c, boot=c.q.max())),
    ("you summed the next Q-values; take the max over a'.",
     lambda c: _core.td(c, boot=c.q.sum(axis=1))),
    ("you compared only the first two actions (CartPole has 2, these transitions have more); "
     "take the max over all of them: next_q_target.max(axis=-1).",
     lambda c: _core.td(c, boot=c.q[:, :2].max(axis=1))),
    ("you took the first action's value, next_q_target[:, 0]; take the best one: max over a' "
     "(axis=-1).", lambda c: _core.td(c, boot=c.q[:, 0])),
    _core.shape_mistake(lambda c: "for a batch of one you returned a single number (shape ()): "
                                  "keep one target per transition, shape (1,) (np.squeeze, "
                                  "float() and .item() drop the batch axis).",
                        lambda c, shape: shape == () and len(c.r) == 1),
    _core.shape_mistake(lambda c: f"the max kept its axis (keepdims=True or [:, None]): its shape "
                                  f"({len(c.r)}, 1) and the rewards' ({len(c.r)},) broadcast to "
                                  f"({len(c.r)}, {len(c.r)}). Take the max over the action axis "
                                  "without keepdims.",
                        lambda c, shape: len(c.r) > 1 and shape == (len(c.r), len(c.r))),
    _core.shape_mistake(lambda c: f"you returned one value per action, shape {c.q.shape}: "
                                  "take the max over the action axis (axis=-1), one target per "
                                  "transition.",
                        lambda c, shape: shape == c.q.shape),
    _core.shape_mistake(lambda c: f"one target per transition has shape ({len(c.r)},). "
                                  "Take the max over the action axis without keepdims.",
                        lambda c, shape: shape in ((len(c.r), 1), (1, len(c.r)))),
    _core.shape_mistake(lambda c: f"the targets should have shape ({len(c.r)},), one per "
                                  "transition: take the max per transition, over the action axis "
                                  "(axis=-1), not over the batch.",
                        lambda c, shape: (shape == (c.q.shape[1],) != (len(c.r),))
                        or (np.prod(shape) == 1 and len(c.r) > 1)),
    (lambda c: f"the targets should have shape ({len(c.r)},), one per transition: take the max "
               "per transition, over the action axis (axis=-1), not over the batch.",
     lambda c: _core.td(c, boot=c.q.max(axis=0)) if c.q.shape[0] == c.q.shape[1] else None),
]


@check
def check_td_target(td_target) -> Verdict:
    """Check ``td_target(reward, next_q_target, terminated, gamma) -> (B,)`` (NumPy or TF) on a
    mixed batch, a batch of one, an all-terminal batch, and gamma in {0.5, 0.9, 0.99}."""
    return grade(td_target, _td_cases(fresh_rng()), _core.td, _TD_MISTAKES,
                 signature="(reward, next_q_target, terminated, gamma)", hint=_core.flags_hint,
                 rule="y = r + gamma * (1 - terminated) * max_a' Q_target(s', a'), one per "
                      "transition",
                 done=f"{name_of(td_target)}: y = r + gamma * (1 - terminated) * max_a' "
                      "Q_target(s', a'), one value per transition, for every batch the check "
                      "tried.")


def _soft_cases(rng):
    small = float(np.round(rng.uniform(0.01, 0.2), 3))
    for tau in (small, 1.0, 0.0, float(np.round(rng.uniform(0.3, 0.7), 3))):
        shapes = [(rng.integers(2, 5), rng.integers(2, 4)), (rng.integers(2, 4),), (3, 1)]
        target = [rng.normal(size=s) for s in shapes[: int(rng.integers(2, 4))]]
        online = [rng.normal(size=w.shape) for w in target]
        given = [w.copy() for w in target]  # may be updated in place (and returned): accepted
        yield Case((given, online, tau), (None, "online_weights", "tau"), target=target,
                   online=online, tau=tau)


def _soft(c, tau=None):
    tau = c.tau if tau is None else tau
    return [tau * o + (1 - tau) * t for t, o in zip(c.target, c.online)]


def _read_weights(out, c, name):
    if out is None:
        in_place = all(_core.close(a, w) for a, w in zip(c.given[0], _soft(c)))
        fail(f"{name} returned None{' (it updated the list in place)' if in_place else ''}: "
             "return the list of new target weights.")
    if not isinstance(out, (list, tuple)):
        fail(f"{name} returned a {type(out).__name__}; return a list with one array per weight, "
             "like model.get_weights().")
    if len(out) != len(c.target):
        fail(f"{name} returned {len(out)} arrays for {len(c.target)} weights; "
             "return one new array per weight (loop over zip(target_weights, online_weights)).")
    return [_core.to_array(o, name, "one array per weight", shape=t.shape)
            for o, t in zip(out, c.target)]


def _all_close(got, want) -> bool:
    return all(_core.close(g, w) for g, w in zip(got, want))


_TAUS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
_SOFT_MISTAKES = [
    (lambda c: f"tau and 1 - tau are swapped (tau = {c.tau}): "
               "the target should move only a fraction tau towards the online weights, "
               "tau * online + (1 - tau) * target.",
     lambda c: _soft(c, 1 - c.tau)),
    (lambda c: f"with tau = {c.tau} that is a hard copy of the online weights; "
               "a soft update moves the target a fraction tau of the way: "
               "tau * online + (1 - tau) * target.",
     lambda c: c.online),
    (lambda c: f"with tau = {c.tau} the target weights did not change; "
               "move them a fraction tau towards the online weights.", lambda c: c.target),
    (lambda c: f"you returned only the step, tau * (online - target) (tau = {c.tau}); add it to "
               "the target: target + tau * (online - target), which is tau * online + (1 - tau) "
               "* target.", lambda c: [c.tau * (o - t) for t, o in zip(c.target, c.online)]),
    (lambda c: f"the (1 - tau) * target term is missing (tau = {c.tau}): the new target is "
               "tau * online + (1 - tau) * target.", lambda c: [c.tau * o for o in c.online]),
    _core.Mistake(lambda c: f"you used a tau of your own, not the `tau` argument ({c.tau}): "
                            "use the parameter.",
                  test=lambda c, got: any(_all_close(got, _soft(c, k)) for k in _TAUS)),
]


def _lists_hint(err, line: str) -> str | None:
    if isinstance(err, TypeError) and "sequence" in str(err):
        return ("target_weights and online_weights are Python lists of arrays, and lists do not "
                "multiply: loop over zip(target_weights, online_weights), one array at a time.")
    return None


@check
def check_soft_update(soft_update) -> Verdict:
    """Check ``soft_update(target_weights, online_weights, tau) -> new target weights`` (lists of
    arrays, as ``model.get_weights()`` returns them) for a small tau, tau = 1 (the hard copy),
    tau = 0 and another tau. Updating the target list in place *and* returning it is accepted."""
    return grade(
        soft_update, _soft_cases(fresh_rng()), _soft, _SOFT_MISTAKES, read=_read_weights,
        same=_all_close, signature="soft_update(target_weights, online_weights, tau)",
        hint=_lists_hint,
        explain=lambda got, want, c: (f"with tau = {c.tau} the new target weights should be tau * "
                                      "online + (1 - tau) * target, element by element."),
        done=(f"{name_of(soft_update)}: target <- tau * online + (1 - tau) * target, "
              "for every tau; with tau = 1 it is the hard copy, with tau = 0 no change."))


# -- the whole learning step, and the student's DQN learns ----------------------------------------

_STEP_SIG = "dqn_learning_step(q_network, target_network, optimizer, batch, gamma)"


def _step_hint(err, line: str) -> str | None:
    text = str(err)
    if "No gradients provided" in text or ("NoneType" in text and "grad" in line):
        return ("The tape recorded no path from q_network's weights to the loss: "
                "call `q_network(obs)` and compute the loss inside `with tf.GradientTape() as "
                "tape:`, then `tape.gradient(loss, q_network.trainable_variables)`.")
    if "one_hot" in line:
        return ("tf.one_hot(action, depth) needs the number of actions as its depth, "
                "q_values.shape[-1] (not a number written in: the check's networks have 2 to 4 "
                "actions).")
    if "Incompatible shapes" in text or "broadcast" in text:
        return ("The target y and Q(s, a) must both have shape (B,), one number per transition. "
                "tf.gather(q_values, action) picks whole rows; "
                "one Q(s, a) per transition is tf.gather(q_values, action, axis=1, batch_dims=1).")
    if ("truth value" in text and "ambiguous" in text) or "as a Python `bool`" in text:
        return ("`terminated` is a tensor, one flag per transition: "
                "`if` and `not` do not work on it. Multiply instead: (1 - terminated).")
    if "ymbolic" in text and "ensor" in text:
        return ("Inside tf.function a tensor has no value yet, so .numpy(), "
                "float() and NumPy functions cannot read it: "
                "use TensorFlow operations (tf.reduce_max, tf.gather, tf.one_hot, tf.reduce_mean).")
    if "expected to be a" in text and "tensor" in text:
        return "Two tensors of different dtypes met: convert one with tf.cast(x, tf.float32)."
    if "Unknown variable" in text:
        return "The optimizer you are given steps q_network's weights only."
    return _core.tensor_hint(err, line)


def _loss_tensor(value, name: str):
    import tensorflow as tf
    what = "return the loss of the minibatch, one number (the mean over the minibatch)"
    if value is None:
        fail(f"{name} returned None: did you forget the `return loss` line? {what.capitalize()}.")
    try:
        loss = tf.convert_to_tensor(value)
    except Exception:  # noqa: BLE001 - a tuple of tensors, a dict, ...
        fail(f"{name} returned a {type(value).__name__}; {what}.")
    if not (loss.dtype.is_floating or loss.dtype.is_integer):
        fail(f"{name} returned values of type {loss.dtype.name}; {what}.")
    if loss.shape.num_elements() != 1:
        fail(f"{name} returned a tensor of shape {tuple(loss.shape)}, not one number; "
             f"{what} (tf.reduce_mean).")
    return tf.reshape(tf.cast(loss, tf.float32), [])


def _reference_step(c, net="target", stop=True, mask=None, best=None, discount=None, pick=None,
                    reduce=None, gamma=None, state="next_obs", loss=None):
    """``{loss kind: (loss, flat gradient)}`` of one DQN step at the starting weights for the
    accepted losses, right or with one named mistake (``net="online"``, ``pick="max"``, ...)."""
    import tensorflow as tf
    obs, action, reward, next_obs, terminated = c.batch
    online = c.replay.model
    with tf.GradientTape(persistent=True) as tape:
        next_q = (c.target if net == "target" else online)(obs if state == "obs" else next_obs)
        b = {"batch": lambda: tf.reduce_max(next_q), "min": lambda: tf.reduce_min(next_q, -1),
             "mean": lambda: tf.reduce_mean(next_q, -1),
             "taken": lambda: tf.gather(next_q, action, axis=1, batch_dims=1),
             "argmax": lambda: tf.cast(tf.argmax(next_q, axis=-1), tf.float32),
             }.get(best, lambda: tf.reduce_max(next_q, axis=-1))()
        not_end = {"none": 1.0, "flipped": terminated}.get(mask, 1.0 - terminated)
        gamma = 1.0 if discount == "none" else c.gamma if gamma is None else gamma
        y = gamma * (reward + not_end * b) if discount == "reward" else reward + gamma * not_end * b
        y, q = tf.stop_gradient(y) if stop else y, online(obs)
        q_taken = tf.reduce_sum(q * tf.one_hot(action, q.shape[-1]), axis=-1)
        if pick == "max":
            q_taken = tf.reduce_max(q, axis=-1)
        elif pick == "all":  # y[:, None] against every action's Q-value
            q_taken, y = q, y[:, None]
        elif pick in ("no_batch_dims", "column"):  # (B, B): every target against every Q-value
            q_taken = tf.gather(q, action, axis=1) if pick == "no_batch_dims" else q_taken[:, None]
        d, mean = y - q_taken, tf.reduce_sum if reduce == "sum" else tf.reduce_mean
        losses = {"huber": mean(tf.where(tf.abs(d) <= 1.0, 0.5 * d**2, tf.abs(d) - 0.5)),
                  "mse": mean(d**2)} if loss is None else {"mae": mean(tf.abs(d))}
    out = {}
    for kind, value in losses.items():
        grads = tape.gradient(value, online.trainable_variables)
        out[kind] = float(value), np.concatenate([np.ravel(g.numpy()) for g in grads]).astype(float)
    if "mse" in out:
        out["half_mse"] = (out["mse"][0] / 2, out["mse"][1] / 2)
    return out


def _follows(moved, c, **mistake) -> bool:
    """The step and the loss returned (if one number) are the mistake's: a Huber step can be the
    same for several targets (every |y - Q| above 1), so the loss tells them apart."""
    return any(near(moved, c.replay.after(g)) and (c.loss is None or _core.close(
        c.loss, loss, rtol=1e-3, atol=1e-4)) for loss, g in _reference_step(c, **mistake).values())


def _step_cases(rng, name: str):
    """Small networks with SGD first (a wrong step shows which mistake it is), then the agent's
    sizes with a warm Adam, and RMSprop."""
    import tensorflow as tf

    from rlbook.nets import q_network
    d, a = int(rng.integers(3, 6)), int(rng.integers(3, 5))  # not CartPole's 2 actions only
    h = (int(rng.integers(6, 12)),)
    small = [q_network((d,), a, hidden=h, name=n) for n in ("q", "t")]
    big = [q_network((4,), 2, hidden=(128, 128), name=n) for n in ("q_big", "t_big")]
    for size, terminal, gamma, (online, target), kind in [
        (int(rng.integers(5, 10)), "mixed", float(rng.choice([0.9, 0.99])), small, "SGD"),
        (1, "none", 0.9, small, "SGD"),
        (int(rng.integers(3, 7)), "all", 0.99, small, "SGD"),
        (int(rng.integers(5, 10)), "none", 0.5, small, "SGD"),
        (64, "mixed", 0.99, big, "Adam"),
        (32, "mixed", 0.9, small, "RMSprop"),
    ]:
        opt = optimizer(kind, 0.01 if kind == "SGD" else 2e-3, online, rng)
        for net in (online, target):
            net.set_weights([rng.normal(0.0, 0.1 if net in big else 0.6, w.shape)
                             for w in net.get_weights()])
        n_actions, obs_dim = online.output_shape[-1], online.input_shape[-1]
        action = rng.integers(0, n_actions, size=size)
        action[: min(size, 2)] = rng.permutation(n_actions)[: min(size, 2)]  # two different actions
        arrays = (rng.normal(size=(size, obs_dim)), action, np.round(rng.uniform(-2, 3, size), 2),
                  rng.normal(size=(size, obs_dim)), _core.terminal_flags(rng, size, terminal))
        if size == 1:  # its TD error under 1, where a Huber loss still tells one gamma from another
            q_sa = online(arrays[0].astype(np.float32)).numpy()[0, action[0]]
            y = gamma * target(arrays[3].astype(np.float32)).numpy().max()
            arrays[2][0] = np.round(q_sa - y + rng.choice([-1, 1]) * rng.uniform(0.2, 0.5), 2)
        dtypes = (np.float32, np.int64, np.float32, np.float32, np.float32)
        batch = tuple(tf.constant(x.astype(t)) for x, t in zip(arrays, dtypes))
        yield Case((online, target, opt, batch, gamma), (None, None, None, None, "gamma"),
                   f"(a minibatch of {size}, {kind} optimizer, terminated {fmt(arrays[4], 0)}, "
                   f"gamma {gamma})",
                   target=target, batch=batch, gamma=gamma, target0=target.get_weights(), name=name,
                   replay=Replay(online, opt), opt_kind=kind)


def _read_step(got, c, name):
    """The change of the online weights, once the target, the steps and the loss are right."""
    if any(not np.array_equal(a, b) for a, b in zip(c.target.get_weights(), c.target0)):
        fail(f"{name} changed target_network's weights. "
             "The step only reads the target network (to compute y); "
             "the agent moves it towards q_network every C steps.")
    fix = ("Take one step of the optimizer you are given: "
           "grads = tape.gradient(loss, q_network.trainable_variables), "
           "then optimizer.apply_gradients(zip(grads, q_network.trainable_variables)).")
    steps = c.replay.steps_taken()
    moved = read_steps(c.replay, "q_network", name, c.text, fix)
    if steps > 1:
        fail(f"{name} took {steps} optimizer steps on one minibatch; take one.")
    right = _reference_step(c)
    kind = next((k for k, (_, g) in right.items() if near(moved, c.replay.after(g))), None)
    c.right, c.loss, c.loss_off = kind is not None, None, None
    try:
        c.loss = _core.to_scalar(got, name, "the loss of the minibatch, one number")
    except _core.StudentError:
        if c.right:
            raise
    if c.right and not _core.close(c.loss, right[kind][0], rtol=1e-3, atol=1e-4):
        # (a mistake in y can take the same Huber step: the other cases, and the loss, tell)
        c.right, c.loss_off = False, right[kind][0]
    return moved


def _explain_step(got, want, c) -> str:
    if c.loss_off is not None:
        return (f"{c.name} took the right step but returned {fmt(c.loss)}; the loss of this "
                f"minibatch (before the step) is {fmt(c.loss_off)}. "
                "Return the loss you computed in the tape.")
    return (f"{c.name} moved q_network's weights, "
            "but not as one step of the optimizer you are given on the mean loss between Q(s, a) "
            "(the action taken) and y = r + gamma * (1 - terminated) * max_a' Q_target(s', a') "
            "would. Compare your step with lines 2.3.2 to 2.3.4 of the algorithm box.")


def _mistake(hint, **mistake) -> _core.Mistake:
    """A mistake recognised on the cases with SGD (quick, and what each step is is clearest)."""
    return _core.Mistake(hint, test=lambda c, moved: c.opt_kind == "SGD"
                         and _follows(moved, c, **mistake))


_STEP_MISTAKES = [
    _core.Mistake(lambda c: f"{c.name}'s step went uphill: it increased the loss. "
                            "optimizer.apply_gradients minimises: "
                            "give it the gradients of the loss itself (not of its negative).",
                  test=lambda c, moved: c.opt_kind == "SGD" and any(
                      near(-moved, c.replay.after(g)) for _, g in _reference_step(c).values())),
    _mistake("the target uses `q_network`: compute max_a' Q(s', a') with `target_network`, "
             "the slowly moving copy that holds the target still.", net="online"),
    _mistake("the target is computed with `q_network` inside the tape, "
             "so the gradient also flows through the target: compute it with `target_network`, "
             "held fixed (outside the tape, or wrapped in tf.stop_gradient).",
             net="online", stop=False),
    _mistake(_core.NO_MASK, mask="none"), _mistake(_core.FLIPPED, mask="flipped"),
    _mistake("you took one max over the whole minibatch of next Q-values; take it per transition, "
             "over the action axis (axis=-1).", best="batch"),
    _mistake(_core.REWARD_DISCOUNTED, discount="reward"),
    _mistake(_core.NOT_DISCOUNTED, discount="none"),
    _mistake("Q(s, a) must be the Q-value of the action taken, not max_a Q(s, a): "
             "pick it with tf.gather(q_values, action, axis=1, batch_dims=1) (or a one-hot "
             "mask).", pick="max"),
    _mistake("you compared y with the Q-values of every action; the loss uses only Q(s, a), "
             "the value of the action taken: tf.gather(q_values, action, axis=1, batch_dims=1).",
             pick="all"),
    _mistake("tf.gather(q_values, action, axis=1) without batch_dims=1 gives, "
             "for every transition, the Q-values of all the minibatch's actions (shape (B, B)); "
             "with batch_dims=1 it picks one Q(s_i, a_i) per transition.", pick="no_batch_dims"),
    _mistake("Q(s, a) has shape (B, 1) and the target shape (B,): "
             "their difference broadcasts to (B, B), every target against every Q-value. "
             "Make both shape (B,).", pick="column"),
    _mistake("you used the index of the best next action (tf.argmax); the target needs its "
             "value, max over a' (tf.reduce_max).", best="argmax"),
    _mistake("you took the min over the next actions; use the max.", best="min"),
    _mistake("you averaged the next Q-values; Q-learning bootstraps from the best next action: "
             "max over a'.", best="mean"),
    _mistake("you bootstrapped from Q_target(s', a) of the action just taken; Q-learning uses the "
             "best next action: max over a' of target_network(next_obs).", best="taken"),
    _mistake("the target uses target_network(obs), the state the transition started from; "
             "bootstrap from the next state: max over a' of target_network(next_obs).",
             state="obs"),
    _core.Mistake(lambda c: f"you used a gamma of your own, not the `gamma` argument ({c.gamma}): "
                            "use the parameter.",
                  test=lambda c, moved: c.opt_kind == "SGD" and any(
                      _follows(moved, c, gamma=g) for g in (0.9, 0.95, 0.99) if g != c.gamma)),
    _mistake("the loss is the mean absolute error |y - Q(s, a)|; use the Huber loss "
             "(tf.keras.losses.Huber()) or the mean squared error.", loss="mae"),
    _mistake("the loss is summed over the minibatch, not averaged: "
             "take tf.reduce_mean (a sum makes the step size grow with the batch "
             "size).", reduce="sum"),
]


@check
def check_dqn_learning_step(dqn_learning_step) -> Verdict:
    """Check ``dqn_learning_step(q_network, target_network, optimizer, batch, gamma) -> loss``
    (``batch``: TensorFlow tensors ``(obs, action, reward, next_obs, terminated)``): the new
    weights are compared with one step of the same optimizer (SGD, Adam or RMSprop) from the
    same state down the mean loss (Huber, squared error or half of it) between Q(s, a) and y."""
    name = name_of(dqn_learning_step)
    return grade(
        dqn_learning_step, _step_cases(fresh_rng(), name), lambda c: c, _STEP_MISTAKES,
        read=_read_step, same=lambda moved, c: c.right, signature=_STEP_SIG, hint=_step_hint,
        explain=_explain_step,
        done=(f"{name}: the target from target_network held fixed, Q(s, a) of the actions taken, "
              "the mean loss and one optimizer step on q_network, "
              "for every minibatch the check tried."))


# The run the agent check trains: rlbook's DQN defaults, with learning starting sooner, a
# training call every 32 environment steps and epsilon decaying over 3,000 steps.
_AGENT_CONFIG = dict(learning_starts=500, train_every=32, epsilon_decay_steps=3_000)
_AGENT_STEPS, _EVAL_EVERY, _EVAL_EPISODES, _PASS_RETURN = 8_000, 500, 10, 100.0
# An untrained network's greedy policy sometimes balances the pole by chance; the check starts
# from one that does not (its greedy mean return below this), so a pass shows learning.
_UNTRAINED_BELOW = 30.0


def _student_agent(step, name: str, env, seed: int, fallback):
    """rlbook's ``DQNAgent`` whose learning step calls the student's ``step`` (the target update
    stays the library's), in one ``tf.function`` until it fails, then eagerly."""
    import tensorflow as tf

    from rlbook.agents.dqn import DQNAgent
    from rlbook.speed import repeat
    student_step = tf.autograph.experimental.do_not_convert(step)  # their code runs as written

    class StudentDQNAgent(DQNAgent):
        student_error = None  # the last StudentError (tf.function re-raises it as another type)

        def learn(self, obs, action, reward, next_obs, terminated, weights=None):
            c, batch = self.config, (obs, action, reward, next_obs, terminated)
            args = (self.q_network, self.target_network, self.optimizer, batch, c.gamma)
            try:
                loss = _loss_tensor(_core.call_student(student_step, *args, name=name,
                                                       signature=_STEP_SIG, hint=_step_hint), name)
            except _core.StudentError as err:
                self.student_error = err
                raise
            self.gradient_steps_done.assign_add(1)
            # Every C gradient steps the target network moves towards the online one.
            due = tf.equal(self.gradient_steps_done % c.target_update_every, 0)
            for var, target in zip(self.q_network.variables, self.target_network.variables):
                target.assign(tf.where(due, c.tau * var + (1.0 - c.tau) * target, target))
            return {"loss": loss}

    agent = StudentDQNAgent(env.single_observation_space, env.single_action_space,
                            num_envs=env.num_envs, seed=seed, **_AGENT_CONFIG)
    k = agent.config.gradient_steps

    def eager(*batches):
        losses = [agent.learn(*[tf.constant(b[i]) for b in batches])["loss"] for i in range(k)]
        return {"loss": float(np.mean([float(x) for x in losses]))}

    def failed(err):  # whatever stops tracing: say where
        error = agent.student_error
        fallback(error.verdict.message if error is not None
                 else f"{name} failed inside tf.function ({_core._short(err)})")

    compiled = repeat(tf.autograph.experimental.do_not_convert(agent.learn), k)
    agent._learn_many = _pg.StudentStep(compiled, eager, failed)
    return agent


def _train_student_agent(step, name: str, seed: int, fallback):
    """Train; returns ``(first evaluation that passed or None, best evaluation mean)``."""
    from rlbook.envs import make_vec_env
    from rlbook.train import evaluate, train
    env = make_vec_env("CartPole-v1", 4, seed=seed)
    eval_env = make_vec_env("CartPole-v1", _EVAL_EPISODES, seed=seed + 50_000)
    try:
        for attempt in range(20):  # a network that does not balance the pole before training
            agent = _student_agent(step, name, env, seed + attempt, fallback)
            if evaluate(agent, eval_env, episodes=_EVAL_EPISODES).mean() < _UNTRAINED_BELOW:
                break
        every = dict(eval_every=_EVAL_EVERY, eval_episodes=_EVAL_EPISODES, stop_at=_PASS_RETURN)
        history = train(agent, env, steps=_AGENT_STEPS, eval_env=eval_env, progress=False, **every)
    finally:
        env.close()
        eval_env.close()
    best = max((e["mean"] for e in history.evaluations), default=0.0)
    return history.solved_at(_PASS_RETURN), best


def _run(step, name, seed, state):
    """One run: ``(passed, problem, solved, best)``; a step tf.function cannot compile is checked
    (``state.unit``), then runs eagerly (``state.note``)."""
    from rlbook.train import TrainingDiverged

    def fallback(where):
        state.unit = state.unit or check_dqn_learning_step(step)
        state.note = (f" tf.function could not compile {name}, "
                      "so the agent ran it eagerly (slower, the same result). Where it stopped: "
                      f"{where}")
        if not state.unit.ok:  # (a crash says where already, and a stub needs no note)
            said = state.unit.message
            fail(said + ("" if " raised " in said or "NotImplementedError" in said else state.note))

    try:
        solved, best = _train_student_agent(step, name, seed, fallback)
        return solved is not None, None, solved, best
    except _core.StudentError as err:
        if state.unit is not None and not state.unit.ok:
            raise  # the step could not even be compiled, and its own check says why
        return False, err.verdict.message, None, 0.0
    except TrainingDiverged as err:
        problem = f"the loss that {name} returned became {err.value} at step {err.step:,}: "
        return False, problem + "the training diverged.", None, 0.0


@check
def check_dqn_agent(dqn_learning_step) -> Verdict:
    """Train rlbook's DQN agent (learning from step 500, a training call of 16 gradient steps
    every 32 environment steps, epsilon over 3,000 steps) with the student's step on 4 copies of
    CartPole-v1, on fixed seeds, for at most 8,000 steps, from a network whose greedy policy does
    not already balance the pole; every 500 steps the greedy policy plays 10 episodes. It passes
    when their mean return reaches 100 *and* the step passes its own check. A step that
    tf.function cannot compile but passes its own check trains eagerly instead."""
    name, state = name_of(dqn_learning_step), SimpleNamespace(unit=None, note="")
    passed, problem, solved, best, units = _core.train_on_seeds(
        lambda seed: _run(dqn_learning_step, name, seed, state),
        lambda: [(name, state.unit or check_dqn_learning_step(dqn_learning_step))],
        retry_stopped=False)
    steps = solved["step"] if solved else _AGENT_STEPS
    if solved:
        reached = (f"reached a greedy mean return of {solved['mean']:.0f} over {_EVAL_EPISODES} "
                   f"episodes (it needs {_PASS_RETURN:.0f}, and started below "
                   f"{_UNTRAINED_BELOW:.0f})")
    else:
        reached = f"made {best:.0f} at best, the mean return of the best greedy evaluation "
        reached += f"(it needs {_PASS_RETURN:.0f})"
    return _core.agent_verdict(f"{steps:,} steps of CartPole-v1 (the agent learning with {name})",
                               reached, passed, problem, units,
                               forgiving="CartPole forgives some mistakes for a while.",
                               learns="your own learning step learns", note=state.note,
                               differs=_core.traced(name, ", 16 steps per call"))
