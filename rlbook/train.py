"""The agent-environment loop shared by every chapter, the CLI and the benchmark.

An agent needs two methods:

* ``act(obs, greedy=False)`` returns an action (a batch of actions for a vector env);
* ``observe(obs, action, reward, next_obs, terminated, truncated)`` learns from one
  transition (a batch for a vector env) and returns ``None`` or a dict of numbers
  to log, such as ``{"loss": 0.3}``.

Agents with a recurrent state may also define ``reset_state(num_envs)``, which the
loop calls before training and before each evaluation, and a ``recurrent_state``
attribute (get and set), which :func:`evaluate` saves and puts back.

:func:`train` runs the loop for a budget of steps or episodes, with a progress bar,
periodic greedy evaluation and an optional callback, and returns a :class:`History`.
A single ``gymnasium.Env`` is stepped one transition at a time; a
``gymnasium.vector.VectorEnv`` (see :func:`rlbook.envs.make_vec_env`) steps several
copies at once, which lets neural agents choose a whole batch of actions in one call.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import gymnasium as gym
import numpy as np

from rlbook._validate import positive, show_space

__all__ = ["History", "train", "evaluate", "run_episode", "TrainingDiverged", "NonFiniteData"]


class TrainingDiverged(FloatingPointError):
    """The agent reported a loss (or another metric) that is NaN or infinite.

    ``history`` holds the run up to that step; the agent's weights are likely
    corrupted by then, so reload a checkpoint rather than keep training it.
    """

    def __init__(self, message: str, history: History, step: int, metric: str, value: float):
        super().__init__(message)
        self.history, self.step, self.metric, self.value = history, step, metric, value


class NonFiniteData(TrainingDiverged):
    """The environment returned a NaN or infinite observation or reward.

    Training stops before the agent learns from it. ``what`` is ``"observation"`` or
    ``"reward"``, ``step`` the environment step (summed over copies) that returned it,
    ``env_index`` the copy of a vector env (0 for a single env), ``value`` the first
    non-finite number.
    """

    def __init__(
        self, message: str, history: History, step: int, what: str, env_index: int, value: float
    ):
        super().__init__(message, history, step, what, value)
        self.what, self.env_index = what, env_index


@dataclass
class History:
    """What happened during training, for plots, checks and the benchmark.

    Episode lists are aligned: entry ``i`` is the ``i``-th finished episode.
    """

    episode_returns: list[float] = field(default_factory=list)
    """Undiscounted return of each finished training episode."""
    episode_lengths: list[int] = field(default_factory=list)
    """Number of steps of each finished training episode."""
    episode_end_steps: list[int] = field(default_factory=list)
    """Total environment steps taken when each episode finished."""
    episode_end_seconds: list[float] = field(default_factory=list)
    """Training wall-clock seconds (evaluation excluded) when each episode finished."""
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    """Whatever the agent reported from ``observe``: name -> ``[(step, value), ...]``."""
    evaluations: list[dict[str, float]] = field(default_factory=list)
    """Greedy evaluations: dicts with ``step``, ``train_seconds``, ``mean``, ``std``."""
    steps: int = 0
    """Environment steps taken (summed over the copies of a vector env)."""
    train_seconds: float = 0.0
    """Wall-clock seconds spent training, not counting evaluation."""
    interrupted: bool = False
    """True when training stopped early on KeyboardInterrupt."""

    @property
    def episodes(self) -> int:
        return len(self.episode_returns)

    def rolling_mean(self, window: int = 100) -> np.ndarray:
        """Mean return of the last ``window`` episodes, at each episode (shorter at the start)."""
        positive("window", window, integer=True)
        returns = np.asarray(self.episode_returns, dtype=float)
        if returns.size == 0:
            return returns
        csum = np.cumsum(np.insert(returns, 0, 0.0))
        idx = np.arange(1, returns.size + 1)
        start = np.maximum(idx - window, 0)
        return (csum[idx] - csum[start]) / (idx - start)

    def solved_at(self, threshold: float) -> dict[str, float] | None:
        """The first evaluation whose mean return reached ``threshold`` (or ``None``)."""
        return next((e for e in self.evaluations if e["mean"] >= threshold), None)

    def _log(self, step: int, info: dict[str, Any]) -> None:
        for key, value in info.items():
            self.metrics.setdefault(key, []).append((step, float(value)))


# fmt: off
def run_episode(
    env, policy: Callable[[Any], Any]
) -> tuple[float, int, bool, bool]:
    """Play one episode of a single ``gymnasium.Env`` with
    ``policy(obs) -> action`` (chapter 1).

    Returns:
        ``(total_reward, steps, terminated, truncated)``: the undiscounted
        return, the number of steps, and how the episode ended (a real end, or
        a time limit).
    """
    obs, _ = env.reset()  # reset returns (obs, info)
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            return total, steps, bool(terminated), bool(truncated)
# fmt: on


def evaluate(agent, env, episodes: int = 10, *, greedy: bool = True) -> np.ndarray:
    """Returns of ``episodes`` greedy episodes, shape ``(episodes,)``.

    With ``greedy=False`` the agent acts as it does in training (``act(obs)``: the policy's
    own sampling, or epsilon-greedy at its current epsilon), which tells a policy that
    works only with a little randomness from one that does not work at all.

    With a vector env, each copy plays one episode at a time, in rounds, so ten
    episodes on ten copies take one round of batched greedy actions.

    A recurrent agent (one with a ``recurrent_state`` attribute) gets its memory back
    afterwards, so an evaluation in the middle of training leaves the memory of the
    running training episodes as it was.
    """
    positive("episodes", episodes, integer=True)
    _check_env(env, "env")
    _check_fits(agent, env, "env")
    memory = getattr(agent, "recurrent_state", None)
    try:
        return _evaluate(agent, env, episodes, greedy)
    finally:
        if memory is not None:
            agent.recurrent_state = memory


def _evaluate(agent, env, episodes: int, greedy: bool) -> np.ndarray:
    if isinstance(env, gym.vector.VectorEnv):
        return _evaluate_vector(agent, env, episodes, greedy)
    returns = np.zeros(episodes)
    for i in range(episodes):
        _reset_state(agent, 1)
        returns[i] = run_episode(env, lambda obs: agent.act(obs, greedy=greedy))[0]
    return returns


def _evaluate_vector(agent, envs, episodes: int, greedy: bool) -> np.ndarray:
    n = envs.num_envs
    returns: list[float] = []
    while len(returns) < episodes:
        _reset_state(agent, n)
        obs, _ = envs.reset()
        total = np.zeros(n)
        running = np.ones(n, dtype=bool)
        while running.any():
            obs, reward, terminated, truncated, _ = envs.step(agent.act(obs, greedy=greedy))
            total += reward * running
            running &= ~(terminated | truncated)
        returns.extend(total.tolist())
    return np.asarray(returns[:episodes])


def _check_env(env, name: str) -> None:
    if not (callable(getattr(env, "reset", None)) and callable(getattr(env, "step", None))):
        hint = f"; make one with rlbook.envs.make_env({env!r})" if isinstance(env, str) else ""
        raise TypeError(
            f"{name} must be a gymnasium.Env or a gymnasium.vector.VectorEnv, got {env!r:.80}{hint}"
        )


def _check_fits(agent, env, name: str, training: bool = False) -> None:
    """Refuse an environment the agent cannot step, before the first step fails deep inside it."""
    from rlbook.agents.tabular import TabularAgent

    vector = isinstance(env, gym.vector.VectorEnv)
    space = getattr(env, "single_observation_space" if vector else "observation_space", None)
    agent_name = type(agent).__name__
    if isinstance(agent, TabularAgent):
        if vector:
            raise TypeError(f"{agent_name} steps one environment; {name} is a vector env")
        if space is not None and not isinstance(space, gym.spaces.Discrete):
            tuples = isinstance(space, gym.spaces.Tuple)  # Blackjack's
            wrapper = "DiscreteTupleWrapper" if tuples else "DiscretizedObservationWrapper"
            raise TypeError(
                f"{agent_name} keeps a table of Discrete states, but {name} has the observation "
                f"space {show_space(space)}; wrap it in rlbook.envs.{wrapper}"
            )
    copies = env.num_envs if vector else 1
    built_for = getattr(agent, "num_envs", None)
    if training and isinstance(built_for, int) and built_for != copies:
        raise ValueError(
            f"{agent_name} was built for num_envs={built_for} environment copies, but {name} "
            f"steps {copies}; build the agent with num_envs={copies}"
        )


def _reset_state(agent, num_envs: int) -> None:
    reset = getattr(agent, "reset_state", None)
    if reset is not None:
        reset(num_envs)


def train(
    agent,
    env,
    *,
    steps: int | None = None,
    episodes: int | None = None,
    eval_env=None,
    eval_every: int | None = None,
    eval_episodes: int = 10,
    stop_at: float | None = None,
    callback: Callable[[History], bool | None] | None = None,
    progress: bool | None = None,
    history: History | None = None,
    logdir: str | os.PathLike | None = None,
) -> History:
    """Let ``agent`` learn in ``env`` for ``steps`` environment steps or ``episodes`` episodes.

    Args:
        agent: any object with ``act`` and ``observe`` (see the module docstring).
        env: a ``gymnasium.Env`` or a ``gymnasium.vector.VectorEnv`` (same-step autoreset).
        steps: budget of environment steps (summed over vector copies).
        episodes: budget of finished episodes. Give ``steps``, ``episodes`` or both
            (training stops at whichever comes first).
        eval_env: where greedy evaluations run (a separate environment, so training
            episodes are not cut short).
        eval_every: evaluate every this many environment steps (needs ``eval_env``).
        eval_episodes: episodes per evaluation.
        stop_at: stop as soon as an evaluation's mean return reaches this value.
        callback: called with the history after every finished episode and every
            evaluation; returning ``True`` stops training.
        progress: show a ``tqdm`` progress bar. ``None`` (the default) shows one unless
            the environment variable ``RLBOOK_PROGRESS`` is ``0``, which the book build
            and the notebook tests set: a bar is useless in a static page, and progress
            widgets can stall headless notebook execution (nbclient issue 312).
        history: continue filling this history (to resume training).
        logdir: write TensorBoard scalars there (episode return and length, every
            metric the agent reports, evaluations; see :mod:`rlbook.tblog`).

    Returns:
        The :class:`History`. On KeyboardInterrupt the loop stops cleanly, prints one
        line and returns the history so far with ``interrupted=True``; the agent keeps
        what it has learned.

    Raises:
        TrainingDiverged: as soon as the agent reports a NaN or infinite loss (or any
            other non-finite metric); the message names the step and what to change.
        NonFiniteData: (a ``TrainingDiverged``) as soon as the environment returns a NaN or
            infinite observation or reward, before the agent learns from it; the message
            names which of the two, the step and the environment copy.
    """
    if steps is None and episodes is None:
        raise ValueError("give a budget: steps=... (environment steps) or episodes=...")
    for name, value in (("steps", steps), ("episodes", episodes), ("eval_every", eval_every)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
        ):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    if eval_every is not None and eval_env is None:
        raise ValueError(
            "eval_every needs eval_env= (a separate environment for greedy evaluation)"
        )
    positive("eval_episodes", eval_episodes, integer=True)
    if stop_at is not None:
        if isinstance(stop_at, bool) or not isinstance(stop_at, Real) or not math.isfinite(stop_at):
            raise ValueError(
                f"stop_at must be a finite number (a mean return) or None, got {stop_at!r}"
            )
        if eval_every is None:
            raise ValueError(
                "stop_at needs eval_every= and eval_env= (evaluations decide when to stop)"
            )
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be a function of the History (or None), got {callback!r:.80}"
        )
    if history is not None and not isinstance(history, History):
        raise TypeError(
            f"history must be a rlbook.train.History to continue (or None), got {history!r:.80}"
        )
    if isinstance(agent, type) or not all(
        callable(getattr(agent, method, None)) for method in ("act", "observe")
    ):
        raise TypeError(
            f"agent must be an agent object with act() and observe() methods, got {agent!r:.80}"
        )
    _check_env(env, "env")
    _check_fits(agent, env, "env", training=True)
    if eval_env is not None:
        _check_env(eval_env, "eval_env")
        _check_fits(agent, eval_env, "eval_env")
    if progress is None:
        progress = os.environ.get("RLBOOK_PROGRESS", "1") != "0"
    history = history if history is not None else History()
    logger = None
    if logdir is not None:
        from rlbook.tblog import TensorBoardLogger

        logger, user_callback = TensorBoardLogger(logdir, agent=agent), callback

        def callback(h: History) -> bool | None:
            logger(h)
            return user_callback(h) if user_callback is not None else None

    loop = _Loop(
        agent,
        history,
        steps,
        episodes,
        eval_env,
        eval_every,
        eval_episodes,
        stop_at,
        callback,
        progress,
    )
    finished = False  # stays False when an exception (TrainingDiverged, ...) ends the run
    try:
        if isinstance(env, gym.vector.VectorEnv):
            loop.run_vector(env)
        else:
            loop.run_single(env)
        finished = True
    except KeyboardInterrupt:
        history.interrupted = True
        print(
            f"Training interrupted after {history.steps} steps and {history.episodes} episodes; "
            "the agent and its history are kept."
        )
    finally:
        loop.close(finished)
        if logger is not None:
            logger.close(history)
    return history


class _Loop:
    """The bookkeeping of :func:`train` (budgets, clock, evaluation, progress bar)."""

    def __init__(
        self,
        agent,
        history,
        steps,
        episodes,
        eval_env,
        eval_every,
        eval_episodes,
        stop_at,
        callback,
        progress,
    ):
        self.agent, self.history = agent, history
        self.max_steps = history.steps + steps if steps is not None else None
        self.max_episodes = history.episodes + episodes if episodes is not None else None
        self.eval_env, self.eval_every, self.eval_episodes = eval_env, eval_every, eval_episodes
        self.stop_at, self.callback = stop_at, callback
        self.next_eval = (history.steps // eval_every + 1) * eval_every if eval_every else None
        self.stop = False
        self.stop_reason: str | None = None  # why the run stopped before its budget, for the bar
        self.clock = time.perf_counter()
        from tqdm.auto import tqdm

        total, unit = (steps, "step") if steps is not None else (episodes, "episode")
        self.by_steps = steps is not None
        self.bar = tqdm(total=total, unit=unit, disable=not progress, leave=False, mininterval=0.5)

    # -- budgets ---------------------------------------------------------------
    def budget_left(self) -> bool:
        h = self.history
        if self.stop:
            return False
        if self.max_steps is not None and h.steps >= self.max_steps:
            return False
        return self.max_episodes is None or h.episodes < self.max_episodes

    def _tick(self) -> None:
        self.history.train_seconds += time.perf_counter() - self.clock
        self.clock = time.perf_counter()

    # -- events ----------------------------------------------------------------
    def end_episode(self, ret: float, length: int) -> None:
        h = self.history
        self._tick()
        h.episode_returns.append(float(ret))
        h.episode_lengths.append(int(length))
        h.episode_end_steps.append(h.steps)
        h.episode_end_seconds.append(h.train_seconds)
        if not self.by_steps:
            self.bar.update(1)
        if self.callback is not None and self.callback(h):
            self.stop, self.stop_reason = True, f"stopped by the callback at step {h.steps:,}"

    def after_steps(self, n: int, info) -> None:
        """Log, advance the bar and evaluate when due (``history.steps`` already counts the n
        steps)."""
        h = self.history
        if info:
            h._log(h.steps, info)
            _check_finite(info, h)
        if self.by_steps:
            self.bar.update(n)
        if self.next_eval is not None and h.steps >= self.next_eval:
            self.next_eval += self.eval_every
            self.run_evaluation()

    def run_evaluation(self) -> None:
        h = self.history
        self._tick()
        returns = evaluate(self.agent, self.eval_env, self.eval_episodes)
        h.evaluations.append(
            {
                "step": h.steps,
                "train_seconds": h.train_seconds,
                "mean": float(returns.mean()),
                "std": float(returns.std()),
            }
        )
        self.bar.set_postfix(eval_mean=f"{returns.mean():.1f}", refresh=False)
        if self.stop_at is not None and returns.mean() >= self.stop_at:
            self.stop, self.stop_reason = True, f"solved at step {h.steps:,}"
        if self.callback is not None and self.callback(h) and not self.stop:
            self.stop, self.stop_reason = True, f"stopped by the callback at step {h.steps:,}"
        self.clock = time.perf_counter()  # evaluation time is not training time

    def close(self, finished: bool = False) -> None:
        """End the bar as what happened (in Jupyter, tqdm paints a bar closed before its total red).

        Stopped early on purpose (goal reached, callback, the other budget): the bar is completed
        and kept, with the reason. Interrupted: kept as it is, saying so. An exception such as
        TrainingDiverged: left as it is (red), and the exception says why.
        """
        self._tick()
        bar, h = self.bar, self.history
        reason = None
        if bar.disable:
            pass
        elif h.interrupted:
            reason = f"interrupted at step {h.steps:,}"
        elif finished and bar.total is not None and bar.n < bar.total:
            other = "episode" if self.by_steps else "step"
            reason = self.stop_reason or f"{other} budget reached at step {h.steps:,}"
            n, start = bar.n, bar.start_t
            bar.reset(total=n)  # a complete bar, with the start time and count it had
            bar.start_t = start
            bar.update(n)
        if reason is not None:
            bar.leave = True
            bar.set_postfix_str(", ".join(filter(None, [bar.postfix, reason])), refresh=False)
        bar.close()

    # -- the loops -------------------------------------------------------------
    def run_single(self, env) -> None:
        agent = self.agent
        _reset_state(agent, 1)
        obs, _ = env.reset()
        _check_data(self.history, obs)
        ep_return, ep_len = 0.0, 0
        while self.budget_left():
            action = agent.act(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            _check_data(self.history, next_obs, reward, step=self.history.steps + 1)
            info = agent.observe(obs, action, reward, next_obs, terminated, truncated)
            ep_return += reward
            ep_len += 1
            self.history.steps += 1
            if terminated or truncated:
                self.end_episode(ep_return, ep_len)
                ep_return, ep_len = 0.0, 0
                obs, _ = env.reset()
                _check_data(self.history, obs)
            else:
                obs = next_obs
            self.after_steps(1, info)

    def run_vector(self, envs) -> None:
        agent, n = self.agent, envs.num_envs
        _reset_state(agent, n)
        obs, _ = envs.reset()
        _check_data(self.history, obs, copies=n)
        ep_return, ep_len = np.zeros(n), np.zeros(n, dtype=np.int64)
        while self.budget_left():
            action = agent.act(obs)
            next_obs, reward, terminated, truncated, infos = envs.step(action)
            _check_data(self.history, next_obs, reward, step=self.history.steps + n, copies=n)
            done = terminated | truncated
            # With same-step autoreset, next_obs of a finished copy is already the first
            # observation of its next episode; the transition needs the true last one.
            real_next = next_obs
            if done.any():
                real_next = next_obs.copy()
                for i in np.flatnonzero(done):
                    real_next[i] = infos["final_obs"][i]
                _check_data(self.history, real_next, step=self.history.steps + n, copies=n)
            info = agent.observe(obs, action, reward, real_next, terminated, truncated)
            ep_return += reward
            ep_len += 1
            self.history.steps += n
            for i in np.flatnonzero(done):
                self.end_episode(ep_return[i], ep_len[i])
                ep_return[i], ep_len[i] = 0.0, 0
            obs = next_obs
            self.after_steps(n, info)


def _check_finite(info: dict, history: History) -> None:
    for name, value in info.items():
        if not math.isfinite(value):
            message = (
                f"training stopped at step {history.steps}: the agent reported "
                f"{name}={value} (not finite), "
                "so its network has diverged. Try a lower learning rate (lr=...), "
                "gradient clipping "
                "(max_grad_norm=... where the agent has it), the Huber loss "
                "(loss='huber' for DQN), or "
                "rewards of a smaller scale. The history up to this step is in the "
                "exception's .history."
            )
            raise TrainingDiverged(message, history, history.steps, name, float(value))


def _check_data(
    history: History, obs, reward=0.0, *, step: int | None = None, copies: int | None = None
) -> None:
    """Raise :class:`NonFiniteData` if ``obs`` or ``reward`` holds a NaN or an infinity.

    One ``np.isfinite(...).all()`` per step on arrays the loop has anyway (a few
    microseconds, against hundreds for a step of a neural agent); the diagnosis (which
    copy, which number) runs only when that test fails. ``copies`` is the number of
    copies of a vector env (``None``: a single env); ``step`` defaults to the steps so far
    (an observation from ``reset``).
    """
    finite_reward = math.isfinite(reward) if copies is None else np.isfinite(reward).all()
    if finite_reward and np.isfinite(obs).all():
        return
    call = "env.reset()" if step is None else "env.step()"
    step = history.steps if step is None else step
    obs, reward = np.asarray(obs, dtype=float), np.asarray(reward, dtype=float)
    if copies is None:
        obs, reward = obs[None], reward.reshape(1)
    bad_obs = ~np.isfinite(obs.reshape(len(obs), -1)).all(axis=1)
    bad = bad_obs | ~np.isfinite(np.broadcast_to(reward, bad_obs.shape))
    i = int(np.flatnonzero(bad)[0])
    if bad_obs[i]:
        what = "observation"
        where = np.argwhere(~np.isfinite(obs[i]))[0]
        value = float(obs[i][tuple(where)])
        detail = f"{value} at index {tuple(int(k) for k in where)}"
    else:
        what, value = "reward", float(np.broadcast_to(reward, bad_obs.shape)[i])
        detail = f"reward={value}"
    source = "the environment" if copies is None else f"environment copy {i} (of {copies})"
    message = (
        f"training stopped at step {step}: {source} returned a non-finite {what} ({detail}) "
        f"from {call}. The agent has not learned from it, but one NaN or infinity would silently "
        "spread through every value it updates. Check the environment and its wrappers (an "
        "infinite reward, a division by zero in an observation). The history up to this step is "
        "in the exception's .history."
    )
    raise NonFiniteData(message, history, step, what, i, value)
