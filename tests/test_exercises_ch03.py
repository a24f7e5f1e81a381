"""Chapter 3's checks: the TD target, the soft target update, and the whole DQN learning step
(alone, and inside rlbook's agent, which must learn CartPole with it)."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    not_a_function,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import (
    ch03,
    check_dqn_agent,
    check_dqn_learning_step,
    check_soft_update,
    check_td_target,
)


def my_td_target(reward, next_q_target, terminated, gamma):
    return reward + gamma * (1.0 - terminated) * next_q_target.max(axis=-1)


def test_td_target_accepts_numpy_and_tensorflow():
    accepts(check_td_target, my_td_target)
    accepts(
        check_td_target, lambda r, q, t, g: r + g * (1 - t) * tf.reduce_max(q, axis=-1), times=1
    )
    check_leaves_inputs_alone(check_td_target, my_td_target)
    stub_is_not_yet(check_td_target)


def test_td_target_typical_mistakes():
    rejects(check_td_target, lambda r, q, t, g: r + g * q.max(axis=1), "(1 - terminated)")
    rejects(check_td_target, lambda r, q, t, g: r + g * t * q.max(axis=1), "wrong way round")
    rejects(check_td_target, lambda r, q, t, g: r + g * (1 - t) * q.mean(axis=1), "max over a'")
    rejects(check_td_target, lambda r, q, t, g: r + g * (1 - t) * q.argmax(axis=1), "argmax")
    rejects(check_td_target, lambda r, q, t, g: g * (r + (1 - t) * q.max(axis=1)), "not discounted")
    rejects(check_td_target, lambda r, q, t, g: r + g * (1 - t) * q.max(), "axis=-1")
    rejects(check_td_target, lambda r, q, t, g: r + (1 - t) * q.max(axis=1), "multiply it by gamma")
    rejects(check_td_target, lambda r, q, t, g: r - g * (1 - t) * q.max(axis=1), "sign")
    rejects(check_td_target, lambda r, q, t, g: r + g * (1 - t) * q.max(axis=0), "axis")
    rejects(
        check_td_target,
        lambda r, q, t, g: (r + g * (1 - t) * q.max(axis=1))[:, None],
        "without keepdims",
    )
    rejects(check_td_target, lambda r, q, t, g: np.array([3.7, 4.1, 2.0]))  # the old fixed answer
    rejects(check_td_target, lambda r, q, t, g: 1.0, "shape")  # constant
    rejects(check_td_target, lambda r, q, t, g: None, "returned None")


def test_td_target_in_place_and_crashes():
    def in_place(reward, next_q_target, terminated, gamma):
        reward += gamma * (1.0 - terminated) * next_q_target.max(axis=-1)
        return reward

    def python_not(reward, next_q_target, terminated, gamma):
        return reward + gamma * next_q_target.max(axis=-1) * (not terminated)

    rejects(check_td_target, in_place, "changed its argument `reward` in place")
    v = raising_shows_student_line(check_td_target, python_not, "(not terminated)")
    assert "(1 - terminated)" in v.message and "`python_not`" in v.message


def soft_update(target_weights, online_weights, tau):
    return [tau * o + (1.0 - tau) * t for t, o in zip(target_weights, online_weights)]


def test_soft_update_accepts_the_reference_and_an_in_place_update_that_returns():
    accepts(check_soft_update, soft_update)

    def in_place_and_returned(target_weights, online_weights, tau):
        for t, o in zip(target_weights, online_weights):
            t *= 1 - tau
            t += tau * o
        return target_weights

    accepts(check_soft_update, in_place_and_returned, times=1)
    check_leaves_inputs_alone(check_soft_update, soft_update)
    stub_is_not_yet(check_soft_update)


def test_soft_update_typical_mistakes():
    def swapped(target, online, tau):
        return [(1 - tau) * o + tau * t for t, o in zip(target, online)]

    def fixed_tau(target, online, tau):
        return [0.1 * o + 0.9 * t for t, o in zip(target, online)]

    def in_place_no_return(target_weights, online_weights, tau):
        for t, o in zip(target_weights, online_weights):
            t *= 1 - tau
            t += tau * o

    def changes_online(target_weights, online_weights, tau):
        for t, o in zip(target_weights, online_weights):
            o *= tau
            o += (1 - tau) * t
        return online_weights

    rejects(check_soft_update, swapped, "swapped")
    rejects(check_soft_update, lambda target, online, tau: online, "hard copy")
    rejects(check_soft_update, lambda target, online, tau: target, "did not change")
    rejects(check_soft_update, fixed_tau, "not the `tau` argument")
    rejects(check_soft_update, in_place_no_return, "returned None", "in place")
    rejects(check_soft_update, changes_online, "changed its argument `online_weights`")
    rejects(check_soft_update, lambda target, online, tau: np.zeros(3), "return a list")  # constant
    rejects(
        check_soft_update,
        lambda target, online, tau: [tau * o + (1 - tau) * t for t, o in zip(target[:1], online)],
        "arrays for",
    )
    raising_shows_student_line(
        check_soft_update,
        lambda target, online, tau: [tau * online + (1 - tau) * target],
        "tau * online + (1 - tau) * target",
    )


# -- the whole DQN learning step ------------------------------------------------------------------


def dqn_learning_step(q_network, target_network, optimizer, batch, gamma):
    obs, action, reward, next_obs, terminated = batch
    next_q = target_network(next_obs)
    y = reward + gamma * (1.0 - terminated) * tf.reduce_max(next_q, axis=-1)
    with tf.GradientTape() as tape:
        q_taken = tf.gather(q_network(obs), action, axis=1, batch_dims=1)
        loss = tf.reduce_mean(tf.keras.losses.huber(y[:, None], q_taken[:, None]))
    grads = tape.gradient(loss, q_network.trainable_variables)
    optimizer.apply_gradients(zip(grads, q_network.trainable_variables))
    return loss


def _step(target=None, pick=None, loss=None, apply=True, numpy_target=False):
    """A learning step with one piece swapped: ``target(q_network, target_network, reward,
    next_obs, terminated, gamma)``, ``pick(q_values, action)``, ``loss(y, q_taken)``."""

    def step(q_network, target_network, optimizer, batch, gamma):
        obs, action, reward, next_obs, terminated = batch
        if numpy_target:  # works eagerly, not inside tf.function
            next_q = target_network(next_obs).numpy()
            y = reward.numpy() + gamma * (1.0 - terminated.numpy()) * next_q.max(axis=1)
        elif target is None:
            next_q = target_network(next_obs)
            y = reward + gamma * (1.0 - terminated) * tf.reduce_max(next_q, axis=-1)
        with tf.GradientTape() as tape:
            if target is not None:
                y = target(q_network, target_network, reward, next_obs, terminated, gamma)
            q = q_network(obs)
            q_taken = pick(q, action) if pick else tf.gather(q, action, axis=1, batch_dims=1)
            value = loss(y, q_taken) if loss else tf.reduce_mean(tf.square(y - q_taken))
        if apply:
            grads = tape.gradient(value, q_network.trainable_variables)
            optimizer.apply_gradients(zip(grads, q_network.trainable_variables))
        return value

    return step


def test_dqn_learning_step_accepts_huber_and_squared_error_and_a_one_hot_pick():
    accepts(check_dqn_learning_step, dqn_learning_step)
    one_hot = _step(pick=lambda q, a: tf.reduce_sum(q * tf.one_hot(a, q.shape[-1]), axis=1))
    accepts(check_dqn_learning_step, one_hot, times=1)
    half = _step(loss=lambda y, q: tf.reduce_mean(0.5 * tf.square(y - q)))
    accepts(check_dqn_learning_step, half, times=1)
    accepts(check_dqn_learning_step, _step(numpy_target=True), times=1)  # eager NumPy: fine here
    stub_is_not_yet(check_dqn_learning_step)
    not_a_function(check_dqn_learning_step)


def test_dqn_learning_step_typical_mistakes():
    def online_target(q_network, target_network, reward, next_obs, terminated, gamma):
        best = tf.reduce_max(q_network(next_obs), axis=-1)
        return tf.stop_gradient(reward + gamma * (1.0 - terminated) * best)

    def online_target_with_gradient(q_network, target_network, reward, next_obs, terminated, gamma):
        return reward + gamma * (1.0 - terminated) * tf.reduce_max(q_network(next_obs), axis=-1)

    def no_mask(q_network, target_network, reward, next_obs, terminated, gamma):
        return reward + gamma * tf.reduce_max(target_network(next_obs), axis=-1)

    def updates_the_target(q_network, target_network, optimizer, batch, gamma):
        loss = dqn_learning_step(q_network, target_network, optimizer, batch, gamma)
        target_network.set_weights(q_network.get_weights())
        return loss

    def loss_after_the_step(q_network, target_network, optimizer, batch, gamma):
        dqn_learning_step(q_network, target_network, optimizer, batch, gamma)
        return 0.0

    rejects(check_dqn_learning_step, _step(target=online_target), "uses `q_network`")
    rejects(
        check_dqn_learning_step,
        _step(target=online_target_with_gradient),
        "gradient also flows through the target",
        "tf.stop_gradient",
    )
    rejects(check_dqn_learning_step, _step(target=no_mask), "(1 - terminated)")
    rejects(
        check_dqn_learning_step,
        _step(pick=lambda q, a: tf.gather(q, a, axis=1)),
        "without batch_dims=1",
    )
    rejects(
        check_dqn_learning_step,
        _step(pick=lambda q, a: tf.reduce_max(q, axis=1)),
        "the action taken",
    )
    rejects(
        check_dqn_learning_step,
        _step(loss=lambda y, q: tf.reduce_sum(tf.square(y - q))),
        "summed over the minibatch, not averaged",
    )
    rejects(
        check_dqn_learning_step,
        _step(pick=lambda q, a: q, loss=lambda y, q: tf.reduce_mean(tf.square(y[:, None] - q))),
        "every action",
    )
    rejects(check_dqn_learning_step, _step(apply=False), "did not change q_network's weights")
    rejects(check_dqn_learning_step, updates_the_target, "changed target_network's weights")
    rejects(check_dqn_learning_step, loss_after_the_step, "took the right step but returned")
    rejects(check_dqn_learning_step, _step(loss=lambda y, q: tf.square(y - q)), "tf.reduce_mean")
    # constant answers
    rejects(
        check_dqn_learning_step, lambda q, t, o, b, g: 0.0, "did not change q_network's weights"
    )
    rejects(check_dqn_learning_step, lambda q, t, o, b, g: None, "did not change")


def test_dqn_learning_step_crashes_show_the_students_line():
    # tf.gather(q, action) picks rows: (B,) - (B, A) fails on the line with the subtraction.
    v = raising_shows_student_line(
        check_dqn_learning_step, _step(pick=lambda q, a: tf.gather(q, a)), "tf.square(y - q_taken)"
    )
    assert "Incompatible shapes" in v.message and "batch_dims=1" in v.message
    assert "Op:" not in v.message and "function_node" not in v.message

    # NumPy on a graph tensor raises NotImplementedError from inside TensorFlow: not the stub.
    def numpy_in_a_graph(q_network, target_network, optimizer, batch, gamma):
        best = tf.function(lambda q: np.max(q, axis=1))(target_network(batch[3]))
        return best

    v = raising_shows_student_line(check_dqn_learning_step, numpy_in_a_graph, "np.max(q, axis=1)")
    assert "NotImplementedError" in v.message and "stub" not in v.message
    assert "use TensorFlow operations" in v.message
    # CartPole's 2 actions written in: the check's networks have 3 or 4.
    v = raising_shows_student_line(
        check_dqn_learning_step,
        _step(pick=lambda q, a: tf.reduce_sum(q * tf.one_hot(a, 2), axis=1)),
        "tf.one_hot(a, 2)",
    )
    assert "q_values.shape[-1]" in v.message


def test_dqn_agent_learns_with_the_reference():
    for _ in range(2):  # a new seed on every call
        verdict = check_dqn_agent(dqn_learning_step)
        assert verdict.ok, verdict.message
        assert "your own learning step learns" in verdict.message
        assert "eagerly" not in verdict.message  # the compiled path


def test_dqn_agent_stub_and_misuse():
    stub_is_not_yet(check_dqn_agent)
    not_a_function(check_dqn_agent)


def test_dqn_agent_that_does_not_learn_says_why():
    # A step that computes the loss but never takes the optimizer step: nothing is learned.
    verdict = rejects(check_dqn_agent, _step(apply=False), "it did not learn", "did not change")
    assert "the best greedy evaluation" in verdict.message


def test_dqn_agent_runs_a_step_that_tf_function_cannot_compile_eagerly(monkeypatch):
    # Wrong as well as not compilable: the step's own check says why, no training needed.
    def numpy_no_mask(q_network, target_network, optimizer, batch, gamma):
        obs, action, reward, next_obs, terminated = batch
        y = reward.numpy() + gamma * target_network(next_obs).numpy().max(axis=1)
        with tf.GradientTape() as tape:
            q_taken = tf.gather(q_network(obs), action, axis=1, batch_dims=1)
            loss = tf.reduce_mean(tf.square(y - q_taken))
        grads = tape.gradient(loss, q_network.trainable_variables)
        optimizer.apply_gradients(zip(grads, q_network.trainable_variables))
        return loss

    rejects(check_dqn_agent, numpy_no_mask, "(1 - terminated)", "could not compile", ".numpy()")
    # Right, but eager only: it trains eagerly. (Eager steps are slow: here the run passes at
    # the first evaluation after the first training calls, which is all this test is about.)
    monkeypatch.setattr(ch03, "_EVAL_EVERY", 600)
    monkeypatch.setattr(ch03, "_PASS_RETURN", 0.0)
    verdict = check_dqn_agent(_step(numpy_target=True))
    assert verdict.ok, verdict.message
    assert "ran it eagerly" in verdict.message and "next_q = target_network(next_obs).numpy()" in (
        verdict.message
    )


# -- what the agent varies: the optimizer and the sizes -------------------------------------------


def test_dqn_learning_step_right_only_with_sgd_is_rejected():
    # A hand-written SGD update with the optimizer's learning rate: right with plain SGD only.
    def hand_written_sgd(q_network, target_network, optimizer, batch, gamma):
        obs, action, reward, next_obs, terminated = batch
        y = reward + gamma * (1.0 - terminated) * tf.reduce_max(target_network(next_obs), axis=-1)
        with tf.GradientTape() as tape:
            q_taken = tf.gather(q_network(obs), action, axis=1, batch_dims=1)
            loss = tf.reduce_mean(tf.square(y - q_taken))
        grads = tape.gradient(loss, q_network.trainable_variables)
        for var, grad in zip(q_network.trainable_variables, grads):
            var.assign_sub(optimizer.learning_rate * grad)
        return loss

    # A fresh optimizer of the given type on every call: right with SGD, which has no state.
    def fresh_optimizer(q_network, target_network, optimizer, batch, gamma):
        own = type(optimizer)(learning_rate=float(optimizer.learning_rate))
        return dqn_learning_step(q_network, target_network, own, batch, gamma)

    rejects(check_dqn_learning_step, hand_written_sgd, "not with the optimizer you are given")
    rejects(check_dqn_learning_step, fresh_optimizer, "not with the optimizer you are given")


def test_dqn_learning_step_right_only_for_small_minibatches_is_rejected():
    def first_sixteen(q_network, target_network, optimizer, batch, gamma):
        return dqn_learning_step(q_network, target_network, optimizer,
                                 tuple(x[:16] for x in batch), gamma)  # fmt: skip

    verdict = rejects(check_dqn_learning_step, first_sixteen, "not as one step of the optimizer")
    assert "a minibatch of 64" in verdict.message or "a minibatch of 32" in verdict.message


# -- red-team: slips found by trying typical wrong answers ----------------------------------------


def test_td_target_more_typical_mistakes_and_forms():
    def not_inverted(reward, next_q_target, terminated, gamma):
        return reward + gamma * ~terminated * next_q_target.max(axis=1)

    def loop(reward, next_q_target, terminated, gamma):
        return [
            r if t else r + gamma * max(q) for r, q, t in zip(reward, next_q_target, terminated)
        ]

    two_actions = lambda r, q, t, g: r + g * (1 - t) * np.maximum(q[:, 0], q[:, 1])  # noqa: E731
    rejects(check_td_target, two_actions, "only the first two actions", times=4)
    rejects(check_td_target, lambda r, q, t, g: r + g * (1 - t) * q[:, 0], "the first action's")
    masked_all = lambda r, q, t, g: (r + g * q.max(axis=1)) * (1 - t)  # noqa: E731
    rejects(check_td_target, masked_all, "not the whole target")
    rejects(check_td_target, lambda r, q, t, g: r + 0.99 * (1 - t) * q.max(axis=1), "of your own")
    squeezed = lambda r, q, t, g: np.squeeze(r + g * (1 - t) * q.max(axis=1))  # noqa: E731
    rejects(check_td_target, squeezed, "a batch of one", "shape (1,)")
    kept = lambda r, q, t, g: r + g * (1 - t) * q.max(axis=1, keepdims=True)  # noqa: E731
    rejects(check_td_target, kept, "kept its axis")
    rejects(check_td_target, lambda r, q, t, g: r[:, None] + g * q, "one value per action")
    squared = lambda r, q, t, g: r + g**2 * (1 - t) * q.max(axis=1)  # noqa: E731
    assert "not over the batch" not in rejects(check_td_target, squared, times=3).message
    v = raising_shows_student_line(check_td_target, not_inverted, "~terminated")
    assert "(1 - terminated)" in v.message
    accepts(check_td_target, loop, times=1)
    where = lambda r, q, t, g: tf.where(t > 0, r, r + g * tf.reduce_max(q, axis=-1))  # noqa: E731
    accepts(check_td_target, where, times=1)
    accepts(check_td_target, lambda r, q, t, g: r + g * np.logical_not(t) * q.max(-1), times=1)


def test_soft_update_more_typical_mistakes_and_forms():
    def step_only(target, online, tau):
        return [tau * (o - t) for t, o in zip(target, online)]

    def online_only(target, online, tau):
        return [tau * o for o in online]

    def towards(target, online, tau):
        return [t + tau * (o - t) for t, o in zip(target, online)]

    rejects(check_soft_update, step_only, "only the step")
    rejects(check_soft_update, online_only, "(1 - tau) * target term is missing")
    v = raising_shows_student_line(
        check_soft_update,
        lambda target, online, tau: tau * online + (1 - tau) * target,
        "tau * online + (1 - tau) * target",
    )
    assert "lists do not multiply" in v.message
    accepts(check_soft_update, towards, times=1)


def test_dqn_learning_step_more_typical_mistakes():
    def own_gamma(q_network, target_network, reward, next_obs, terminated, gamma):
        best = tf.reduce_max(target_network(next_obs), axis=-1)
        return tf.stop_gradient(reward + 0.99 * (1.0 - terminated) * best)

    def of(reduce):
        def target(q_network, target_network, reward, next_obs, terminated, gamma):
            best = reduce(target_network(next_obs))
            return tf.stop_gradient(reward + gamma * (1.0 - terminated) * best)

        return target

    def huber(y, q):
        return tf.keras.losses.Huber()(y, q)

    rejects(check_dqn_learning_step, _step(target=own_gamma, loss=huber), "of your own", times=2)
    rejects(check_dqn_learning_step, _step(target=of(lambda q: tf.reduce_min(q, -1))), "the min")
    rejects(check_dqn_learning_step, _step(target=of(lambda q: tf.reduce_mean(q, -1))), "averaged")
    argmax = of(lambda q: tf.cast(tf.argmax(q, axis=-1), tf.float32))
    rejects(check_dqn_learning_step, _step(target=argmax, loss=huber), "tf.argmax")
    mae = _step(loss=lambda y, q: tf.reduce_mean(tf.abs(y - q)))
    rejects(check_dqn_learning_step, mae, "mean absolute error")


def test_dqn_learning_step_accepts_keras_mse_and_a_tf_where_target():
    def where(q_network, target_network, reward, next_obs, terminated, gamma):
        best = tf.reduce_max(target_network(next_obs), axis=-1)
        return tf.stop_gradient(tf.where(terminated > 0.5, reward, reward + gamma * best))

    keras_mse = _step(loss=lambda y, q: tf.reduce_mean(tf.keras.losses.MSE(y[:, None], q[:, None])))
    accepts(check_dqn_learning_step, keras_mse, times=1)
    accepts(check_dqn_learning_step, _step(target=where), times=1)


def test_td_target_a_shape_no_hint_covers_is_said_once():
    doubled = lambda r, q, t, g: np.stack([my_td_target(r, q, t, g)] * 2, axis=1)  # noqa: E731
    v = rejects(check_td_target, doubled, "got shape")
    said = v.message.split("; got shape")[0]  # expected (B,), once: not "shape (B,), shape (B,)"
    assert said.count("shape (") == 1, v.message
