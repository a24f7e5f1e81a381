"""Chapter 3's checks: the TD target and the soft target update."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_soft_update, check_td_target


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
