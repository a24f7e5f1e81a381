"""Chapter 1's checks accept the reference and name the typical mistakes of a Gymnasium loop."""

import gymnasium as gym
from exercise_helpers import (
    accepts,
    not_a_function,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_run_episode, check_short_cartpole


def run_episode(env, policy):
    obs, _ = env.reset()
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += reward
        steps += 1
        if terminated or truncated:
            return total, steps, terminated, truncated


def test_run_episode_accepts_the_reference():
    accepts(check_run_episode, run_episode)


def test_run_episode_stub_constant_and_non_function():
    stub_is_not_yet(check_run_episode)
    rejects(
        check_run_episode, lambda env, policy: (10.0, 5, True, False), "never called env.reset()"
    )
    not_a_function(check_run_episode)


def test_run_episode_old_reset_api():
    def old_reset(env, policy):
        obs = env.reset()  # gym 0.10: the (obs, info) tuple is kept as obs
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated

    rejects(check_run_episode, old_reset, "env.reset() returns (obs, info)")


def test_run_episode_old_step_api_shows_the_line():
    def four_tuple(env, policy):
        obs, _ = env.reset()
        done, total, steps = False, 0.0, 0
        while not done:
            obs, reward, done, info = env.step(policy(obs))
            total += reward
            steps += 1
        return total, steps, done, False

    v = raising_shows_student_line(
        check_run_episode, four_tuple, "obs, reward, done, info = env.step(policy(obs))"
    )
    assert "five values" in v.message and "`four_tuple`" in v.message


def test_run_episode_obs_never_updated():
    def stale_obs(env, policy):
        obs, _ = env.reset()
        total, steps = 0.0, 0
        while True:
            _, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated

    rejects(check_run_episode, stale_obs, "obs is never updated")


def test_run_episode_stops_only_on_terminated():
    def only_terminated(env, policy):
        obs, _ = env.reset()
        total, steps, terminated, truncated = 0.0, 0, False, False
        while not terminated:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            steps += 1
        return total, steps, terminated, truncated

    raising_shows_student_line(check_run_episode, only_terminated, "terminated OR truncated")


def test_run_episode_forgets_last_reward_and_off_by_one_steps():
    def forgets_last_reward(env, policy):
        obs, _ = env.reset()
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated
            total += reward

    def counts_from_one(env, policy):
        total, steps, terminated, truncated = run_episode(env, policy)
        return total, steps + 1, terminated, truncated

    rejects(check_run_episode, forgets_last_reward, "the last one included")
    rejects(check_run_episode, counts_from_one, "Count one step per env.step call")


def test_run_episode_flags_mixed_up():
    def done_twice(env, policy):
        total, steps, terminated, truncated = run_episode(env, policy)
        done = terminated or truncated
        return total, steps, done, done

    def random_actions(env, policy):
        obs, _ = env.reset()
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += reward
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated

    rejects(check_run_episode, done_twice, "each in its place")
    rejects(check_run_episode, random_actions, "never called policy(obs)")


def test_run_episode_forgetting_reset_is_explained():
    def no_reset(env, policy):
        obs, total, steps = 0, 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated

    v = raising_shows_student_line(check_run_episode, no_reset, "before env.reset()")
    assert "attribute" not in v.message


def short_cartpole(max_steps):
    return gym.wrappers.TimeLimit(gym.make("CartPole-v1"), max_episode_steps=max_steps)


def test_short_cartpole_accepts_both_ways():
    accepts(check_short_cartpole, short_cartpole, times=2)
    accepts(check_short_cartpole, lambda n: gym.make("CartPole-v1", max_episode_steps=n), times=1)


def test_short_cartpole_mistakes():
    stub_is_not_yet(check_short_cartpole)
    rejects(check_short_cartpole, lambda n: gym.make("CartPole-v1"), "500-step limit")
    rejects(
        check_short_cartpole, lambda n: gym.make("CartPole-v1", max_episode_steps=100), "not"
    )  # constant
    rejects(
        check_short_cartpole,
        lambda n: gym.make("CartPole-v0", max_episode_steps=n),
        "CartPole-v0 is not CartPole-v1",
    )
    rejects(
        check_short_cartpole,
        lambda n: gym.wrappers.TimeLimit(gym.make("CartPole-v1"), n + 1),
        "truncated",
    )
    rejects(check_short_cartpole, lambda n: (short_cartpole(n), {}), "tuple")
    rejects(check_short_cartpole, lambda n: None, "return the environment")
    rejects(
        check_short_cartpole,
        lambda n: gym.make("MountainCar-v0", max_episode_steps=n),
        "not CartPole-v1",
    )


def test_short_cartpole_raising_shows_the_line():
    def typo(max_steps):
        return gym.wrappers.TimeLimit(gym.make("CartPole-v1"), max_episod_steps=max_steps)

    raising_shows_student_line(check_short_cartpole, typo, "max_episod_steps=max_steps")


def test_a_verdict_reads_as_a_sentence_of_its_own():
    from rlbook.exercises._core import correct, wrong

    # Hints are written to follow "About `f`: ..."; shown alone they start with a capital.
    assert str(wrong("the sign is flipped.")) == "Not yet. The sign is flipped."
    assert "Not yet.</b> The sign is flipped." in wrong("the sign is flipped.")._repr_html_()
    assert str(correct("`f` learns.")) == "Correct! `f` learns."
    # A message that starts with a name keeps it as written.
    name_first = "total_reward should be a number."
    assert str(wrong(name_first)) == "Not yet. " + name_first
    assert wrong("the sign is flipped.").message == "the sign is flipped."


def test_a_printed_verdict_fits_79_columns_and_keeps_its_words():
    from rlbook.exercises._core import correct

    message = (
        "`run_episode` resets, follows the policy on the latest observation, stops on "
        "terminated or truncated, and returns (total_reward, steps, terminated, truncated)."
    )
    lines = str(correct(message)).splitlines()
    assert len(lines) > 1 and max(len(line) for line in lines) <= 79
    assert " ".join(lines) == "Correct! " + message  # wrapped between words, nothing lost
    assert correct(message).message == message  # the message itself is not wrapped
    assert str(correct("a\nb")) == "Correct! a\nb"  # its own line breaks stay


def _episode(total_of, order=lambda total, steps: (total, steps)):
    """A loop that is right except for how it adds rewards or orders its answer."""

    def loop(env, policy):
        obs, _ = env.reset()
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total, steps = total_of(total, reward), steps + 1
            if terminated or truncated:
                return (*order(total, steps), terminated, truncated)

    return loop


def test_run_episode_reward_and_order_slips_are_named():
    rejects(check_run_episode, _episode(lambda total, r: r), "only the last reward", times=3)
    rejects(check_run_episode, _episode(lambda total, r: total + 1), "1 per step", times=3)
    swapped = _episode(lambda total, r: total + r, order=lambda total, steps: (steps, total))
    rejects(check_run_episode, swapped, "steps first and total_reward second", times=3)


def test_run_episode_reset_inside_the_loop_stops_instead_of_hanging():
    def reset_every_step(env, policy):
        total, steps = 0.0, 0
        while True:
            obs, _ = env.reset()
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated

    raising_shows_student_line(check_run_episode, reset_every_step, "reset once, before the loop")


def test_run_episode_on_a_global_environment():
    cartpole = gym.make("CartPole-v1")

    def global_env(env, policy):
        obs, _ = cartpole.reset(seed=0)
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = cartpole.step(int(obs[2] > 0))
            total += reward
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated

    rejects(check_run_episode, global_env, "never called env.reset()", "the `env` argument")


def test_short_cartpole_accepts_the_class_itself():
    from gymnasium.envs.classic_control import CartPoleEnv

    accepts(check_short_cartpole, lambda n: gym.wrappers.TimeLimit(CartPoleEnv(), n), times=1)


class _EndsByTerminating(gym.Wrapper):
    """A hand-written limit that sets terminated (not truncated) at max_steps."""

    def __init__(self, env, max_steps):
        super().__init__(env)
        self.max_steps, self.t = max_steps, 0

    def reset(self, **kwargs):
        self.t = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        return obs, reward, terminated or self.t >= self.max_steps, truncated, info


def test_short_cartpole_without_a_limit_or_terminating_or_global():
    no_limit = rejects(
        check_short_cartpole,
        lambda n: gym.wrappers.TimeLimit(gym.make("CartPole-v1"), n).unwrapped,
        "never truncated",
        times=3,
    )
    assert "after 1000 steps" not in no_limit.message
    rejects(
        check_short_cartpole,
        lambda n: _EndsByTerminating(gym.make("CartPole-v1"), n),
        "sets truncated=True, not terminated",
    )
    state = {"env": gym.make("CartPole-v1")}

    def wraps_a_global(max_steps):
        state["env"] = gym.wrappers.TimeLimit(state["env"], max_steps)
        return state["env"]

    rejects(check_short_cartpole, wraps_a_global, "the same CartPole", "inside the function")
