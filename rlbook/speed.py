"""Speed devices: generic helpers that make the agents' readable learning steps fast
on a CPU without changing what they compute.

An agent's learning step is written to be read (its chapter prints it). The devices
below wrap such a step, or the network it trains, and each says what it buys, as
measured on a 2-core CPU (``python -m rlbook.bench``, see ``docs/performance.md``
for the whole-run effect):

* :class:`NumpyMLP`, a NumPy copy of a dense Keras network for *acting*. Choosing the
  actions of a batch of CartPole observations costs about 10 microseconds with it,
  against about 500 for a compiled Keras call and 2,500 for an eager one. The agent
  calls :meth:`NumpyMLP.sync` after each training call so acting uses the new weights.
  A linear map after the network (DQN's dueling combine) folds into its last layer.
* :class:`NumpyLSTM`, the same for the recurrent Q-network of chapter 3 (Masking,
  Dense, LSTM, Dense head): about 0.1 ms per batch of 4 windows of 4 steps, against
  0.8 ms for a compiled Keras call.
* :func:`repeat`, which runs a learning step on several stacked minibatches in one
  compiled call: TensorFlow's fixed cost per call (a few hundred microseconds) is then
  paid once per call instead of once per gradient step.

Both are generic: no agent's algorithm lives here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

__all__ = ["NumpyLSTM", "NumpyMLP", "repeat"]


_NUMPY_ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
    None: lambda x: x,
    "linear": lambda x: x,
}


class NumpyMLP:
    """Forward pass of a stack of Dense layers in NumPy, for fast acting.

    Args:
        model: a Keras model made only of ``Dense`` layers (as built by :func:`rlbook.nets.mlp`).
        output_map: optional matrix ``(outputs, k)`` that the model's outputs are multiplied
            by, such as a linear combine after the last layer. It is folded into the last
            layer's weights at :meth:`sync` (``h @ (W M) + b M = (h @ W + b) @ M``), so the
            copy's outputs are the combined ones at no extra cost.
    """

    def __init__(self, model, output_map: np.ndarray | None = None):
        import keras

        self.model = model
        self.output_map = None if output_map is None else np.asarray(output_map, np.float32)
        self.layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        for layer in self.layers:
            name = getattr(layer.activation, "__name__", None)
            if name not in _NUMPY_ACTIVATIONS:
                raise ValueError(
                    "NumpyMLP supports activations "
                    f"{sorted(map(str, _NUMPY_ACTIVATIONS))}, got {name!r}"
                )
        self.activations = [_NUMPY_ACTIVATIONS[layer.activation.__name__] for layer in self.layers]
        self.sync()

    def sync(self) -> None:
        """Copy the current Keras weights (call after every training step or batch of steps)."""
        self.params = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in self.layers]
        if self.output_map is not None:
            w, b = self.params[-1]
            self.params[-1] = (w @ self.output_map, b @ self.output_map)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs for a batch ``x`` of shape ``(batch, input_dim)`` (float32 or float64)."""
        h = np.asarray(x, dtype=np.float32)
        for (w, b), act in zip(self.params, self.activations):
            h = act(h @ w + b)
        return h


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + exp(-x)), without overflow


class NumpyLSTM:
    """Last-step outputs of :func:`rlbook.nets.q_network` with ``model_type="lstm"`` in NumPy.

    The network is Masking (all-zero steps are padding) -> Dense (ReLU) -> LSTM ->
    Dense head; this copy runs it on a batch of windows and returns the head's output
    at each window's last step, as the agent acts on it.

    Args:
        model: the Keras model.
        output_map: as for :class:`NumpyMLP`, folded into the head.
    """

    def __init__(self, model, output_map: np.ndarray | None = None):
        import keras

        self.model = model
        self.output_map = None if output_map is None else np.asarray(output_map, np.float32)
        self.dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        self.lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
        if len(self.dense) != 2:
            raise ValueError("NumpyLSTM expects Masking -> Dense -> LSTM -> Dense")
        self.sync()

    def sync(self) -> None:
        """Copy the current Keras weights (call after every training call)."""
        (w1, b1), (wh, bh) = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in self.dense]
        if self.output_map is not None:
            wh, bh = wh @ self.output_map, bh @ self.output_map
        cell = self.lstm.cell
        self.params = (
            w1,
            b1,
            cell.kernel.numpy(),
            cell.recurrent_kernel.numpy(),
            cell.bias.numpy(),
            wh,
            bh,
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs at the last step of a batch ``x`` of windows ``(batch, steps, input_dim)``."""
        w1, b1, kernel, recurrent, bias, wh, bh = self.params
        x = np.asarray(x, dtype=np.float32)
        mask = np.any(x != 0.0, axis=-1)  # (batch, steps): False on padding
        gates_in = np.maximum(x @ w1 + b1, 0.0) @ kernel + bias  # (batch, steps, 4 units)
        units = recurrent.shape[0]
        h = np.zeros((len(x), units), np.float32)
        c = np.zeros_like(h)
        for t in range(x.shape[1]):
            z = gates_in[:, t] + h @ recurrent
            i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))  # Keras' gate order
            c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h_new = _sigmoid(o) * np.tanh(c_new)
            keep = mask[:, t, None]  # a padded step leaves the state as it was
            c, h = np.where(keep, c_new, c), np.where(keep, h_new, h)
        return h @ wh + bh


def repeat(step: Callable[..., dict], times: int, input_signature=None) -> Callable[..., dict]:
    """Compile ``step`` to run ``times`` times in one call, once per stacked minibatch.

    Args:
        step: a learning step ``step(*batch) -> {name: scalar tensor}``, written with
            plain Python control flow (autograph converts it when traced).
        times: how many steps one call takes.
        input_signature: optional ``tf.TensorSpec`` of each stacked argument, which
            fixes the one trace (``tf.function``'s own argument).

    Returns:
        A ``tf.function`` taking the same arguments as ``step``, each with an extra
        leading axis of length ``times`` (minibatch ``k`` is ``arg[k]``), and returning
        each metric averaged over the ``times`` steps. Arrays of a fixed shape trace it
        once.
    """
    import tensorflow as tf

    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ValueError(f"times must be a positive integer, got {times!r}")

    @functools.partial(tf.function, input_signature=input_signature)
    def run(*batches):
        totals = step(*[b[0] for b in batches])
        # autograph turns this loop over a tensor range into one graph loop
        for k in tf.range(1, times):
            metrics = step(*[b[k] for b in batches])
            totals = {name: totals[name] + metrics[name] for name in totals}
        return {name: total / times for name, total in totals.items()}

    return run
