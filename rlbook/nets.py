"""Keras network builders shared by the agents (chapters 3-7), and the NumPy helpers
of a softmax policy (chapters 6-7).

The fast NumPy copy of a network that agents act with is in :mod:`rlbook.speed`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["mlp", "q_network", "q_from_head", "softmax", "sample_categorical"]


def mlp(
    input_dim: int,
    hidden: Sequence[int],
    output_dim: int | None,
    activation: str = "relu",
    output_activation: str | None = None,
    name: str = "mlp",
    seed: int | None = None,
):
    """A dense network ``input_dim -> hidden[0] -> ... -> output_dim`` as a Keras model.

    Hidden layers use ``activation``; the output layer is linear unless
    ``output_activation`` is given. ``output_dim=None`` ends after the last hidden
    layer (a *torso* for heads to build on). Weights use Keras' Glorot-uniform
    initializer (the TF2 name of ``tf.contrib.layers.xavier_initializer``), seeded.

    Returns:
        A ``keras.Model`` mapping ``(batch, input_dim)`` to ``(batch, output_dim)``.
    """
    import keras

    inputs = keras.Input(shape=(input_dim,), name=f"{name}_obs")
    x = inputs
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(
            units,
            activation=activation,
            name=f"{name}_h{i}",
            kernel_initializer=keras.initializers.GlorotUniform(
                seed=None if seed is None else seed + i
            ),
        )(x)
    if output_dim is not None:
        x = keras.layers.Dense(
            output_dim,
            activation=output_activation,
            name=f"{name}_out",
            kernel_initializer=keras.initializers.GlorotUniform(
                seed=None if seed is None else seed + 1000
            ),
        )(x)
    return keras.Model(inputs, x, name=name)


def q_network(
    obs_shape: tuple[int, ...],
    n_actions: int,
    *,
    model_type: str = "dense",
    hidden: Sequence[int] = (64, 64),
    dueling: bool = False,
    lstm_units: int = 64,
    pixels: bool = False,
    seed: int | None = None,
    name: str = "q",
    seq_len: int | None = None,
):
    """The Q-network of chapters 3-5, for one of three observation kinds.

    * ``"dense"``: flat observations ``(d,)`` -> Dense layers (``hidden``);
    * ``"conv"``: images ``(H, W, C)`` -> two strided 3x3 convolutions -> Dense;
    * ``"lstm"``: flat observations in sequences ``(T, d)`` -> Dense -> LSTM, for
      partially observed tasks (the network remembers earlier observations).

    Everything after ``n_actions`` is passed by keyword. The output is the *head*:
    ``n_actions`` Q-values, or with ``dueling=True`` ``1 + n_actions`` numbers, V(s) then
    A(s, .), that :func:`q_from_head` combines.
    ``pixels=True`` scales 0-255 images to [0, 1] inside the network. ``seq_len`` fixes
    the LSTM's window ``T`` (``None``: any length).
    The torso ends with its nonlinearity (ReLU, or the LSTM's own), so both dueling
    streams see a nonlinear feature of the state (chapter 5).

    Returns:
        A ``keras.Model``: ``(B, *obs_shape) -> (B, out)``, or for ``"lstm"``
        ``(B, T, d) -> (B, T, out)``.
    """
    import keras

    init = lambda i: keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)  # noqa: E731
    out_dim = n_actions + 1 if dueling else n_actions
    if model_type == "dense":
        inputs = keras.Input(shape=tuple(obs_shape), name=f"{name}_obs")
        x = inputs
    elif model_type == "conv":
        inputs = keras.Input(shape=tuple(obs_shape), name=f"{name}_obs")
        x = keras.layers.Rescaling(1.0 / 255.0)(inputs) if pixels else inputs
        x = keras.layers.Conv2D(16, 3, strides=2, activation="relu", kernel_initializer=init(100))(
            x
        )
        x = keras.layers.Conv2D(32, 3, strides=2, activation="relu", kernel_initializer=init(101))(
            x
        )
        x = keras.layers.Flatten()(x)
    elif model_type == "lstm":
        inputs = keras.Input(shape=(seq_len,) + tuple(obs_shape), name=f"{name}_obs_seq")
        x = keras.layers.Masking(0.0)(inputs)  # all-zero steps are padding: the LSTM skips them
        x = keras.layers.Dense(hidden[0], activation="relu", kernel_initializer=init(200))(x)
        # Every initializer is seeded, the recurrent one too (its
        # default draws from an unseeded generator).
        x = keras.layers.LSTM(
            lstm_units,
            return_sequences=True,
            # A known, short window (seq_len steps) is unrolled: on a CPU that trains
            # faster than the layer's step-by-step loop (a quarter less time at seq_len=4).
            unroll=seq_len is not None,
            name=f"{name}_lstm",
            kernel_initializer=init(201),
            recurrent_initializer=keras.initializers.Orthogonal(
                seed=None if seed is None else seed + 202
            ),
        )(x)
        hidden = ()
    else:
        raise ValueError(f"model_type must be one of 'dense', 'conv', 'lstm', got {model_type!r}")
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(
            units, activation="relu", kernel_initializer=init(i), name=f"{name}_h{i}"
        )(x)
    head = keras.layers.Dense(out_dim, kernel_initializer=init(1000), name=f"{name}_head")(x)
    return keras.Model(inputs, head, name=name)


def q_from_head(head, dueling: bool):
    """Q-values from a :func:`q_network` head (TF tensors): the dueling combine or the identity."""
    if not dueling:
        return head
    from rlbook.losses import dueling_q

    return dueling_q(head[..., :1], head[..., 1:])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a NumPy batch of logits ``(B, A)`` -> probabilities ``(B, A)`` (chapters
    6-7)."""
    z = logits - logits.max(axis=-1, keepdims=True)  # shifting by the max avoids overflow in exp
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sample_categorical(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row drawn from ``softmax(logits)``, shape ``(B,)`` (chapters 6-7).

    The Gumbel-max trick: add independent standard Gumbel noise to the logits and
    take the argmax; action ``a`` wins with probability exactly ``softmax(logits)[a]``.
    It needs no softmax and no cumulative sum, so a batch costs a few microseconds.
    """
    logits = np.asarray(logits)
    return (logits + rng.gumbel(size=logits.shape)).argmax(axis=-1)
