"""Chapter 10's checks: the squashed Gaussian's log-probability with its gradients, SAC's critic
target, and the SAC agent that must swing Pendulum-v1 up with the student's functions."""

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

from rlbook.exercises import check_sac_agent, check_sac_target, check_squashed_log_prob

LOG_2PI = float(np.log(2 * np.pi))


def _log_prob(correction=-1.0, sigma="exp", constant=True, at_action=False, summed=True):
    def squashed_log_prob(mean, log_std, u):
        x = tf.tanh(u) if at_action else u
        std = tf.exp(log_std) if sigma == "exp" else log_std
        log_sigma = log_std if sigma == "exp" else tf.math.log(tf.abs(std))
        gauss = -0.5 * ((x - mean) / std) ** 2 - log_sigma - (0.5 * LOG_2PI if constant else 0.0)
        out = gauss + correction * tf.math.log(1 - tf.tanh(u) ** 2 + 1e-6)
        return tf.reduce_sum(out, axis=-1) if summed else out

    return squashed_log_prob


squashed_log_prob = _log_prob()


def test_log_prob_accepts_the_reference_and_the_library():
    from rlbook.losses import squashed_gaussian_log_prob

    accepts(check_squashed_log_prob, squashed_log_prob)
    accepts(check_squashed_log_prob, squashed_gaussian_log_prob)
    stub_is_not_yet(check_squashed_log_prob)


def test_log_prob_typical_mistakes():
    rejects(check_squashed_log_prob, _log_prob(correction=0.0), "squashing changes the density")
    rejects(check_squashed_log_prob, _log_prob(correction=1.0), "wrong sign")
    rejects(check_squashed_log_prob, _log_prob(sigma="raw"), "sigma = exp(log_std)")
    rejects(check_squashed_log_prob, _log_prob(constant=False), "-log(2 pi) / 2")
    rejects(check_squashed_log_prob, _log_prob(at_action=True), "not of tanh(u)")
    rejects(check_squashed_log_prob, _log_prob(summed=False), "sum over the last axis")


def _slip(mean_over_dims=False, constant="half", square=True, std="exp", tanh_squared=True):
    def squashed_log_prob(mean, log_std, u):
        sigma = tf.exp(log_std) if std == "exp" else tf.exp(log_std / 2)
        quadratic = -0.5 * ((u - mean) / sigma) ** 2 if square else -0.5 * (u - mean) ** 2 / sigma
        c = {"half": 0.5 * LOG_2PI, "full": LOG_2PI, "once": 0.0}[constant]
        squash = tf.tanh(u) ** 2 if tanh_squared else tf.tanh(u)
        out = quadratic - tf.math.log(sigma) - c - tf.math.log(1 - squash + 1e-6)
        total = tf.reduce_mean(out, axis=-1) if mean_over_dims else tf.reduce_sum(out, axis=-1)
        return total - 0.5 * LOG_2PI if constant == "once" else total

    return squashed_log_prob


def test_log_prob_more_mistakes():
    rejects(check_squashed_log_prob, _slip(mean_over_dims=True), "not the mean")
    rejects(check_squashed_log_prob, _slip(constant="full"), "half of log(2 pi)")
    rejects(check_squashed_log_prob, _slip(constant="once"), "not once per sample")
    rejects(check_squashed_log_prob, _slip(square=False), "divided by the variance")
    rejects(check_squashed_log_prob, _slip(std="variance"), "not of the variance")
    rejects(check_squashed_log_prob, _slip(tanh_squared=False), "with tanh squared")
    # (B, 1) passed: it broadcasts to (B, B) next to a (B,) tensor
    keepdims = lambda m, s, u: squashed_log_prob(m, s, u)[:, None]  # noqa: E731
    rejects(check_squashed_log_prob, keepdims, "without keepdims")
    rejects(
        check_squashed_log_prob, lambda m, s, u: tf.reduce_sum(m * 0 + u), "summed over the batch"
    )
    axis_0 = lambda m, s, u: tf.reduce_sum(_log_prob(summed=False)(m, s, u), axis=0)  # noqa: E731
    rejects(check_squashed_log_prob, axis_0, "summed over the batch")
    rejects(check_squashed_log_prob, lambda m, s, u: (squashed_log_prob(m, s, u), u), "2 things")


def test_log_prob_accepts_other_forms():
    def stable(mean, log_std, u):  # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))
        gauss = -0.5 * ((u - mean) / tf.exp(log_std)) ** 2 - log_std - 0.5 * LOG_2PI
        return tf.reduce_sum(gauss - 2.0 * (np.log(2.0) - u - tf.nn.softplus(-2.0 * u)), axis=-1)

    def variance_form(mean, log_std, u):
        var = tf.exp(2 * log_std)
        gauss = -((u - mean) ** 2) / (2 * var) - 0.5 * tf.math.log(2 * np.pi * var)
        return tf.reduce_sum(gauss, -1) - tf.reduce_sum(tf.math.log(1 - tf.tanh(u) ** 2 + 1e-6), -1)

    accepts(check_squashed_log_prob, stable)
    accepts(check_squashed_log_prob, variance_form)


def test_log_prob_without_gradient_or_constant():
    def numpy_log_prob(mean, log_std, u):
        m, s, x = mean.numpy(), log_std.numpy(), u.numpy()
        gauss = -0.5 * ((x - m) / np.exp(s)) ** 2 - s - 0.5 * LOG_2PI
        return np.sum(gauss - np.log(1 - np.tanh(x) ** 2), axis=-1)

    rejects(check_squashed_log_prob, numpy_log_prob, "no gradient reaches mean and log_std")
    # (a constant is wrong in its values first)
    rejects(check_squashed_log_prob, lambda m, s, u: tf.zeros(tf.shape(u)[0]), "expected")
    raising_shows_student_line(check_squashed_log_prob, lambda m, s, u: m.nope, "m.nope")


def _target(q="min", entropy="-", mask=True, outside=False):
    def sac_target(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        value = {
            "min": tf.minimum(next_q1, next_q2),
            "max": tf.maximum(next_q1, next_q2),
            "mean": (next_q1 + next_q2) / 2,
            "one": next_q1,
        }[q]
        bonus = {"-": -alpha * next_log_probs, "+": alpha * next_log_probs, "none": 0.0}[entropy]
        keep = 1 - terminated if mask else 1.0
        if outside:
            return rewards + gamma * keep * value - alpha * next_log_probs
        return rewards + gamma * keep * (value + bonus)

    return sac_target


sac_target = _target()


def test_sac_target_accepts_the_reference_and_tensorflow():
    accepts(check_sac_target, sac_target)
    check_leaves_inputs_alone(check_sac_target, sac_target)
    stub_is_not_yet(check_sac_target)
    accepts(check_sac_target, lambda *args: tf.constant(sac_target(*args)))


def test_sac_target_typical_mistakes():
    rejects(check_sac_target, _target(q="max"), "took the larger of the two critics")
    rejects(check_sac_target, _target(q="mean"), "averaged the two critics")
    rejects(check_sac_target, _target(q="one"), "used one critic")
    rejects(check_sac_target, _target(entropy="+"), "entropy term has the wrong sign")
    rejects(check_sac_target, _target(entropy="none"), "entropy term is missing")
    rejects(check_sac_target, _target(outside=True), "inside the discounted part")
    rejects(check_sac_target, _target(mask=False), "(1 - terminated)")
    rejects(check_sac_target, lambda r, q1, q2, lp, t, g, a: np.zeros_like(r), "expected")


def test_sac_target_more_mistakes():
    def fixed(gamma=None, alpha=None):
        def sac_target(rewards, next_q1, next_q2, next_log_probs, terminated, g, a):
            g, a = g if gamma is None else gamma, a if alpha is None else alpha
            return sac_target_np(rewards, next_q1, next_q2, next_log_probs, terminated, g, a)

        return sac_target

    def sac_target_np(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        soft = np.minimum(next_q1, next_q2) - alpha * next_log_probs
        return rewards + gamma * (1 - terminated) * soft

    def unmasked_entropy(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        soft = (1 - terminated) * np.minimum(next_q1, next_q2) - alpha * next_log_probs
        return rewards + gamma * soft

    def batch_min(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        soft = np.min([next_q1, next_q2]) - alpha * next_log_probs
        return rewards + gamma * (1 - terminated) * soft

    def python_min(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        soft = min(next_q1, next_q2) - alpha * next_log_probs
        return rewards + gamma * (1 - terminated) * soft

    def inverted_flags(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        soft = np.minimum(next_q1, next_q2) - alpha * next_log_probs
        return rewards + gamma * ~terminated * soft

    # (gamma 0.99 in every case passed one call in eight: both gammas are in every call now)
    rejects(check_sac_target, fixed(gamma=0.99), "gamma and alpha are parameters", times=3)
    rejects(check_sac_target, fixed(alpha=0.2), "gamma and alpha are parameters")
    rejects(check_sac_target, fixed(alpha=1.0), "multiply the log-probability by alpha")
    rejects(check_sac_target, unmasked_entropy, "mask both")
    rejects(check_sac_target, batch_min, "one number for the whole batch")
    # (was told to multiply by (1 - terminated), about its min)
    verdict = rejects(check_sac_target, python_min, "Python's min and max")
    assert "(1 - terminated)" not in verdict.message
    rejects(check_sac_target, inverted_flags, "~ does not work")
    accepts(check_sac_target, lambda *args: list(sac_target_np(*args)))

    def stacked(r, q1, q2, lp, t, g, a):
        return r + g * (1 - t) * (tf.reduce_min(tf.stack([q1, q2]), axis=0) - a * lp)

    accepts(check_sac_target, stacked)


def test_sac_agent_swings_up_with_the_reference():
    verdict = check_sac_agent(squashed_log_prob, sac_target)
    assert verdict.ok, verdict.message
    assert "your own SAC swings the pendulum up" in verdict.message


def test_sac_agent_numpy_target_stops_with_a_tensorflow_hint():
    def numpy_target(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha):
        return rewards + gamma * (1 - terminated) * (
            np.minimum(next_q1, next_q2) - alpha * next_log_probs
        )

    accepts(check_sac_target, numpy_target)  # NumPy arrays in the unit check: fine
    verdict = agent_rejects(
        check_sac_agent, squashed_log_prob, numpy_target, "Training stopped", "not NumPy"
    )
    assert "runs eagerly" in verdict.message and "tf.function" in verdict.message


def test_sac_agent_stubs_and_mistakes():
    agent_stubs_are_not_yet(check_sac_agent, squashed_log_prob, sac_target)
    # Pendulum may forgive the missing correction; the unit check names it.
    agent_rejects(
        check_sac_agent, _log_prob(correction=0.0), sac_target, "squashing changes the density"
    )
    # Bootstrapping from the larger critic and the wrong entropy sign: named whatever happens.
    agent_rejects(
        check_sac_agent, squashed_log_prob, _target(q="max", entropy="+"), "About `sac_target`"
    )
