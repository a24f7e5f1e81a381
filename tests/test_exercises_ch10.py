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
