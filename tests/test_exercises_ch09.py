"""Chapter 9's checks: GAE, the clipped loss with its gradient, the actor's step, and the PPO
agent that must solve CartPole-v1 with the student's GAE and step."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    agent_rejects,
    agent_stubs_are_not_yet,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_clipped_loss, check_gae, check_ppo_actor_step, check_ppo_agent


def _gae(boot="terminated", cut="both", decay="gamma*lam", value_targets=False, forwards=False):
    def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
        ended = np.maximum(terminated, truncated)
        keep = {"terminated": 1 - terminated, "done": 1 - ended}[boot]
        deltas = rewards + gamma * keep * next_values - values
        stop = {"both": 1 - ended, "terminated": 1 - terminated, "never": np.ones_like(deltas)}[cut]
        k = {"gamma*lam": gamma * lam, "gamma": gamma, "lam": lam}[decay]
        out, a = np.zeros_like(deltas), np.zeros_like(deltas[0])
        steps = range(len(deltas)) if forwards else reversed(range(len(deltas)))
        for t in steps:
            if forwards:
                a = deltas[t] + k * (stop[t - 1] if t else 1) * a
            else:
                a = deltas[t] + k * stop[t] * a
            out[t] = a
        return out + values if value_targets else out

    return gae


gae = _gae()


def test_gae_accepts_the_reference_and_tensorflow():
    accepts(check_gae, gae)
    check_leaves_inputs_alone(check_gae, gae)
    stub_is_not_yet(check_gae)
    accepts(check_gae, lambda *args: tf.constant(gae(*args)))  # any array type


def test_gae_typical_mistakes():
    rejects(check_gae, _gae(boot="done"), "truncated step was cut by the time limit")
    rejects(check_gae, _gae(cut="terminated"), "after a truncated step the next row")
    rejects(check_gae, _gae(cut="never"), "stop the recursion")
    rejects(check_gae, _gae(decay="gamma"), "decays by gamma only")
    rejects(check_gae, _gae(decay="lam"), "decays by lam only")
    rejects(check_gae, _gae(value_targets=True), "return the advantages")
    rejects(check_gae, _gae(forwards=True), "backwards")


def _loop(deltas, not_done, k, late=False, reverse_rows=False):
    out, a = np.zeros_like(deltas), np.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        stop = (not_done[t + 1] if t + 1 < len(deltas) else 1.0) if late else not_done[t]
        a = deltas[t] + k * stop * a
        out[len(deltas) - 1 - t if reverse_rows else t] = a
    return out


def test_gae_more_mistakes():
    def late_flags(rewards, values, next_values, terminated, truncated, gamma, lam):
        deltas = rewards + gamma * (1 - terminated) * next_values - values
        return _loop(deltas, (1 - terminated) * (1 - truncated), gamma * lam, late=True)

    def minus_flags(rewards, values, next_values, terminated, truncated, gamma, lam):
        deltas = rewards + gamma * (1 - terminated) * next_values - values
        return _loop(deltas, 1 - terminated - truncated, gamma * lam)

    def truncated_in_delta(rewards, values, next_values, terminated, truncated, gamma, lam):
        deltas = rewards + gamma * (1 - truncated) * next_values - values
        return _loop(deltas, (1 - terminated) * (1 - truncated), gamma * lam)

    def reverse_order(rewards, values, next_values, terminated, truncated, gamma, lam):
        deltas = rewards + gamma * (1 - terminated) * next_values - values
        return _loop(deltas, (1 - terminated) * (1 - truncated), gamma * lam, reverse_rows=True)

    def one_per_step(rewards, values, next_values, terminated, truncated, gamma, lam):
        out, a = np.zeros(len(rewards)), 0.0
        for t in reversed(range(len(rewards))):
            a = rewards[t] + gamma * next_values[t] - values[t] + gamma * lam * a
            out[t] = a
        return out

    def normalised(*args):
        a = gae(*args)
        return (a - a.mean()) / (a.std() + 1e-8)

    rejects(check_gae, late_flags, "not done[t + 1]")
    rejects(check_gae, minus_flags, "-1 on a step that is both")
    rejects(check_gae, truncated_in_delta, "the other way round")
    rejects(check_gae, lambda r, v, *a: gae(r, 0 * v, *a), "subtract values[t]")
    rejects(check_gae, lambda r, v, nv, te, tr, g, lam: r + g * (1 - te) * nv - v, "TD errors")
    rejects(check_gae, reverse_order, "reverse time order")
    rejects(check_gae, normalised, "the agent normalises them")

    def transposed(r, v, nv, te, tr, g, lam):
        return gae(r.T, v.T, nv.T, te.T, tr.T, g, lam).T

    rejects(check_gae, transposed, "time first")
    # (gamma 0.99 in every case passed one call in 16: both gammas are in every call now)
    rejects(
        check_gae, lambda *a, gamma=0.99: gae(*a[:5], gamma, a[6]), "gamma and lam are", times=3
    )
    rejects(check_gae, lambda *a: gae(*a[:6], 0.95), "gamma and lam are parameters")
    rejects(check_gae, one_per_step, "np.zeros_like(rewards)")
    rejects(check_gae, lambda *a: (gae(*a), gae(*a) + a[1]), "return the advantages alone")


def test_gae_accepts_other_forms():
    def sum_of_future_deltas(rewards, values, next_values, terminated, truncated, gamma, lam):
        deltas = rewards + gamma * (1 - terminated) * next_values - values
        not_done = (1 - terminated) * (1 - truncated)
        out = np.zeros_like(deltas)
        for t in range(len(deltas)):
            weight = np.ones_like(deltas[0])
            for k in range(t, len(deltas)):
                out[t] += weight * deltas[k]
                weight = weight * gamma * lam * not_done[k]
        return out

    def tensorflow_stack(rewards, values, next_values, terminated, truncated, gamma, lam):
        deltas = tf.constant(rewards + gamma * (1 - terminated) * next_values - values)
        not_done = (1 - terminated) * (1 - truncated)
        rows, a = [], tf.zeros_like(deltas[0])
        for t in reversed(range(len(rewards))):
            a = deltas[t] + gamma * lam * not_done[t] * a
            rows.append(a)
        return tf.stack(rows[::-1])

    accepts(check_gae, sum_of_future_deltas)
    accepts(check_gae, tensorflow_stack)
    accepts(check_gae, lambda *args: list(gae(*args)))  # a list of rows


def test_gae_constant_and_shape_answers():
    rejects(check_gae, lambda r, v, nv, te, tr, g, lam: np.zeros_like(r), "expected")
    rejects(
        check_gae, lambda r, v, nv, te, tr, g, lam: gae(r, v, nv, te, tr, g, lam).ravel(), "shape"
    )
    raising_shows_student_line(check_gae, lambda r, *a: r.nope, "r.nope")


def clipped_loss(log_probs, old_log_probs, advantages, clip_eps):
    ratio = tf.exp(log_probs - old_log_probs)
    clipped = tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)
    return -tf.reduce_mean(tf.minimum(ratio * advantages, clipped * advantages))


def _loss(kind):
    def loss(log_probs, old_log_probs, advantages, eps):
        rho = {
            "inverted": tf.exp(old_log_probs - log_probs),
            "difference": log_probs - old_log_probs,
        }.get(kind, tf.exp(log_probs - old_log_probs))
        clipped = tf.clip_by_value(rho, 1 - eps, 1 + eps) * advantages
        term = {
            "max": tf.maximum(rho * advantages, clipped),
            "unclipped": rho * advantages,
            "only": clipped,
        }.get(kind, tf.minimum(rho * advantages, clipped))
        if kind == "sum":
            return -tf.reduce_sum(term)
        return tf.reduce_mean(term) if kind == "objective" else -tf.reduce_mean(term)

    return loss


def test_clipped_loss_accepts_the_reference_and_the_library():
    from rlbook.losses import ppo_clip_loss

    accepts(check_clipped_loss, clipped_loss)
    accepts(check_clipped_loss, ppo_clip_loss)
    stub_is_not_yet(check_clipped_loss)


def test_clipped_loss_typical_mistakes():
    rejects(check_clipped_loss, _loss("max"), "PPO is pessimistic")
    rejects(check_clipped_loss, _loss("objective"), "the optimizer minimises")
    rejects(check_clipped_loss, _loss("inverted"), "upside down")
    rejects(check_clipped_loss, _loss("difference"), "not their difference")
    rejects(check_clipped_loss, _loss("unclipped"), "the ratio is not clipped")
    rejects(check_clipped_loss, _loss("only"), "clipped term alone")
    rejects(check_clipped_loss, _loss("sum"), "use the mean")


def test_clipped_loss_more_mistakes():
    def fixed_eps(log_probs, old_log_probs, advantages, clip_eps):
        return clipped_loss(log_probs, old_log_probs, advantages, 0.2)

    def min_of_ratios(log_probs, old_log_probs, advantages, clip_eps):
        ratio = tf.exp(log_probs - old_log_probs)
        clipped = tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)
        return -tf.reduce_mean(tf.minimum(ratio, clipped) * advantages)

    def clips_the_product(log_probs, old_log_probs, advantages, clip_eps):
        surrogate = tf.exp(log_probs - old_log_probs) * advantages
        clipped = tf.clip_by_value(surrogate, 1 - clip_eps, 1 + clip_eps)
        return -tf.reduce_mean(tf.minimum(surrogate, clipped))

    def around_zero(log_probs, old_log_probs, advantages, clip_eps):
        ratio = tf.exp(log_probs - old_log_probs)
        clipped = tf.clip_by_value(ratio, -clip_eps, clip_eps)
        return -tf.reduce_mean(tf.minimum(ratio * advantages, clipped * advantages))

    def quotient(log_probs, old_log_probs, advantages, clip_eps):
        ratio = log_probs / old_log_probs
        clipped = tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)
        return -tf.reduce_mean(tf.minimum(ratio * advantages, clipped * advantages))

    def normalises(log_probs, old_log_probs, advantages, clip_eps):
        mean, std = tf.reduce_mean(advantages), tf.math.reduce_std(advantages)
        return clipped_loss(log_probs, old_log_probs, (advantages - mean) / (std + 1e-8), clip_eps)

    def reduce_min(log_probs, old_log_probs, advantages, clip_eps):
        ratio = tf.exp(log_probs - old_log_probs)
        clipped = tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)
        return -tf.reduce_mean(tf.reduce_min(ratio * advantages, clipped * advantages))

    def python_min(log_probs, old_log_probs, advantages, clip_eps):
        ratio = tf.exp(log_probs - old_log_probs)
        clipped = tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)
        return -tf.reduce_mean(min(ratio * advantages, clipped * advantages))

    # (clip_eps 0.2 in the first case: a fixed 0.2 passed four calls in five)
    rejects(check_clipped_loss, fixed_eps, "not a fixed 0.2", times=3)
    # (passed one call in five when no pushing-down sample had its ratio outside the range)
    rejects(check_clipped_loss, min_of_ratios, "not of the ratios", times=3)
    rejects(check_clipped_loss, clips_the_product, "clip the ratio, not the product")
    rejects(check_clipped_loss, around_zero, "not to [-eps, eps]")
    rejects(check_clipped_loss, quotient, "not of the log-probabilities")
    rejects(check_clipped_loss, normalises, "the actor step's job")
    rejects(check_clipped_loss, reduce_min, "tf.minimum(x, y)")
    rejects(check_clipped_loss, python_min, "tf.minimum(x, y)")


def test_clipped_loss_accepts_other_forms():
    def exp_over_exp(log_probs, old_log_probs, advantages, clip_eps):
        ratio = tf.exp(log_probs) / tf.exp(old_log_probs)
        clipped = tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)
        return -tf.reduce_mean(tf.minimum(ratio * advantages, clipped * advantages))

    def numpy_advantages(log_probs, old_log_probs, advantages, clip_eps):  # no gradient needed
        return clipped_loss(log_probs, old_log_probs, advantages.numpy(), clip_eps)

    accepts(check_clipped_loss, exp_over_exp)
    accepts(check_clipped_loss, numpy_advantages)


def test_clipped_loss_without_gradient_or_constant():
    def numpy_loss(log_probs, old_log_probs, advantages, eps):
        ratio = np.exp(log_probs.numpy() - old_log_probs.numpy())
        clipped = np.clip(ratio, 1 - eps, 1 + eps) * advantages.numpy()
        return -np.mean(np.minimum(ratio * advantages.numpy(), clipped))

    rejects(check_clipped_loss, numpy_loss, "no gradient reaches log_probs")
    rejects(check_clipped_loss, lambda lp, old, adv, eps: tf.constant(0.0), "expected the loss")
    rejects(check_clipped_loss, lambda lp, old, adv, eps: lp * 0.0, "one number")


def _step(
    normalize=True, logits=False, sign=1.0, eps=None, steps=1, pick="taken", surrogate=None, norm=0
):
    def ppo_actor_step(policy, optimizer, obs, actions, old_log_probs, advantages, clip_eps):
        mean, std = tf.reduce_mean(advantages), tf.math.reduce_std(advantages)
        if normalize in (True, "center"):
            advantages = advantages - mean
        if normalize in (True, "scale"):
            advantages = advantages / (std + 1e-8)
        with tf.GradientTape() as tape:
            out = policy(obs)
            log_pi = {True: out, False: tf.nn.log_softmax(out), "probs": tf.nn.softmax(out)}[logits]
            log_probs = {
                "taken": lambda: tf.gather(log_pi, actions, batch_dims=1),
                "one-hot": lambda: tf.reduce_sum(log_pi * tf.one_hot(actions, out.shape[1]), 1),
                "first": lambda: log_pi[:, 0],
                "no batch_dims": lambda: tf.gather(log_pi, actions),
            }[pick]()
            loss = sign * (surrogate or clipped_loss)(
                log_probs, old_log_probs, advantages, clip_eps if eps is None else eps
            )
        grads = tape.gradient(loss, policy.trainable_variables)
        grads = tf.clip_by_global_norm(grads, norm)[0] if norm else grads
        for _ in range(steps):
            optimizer.apply_gradients(zip(grads, policy.trainable_variables))

    return ppo_actor_step


ppo_actor_step = _step()


def test_actor_step_accepts_the_reference():
    accepts(check_ppo_actor_step, ppo_actor_step)
    stub_is_not_yet(check_ppo_actor_step)


def test_actor_step_typical_mistakes():
    rejects(check_ppo_actor_step, _step(normalize=False), "normalise them over the minibatch")
    rejects(check_ppo_actor_step, _step(logits=True), "treats the logits as log-probabilities")
    rejects(check_ppo_actor_step, _step(sign=-1.0), "moved *up* the loss")
    rejects(check_ppo_actor_step, _step(eps=0.9), "ignores clip_eps")
    rejects(check_ppo_actor_step, _step(steps=2), "took 2 steps")
    rejects(check_ppo_actor_step, lambda *args: None, "did not change the policy")


def test_actor_step_more_mistakes():
    # (clip_eps was 0.1 or 0.2 at random and no ratio sat between 1.1 and 1.2: a fixed 0.2 passed)
    rejects(check_ppo_actor_step, _step(eps=0.2), "not a fixed 0.2", times=2)
    rejects(check_ppo_actor_step, _step(normalize="center"), "centred but not scaled")
    rejects(check_ppo_actor_step, _step(normalize="scale"), "scaled but not centred")
    rejects(check_ppo_actor_step, _step(logits="probs"), "the probabilities pi(a|s)")
    rejects(check_ppo_actor_step, _step(pick="first"), "action 0 in every state")
    rejects(check_ppo_actor_step, _step(pick="no batch_dims"), "batch_dims=1")
    rejects(check_ppo_actor_step, _step(surrogate=_loss("max")), "pass check_clipped_loss first")
    rejects(check_ppo_actor_step, _step(surrogate=_loss("sum")), "pass check_clipped_loss first")
    # the agent's own step shortens the gradient (max_grad_norm): the exercise's must not
    for norm in (0.1, 0.3):
        rejects(check_ppo_actor_step, _step(norm=norm), "right direction but is too short")


def test_actor_step_accepts_other_forms():
    def numpy_normalised(policy, optimizer, obs, actions, old_log_probs, advantages, clip_eps):
        a = advantages.numpy()  # (eagerly only: the agent check says so)
        a = (a - a.mean()) / (a.std() + 1e-8)
        with tf.GradientTape() as tape:
            log_pi = tf.nn.log_softmax(policy(obs))
            log_probs = tf.gather(log_pi, actions, batch_dims=1)
            loss = clipped_loss(log_probs, old_log_probs, a, clip_eps)
        grads = tape.gradient(loss, policy.trainable_variables)
        optimizer.apply_gradients(zip(grads, policy.trainable_variables))

    accepts(check_ppo_actor_step, _step(pick="one-hot"))
    accepts(check_ppo_actor_step, numpy_normalised)


def test_ppo_agent_solves_cartpole_with_the_reference():
    verdict = check_ppo_agent(gae, ppo_actor_step)
    assert verdict.ok, verdict.message
    assert "your own PPO solves CartPole" in verdict.message


def test_ppo_agent_stubs_and_mistakes():
    agent_stubs_are_not_yet(check_ppo_agent, gae, ppo_actor_step)
    # The sum runs across episode ends: CartPole may forgive it, the unit check names it.
    agent_rejects(check_ppo_agent, _gae(cut="never"), ppo_actor_step, "stop the recursion")
    # The policy climbs its loss: the agent does not solve CartPole.
    verdict = agent_rejects(check_ppo_agent, gae, _step(sign=-1.0), "it did not learn")
    assert "moved *up* the loss" in verdict.message


def test_ppo_agent_crash_shows_the_students_line():
    def numpy_step(policy, optimizer, obs, actions, old_log_probs, advantages, clip_eps):
        return policy(obs).reshape(-1)  # a NumPy method on a tensor

    verdict = agent_rejects(
        check_ppo_agent, gae, numpy_step, "Training stopped", "policy(obs).reshape(-1)"
    )
    assert "raised" in verdict.message


def test_ppo_agent_own_optimizer_is_not_called_numpy():
    def own_optimizer(policy, optimizer, obs, actions, old_log_probs, advantages, clip_eps):
        mean, std = tf.reduce_mean(advantages), tf.math.reduce_std(advantages)
        with tf.GradientTape() as tape:
            log_probs = tf.gather(tf.nn.log_softmax(policy(obs)), actions, batch_dims=1)
            loss = clipped_loss(log_probs, old_log_probs, (advantages - mean) / std, clip_eps)
        grads = tape.gradient(loss, policy.trainable_variables)
        tf.keras.optimizers.Adam(3e-4).apply_gradients(zip(grads, policy.trainable_variables))

    # (stops at the first training call: tf.function allows new variables on the first call only)
    verdict = agent_rejects(
        check_ppo_agent, gae, own_optimizer, "Training stopped", "only the first time"
    )
    assert "not with the optimizer you are given" in verdict.message
    assert "not NumPy" not in verdict.message
