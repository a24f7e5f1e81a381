"""Recurrent DQN (chapter 3's last section): DQN with an LSTM Q-network, for tasks
where one observation does not reveal the state.

:class:`RecurrentDQNAgent` takes DQN's arguments and config; its config's
``model_type`` is ``"lstm"`` (:class:`RecurrentDQNConfig`). The algorithm is
:meth:`DQNAgent.learn` unchanged; what this subclass adds is the memory:

* **Acting.** For each running episode the agent keeps a window of its last
  ``seq_len`` observations. Every step it slides the window by one and runs the LSTM
  over it from a zero state, so at act time the network sees the same kind of
  ``seq_len``-step window it is trained on. All-zero rows are padding, which the
  network's Masking layer skips, so a fresh window is exactly a fresh LSTM state.
* **Replay.** Minibatches are sequences of ``seq_len`` consecutive steps of one
  environment copy (:meth:`rlbook.replay.ReplayBuffer.sample_sequences`); steps after
  the end of the sequence's first episode get weight 0 in the loss.
"""

from __future__ import annotations

import numpy as np

from rlbook._validate import config
from rlbook.agents.dqn import DQNAgent, DQNConfig
from rlbook.speed import NumpyLSTM

__all__ = ["RecurrentDQNAgent", "RecurrentDQNConfig"]


@config
class RecurrentDQNConfig(DQNConfig):
    """Hyperparameters of recurrent DQN: DQN's, with an LSTM Q-network (chapter 3's last section)."""  # noqa: E501 (one line: --help prints it as is)

    model_type: str = "lstm"
    """Q-network kind: "lstm" (the only kind this agent builds)."""


class RecurrentDQNAgent(DQNAgent):
    """DQN with an LSTM Q-network and a memory of each running episode's last ``seq_len`` steps.

    ``RecurrentDQNAgent(observation_space, action_space, config=None, num_envs=1, **overrides)``
    takes the arguments of :class:`~rlbook.agents.dqn.DQNAgent`; its config (default
    :class:`RecurrentDQNConfig`) must have ``model_type="lstm"``.
    """

    algorithm = "recurrent_dqn"
    config_class = RecurrentDQNConfig
    recurrent = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One memory per number of copies, so a greedy evaluation on 10 copies in the
        # middle of training on 4 leaves the memory of the 4 training episodes alone.
        self._windows: dict[int, np.ndarray] = {}
        self.reset_state(self.num_envs)
        # Acting reads a NumPy copy of the network (rlbook.speed: about 0.1 ms a
        # batch of windows, against 0.8 ms for a compiled Keras call).
        self._numpy_q = NumpyLSTM(self.q_network, output_map=self._combine_matrix())

    def reset_state(self, num_envs: int) -> None:
        """Forget the memory of ``num_envs`` parallel episodes (the loop calls this before
        episodes)."""
        self._windows[num_envs] = np.zeros(
            (num_envs, self.config.seq_len) + self.obs_shape, np.float32
        )

    @property
    def recurrent_state(self) -> dict[int, np.ndarray]:
        """A copy of the memory; assigning it puts a memory back.

        :func:`rlbook.train.evaluate` saves it before a greedy evaluation and restores it
        after, so evaluating never disturbs the memory of the running training episodes.
        """
        return {n: w.copy() for n, w in self._windows.items()}

    @recurrent_state.setter
    def recurrent_state(self, memory: dict[int, np.ndarray] | None) -> None:
        if memory is not None:
            self._windows = {n: w.copy() for n, w in memory.items()}

    @property
    def _window(self) -> np.ndarray:
        """The memory of the ``num_envs`` training copies, ``(num_envs, seq_len, *obs_shape)``."""
        return self._windows[self.num_envs]

    def q_values(self, obs) -> np.ndarray:
        """Q-values of a batch of observations, each seen alone (no memory), ``(B, A)``."""
        obs = np.asarray(obs, dtype=np.float32).reshape((-1,) + self.obs_shape)
        return self._numpy_q(obs[:, None])

    def _acting_q_values(self, obs: np.ndarray) -> np.ndarray:
        # Slide each copy's window by one step and rerun the LSTM over it.
        n = len(obs)
        if n not in self._windows:
            self.reset_state(n)
        window = self._windows[n] = np.concatenate([self._windows[n][:, 1:], obs[:, None]], axis=1)
        return self._numpy_q(window)

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        done = np.reshape(np.logical_or(terminated, truncated), (self.num_envs,))
        self._window[done] = 0.0  # a finished episode's memory is wiped
        return super().observe(obs, action, reward, next_obs, terminated, truncated)

    def sample_minibatches(self) -> tuple[np.ndarray, ...]:
        """``gradient_steps`` minibatches of sequences, stacked:
        ``(gradient_steps, batch_size, seq_len, ...)``, the last array being the mask that
        :meth:`DQNAgent.learn` takes as ``weights``."""
        c = self.config
        seqs = [
            self.buffer.sample_sequences(c.batch_size, c.seq_len, self.rng)
            for _ in range(c.gradient_steps)
        ]
        return tuple(
            np.stack([s[k] for s in seqs])
            for k in ("obs", "action", "reward", "next_obs", "terminated", "mask")
        )

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        super()._restore_checkpoint(counters, arrays)
        self.reset_state(self.num_envs)
