"""Experience replay: a preallocated NumPy ring buffer (chapter 3).

Transitions are stored *time-major per environment copy*: row ``t`` holds the
transitions that all ``num_envs`` copies of a vector environment produced at the
same step, so each column is one copy's stream in time order. That layout serves
both samplers:

* :meth:`ReplayBuffer.sample` draws independent transitions (dense and conv DQN);
* :meth:`ReplayBuffer.sample_sequences` draws runs of consecutive steps of one copy,
  with a mask that ends each run at its episode's end (the recurrent DQN).

``terminated`` is stored, ``truncated`` is only used to mark where an episode's
stream ends (for sequences): a truncated transition still bootstraps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """A fixed-size FIFO store of transitions in NumPy arrays.

    Args:
        capacity: maximum number of transitions kept (rounded up to a multiple of
            ``num_envs``); the oldest are overwritten first.
        obs_shape: shape of one observation.
        num_envs: copies of the environment that add a transition each per step.
        obs_dtype: dtype of stored observations (``uint8`` keeps images small).
        action_shape: shape of one action: ``()`` for a ``Discrete`` index (DQN), ``(A,)``
            for a vector of continuous actions (SAC).
        action_dtype: dtype of stored actions (``int64`` indices, ``float32`` vectors).
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        num_envs: int = 1,
        obs_dtype=np.float32,
        action_shape: tuple[int, ...] = (),
        action_dtype=np.int64,
    ):
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs = num_envs
        self.rows = -(-capacity // num_envs)  # ceil: rows of num_envs transitions
        shape = (self.rows, num_envs)
        self.obs = np.zeros(shape + tuple(obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.action = np.zeros(shape + tuple(action_shape), dtype=action_dtype)
        self.reward = np.zeros(shape, dtype=np.float32)
        self.terminated = np.zeros(shape, dtype=np.float32)
        self.done = np.zeros(shape, dtype=bool)  # terminated or truncated: where a stream ends
        self.cursor = 0  # next row to write
        self.filled = 0  # rows holding data

    FIELDS = ("obs", "next_obs", "action", "reward", "terminated", "done")
    """The stored arrays, one row of ``num_envs`` transitions per step."""

    def state(self, prefix: str = "replay") -> tuple[dict, dict[str, np.ndarray]]:
        """For a checkpoint: the counters, and the rows written so far (``prefix.field``)."""
        counters = {"cursor": self.cursor, "filled": self.filled, "rows": self.rows}
        arrays = {f"{prefix}.{name}": getattr(self, name)[: self.filled] for name in self.FIELDS}
        return counters, arrays

    def restore(self, counters: dict | None, arrays: dict, prefix: str = "replay") -> None:
        """Refill from what :meth:`state` saved, when it fits this buffer (the same rows and
        observation shape); otherwise the buffer stays as it is (empty after construction)."""
        if (
            counters is None
            or counters["rows"] != self.rows
            or arrays[f"{prefix}.obs"].shape[1:] != self.obs.shape[1:]
        ):
            return
        for name in self.FIELDS:
            getattr(self, name)[: counters["filled"]] = arrays[f"{prefix}.{name}"]
        self.cursor, self.filled = counters["cursor"], counters["filled"]

    @property
    def capacity(self) -> int:
        return self.rows * self.num_envs

    def __len__(self) -> int:
        """Number of stored transitions."""
        return self.filled * self.num_envs

    def add(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        """Store one step of every copy: arrays with leading axis ``num_envs``.

        With ``num_envs == 1`` unbatched values (a single transition) are accepted too.
        """
        row = self.cursor
        n = self.num_envs
        self.obs[row] = np.reshape(obs, (n,) + self.obs.shape[2:])
        self.next_obs[row] = np.reshape(next_obs, (n,) + self.obs.shape[2:])
        self.action[row] = np.reshape(action, (n,) + self.action.shape[2:])
        self.reward[row] = np.reshape(reward, (n,))
        terminated = np.reshape(terminated, (n,))
        self.terminated[row] = terminated
        self.done[row] = terminated | np.reshape(truncated, (n,))
        self.cursor = (row + 1) % self.rows
        self.filled = min(self.filled + 1, self.rows)

    def _check(self, batch_size: int, needed: int) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if needed > len(self):
            raise ValueError(
                f"cannot sample: the buffer holds {len(self)} transitions "
                "but this batch needs at least "
                f"{needed}; wait until it has filled (learning_starts) or lower batch_size"
            )

    def sample(
        self, batch_size: int, rng: np.random.Generator, num_batches: int | None = None
    ) -> dict[str, np.ndarray]:
        """Draw transitions uniformly (with replacement).

        Args:
            batch_size: transitions per batch ``B``.
            rng: the generator to draw with (the agent's, for reproducibility).
            num_batches: draw ``K`` batches at once; arrays then have shape ``(K, B, ...)``.

        Returns:
            ``obs (B, *obs_shape)``, ``action (B, *action_shape)``, ``reward (B,)``, ``next_obs``,
            ``terminated (B,)``, with a leading ``K`` axis if ``num_batches`` is given.
        """
        self._check(batch_size, batch_size)
        shape = (batch_size,) if num_batches is None else (num_batches, batch_size)
        rows = rng.integers(0, self.filled, size=shape)
        cols = rng.integers(0, self.num_envs, size=shape)
        return self._gather(rows, cols)

    def _gather(self, rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
        """The stored fields at (row, copy) index arrays of any matching shape."""
        return {
            "obs": self.obs[rows, cols],
            "action": self.action[rows, cols],
            "reward": self.reward[rows, cols],
            "next_obs": self.next_obs[rows, cols],
            "terminated": self.terminated[rows, cols],
        }

    def sample_sequences(
        self, batch_size: int, length: int, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Draw ``batch_size`` runs of ``length`` consecutive steps of one copy each.

        A run never wraps over the ring's write position (where old and new data
        meet). Steps after the first episode end in a run belong to another episode;
        ``mask`` is 0 there, so a recurrent loss can ignore them.

        Returns:
            Arrays of shape ``(B, L, ...)``: ``obs``, ``action``, ``reward``,
            ``next_obs``, ``terminated`` and ``mask``.
        """
        if not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"sequence length must be a positive integer, got {length!r}")
        if length > self.filled:
            raise ValueError(
                f"cannot sample sequences of {length} steps: "
                f"each copy has only {self.filled} stored steps"
            )
        self._check(batch_size, length)
        # Start offsets counted from the oldest row, so a run [start, start + length)
        # is contiguous in time even after the ring has wrapped.
        oldest = self.cursor if self.filled == self.rows else 0
        starts = rng.integers(0, self.filled - length + 1, size=batch_size)
        rows = (oldest + starts[:, None] + np.arange(length)[None, :]) % self.rows  # (B, L)
        cols = rng.integers(0, self.num_envs, size=batch_size)[:, None]
        done = self.done[rows, cols]
        # mask[t] = 1 until (and including) the first step whose transition ended an episode.
        ended_before = np.cumsum(done, axis=1) - done
        return {**self._gather(rows, cols), "mask": (ended_before == 0).astype(np.float32)}
