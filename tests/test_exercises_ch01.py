import gymnasium as gym

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


def test_run_episode_accepts_reference():
    v = check_run_episode(run_episode)
    assert v.ok, v.message


def test_run_episode_rejects_loop_on_terminated_only():
    def only_terminated(env, policy):
        obs, _ = env.reset()
        total, steps, terminated, truncated = 0.0, 0, False, False
        while not terminated:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            steps += 1
        return total, steps, terminated, truncated
    v = check_run_episode(only_terminated)
    assert not v.ok and "terminated OR truncated" in v.message


def test_run_episode_rejects_old_four_tuple_and_missing_last_reward():
    def four_tuple(env, policy):
        obs = env.reset()
        done, total, steps = False, 0.0, 0
        while not done:
            obs, reward, done, info = env.step(policy(obs))
            total += reward
            steps += 1
        return total, steps, done, False
    v = check_run_episode(four_tuple)
    assert not v.ok and "ValueError" in v.message

    def forgets_last_reward(env, policy):
        obs, _ = env.reset()
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            steps += 1
            if terminated or truncated:
                return total, steps, terminated, truncated
            total += reward
    v = check_run_episode(forgets_last_reward)
    assert not v.ok and "the last one included" in v.message


def test_short_cartpole():
    assert check_short_cartpole(lambda n: gym.wrappers.TimeLimit(gym.make("CartPole-v1"), n)).ok
    assert check_short_cartpole(lambda n: gym.make("CartPole-v1", max_episode_steps=n)).ok
    v = check_short_cartpole(lambda n: gym.make("CartPole-v1"))
    assert not v.ok and "500-step limit" in v.message
    v = check_short_cartpole(lambda n: gym.wrappers.TimeLimit(gym.make("CartPole-v1"), n + 1))
    assert not v.ok and "not 50" in v.message
    assert not check_short_cartpole(lambda n: None).ok
