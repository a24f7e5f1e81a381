"""SARSA, the shared tabular machinery, and the fixes chapter 2's errata boxes state."""

from collections import defaultdict

import gymnasium as gym
import numpy as np
import pytest

from rlbook import checkpoint
from rlbook.agents import load
from rlbook.agents.qlearning import QLearningAgent
from rlbook.agents.sarsa import SarsaAgent, SarsaConfig
from rlbook.claims import seed_offset
from rlbook.envs import DiscretizedObservationWrapper, make_env
from rlbook.train import evaluate, train


def _table():
    Q = defaultdict(float)
    Q[0, 0], Q[0, 1] = 1.0, 2.0
    Q[1, 0], Q[1, 1] = 3.0, 5.0
    return Q


def test_sarsa_learn_uses_the_next_action_taken_not_the_best():
    agent = SarsaAgent(gym.spaces.Discrete(2), gym.spaces.Discrete(2), alpha=0.5, gamma=0.9)
    Q = agent.Q = _table()
    # a' = 0 (not the best, 1): target = 1 + 0.9 * Q(1, 0) = 3.7; Q <- 2 + 0.5 * (3.7 - 2) = 2.85
    td = agent.learn(0, 1, 1.0, 1, 0, terminated=False)
    assert Q[0, 1] == pytest.approx(2.85) and td == pytest.approx(1.7)
    # terminated: target = r = 1; Q <- 2.85 + 0.5 * (1 - 2.85) = 1.925
    agent.learn(0, 1, 1.0, 1, None, terminated=True)
    assert Q[0, 1] == pytest.approx(1.925)
    assert Q[1, 0] == 3.0 and Q[1, 1] == 5.0


def _spaces(n_states=5, n_actions=3):
    return gym.spaces.Discrete(n_states), gym.spaces.Discrete(n_actions)


def test_sarsa_acts_with_the_action_its_update_used():
    agent = SarsaAgent(*_spaces(), epsilon_start=0.5, epsilon_schedule="constant", seed=3)
    for step in range(200):
        agent.observe(step % 5, 0, 0.0, (step + 1) % 5, terminated=False, truncated=False)
        next_obs, a_next = agent.next_action
        assert agent.act(next_obs) == a_next  # the a' of the target is the action taken
        assert agent.next_action is None
    # after the end of an episode nothing is carried over
    agent.observe(1, 0, 0.0, 2, terminated=False, truncated=True)
    assert agent.next_action is None
    agent.observe(1, 0, 0.0, 2, terminated=True, truncated=False)
    assert agent.next_action is None


def test_sarsa_bootstraps_after_truncation_but_not_after_termination():
    agent = SarsaAgent(*_spaces(2, 2), alpha=0.5, gamma=0.9, epsilon_start=0.0, epsilon_end=0.0)
    agent.Q.update(_table())
    # greedy a' in state 1 is action 1 (Q = 5): target = 1 + 0.9 * 5 = 5.5; Q <- 2 + 0.5 * 3.5
    agent.observe(0, 1, 1.0, 1, terminated=False, truncated=True)
    assert agent.Q[0, 1] == pytest.approx(3.75)
    agent.observe(1, 0, 1.0, 0, terminated=True, truncated=False)
    assert agent.Q[1, 0] == pytest.approx(3.0 + 0.5 * (1.0 - 3.0))


def test_sarsa_greedy_evaluation_ignores_the_pending_action():
    agent = SarsaAgent(*_spaces(2, 2), epsilon_start=0.0, epsilon_end=0.0, seed=0)
    agent.Q[1, 1] = 1.0
    agent.next_action = (1, 0)
    assert agent.act(1, greedy=True) == 1
    assert agent.next_action == (1, 0)


def test_cliffwalking_sarsa_walks_the_safe_path_and_qlearning_the_cliff_edge():
    """Sutton & Barto's Example 6.6: with epsilon = 0.1, SARSA's greedy path keeps away
    from the cliff (longer) and collects more online; Q-learning's greedy path runs along
    the edge (13 steps, return -13) but falls in more often while exploring."""
    greedy, online = {}, {}
    seed = seed_offset()  # 0; the robustness sweep (tools/robust.py) shifts it
    for cls in (SarsaAgent, QLearningAgent):
        env = make_env("CliffWalking-v1", seed=seed)
        agent = cls(
            env.observation_space,
            env.action_space,
            alpha=0.1,
            gamma=1.0,
            epsilon_start=0.1,
            epsilon_schedule="constant",
            seed=seed,
        )
        history = train(agent, env, episodes=500, progress=False)
        online[cls] = np.mean(history.episode_returns[-100:])
        # CliffWalking has no time limit of its own: a greedy loop would never end
        eval_env = make_env("CliffWalking-v1", seed=seed + 1, max_episode_steps=100)
        greedy[cls] = evaluate(agent, eval_env, episodes=1)[0]
    assert greedy[QLearningAgent] == -13
    assert -25 <= greedy[SarsaAgent] < -13
    assert online[SarsaAgent] > online[QLearningAgent] + 10


def test_sarsa_checkpoint_round_trip(tmp_path):
    env = make_env("FrozenLake-v1", seed=0)
    agent = SarsaAgent(env.observation_space, env.action_space, seed=4, alpha=0.2)
    train(agent, env, steps=2000, progress=False)
    path = agent.save(tmp_path / "sarsa.ckpt")
    loaded = load(path)
    assert isinstance(loaded, SarsaAgent) and loaded.config == agent.config
    assert loaded.env_steps == agent.env_steps and dict(loaded.Q) == dict(agent.Q)
    with pytest.raises(checkpoint.CheckpointError, match="expected a 'qlearning' agent"):
        QLearningAgent.load(path)


@pytest.mark.parametrize("cls", [QLearningAgent, SarsaAgent])
def test_shared_config_checks_name_the_field(cls):
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 2"):
        cls(*_spaces(), seed=-3)
    with pytest.raises(ValueError, match="gamma must be a number in"):
        cls(*_spaces(), gamma=2.0)
    with pytest.raises(TypeError, match=f"{cls.__name__} needs a Discrete observation space"):
        cls(gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(2))
    with pytest.raises(TypeError, match="unknown SarsaConfig field"):
        SarsaAgent(*_spaces(), SarsaConfig(), gama=0.9)


# -- the fixes chapter 2's errata boxes state --------------------------------------------


@pytest.mark.parametrize("cls", [QLearningAgent, SarsaAgent])
@pytest.mark.parametrize("n_actions", [2, 4, 6])
def test_the_action_list_has_action_space_n_entries(cls, n_actions):
    """Errata: ``range(env.action_space)`` is a TypeError; the actions are ``range(n)``."""
    agent = cls(*_spaces(3, n_actions))
    assert agent.actions == list(range(n_actions))
    picks = {agent.act(0) for _ in range(300)}  # epsilon starts at 1: uniform over all actions
    assert picks == set(range(n_actions))


@pytest.mark.parametrize("cls", [QLearningAgent, SarsaAgent])
def test_greedy_action_reads_the_agents_own_table_at_the_given_obs(cls):
    """Errata: the original ``act(ob)`` read ``q[state, a]``, two undefined names."""
    agent = cls(*_spaces(4, 3), seed=0)
    agent.Q[2, 1] = 1.0
    agent.Q[3, 2] = 1.0
    assert agent.act(2, greedy=True) == 1
    assert agent.act(3, greedy=True) == 2


def test_discretizing_wrapper_accepts_plain_lists_for_low_and_high():
    """Errata: the original called ``low.flatten()`` on the lists its own example passed."""
    env = make_env("CartPole-v1", seed=0)
    as_lists = DiscretizedObservationWrapper(
        env, n_bins=8, low=[-2.4, -2.0, -0.42, -3.5], high=[2.4, 2.0, 0.42, 3.5]
    )
    as_arrays = DiscretizedObservationWrapper(
        env, n_bins=8, low=np.array([-2.4, -2.0, -0.42, -3.5]), high=np.array([2.4, 2.0, 0.42, 3.5])
    )
    assert as_lists.observation_space == as_arrays.observation_space
    rng = np.random.default_rng(0)
    for obs in rng.uniform(-3, 3, size=(50, 4)):
        assert as_lists.observation(obs) == as_arrays.observation(obs)
    # a tuple works as well
    DiscretizedObservationWrapper(env, n_bins=8, low=(-1,) * 4, high=(1,) * 4)


def test_the_loop_moves_on_to_the_next_obs():
    """Errata: "set s' = s" must be s <- s': each action after the first of an episode is
    chosen for the ``next_obs`` of the step before (``obs = next_obs`` in the loop)."""

    class Recorder(QLearningAgent):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen, self.transitions = [], []

        def act(self, obs, greedy=False):
            self.seen.append(obs)
            return super().act(obs, greedy)

        def observe(self, obs, action, reward, next_obs, terminated, truncated):
            self.transitions.append((obs, next_obs, terminated or truncated))
            return super().observe(obs, action, reward, next_obs, terminated, truncated)

    env = make_env("FrozenLake-v1", seed=0)
    agent = Recorder(env.observation_space, env.action_space, seed=0)
    train(agent, env, steps=500, progress=False)
    assert len(agent.seen) == len(agent.transitions) == 500
    moved = 0
    for (obs, next_obs, done), following in zip(agent.transitions, agent.seen[1:]):
        if not done:
            assert following == next_obs
            moved += obs != next_obs
    assert moved > 50  # the agent really moved around
