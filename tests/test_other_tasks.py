"""Every agent, with its defaults, on Gymnasium tasks other than the one its chapter teaches.

Each test here was something a user trying an agent on another task would call a bug: a
refusal printed over several lines, a run that hung, an action range the policy never
explored, or a task the error's own advice could not handle.
"""

import gymnasium as gym
import numpy as np
import pytest

from rlbook.agents import ALGORITHMS

# Bounds that differ per dimension: NumPy prints such a Box over several lines.
WIDE_OBS = gym.spaces.Box(
    np.linspace(-5, -1, 24, dtype=np.float32), np.linspace(1, 5, 24, dtype=np.float32)
)
WIDE_ACT = gym.spaces.Box(
    np.linspace(-3, -1, 24, dtype=np.float32), np.linspace(1, 3, 24, dtype=np.float32)
)
SPACES = [
    (WIDE_OBS, gym.spaces.Discrete(4)),  # refused by the tables (a Box observation)
    (WIDE_OBS, WIDE_ACT),  # refused by DQN, REINFORCE and the actor-critic (Box actions)
    (gym.spaces.Discrete(16), WIDE_ACT),  # refused by everyone
    (gym.spaces.Tuple((gym.spaces.Discrete(32), gym.spaces.Discrete(11))), WIDE_ACT),
]


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_a_refused_space_is_named_on_one_line(name):
    # Before: "QLearningAgent needs a Discrete observation space, got Box([-2.5 ... -10.\n
    # -0. -0.], ...)": LunarLander's and BipedalWalker's bounds broke the message over lines.
    refused = 0
    for obs_space, action_space in SPACES:
        try:
            ALGORITHMS[name].agent_class(obs_space, action_space)
        except (TypeError, ValueError) as err:
            refused += 1
            assert "\n" not in str(err), str(err)
            assert len(str(err)) < 600, str(err)
    assert refused >= 2


def test_show_space_keeps_short_spaces_and_summarises_long_bounds():
    from rlbook._validate import show_space

    assert show_space(gym.spaces.Discrete(16)) == "Discrete(16)"
    box = gym.spaces.Box(np.array([-4.8, -np.inf], np.float32), np.array([4.8, np.inf], np.float32))
    assert show_space(box) == "Box([-4.8 -inf], [4.8 inf], (2,), float32)"
    text = show_space(WIDE_OBS)
    assert text == (
        "Box(low=[-5, -4.826, -4.652, ..., -1.348, -1.174, -1], "
        "high=[1, 1.174, 1.348, ..., 4.652, 4.826, 5], shape=(24,), dtype=float32)"
    )


def test_make_env_gives_a_task_without_a_time_limit_one_so_evaluation_cannot_hang():
    # Before: the CLI added the limit, the library did not. `evaluate(agent,
    # make_env("CliffWalking-v1"))` after 2,000 steps of Q-learning never returned: its greedy
    # policy pushed against a wall forever.
    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env, make_vec_env
    from rlbook.train import evaluate

    limit = 10_000
    assert make_env("CliffWalking-v1").spec.max_episode_steps == limit
    assert make_env("Blackjack-v1").spec.max_episode_steps == limit
    assert make_vec_env("CliffWalking-v1", 2).envs[0].spec.max_episode_steps == limit
    assert make_env("CartPole-v1").spec.max_episode_steps == 500  # its own limit stays
    assert make_env("CliffWalking-v1", max_episode_steps=30).spec.max_episode_steps == 30
    # the Atari games end themselves after 108,000 frames (27,000 steps): no shorter limit
    from rlbook.envs import register_atari

    register_atari()
    assert make_env("ALE/MsPacman-v5").spec.max_episode_steps is None
    env = make_env("CliffWalking-v1", seed=0)
    agent = QLearningAgent(env.observation_space, env.action_space)
    for state in range(48):
        agent.Q[state, 0] = 1.0  # "up" everywhere: up from the start, then against the top wall
    assert evaluate(agent, env, 1)[0] == -limit


def test_ppo_gaussian_starts_in_the_middle_of_bounds_that_are_not_centred_on_zero():
    # Before: the mean started at 0 whatever the bounds, so on [10, 20] every sample was clipped
    # to 10 (the action never varied, so the policy had nothing to learn from) and on CarRacing's
    # gas and brake, [0, 1], half of them were 0.
    from rlbook.agents.ppo import PPOAgent

    obs_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    low, high = np.array([-2, 0, 10], np.float32), np.array([2, 1, 20], np.float32)
    agent = PPOAgent(obs_space, gym.spaces.Box(low, high), seed=0)
    obs = np.random.default_rng(0).uniform(-1, 1, (2000, 3)).astype(np.float32)
    sampled, greedy = agent.act(obs), agent.act(obs, greedy=True)
    assert ((sampled >= low) & (sampled <= high)).all()
    assert np.mean(sampled[:, 2] == 10) < 0.01  # was 1.0
    assert np.mean(sampled[:, 1] == 0) < 0.35  # was about 0.5 (now P(N(0.5, 1) < 0))
    assert abs(np.median(greedy[:, 2]) - 15) < 1 and abs(np.median(greedy[:, 1]) - 0.5) < 0.3
    # Symmetric bounds (Pendulum's [-2, 2]) keep a mean starting at 0, as before.
    symmetric = PPOAgent(obs_space, gym.spaces.Box(-2.0, 2.0, (1,), np.float32), seed=0)
    assert np.all(symmetric.policy.layers[-1].bias.numpy() == 0)


def test_blackjack_tuples_are_numbered_for_the_tables():
    # Before: the tables' refusal of Blackjack's Tuple observation said to use
    # DiscretizedObservationWrapper, which refuses a Tuple ("already discrete"): no way in.
    import itertools

    from rlbook.agents.qlearning import QLearningAgent
    from rlbook.envs import make_env
    from rlbook.train import evaluate, train

    raw = make_env("Blackjack-v1", seed=0)
    with pytest.raises(TypeError, match=r"Wrap the environment in rlbook\.envs\.DiscreteTupleWrap"):
        QLearningAgent(raw.observation_space, raw.action_space)
    from rlbook.envs import DiscreteTupleWrapper

    env = DiscreteTupleWrapper(raw)
    assert env.observation_space == gym.spaces.Discrete(32 * 11 * 2)
    space = raw.observation_space
    codes = {env.observation(t) for t in itertools.product(*(range(s.n) for s in space.spaces))}
    assert codes == set(range(704))  # one code per tuple, every code used
    assert env.observation((1, 0, 0)) == 1 and env.observation((0, 1, 0)) == 32
    assert env.observation((0, 0, 1)) == 32 * 11
    shifted = gym.spaces.Tuple((gym.spaces.Discrete(3, start=5), gym.spaces.Discrete(2)))
    base = gym.make("Blackjack-v1")
    base.observation_space = shifted  # a Tuple whose first entry starts at 5
    assert DiscreteTupleWrapper(base).observation((7, 1)) == 2 + 3 * 1
    agent = QLearningAgent(env.observation_space, env.action_space)
    history = train(agent, env, steps=2000, progress=False)
    assert history.episodes > 500 and len(agent.Q) > 100
    assert np.all(np.abs(evaluate(agent, DiscreteTupleWrapper(make_env("Blackjack-v1")), 5)) <= 1.5)
    with pytest.raises(TypeError, match=r"DiscreteTupleWrapper needs a Tuple of Discrete"):
        DiscreteTupleWrapper(make_env("CartPole-v1"))


def test_the_command_line_numbers_blackjack_for_the_tables(capsys, tmp_path):
    from rlbook.cli import main

    ckpt = str(tmp_path / "bj")
    code = main(["train", "qlearning", "--env", "Blackjack-v1", "--steps", "500", "--no-progress",
                 "--save", ckpt])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "greedy evaluation over 10 episodes: mean" in out
    assert main(["evaluate", ckpt]) == 0
    assert "10 greedy episodes: mean" in capsys.readouterr().out
    assert main(["train", "sarsa", "--env", "Blackjack-v1", "--bins", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith("leave out --bins (the tuples are numbered).")


def test_dqn_names_the_one_hot_wrapper_for_discrete_observations():
    # Before: "for Discrete observations use tabular Q-learning (chapter 2)", although DQN runs
    # on FrozenLake's or Blackjack's observations once they are one-hot vectors.
    from gymnasium.wrappers import FlattenObservation

    from rlbook.agents.dqn import DQNAgent
    from rlbook.envs import make_env

    env = make_env("Blackjack-v1")
    with pytest.raises(TypeError, match=r"one-hot vectors for DQN with gymnasium\.wrappers\.Flatt"):
        DQNAgent(env.observation_space, env.action_space)
    flat = FlattenObservation(env)
    agent = DQNAgent(flat.observation_space, flat.action_space)
    obs, _ = flat.reset(seed=0)
    assert agent.act(obs, greedy=True) in (0, 1)
