import numpy as np

from rlbook.exercises import check_double_td_target, check_dueling_combine, check_max_bias, check_split_q
from rlbook.losses import double_td_target, dueling_q


def _stub(*args):
    raise NotImplementedError


# -- chapter 4 ---------------------------------------------------------------------------

def _bias(true_values, sigma, n_samples, rng):
    noisy = true_values + sigma * rng.normal(size=(n_samples, len(true_values)))
    return noisy.max(axis=1).mean() - true_values.max()


def test_max_bias_accepts_reference():
    assert check_max_bias(_bias).ok


def test_max_bias_names_the_mistake():
    def mean_then_max(q, s, n, rng):
        return (q + s * rng.normal(size=(n, len(q)))).mean(axis=0).max() - q.max()

    def no_subtraction(q, s, n, rng):
        return (q + s * rng.normal(size=(n, len(q)))).max(axis=1).mean()

    def no_sigma(q, s, n, rng):
        return (q + rng.normal(size=(n, len(q)))).max(axis=1).mean() - q.max()

    def global_max(q, s, n, rng):
        return (q + s * rng.normal(size=(n, len(q)))).max() - q.max()

    def per_sample(q, s, n, rng):
        return (q + s * rng.normal(size=(n, len(q)))).max(axis=1) - q.max()

    assert "order of max and mean" in check_max_bias(mean_then_max).message
    assert "subtract the true maximum" in check_max_bias(no_subtraction).message
    assert "ignores sigma" in check_max_bias(no_sigma).message
    assert "one max over all samples" in check_max_bias(global_max).message
    assert "one number" in check_max_bias(per_sample).message
    assert "NotImplementedError" in check_max_bias(_stub).message
    assert "returned None" in check_max_bias(lambda *a: None).message


def test_double_td_target_accepts_numpy_and_library():
    def numpy_version(r, q_online, q_target, terminated, gamma):
        best = q_online.argmax(axis=1)
        return r + gamma * (1 - terminated) * q_target[np.arange(len(r)), best]

    assert check_double_td_target(numpy_version).ok
    assert check_double_td_target(double_td_target).ok


def test_double_td_target_names_the_mistake():
    rows = lambda q, i: q[np.arange(len(q)), i]  # noqa: E731
    vanilla = lambda r, qo, qt, t, g: r + g * (1 - t) * qt.max(axis=1)  # noqa: E731
    swapped = lambda r, qo, qt, t, g: r + g * (1 - t) * rows(qo, qt.argmax(axis=1))  # noqa: E731
    online_only = lambda r, qo, qt, t, g: r + g * (1 - t) * qo.max(axis=1)  # noqa: E731
    no_mask = lambda r, qo, qt, t, g: r + g * rows(qt, qo.argmax(axis=1))  # noqa: E731
    scalar = lambda r, qo, qt, t, g: (r + g * (1 - t) * rows(qt, qo.argmax(axis=1))).sum()  # noqa: E731
    assert "vanilla DQN target" in check_double_td_target(vanilla).message
    assert "roles are swapped" in check_double_td_target(swapped).message
    assert "one network both selects and evaluates" in check_double_td_target(online_only).message
    assert "(1 - terminated)" in check_double_td_target(no_mask).message
    assert "shape (4,)" in check_double_td_target(scalar).message
    assert "NotImplementedError" in check_double_td_target(_stub).message


# -- chapter 5 ---------------------------------------------------------------------------

def test_dueling_combine_accepts_numpy_and_library():
    assert check_dueling_combine(lambda v, a: v + a - a.mean(axis=1, keepdims=True)).ok
    assert check_dueling_combine(dueling_q).ok


def test_dueling_combine_names_the_mistake():
    assert "not identifiable" in check_dueling_combine(lambda v, a: v + a).message
    assert "max advantage" in check_dueling_combine(lambda v, a: v + a - a.max(axis=1, keepdims=True)).message
    assert "over the batch (axis 0)" in check_dueling_combine(lambda v, a: v + a - a.mean(axis=0, keepdims=True)).message
    assert "whole batch" in check_dueling_combine(lambda v, a: v + a - a.mean()).message
    assert "keepdims=True" in check_dueling_combine(lambda v, a: v + a - a.mean(axis=1)[None, :, None]).message
    assert "NotImplementedError" in check_dueling_combine(_stub).message
    assert "returned None" in check_dueling_combine(lambda v, a: None).message


def test_split_q_accepts_the_mean_split():
    assert check_split_q(lambda q: (q.mean(axis=1), q - q.mean(axis=1, keepdims=True))).ok
    assert check_split_q(lambda q: (q.mean(axis=1, keepdims=True), q - q.mean(axis=1, keepdims=True))).ok


def test_split_q_names_the_mistake():
    assert "subtracts the *max*" in check_split_q(lambda q: (q.max(axis=1), q - q.max(axis=1, keepdims=True))).message
    assert "unidentifiable" in check_split_q(lambda q: (np.zeros(len(q)), q)).message
    assert "give back Q" in check_split_q(lambda q: (q.mean(axis=1), q)).message
    assert "average to 0" in check_split_q(lambda q: (q.min(axis=1), q - q.min(axis=1, keepdims=True))).message
    assert "pair" in check_split_q(lambda q: q.mean(axis=1)).message
    assert "NotImplementedError" in check_split_q(_stub).message
