"""Checks for the exercises of chapter 7 (actor-critic)."""

from __future__ import annotations

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
from rlbook.exercises.ch03 import _flags_hint
from rlbook.exercises.ch06 import _log_softmax, grads_or_none, moves, policy_batch

__all__ = ["check_td_targets", "check_actor_critic_losses"]


@check
def check_td_targets(td_targets) -> Verdict:
    """Check ``td_targets(rewards, next_values, terminated, truncated, gamma) -> (B,)``.

    Cases (random on every call): a batch with terminated and truncated transitions, a batch of
    one, an all-terminal batch, a transition both terminated and truncated (Gymnasium allows it:
    terminated wins), and gamma in {0.5, 0.9, 0.99}.
    """
    name = name_of(td_targets)
    rng = fresh_rng()
    for kind, gamma in (
        ("mixed", float(rng.choice([0.9, 0.99]))),
        ("one", 0.9),
        ("all", 0.99),
        ("both", 0.5),
    ):
        batch = {"one": 1}.get(
            kind, int(rng.integers(5, 9))
        )  # mixed: some transitions have neither flag
        rewards = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
        next_values = np.round(rng.uniform(1.0, 10.0, size=batch), 2).astype(np.float32)
        flags = rng.permutation(batch)
        terminated, truncated = np.zeros(batch, np.float32), np.zeros(batch, np.float32)
        if kind == "mixed":
            terminated[flags[:2]], truncated[flags[2:4]] = 1.0, 1.0
        elif kind == "all":
            terminated[:] = 1.0
        elif kind == "both":
            terminated[flags[:2]], truncated[flags[1:3]] = 1.0, 1.0  # flags[1] is both
        arrays = (rewards, next_values, terminated, truncated)
        given = snapshot(*arrays)
        got = call_student(
            td_targets,
            *given,
            gamma,
            name=name,
            hint=_flags_hint,
            signature="(rewards, next_values, terminated, truncated, gamma)",
        )
        assert_unchanged(
            name, list(arrays), given, ["rewards", "next_values", "terminated", "truncated"]
        )
        got = to_array(got, name, f"one target per transition, shape ({batch},)")
        if got.shape == (batch, 1):
            got = got[:, 0]
        r, v, term, trunc = (x.astype(np.float64) for x in arrays)
        want = r + gamma * (1 - term) * v
        case = (
            f"(rewards {fmt(r)}, next_values {fmt(v)}, terminated {fmt(term, 0)}, truncated "
            f"{fmt(trunc, 0)}, "
            f"gamma {gamma})"
        )
        if got.shape != want.shape:
            return wrong(
                f"expected one target per transition, shape ({batch},), got shape {got.shape}. "
                f"{case}"
            )
        if close(got, want):
            continue
        message = diagnose(
            got,
            [
                (
                    r + gamma * (1 - np.maximum(term, trunc)) * v,
                    "a truncated transition was cut by the time limit, not terminated: the pole "
                    "was still up, so its "
                    "future is worth V(s'). Stop bootstrapping only on terminated (done = "
                    "terminated or truncated is "
                    "the mistake).",
                ),
                (
                    r + gamma * (1 - term - trunc) * v,
                    "a transition can be both terminated and truncated; terminated alone decides: "
                    "(1 - terminated). "
                    "Do not subtract truncated.",
                ),
                (
                    r + gamma * (1 - trunc) * v,
                    "you stopped bootstrapping on truncated instead of terminated: only "
                    "a real end (terminated) makes the future worth 0.",
                ),
                (
                    r + gamma * v,
                    "the terminated transitions still bootstrap: nothing follows a real end, so "
                    "their "
                    "target is just r. Multiply V(s') by (1 - terminated).",
                ),
                (
                    r + gamma * term * v,
                    "the flag is the wrong way round: bootstrap when the episode goes on, "
                    "(1 - terminated).",
                ),
                (
                    gamma * (r + (1 - term) * v),
                    "the reward is not discounted (it arrives now); only V(s') is "
                    "multiplied by gamma.",
                ),
                (
                    r + (1 - term) * v,
                    "the next state's value must be discounted: multiply V(s') by gamma.",
                ),
            ],
        )
        return wrong(f"{message or 'expected ' + fmt(want) + ', got ' + fmt(got) + '.'} {case}")
    return correct(
        f"{name}: y = r + gamma * (1 - terminated) * V(s'); a truncated transition still "
        "bootstraps."
    )


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
    import tensorflow as tf

    name = name_of(losses)
    rng = fresh_rng()
    for n, n_actions in (
        (int(rng.integers(5, 9)), 2),
        (1, 2),
        (int(rng.integers(3, 7)), int(rng.integers(3, 5))),
    ):
        logits_np, actions_np = policy_batch(rng, n, n_actions)
        values_np = np.round(rng.uniform(0.0, 5.0, size=n), 2).astype(np.float32)
        targets_np = np.round(
            values_np + rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.5, 3.0, size=n), 2
        ).astype(np.float32)
        logits, values, targets = (
            tf.Variable(logits_np),
            tf.Variable(values_np),
            tf.Variable(targets_np),
        )
        actions = tf.constant(actions_np)
        with tf.GradientTape(persistent=True) as tape:
            out = call_student(
                losses,
                logits,
                actions,
                values,
                targets,
                name=name,
                hint=tensor_hint,
                signature="(logits, actions, values, targets)",
            )
        assert_unchanged(
            name,
            [logits_np, values_np, targets_np],
            [logits.numpy(), values.numpy(), targets.numpy()],
            ["logits", "values", "targets"],
        )
        if out is None:
            return wrong(f"{name} returned None: return the pair (actor_loss, critic_loss).")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return wrong(
                f"{name} should return two numbers, (actor_loss, critic_loss), in this order."
            )
        arrays = [to_array(x, name, "two numbers, (actor_loss, critic_loss)") for x in out]
        for arr, which in zip(arrays, ("actor", "critic")):
            if arr.size != 1:
                return wrong(
                    f"the {which} loss should be one number (a mean over the batch), got shape "
                    f"{arr.shape}."
                )
        actor, critic = (float(a.reshape(())) for a in arrays)
        lp = _log_softmax(logits_np.astype(np.float64))
        rows = np.arange(n)
        log_pi = lp[rows, actions_np]
        delta = targets_np.astype(np.float64) - values_np
        want_actor, want_critic = -np.mean(delta * log_pi), np.mean(delta**2)
        case = (
            f"(logits {fmt(logits_np)}, actions {actions_np.tolist()}, values {fmt(values_np)}, "
            f"targets {fmt(targets_np)})"
        )
        half = np.isclose(critic, 0.5 * want_critic, rtol=1e-4, atol=1e-6)
        critic_ok = np.isclose(critic, want_critic, rtol=1e-4, atol=1e-6) or half
        if np.isclose(actor, want_critic, rtol=1e-4) and np.isclose(critic, want_actor, rtol=1e-4):
            return wrong("the two losses are swapped: return (actor_loss, critic_loss).")
        if not critic_ok:
            message = diagnose(
                critic,
                [
                    (
                        np.mean(-delta),
                        "the critic loss is missing its square: mean(V - y) can be made as small "
                        "as "
                        "you like by pushing V down forever. Regress V on the target: mean((y - "
                        "V)^2).",
                    ),
                    (np.mean(delta), "the critic loss is missing its square: mean((y - V)^2)."),
                    (
                        np.mean(np.abs(delta)),
                        "use the squared TD error for the critic, mean((y - V)^2), not its "
                        "absolute value.",
                    ),
                    (
                        np.sum(delta**2),
                        "use the mean over the batch, not the sum: mean((y - V)^2).",
                    ),
                    (
                        np.mean(delta) ** 2,
                        "square each TD error, then average: mean((y - V)^2), not mean(y - V)^2.",
                    ),
                ],
            )
            message = (
                message
                or f"the critic loss should be mean((y - V(s))^2) = {want_critic:.4f}, got "
                f"{critic:.4f}."
            )
            return wrong(f"{message} {case}")
        if not np.isclose(actor, want_actor, rtol=1e-4, atol=1e-6):
            message = diagnose(
                actor,
                [
                    (
                        -np.mean(targets_np * log_pi),
                        "weight log pi(a|s) by the TD error delta = y - V(s), not by the target y.",
                    ),
                    (
                        np.mean(delta * log_pi),
                        "the actor loss has the wrong sign: it is -mean(delta * log pi(a|s)).",
                    ),
                    (-np.mean(-delta * log_pi), "the TD error is upside down: delta = y - V(s)."),
                    (-np.mean(delta * np.exp(log_pi)), "use log pi(a|s), not pi(a|s)."),
                    (-np.sum(delta * log_pi), "use the mean over the batch, not the sum."),
                    (
                        -np.mean(delta * logits_np[rows, actions_np]),
                        "logits are not log-probabilities: apply tf.nn.log_softmax first.",
                    ),
                    (
                        -np.mean(delta[:, None] * lp),
                        "pick the log-probability of the action taken "
                        "(tf.gather(log_probs, actions, batch_dims=1)), not all of them.",
                    ),
                ],
            )
            message = (
                message
                or f"the actor loss should be -mean(delta * log pi(a|s)) = {want_actor:.4f}, got "
                f"{actor:.4f}."
            )
            return wrong(f"{message} {case}")
        a_logits, a_values, a_targets = grads_or_none(tape, out[0], [logits, values, targets])
        c_logits, c_values, c_targets = grads_or_none(tape, out[1], [logits, values, targets])
        del tape
        if a_logits is None or not moves(a_logits) or c_values is None or not moves(c_values):
            which = (
                "the logits (from the actor loss)"
                if (a_logits is None or not moves(a_logits))
                else "V(s) (from the critic loss)"
            )
            return wrong(
                f"the numbers are right, but no gradient reaches {which}, so nothing could learn "
                f"from it: compute both losses with TensorFlow operations on the tensors {name} "
                "receives (tf.nn.log_softmax, tf.gather, tf.reduce_mean, tf.square), not NumPy."
            )
        if moves(c_targets) or moves(a_targets):
            return wrong(
                "the numbers are right, but the losses send gradients into the TD target: the "
                "target "
                "must be held fixed (tf.stop_gradient(targets)), or V(s') is dragged towards V(s) "
                "as well."
            )
        if moves(a_values):
            return wrong(
                "the numbers are right, but the actor loss sends gradients into V(s): hold the TD "
                "error fixed in the actor loss (tf.stop_gradient(delta)); the critic learns from "
                "its "
                "own loss."
            )
        if moves(c_logits):
            return wrong(
                "the critic loss sends gradients into the policy's logits: it should depend on "
                "V(s) "
                "and the targets only."
            )
        want_c = -(1.0 if half else 2.0) * delta / n
        if not close(c_values, want_c, rtol=1e-3, atol=1e-6):
            return wrong(
                f"the critic loss has the right value but not the gradient of mean((y - V)^2) with "
                f"respect to V(s). {case}"
            )
        want_a = -(delta / n)[:, None] * (np.eye(n_actions)[actions_np] - np.exp(lp))
        if not close(a_logits, want_a, rtol=1e-3, atol=1e-6):
            return wrong(
                "the actor loss has the right value but its gradient with respect to the logits "
                "is "
                f"not -delta * grad log pi(a|s) / B. Is a tf.stop_gradient around log pi? {case}"
            )
    return correct(
        f"{name}: critic mean(delta^2) with the target held fixed; actor -mean(delta * log "
        "pi(a|s)) "
        "with delta held fixed. Gradients go where they should."
    )
