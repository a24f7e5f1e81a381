"""TensorBoard logs of a training run, written with ``tf.summary``.

:class:`TensorBoardLogger` is a :func:`rlbook.train.train` callback: each time the loop
calls it (after every finished episode and every evaluation) it writes what the
:class:`~rlbook.train.History` gained since the last call. ``train(..., logdir=...)``
creates one for you and closes it at the end. The scalar tags:

* ``episode/return`` and ``episode/length``, at the step each training episode ended;
* ``agent/<name>`` for every number the agent reports from ``observe`` (``loss``, ``epsilon``,
  ``mean_q`` for DQN; ``policy_loss``, ``value_loss``, ``entropy``, ``mean_v`` for REINFORCE and the
  actor-critic), and ``agent/epsilon`` read from the agent itself when it has an ``epsilon`` but
  does not report it (tabular Q-learning);
* ``eval/mean_return`` and ``eval/std_return`` of each greedy evaluation.

The x axis is always environment steps. Open the logs with ``tensorboard --logdir DIR``
(or ``%load_ext tensorboard`` then ``%tensorboard --logdir DIR`` in Jupyter). Writing
needs only TensorFlow; *viewing* needs the ``tensorboard`` package.
"""

from __future__ import annotations

import os

__all__ = ["TensorBoardLogger"]


class TensorBoardLogger:
    """Write a run's history as TensorBoard scalars (use as ``train``'s callback).

    Args:
        logdir: directory for the event files (created if missing). Several runs in
            sub-directories of one folder show up as separate curves.
        agent: optional; if it has an ``epsilon`` attribute it does not report itself,
            that value is logged at each episode end.
        flush_seconds: how often the writer flushes to disk (TensorBoard reads the
            files while training runs).
    """

    def __init__(self, logdir: str | os.PathLike, agent=None, flush_seconds: float = 5.0):
        import tensorflow as tf

        self.logdir = os.fspath(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        self._tf = tf
        self.writer = tf.summary.create_file_writer(
            self.logdir, flush_millis=int(flush_seconds * 1000)
        )
        self.agent = agent
        self._episodes = 0
        self._evaluations = 0
        self._metric_counts: dict[str, int] = {}
        self._closed = False

    def __call__(self, history) -> None:
        """Write what ``history`` gained since the last call; never asks training to stop."""
        self.write(history)
        return None

    def write(self, history) -> None:
        """Write the new episodes, agent metrics and evaluations of ``history``."""
        if self._closed:
            raise RuntimeError("this TensorBoardLogger is closed")
        scalar = self._tf.summary.scalar
        with self.writer.as_default():
            for i in range(self._episodes, history.episodes):
                step = history.episode_end_steps[i]
                scalar("episode/return", history.episode_returns[i], step=step)
                scalar("episode/length", history.episode_lengths[i], step=step)
            own_epsilon = "epsilon" not in history.metrics and hasattr(self.agent, "epsilon")
            if own_epsilon and history.episodes > self._episodes:
                scalar(
                    "agent/epsilon", float(self.agent.epsilon), step=history.episode_end_steps[-1]
                )
            self._episodes = history.episodes
            for name, values in history.metrics.items():
                start = self._metric_counts.get(name, 0)
                for step, value in values[start:]:
                    scalar(f"agent/{name}", value, step=step)
                self._metric_counts[name] = len(values)
            for e in history.evaluations[self._evaluations :]:
                scalar("eval/mean_return", e["mean"], step=int(e["step"]))
                scalar("eval/std_return", e["std"], step=int(e["step"]))
            self._evaluations = len(history.evaluations)

    def close(self, history=None) -> None:
        """Write what is left of ``history`` (if given), flush and close the files."""
        if self._closed:
            return
        if history is not None:
            self.write(history)
        self.writer.flush()
        self.writer.close()
        self._closed = True

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
