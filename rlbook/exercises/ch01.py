"""Checks for the exercises of chapter 1 (the Gymnasium API)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook.exercises._core import Case, Verdict, check, fail, fresh_rng, grade, name_of

# fmt: off
__all__ = ["check_run_episode", "check_short_cartpole"]


class _Scripted(gym.Env):
    """Random observations and rewards, an end at a planned step, clear errors on misuse."""

    observation_space, action_space = gym.spaces.Discrete(10_000), gym.spaces.Discrete(2)

    def __init__(self, rng, end: int, terminates: bool):
        self.end, self.terminates, self.t, self.flags, self.seen = end, terminates, None, None, []
        self.obs = [int(x) for x in rng.choice(10_000, size=end + 1, replace=False)]
        while True:  # the slips' totals all differ: 1 per step, one reward missed, the last only
            self.rewards = [float(x) for x in np.round(rng.uniform(0.5, 3.0, size=end), 1)]
            total, first, last = sum(self.rewards), self.rewards[0], self.rewards[-1]
            slips = [total, total - last, end] + ([total - first] if end > 1 else [])
            slips += [last] if end > 2 else []  # (with 2 steps, the last only is the first missed)
            if len({round(x, 6) for x in slips}) == len(slips):
                break
        ending = "terminates" if terminates else "is truncated by a time limit"
        self.kind = f"an episode that {ending} after {end} step{'s' if end > 1 else ''}"

    def policy(self, obs):
        """The policy handed to the student: records what it was called with."""
        self.seen.append(obs)
        return obs % 2 if isinstance(obs, int) else 0

    def reset(self, *, seed=None, options=None):
        if self.t is not None and 0 < self.t < self.end:  # else the student's loop never ends
            raise RuntimeError(f"env.reset() was called again after step {self.t}, in the middle "
                               "of the episode: reset once, before the loop (a reset inside the "
                               "loop starts the episode again at every step)")
        super().reset(seed=seed)
        self.t = 0
        return self.obs[0], {}

    def step(self, action):
        if self.t is None:
            raise RuntimeError("env.step() was called before env.reset(): "
                               "every episode starts with `obs, info = env.reset()`")
        if self.t >= self.end:
            raise RuntimeError(f"env.step() was called again after the episode ended at step "
                               f"{self.end}: the loop must stop when terminated OR truncated is "
                               "True")
        if action not in (0, 1):
            raise ValueError(f"env.step() got the action {action!r}, "
                             "which is not in the action space (0 or 1): "
                             "pass the action that policy(obs) returned")
        self.t += 1
        end = self.t == self.end
        self.flags = (end and self.terminates, end and not self.terminates)
        return self.obs[self.t], self.rewards[self.t - 1], *self.flags, {}


def _step_hint(err, line: str) -> str | None:
    if isinstance(err, ValueError) and "values to unpack" in str(err):
        if "reset" in line:
            return "env.reset() returns two values: `obs, info = env.reset()`."
        return ("In Gymnasium env.step() returns five values: `obs, reward, terminated, "
                "truncated, info = env.step(action)` (gym 0.10 returned four).")
    if isinstance(err, TypeError) and "tuple" in str(err):
        return "env.reset() returns (obs, info): unpack it, `obs, info = env.reset()`."
    return None


def _episode_cases(rng):
    for end, terminates in [(rng.integers(3, 9), True), (rng.integers(3, 9), False), (1, True),
                            (rng.integers(2, 6), False)]:
        env = _Scripted(rng, int(end), terminates)
        yield Case((env, env.policy), (None, None), env=env)


def _read_episode(result, c, name):
    """Fails on what is wrong with how the episode was run, then with what was returned."""
    env, seen, rewards = c.env, c.env.seen, c.env.rewards
    if env.t is None and isinstance(result, tuple) and len(result) == 4:
        fail(f"{name} never called env.reset() on the `env` it was given, yet returned "
             f"{result!r}: play the episode on the `env` argument (not on a global environment "
             "or one of your own), starting with `obs, info = env.reset()`.")
    if env.t is None:
        fail(f"{name} never called env.reset(): every episode starts with `obs, "
             "info = env.reset()`.")
    if not isinstance(result, tuple) or len(result) != 4:
        fail(f"{name} returned {result!r}; "
             "return a tuple (total_reward, steps, terminated, truncated).")
    if any(isinstance(o, tuple) for o in seen):
        fail("your policy was called with a tuple: env.reset() returns (obs, info), "
             "and env.step() returns five values. Unpack them: `obs, info = env.reset()`.")
    if not seen:
        fail(f"{name} never called policy(obs): the actions must come from the policy.")
    if env.t < env.end:
        fail(f"for {env.kind} your loop stopped after {env.t} step(s), before the episode ended: "
             "keep stepping until terminated or truncated is True.")
    if len(seen) == env.end and seen != env.obs[: env.end]:
        if all(o == env.obs[0] for o in seen):
            fail("obs is never updated: the policy saw the first observation at every step. "
                 "Keep the new one, `obs, reward, terminated, truncated, info = env.step(action)`.")
        fail("the policy must be called with the latest observation, "
             "the one the last env.step() returned (or env.reset() at the start).")
    if len(seen) != env.end:
        fail(f"for {env.kind} policy(obs) was called {len(seen)} times; call it once per step, "
             "with the latest observation.")
    total, steps, terminated, truncated = result
    if isinstance(total, (int, np.integer)) and total == env.end and np.isclose(
            float(steps), sum(rewards)):
        fail(f"{name} returned steps first and total_reward second; "
             "the order is (total_reward, steps, terminated, truncated).")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        fail(f"steps should be an int (the number of env.step calls), got {steps!r}.")
    if steps != env.end:
        fail(f"for {env.kind} you reported steps={steps}. Count one step per env.step call.")
    try:
        total = float(total)
    except (TypeError, ValueError):
        fail(f"total_reward should be a number, got {total!r}.")
    for i, which, fix in ((-1, "last", "the last one included (add it before leaving the loop)"),
                          (0, "first", "the first one too")):
        if np.isclose(total, sum(rewards) - rewards[i]):  # (every reward is at least 0.5)
            fail(f"for {env.kind} you missed the {which} reward: add up every reward, {fix}.")
    if not np.isclose(total, sum(rewards)) and env.end > 1 and np.isclose(total, rewards[-1]):
        fail(f"for {env.kind} you returned only the last reward ({rewards[-1]:g}): "
             "add every reward to a running total, `total += reward`.")
    if not np.isclose(total, sum(rewards)) and np.isclose(total, env.end):
        fail(f"for {env.kind} you added 1 per step (CartPole's reward); the rewards here are "
             f"{rewards}: add the reward that env.step() returns, `total += reward`.")
    if not np.isclose(total, sum(rewards)):
        fail(f"for {env.kind} with rewards {rewards} the total reward is {sum(rewards):g}, "
             f"you returned {result[0]!r}.")
    if not all(isinstance(f, (bool, np.bool_)) for f in (terminated, truncated)):
        fail("return the two flags as Gymnasium gave them (True/False), "
             f"got {(terminated, truncated)!r}.")
    if (bool(terminated), bool(truncated)) != env.flags:
        fail(f"for {env.kind} you returned terminated={terminated}, truncated={truncated}. "
             "Return the two flags of the last step as Gymnasium gave them, each in its place.")


@check
def check_run_episode(run_episode) -> Verdict:
    """Check ``run_episode(env, policy) -> (total_reward, steps, terminated, truncated)``: reset,
    step with ``policy(obs)`` on the latest observation until terminated *or* truncated, report
    both flags; on random episodes that terminate, are truncated, or end after one step."""
    return grade(
        run_episode, _episode_cases(fresh_rng()), lambda c: None, read=_read_episode,
        same=lambda got, want: True,  # (the episode is judged by _read_episode)
        signature="run_episode(env, policy)", hint=_step_hint,
        done=(f"{name_of(run_episode)} resets, follows the policy on the latest observation, "
              "stops on terminated or truncated, counts every step and reward, "
              "and keeps the two flags apart."))


def _balanced_steps(env, seed: int, c) -> int:
    """How long a controller that keeps the pole up runs: only a time limit ends its episode."""
    obs, _ = env.reset(seed=seed)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated) and steps < 501:  # (one past CartPole-v1's own limit)
        obs, _, terminated, truncated, _ = env.step(int(obs[2] + 0.5 * obs[3] > 0))
        steps += 1
    x, _, angle, _ = env.unwrapped.state
    if terminated and abs(x) < 2.4 and abs(angle) < 0.2095:  # CartPole's own bounds
        fail(f"{c.name}({c.n}) ended its episode after {steps} steps with terminated=True, "
             "while the pole was still up: a time limit sets truncated=True, not terminated. "
             "Use gymnasium.wrappers.TimeLimit(env, max_episode_steps) or "
             "gym.make(..., max_episode_steps=...).")
    if terminated:
        fail("the pole fell, "
             "which the balancing controller of the check never allows on CartPole-v1: "
             "is it CartPole-v1?")
    return steps


def _read_cartpole(env, c, name):
    """The lengths of two episodes in a row, once ``env`` is CartPole-v1."""
    if isinstance(env, tuple) and env and isinstance(env[0], gym.Env):
        fail(f"{name} returned a tuple; return the environment alone.")
    if not isinstance(env, gym.Env):
        fail(f"{name} returned a {type(env).__name__} for max_steps={c.n}; "
             "return the environment (a gymnasium.Env).")
    env_id = getattr(getattr(env.unwrapped, "spec", None), "id", None)
    if env_id is not None and env_id != "CartPole-v1":
        extra = (" CartPole-v0 is not CartPole-v1: "
                 "an older version with a 200-step limit and another reward threshold.")
        fail(f"{name} made {env_id}, not CartPole-v1.{extra if env_id == 'CartPole-v0' else ''}")
    if type(env.unwrapped).__name__ != "CartPoleEnv":
        fail(f"{name} returned {type(env.unwrapped).__name__}, not CartPole-v1.")
    if any(env.unwrapped is e for _, e in c.returned):
        fail(f"{name} returned the same CartPole for max_steps={c.returned[0][0]} and "
             f"max_steps={c.n} (one env.unwrapped): make a new environment inside the function "
             "from its `max_steps` (an environment made once, outside the function, keeps every "
             "limit it was given).")
    c.returned.append((c.n, env.unwrapped))
    c.name = name
    return [_balanced_steps(env, int(seed), c) for seed in c.seeds]


def _explain_limit(got, want, c) -> str:
    again = (" in its second episode (does your limit start again at reset?)"
             if got[0] == c.n else "")
    steps = got[1] if again else got[0]
    limit = (" The environment still has CartPole-v1's own 500-step limit: add yours."
             if steps == 500 else "")
    if steps > 500:  # (the balancing controller's cap): no time limit at all
        return (f"{c.name}({c.n}) never truncated the episode (the check stopped it after "
                f"{steps} steps): env.unwrapped, or an environment without the TimeLimit wrapper, "
                "has no time limit. Use gymnasium.wrappers.TimeLimit(env, max_episode_steps) or "
                "gym.make(..., max_episode_steps=...), and return the wrapper.")
    return (f"{c.name}({c.n}) truncated the episode after {steps} steps{again}, "
            f"not {c.n}.{limit} Use gymnasium.wrappers.TimeLimit(env, max_episode_steps) or "
            "gym.make(..., max_episode_steps=...).")


@check
def check_short_cartpole(short_cartpole) -> Verdict:
    """Check ``short_cartpole(max_steps) -> env``: CartPole-v1 truncated after ``max_steps``."""
    rng = fresh_rng()
    limits, returned = (int(rng.integers(20, 120)), int(rng.integers(120, 300)), 1), []
    return grade(
        short_cartpole,
        [Case((n,), ("max_steps",), n=n, seeds=rng.integers(10**6, size=2), returned=returned)
         for n in limits],
        lambda c: [c.n, c.n], read=_read_cartpole, same=lambda got, want: got == want,
        signature="short_cartpole(max_steps)", explain=_explain_limit,
        done=(f"{name_of(short_cartpole)} returns CartPole-v1 whose episodes are truncated (not "
              "terminated) exactly at max_steps, episode after episode."))
