"""Chapter 4's checks: the bias of the max, and the double-DQN target."""

import numpy as np
import tensorflow as tf
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_double_td_target, check_max_bias
from rlbook.exercises.ch04 import expected_max


def test_expected_max_matches_known_values():
    # E[max of n standard normals]: 0, 1/sqrt(pi), 1.5 / sqrt(pi), and 1.5388 for n = 10.
    for n, value in ((1, 0.0), (2, 1 / np.sqrt(np.pi)), (3, 1.5 / np.sqrt(np.pi)), (10, 1.5388)):
        assert abs(expected_max(np.zeros(n), 1.0) - value) < 1e-3
    assert abs(expected_max(np.array([5.0, 5.0]), 2.0) - (5.0 + 2.0 / np.sqrt(np.pi))) < 1e-3


def max_bias(true_values, sigma, n_samples, rng):
    noisy = true_values + sigma * rng.normal(size=(n_samples, len(true_values)))
    return noisy.max(axis=1).mean() - true_values.max()


def test_max_bias_accepts_the_reference():
    accepts(check_max_bias, max_bias, times=2)
    check_leaves_inputs_alone(check_max_bias, max_bias)
    stub_is_not_yet(check_max_bias)


def test_max_bias_typical_mistakes():
    def noisy(tv, sigma, n, rng):
        return tv + sigma * rng.normal(size=(n, len(tv)))

    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s, n, rng).mean(axis=0).max() - tv.max(),
        "about 0",
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: (tv + s * rng.normal(size=(n, 1))).max(axis=1).mean() - tv.max(),
        "about 0",
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s, n, rng).max(axis=1).mean(),
        "subtract the true maximum",
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, 1.0, n, rng).max(axis=1).mean() - tv.max(),
        "ignores sigma",
    )
    rejects(
        check_max_bias, lambda tv, s, n, rng: noisy(tv, s, n, rng).max() - tv.max(), "far too large"
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s, n, rng).max(axis=1).mean() - tv.mean(),
        "not their mean",
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s, n, rng).max(axis=0) - tv.max(),
        "one number per action",
    )
    rejects(
        check_max_bias, lambda tv, s, n, rng: 0.5642, "bias"
    )  # constant (the old check's value)

    def global_rng(tv, s, n, rng):
        return max_bias(tv, s, n, np.random.default_rng())

    rejects(check_max_bias, global_rng, "the `rng` you are given")

    def in_place(tv, s, n, rng):
        tv += 0.0 * tv
        tv[0] = tv[0] + 1e-9
        return max_bias(tv, s, n, rng)

    rejects(check_max_bias, in_place, "`true_values` in place")
    raising_shows_student_line(
        check_max_bias,
        lambda tv, s, n, rng: rng.normal(size=(n, tv)).max(axis=1).mean(),
        "rng.normal(size=(n, tv))",
    )


def my_double_td_target(reward, next_q_online, next_q_target, terminated, gamma):
    best = next_q_online.argmax(axis=-1)
    value = np.take_along_axis(next_q_target, best[:, None], axis=-1)[:, 0]
    return reward + gamma * (1.0 - terminated) * value


def test_double_td_target_accepts_numpy_and_tensorflow():
    accepts(check_double_td_target, my_double_td_target)

    def tf_version(r, qo, qt, t, g):
        return r + g * (1 - t) * tf.gather(qt, tf.argmax(qo, axis=-1), batch_dims=1)

    accepts(check_double_td_target, tf_version, times=1)
    check_leaves_inputs_alone(check_double_td_target, my_double_td_target)
    stub_is_not_yet(check_double_td_target)


def test_double_td_target_typical_mistakes():
    rows = lambda q: np.arange(len(q))  # noqa: E731
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qt.max(axis=1),
        "vanilla DQN target",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qo[rows(qo), qt.argmax(axis=1)],
        "roles are swapped",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qo.max(axis=1),
        "evaluates",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * qt[rows(qt), qo.argmax(axis=1)],
        "(1 - terminated)",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qt[rows(qt), qo.argmin(axis=1)],
        "argmin",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qt[:, qo.argmax(axis=1)],
        "one per row",
    )
    rejects(
        check_double_td_target, lambda r, qo, qt, t, g: r + g * (1 - t) * qo.argmax(axis=1), "index"
    )
    rejects(
        check_double_td_target, lambda r, qo, qt, t, g: np.array([1.9, 3.2, 2.0, 1.7])
    )  # the old fixed answer
    rejects(check_double_td_target, lambda r, qo, qt, t, g: r, "expected")  # ignores the bootstrap

    def in_place(r, qo, qt, t, g):
        qt *= (1 - t)[:, None]
        return r + g * qt[np.arange(len(qt)), qo.argmax(axis=1)]

    rejects(check_double_td_target, in_place, "in place")
    raising_shows_student_line(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qt[qo.argmax(axis=1)].max(axis=2),
        "qt[qo.argmax(axis=1)].max(axis=2)",
    )


def test_max_bias_accepts_other_correct_forms():
    def loc_scale(tv, s, n, rng):  # the noisy estimates drawn directly
        return rng.normal(tv, s, size=(n, len(tv))).max(axis=1).mean() - tv.max()

    def transposed(tv, s, n, rng):  # actions first, the max over axis 0
        return (tv[:, None] + s * rng.normal(size=(len(tv), n))).max(axis=0).mean() - tv.max()

    def tensorflow(tv, s, n, rng):
        noisy = tv + s * rng.normal(size=(n, len(tv)))
        return tf.reduce_mean(tf.reduce_max(noisy, axis=1)) - tv.max()

    for fn in (loc_scale, transposed, tensorflow):
        accepts(check_max_bias, fn, times=1)


def test_max_bias_more_typical_mistakes():
    def noisy(tv, sigma, n, rng):
        return tv + sigma * rng.normal(size=(n, len(tv)))

    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s**2, n, rng).max(axis=1).mean() - tv.max(),
        "not a variance",
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, np.sqrt(s), n, rng).max(axis=1).mean() - tv.max(),
        "not a variance",
    )
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s, n, rng).max(axis=1) - tv.max(),
        "one number per sample",
    )
    # A number of samples of one's own: right on every case, blind to n_samples.
    rejects(
        check_max_bias,
        lambda tv, s, n, rng: noisy(tv, s, 10_000, rng).max(axis=1).mean() - tv.max(),
        "draw exactly n_samples",
    )
    verdict = raising_shows_student_line(
        check_max_bias,
        lambda tv, s, n, rng: (tv + s * rng.normal(size=n)).max(axis=1).mean() - tv.max(),
        "rng.normal(size=n)",
    )
    assert "size=(n_samples, len(true_values))" in verdict.message


def test_double_td_target_accepts_other_correct_forms():
    rows = lambda q: np.arange(len(q))  # noqa: E731

    def loop(r, qo, qt, t, g):
        return np.array([r[i] if t[i] else r[i] + g * qt[i, qo[i].argmax()] for i in rows(r)])

    accepts(check_double_td_target, loop, times=1)
    accepts(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * np.logical_not(t) * qt[rows(qt), qo.argmax(axis=1)],
        times=1,
    )
    accepts(
        check_double_td_target,
        lambda r, qo, qt, t, g: list(my_double_td_target(r, qo, qt, t, g)),
        times=1,
    )


def test_double_td_target_more_typical_mistakes():
    rows = lambda q: np.arange(len(q))  # noqa: E731
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: (
            r + g * (1 - t) * np.take_along_axis(qt, qo.argmax(axis=1)[:, None], axis=1)
        ),
        "take [:, 0]",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + 0.99 * (1 - t) * qt[rows(qt), qo.argmax(axis=1)],
        "the gamma you are given",
    )
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: (1 - t) * (r + g * qt[rows(qt), qo.argmax(axis=1)]),
        "its reward r, not 0",
    )
    # (an index past the last action raises; a smaller one gives wrong numbers: both say so)
    rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qt[rows(qt), qo.argmax()],
        "argmax(axis=1)",
        times=3,
    )
    verdict = raising_shows_student_line(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * qt[qo.argmax(axis=1)],
        "qt[qo.argmax(axis=1)]",
    )
    assert "pick one value per row" in verdict.message
    verdict = raising_shows_student_line(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (1 - t) * tf.gather(qt, tf.argmax(qo, axis=-1)),
        "tf.gather(qt, tf.argmax(qo, axis=-1))",
    )
    assert "without batch_dims=1" in verdict.message
    verdict = raising_shows_student_line(
        check_double_td_target,
        lambda r, qo, qt, t, g: r + g * (~t) * qt[rows(qt), qo.argmax(axis=1)],
        "(~t)",
    )
    assert "(1 - terminated)" in verdict.message
    # A shape slip: the generic message says the expected shape once.
    verdict = rejects(
        check_double_td_target,
        lambda r, qo, qt, t, g: my_double_td_target(r, qo, qt, t, g)[:, None],
        "; got shape",
    )
    assert "), shape (" not in verdict.message, verdict.message  # (said once)
