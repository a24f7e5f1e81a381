"""Checks for the exercises of chapter 1 (the Gymnasium API)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook.exercises._core import Verdict, call_student, check, correct, wrong

__all__ = ["check_run_episode", "check_short_cartpole"]


class _Scripted(gym.Env):
    """A test environment: reward ``k`` on step ``k``; ends by termination or truncation at a set step."""

    observation_space = gym.spaces.Discrete(100)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, end_step: int, terminates: bool):
        self.end_step, self.terminates = end_step, terminates

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return 0, {}

    def step(self, action):
        if self.t >= self.end_step:
            raise RuntimeError(
                f"step() was called again after the episode ended at step {self.end_step} "
                "(the loop must stop when terminated OR truncated is True)"
            )
        self.t += 1
        end = self.t == self.end_step
        return self.t, float(self.t), end and self.terminates, end and not self.terminates, {}


@check
def check_run_episode(run_episode) -> Verdict:
    """Check ``run_episode(env, policy) -> (total_reward, steps, terminated, truncated)``.

    The function must reset the environment, step it with ``policy(obs)`` until the
    episode is terminated *or* truncated, and report both flags of the last step.
    """
    for end_step, terminates in ((4, True), (6, False)):
        env = _Scripted(end_step, terminates)
        result = call_student(run_episode, env, lambda obs: 0, what="your run_episode")
        if not isinstance(result, tuple) or len(result) != 4:
            return wrong(f"run_episode returned {result!r}; return a tuple (total_reward, steps, terminated, truncated).")
        total, steps, terminated, truncated = result
        kind = "terminates" if terminates else "is truncated by a time limit"
        want_total = end_step * (end_step + 1) / 2
        if steps != end_step:
            return wrong(f"for an episode that {kind} after {end_step} steps you reported steps={steps}. "
                         "Count one step per env.step call.")
        if not np.isclose(total, want_total):
            return wrong(f"for an episode that {kind} after {end_step} steps (rewards 1, 2, ..., {end_step}) the total "
                         f"reward is {want_total:g}, you returned {total!r}. Add up every reward, the last one included.")
        if (bool(terminated), bool(truncated)) != (terminates, not terminates):
            return wrong(f"for an episode that {kind} you returned terminated={terminated}, truncated={truncated}. "
                         "Return the two flags of the last step as Gymnasium gave them.")
    return correct("your loop stops on terminated or truncated, counts every step and reward, and keeps the two flags apart.")


def _balance(obs) -> int:
    """A simple controller that keeps CartPole up for hundreds of steps: push towards the fall."""
    return int(obs[2] + 0.5 * obs[3] > 0)


@check
def check_short_cartpole(short_cartpole) -> Verdict:
    """Check ``short_cartpole(max_steps) -> env``: CartPole-v1 whose episodes are truncated after ``max_steps``."""
    for max_steps in (50, 120):
        env = call_student(short_cartpole, max_steps, what="your short_cartpole")
        if not isinstance(env, gym.Env):
            return wrong(f"short_cartpole({max_steps}) returned {type(env).__name__}; return the environment.")
        obs, _ = env.reset(seed=0)
        steps, terminated, truncated = 0, False, False
        while not (terminated or truncated) and steps < 1000:
            obs, _, terminated, truncated, _ = env.step(_balance(obs))
            steps += 1
        if terminated:
            return wrong(f"the pole fell after {steps} steps, which a balancing controller should not allow: is it "
                         "CartPole-v1?")
        if steps != max_steps:
            hint = " The environment still has CartPole-v1's own 500-step limit: add yours." if steps == 500 else ""
            return wrong(f"short_cartpole({max_steps}) truncated the episode after {steps} steps, not {max_steps}.{hint} "
                         "Use gymnasium.wrappers.TimeLimit(env, max_episode_steps) or gym.make(..., max_episode_steps=...).")
    return correct("the episodes are truncated (not terminated) exactly at max_steps.")
