"""Checks for the exercises of chapter 7 (actor-critic)."""

from __future__ import annotations

import numpy as np

from rlbook.exercises import _core, _pg
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of, td
from rlbook.exercises._pg import Replay, near

# fmt: off
__all__ = ["check_td_targets", "check_actor_critic_losses", "check_n_step_targets",
           "check_actor_critic_step", "check_actor_critic_agent"]


def _td_cases(rng):
    for kind, gamma in (("mixed", rng.choice([0.9, 0.99])), ("one", 0.9), ("all", 0.99),
                        ("both", 0.5)):
        batch = 1 if kind == "one" else int(rng.integers(5, 9))  # mixed: some have neither flag
        rewards = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
        next_values = np.round(rng.uniform(1.0, 10.0, size=batch), 2).astype(np.float32)
        f, (term, trunc) = rng.permutation(batch), np.zeros((2, batch), np.float32)
        ends = {"mixed": (f[:2], f[2:4]), "all": (f, []), "both": (f[:2], f[1:3])}  # f[1]: both
        term[ends.get(kind, ([], []))[0]], trunc[ends.get(kind, ([], []))[1]] = 1.0, 1.0
        r, v, t, tr = (x.astype(np.float64) for x in (rewards, next_values, term, trunc))
        yield Case((rewards, next_values, term, trunc, float(gamma)),
                   ("rewards", "next_values", "terminated", "truncated", "gamma"),
                   f"(rewards {fmt(r)}, next_values {fmt(v)}, terminated {fmt(t, 0)}, truncated "
                   f"{fmt(tr, 0)}, gamma {gamma})",
                   what=f"one target per transition, shape ({batch},)", r=r, boot=v, t=t, tr=tr,
                   gamma=float(gamma))


_TRUNCATION_MISTAKES = [
    ("a truncated transition was cut by the time limit, not terminated: the pole was still up, "
     "so its future is worth V(s'). "
     "Stop bootstrapping only on terminated (done = terminated or truncated is the mistake).",
     lambda c: td(c, mask=1 - np.maximum(c.t, c.tr))),
    ("a transition can be both terminated and truncated, and terminated alone decides: "
     "stop bootstrapping only on terminated, (1 - terminated). Do not subtract truncated.",
     lambda c: td(c, mask=1 - c.t - c.tr)),
    ("you stopped bootstrapping on truncated instead of terminated: "
     "only a real end (terminated) makes the future worth 0.", lambda c: td(c, mask=1 - c.tr)),
    ("you subtracted V(s'): return the target itself, y = r + gamma * (1 - terminated) * V(s'). "
     "The TD error y - V(s) comes later, with V(s).", lambda c: td(c) - c.boot),
]


@check
def check_td_targets(td_targets) -> Verdict:
    """Check ``td_targets(rewards, next_values, terminated, truncated, gamma) -> (B,)``: cases
    with terminated and truncated transitions, a batch of one, an all-terminal batch, and a
    transition both terminated and truncated (Gymnasium allows it: terminated wins)."""
    return grade(td_targets, _td_cases(fresh_rng()), td, _TRUNCATION_MISTAKES + _core.TD_MISTAKES,
                 read=lambda got, c, name: _core.to_array(got, name, c.what).reshape(
                     (-1,) if np.shape(got) == (len(c.r), 1) else np.shape(got)),
                 signature="(rewards, next_values, terminated, truncated, gamma)",
                 hint=_core.flags_hint,
                 rule="y = r + gamma * (1 - terminated) * V(s'), one per transition",
                 done=f"{name_of(td_targets)}: y = r + gamma * (1 - terminated) * V(s'); "
                      "a truncated transition still bootstraps.")


def _losses_cases(rng):
    for n, n_actions in ((int(rng.integers(5, 9)), 2), (1, 2), (int(rng.integers(3, 7)), 3)):
        values = np.round(rng.uniform(0.0, 5.0, size=n), 2).astype(np.float32)
        noise = _pg.mixed_signs(rng, n) * rng.uniform(0.5, 3.0, size=n)
        targets = np.round(values + noise, 2).astype(np.float32)
        c = _pg.loss_case(rng, n, n_actions, f"values {fmt(values)}, targets {fmt(targets)}",
                          values=values, targets=targets)
        c.delta, c.y = targets - values.astype(float), targets.astype(float)
        yield c


def _ac_losses(c):
    return -np.mean(c.delta * c.log_pi), np.mean(c.delta**2)


def _critic_ok(got, want) -> bool:
    return any(np.isclose(got[1], k * want[1], rtol=1e-4, atol=1e-6) for k in (1.0, 0.5))


def _both_ok(got, want) -> bool:
    return _critic_ok(got, want) and bool(np.isclose(got[0], want[0], rtol=1e-4, atol=1e-6))


def _read_losses(out, c, name):
    out, tape = _pg.read_taped(out, c, name)
    if out is None:
        fail(f"{name} returned None: return the pair (actor_loss, critic_loss).")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"{name} should return two numbers, (actor_loss, critic_loss), in this order.")
    arrays = [_core.to_array(x, name, "two numbers, (actor_loss, critic_loss)") for x in out]
    for arr, which in zip(arrays, ("actor", "critic")):
        if arr.size != 1:
            fail(f"the {which} loss should be one number (a mean over the batch), "
                 f"got shape {arr.shape}.")
    got, want = tuple(float(a.reshape(())) for a in arrays), _ac_losses(c)
    if np.isclose(got[0], want[1], rtol=1e-4) and np.isclose(got[1], want[0], rtol=1e-4):
        fail("the two losses are swapped: return (actor_loss, critic_loss).")
    if _both_ok(got, want):
        _check_ac_gradients(tape, out, c, name, half=np.isclose(got[1], 0.5 * want[1]))
    return got


def _check_ac_gradients(tape, out, c, name, half):
    variables = [c.tensors[k] for k in ("logits", "values", "targets")]
    a_logits, a_values, a_targets = _pg.grads_or_none(tape, out[0], variables)
    c_logits, c_values, c_targets = _pg.grads_or_none(tape, out[1], variables)
    if not _pg.moves(a_logits) or not _pg.moves(c_values):
        which = ("V(s) (from the critic loss)" if _pg.moves(a_logits)
                 else "the logits (from the actor loss)")
        fail(f"the numbers are right, but no gradient reaches {which}, "
             "so nothing could learn from it: "
             f"compute both losses with TensorFlow operations on the tensors {name} receives "
             "(tf.nn.log_softmax, tf.gather, tf.reduce_mean, tf.square), not NumPy.")
    if _pg.moves(c_targets) or _pg.moves(a_targets):
        fail("the numbers are right, but the losses send gradients into the TD target: "
             "the target must be held fixed (tf.stop_gradient(targets)), "
             "or V(s') is dragged towards V(s) as well.")
    if _pg.moves(a_values):
        fail("the numbers are right, but the actor loss sends gradients into V(s): "
             "hold the TD error fixed in the actor loss (tf.stop_gradient(delta)); "
             "the critic learns from its own loss.")
    if _pg.moves(c_logits):
        fail("the critic loss sends gradients into the policy's logits: "
             "it should depend on V(s) and the targets only.")
    if not _core.close(c_values, -(1.0 if half else 2.0) * c.delta / len(c.y), 1e-3, 1e-6):
        fail("the critic loss has the right value but not the gradient of mean((y - V)^2) with "
             f"respect to V(s). {c.text}")
    if not _core.close(a_logits, _pg.pg_output_grad(c.lp, c.actions, c.delta), 1e-3, 1e-6):
        fail("the actor loss has the right value but its gradient with respect to the logits is "
             f"not -delta * grad log pi(a|s) / B. Is a tf.stop_gradient around log pi? {c.text}")


def _critic(hint, value) -> _core.Mistake:
    return _core.Mistake(hint, test=lambda c, got: not _critic_ok(got, c.want)
                         and np.isclose(got[1], value(c)))


def _actor(hint, value) -> _core.Mistake:
    return _core.Mistake(hint, test=lambda c, got: _critic_ok(got, c.want)
                         and np.isclose(got[0], value(c)))


_AC_MISTAKES = [
    _critic("the critic loss is missing its square: "
            "mean(V - y) can be made as small as you like by pushing V down forever. "
            "Regress V on the target: mean((y - V)^2).",
            lambda c: np.mean(-c.delta)),
    _critic("the critic loss is missing its square: mean((y - V)^2).", lambda c: np.mean(c.delta)),
    _critic("use the squared TD error for the critic, mean((y - V)^2), not its absolute value.",
            lambda c: np.mean(np.abs(c.delta))),
    _critic("use the mean over the batch, not the sum: mean((y - V)^2).",
            lambda c: np.sum(c.delta**2)),
    _critic("square each TD error, then average: mean((y - V)^2), not mean(y - V)^2.",
            lambda c: np.mean(c.delta) ** 2),
    _critic("the critic loss is the squared error, mean((y - V)^2), not the Huber loss.",
            lambda c: np.mean(np.where(abs(c.delta) <= 1, c.delta**2 / 2, abs(c.delta) - 0.5))),
    _critic("the critic loss is mean((y - V)^2) itself, without a square root.",
            lambda c: np.sqrt(np.mean(c.delta**2))),
    _actor("weight log pi(a|s) by the TD error delta = y - V(s), not by the target y.",
           lambda c: -np.mean(c.y * c.log_pi)),
    _actor("the actor loss has the wrong sign: it is -mean(delta * log pi(a|s)).",
           lambda c: np.mean(c.delta * c.log_pi)),
    _actor("use log pi(a|s), not pi(a|s).", lambda c: -np.mean(c.delta * np.exp(c.log_pi))),
    _actor("use the mean over the batch, not the sum.", lambda c: -np.sum(c.delta * c.log_pi)),
    _actor("logits are not log-probabilities: apply tf.nn.log_softmax first.",
           lambda c: -np.mean(c.delta * c.arrays["logits"][np.arange(len(c.y)), c.actions])),
    _actor("pick the log-probability of the action taken (tf.gather(log_probs, actions, "
           "batch_dims=1)), not all of them.", lambda c: -np.mean(c.delta[:, None] * c.lp)),
    _actor(_pg.GATHER_AXIS1, lambda c: -np.mean(c.delta * _pg.across(c))),
    _actor(_pg.SOFTMAX_AXIS0, lambda c: -np.mean(c.delta * _pg.over_batch(c))),
    _actor(_pg.NORMALISED.format("delta"), lambda c: -np.mean(_pg.normalised(c.delta) * c.log_pi)),
]


def _explain_losses(got, want, c) -> str:
    if not _critic_ok(got, want):
        return f"the critic loss should be mean((y - V(s))^2) = {want[1]:.4f}, got {got[1]:.4f}."
    return f"the actor loss should be -mean(delta * log pi(a|s)) = {want[0]:.4f}, got {got[0]:.4f}."


@check
def check_actor_critic_losses(losses) -> Verdict:
    """Check ``losses(logits, actions, values, targets) -> (actor_loss, critic_loss)``, values and
    targets of shape (B,), given as TensorFlow tensors. Besides the values, the gradients: the
    critic loss sends gradient to V(s) only, the actor loss the policy gradient to the logits."""
    return grade(_pg.taped(losses), _losses_cases(fresh_rng()), _ac_losses, _AC_MISTAKES,
                 read=_read_losses, same=_both_ok, signature="(logits, actions, values, targets)",
                 hint=_pg.pick_hint, explain=_explain_losses,
                 done=f"{name_of(losses)}: critic mean(delta^2) with the target held fixed; "
                      "actor -mean(delta * log pi(a|s)) with delta held fixed. "
                      "Gradients go where they should.")


# -- n-step targets, the actor-critic step, and the student's own agent ---------------------------

_TARGETS_SIGNATURE = "n_step_targets(rewards, dones, last_values, gamma)"
_STEP_SIGNATURE = ("actor_critic_step(policy, value_network, policy_optimizer, value_optimizer, "
                   "obs, actions, targets, critic_steps)")


def _n_step_cases(rng):
    for where, n_steps, n_envs, kind, gamma in [
        ("a rollout with episode ends", int(rng.integers(4, 7)), 3, "mixed", 0.9),
        ("a one-step rollout (T = 1)", 1, int(rng.integers(2, 5)), "mixed", 0.5),
        ("a rollout in which every step ends an episode", 3, 2, "all", 0.99),
        ("one environment copy (E = 1)", int(rng.integers(3, 6)), 1, "none", 0.5),
        ("a rollout of the agent's size", 16, 8, "mixed", 0.99),
    ]:
        rewards = np.round(rng.uniform(-1.0, 2.0, size=(n_steps, n_envs)), 2).astype(np.float32)
        last_values = np.round(rng.uniform(2.0, 10.0, size=n_envs), 2).astype(np.float32)
        dones = np.full((n_steps, n_envs), 1.0 if kind == "all" else 0.0, np.float32)
        if kind == "mixed" and n_steps > 1:
            dones[int(rng.integers(1, n_steps - 1)), 0] = 1.0  # an end in the middle
            dones[-1, 1] = 1.0  # an end on the rollout's last step (copy 2 runs through)
        elif kind == "mixed":
            dones[0, 0] = 1.0
        yield Case((rewards, dones, last_values, gamma),
                   ("rewards", "dones", "last_values", "gamma"),
                   f"(rewards {fmt(rewards.T, 2)} and dones {fmt(dones.T, 0)} per copy, "
                   f"last_values {fmt(last_values, 2)}, gamma {gamma})", f"for {where}",
                   what=f"one target per step and copy, shape {(n_steps, n_envs)}",
                   r=rewards.astype(float), dones=dones.astype(float), gamma=gamma,
                   b=last_values.astype(float), bootstrapped=True, symbol="y_t",
                   next_symbol="y_{t+1}", first="y_0", quantity="targets",
                   flows="the next episode's rewards and the bootstrap value")


def _targets_hint(err, line: str) -> str | None:
    if "broadcast" in str(err):
        return ("rewards and dones are time-major, (n_steps, num_envs): loop over their rows, "
                "rewards[t] and dones[t] of shape (num_envs,), backwards from y = last_values.")
    return _core.flags_hint(err, line)


_TRANSPOSED = _core.shape_mistake("expected targets of shape (n_steps, num_envs): "
                                  "the time axis comes first, entry [t, i] is step t of copy i.",
                                  lambda c, shape: shape == c.r.shape[::-1] != c.r.shape)


@check
def check_n_step_targets(n_step_targets) -> Verdict:
    """Check ``n_step_targets(rewards, dones, last_values, gamma) -> (T, E)``: time-major rollouts
    of ``E`` copies, ``last_values`` = V(s_T) of each copy, ``y_t = r_t + gamma (1 - done_t)
    y_{t+1}`` backwards from ``y_T = V(s_T)``. NumPy arrays, as the agent passes them, up to the
    agent's rollout (16 steps of 8 copies)."""
    return grade(n_step_targets, _n_step_cases(fresh_rng()),
                 lambda c: _pg.discounted(c.r, c.dones, c.gamma, bootstrap=c.b),
                 _pg.RETURN_MISTAKES + [_TRANSPOSED], signature=_TARGETS_SIGNATURE,
                 hint=_targets_hint,
                 rule="y_t = r_t + gamma * (1 - dones[t]) * y_(t+1), backwards from last_values",
                 done=f"{name_of(n_step_targets)}: y_t = r_t + gamma * (1 - done_t) * y_(t+1), "
                      "backwards from V(s_T), restarting at every episode end.")


def _mse(c, scale=2.0):
    """The gradient of ``scale / 2 * mean((y - V)^2)`` at the value network's current weights."""
    return _grad(c, lambda v: -scale * (c.y - v) / len(c.y))


def _grad(c, output_grad):
    """The gradient of ``sum(output_grad(V) * V)``, ``output_grad`` a function of V(s) ``(B,)``."""
    return lambda m: _pg.backprop(m, c.obs,
                                  output_grad(m(c.obs).numpy()[:, 0].astype(float))[:, None])


def _critic_problem(c, taken) -> str | None:
    """What is wrong with the critic's steps (critic_steps on the squared error, or half of it)."""
    rv, n, k, y = c.rv, len(c.y), c.steps, c.y
    if near(taken, c.right_v) or near(taken, rv.after(_mse(c, 1.0), k)):
        return None
    log_pi = _pg.log_softmax(c.logits0)[np.arange(n), c.actions]
    candidates = [  # (hint, whether it can show here, the gradient or a function of it, steps)
        ("the value network applied the same gradient critic_steps times: recompute V(s), "
         "its loss and its gradient at every step, "
         "a new GradientTape inside the loop.", k > 1, _mse(c)(rv.model), k),
        (f"the value network took one step; take critic_steps ({k}) steps, "
         "a loop that recomputes V(s) and the loss each time.", k > 1, _mse(c), 1),
        ("targets - values with values of shape (B, 1) broadcasts to a B x B matrix, "
         "which pulls every V(s) towards the *mean* target. "
         "Squeeze the value network's output to shape (B,) first, value_network(obs)[:, 0].",
         n > 1, _grad(c, lambda v: -2.0 * (y.mean() - v) / n), k),
        ("the critic's loss is missing its square: "
         "mean(y - V) is made smaller by pushing V up forever. Regress V on the targets: "
         "mean((y - V(s))^2).", True, _grad(c, lambda v: np.full(n, -1.0 / n)), k),
        ("the critic's loss is missing its square: "
         "mean(V - y) is made smaller by pushing V down forever. Regress V on the targets: "
         "mean((y - V(s))^2).", True, _grad(c, lambda v: np.full(n, 1.0 / n)), k),
        ("use the squared error for the critic, mean((y - V(s))^2), not its absolute value.",
         True, _grad(c, lambda v: -np.sign(y - v) / n), k),
        ("use the squared error for the critic, mean((y - V(s))^2), not the Huber loss.",
         True, _grad(c, lambda v: -np.clip(y - v, -1, 1) / n), k),
        ("the critic's loss is mean((y - V(s))^2) itself, without a square root.",
         True, _grad(c, lambda v: -(y - v) / (n * np.sqrt(np.mean((y - v) ** 2)))), k),
        ("the critic's steps are N times too large: use the mean over the batch, not the sum.",
         True, _mse(c, 2.0 * n), k),
        ("the value network moved with policy_optimizer's step size: "
         "each network has its own optimizer, value_optimizer for the value network.",
         c.sgd, _mse(c, 2.0 * c.lr_pi / c.lr_v), k),
        ("the value network also got the gradient of the actor's loss: "
         "hold the TD error fixed in the actor's loss, tf.stop_gradient(targets - values), "
         "so that the critic learns from its own loss only.",
         k == 1, _grad(c, lambda v: -2 * (y - v) / n + log_pi / n), 1),
    ]
    for message, shows, gradient, steps in candidates:
        if shows and near(taken, rv.after(gradient, steps)):
            return message
    if c.v_steps != k:
        return (f"value_optimizer took {c.v_steps} step(s); take exactly critic_steps ({k}), "
                "one apply_gradients in each pass of `for _ in range(critic_steps)`.")
    if c.zero:
        return ("every TD error is 0 here, so neither network should move, "
                "but the value network did. "
                "Does the actor's loss send gradient into V(s)? Hold the TD error fixed there, "
                "tf.stop_gradient(targets - values).")
    return ("the value network's weights did not move by critic_steps steps of value_optimizer "
            "down the gradient of mean((y - V(s))^2), y held fixed.")


def _ac_step_cases(rng):
    """Small batches with SGD first (one with every TD error 0: nothing may move), then the
    agent's sizes with the warm Adam optimizers it uses, and RMSprop."""
    import tensorflow as tf
    for what, n, n_actions, k, hidden, kind in [
        ("a batch", int(rng.integers(5, 9)), 2, 1, 8, "SGD"),
        ("a batch whose targets equal V(s) (every TD error 0)", rng.integers(4, 7), 2, 1, 8, "SGD"),
        ("a batch of one step", 1, 2, 2, 8, "SGD"),
        ("a batch with several actions", rng.integers(4, 8), 3, rng.integers(2, 4), 8, "SGD"),
        ("a batch of the agent's size", 128, 2, 10, 64, "Adam"),
        ("a batch with several actions", int(rng.integers(20, 60)), 3, 3, 16, "RMSprop"),
    ]:
        obs_dim, zero = (4 if hidden > 8 else int(rng.integers(3, 6))), "equal" in what
        n, k = int(n), int(k)
        policy = _pg.small_network(rng, obs_dim, n_actions, hidden)
        value = _pg.small_network(rng, obs_dim, 1, hidden, float(rng.uniform(2.0, 5.0)))
        lr_pi, lr_v = float(rng.choice([0.05, 0.1])), float(rng.choice([0.2, 0.3]))
        lr_pi, lr_v = (lr_pi, lr_v) if kind == "SGD" else (0.01, 0.01)  # the agent's
        opt_pi, opt_v = (_pg.optimizer(kind, lr_pi, policy, rng),
                         _pg.optimizer(kind, lr_v, value, rng))
        obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
        actions = rng.integers(n_actions, size=n).astype(np.int32)
        v0 = value(obs).numpy()[:, 0]
        size = rng.uniform(0.5, 3.0, size=n)
        size[0] = rng.uniform(0.5, 0.9) if n > 1 else size[0]  # a TD error under 1: Huber's
        noise = 0.0 if zero else _pg.mixed_signs(rng, n) * size  # step then differs from |y - V|'s
        targets = (v0 if zero else np.round(v0 + noise, 2)).astype(np.float32)
        batch = (tf.constant(obs), tf.constant(actions), tf.constant(targets), k)
        c = Case((policy, value, opt_pi, opt_v, *batch), (None,) * 7 + ("critic_steps",),
                 f"({what}: {n} step{'s' if n > 1 else ''}, {n_actions} actions, {kind} "
                 f"optimizers, targets {fmt(targets, 2)}, V(s) {fmt(v0, 2)}, critic_steps {k})",
                 obs=obs, actions=actions, y=targets.astype(float), v0=v0, steps=k, zero=zero,
                 delta=targets - v0.astype(float), lr_pi=lr_pi, lr_v=lr_v, sgd=kind == "SGD",
                 logits0=policy(obs).numpy().astype(float), rp=Replay(policy, opt_pi),
                 rv=Replay(value, opt_v))
        output_grad = _pg.pg_output_grad(c.logits0, actions, c.delta)
        c.right_pi = c.rp.after(_pg.backprop(policy, obs, output_grad))
        c.right_v = c.rv.after(_mse(c), k)
        yield c


_ACTOR_MISTAKES = [  # (the weights of the log-probabilities, hint)
    (lambda c, v_after: c.y,
     "the actor weights each log-probability by the target y; "
     "use the TD error delta = y - V(s) (the critic's value subtracted)."),
    (lambda c, v_after: c.y - c.v0.mean(),
     "targets - values with values of shape (B, 1) broadcasts to a B x B matrix; "
     "squeeze the value network's output to shape (B,) first, value_network(obs)[:, 0]."),
    (lambda c, v_after: c.y - v_after,
     "the actor's TD errors used V(s) after the critic's steps: compute delta = y - V(s) first, "
     "from the value network before this update (step 3 of the algorithm), then the actor's step, "
     "then the critic's."),
    (lambda c, v_after: c.delta * c.lr_v / c.lr_pi if c.sgd else c.delta,
     "the policy moved with value_optimizer's step size: each network has its own optimizer, "
     "policy_optimizer for the policy."),
]


def _actor_problem(c, taken) -> str | None:
    """What is wrong with the actor's step (one step down -mean(delta log pi), delta fixed)."""
    if near(taken, c.right_pi):
        return None
    if c.zero:
        return ("every TD error is 0 here (targets = V(s)), so the policy should not move, "
                "but it did: weight each log-probability by delta = y - V(s), not by the target y.")
    _pg.set_flat(c.rv.model, c.rv.start + c.right_v)
    v_after = c.rv.model(c.obs).numpy()[:, 0].astype(np.float64)
    c.rv.restore()
    others = [(weights(c, v_after), hint) for weights, hint in _ACTOR_MISTAKES]
    message = _pg.policy_step_mistake(c, c.rp, taken, c.delta, weight_name="delta_t", others=others)
    return message or (
        "the policy's weights did not move by one step of policy_optimizer down the gradient of "
        "-mean[delta_t log pi(a_t|s_t)], delta_t = y_t - V(s_t) held fixed.")


def _read_ac_step(got, c, name):
    c.v_steps = c.rv.steps_taken()
    if c.zero:  # nothing should move: read the changes as they are
        taken_v, taken_pi = c.rv.moved(), c.rp.moved()
    else:
        fix = ("After the actor's step, "
               "take critic_steps steps of value_optimizer on mean((y - V(s))^2).")
        taken_v = _pg.read_steps(c.rv, "the value network", name, c.text, fix)
        fix = ("Compute the actor's loss inside `with tf.GradientTape() as tape:`, "
               "then take one step of policy_optimizer: "
               "optimizer.apply_gradients(zip(grads, policy.trainable_variables)).")
        taken_pi = _pg.read_steps(c.rp, "the policy", name, c.text, fix)
    message = _critic_problem(c, taken_v) or _actor_problem(c, taken_pi)
    if message:
        fail(f"{message} {c.text}")


@check
def check_actor_critic_step(actor_critic_step) -> Verdict:
    """Check ``actor_critic_step(policy, value_network, policy_optimizer, value_optimizer, obs,
    actions, targets, critic_steps)``: one step of ``policy_optimizer`` down ``-mean_t[delta_t
    log pi(a_t|s_t)]``, ``delta_t = y_t - V(s_t)`` from before the update held fixed, then
    ``critic_steps`` steps of ``value_optimizer`` down ``mean_t (y_t - V(s_t))^2`` (or half of
    it), each replayed with the same optimizer from the same state; inputs are tensors."""
    return grade(actor_critic_step, _ac_step_cases(fresh_rng()), lambda c: None,
                 read=_read_ac_step, same=lambda got, want: True,  # (judged by _read_ac_step)
                 signature=_STEP_SIGNATURE, hint=_pg.no_gradient_hint,
                 done=f"{name_of(actor_critic_step)}: "
                      "one actor step down -mean[delta log pi(a|s)] with delta = y - V(s) held "
                      "fixed, then critic_steps steps of the critic on mean((y - V(s))^2).")


def _student_actor_critic(n_step_targets, actor_critic_step, observation_space, action_space, seed):
    """rlbook's ``ActorCriticAgent`` whose targets and learning step are the student's."""
    import tensorflow as tf

    from rlbook.agents.actor_critic import ActorCriticAgent
    class StudentActorCritic(ActorCriticAgent):
        autograph = True  # the student's step may have Python control flow on tensors
        def targets(self):
            shape, values = self._reward.shape, self.values(self._last_next_obs)
            args = (self._reward.copy(), self._done.copy(), values, self.config.gamma)
            got = _core.call_student(n_step_targets, *args, hint=_targets_hint,
                                     signature=_TARGETS_SIGNATURE)
            what = f"one target per step and copy, shape {shape}"
            return _core.to_array(got, name_of(n_step_targets), what, shape).astype(np.float32)

        def learn(self, obs, actions, targets):
            # Compiled by ActorCriticAgent.__init__, with the student's step inside. critic_steps
            # as a tensor: autograph makes their `for _ in range(critic_steps)` one graph loop
            # instead of ten copies of the step, which would take seconds to trace.
            nets = (self.policy, self.value_network, self.policy_optimizer, self.value_optimizer)
            actor_critic_step(*nets, obs, actions, targets, tf.constant(self.config.critic_steps))
            return {}

    agent = StudentActorCritic(observation_space, action_space, num_envs=8, seed=seed)

    def eager_step(obs, actions, targets):
        nets = (agent.policy, agent.value_network, agent.policy_optimizer, agent.value_optimizer)
        batch = (*map(tf.constant, (obs, actions, targets)), agent.config.critic_steps)
        _core.call_student(actor_critic_step, *nets, *batch, signature=_STEP_SIGNATURE,
                           hint=_pg.no_gradient_hint)
        return {}

    agent._compiled_step = _pg.StudentStep(agent._compiled_step, eager_step)
    return agent


@check
def check_actor_critic_agent(n_step_targets, actor_critic_step) -> Verdict:
    """Train rlbook's actor-critic (the chapter's defaults) with the student's n-step targets and
    learning step on CartPole-v1, on fixed seeds, for at most 30,000 steps; it passes when an
    evaluation's mean return (10 episodes, actions sampled) reaches 100 *and* both functions pass
    their own checks, which say why when the agent does not learn."""
    tgt_name, step_name = name_of(n_step_targets), name_of(actor_critic_step)
    return _pg.agent_check(
        lambda *spaces_seed: _student_actor_critic(n_step_targets, actor_critic_step, *spaces_seed),
        lambda: [(tgt_name, check_n_step_targets(n_step_targets)),
                 (step_name, check_actor_critic_step(actor_critic_step))],
        f"targets by {tgt_name}, learning steps by {step_name}", **_pg.CARTPOLE_SAMPLED,
        differs=_core.traced(step_name, ", with critic_steps as a tensor"))
