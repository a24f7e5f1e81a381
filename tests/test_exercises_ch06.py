"""Chapter 6's checks: discounted returns (one episode or several back to back), the REINFORCE
loss, the REINFORCE step, and the agent that learns with the student's returns and step."""

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
    check_episode_returns,
    check_reinforce_agent,
    check_reinforce_loss,
    check_reinforce_step,
)


def episode_returns(rewards, gamma):
    returns = np.zeros(len(rewards))
    g = 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        returns[t] = g
    return returns


def batch_returns(rewards, dones, gamma):
    returns = np.zeros(len(rewards))
    g = 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * (1.0 - dones[t]) * g
        returns[t] = g
    return returns


def test_episode_returns_accepts_both_forms():
    accepts(check_episode_returns, episode_returns)
    accepts(check_episode_returns, batch_returns)
    check_leaves_inputs_alone(check_episode_returns, batch_returns)
    check_leaves_inputs_alone(check_episode_returns, episode_returns)
    stub_is_not_yet(check_episode_returns)


def _backward(step, reverse_at_end=True):
    def fn(rewards, gamma):
        g, out = 0.0, []
        for r in reversed(rewards):
            g = step(r, g, gamma)
            out.append(g)
        return out[::-1] if reverse_at_end else out

    return fn


def test_episode_returns_typical_mistakes():
    def forward(rewards, gamma):  # G_t summed over the rewards *before* t
        return np.array(
            [
                sum(gamma**k * r for k, r in enumerate(rewards[: t + 1][::-1]))
                for t in range(len(rewards))
            ]
        )

    rejects(
        check_episode_returns,
        _backward(lambda r, g, gamma: r + gamma * g, reverse_at_end=False),
        "reverse order",
    )
    rejects(check_episode_returns, forward, "looks *forward*")
    rejects(
        check_episode_returns, lambda r, g: np.cumsum(np.asarray(r)[::-1])[::-1], "not discounted"
    )
    rejects(check_episode_returns, _backward(lambda r, g, gamma: gamma * (r + g)), "arrives now")
    rejects(
        check_episode_returns,
        lambda r, g: np.full(len(r), episode_returns(r, g)[0]),
        "total return G_0",
    )
    rejects(
        check_episode_returns, lambda r, g: list(episode_returns(r, g)[1:]) + [0.0], "off by one"
    )
    rejects(check_episode_returns, lambda r, g: np.ones(9), "one return per step")  # constant
    rejects(check_episode_returns, lambda r, g: None, "returned None")

    def reverses_in_place(rewards, gamma):
        rewards.reverse()  # a list method: the caller's list is now backwards
        g, out = 0.0, []
        for r in rewards:
            g = r + gamma * g
            out.append(g)
        return out[::-1]

    rejects(check_episode_returns, reverses_in_place, "changed its argument `rewards` in place")
    raising_shows_student_line(
        check_episode_returns,
        lambda rewards, gamma: rewards[::-1] * gamma ** np.arange(3),
        "rewards[::-1] * gamma ** np.arange(3)",
    )


def test_episode_returns_back_to_back_mistakes():
    rejects(
        check_episode_returns, lambda r, d, g: episode_returns(r, g), "not reset at episode ends"
    )

    def reset_too_late(rewards, dones, gamma):
        returns, g = np.zeros(len(rewards)), 0.0
        for t in reversed(range(len(rewards))):
            g = rewards[t] + gamma * g
            returns[t] = g
            if dones[t]:  # too late: G_t already took the next episode's return
                g = 0.0
        return returns

    def reset_before_use(rewards, dones, gamma):
        returns, g = np.zeros(len(rewards)), 0.0
        for t in reversed(range(len(rewards))):
            if t > 0 and dones[t - 1]:  # a correct variant: the step before starts a new episode
                returns[t] = g = rewards[t] + gamma * g
                g = 0.0
                continue
            returns[t] = g = rewards[t] + gamma * g
        return returns

    accepts(check_episode_returns, reset_before_use, times=1)
    rejects(check_episode_returns, reset_too_late, "one step off")
    rejects(check_episode_returns, lambda r, d, g: batch_returns(r, d, 1.0), "not discounted")


def my_reinforce_loss(logits, actions, returns, values):
    advantage = tf.stop_gradient(returns - values[:, 0])
    log_pi = tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)
    return -tf.reduce_mean(advantage * log_pi)


def _log_pi(logits, actions):
    return tf.gather(tf.nn.log_softmax(logits), actions, batch_dims=1)


def test_reinforce_loss_accepts_the_reference():
    accepts(check_reinforce_loss, my_reinforce_loss, times=2)

    def sparse_ce(logits, actions, returns, values):
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
        return tf.reduce_mean(tf.stop_gradient(returns - tf.squeeze(values, -1)) * ce)

    accepts(check_reinforce_loss, sparse_ce, times=1)
    stub_is_not_yet(check_reinforce_loss)


def test_reinforce_loss_typical_mistakes():
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean(tf.stop_gradient(g - v) * _log_pi(lg, a)),
        "N x N",
    )
    rejects(
        check_reinforce_loss, lambda lg, a, g, v: -my_reinforce_loss(lg, a, g, v), "sign is flipped"
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean(g * _log_pi(lg, a)),
        "baseline is missing",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_sum(tf.stop_gradient(g - v[:, 0]) * _log_pi(lg, a)),
        "not the sum",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean(tf.stop_gradient(g - v[:, 0]) * tf.exp(_log_pi(lg, a))),
        "not the probability",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: (
            -tf.reduce_mean(tf.stop_gradient(g - v[:, 0]) * tf.gather(lg, a, batch_dims=1))
        ),
        "log-softmax",
    )
    rejects(
        check_reinforce_loss,
        lambda lg, a, g, v: -tf.reduce_mean((g - v[:, 0]) * _log_pi(lg, a)),
        "tf.stop_gradient",
    )
    rejects(check_reinforce_loss, lambda lg, a, g, v: tf.constant(-1.2345), "expected")  # constant
    rejects(check_reinforce_loss, lambda lg, a, g, v: 0.51, "expected")  # constant float

    def numpy_loss(logits, actions, returns, values):
        z = logits.numpy()
        log_pi = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        adv = returns.numpy() - values.numpy()[:, 0]
        return -np.mean(adv * log_pi[np.arange(len(z)), actions.numpy()])

    rejects(check_reinforce_loss, numpy_loss, "no gradient reaches the logits")

    def numpy_methods(logits, actions, returns, values):
        z = logits - logits.max(axis=1, keepdims=True)
        return z

    v = raising_shows_student_line(
        check_reinforce_loss, numpy_methods, "logits.max(axis=1, keepdims=True)"
    )
    assert "TensorFlow operations" in v.message and "ops.py" not in v.message


# -- the REINFORCE step -------------------------------------------------------------------------


def reinforce_step(policy, value_network, optimizer, obs, actions, returns):
    baseline = value_network(obs)[:, 0]
    with tf.GradientTape() as tape:
        log_pi = _log_pi(policy(obs), actions)
        loss = -tf.reduce_mean(tf.stop_gradient(returns - baseline) * log_pi)
    grads = tape.gradient(loss, policy.trainable_variables)
    optimizer.apply_gradients(zip(grads, policy.trainable_variables))


def _step(weight, log_pi=_log_pi, reduce=tf.reduce_mean, sign=-1.0, variables=None, opt=None):
    """A REINFORCE step with one part replaced (each a typical mistake)."""

    def step(policy, value_network, optimizer, obs, actions, returns):
        with tf.GradientTape() as tape:
            loss = sign * reduce(weight(returns, value_network(obs)) * log_pi(policy(obs), actions))
        chosen = (variables or (lambda p, v: p.trainable_variables))(policy, value_network)
        grads = tape.gradient(loss, chosen)
        (opt or optimizer).apply_gradients(zip(grads, chosen))

    return step


def _fixed(g, v):
    return tf.stop_gradient(g - v[:, 0])


def test_reinforce_step_accepts_the_reference_and_equivalent_forms():
    accepts(check_reinforce_step, reinforce_step)
    # No stop_gradient: harmless when only the policy's weights are differentiated.
    accepts(check_reinforce_step, _step(lambda g, v: g - v[:, 0]), times=1)
    # The loss from the chapter's earlier exercise, and cross-entropy instead of log-softmax.
    accepts(check_reinforce_step, _step(_fixed, log_pi=lambda lg, a: -_ce(lg, a)), times=1)
    stub_is_not_yet(check_reinforce_step)


def _ce(logits, actions):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)


def test_reinforce_step_typical_mistakes():
    rejects(check_reinforce_step, _step(_fixed, sign=1.0), "the sign is flipped")
    rejects(check_reinforce_step, _step(_fixed, reduce=tf.reduce_sum), "not the sum")
    rejects(check_reinforce_step, _step(lambda g, v: g), "the baseline is missing")
    rejects(check_reinforce_step, _step(lambda g, v: tf.stop_gradient(g - v)), "N x N")
    rejects(
        check_reinforce_step,
        _step(_fixed, log_pi=lambda lg, a: tf.exp(_log_pi(lg, a))),
        "use its logarithm",
    )
    rejects(
        check_reinforce_step,
        _step(_fixed, log_pi=lambda lg, a: tf.gather(lg, a, batch_dims=1)),
        "tf.nn.log_softmax",
    )
    rejects(
        check_reinforce_step,
        _step(_fixed, log_pi=lambda lg, a: tf.nn.log_softmax(lg)[:, 0]),
        "action 0",
    )
    rejects(
        check_reinforce_step,
        _step(lambda g, v: _fixed(g, v)[:, None], log_pi=lambda lg, a: tf.nn.log_softmax(lg)),
        "all actions",
    )
    # The baseline trained through the policy's loss: both networks in one step.
    both = _step(
        lambda g, v: g - v[:, 0],
        variables=lambda p, v: p.trainable_variables + v.trainable_variables,
    )
    rejects(check_reinforce_step, both, "changed the value network", "held fixed")
    rejects(
        check_reinforce_step,
        _step(_fixed, opt=keras.optimizers.Adam(0.01)),
        "optimizer you are given",
    )

    def normalised(g, v):
        w = _fixed(g, v)
        return (w - tf.reduce_mean(w)) / (tf.math.reduce_std(w) + 1e-8)

    rejects(check_reinforce_step, _step(normalised), "normalised to mean 0")

    def loss_outside_the_tape(policy, value_network, optimizer, obs, actions, returns):
        loss = -tf.reduce_mean(_fixed(returns, value_network(obs)) * _log_pi(policy(obs), actions))
        with tf.GradientTape() as tape:
            pass
        grads = tape.gradient(loss, policy.trainable_variables)
        optimizer.apply_gradients(zip(grads, policy.trainable_variables))

    rejects(check_reinforce_step, loss_outside_the_tape, "No gradient", "inside the `with")


def test_reinforce_step_constant_and_numpy_answers():
    rejects(check_reinforce_step, lambda *args: None, "did not change the policy's weights")
    rejects(check_reinforce_step, lambda *args: 0.37, "did not change the policy's weights")

    def numpy_loss(policy, value_network, optimizer, obs, actions, returns):
        with tf.GradientTape() as tape:
            probs = tf.nn.softmax(policy(obs)).numpy()[np.arange(len(actions)), actions.numpy()]
            loss = -np.mean((returns.numpy() - value_network(obs).numpy()[:, 0]) * np.log(probs))
        grads = tape.gradient(loss, policy.trainable_variables)
        optimizer.apply_gradients(zip(grads, policy.trainable_variables))

    verdict = raising_shows_student_line(
        check_reinforce_step, numpy_loss, "grads = tape.gradient(loss, policy.trainable_variables)"
    )
    assert "TensorFlow operations" in verdict.message


# -- the student's own agent ----------------------------------------------------------------------


def test_reinforce_agent_learns_with_the_reference():
    # (each call trains a fresh agent with a new seed, a few seconds each)
    for returns_fn in (episode_returns, batch_returns):
        verdict = check_reinforce_agent(returns_fn, reinforce_step)
        assert verdict.ok, verdict.message
        assert (
            "sampling its actions" in verdict.message and "your own code learns" in verdict.message
        )


def test_reinforce_agent_stubs_are_not_yet():
    agent_stubs_are_not_yet(check_reinforce_agent, episode_returns, reinforce_step)


def _agent_rejects(first, second, *phrases):
    return agent_rejects(check_reinforce_agent, first, second, *phrases)


def test_reinforce_agent_typical_mistakes():
    # Mistakes CartPole forgives: the agent learns, the unit checks name the mistake.
    _agent_rejects(
        lambda rewards, dones, gamma: batch_returns(rewards, np.zeros(len(rewards)), gamma),
        reinforce_step,
        "About your function",
        "not reset at episode ends",
    )
    _agent_rejects(episode_returns, _step(lambda g, v: g), "the baseline is missing")
    # (Adam divides the sum's gradient by its size: the same steps as the mean's, here.)
    _agent_rejects(episode_returns, _step(_fixed, reduce=tf.reduce_sum), "not the sum")


def test_reinforce_agent_constant_answer_and_a_sign_slip_do_not_learn():
    verdict = _agent_rejects(
        episode_returns, lambda *args: None, "it did not learn", "random play averages about 22"
    )
    assert "did not change the policy's weights" in verdict.message
    # The policy climbs the loss: it gets worse, and the unit check says why.
    verdict = _agent_rejects(episode_returns, _step(_fixed, sign=1.0), "it did not learn")
    assert "the sign is flipped" in verdict.message


def test_reinforce_agent_crash_shows_the_students_line():
    def shape_slip(rewards, gamma):
        return np.cumsum(rewards[::-1])[::-1] * gamma ** np.arange(4)

    verdict = _agent_rejects(
        shape_slip, reinforce_step, "Training stopped", "gamma ** np.arange(4)"
    )
    assert "raised" in verdict.message


def test_reinforce_agent_runs_a_step_that_cannot_be_compiled_eagerly():
    def numpy_baseline(policy, value_network, optimizer, obs, actions, returns):
        baseline = value_network(obs).numpy()[:, 0]  # .numpy(): fails inside tf.function
        with tf.GradientTape() as tape:
            log_pi = _log_pi(policy(obs), actions)
            loss = -tf.reduce_mean((returns.numpy() - baseline) * log_pi)
        grads = tape.gradient(loss, policy.trainable_variables)
        optimizer.apply_gradients(zip(grads, policy.trainable_variables))

    verdict = check_reinforce_agent(episode_returns, numpy_baseline)
    assert verdict.ok, verdict.message


# -- what the agent varies: arrays and lists, the episode lengths, the optimizer ------------------


def test_episode_returns_in_place_on_an_array_is_rejected():
    # np.asarray hands back the caller's float64 array itself: the loop then overwrites it.
    def overwrites_the_array(rewards, gamma):
        g = np.asarray(rewards, dtype=float)
        for t in reversed(range(len(g) - 1)):
            g[t] += gamma * g[t + 1]
        return g

    rejects(check_episode_returns, overwrites_the_array, "changed its argument `rewards` in place")


def test_episode_returns_right_only_for_numpy_input_is_rejected():
    def numpy_only(rewards, gamma):
        g = rewards.astype(float)  # a NumPy method: a list has none
        for t in reversed(range(len(g) - 1)):
            g[t] += gamma * g[t + 1]
        return g

    raising_shows_student_line(check_episode_returns, numpy_only, "rewards.astype(float)")


def test_episode_returns_right_only_for_short_episodes_is_rejected():
    def at_most_fifty(rewards, gamma):
        return episode_returns(rewards[:50], gamma)

    rejects(check_episode_returns, at_most_fifty, "an episode of")


def test_reinforce_step_right_only_with_sgd_is_rejected():
    def hand_written_sgd(policy, value_network, optimizer, obs, actions, returns):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(
                _fixed(returns, value_network(obs)) * _log_pi(policy(obs), actions)
            )
        grads = tape.gradient(loss, policy.trainable_variables)
        for var, grad in zip(policy.trainable_variables, grads):
            var.assign_sub(optimizer.learning_rate * grad)

    rejects(check_reinforce_step, hand_written_sgd, "not with the optimizer you are given")


def test_reinforce_step_right_only_for_small_batches_is_rejected():
    def first_fifty(policy, value_network, optimizer, obs, actions, returns):
        reinforce_step(policy, value_network, optimizer, obs[:50], actions[:50], returns[:50])

    rejects(check_reinforce_step, first_fifty, "did not move by one step", "Adam optimizer")


# -- red-team answers: more slips, and other correct forms ---------------------------------------


def test_episode_returns_accepts_other_correct_forms():
    def vectorised(rewards, gamma):
        r = np.asarray(rewards, float)
        discounts = gamma ** np.arange(len(r))
        return np.array([np.sum(r[t:] * discounts[: len(r) - t]) for t in range(len(r))])

    def prepended(rewards, gamma):
        g, out = 0.0, []
        for r in reversed(rewards):
            g = r + gamma * g
            out.insert(0, g)
        return out

    def scanned(rewards, gamma):  # TensorFlow, backwards
        r = tf.constant(rewards, tf.float32)
        return tf.scan(lambda g, x: x + gamma * g, r, initializer=0.0, reverse=True)

    def split_at_ends(rewards, dones, gamma):  # episode by episode
        out, start = [], 0
        for end in np.flatnonzero(dones):
            out.extend(episode_returns(rewards[start : end + 1], gamma))
            start = end + 1
        return np.array(out)

    for fn in (vectorised, prepended, scanned, split_at_ends):
        accepts(check_episode_returns, fn, times=1)


def test_episode_returns_more_typical_mistakes():
    def stops_before_zero(rewards, gamma):
        returns, g = np.zeros(len(rewards)), 0.0
        for t in range(len(rewards) - 1, 0, -1):
            g = rewards[t] + gamma * g
            returns[t] = g
        return returns

    def starts_before_last(rewards, gamma):
        returns, g = np.zeros(len(rewards)), rewards[-1]
        for t in reversed(range(len(rewards) - 1)):
            g = rewards[t] + gamma * g
            returns[t] = g
        return returns

    def from_the_start(rewards, gamma):  # gamma**k instead of gamma**(k - t)
        r = np.asarray(rewards)
        return np.cumsum((r * gamma ** np.arange(len(r)))[::-1])[::-1]

    def normalised(rewards, gamma):
        g = episode_returns(rewards, gamma)
        return (g - g.mean()) / (g.std() + 1e-8)

    rejects(check_episode_returns, stops_before_zero, "G_0 is missing")
    rejects(check_episode_returns, starts_before_last, "the last step's G_t is missing")
    rejects(check_episode_returns, from_the_start, "gamma counts from the episode's start")
    rejects(check_episode_returns, normalised, "you normalised the returns")
    rejects(check_episode_returns, lambda r, g: episode_returns(r, 0.99), "the gamma you are given")

    def inverted_flags(rewards, dones, gamma):
        returns, g = np.zeros(len(rewards)), 0.0
        for t in reversed(range(len(rewards))):
            g = rewards[t] + gamma * (~dones[t]) * g
            returns[t] = g
        return returns

    verdict = raising_shows_student_line(check_episode_returns, inverted_flags, "(~dones[t])")
    assert "(1 - terminated)" in verdict.message


def test_reinforce_loss_accepts_other_correct_forms():
    def one_hot(logits, actions, returns, values):
        picked = tf.one_hot(actions, logits.shape[-1]) * tf.nn.log_softmax(logits)
        return -tf.reduce_mean(tf.stop_gradient(returns - values[:, 0]) * tf.reduce_sum(picked, 1))

    def keras_loss(logits, actions, returns, values):
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return ce(
            actions, logits, sample_weight=tf.stop_gradient(returns - tf.reshape(values, [-1]))
        )

    accepts(check_reinforce_loss, one_hot, times=1)
    accepts(check_reinforce_loss, keras_loss, times=1)


def test_reinforce_loss_more_typical_mistakes():
    def weighted(log_pi, weight=_fixed_ret):
        return lambda lg, a, g, v: -tf.reduce_mean(weight(g, v) * log_pi(lg, a))

    for log_pi, phrase in wrong_picks():
        rejects(check_reinforce_loss, weighted(log_pi), phrase)

    def normalised(g, v):
        w = _fixed_ret(g, v)
        return (w - tf.reduce_mean(w)) / (tf.math.reduce_std(w) + 1e-8)

    rejects(check_reinforce_loss, weighted(_log_pi, normalised), "normalised to mean 0")
    depth = raising_shows_student_line(
        check_reinforce_loss,
        weighted(lambda lg, a: tf.reduce_sum(tf.one_hot(a, 2) * tf.nn.log_softmax(lg), 1)),
        "tf.one_hot(a, 2)",
    )
    assert "logits.shape[-1]" in depth.message

    def whole_rows(logits, actions, returns, values):
        log_pi = tf.gather(tf.nn.log_softmax(logits), actions)
        return -tf.reduce_mean(_fixed_ret(returns, values) * log_pi)

    rows = raising_shows_student_line(check_reinforce_loss, whole_rows, "values) * log_pi")
    assert "batch_dims=1" in rows.message


def _fixed_ret(g, v):
    return tf.stop_gradient(g - v[:, 0])


def test_reinforce_step_accepts_a_keras_loss():
    def keras_step(policy, value_network, optimizer, obs, actions, returns):
        baseline = value_network(obs)[:, 0]
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        with tf.GradientTape() as tape:
            loss = ce(actions, policy(obs), sample_weight=returns - baseline)
        grads = tape.gradient(loss, policy.trainable_weights)
        optimizer.apply_gradients(zip(grads, policy.trainable_weights))

    accepts(check_reinforce_step, keras_step, times=1)


def test_reinforce_step_more_typical_mistakes():
    def minimize(policy, value_network, optimizer, obs, actions, returns):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(
                _fixed(returns, value_network(obs)) * _log_pi(policy(obs), actions)
            )
        optimizer.minimize(loss, policy.trainable_variables, tape=tape)

    verdict = raising_shows_student_line(check_reinforce_step, minimize, "optimizer.minimize(")
    assert "have no minimize" in verdict.message
    two_actions = _step(
        _fixed, log_pi=lambda lg, a: tf.reduce_sum(tf.one_hot(a, 2) * tf.nn.log_softmax(lg), 1)
    )
    verdict = rejects(check_reinforce_step, two_actions, "tf.one_hot(a, 2)")
    assert "logits.shape[-1]" in verdict.message
    # An optimizer of one's own, made once: the second call meets it built for other weights.
    own = _step(_fixed, opt=keras.optimizers.SGD(0.01))
    rejects(check_reinforce_step, own, "not with the optimizer you are given")
    rejects(check_reinforce_step, own, "an earlier call")
