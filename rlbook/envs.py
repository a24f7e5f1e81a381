"""Environments: seeded construction and the discretizing wrapper.

Chapter 1 teaches :func:`make_env`; chapter 2 teaches
:class:`DiscretizedObservationWrapper`.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np

__all__ = ["make_env", "make_vec_env", "DiscretizedObservationWrapper", "register_atari"]


def register_atari() -> None:
    """Register the Atari environments (``ALE/MsPacman-v5`` and friends).

    ``ale-py`` ships its ROMs, so nothing is downloaded. Safe to call twice.
    """
    import ale_py

    gym.register_envs(ale_py)


def make_env(env_id: str, seed: int | None = None, **kwargs: Any) -> gym.Env:
    """Create a Gymnasium environment whose first reset and action space are seeded.

    Gymnasium seeds an environment through ``reset(seed=...)`` and keeps a separate
    generator for ``action_space.sample()``: both are seeded here, so a random agent
    and the first episode are reproducible. Later ``env.reset()`` calls (without a
    seed) continue the same seeded generator, so a whole run is reproducible too.

    Args:
        env_id: a registered id such as ``"CartPole-v1"`` or ``"ALE/MsPacman-v5"``.
        seed: the seed; ``None`` leaves the environment unseeded.
        **kwargs: passed to ``gym.make`` (for example ``is_slippery=False`` or
            ``render_mode="rgb_array"``).

    Returns:
        The environment, already reset once with ``seed`` (call ``reset()`` again to
        get the first observation; it continues the seeded stream).
    """
    if env_id.startswith("ALE/"):
        register_atari()
    env = gym.make(env_id, **kwargs)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


def make_vec_env(env_id: str, num_envs: int, seed: int | None = None, **kwargs: Any) -> gym.vector.VectorEnv:
    """Create ``num_envs`` copies of an environment stepped together (synchronously).

    The copies are reset with seeds ``seed, seed + 1, ...``. Episodes restart
    automatically in the same step that ends them ("same-step" autoreset): the
    observation returned for a finished copy is the first one of its next episode,
    and the true last observation is in ``info["final_obs"]``. :func:`rlbook.train.train`
    puts the true one into the transition, which is what bootstrapping needs.
    """
    if num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    if env_id.startswith("ALE/"):
        register_atari()
    envs = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        **kwargs,
    )
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    return envs


class DiscretizedObservationWrapper(gym.ObservationWrapper):
    """Turn a ``Box`` observation into one integer, so a table can index it.

    Each of the ``d`` dimensions is cut into ``n_bins`` equal bins between ``low`` and
    ``high``; values outside ``[low, high]`` are clipped into the edge bins. The ``d``
    bin indices ``(b_0, ..., b_{d-1})``, each in ``0 .. n_bins - 1``, are then read as
    the digits of one number in base ``n_bins``::

        code = b_0 + b_1 * n_bins + b_2 * n_bins**2 + ...

    so distinct bins give distinct codes, every code is below ``n_bins ** d``, and the
    declared space ``Discrete(n_bins ** d)`` is exactly the set of codes.

    Errata (chapter 2): the original wrapper used ``np.digitize`` against the
    ``n_bins + 1`` bin *edges*, which returns ``n_bins + 2`` possible values (below
    the first edge, each bin, above the last edge), encoded them in base ``n_bins + 1``
    (so two different bin tuples can share a code) and declared ``Discrete(n_bins ** d)``
    (fewer states than codes). Here only the ``n_bins - 1`` *inner* edges are used, so
    ``np.digitize`` returns exactly ``n_bins`` values.

    Args:
        env: an environment with a ``Box`` observation space.
        n_bins: bins per dimension (an integer >= 1).
        low, high: the range to discretize, one value per observation dimension.
            ``None`` uses the observation space's bounds, which must then be finite.
    """

    def __init__(
        self,
        env: gym.Env,
        n_bins: int = 10,
        low: Sequence[float] | np.ndarray | None = None,
        high: Sequence[float] | np.ndarray | None = None,
    ):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(
                "DiscretizedObservationWrapper needs a Box observation space, got "
                f"{space!r}; the environment's observations are already discrete."
            )
        if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
            raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
        dims = int(np.prod(space.shape))
        low = _bound("low", space.low, low, dims)
        high = _bound("high", space.high, high, dims)
        if np.any(low >= high):
            bad = np.flatnonzero(low >= high).tolist()
            raise ValueError(f"low must be below high in every dimension; it is not in dimensions {bad}")
        self.n_bins = int(n_bins)
        self.low, self.high = low, high
        # The n_bins - 1 inner edges of each dimension: shape (d, n_bins - 1).
        self.inner_edges = np.linspace(low, high, self.n_bins + 1, axis=1)[:, 1:-1]
        self._place_values = self.n_bins ** np.arange(dims, dtype=np.int64)
        self.observation_space = gym.spaces.Discrete(self.n_bins**dims)

    def bins(self, observation: np.ndarray) -> np.ndarray:
        """The bin index of each dimension, shape ``(d,)``, each in ``0 .. n_bins - 1``."""
        flat = np.asarray(observation, dtype=np.float64).reshape(-1)
        # Counting the inner edges at or below x is np.digitize(x, inner_edges) for all
        # dimensions at once: 0 .. n_bins - 1, and values beyond low/high land in the
        # edge bins automatically (clipping for free).
        return (self.inner_edges <= flat[:, None]).sum(axis=1)

    def observation(self, observation: np.ndarray) -> int:
        return int(self.bins(observation) @ self._place_values)


def _bound(name: str, default: np.ndarray, given, dims: int) -> np.ndarray:
    if given is None:
        value = np.asarray(default, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"{name} is required: the observation space's {name} is not finite "
                f"({value.tolist()}); pass {name}= with {dims} finite values"
            )
        return value
    value = np.asarray(given, dtype=np.float64).reshape(-1)
    if value.shape != (dims,):
        raise ValueError(
            f"{name} must have one value per observation dimension ({dims}), got {value.size} values"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be finite, got {value.tolist()}")
    return value
