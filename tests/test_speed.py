"""The speed devices compute exactly what the code they replace computes."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from rlbook.nets import mlp  # noqa: E402
from rlbook.speed import NumpyLSTM, NumpyMLP, repeat  # noqa: E402


def test_numpy_copy_matches_keras_and_follows_sync():
    model = mlp(4, (8, 8), 3, seed=0)
    copy = NumpyMLP(model)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(copy(x), model(x).numpy(), rtol=1e-5, atol=1e-6)
    model.layers[-1].bias.assign(np.ones(3, np.float32))
    assert not np.allclose(copy(x), model(x).numpy())  # stale until synced
    copy.sync()
    np.testing.assert_allclose(copy(x), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_copy_folds_a_linear_output_map_into_its_last_layer():
    model = mlp(4, (8,), 3, seed=1)
    combine = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    copy = NumpyMLP(model, output_map=combine)
    x = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(copy(x), model(x).numpy() @ combine, rtol=1e-5, atol=1e-5)
    model.layers[-1].bias.assign(np.arange(3, dtype=np.float32))
    copy.sync()  # the map is folded again into the new weights
    np.testing.assert_allclose(copy(x), model(x).numpy() @ combine, rtol=1e-5, atol=1e-5)


def test_numpy_lstm_matches_keras_at_the_last_step_and_skips_padding():
    from rlbook.nets import q_network

    net = q_network(
        obs_shape=(3,), n_actions=2, model_type="lstm", hidden=(8,), lstm_units=6, seed=0
    )
    copy = NumpyLSTM(net)
    x = np.random.default_rng(0).normal(size=(5, 4, 3)).astype(np.float32)
    x[1, :2] = 0.0  # two padding steps before the first real one
    np.testing.assert_allclose(copy(x), net(x).numpy()[:, -1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        copy(x[1:2, 2:]), copy(x[1:2]), rtol=1e-5, atol=1e-6
    )  # padding is skipped
    net.layers[-1].bias.assign(np.ones(2, np.float32))
    copy.sync()
    np.testing.assert_allclose(copy(x), net(x).numpy()[:, -1], rtol=1e-4, atol=1e-5)


def test_numpy_copy_rejects_unknown_activation():
    import keras

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="sigmoid")(inputs))
    with pytest.raises(ValueError, match="activations"):
        NumpyMLP(model)


counter = None
total = None


def _step(x, y):
    # Adds sum(x) to the total; every second call also multiplies it by 10.
    total.assign_add(tf.reduce_sum(x))
    counter.assign_add(1)
    if counter % 2 == 0:
        total.assign(total * 10.0)
    return {"sum_y": tf.reduce_sum(y), "total": total + 0.0}


def test_repeat_runs_the_step_on_each_minibatch_in_order_and_averages():
    global counter, total
    counter, total = tf.Variable(0, dtype=tf.int64), tf.Variable(0.0)
    run = repeat(_step, 3)
    x = np.ones((3, 2), np.float32)
    y = np.arange(6, dtype=np.float32).reshape(3, 2)  # minibatch sums 1, 5, 9
    out = run(x, y)
    # totals after each step: 2, (2 + 2) * 10 = 40, 42
    assert float(total) == 42.0 and int(counter) == 3
    assert float(out["total"]) == pytest.approx((2 + 40 + 42) / 3)
    assert float(out["sum_y"]) == pytest.approx(5.0)


@pytest.mark.parametrize("times", [0, -1, 1.5, True])
def test_repeat_rejects_bad_times(times):
    with pytest.raises(ValueError, match="times"):
        repeat(_step, times)
