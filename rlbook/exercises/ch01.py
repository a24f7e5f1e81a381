"""Checks for the exercises of chapter 1 (the Gymnasium API)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook.exercises._core import (
    Case,
    Verdict,
    call_student,
    check,
    correct,
    fail,
    fresh_rng,
    grade,
    name_of,
    wrong,
)

__all__ = ["check_run_episode", "check_short_cartpole"]


class _Scripted(gym.Env):
    """A test environment with random observations and rewards that ends at a set step.

    It records the observation it emitted at each step, and raises a clear error when it is
    stepped before ``reset`` or after its episode ended.
    """

    observation_space = gym.spaces.Discrete(10_000)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self.episode = None  # (end_step, terminates), set by the check before each episode
        self.t = None  # None until reset() is called

    def plan(self, end_step: int, terminates: bool) -> None:
        self.episode = (end_step, terminates)
        self.t = None
        self.obs = [int(x) for x in self._rng.choice(10_000, size=end_step + 1, replace=False)]
        self.rewards = [float(x) for x in np.round(self._rng.uniform(0.5, 3.0, size=end_step), 1)]
        self.last_flags = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.obs[0], {}

    def step(self, action):
        end_step, terminates = self.episode
        if self.t is None:
            raise RuntimeError(
                "env.step() was called before env.reset(): every episode starts with "
                "`obs, info = env.reset()`"
            )
        if self.t >= end_step:
            raise RuntimeError(
                f"env.step() was called again after the episode ended at step {end_step}: "
                "the loop must stop when terminated OR truncated is True"
            )
        if action not in (0, 1):
            raise ValueError(
                f"env.step() got the action {action!r}, which is not in the action space "
                "(0 or 1): pass the action that policy(obs) returned"
            )
        self.t += 1
        end = self.t == end_step
        self.last_flags = (end and terminates, end and not terminates)
        return (
            self.obs[self.t],
            self.rewards[self.t - 1],
            end and terminates,
            end and not terminates,
            {},
        )


class _Policy:
    """The policy handed to ``run_episode``: records what it was called with."""

    def __init__(self):
        self.seen = []

    def __call__(self, obs):
        self.seen.append(obs)
        return int(obs) % 2 if isinstance(obs, (int, np.integer)) else 0


def _step_hint(err, line: str) -> str | None:
    text = str(err)
    if isinstance(err, ValueError) and "values to unpack" in text:
        if "reset" in line:
            return "env.reset() returns two values: `obs, info = env.reset()`."
        return (
            "In Gymnasium env.step() returns five values: "
            "`obs, reward, terminated, truncated, info = env.step(action)` (gym 0.10 returned "
            "four)."
        )
    if isinstance(err, TypeError) and "tuple" in text:
        return "env.reset() returns (obs, info): unpack it, `obs, info = env.reset()`."
    return None


def _episode_cases(rng):
    env = _Scripted(rng)
    for end_step, terminates in [
        (int(rng.integers(3, 9)), True),
        (int(rng.integers(3, 9)), False),
        (1, True),
        (int(rng.integers(2, 6)), False),
    ]:
        env.plan(end_step, terminates)
        policy = _Policy()
        kind = (
            f"an episode that {'terminates' if terminates else 'is truncated by a time limit'} "
            f"after {end_step} step{'s' if end_step > 1 else ''}"
        )
        yield Case((env, policy), (None, None), env=env, policy=policy, end=end_step, kind=kind)


def _loop_problem(result, c, name) -> str | None:
    """What is wrong with how the episode was run: reset, the policy's inputs, when it stopped."""
    env, seen = c.env, c.policy.seen
    if env.t is None:
        return (
            f"{name} never called env.reset(): every episode starts with `obs, info = env.reset()`."
        )
    if not isinstance(result, tuple) or len(result) != 4:
        return (
            f"{name} returned {result!r}; "
            "return a tuple (total_reward, steps, terminated, truncated)."
        )
    if any(isinstance(o, tuple) for o in seen):
        return (
            "your policy was called with a tuple: env.reset() returns (obs, info), and env.step() "
            "returns five values. Unpack them: `obs, info = env.reset()`."
        )
    if not seen:
        return f"{name} never called policy(obs): the actions must come from the policy."
    if env.t < c.end:
        return (
            f"for {c.kind} your loop stopped after {env.t} step(s), before the episode ended: "
            "keep stepping until terminated or truncated is True."
        )
    if len(seen) == c.end and list(seen) != env.obs[: c.end]:
        if all(o == env.obs[0] for o in seen):
            return (
                "obs is never updated: the policy saw the first observation at every step. Keep "
                "the new one, `obs, reward, terminated, truncated, info = env.step(action)`."
            )
        return (
            "the policy must be called with the latest observation, the one the last env.step() "
            "returned (or env.reset() at the start)."
        )
    if len(seen) != c.end:
        return (
            f"for {c.kind} policy(obs) was called {len(seen)} times; call it once per step, with "
            "the latest observation."
        )
    return None


def _result_problem(result, c) -> str | None:
    """What is wrong with what was returned: the step count, the total reward, the two flags."""
    total, steps, terminated, truncated = result
    rewards = c.env.rewards
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        return f"steps should be an int (the number of env.step calls), got {steps!r}."
    if steps != c.end:
        return f"for {c.kind} you reported steps={steps}. Count one step per env.step call."
    try:
        total = float(total)
    except (TypeError, ValueError):
        return f"total_reward should be a number, got {total!r}."
    if np.isclose(total, sum(rewards) - rewards[-1]) and not np.isclose(total, sum(rewards)):
        return (
            f"for {c.kind} you missed the last reward: add up every reward, the last one "
            "included (add it before leaving the loop)."
        )
    if np.isclose(total, sum(rewards) - rewards[0]) and not np.isclose(total, sum(rewards)):
        return f"for {c.kind} you missed the first reward: add every reward env.step returns."
    if not np.isclose(total, sum(rewards)):
        return (
            f"for {c.kind} with rewards {rewards} the total reward is {sum(rewards):g}, you "
            f"returned {result[0]!r}."
        )
    if not all(isinstance(f, (bool, np.bool_)) for f in (terminated, truncated)):
        flags = (terminated, truncated)
        return f"return the two flags as Gymnasium gave them (True/False), got {flags!r}."
    if (bool(terminated), bool(truncated)) != c.env.last_flags:
        return (
            f"for {c.kind} you returned terminated={terminated}, truncated={truncated}. Return "
            "the two flags of the last step as Gymnasium gave them, each in its place."
        )
    return None


def _read_episode(result, c, name):
    message = _loop_problem(result, c, name) or _result_problem(result, c)
    if message:
        fail(message)


@check
def check_run_episode(run_episode) -> Verdict:
    """Check ``run_episode(env, policy) -> (total_reward, steps, terminated, truncated)``.

    The function must reset the environment, step it with ``policy(obs)`` (the latest
    observation) until the episode is terminated *or* truncated, and report both flags of the
    last step. Cases: random lengths ending by termination and by truncation, a one-step
    episode, and a second episode on the same environment (random observations and rewards).
    """
    return grade(
        run_episode,
        _episode_cases(fresh_rng()),
        lambda c: None,
        read=_read_episode,
        same=lambda got, want: True,  # (the episode is judged by _read_episode)
        signature="run_episode(env, policy)",
        hint=_step_hint,
        done=(
            f"{name_of(run_episode)} resets, follows the policy on the latest observation, stops "
            "on terminated or truncated, counts every step and reward, and keeps the two flags "
            "apart."
        ),
    )


def _balance(obs) -> int:
    """A simple controller that keeps CartPole up for hundreds of steps: push towards the fall."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def _run(env, seed: int, limit: int = 1000):
    obs, _ = env.reset(seed=seed)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated) and steps < limit:
        obs, _, terminated, truncated, _ = env.step(_balance(obs))
        steps += 1
    return steps, terminated, truncated


@check
def check_short_cartpole(short_cartpole) -> Verdict:
    """Check ``short_cartpole(max_steps) -> env``: CartPole-v1 truncated after ``max_steps`` steps.

    Cases: random limits below 500 (and a limit of 1), each for two episodes in a row, with a
    balancing controller that keeps the pole up so that only the time limit ends an episode.
    """
    name = name_of(short_cartpole)
    rng = fresh_rng()
    for max_steps in (int(rng.integers(20, 120)), int(rng.integers(120, 300)), 1):
        env = call_student(
            short_cartpole, max_steps, name=name, signature="short_cartpole(max_steps)"
        )
        if isinstance(env, tuple) and env and isinstance(env[0], gym.Env):
            return wrong(f"{name} returned a tuple; return the environment alone.")
        if not isinstance(env, gym.Env):
            return wrong(
                f"{name} returned a {type(env).__name__} for max_steps={max_steps}; return the "
                "environment (a gymnasium.Env)."
            )
        spec = getattr(env.unwrapped, "spec", None)
        env_id = getattr(spec, "id", None)
        if env_id is not None and env_id != "CartPole-v1":
            extra = (
                (
                    " CartPole-v0 is not CartPole-v1: an older version with a 200-step limit and "
                    "another reward threshold."
                )
                if env_id == "CartPole-v0"
                else ""
            )
            return wrong(f"{name} made {env_id}, not CartPole-v1.{extra}")
        if type(env.unwrapped).__name__ != "CartPoleEnv":
            return wrong(f"{name} returned {type(env.unwrapped).__name__}, not CartPole-v1.")
        for episode in range(2):
            steps, terminated, truncated = _run(env, seed=int(rng.integers(1_000_000)))
            if terminated:
                return wrong(
                    f"the pole fell after {steps} steps, which the balancing controller of the "
                    "check never allows on CartPole-v1: is it CartPole-v1?"
                )
            if steps != max_steps:
                hint = (
                    " The environment still has CartPole-v1's own 500-step limit: add yours."
                    if steps == 500
                    else ""
                )
                again = (
                    " in its second episode (does your limit start again at reset?)"
                    if episode
                    else ""
                )
                return wrong(
                    f"{name}({max_steps}) truncated the episode after {steps} steps{again}, not "
                    f"{max_steps}.{hint} Use gymnasium.wrappers.TimeLimit(env, max_episode_steps) "
                    "or gym.make(..., max_episode_steps=...)."
                )
    return correct(
        f"{name} returns CartPole-v1 whose episodes are truncated (not terminated) exactly at "
        "max_steps, episode after episode."
    )
