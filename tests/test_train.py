import gymnasium as gym
import numpy as np
import pytest

from rlbook.envs import make_vec_env
from rlbook.train import History, evaluate, train


class Countdown(gym.Env):
    """Observation = steps left; reward 1 per step; terminates at 0 unless action 1 is
    chosen on the first step, which makes the episode run into a 5-step time limit."""

    observation_space = gym.spaces.Box(0, 10, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.left, self.t = 3, 0
        return np.array([self.left], np.float32), {}

    def step(self, action):
        self.t += 1
        self.left -= 1 if action == 0 else 0
        terminated = self.left == 0
        truncated = self.t >= 5 and not terminated
        return np.array([self.left], np.float32), 1.0, terminated, truncated, {}


class Recorder:
    def __init__(self, action=0):
        self.action, self.seen = action, []

    def act(self, obs, greedy=False):
        if np.ndim(obs) == 2:
            return np.full(len(obs), self.action)
        return self.action

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        self.seen.append(
            (np.array(obs), np.array(next_obs), np.array(terminated), np.array(truncated))
        )
        return {"loss": 0.5}


def test_single_env_history_and_budget():
    h = train(Recorder(), Countdown(), steps=7, progress=False)
    assert h.steps == 7
    assert h.episode_returns == [3.0, 3.0]
    assert h.episode_lengths == [3, 3]
    assert h.episode_end_steps == [3, 6]
    assert h.metrics["loss"][0] == (1, 0.5) and len(h.metrics["loss"]) == 7
    h2 = train(Recorder(action=1), Countdown(), episodes=2, progress=False)
    assert h2.episode_returns == [5.0, 5.0] and h2.steps == 10


def test_vector_env_transitions_use_the_true_final_observation():
    envs = gym.vector.SyncVectorEnv(
        [Countdown, Countdown], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    agent = Recorder()
    h = train(agent, envs, steps=6, progress=False)
    assert h.steps == 6 and h.episode_returns == [3.0, 3.0]
    obs, next_obs, terminated, _ = agent.seen[2]  # the third step ends both episodes
    np.testing.assert_array_equal(terminated, [True, True])
    np.testing.assert_array_equal(
        next_obs[:, 0], [0, 0]
    )  # the real last observation, not the reset one
    np.testing.assert_array_equal(obs[:, 0], [1, 1])


def test_truncation_is_reported_separately():
    agent = Recorder(action=1)
    train(agent, Countdown(), episodes=1, progress=False)
    *_, terminated, truncated = agent.seen[-1]
    assert bool(truncated) and not bool(terminated)


def test_evaluation_schedule_stop_at_and_clock():
    h = train(
        Recorder(),
        Countdown(),
        steps=100,
        eval_env=Countdown(),
        eval_every=10,
        eval_episodes=2,
        stop_at=3.0,
        progress=False,
    )
    assert len(h.evaluations) == 1 and h.evaluations[0]["step"] == 10 and h.steps == 10
    assert h.evaluations[0]["mean"] == 3.0
    assert h.solved_at(3.0) is h.evaluations[0] and h.solved_at(4.0) is None
    assert 0 < h.train_seconds


def test_callback_can_stop():
    h = train(
        Recorder(), Countdown(), steps=100, callback=lambda hist: hist.episodes >= 2, progress=False
    )
    assert h.episodes == 2


def test_keyboard_interrupt_keeps_history(capsys):
    class Impatient(Recorder):
        def observe(self, *args):
            if len(self.seen) == 4:
                raise KeyboardInterrupt
            return super().observe(*args)

    h = train(Impatient(), Countdown(), steps=100, progress=False)
    assert h.interrupted and h.episode_returns == [3.0] and h.steps == 4
    assert "interrupted" in capsys.readouterr().out


def test_evaluate_vector_rounds():
    envs = make_vec_env("CartPole-v1", 3, seed=0)
    returns = evaluate(Recorder(), envs, episodes=5)
    assert returns.shape == (5,) and np.all(returns >= 8)


def test_rolling_mean():
    h = History(episode_returns=[1.0, 3.0, 5.0, 7.0])
    np.testing.assert_allclose(h.rolling_mean(2), [1.0, 2.0, 4.0, 6.0])


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(), "give a budget"),
        (dict(steps=0), "steps must be a positive integer"),
        (dict(steps=10, eval_every=5), "eval_every needs eval_env"),
    ],
)
def test_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        train(Recorder(), Countdown(), progress=False, **kw)


class Exploding(Recorder):
    """Reports a finite loss for 5 steps, then NaN."""

    def observe(self, *args):
        super().observe(*args)
        return {"loss": 0.5 if len(self.seen) <= 5 else float("nan")}


def test_a_nan_loss_stops_training_with_the_step_and_advice():
    from rlbook.train import TrainingDiverged

    with pytest.raises(TrainingDiverged) as err:
        train(Exploding(), Countdown(), steps=100, progress=False)
    message = str(err.value)
    assert "training stopped at step 6" in message and "loss=nan" in message
    assert (
        "lower learning rate" in message and "gradient clipping" in message and "Huber" in message
    )
    assert err.value.step == 6 and err.value.metric == "loss"
    assert err.value.history.steps == 6 and err.value.history.episode_returns == [3.0, 3.0]


def test_an_infinite_metric_also_stops_training():
    from rlbook.train import TrainingDiverged

    class Infinite(Recorder):
        def observe(self, *args):
            return {"mean_q": float("inf")}

    with pytest.raises(TrainingDiverged, match=r"step 1: the agent reported mean_q=inf"):
        train(Infinite(), Countdown(), steps=10, progress=False)


def test_keyboard_interrupt_keeps_a_real_agent_usable(capsys):
    """Interrupting a real agent mid-run: its history and weights stay usable, training goes on."""
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env

    env = make_env("FrozenLake-v1", seed=0)
    agent = QLearningAgent(env.observation_space, env.action_space)
    calls = []

    def interrupt_once(history):
        calls.append(history.episodes)
        if len(calls) == 20:
            raise KeyboardInterrupt  # what Jupyter's stop button raises, here inside the loop

    h = train(agent, env, steps=10_000, callback=interrupt_once, progress=False)
    assert (
        h.interrupted and h.episodes == 20 and 0 < h.steps < 10_000 and agent.env_steps == h.steps
    )
    assert "interrupted" in capsys.readouterr().out
    more = train(agent, env, steps=100, history=h, progress=False)
    assert (
        more is h
        and h.steps >= agent.env_steps - 1
        and evaluate(agent, make_env("FrozenLake-v1", seed=1), 2).shape == (2,)
    )


def test_same_seed_same_returns_python_api():
    from rlbook.agents.actor_critic import ActorCriticAgent

    def run():
        env = make_vec_env("CartPole-v1", 2, seed=7)
        agent = ActorCriticAgent(
            env.single_observation_space,
            env.single_action_space,
            num_envs=2,
            hidden=(8,),
            n_steps=8,
            critic_steps=2,
            seed=7,
        )
        return train(agent, env, steps=600, progress=False)

    a, b = run(), run()
    assert a.episode_returns == b.episode_returns and len(a.episode_returns) > 5
    assert a.metrics == b.metrics


# -- non-finite observations and rewards stop training at once, whatever the agent ----------


class Corrupt(gym.Wrapper):
    """Every ``every``-th step (counted over episodes) gives a NaN observation or an inf reward."""

    def __init__(self, env, every=1, what="observation"):
        super().__init__(env)
        self.every, self.what, self.t = every, what, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t % self.every == 0:
            if self.what == "observation":
                obs = np.array(obs, dtype=np.float32)
                obs[2] = np.nan
            else:
                reward = float("inf")
        return obs, reward, terminated, truncated, info


def test_a_nan_observation_stops_training_before_the_agent_sees_it():
    from rlbook.train import NonFiniteData, TrainingDiverged

    agent = Recorder()
    env = Corrupt(gym.wrappers.TimeLimit(Countdown3(), 5), every=7)
    with pytest.raises(NonFiniteData) as err:
        train(agent, env, steps=100, progress=False)
    assert isinstance(err.value, TrainingDiverged)  # code that catches divergence catches this too
    assert err.value.step == 7 and err.value.what == "observation" and err.value.env_index == 0
    assert np.isnan(err.value.value) and len(agent.seen) == 6 and err.value.history.steps == 6
    message = str(err.value)
    assert (
        "training stopped at step 7: "
        "the environment returned a non-finite observation (nan at index (2,))"
        in message
        and "env.step()" in message
    )


def test_an_infinite_reward_in_one_copy_of_a_vector_env_names_the_copy():
    from rlbook.train import NonFiniteData

    def make(i):
        return lambda: Corrupt(
            gym.wrappers.TimeLimit(Countdown3(), 5), every=4 if i == 2 else 10**9, what="reward"
        )

    envs = gym.vector.SyncVectorEnv(
        [make(i) for i in range(3)], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    agent = Recorder()
    with pytest.raises(
        NonFiniteData,
        match=r"step 12: environment copy 2 \(of 3\) returned a non-finite reward "
        r"\(reward=inf\)",
    ) as err:
        train(agent, envs, steps=100, progress=False)
    assert err.value.step == 12 and err.value.what == "reward" and err.value.env_index == 2
    assert len(agent.seen) == 3


def test_a_nan_first_observation_is_caught_at_reset():
    from rlbook.train import NonFiniteData

    class NaNStart(Countdown3):
        def reset(self, *, seed=None, options=None):
            obs, info = super().reset(seed=seed)
            return obs * np.nan, info

    with pytest.raises(
        NonFiniteData, match=r"step 0: .* observation \(nan at index \(0,\)\) from env.reset\(\)"
    ):
        train(Recorder(), NaNStart(), steps=10, progress=False)


class Countdown3(gym.Env):
    """Like Countdown, with a 3-number observation (so index 2 exists)."""

    observation_space = gym.spaces.Box(0, 10, shape=(3,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.left = 3
        return np.full(3, self.left, np.float32), {}

    def step(self, action):
        self.left -= 1
        return np.full(3, self.left, np.float32), 1.0, self.left == 0, False, {}


def _real_agent(algo, env):
    from rlbook.agents import ALGORITHMS

    small = {
        "qlearning": {},
        "dqn": dict(
            hidden=(8,), learning_starts=32, batch_size=16, train_every=16, gradient_steps=1
        ),
        "reinforce": dict(hidden=(8,), batch_episodes=1, baseline_steps=1),
        "actor_critic": dict(hidden=(8,), n_steps=4, critic_steps=1),
    }[algo]
    return ALGORITHMS[algo].agent_class(env.observation_space, env.action_space, **small)


@pytest.mark.parametrize("algo", ["dqn", "reinforce", "actor_critic"])
@pytest.mark.parametrize("every, what", [(1, "observation"), (97, "observation"), (150, "reward")])
def test_every_network_agent_stops_at_the_first_non_finite_number(algo, every, what):
    from rlbook.envs import make_env
    from rlbook.train import NonFiniteData

    env = Corrupt(make_env("CartPole-v1", seed=0), every=every, what=what)
    agent = _real_agent(algo, env)
    with pytest.raises(
        NonFiniteData, match=f"step {every}: the environment returned a non-finite {what}"
    ) as err:
        train(agent, env, steps=1_000, progress=False)
    assert (
        err.value.step == every and err.value.what == what and err.value.history.steps == every - 1
    )


@pytest.mark.parametrize("every", [1, 97])
def test_tabular_q_learning_stops_on_an_infinite_reward(every):
    """Before the check, an infinite reward made Q-values inf - inf = NaN and then an IndexError."""
    from rlbook.envs import make_env
    from rlbook.train import NonFiniteData

    env = Corrupt(make_env("FrozenLake-v1", seed=0), every=every, what="reward")
    agent = _real_agent("qlearning", env)
    with pytest.raises(
        NonFiniteData, match=f"step {every}: the environment returned a non-finite reward"
    ) as err:
        train(agent, env, steps=1_000, progress=False)
    assert err.value.step == every and err.value.history.steps == every - 1


def test_run_episode_reports_return_length_and_how_it_ended():
    import gymnasium as gym

    from rlbook.train import run_episode

    env = gym.make("CartPole-v1", max_episode_steps=7)
    env.reset(seed=0)
    total, steps, terminated, truncated = run_episode(env, lambda obs: 0 if obs[2] > 0 else 1)
    assert (total, steps, terminated, truncated) == (
        7.0,
        7,
        False,
        True,
    )  # balanced until the limit
    long_env = gym.make("CartPole-v1", max_episode_steps=100)
    long_env.reset(seed=0)
    total, steps, terminated, truncated = run_episode(long_env, lambda obs: 0)  # push left: falls
    assert terminated and not truncated and total == steps and steps < 100
