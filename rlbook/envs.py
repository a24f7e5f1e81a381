"""Environments: seeded construction and observation wrappers.

Chapter 1 teaches :func:`make_env`; chapter 2 teaches
:class:`DiscretizedObservationWrapper`; chapter 3 uses :class:`HideVelocities`
(a partially observed CartPole) and the image grid world of :mod:`rlbook.gridworld`
(``"rlbook/ImageGrid-v0"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rlbook._validate import non_negative_int, positive, show_space

__all__ = [
    "MAX_EPISODE_STEPS",
    "make_env",
    "make_vec_env",
    "DiscretizedObservationWrapper",
    "DiscreteTupleWrapper",
    "HideVelocities",
    "register_atari",
]


MAX_EPISODE_STEPS = 10_000
"""Time limit :func:`make_env` and :func:`make_vec_env` give an environment registered without
one (CliffWalking-v1, Blackjack-v1; not the Atari games, which end themselves): a greedy policy
that walks into a wall forever would otherwise hang an evaluation. ``max_episode_steps=N`` sets
another."""


def register_atari() -> None:
    """Register the Atari environments (``ALE/MsPacman-v5`` and friends).

    ``ale-py`` ships its ROMs, so nothing is downloaded. Safe to call twice.
    """
    import ale_py

    gym.register_envs(ale_py)


def _register(env_id: str) -> None:
    """Register the environments an id needs before ``gym.make`` looks it up, and refuse an id
    that names no registered environment (with Gymnasium's suggestion, as one ``ValueError``)."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string such as 'CartPole-v1', got {env_id!r}")
    if env_id.startswith("ALE/"):
        register_atari()
    elif env_id.startswith("rlbook/"):
        import rlbook.gridworld  # noqa: F401  (registers rlbook/ImageGrid-v0 on import)
    try:
        gym.spec(env_id)
    except (gym.error.UnregisteredEnv, gym.error.DeprecatedEnv) as err:
        raise ValueError(
            f"cannot make environment {env_id!r}: {err} (gymnasium.pprint_registry() lists the "
            "registered ids)"
        ) from None


def _with_time_limit(env_id: str, kwargs: dict) -> dict:
    """``kwargs`` with ``max_episode_steps=MAX_EPISODE_STEPS`` if ``env_id`` has no time limit.

    The Atari games have none in their spec but stop themselves after
    ``max_num_frames_per_episode`` frames (108,000, or 27,000 steps): they keep their own.
    """
    spec = gym.spec(env_id)
    own_limit = "max_num_frames_per_episode" in spec.kwargs or "max_episode_steps" in kwargs
    if spec.max_episode_steps is None and not own_limit:
        return {**kwargs, "max_episode_steps": MAX_EPISODE_STEPS}
    return kwargs


def make_env(env_id: str, seed: int | None = None, **kwargs: Any) -> gym.Env:
    """Create a Gymnasium environment whose first reset and action space are seeded.

    Gymnasium seeds an environment through ``reset(seed=...)`` and keeps a separate
    generator for ``action_space.sample()``: both are seeded here, so a random agent
    and the first episode are reproducible. Later ``env.reset()`` calls (without a
    seed) continue the same seeded generator, so a whole run is reproducible too.

    Args:
        env_id: a registered id such as ``"CartPole-v1"``, ``"ALE/MsPacman-v5"`` or
            ``"rlbook/ImageGrid-v0"``.
        seed: the seed; ``None`` leaves the environment unseeded.
        **kwargs: passed to ``gym.make`` (for example ``is_slippery=False`` or
            ``render_mode="rgb_array"``). An environment registered without a time limit
            gets ``max_episode_steps=MAX_EPISODE_STEPS`` (10,000) unless this sets one.

    Returns:
        The environment, already reset once with ``seed`` (call ``reset()`` again to
        get the first observation; it continues the seeded stream).
    """
    if seed is not None:
        non_negative_int("seed", seed)
    _register(env_id)
    env = gym.make(env_id, **_with_time_limit(env_id, kwargs))
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


def make_vec_env(
    env_id: str, num_envs: int, seed: int | None = None, **kwargs: Any
) -> gym.vector.VectorEnv:
    """Create ``num_envs`` copies of an environment stepped together (synchronously).

    The copies are reset with seeds ``seed, seed + 1, ...``. Episodes restart
    automatically in the same step that ends them ("same-step" autoreset): the
    observation returned for a finished copy is the first one of its next episode,
    and the true last observation is in ``info["final_obs"]``. :func:`rlbook.train.train`
    puts the true one into the transition, which is what bootstrapping needs. As with
    :func:`make_env`, an environment without a time limit gets one of ``MAX_EPISODE_STEPS``.
    """
    positive("num_envs", num_envs, integer=True)
    if seed is not None:
        non_negative_int("seed", seed)
    _register(env_id)
    envs = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        **_with_time_limit(env_id, kwargs),
    )
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    return envs


class DiscretizedObservationWrapper(gym.ObservationWrapper):
    """Turn a ``Box`` observation into one integer, so a table can index it.

    Dimension ``i`` is cut into ``n_i`` equal bins between ``low[i]`` and ``high[i]``
    (``n_bins`` is one number for every dimension, or one per dimension); values
    outside ``[low, high]`` are clipped into the edge bins. The bin indices
    ``(b_0, ..., b_{d-1})``, with ``0 <= b_i < n_i``, are then read as the digits of one
    number, like the digits of a decimal number but with base ``n_i`` at place ``i``::

        code = b_0 + n_0 * (b_1 + n_1 * (b_2 + ...))

    so distinct bins give distinct codes, every code is below ``n_0 * n_1 * ... * n_{d-1}``,
    and the declared space ``Discrete(n_0 * ... * n_{d-1})`` is exactly the set of codes.
    (With one ``n_bins`` for all dimensions that is base ``n_bins`` and ``Discrete(n_bins ** d)``.)

    Only the ``n_i - 1`` *inner* edges are passed to ``np.digitize``, so it returns
    exactly ``n_i`` values per dimension (chapter 2 shows why the outer edges must stay
    out).

    Args:
        env: an environment with a ``Box`` observation space.
        n_bins: bins per dimension: an integer >= 1, or a sequence of them, one per
            dimension (1 ignores a dimension).
        low, high: the range to discretize, one value per observation dimension.
            ``None`` uses the observation space's bounds, which must then be finite.
    """

    def __init__(
        self,
        env: gym.Env,
        n_bins: int | Sequence[int] = 10,
        low: Sequence[float] | np.ndarray | None = None,
        high: Sequence[float] | np.ndarray | None = None,
    ):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box):
            hint = (
                "; for a Tuple of Discrete spaces use rlbook.envs.DiscreteTupleWrapper"
                if isinstance(space, gym.spaces.Tuple)
                else "; the environment's observations are already discrete"
            )
            raise TypeError(
                "DiscretizedObservationWrapper needs a Box observation space, got "
                f"{show_space(space)}{hint}."
            )
        dims = int(np.prod(space.shape))
        bins = _n_bins(n_bins, dims)
        low = _bound("low", space.low, low, dims)
        high = _bound("high", space.high, high, dims)
        if np.any(low >= high):
            bad = np.flatnonzero(low >= high).tolist()
            raise ValueError(
                f"low must be below high in every dimension; it is not in dimensions {bad}"
            )
        self.n_bins = bins
        self.low, self.high = low, high
        # The n_i - 1 inner edges of dimension i, padded with +inf to a (d, max n_i - 1)
        # array so that one comparison bins every dimension (+inf is never <= x).
        self.inner_edges = np.full((dims, int(bins.max()) - 1), np.inf)
        for i, n in enumerate(bins):
            self.inner_edges[i, : n - 1] = np.linspace(low[i], high[i], n + 1)[1:-1]
        # Place value of digit i: n_0 * n_1 * ... * n_{i-1} (1 for the first digit).
        self._place_values = np.concatenate([[1], np.cumprod(bins[:-1])]).astype(np.int64)
        self.observation_space = gym.spaces.Discrete(int(np.prod(bins)))

    # fmt: off
    def bins(self, observation: np.ndarray) -> np.ndarray:
        """The bin index of each dimension, shape ``(d,)``; entry ``i`` is in
        ``0 .. n_i - 1``."""
        flat = np.asarray(observation, dtype=np.float64).reshape(-1)
        # Counting the inner edges at or below x is np.digitize(x, inner_edges)
        # for all dimensions at once: 0 .. n_i - 1, and values beyond low/high
        # land in the edge bins automatically (clipping for free).
        return (self.inner_edges <= flat[:, None]).sum(axis=1)

    def observation(self, observation: np.ndarray) -> int:
        return int(self.bins(observation) @ self._place_values)
    # fmt: on


class DiscreteTupleWrapper(gym.ObservationWrapper):
    """Turn a ``Tuple`` of ``Discrete`` observations into one integer, so a table can index it.

    Blackjack-v1 observes ``(player's sum, dealer's card, usable ace)`` in
    ``Tuple(Discrete(32), Discrete(11), Discrete(2))``. Entry ``i`` (minus its space's
    ``start``) is digit ``b_i`` of base ``n_i``, read as in
    :class:`DiscretizedObservationWrapper`::

        code = b_0 + n_0 * (b_1 + n_1 * (b_2 + ...))

    so distinct tuples get distinct codes and the space is ``Discrete(n_0 * n_1 * ...)``
    (704 for Blackjack).

    Args:
        env: an environment whose observation space is a ``Tuple`` of ``Discrete`` spaces.
    """

    @staticmethod
    def fits(space) -> bool:
        """Whether ``space`` is a non-empty ``Tuple`` of ``Discrete`` spaces, which it numbers."""
        return (
            isinstance(space, gym.spaces.Tuple)
            and len(space.spaces) > 0
            and all(isinstance(s, gym.spaces.Discrete) for s in space.spaces)
        )

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        if not self.fits(space):
            raise TypeError(
                "DiscreteTupleWrapper needs a Tuple of Discrete observation spaces (such as "
                f"Blackjack-v1's), got {show_space(space)}"
            )
        sizes = np.array([s.n for s in space.spaces], dtype=np.int64)
        self._starts = np.array([s.start for s in space.spaces], dtype=np.int64)
        # Place value of digit i: n_0 * n_1 * ... * n_{i-1} (1 for the first digit).
        self._place_values = np.concatenate([[1], np.cumprod(sizes[:-1])]).astype(np.int64)
        self.observation_space = gym.spaces.Discrete(int(np.prod(sizes)))

    def observation(self, observation) -> int:
        digits = np.asarray(observation, dtype=np.int64) - self._starts
        return int(digits @ self._place_values)


class HideVelocities(gym.ObservationWrapper):
    """Keep only some entries of a flat observation, making the task partially observed.

    The default keeps CartPole's cart position and pole angle (entries 0 and 2) and
    drops the two velocities. One observation then says where the pole is but not
    where it is going; two consecutive ones do, so an agent needs memory (chapter 3's
    recurrent Q-network) to balance it well.

    Args:
        env: an environment with a one-dimensional ``Box`` observation space.
        keep: indices of the entries to keep, in the order given (distinct, in range).
    """

    def __init__(self, env: gym.Env, keep: Sequence[int] = (0, 2)):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise TypeError(
                "HideVelocities needs a one-dimensional Box observation space, got "
                f"{show_space(space)}"
            )
        d = space.shape[0]
        keep = list(keep)
        if (
            not keep
            or len(set(keep)) != len(keep)
            or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i < d
                for i in keep
            )
        ):
            raise ValueError(
                f"keep must be a non-empty sequence of distinct indices in 0..{d - 1}, got {keep!r}"
            )
        self.keep = np.asarray(keep, dtype=np.int64)
        self.observation_space = gym.spaces.Box(
            space.low[self.keep], space.high[self.keep], dtype=space.dtype
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.asarray(observation, dtype=self.observation_space.dtype)[self.keep]


def _n_bins(n_bins, dims: int) -> np.ndarray:
    values = [n_bins] * dims if np.ndim(n_bins) == 0 else list(n_bins)
    if len(values) != dims or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in values
    ):
        raise ValueError(
            f"n_bins must be an integer >= 1 or a sequence of {dims} such integers (one per "
            f"observation dimension), got {n_bins!r}"
        )
    return np.asarray(values, dtype=np.int64)


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
            f"{name} must have one value per observation dimension ({dims}), "
            f"got {value.size} values"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be finite, got {value.tolist()}")
    return value
