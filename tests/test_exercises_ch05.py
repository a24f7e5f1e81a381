"""Chapter 5's checks: the dueling combine and the split a mean-centred head represents."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_dueling_combine, check_split_q


def dueling_combine(value, advantage):
    return value + advantage - advantage.mean(axis=-1, keepdims=True)


def test_dueling_combine_accepts_numpy_and_tensorflow():
    accepts(check_dueling_combine, dueling_combine)
    accepts(
        check_dueling_combine,
        lambda v, a: v + a - tf.reduce_mean(a, axis=-1, keepdims=True),
        times=1,
    )
    check_leaves_inputs_alone(check_dueling_combine, dueling_combine)
    stub_is_not_yet(check_dueling_combine)


def test_dueling_combine_typical_mistakes():
    rejects(check_dueling_combine, lambda v, a: v + a - a.mean(axis=-1), "keepdims=True")
    rejects(check_dueling_combine, lambda v, a: v + a, "V + A")
    rejects(
        check_dueling_combine, lambda v, a: v + a - a.max(axis=1, keepdims=True), "max advantage"
    )
    rejects(check_dueling_combine, lambda v, a: v + a - a.mean(axis=0, keepdims=True), "axis 0")
    rejects(check_dueling_combine, lambda v, a: v + a - a.mean(), "whole batch")
    rejects(check_dueling_combine, lambda v, a: v - a + a.mean(axis=1, keepdims=True), "wrong sign")
    rejects(
        check_dueling_combine, lambda v, a: v[:, 0] + a - a.mean(axis=1, keepdims=True), "(B, 1)"
    )
    rejects(
        check_dueling_combine,
        lambda v, a: (v + a - a.mean(axis=1, keepdims=True)).mean(axis=1),
        "shape",
    )
    rejects(
        check_dueling_combine, lambda v, a: np.array([[7, 8, 12], [-4, -1, 5], [-2, -2, -2]]), ""
    )  # old answer
    rejects(check_dueling_combine, lambda v, a: np.zeros_like(a), "expected Q")  # constant

    def in_place(value, advantage):
        advantage -= advantage.mean(axis=-1, keepdims=True)
        return value + advantage

    rejects(check_dueling_combine, in_place, "`advantage` in place")


def test_dueling_combine_no_keepdims_crash_names_keepdims():
    def tf_no_keepdims(value, advantage):
        return value + advantage - tf.reduce_mean(advantage, axis=-1)

    # a square batch gives wrong numbers, another batch a broadcasting error: both name keepdims
    rejects(check_dueling_combine, tf_no_keepdims, "keepdims=True")
    raising_shows_student_line(
        check_dueling_combine,
        lambda v, a: v + a - a.mean(axis=-1).reshape(3, -1),
        "a.mean(axis=-1).reshape(3, -1)",
    )


def split_q(q):
    v = q.mean(axis=1)
    return v, q - v[:, None]


def test_split_q_accepts_the_reference_and_a_column_v():
    accepts(check_split_q, split_q)
    accepts(
        check_split_q,
        lambda q: (q.mean(axis=1, keepdims=True), q - q.mean(axis=1, keepdims=True)),
        times=1,
    )
    check_leaves_inputs_alone(check_split_q, split_q)
    stub_is_not_yet(check_split_q)


def test_split_q_typical_mistakes():
    rejects(
        check_split_q,
        lambda q: (q.max(axis=1), q - q.max(axis=1, keepdims=True)),
        "*max* advantage",
    )
    rejects(check_split_q, lambda q: (np.zeros(len(q)), q), "unidentifiable")
    rejects(check_split_q, lambda q: (q.mean(axis=1), q), "give back Q")
    rejects(check_split_q, lambda q: (q - q.mean(axis=1, keepdims=True), q.mean(axis=1)), "(v, a)")
    rejects(check_split_q, lambda q: q.mean(axis=1), "pair")
    rejects(check_split_q, lambda q: (np.array([4.0, -3.0]), np.zeros((2, 3))), "shape")  # constant

    def in_place(q):
        v = q.mean(axis=1)
        q -= v[:, None]
        return v, q

    rejects(check_split_q, in_place, "`q` in place")
    raising_shows_student_line(
        check_split_q,
        lambda q: (q.mean(axis=1), q - q.mean(axis=1).reshape(1, 2)),
        "q.mean(axis=1).reshape(1, 2)",
    )


def test_dueling_combine_accepts_other_correct_forms():
    accepts(check_dueling_combine, lambda v, a: v + a - a.mean(axis=1)[:, None], times=1)
    accepts(
        check_dueling_combine,
        lambda v, a: v + a - tf.reshape(tf.reduce_mean(a, axis=1), (-1, 1)),
        times=1,
    )
    accepts(check_dueling_combine, lambda v, a: dueling_combine(v, a).tolist(), times=1)


def test_dueling_combine_more_typical_mistakes():
    # Right when the example's number of actions is the check's: every call tries three.
    rejects(
        check_dueling_combine,
        lambda v, a: v + a - a.sum(axis=1, keepdims=True) / 3,
        "a count of your own",
        times=3,
    )
    rejects(
        check_dueling_combine,
        lambda v, a: v + a - a.sum(axis=1, keepdims=True) / len(a),
        "len(...), the batch size",
    )
    rejects(check_dueling_combine, lambda v, a: a - a.mean(axis=1, keepdims=True), "V is missing")
    rejects(
        check_dueling_combine,
        lambda v, a: (v + a) - (v + a).mean(axis=1, keepdims=True),
        "V is missing",
    )


def test_split_q_accepts_other_correct_forms():
    accepts(check_split_q, lambda q: list(split_q(q)), times=1)
    accepts(
        check_split_q,
        lambda q: (tf.reduce_mean(q, axis=1), q - tf.reduce_mean(q, axis=1, keepdims=True)),
        times=1,
    )


def test_split_q_more_typical_mistakes():
    def over(count):
        return lambda q: (q.sum(axis=1) / count(q), q - (q.sum(axis=1) / count(q))[:, None])

    rejects(check_split_q, over(lambda q: 3), "a count of your own", times=3)
    rejects(check_split_q, over(len), "len(...), the batch size")
    rejects(check_split_q, lambda q: (q.mean(), q - q.mean()), "one v for the whole batch")
