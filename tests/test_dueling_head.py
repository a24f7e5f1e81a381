"""The dueling head of chapter 5: a nonlinear shared trunk, and Q = V + A - mean(A)."""

import numpy as np

from rlbook.nets import q_from_head, q_network


def test_trunk_ends_with_a_nonlinearity_before_the_heads():
    # Errata of chapter 5: the original's shared layer was linear. Here the layer that
    # feeds V and A is a ReLU layer.
    import keras

    net = q_network(obs_shape=(4,), n_actions=3, hidden=(16, 8), dueling=True, seed=0)
    dense = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    feeding, head = dense[-2], dense[-1]
    assert head.name == "q_head" and feeding.name == "q_h1"
    assert feeding.activation.__name__ == "relu"
    assert head.units == 1 + 3  # V, then one advantage per action


def test_dueling_streams_are_not_affine_in_the_observation():
    # An affine map f satisfies f((x + y) / 2) = (f(x) + f(y)) / 2 for every pair; a
    # linear trunk under linear heads would be affine. The ReLU trunk breaks this.
    net = q_network(obs_shape=(4,), n_actions=2, hidden=(32,), dueling=True, seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 64, 4)).astype(np.float32) * 3
    f = lambda obs: net(obs).numpy()  # noqa: E731
    gap = np.abs(f((x + y) / 2) - (f(x) + f(y)) / 2)
    assert gap.max() > 1e-2


def test_q_from_head_removes_the_mean_advantage():
    head = np.array([[2.0, 1.0, 3.0, 8.0]], np.float32)  # V = 2, A = (1, 3, 8) with mean 4
    q = q_from_head(head, dueling=True).numpy()
    np.testing.assert_allclose(q, [[-1.0, 1.0, 6.0]])
    np.testing.assert_allclose(q.mean(axis=1), [2.0])  # V is the mean of Q
