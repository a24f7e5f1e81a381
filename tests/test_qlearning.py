from collections import defaultdict

import gymnasium as gym
import numpy as np
import pytest

from rlbook.agents.qlearning import QLearningAgent, QLearningConfig
from rlbook.claims import seed_offset
from rlbook.envs import DiscretizedObservationWrapper, make_env
from rlbook.train import evaluate, train


def _table():
    Q = defaultdict(float)
    Q[0, 0], Q[0, 1] = 1.0, 2.0
    Q[1, 0], Q[1, 1] = 3.0, 5.0
    return Q


def _learner(Q):
    """A Q-learning agent with two actions, alpha 0.5, gamma 0.9 and the table ``Q``."""
    agent = QLearningAgent(gym.spaces.Discrete(2), gym.spaces.Discrete(2), alpha=0.5, gamma=0.9)
    agent.Q = Q
    return agent


def test_learn_hand_computed():
    Q = _table()
    # target = 1 + 0.9 * max(3, 5) = 5.5; Q <- 2 + 0.5 * (5.5 - 2) = 3.75
    td = _learner(Q).learn(0, 1, 1.0, 1, terminated=False)
    assert Q[0, 1] == pytest.approx(3.75)
    assert td == pytest.approx(3.5)
    assert Q[0, 0] == 1.0 and Q[1, 1] == 5.0  # nothing else moved


def test_learn_stops_bootstrapping_only_on_terminated():
    terminated, truncated = _table(), _table()
    # terminated: target = 1 (no future); Q <- 2 + 0.5 * (1 - 2) = 1.5
    _learner(terminated).learn(0, 1, 1.0, 1, terminated=True)
    assert terminated[0, 1] == pytest.approx(1.5)
    # truncated (time limit) still bootstraps, through the agent's observe()
    agent = QLearningAgent(
        make_env("FrozenLake-v1").observation_space,
        make_env("FrozenLake-v1").action_space,
        alpha=0.5,
        gamma=0.9,
    )
    agent.Q = truncated
    agent.actions = [0, 1]
    agent.observe(0, 1, 1.0, 1, terminated=False, truncated=True)
    assert truncated[0, 1] == pytest.approx(3.75)


def _agent(**kw):
    env = make_env("FrozenLake-v1", seed=0)
    return QLearningAgent(env.observation_space, env.action_space, **kw)


def test_greedy_ties_are_broken_at_random():
    agent = _agent(seed=1)
    agent.Q[5, 1] = agent.Q[5, 3] = 2.0  # two best actions
    picks = {agent.act(5, greedy=True) for _ in range(200)}
    assert picks == {1, 3}
    agent.Q[5, 3] = 2.5
    assert {agent.act(5, greedy=True) for _ in range(50)} == {3}


def test_epsilon_one_is_uniform_and_epsilon_anneals():
    agent = _agent(
        seed=0,
        epsilon_start=1.0,
        epsilon_end=0.1,
        epsilon_decay_steps=100,
        epsilon_schedule="linear",
    )
    agent.Q[0, 2] = 10.0
    counts = np.bincount([agent.act(0) for _ in range(4000)], minlength=4)
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.03)
    assert agent.epsilon == 1.0
    agent.env_steps = 50
    assert agent.epsilon == pytest.approx(0.55)
    agent.env_steps = 1000
    assert agent.epsilon == pytest.approx(0.1)


def test_seeded_runs_identical():
    def run():
        env = make_env("FrozenLake-v1", seed=7)
        agent = QLearningAgent(env.observation_space, env.action_space, seed=7)
        return train(agent, env, steps=3000, progress=False).episode_returns

    assert run() == run()


def test_frozenlake_learns():
    seed = seed_offset()  # 0; the robustness sweep (tools/robust.py) shifts it
    env = make_env("FrozenLake-v1", seed=seed)
    agent = QLearningAgent(env.observation_space, env.action_space, seed=seed)
    train(agent, env, steps=60_000, progress=False)
    eval_env = make_env("FrozenLake-v1", seed=seed + 100)
    success = evaluate(agent, eval_env, episodes=1000).mean()
    assert success >= 0.70


def test_box_observation_is_rejected_with_a_hint():
    env = make_env("CartPole-v1")
    with pytest.raises(TypeError, match="DiscretizedObservationWrapper"):
        QLearningAgent(env.observation_space, env.action_space)
    wrapped = DiscretizedObservationWrapper(env, n_bins=4, low=[-1] * 4, high=[1] * 4)
    QLearningAgent(wrapped.observation_space, wrapped.action_space)  # fine once wrapped


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(gamma=1.5), "gamma must be a number in [0, 1]"),
        (dict(gamma=-0.1), "gamma must be a number in [0, 1]"),
        (dict(epsilon_start=2.0), "epsilon_start must be a number in [0, 1]"),
        (dict(epsilon_end=-0.5), "epsilon_end must be a number in [0, 1]"),
        (dict(alpha=0.0), "alpha must be a number in (0, 1]"),
        (dict(epsilon_schedule="cosine"), "epsilon_schedule must be one of"),
        (dict(epsilon_decay_steps=-1), "epsilon_decay_steps must be an integer >= 0"),
    ],
)
def test_bad_config(kw, message):
    with pytest.raises(ValueError) as err:
        _agent(**kw)
    assert message in str(err.value)


def test_unknown_override_is_named():
    with pytest.raises(TypeError, match="unknown QLearningConfig field"):
        _agent(gama=0.9)
    assert QLearningConfig().gamma == 0.99
