"""Checks for the exercises of chapter 7 (actor-critic)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises._core import (
    Case,
    Mistake,
    Verdict,
    call_student,
    check,
    close,
    fail,
    flags_hint,
    fmt,
    fresh_rng,
    grade,
    name_of,
    tensor_hint,
    to_array,
    wrong,
)
from rlbook.exercises._pg import (
    RETURN_MISTAKES,
    StudentStep,
    assert_tensors_unchanged,
    backprop,
    cartpole_verdict,
    discounted,
    flat,
    grads_or_none,
    log_softmax,
    loss_inputs,
    moves,
    near,
    no_gradient_hint,
    pg_output_grad,
    policy_step_mistake,
    set_flat,
    sgd,
    taped,
    tiny_networks,
    train_on_cartpole,
)

__all__ = [
    "check_td_targets",
    "check_actor_critic_losses",
    "check_n_step_targets",
    "check_actor_critic_step",
    "check_actor_critic_agent",
]


def _td_cases(rng):
    for kind, gamma in (
        ("mixed", float(rng.choice([0.9, 0.99]))),
        ("one", 0.9),
        ("all", 0.99),
        ("both", 0.5),
    ):
        batch = 1 if kind == "one" else int(rng.integers(5, 9))  # mixed: some have neither flag
        rewards = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
        next_values = np.round(rng.uniform(1.0, 10.0, size=batch), 2).astype(np.float32)
        flags = rng.permutation(batch)
        term, trunc = np.zeros(batch, np.float32), np.zeros(batch, np.float32)
        if kind == "mixed":
            term[flags[:2]], trunc[flags[2:4]] = 1.0, 1.0
        elif kind == "all":
            term[:] = 1.0
        elif kind == "both":
            term[flags[:2]], trunc[flags[1:3]] = 1.0, 1.0  # flags[1] is both
        r, v, t, tr = (x.astype(np.float64) for x in (rewards, next_values, term, trunc))
        yield Case(
            (rewards, next_values, term, trunc, gamma),
            ("rewards", "next_values", "terminated", "truncated", "gamma"),
            f"(rewards {fmt(r)}, next_values {fmt(v)}, terminated {fmt(t, 0)}, truncated "
            f"{fmt(tr, 0)}, gamma {gamma})",
            what=f"one target per transition, shape ({batch},)",
            r=r,
            v=v,
            t=t,
            tr=tr,
            gamma=gamma,
        )


def _td(c, mask=None, gamma=None):
    return c.r + (c.gamma if gamma is None else gamma) * (1 - c.t if mask is None else mask) * c.v


_TD_MISTAKES = [
    Mistake(
        "a truncated transition was cut by the time limit, not terminated: the pole was still "
        "up, so its future is worth V(s'). Stop bootstrapping only on terminated (done = "
        "terminated or truncated is the mistake).",
        lambda c: _td(c, mask=1 - np.maximum(c.t, c.tr)),
    ),
    Mistake(
        "a transition can be both terminated and truncated, and terminated alone decides: stop "
        "bootstrapping only on terminated, (1 - terminated). Do not subtract truncated.",
        lambda c: _td(c, mask=1 - c.t - c.tr),
    ),
    Mistake(
        "you stopped bootstrapping on truncated instead of terminated: only a real end "
        "(terminated) makes the future worth 0.",
        lambda c: _td(c, mask=1 - c.tr),
    ),
    Mistake(
        "the terminated transitions still bootstrap: nothing follows a real end, so their target "
        "is just r. Multiply V(s') by (1 - terminated).",
        lambda c: _td(c, mask=1.0),
    ),
    Mistake(
        "the flag is the wrong way round: bootstrap when the episode goes on, (1 - terminated).",
        lambda c: _td(c, mask=c.t),
    ),
    Mistake(
        "the reward is not discounted (it arrives now); only V(s') is multiplied by gamma.",
        lambda c: c.gamma * _td(c, gamma=1.0),
    ),
    Mistake(
        "the next state's value must be discounted: multiply V(s') by gamma.",
        lambda c: _td(c, gamma=1.0),
    ),
]


def _targets_read(got, c, name):
    got = to_array(got, name, c.what)
    return got[:, 0] if got.shape == (len(c.r), 1) else got


@check
def check_td_targets(td_targets) -> Verdict:
    """Check ``td_targets(rewards, next_values, terminated, truncated, gamma) -> (B,)``.

    Cases (random on every call): a batch with terminated and truncated transitions, a batch of
    one, an all-terminal batch, a transition both terminated and truncated (Gymnasium allows it:
    terminated wins), and gamma in {0.5, 0.9, 0.99}.
    """
    return grade(
        td_targets,
        _td_cases(fresh_rng()),
        _td,
        _TD_MISTAKES,
        read=_targets_read,
        signature="(rewards, next_values, terminated, truncated, gamma)",
        hint=flags_hint,
        done=(
            f"{name_of(td_targets)}: y = r + gamma * (1 - terminated) * V(s'); a truncated "
            "transition still bootstraps."
        ),
    )


def _mixed_signs(rng, n):
    """n random signs, both present when n > 1: the TD errors then have both signs, so that
    mean(|delta|) and mean(delta), and squares and absolute values, give different numbers."""
    signs = rng.choice([-1.0, 1.0], size=n)
    if n > 1:
        signs[rng.permutation(n)[:2]] = [-1.0, 1.0]
    return signs


def _losses_cases(rng):
    for n, n_actions in (
        (int(rng.integers(5, 9)), 2),
        (1, 2),
        (int(rng.integers(3, 7)), int(rng.integers(3, 5))),
    ):
        values = np.round(rng.uniform(0.0, 5.0, size=n), 2).astype(np.float32)
        noise = _mixed_signs(rng, n) * rng.uniform(0.5, 3.0, size=n)
        targets = np.round(values + noise, 2).astype(np.float32)
        arrays, tensors, actions, action_tensor = loss_inputs(
            rng, n, n_actions, values=values, targets=targets
        )
        lp = log_softmax(arrays["logits"].astype(np.float64))
        yield Case(
            (tensors["logits"], action_tensor, tensors["values"], tensors["targets"]),
            (None, None, None, None),
            f"(logits {fmt(arrays['logits'])}, actions {actions.tolist()}, values {fmt(values)}, "
            f"targets {fmt(targets)})",
            arrays=arrays,
            tensors=tensors,
            lp=lp,
            log_pi=lp[np.arange(n), actions],
            actions=actions,
            delta=targets.astype(np.float64) - values,
            y=targets.astype(np.float64),
        )


def _ac_losses(c):
    return -np.mean(c.delta * c.log_pi), np.mean(c.delta**2)


def _critic_ok(got, want) -> bool:
    return any(np.isclose(got[1], k * want[1], rtol=1e-4, atol=1e-6) for k in (1.0, 0.5))


def _both_ok(got, want) -> bool:
    return _critic_ok(got, want) and bool(np.isclose(got[0], want[0], rtol=1e-4, atol=1e-6))


def _read_losses(out, c, name):
    out, tape = out
    assert_tensors_unchanged(name, c.arrays, c.tensors)
    if out is None:
        fail(f"{name} returned None: return the pair (actor_loss, critic_loss).")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"{name} should return two numbers, (actor_loss, critic_loss), in this order.")
    arrays = [to_array(x, name, "two numbers, (actor_loss, critic_loss)") for x in out]
    for arr, which in zip(arrays, ("actor", "critic")):
        if arr.size != 1:
            fail(
                f"the {which} loss should be one number (a mean over the batch), "
                f"got shape {arr.shape}."
            )
    got, want = tuple(float(a.reshape(())) for a in arrays), _ac_losses(c)
    if np.isclose(got[0], want[1], rtol=1e-4) and np.isclose(got[1], want[0], rtol=1e-4):
        fail("the two losses are swapped: return (actor_loss, critic_loss).")
    if _both_ok(got, want):
        _check_ac_gradients(tape, out, c, name, half=np.isclose(got[1], 0.5 * want[1]))
    return got


def _check_ac_gradients(tape, out, c, name, half):
    variables = [c.tensors[k] for k in ("logits", "values", "targets")]
    a_logits, a_values, a_targets = grads_or_none(tape, out[0], variables)
    c_logits, c_values, c_targets = grads_or_none(tape, out[1], variables)
    if a_logits is None or not moves(a_logits) or c_values is None or not moves(c_values):
        which = (
            "the logits (from the actor loss)"
            if (a_logits is None or not moves(a_logits))
            else "V(s) (from the critic loss)"
        )
        fail(
            f"the numbers are right, but no gradient reaches {which}, so nothing could learn "
            f"from it: compute both losses with TensorFlow operations on the tensors {name} "
            "receives (tf.nn.log_softmax, tf.gather, tf.reduce_mean, tf.square), not NumPy."
        )
    if moves(c_targets) or moves(a_targets):
        fail(
            "the numbers are right, but the losses send gradients into the TD target: the target "
            "must be held fixed (tf.stop_gradient(targets)), or V(s') is dragged towards V(s) as "
            "well."
        )
    if moves(a_values):
        fail(
            "the numbers are right, but the actor loss sends gradients into V(s): hold the TD "
            "error fixed in the actor loss (tf.stop_gradient(delta)); the critic learns from its "
            "own loss."
        )
    if moves(c_logits):
        fail(
            "the critic loss sends gradients into the policy's logits: it should depend on V(s) "
            "and the targets only."
        )
    n, n_actions = c.lp.shape
    if not close(c_values, -(1.0 if half else 2.0) * c.delta / n, rtol=1e-3, atol=1e-6):
        fail(
            "the critic loss has the right value but not the gradient of mean((y - V)^2) with "
            f"respect to V(s). {c.text}"
        )
    want_a = -(c.delta / n)[:, None] * (np.eye(n_actions)[c.actions] - np.exp(c.lp))
    if not close(a_logits, want_a, rtol=1e-3, atol=1e-6):
        fail(
            "the actor loss has the right value but its gradient with respect to the logits is "
            f"not -delta * grad log pi(a|s) / B. Is a tf.stop_gradient around log pi? {c.text}"
        )


def _critic(hint, value) -> Mistake:
    return Mistake(
        hint, test=lambda c, got: not _critic_ok(got, c.want) and np.isclose(got[1], value(c))
    )


def _actor(hint, value) -> Mistake:
    return Mistake(
        hint, test=lambda c, got: _critic_ok(got, c.want) and np.isclose(got[0], value(c))
    )


_AC_MISTAKES = [
    _critic(
        "the critic loss is missing its square: mean(V - y) can be made as small as you like by "
        "pushing V down forever. Regress V on the target: mean((y - V)^2).",
        lambda c: np.mean(-c.delta),
    ),
    _critic("the critic loss is missing its square: mean((y - V)^2).", lambda c: np.mean(c.delta)),
    _critic(
        "use the squared TD error for the critic, mean((y - V)^2), not its absolute value.",
        lambda c: np.mean(np.abs(c.delta)),
    ),
    _critic(
        "use the mean over the batch, not the sum: mean((y - V)^2).", lambda c: np.sum(c.delta**2)
    ),
    _critic(
        "square each TD error, then average: mean((y - V)^2), not mean(y - V)^2.",
        lambda c: np.mean(c.delta) ** 2,
    ),
    _actor(
        "weight log pi(a|s) by the TD error delta = y - V(s), not by the target y.",
        lambda c: -np.mean(c.y * c.log_pi),
    ),
    _actor(
        "the actor loss has the wrong sign: it is -mean(delta * log pi(a|s)).",
        lambda c: np.mean(c.delta * c.log_pi),
    ),
    _actor(
        "the TD error is upside down: delta = y - V(s).", lambda c: -np.mean(-c.delta * c.log_pi)
    ),
    _actor("use log pi(a|s), not pi(a|s).", lambda c: -np.mean(c.delta * np.exp(c.log_pi))),
    _actor("use the mean over the batch, not the sum.", lambda c: -np.sum(c.delta * c.log_pi)),
    _actor(
        "logits are not log-probabilities: apply tf.nn.log_softmax first.",
        lambda c: -np.mean(c.delta * c.arrays["logits"][np.arange(len(c.y)), c.actions]),
    ),
    _actor(
        "pick the log-probability of the action taken (tf.gather(log_probs, actions, "
        "batch_dims=1)), not all of them.",
        lambda c: -np.mean(c.delta[:, None] * c.lp),
    ),
]


def _explain_losses(got, want, c) -> str:
    if not _critic_ok(got, want):
        return f"the critic loss should be mean((y - V(s))^2) = {want[1]:.4f}, got {got[1]:.4f}."
    return f"the actor loss should be -mean(delta * log pi(a|s)) = {want[0]:.4f}, got {got[0]:.4f}."


@check
def check_actor_critic_losses(losses) -> Verdict:
    """Check ``losses(logits, actions, values, targets) -> (actor_loss, critic_loss)``.

    ``values`` and ``targets`` have shape ``(B,)``.

    The inputs are TensorFlow tensors, as the agent passes them. Cases (random on every call):
    a batch of several steps, a batch of one, a batch with three or four actions. Besides the
    values, the gradients: the critic loss sends gradient to V(s) (2 (V - y) / B, or half of it)
    and none to the targets; the actor loss sends the policy gradient to the logits and none to
    V(s) or the targets (the TD error is held fixed).
    """
    return grade(
        taped(losses),
        _losses_cases(fresh_rng()),
        _ac_losses,
        _AC_MISTAKES,
        read=_read_losses,
        same=_both_ok,
        signature="(logits, actions, values, targets)",
        hint=tensor_hint,
        explain=_explain_losses,
        done=(
            f"{name_of(losses)}: critic mean(delta^2) with the target held fixed; actor "
            "-mean(delta * log pi(a|s)) with delta held fixed. Gradients go where they should."
        ),
    )


# -- n-step targets, the actor-critic step, and the student's own agent ---------------------------

_TARGETS_SIGNATURE = "n_step_targets(rewards, dones, last_values, gamma)"
_STEP_SIGNATURE = (
    "actor_critic_step(policy, value_network, policy_optimizer, value_optimizer, obs, actions, "
    "targets, critic_steps)"
)


def _n_step_cases(rng):
    for where, n_steps, n_envs, kind, gamma in [
        ("a rollout with episode ends", int(rng.integers(4, 7)), 3, "mixed", 0.9),
        ("a one-step rollout (T = 1)", 1, int(rng.integers(2, 5)), "mixed", 0.5),
        ("a rollout in which every step ends an episode", 3, 2, "all", 0.99),
        ("one environment copy (E = 1)", int(rng.integers(3, 6)), 1, "none", 0.5),
    ]:
        rewards = np.round(rng.uniform(-1.0, 2.0, size=(n_steps, n_envs)), 2).astype(np.float32)
        last_values = np.round(rng.uniform(2.0, 10.0, size=n_envs), 2).astype(np.float32)
        dones = np.full((n_steps, n_envs), 1.0 if kind == "all" else 0.0, np.float32)
        if kind == "mixed" and n_steps > 1:
            dones[int(rng.integers(1, n_steps - 1)), 0] = 1.0  # an end in the middle
            dones[-1, 1] = 1.0  # an end on the rollout's last step (copy 2 runs through)
        elif kind == "mixed":
            dones[0, 0] = 1.0
        yield Case(
            (rewards, dones, last_values, gamma),
            ("rewards", "dones", "last_values", "gamma"),
            f"(rewards {fmt(rewards.T, 2)} and dones {fmt(dones.T, 0)} per copy, last_values "
            f"{fmt(last_values, 2)}, gamma {gamma})",
            f"for {where}",
            what=f"one target per step and copy, shape {(n_steps, n_envs)}",
            r=rewards.astype(np.float64),
            dones=dones.astype(np.float64),
            gamma=gamma,
            b=last_values.astype(np.float64),
            bootstrapped=True,
            symbol="y_t",
            next_symbol="y_{t+1}",
            quantity="targets",
        )


_N_STEP_MISTAKES = RETURN_MISTAKES + [
    Mistake(
        "expected targets of shape (n_steps, num_envs): the time axis comes first, entry [t, i] "
        "is step t of copy i.",
        test=lambda c, got: np.shape(got) != c.r.shape and np.shape(got) == c.r.shape[::-1],
    ),
]


@check
def check_n_step_targets(n_step_targets) -> Verdict:
    """Check ``n_step_targets(rewards, dones, last_values, gamma) -> (T, E)``.

    ``rewards`` and ``dones`` are a rollout of ``T`` steps of ``E`` environment copies,
    time-major ``(T, E)``; ``last_values`` is ``V(s_T)`` of each copy's observation after the
    last step, ``(E,)``. The targets are ``y_t = r_t + gamma (1 - done_t) y_{t+1}``, backwards
    from ``y_T = V(s_T)``. Cases (random on every call): a rollout with episode ends in the
    middle and on the last step and a copy without any, a one-step rollout (T = 1), a rollout
    where every step ends an episode, one copy (E = 1); gamma in {0.5, 0.9, 0.99}. The arrays
    are NumPy, as the agent passes them, and must not be changed in place.
    """
    return grade(
        n_step_targets,
        _n_step_cases(fresh_rng()),
        lambda c: discounted(c.r, c.dones, c.gamma, bootstrap=c.b),
        _N_STEP_MISTAKES,
        signature=_TARGETS_SIGNATURE,
        hint=flags_hint,
        done=(
            f"{name_of(n_step_targets)}: y_t = r_t + gamma * (1 - done_t) * y_(t+1), backwards "
            "from V(s_T), restarting at every episode end."
        ),
    )


def _critic_after(value, obs, targets, lr, steps, scale=2.0):
    """The value network's weights after ``steps`` SGD steps on ``scale / 2 * mean((y - V)^2)``
    (``scale=2``: the plain mean squared error), from its current weights (left unchanged)."""
    start = flat(value)
    for _ in range(steps):
        v = value(obs).numpy()[:, 0].astype(np.float64)
        grad = backprop(value, obs, (-scale * (targets - v) / len(v))[:, None])
        set_flat(value, flat(value) - lr * grad)
    end = flat(value)
    set_flat(value, start)
    return end


def _critic_mistake(got, value, obs, targets, lr_v, lr_pi, steps, log_pi) -> str | None:
    """Which typical mistake explains the value network's weights after the student's step."""
    n = len(targets)
    start = flat(value)

    def after(output_grad_fn, k=steps, lr=lr_v):
        for _ in range(k):
            v = value(obs).numpy()[:, 0].astype(np.float64)
            set_flat(value, flat(value) - lr * backprop(value, obs, output_grad_fn(v)[:, None]))
        end = flat(value)
        set_flat(value, start)
        return end

    mse = lambda v: -2.0 * (targets - v) / n  # noqa: E731

    def same_gradient_each_step():
        v = value(obs).numpy()[:, 0].astype(np.float64)
        return start - steps * lr_v * backprop(value, obs, mse(v)[:, None])

    candidates = [
        (
            lambda: same_gradient_each_step() if steps > 1 else None,
            "the value network applied the same gradient critic_steps times: recompute V(s), "
            "its loss and its gradient at every step, a new GradientTape inside the loop.",
        ),
        (
            lambda: after(mse, k=1) if steps > 1 else None,
            f"the value network took one step; take critic_steps ({steps}) steps, a loop "
            "that recomputes V(s) and the loss each time.",
        ),
        (
            lambda: after(lambda v: -2.0 * (targets.mean() - v) / n) if n > 1 else None,
            "targets - values with values of shape (B, 1) broadcasts to a B x B matrix, which "
            "pulls every V(s) towards the *mean* target. Squeeze the value network's output to "
            "shape (B,) first, value_network(obs)[:, 0].",
        ),
        (
            lambda: after(lambda v: np.full(n, -1.0 / n)),
            "the critic's loss is missing its square: mean(y - V) is made smaller by pushing V "
            "up forever. Regress V on the targets: mean((y - V(s))^2).",
        ),
        (
            lambda: after(lambda v: np.full(n, 1.0 / n)),
            "the critic's loss is missing its square: mean(V - y) is made smaller by pushing V "
            "down forever. Regress V on the targets: mean((y - V(s))^2).",
        ),
        (
            lambda: after(lambda v: -np.sign(targets - v) / n),
            "use the squared error for the critic, mean((y - V(s))^2), not its absolute value.",
        ),
        (
            lambda: after(lambda v: n * mse(v)),
            "the critic's steps are N times too large: use the mean over the batch, not the sum.",
        ),
        (
            lambda: after(mse, lr=lr_pi),
            "the value network moved with policy_optimizer's step size: each network has its "
            "own optimizer, value_optimizer for the value network.",
        ),
        (
            lambda: after(lambda v: mse(v) + log_pi / n, k=1) if steps == 1 else None,
            "the value network also got the gradient of the actor's loss: hold the TD error "
            "fixed in the actor's loss, tf.stop_gradient(targets - values), so that the critic "
            "learns from its own loss only.",
        ),
    ]
    for make, message in candidates:
        expected = make()
        if expected is not None and near(got - start, expected - start):
            return message
    return None


def _ac_step_cases(rng):
    import tensorflow as tf

    for what, n, n_actions, critic_steps, zero in [  # (what, B, A, critic_steps, zero TD errors)
        ("a batch", int(rng.integers(5, 9)), 2, 1, False),
        (
            "a batch whose targets equal V(s) (every TD error 0)",
            int(rng.integers(4, 7)),
            2,
            1,
            True,
        ),
        ("a batch of one step", 1, 2, 2, False),
        (
            "a batch with several actions",
            int(rng.integers(4, 8)),
            int(rng.integers(3, 5)),
            int(rng.integers(2, 4)),
            False,
        ),
    ]:
        obs_dim = int(rng.integers(3, 6))
        policy, value = tiny_networks(rng, obs_dim, n_actions, float(rng.uniform(2.0, 5.0)))
        obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
        actions = rng.integers(n_actions, size=n).astype(np.int32)
        v0 = value(obs).numpy()[:, 0]
        noise = 0.0 if zero else _mixed_signs(rng, n) * rng.uniform(0.5, 3.0, size=n)
        targets = (v0 if zero else np.round(v0 + noise, 2)).astype(np.float32)
        lr_pi, lr_v = float(rng.choice([0.05, 0.1])), float(rng.choice([0.2, 0.3]))
        y, delta = targets.astype(np.float64), targets.astype(np.float64) - v0
        logits0 = policy(obs).numpy().astype(np.float64)
        args = (
            policy,
            value,
            sgd(lr_pi),
            sgd(lr_v),
            tf.constant(obs),
            tf.constant(actions),
            tf.constant(targets),
            critic_steps,
        )
        yield Case(
            args,
            (None,) * 7 + ("critic_steps",),
            f"({what}: {n} step{'s' if n > 1 else ''}, {n_actions} actions, targets "
            f"{fmt(targets, 2)}, V(s) {fmt(v0, 2)}, critic_steps {critic_steps})",
            policy=policy,
            value=value,
            obs=obs,
            actions=actions,
            targets=targets,
            y=y,
            v0=v0,
            delta=delta,
            lr_pi=lr_pi,
            lr_v=lr_v,
            steps=critic_steps,
            zero=zero,
            logits0=logits0,
            policy0=flat(policy),
            value0=flat(value),
            right_pi=backprop(policy, obs, pg_output_grad(logits0, actions, delta)),
            right_v=_critic_after(value, obs, y, lr_v, critic_steps),
        )


def _critic_problem(c, value1, name) -> str | None:
    """What is wrong with the critic's steps (critic_steps on the squared error, or half of it)."""
    half = _critic_after(c.value, c.obs, c.y, c.lr_v, c.steps, scale=1.0)
    if near(value1 - c.value0, c.right_v - c.value0) or near(value1 - c.value0, half - c.value0):
        return None
    if np.array_equal(value1, c.value0):
        return (
            f"{name} did not change the value network's weights. After the actor's step, take "
            "critic_steps steps of value_optimizer on mean((y - V(s))^2)."
        )
    log_pi = log_softmax(c.logits0)[np.arange(len(c.y)), c.actions]
    message = _critic_mistake(value1, c.value, c.obs, c.y, c.lr_v, c.lr_pi, c.steps, log_pi)
    if c.zero and message is None:
        message = (
            "every TD error is 0 here, so neither network should move, but the value network "
            "did. Does the actor's loss send gradient into V(s)? Hold the TD error fixed there, "
            "tf.stop_gradient(targets - values)."
        )
    return message or (
        "the value network's weights did not move by critic_steps steps of value_optimizer down "
        "the gradient of mean((y - V(s))^2), y held fixed."
    )


def _actor_problem(c, policy1, name) -> str | None:
    """What is wrong with the actor's step (one step down -mean(delta log pi), delta fixed)."""
    if c.zero and not np.allclose(policy1, c.policy0, atol=1e-6):
        return (
            "every TD error is 0 here (targets = V(s)), so the policy should not move, but it "
            "did: weight each log-probability by delta = y - V(s), not by the target y."
        )
    if c.zero:
        return None
    if np.array_equal(policy1, c.policy0):
        return (
            f"{name} did not change the policy's weights. Compute the actor's loss inside `with "
            "tf.GradientTape() as tape:`, then take one step of policy_optimizer: "
            "optimizer.apply_gradients(zip(grads, policy.trainable_variables))."
        )
    taken = (c.policy0 - policy1) / c.lr_pi
    if near(taken, c.right_pi):
        return None
    set_flat(c.policy, c.policy0)
    set_flat(c.value, c.right_v)
    v_after = c.value(c.obs).numpy()[:, 0].astype(np.float64)
    set_flat(c.value, c.value0)
    others = [(weights(c, v_after), hint) for weights, hint in _ACTOR_MISTAKES]
    return policy_step_mistake(
        taken, c.policy, c.obs, c.actions, c.delta, c.lr_pi, weight_name="delta_t", others=others
    ) or (
        "the policy's weights did not move by one step of policy_optimizer down the gradient of "
        "-mean[delta_t log pi(a_t|s_t)], delta_t = y_t - V(s_t) held fixed."
    )


_ACTOR_MISTAKES = [  # (the weights of the log-probabilities, hint)
    (
        lambda c, v_after: c.y,
        "the actor weights each log-probability by the target y; use the TD error delta = "
        "y - V(s) (the critic's value subtracted).",
    ),
    (
        lambda c, v_after: c.y - c.v0.mean(),
        "targets - values with values of shape (B, 1) broadcasts to a B x B matrix; squeeze the "
        "value network's output to shape (B,) first, value_network(obs)[:, 0].",
    ),
    (
        lambda c, v_after: c.y - v_after,
        "the actor's TD errors used V(s) after the critic's steps: compute delta = y - V(s) "
        "first, from the value network before this update (step 3 of the algorithm), then the "
        "actor's step, then the critic's.",
    ),
    (
        lambda c, v_after: c.delta * c.lr_v / c.lr_pi,
        "the policy moved with value_optimizer's step size: each network has its own optimizer, "
        "policy_optimizer for the policy.",
    ),
]


def _read_ac_step(got, c, name):
    policy1, value1 = flat(c.policy), flat(c.value)
    set_flat(c.value, c.value0)  # what the candidates start from
    message = _critic_problem(c, value1, name) or _actor_problem(c, policy1, name)
    if message:
        fail(f"{message} {c.text}")


@check
def check_actor_critic_step(actor_critic_step) -> Verdict:
    """Check ``actor_critic_step(policy, value_network, policy_optimizer, value_optimizer, obs,
    actions, targets, critic_steps)``.

    It must take one step of ``policy_optimizer`` on the policy down the gradient of
    ``-mean_t[delta_t log pi(a_t|s_t)]``, with ``delta_t = y_t - V(s_t)`` from the value network
    *before* this update and held fixed, and ``critic_steps`` steps of ``value_optimizer`` on the
    value network down the gradient of ``mean_t (y_t - V(s_t))^2`` (half of it is accepted too).
    Small random networks and plain SGD optimizers with two different learning rates on every
    call, so each network's step is the change of its weights divided by its learning rate; the
    inputs are TensorFlow tensors, as the agent passes them. Cases: a batch with one critic step,
    one with every TD error 0 (targets = V(s): nothing may move, so no gradient of the actor's
    loss may reach the critic), a batch of one step, three or four actions and several critic
    steps.
    """
    return grade(
        actor_critic_step,
        _ac_step_cases(fresh_rng()),
        lambda c: None,
        read=_read_ac_step,
        same=lambda got, want: True,  # (the steps are judged by _read_ac_step)
        signature=_STEP_SIGNATURE,
        hint=no_gradient_hint,
        done=(
            f"{name_of(actor_critic_step)}: one actor step down -mean[delta log pi(a|s)] with "
            "delta = y - V(s) held fixed, then critic_steps steps of the critic on "
            "mean((y - V(s))^2)."
        ),
    )


# The run the agent check trains: 8 copies of CartPole-v1 with the chapter's actor-critic
# defaults (16 steps per copy between updates), and every 1,000 steps 10 evaluation episodes with
# sampled actions, until their mean return reaches the threshold (the reasons and numbers are
# those of chapter 6's agent check); the reference solution passed on 32 fresh seeds out of 32,
# after 2,000 to 12,200 steps.
_AGENT_STEPS, _THRESHOLD = 30_000, 100.0


def _student_actor_critic(n_step_targets, actor_critic_step, observation_space, action_space, seed):
    """rlbook's ``ActorCriticAgent`` whose targets and learning step are the student's functions.

    The rollout (with a time limit's cut folded into the reward, ``+ gamma * V(s')``), acting
    and the training loop are the library's.
    """
    import tensorflow as tf

    from rlbook.agents.actor_critic import ActorCriticAgent

    tgt_name, step_name = name_of(n_step_targets), name_of(actor_critic_step)

    class StudentActorCritic(ActorCriticAgent):
        def targets(self):
            shape = self._reward.shape
            got = call_student(
                n_step_targets,
                self._reward.copy(),
                self._done.copy(),
                self.values(self._last_next_obs),
                self.config.gamma,
                name=tgt_name,
                hint=flags_hint,
                signature=_TARGETS_SIGNATURE,
            )
            what = f"one target per step and copy, shape {shape}"
            return to_array(got, tgt_name, what, shape=shape).astype(np.float32)

        def learn(self, obs, actions, targets):
            # Compiled by ActorCriticAgent.__init__, with the student's step inside. critic_steps
            # as a tensor: autograph makes their `for _ in range(critic_steps)` one graph loop
            # instead of ten copies of the step, which would take seconds to trace.
            actor_critic_step(
                self.policy,
                self.value_network,
                self.policy_optimizer,
                self.value_optimizer,
                obs,
                actions,
                targets,
                tf.constant(self.config.critic_steps),
            )
            return {}

    agent = StudentActorCritic(observation_space, action_space, num_envs=8, seed=seed)

    def eager_step(obs, actions, targets):
        call_student(
            actor_critic_step,
            agent.policy,
            agent.value_network,
            agent.policy_optimizer,
            agent.value_optimizer,
            tf.constant(obs),
            tf.constant(actions),
            tf.constant(targets),
            agent.config.critic_steps,
            name=step_name,
            signature=_STEP_SIGNATURE,
            hint=no_gradient_hint,
        )
        return {}

    agent._compiled_step = StudentStep(agent._compiled_step, eager_step)
    return agent


@check
def check_actor_critic_agent(n_step_targets, actor_critic_step) -> Verdict:
    """Train rlbook's actor-critic with the student's n-step targets and learning step.

    The agent (the chapter's defaults: 8 copies of CartPole-v1, 16 steps per copy between
    updates, 10 critic steps per update) computes each rollout's targets with
    ``n_step_targets(rewards, dones, last_values, gamma)`` and learns with
    ``actor_critic_step(policy, value_network, policy_optimizer, value_optimizer, obs, actions,
    targets, critic_steps)``, inside ``rlbook.train.train`` with a new seed on every call, for
    at most 30,000 steps. Every 1,000 steps the agent plays 10 episodes sampling its actions; it
    passes when their mean return reaches 100 *and* both functions pass their own checks
    (:func:`check_n_step_targets`, :func:`check_actor_critic_step`); when the agent does not
    learn, those checks say why.
    """
    tgt_name, step_name = name_of(n_step_targets), name_of(actor_critic_step)
    best, steps, problem = train_on_cartpole(
        lambda obs_space, act_space, seed: _student_actor_critic(
            n_step_targets, actor_critic_step, obs_space, act_space, seed
        ),
        _AGENT_STEPS,
        _THRESHOLD,
    )
    if problem is not None and "NotImplementedError" in problem:
        return wrong(problem)  # a stub left: nothing to diagnose yet
    units = [
        (tgt_name, check_n_step_targets(n_step_targets)),
        (step_name, check_actor_critic_step(actor_critic_step)),
    ]
    run = (
        f"{steps:,} steps on 8 copies of CartPole-v1 (targets by {tgt_name}, learning steps "
        f"by {step_name})"
    )
    return cartpole_verdict(run, best, _THRESHOLD, problem, units)
