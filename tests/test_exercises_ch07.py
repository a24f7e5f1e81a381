"""Chapter 7's checks: one-step TD targets, the actor and critic losses with their gradients,
n-step targets, the actor-critic step, and the agent that learns with the student's targets and
step."""

import keras
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
    wrong_picks,
)

from rlbook.exercises import (
    check_actor_critic_agent,
    check_actor_critic_losses,
    check_actor_critic_step,
    check_n_step_targets,
    check_td_targets,
)


def td_targets(rewards, next_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_values


def test_td_targets_accepts_the_reference():
    accepts(check_td_targets, td_targets)
    check_leaves_inputs_alone(check_td_targets, td_targets)
    stub_is_not_yet(check_td_targets)


def test_td_targets_typical_mistakes():
    rejects(
        check_td_targets,
        lambda r, v, term, trunc, g: r + g * (1 - np.maximum(term, trunc)) * v,
        "done = terminated or truncated",
    )
    rejects(
        check_td_targets,
        lambda r, v, term, trunc, g: r + g * (1 - trunc) * v,
        "instead of terminated",
    )
    rejects(check_td_targets, lambda r, v, term, trunc, g: r + g * v, "(1 - terminated)")
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: g * (r + (1 - term) * v), "not discounted"
    )
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: r + (1 - term) * v, "multiply it by gamma"
    )
    rejects(check_td_targets, lambda r, v, term, trunc, g: r + g * term * v, "wrong way round")
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: np.array([2.8, 1.0, 6.4, 7.7]), ""
    )  # the old answer
    rejects(check_td_targets, lambda r, v, term, trunc, g: r, "expected")  # constant bootstrap

    def subtracts_both(r, v, term, trunc, g):
        return r + g * (1 - term - trunc) * v

    rejects(check_td_targets, subtracts_both, "only on terminated")

    def in_place(rewards, next_values, terminated, truncated, gamma):
        next_values *= gamma * (1.0 - terminated)
        return rewards + next_values

    rejects(check_td_targets, in_place, "`next_values` in place")

    def if_terminated(rewards, next_values, terminated, truncated, gamma):
        if terminated:
            return rewards
        return rewards + gamma * next_values

    raising_shows_student_line(check_td_targets, if_terminated, "if terminated:")


def my_losses(logits, actions, values, targets):
    delta = tf.stop_gradient(targets) - values
    log_pi = tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)
    actor_loss = -tf.reduce_mean(tf.stop_gradient(delta) * log_pi)
    critic_loss = tf.reduce_mean(tf.square(delta))
    return actor_loss, critic_loss


def _log_pi(logits, actions):
    return tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)


def test_actor_critic_losses_accept_the_reference_and_a_half_square():
    accepts(check_actor_critic_losses, my_losses, times=2)

    def half(logits, actions, values, targets):
        actor, critic = my_losses(logits, actions, values, targets)
        return actor, 0.5 * critic

    accepts(check_actor_critic_losses, half, times=1)
    stub_is_not_yet(check_actor_critic_losses)


def _losses(actor=None, critic=None):
    def fn(logits, actions, values, targets):
        delta = tf.stop_gradient(targets) - values
        a = (
            actor(logits, actions, values, targets, delta)
            if actor
            else -tf.reduce_mean(tf.stop_gradient(delta) * _log_pi(logits, actions))
        )
        c = critic(values, targets, delta) if critic else tf.reduce_mean(tf.square(delta))
        return a, c

    return fn


def test_actor_critic_losses_typical_mistakes():
    rejects(check_actor_critic_losses, lambda *args: my_losses(*args)[::-1], "swapped")
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(d)),
        "missing its square",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(tf.abs(d))),
        "absolute value",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(d) ** 2),
        "then average",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.reduce_mean(tf.square(y - v))),
        "held fixed (tf.stop_gradient(targets))",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: -tf.reduce_mean(d * _log_pi(lg, a))),
        "tf.stop_gradient(delta)",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: -tf.reduce_mean(y * _log_pi(lg, a))),
        "not by the target y",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: tf.reduce_mean(tf.stop_gradient(d) * _log_pi(lg, a))),
        "wrong sign",
    )
    rejects(
        check_actor_critic_losses,
        _losses(
            actor=lambda lg, a, v, y, d: (
                -tf.reduce_mean(tf.stop_gradient(d) * tf.exp(_log_pi(lg, a)))
            )
        ),
        "not pi(a|s)",
    )
    rejects(
        check_actor_critic_losses,
        _losses(actor=lambda lg, a, v, y, d: -tf.reduce_sum(tf.stop_gradient(d) * _log_pi(lg, a))),
        "not the sum",
    )
    rejects(check_actor_critic_losses, lambda *args: (0.5, 1.0), "should be")  # constant

    def numpy_losses(logits, actions, values, targets):
        z = logits.numpy()
        log_pi = (z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[
            np.arange(len(z)), actions.numpy()
        ]
        delta = targets.numpy() - values.numpy()
        return -np.mean(delta * log_pi), np.mean(delta**2)

    rejects(check_actor_critic_losses, numpy_losses, "no gradient reaches")
    raising_shows_student_line(
        check_actor_critic_losses,
        lambda lg, a, v, y: (lg.max(axis=1), tf.reduce_mean((y - v) ** 2)),
        "lg.max(axis=1)",
    )


# -- n-step targets -------------------------------------------------------------------------------


def n_step_targets(rewards, dones, last_values, gamma):
    targets = np.zeros_like(rewards)
    y = last_values
    for t in reversed(range(len(rewards))):
        y = rewards[t] + gamma * (1.0 - dones[t]) * y
        targets[t] = y
    return targets


def _backwards(step, start=lambda last_values: last_values, reverse=True):
    """n-step targets with one part replaced (each a typical mistake)."""

    def targets(rewards, dones, last_values, gamma):
        y, out = start(last_values), []
        for t in reversed(range(len(rewards))):
            y = step(rewards[t], dones[t], y, gamma, t == len(rewards) - 1)
            out.append(y)
        return np.array(out[::-1] if reverse else out)

    return targets


def test_n_step_targets_accepts_the_reference():
    accepts(check_n_step_targets, n_step_targets)
    check_leaves_inputs_alone(check_n_step_targets, n_step_targets)
    stub_is_not_yet(check_n_step_targets)


def test_n_step_targets_typical_mistakes():
    rejects(
        check_n_step_targets,
        _backwards(lambda r, d, y, g, last: r + g * y),
        "not reset at episode ends",
    )
    rejects(
        check_n_step_targets,
        _backwards(lambda r, d, y, g, last: r + g * (1 - d) * y, start=lambda v: 0 * v),
        "do not start from the bootstrap value",
    )
    rejects(
        check_n_step_targets,
        _backwards(lambda r, d, y, g, last: r + (1 if last else g) * (1 - d) * y),
        "bootstrap value is not discounted",
    )
    rejects(
        check_n_step_targets,
        lambda rewards, dones, last_values, gamma: rewards + gamma * (1 - dones) * last_values,
        "every y_t bootstraps from V(s_T) after one reward",
    )
    rejects(
        check_n_step_targets,
        _backwards(lambda r, d, y, g, last: r + g * (1 if last else 1 - d) * y),
        "no bootstrapping through episode ends",
    )
    rejects(
        check_n_step_targets,
        _backwards(lambda r, d, y, g, last: r + g * (1 - d) * y, reverse=False),
        "reverse order",
    )
    rejects(check_n_step_targets, _backwards(lambda r, d, y, g, last: r + g * d * y), "wrong way")
    rejects(
        check_n_step_targets,
        lambda rewards, dones, last_values, gamma: (
            n_step_targets(rewards, dones, last_values, gamma).T
        ),
        "the time axis comes first",
    )
    rejects(
        check_n_step_targets, lambda rewards, dones, last_values, gamma: np.ones((4, 3)), "expected"
    )  # constant

    def in_place(rewards, dones, last_values, gamma):
        rewards *= 1.0 - dones  # "clean" the rewards of ended episodes: the caller's array changes
        return n_step_targets(rewards, dones, last_values, gamma)

    rejects(check_n_step_targets, in_place, "`rewards` in place")

    def python_if(rewards, dones, last_values, gamma):
        targets, y = np.zeros_like(rewards), last_values
        for t in reversed(range(len(rewards))):
            if dones[t]:
                y = 0.0
            y = rewards[t] + gamma * y
            targets[t] = y
        return targets

    raising_shows_student_line(check_n_step_targets, python_if, "if dones[t]:")


# -- the actor-critic step ------------------------------------------------------------------------


def actor_critic_step(
    policy, value_network, policy_optimizer, value_optimizer, obs, actions, targets, critic_steps
):
    delta = tf.stop_gradient(targets - value_network(obs)[:, 0])
    with tf.GradientTape() as tape:
        log_pi = tf.gather(tf.nn.log_softmax(policy(obs)), actions, batch_dims=1)
        actor_loss = -tf.reduce_mean(delta * log_pi)
    grads = tape.gradient(actor_loss, policy.trainable_variables)
    policy_optimizer.apply_gradients(zip(grads, policy.trainable_variables))
    for _ in range(critic_steps):
        with tf.GradientTape() as tape:
            critic_loss = tf.reduce_mean(tf.square(targets - value_network(obs)[:, 0]))
        grads = tape.gradient(critic_loss, value_network.trainable_variables)
        value_optimizer.apply_gradients(zip(grads, value_network.trainable_variables))


def _log_pi_of(policy, obs, actions):
    return tf.gather(tf.nn.log_softmax(policy(obs)), actions, batch_dims=1)


def _fixed_actor(p, v, o, a, y):
    return -tf.reduce_mean(tf.stop_gradient(y - v(o)[:, 0]) * _log_pi_of(p, o, a))


def _mse(v, o, y):
    return tf.reduce_mean(tf.square(y - v(o)[:, 0]))


def _ac_step(
    actor=_fixed_actor,
    critic=_mse,
    steps=lambda k: k,
    critic_first=False,
    one_loss=False,
    swap=False,
):
    """An actor-critic step with one part replaced (each a typical mistake)."""

    def step(policy, value_network, policy_optimizer, value_optimizer, obs, actions, targets, k):
        pi_opt, v_opt = (
            (value_optimizer, policy_optimizer)
            if swap
            else (
                policy_optimizer,
                value_optimizer,
            )
        )

        def fit_critic():
            for _ in range(steps(k)):
                with tf.GradientTape() as tape:
                    loss = critic(value_network, obs, targets)
                grads = tape.gradient(loss, value_network.trainable_variables)
                v_opt.apply_gradients(zip(grads, value_network.trainable_variables))

        if critic_first:
            fit_critic()
        with tf.GradientTape(persistent=True) as tape:
            actor_loss = actor(policy, value_network, obs, actions, targets)
            total = actor_loss + critic(value_network, obs, targets)
        grads = tape.gradient(actor_loss, policy.trainable_variables)
        pi_opt.apply_gradients(zip(grads, policy.trainable_variables))
        if one_loss:  # the critic's step on actor_loss + critic_loss, as shared-network code does
            grads = tape.gradient(total, value_network.trainable_variables)
            v_opt.apply_gradients(zip(grads, value_network.trainable_variables))
        elif not critic_first:
            fit_critic()

    return step


def test_actor_critic_step_accepts_the_reference_and_equivalent_forms():
    accepts(check_actor_critic_step, actor_critic_step)
    half = _ac_step(critic=lambda v, o, y: 0.5 * _mse(v, o, y))
    accepts(check_actor_critic_step, half, times=1)
    stub_is_not_yet(check_actor_critic_step)


def _no_stop_actor(p, v, o, a, y):
    return -tf.reduce_mean((y - v(o)[:, 0]) * _log_pi_of(p, o, a))


def test_actor_critic_step_typical_mistakes():
    def sign(p, v, o, a, y):
        return -_fixed_actor(p, v, o, a, y)

    def summed(p, v, o, a, y):
        return -tf.reduce_sum(tf.stop_gradient(y - v(o)[:, 0]) * _log_pi_of(p, o, a))

    def by_target(p, v, o, a, y):
        return -tf.reduce_mean(y * _log_pi_of(p, o, a))

    def broadcast(p, v, o, a, y):
        return -tf.reduce_mean(tf.stop_gradient(y - v(o)) * _log_pi_of(p, o, a))

    rejects(check_actor_critic_step, _ac_step(actor=sign), "the sign is flipped")
    rejects(check_actor_critic_step, _ac_step(actor=summed), "not the sum")
    rejects(check_actor_critic_step, _ac_step(actor=by_target), "by the target y")
    rejects(check_actor_critic_step, _ac_step(actor=broadcast), "B x B")
    rejects(check_actor_critic_step, _ac_step(critic_first=True), "after the critic's steps")
    rejects(
        check_actor_critic_step,
        _ac_step(actor=_no_stop_actor, one_loss=True),
        "also got the gradient of the actor's loss",
    )
    rejects(
        check_actor_critic_step,
        _ac_step(critic=lambda v, o, y: tf.reduce_mean(v(o)[:, 0] - y)),
        "missing its square",
    )
    rejects(
        check_actor_critic_step,
        _ac_step(critic=lambda v, o, y: tf.reduce_mean(tf.abs(y - v(o)[:, 0]))),
        "not its absolute value",
    )
    rejects(
        check_actor_critic_step,
        _ac_step(critic=lambda v, o, y: tf.reduce_sum(tf.square(y - v(o)[:, 0]))),
        "not the sum",
    )
    rejects(
        check_actor_critic_step,
        _ac_step(critic=lambda v, o, y: tf.reduce_mean(tf.square(y - v(o)))),
        "pulls every V(s) towards the *mean* target",
    )
    rejects(check_actor_critic_step, _ac_step(steps=lambda k: 1), "take critic_steps")

    def one_gradient_many_steps(
        policy, value_network, policy_optimizer, value_optimizer, obs, actions, targets, k
    ):
        _ac_step(steps=lambda k: 0)(
            policy, value_network, policy_optimizer, value_optimizer, obs, actions, targets, k
        )
        with tf.GradientTape() as tape:
            loss = _mse(value_network, obs, targets)
        grads = tape.gradient(loss, value_network.trainable_variables)
        for _ in range(k):  # the gradient of the first step, applied k times
            value_optimizer.apply_gradients(zip(grads, value_network.trainable_variables))

    rejects(check_actor_critic_step, one_gradient_many_steps, "a new GradientTape inside the loop")
    rejects(check_actor_critic_step, _ac_step(swap=True), "each network has its own optimizer")


def test_actor_critic_step_constant_answers():
    rejects(check_actor_critic_step, lambda *args: None, "did not change the value network")
    rejects(
        check_actor_critic_step, _ac_step(steps=lambda k: 0), "did not change the value network"
    )


# -- the student's own agent ----------------------------------------------------------------------


def test_actor_critic_agent_learns_with_the_reference():
    verdict = check_actor_critic_agent(n_step_targets, actor_critic_step)
    assert verdict.ok, verdict.message
    assert "sampling its actions" in verdict.message and "your own code learns" in verdict.message


def test_actor_critic_agent_stubs_are_not_yet():
    agent_stubs_are_not_yet(check_actor_critic_agent, n_step_targets, actor_critic_step)


def _agent_rejects(first, second, *phrases):
    return agent_rejects(check_actor_critic_agent, first, second, *phrases)


def test_actor_critic_agent_typical_mistakes():
    # Bootstrapping through episode ends: CartPole forgives it, the unit check names it.
    _agent_rejects(
        _backwards(lambda r, d, y, g, last: r + g * y), actor_critic_step, "not reset at episode"
    )
    # The critic never learns its values: no square.
    _agent_rejects(
        n_step_targets,
        _ac_step(critic=lambda v, o, y: tf.reduce_mean(v(o)[:, 0] - y)),
        "missing its square",
    )
    # The policy climbs the loss: it does not learn.
    verdict = _agent_rejects(
        n_step_targets, _ac_step(actor=lambda *a: -_fixed_actor(*a)), "it did not learn"
    )
    assert "the sign is flipped" in verdict.message


def test_actor_critic_agent_constant_answer_does_not_learn():
    verdict = _agent_rejects(
        lambda rewards, dones, last_values, gamma: np.zeros_like(rewards),
        actor_critic_step,
        "it did not learn",
    )
    assert "About your function" in verdict.message


def test_actor_critic_agent_crash_shows_the_students_line():
    def numpy_method(
        policy, value_network, policy_optimizer, value_optimizer, obs, actions, targets, k
    ):
        values = value_network(obs).reshape(-1)  # a NumPy method on a tensor
        return values

    verdict = _agent_rejects(
        n_step_targets, numpy_method, "Training stopped", "value_network(obs).reshape(-1)"
    )
    assert "raised" in verdict.message and "TensorFlow operations" in verdict.message


# -- what the agent varies: the optimizers and the sizes ------------------------------------------


def test_actor_critic_step_right_only_with_sgd_is_rejected():
    def hand_written_critic(policy, value_network, policy_optimizer, value_optimizer, obs,
                            actions, targets, critic_steps):  # fmt: skip
        _ac_step(steps=lambda k: 0)(policy, value_network, policy_optimizer, value_optimizer,
                                    obs, actions, targets, critic_steps)  # fmt: skip
        for _ in range(critic_steps):
            with tf.GradientTape() as tape:
                loss = _mse(value_network, obs, targets)
            grads = tape.gradient(loss, value_network.trainable_variables)
            for var, grad in zip(value_network.trainable_variables, grads):
                var.assign_sub(value_optimizer.learning_rate * grad)

    rejects(check_actor_critic_step, hand_written_critic, "not with the optimizer you are given")


def test_actor_critic_step_right_only_for_small_batches_is_rejected():
    def first_thirty_two(policy, value_network, policy_optimizer, value_optimizer, obs, actions,
                         targets, critic_steps):  # fmt: skip
        actor_critic_step(policy, value_network, policy_optimizer, value_optimizer, obs[:32],
                          actions[:32], targets[:32], critic_steps)  # fmt: skip

    rejects(check_actor_critic_step, first_thirty_two, "did not move", "the agent's size")


def test_n_step_targets_right_only_for_short_rollouts_is_rejected():
    def eight_steps_at_most(rewards, dones, last_values, gamma):
        targets = n_step_targets(rewards, dones, last_values, gamma)
        targets[8:] = 0.0  # a buffer of 8 steps, written for the small cases
        return targets

    rejects(check_n_step_targets, eight_steps_at_most, "the agent's size")


# -- red-team answers: more slips, and other correct forms ---------------------------------------


def test_td_targets_accepts_other_correct_forms():
    accepts(
        check_td_targets,
        lambda r, v, term, trunc, g: np.where(term, r, r + g * v),
        times=1,
    )
    accepts(
        check_td_targets,
        lambda r, v, term, trunc, g: r + g * ~term.astype(bool) * v,
        times=1,
    )
    accepts(
        check_td_targets,
        lambda r, v, term, trunc, g: tf.constant(r) + g * (1 - term) * v,
        times=1,
    )


def test_td_targets_more_typical_mistakes():
    rejects(
        check_td_targets, lambda r, v, term, trunc, g: r + 0.99 * (1 - term) * v, "gamma you are"
    )
    rejects(
        check_td_targets,
        lambda r, v, term, trunc, g: (1 - term) * (r + g * v),
        "its reward r, not 0",
    )
    rejects(
        check_td_targets,
        lambda r, v, term, trunc, g: r + g * (1 - term) * v - v,
        "you subtracted V(s')",
    )
    for slip, line in (
        (lambda r, v, term, trunc, g: np.where(term | trunc, r, r + g * v), "term | trunc"),
        (lambda r, v, term, trunc, g: r + g * (~term) * v, "(~term)"),
    ):
        verdict = raising_shows_student_line(check_td_targets, slip, line)
        assert "work on booleans only" in verdict.message


def test_actor_critic_losses_accept_keras_mse():
    accepts(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: keras.losses.mean_squared_error(tf.stop_gradient(y), v)),
        times=1,
    )


def test_actor_critic_losses_more_typical_mistakes():
    huber = keras.losses.Huber()
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: huber(tf.stop_gradient(y), v)),
        "not the Huber loss",
    )
    rejects(
        check_actor_critic_losses,
        _losses(critic=lambda v, y, d: tf.sqrt(tf.reduce_mean(tf.square(d)))),
        "without a square root",
    )

    def actor(log_pi, weight=tf.stop_gradient):
        return _losses(actor=lambda lg, a, v, y, d: -tf.reduce_mean(weight(d) * log_pi(lg, a)))

    def normalised(d):
        d = tf.stop_gradient(d)
        return (d - tf.reduce_mean(d)) / (tf.math.reduce_std(d) + 1e-8)

    rejects(check_actor_critic_losses, actor(_log_pi, normalised), "normalised to mean 0")
    for log_pi, phrase in wrong_picks():
        rejects(check_actor_critic_losses, actor(log_pi), phrase)

    def whole_rows(logits, actions):
        return tf.gather(tf.nn.log_softmax(logits), actions)

    verdict = raising_shows_student_line(
        check_actor_critic_losses, actor(whole_rows), "weight(d) * log_pi(lg, a)"
    )
    assert "batch_dims=1" in verdict.message


def test_n_step_targets_accepts_other_correct_forms():
    def per_copy(rewards, dones, last_values, gamma):
        out = np.zeros(rewards.shape)
        for i in range(rewards.shape[1]):
            y = last_values[i]
            for t in reversed(range(len(rewards))):
                y = rewards[t, i] + gamma * (1 - dones[t, i]) * y
                out[t, i] = y
        return out

    def in_place_on_a_copy(rewards, dones, last_values, gamma):
        targets, y = np.zeros_like(rewards), last_values.copy()
        for t in reversed(range(len(rewards))):
            y *= gamma * (1.0 - dones[t])
            y += rewards[t]
            targets[t] = y
        return targets

    accepts(check_n_step_targets, per_copy, times=1)
    accepts(check_n_step_targets, in_place_on_a_copy, times=1)
    accepts(check_n_step_targets, _backwards(lambda r, d, y, g, last: r + g * (1 - d) * y), times=1)


def test_n_step_targets_more_typical_mistakes():
    def stops_before_zero(rewards, dones, last_values, gamma):
        targets, y = np.zeros_like(rewards), last_values
        for t in range(len(rewards) - 1, 0, -1):
            y = rewards[t] + gamma * (1.0 - dones[t]) * y
            targets[t] = y
        return targets

    rejects(check_n_step_targets, stops_before_zero, "y_0 is missing")
    rejects(
        check_n_step_targets,
        lambda rewards, dones, last_values, gamma: n_step_targets(
            rewards, dones, last_values, 0.99
        ),
        "the gamma you are given",
    )

    def copies_as_time(rewards, dones, last_values, gamma):
        targets, y = np.zeros_like(rewards), last_values
        for t in reversed(range(rewards.shape[1])):
            y = rewards[:, t] + gamma * (1.0 - dones[:, t]) * y
            targets[:, t] = y
        return targets

    verdict = raising_shows_student_line(check_n_step_targets, copies_as_time, "rewards[:, t]")
    assert "time-major" in verdict.message

    def one_copy(rewards, dones, last_values, gamma):
        return n_step_targets(rewards[:, :1], dones[:, :1], last_values[:1], gamma)[:, 0]

    verdict = rejects(check_n_step_targets, one_copy, "; got shape")
    assert "), shape (" not in verdict.message, verdict.message  # (said once)


def test_actor_critic_step_more_typical_mistakes():
    rejects(check_actor_critic_step, _ac_step(steps=lambda k: k + 1), "took 2 step(s)")
    rejects(
        check_actor_critic_step,
        _ac_step(critic=lambda v, o, y: keras.losses.Huber()(y, v(o)[:, 0])),
        "not the Huber loss",
    )
    rejects(
        check_actor_critic_step,
        _ac_step(critic=lambda v, o, y: tf.sqrt(_mse(v, o, y))),
        "without a square root",
    )
    rejects(
        check_actor_critic_step,
        _ac_step(
            actor=lambda p, v, o, a, y: (
                -tf.reduce_mean(
                    (lambda d: (d - tf.reduce_mean(d)) / (tf.math.reduce_std(d) + 1e-8))(
                        tf.stop_gradient(y - v(o)[:, 0])
                    )
                    * _log_pi_of(p, o, a)
                )
            )
        ),
        "normalised to mean 0",
    )
