import gymnasium as gym
import numpy as np
import pytest

from rlbook.agents.dqn import DQNAgent, DQNConfig
from rlbook.agents.recurrent_dqn import RecurrentDQNAgent
from rlbook.envs import make_env, make_vec_env
from rlbook.train import train

CARTPOLE = make_env("CartPole-v1")
SMALL = dict(
    hidden=(16,), batch_size=8, buffer_size=500, learning_starts=16, train_every=8, gradient_steps=2
)


def _agent(**kw):
    return DQNAgent(CARTPOLE.observation_space, CARTPOLE.action_space, **{**SMALL, **kw})


def _recurrent(**kw):
    return RecurrentDQNAgent(
        CARTPOLE.observation_space, CARTPOLE.action_space, **{**SMALL, "seq_len": 4, **kw}
    )


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _fill_and_train(agent):
    env = make_env("CartPole-v1", seed=0)
    train(
        agent, env, steps=agent.config.learning_starts, progress=False
    )  # fills the buffer, no training call yet
    before_online, before_target = _weights(agent.q_network), _weights(agent.target_network)
    agent.update()
    return before_online, before_target


def test_hard_update_copies_exactly_every_c_gradient_steps():
    agent = _agent(tau=1.0, target_update_every=2, gradient_steps=2)
    _, before_target = _fill_and_train(agent)
    # after 2 gradient steps the target is an exact copy of the (changed) online net
    for t, o, _old in zip(
        agent.target_network.get_weights(), agent.q_network.get_weights(), before_target
    ):
        np.testing.assert_array_equal(t, o)
    assert any(
        not np.array_equal(o, old) for o, old in zip(agent.q_network.get_weights(), before_target)
    )


def test_hard_update_waits_for_c():
    agent = _agent(tau=1.0, target_update_every=5, gradient_steps=2)
    _, before_target = _fill_and_train(agent)
    for t, old in zip(agent.target_network.get_weights(), before_target):
        np.testing.assert_array_equal(t, old)  # only 2 of 5 steps done: target untouched


def test_soft_update_is_polyak_average():
    agent = _agent(tau=0.25, target_update_every=1, gradient_steps=1)
    _, before_target = _fill_and_train(agent)
    for t, o, old in zip(
        agent.target_network.get_weights(), agent.q_network.get_weights(), before_target
    ):
        np.testing.assert_allclose(t, 0.25 * o + 0.75 * old, rtol=1e-5, atol=1e-6)


def test_dueling_head_removes_mean_advantage():
    agent = _agent(dueling=True)
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    v, a = agent.value_advantage(obs)
    np.testing.assert_allclose(a.mean(axis=1), 0.0, atol=1e-5)
    head = agent.q_network(obs).numpy()
    np.testing.assert_allclose(
        v, head[:, 0] + 0 * head[:, 1], rtol=1e-5
    )  # V is the head's first output
    np.testing.assert_allclose(agent.q_values(obs), v[:, None] + a, rtol=1e-5)


def test_numpy_acting_matches_keras():
    agent = _agent(dueling=False)
    obs = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        agent.q_values(obs), agent.q_network(obs).numpy(), rtol=1e-5, atol=1e-6
    )


def _seeded_returns(seed):
    env = make_vec_env("CartPole-v1", 2, seed=seed)
    agent = DQNAgent(
        env.single_observation_space, env.single_action_space, num_envs=2, seed=seed, **SMALL
    )
    return train(agent, env, steps=600, progress=False).episode_returns


def test_same_seed_same_returns():
    a, b = _seeded_returns(3), _seeded_returns(3)
    assert a == b and len(a) > 5


class Pixels(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (12, 12, 3), np.uint8)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.integers(0, 255, (12, 12, 3), dtype=np.uint8), {}

    def step(self, action):
        self.t += 1
        return (
            self.np_random.integers(0, 255, (12, 12, 3), dtype=np.uint8),
            float(action == 1),
            self.t >= 10,
            False,
            {},
        )


@pytest.mark.parametrize(
    "model_type, env_fn",
    [
        ("dense", lambda: make_env("CartPole-v1", seed=0)),
        ("conv", Pixels),
        ("lstm", lambda: make_env("CartPole-v1", seed=0)),
    ],
)
def test_every_model_type_builds_and_trains(model_type, env_fn):
    env = env_fn()
    cls = RecurrentDQNAgent if model_type == "lstm" else DQNAgent
    agent = cls(env.observation_space, env.action_space, model_type=model_type, seq_len=4, **SMALL)
    history = train(agent, env, steps=40, progress=False)
    assert "loss" in history.metrics and np.isfinite(history.metrics["loss"][-1][1])
    assert agent.q_values(env.observation_space.sample()[None]).shape == (1, env.action_space.n)


def test_lstm_memory_is_reset_between_episodes():
    agent = _recurrent()
    obs = np.ones(4, np.float32)
    agent.act(obs, greedy=True)
    agent.reset_state(1)
    assert not agent._window.any()
    agent.act(obs, greedy=True)
    np.testing.assert_array_equal(agent._window[0, -1], obs)


@pytest.mark.parametrize(
    "kw, error, message",
    [
        (dict(model_type="rnn"), ValueError, "model_type must be one of"),
        (dict(tau=0.0), ValueError, r"tau must be a number in \(0, 1\]"),
        (dict(tau=1.5), ValueError, r"tau must be a number in \(0, 1\]"),
        (
            dict(batch_size=1000, buffer_size=500),
            ValueError,
            r"batch_size \(1000\) must not exceed buffer_size \(500\)",
        ),
        (dict(gamma=1.2), ValueError, r"gamma must be a number in \[0, 1\]"),
        (dict(model_type="conv"), ValueError, "needs image observations"),
    ],
)
def test_bad_config(kw, error, message):
    with pytest.raises(error, match=message):
        DQNAgent(CARTPOLE.observation_space, CARTPOLE.action_space, **{**SMALL, **kw})


def test_bad_spaces():
    with pytest.raises(TypeError, match="needs a Discrete action space"):
        DQNAgent(CARTPOLE.observation_space, gym.spaces.Box(-1, 1, (1,)))
    with pytest.raises(ValueError, match="needs flat observations"):
        DQNAgent(Pixels.observation_space, Pixels.action_space, model_type="dense")
    with pytest.raises(TypeError, match="tabular Q-learning"):
        DQNAgent(gym.spaces.Discrete(5), gym.spaces.Discrete(2))


def test_defaults_are_vanilla_dqn():
    # Chapter 3 teaches (and trains) the max target and a plain
    # head; chapters 4-5 switch the flags on.
    config = DQNConfig()
    assert not config.double and not config.dueling
    agent = _agent()
    assert agent.q_network.output_shape[-1] == CARTPOLE.action_space.n  # no V output


def test_lstm_evaluation_on_other_copies_keeps_the_training_memory():
    agent = _recurrent(num_envs=2)
    train_obs = np.full((2, 4), 0.5, np.float32)
    agent.act(train_obs)
    agent.reset_state(3)  # what an evaluation on 3 copies does
    agent.act(np.ones((3, 4), np.float32), greedy=True)
    np.testing.assert_array_equal(
        agent._window[:, -1], train_obs
    )  # the training episodes still remember
    # and the loop can interleave training on 2 copies with evaluations on 3
    env, eval_env = make_vec_env("CartPole-v1", 2, seed=0), make_vec_env("CartPole-v1", 3, seed=1)
    history = train(
        agent, env, steps=60, eval_env=eval_env, eval_every=20, eval_episodes=3, progress=False
    )
    assert len(history.evaluations) == 3


def test_lstm_network_is_seeded():
    a, b = (_recurrent(seed=5) for _ in range(2))
    for wa, wb in zip(a.q_network.get_weights(), b.q_network.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_lstm_evaluation_on_as_many_copies_keeps_the_training_memory():
    from rlbook.train import evaluate

    agent = _recurrent(num_envs=2)
    agent.act(np.full((2, 4), 0.5, np.float32))
    agent.act(np.full((2, 4), 0.25, np.float32))
    before = agent._window.copy()
    returns = evaluate(
        agent, make_vec_env("CartPole-v1", 2, seed=1), episodes=2
    )  # same number of copies
    assert returns.shape == (2,) and returns.min() >= 1
    np.testing.assert_array_equal(agent._window, before)
    np.testing.assert_array_equal(agent._window[:, -2:, 0], [[0.5, 0.25], [0.5, 0.25]])
    assert (
        getattr(_agent(), "recurrent_state", None) is None
    )  # dense networks have no memory to keep


# -- the learning step, on minibatches made by hand -------------------------------------------


def _batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    next_obs = rng.normal(size=(n, 4)).astype(np.float32)
    action = rng.integers(0, 2, n)
    reward = rng.normal(size=n).astype(np.float32)
    terminated = (np.arange(n) % 3 == 0).astype(np.float32)
    return obs, action, reward, next_obs, terminated


def test_learn_moves_q_of_the_action_taken_towards_the_hand_computed_target():
    agent = _agent(loss="mse", lr=1e-2, gamma=0.9, target_update_every=1000)
    obs, next_obs = (
        np.array([[0.1, -0.2, 0.3, 0.05]], np.float32),
        np.array([[0.2, 0.1, -0.1, 0.0]], np.float32),
    )
    # y = r + gamma * max_a' Q_target(s', a'), from the target network's numbers
    y = 0.5 + 0.9 * agent.target_network(next_obs).numpy().max()
    before = agent.q_network(obs).numpy()[0, 1]
    out = agent.learn(
        obs, np.array([1]), np.array([0.5], np.float32), next_obs, np.array([0.0], np.float32)
    )
    assert float(out["loss"]) == pytest.approx(
        (y - before) ** 2, rel=1e-5
    )  # the loss before the step
    after = agent.q_network(obs).numpy()[0, 1]
    assert abs(y - after) < abs(y - before)
    # a terminated transition's target is its reward alone
    before = agent.q_network(obs).numpy()[0, 0]
    out = agent.learn(
        obs, np.array([0]), np.array([3.0], np.float32), next_obs, np.array([1.0], np.float32)
    )
    assert float(out["loss"]) == pytest.approx((3.0 - before) ** 2, rel=1e-5)
    assert abs(3.0 - agent.q_network(obs).numpy()[0, 0]) < abs(3.0 - before)
    assert int(agent.gradient_steps_done.numpy()) == 2


@pytest.mark.parametrize("double", [False, True])
def test_learn_uses_the_vanilla_or_the_double_target(double):
    agent = _agent(loss="mse", gamma=0.9, double=double)
    # a target network whose head swaps the two actions: it values
    # highest what the online one ranks lowest
    weights = agent.q_network.get_weights()
    agent.target_network.set_weights(weights[:-2] + [weights[-2][:, ::-1], weights[-1][::-1]])
    obs, action, reward, next_obs, terminated = _batch()
    q, q_next = agent.q_network(obs).numpy(), agent.q_network(next_obs).numpy()
    q_next_target = agent.target_network(next_obs).numpy()
    rows = np.arange(len(action))
    vanilla = reward + 0.9 * (1 - terminated) * q_next_target.max(axis=1)
    double_y = reward + 0.9 * (1 - terminated) * q_next_target[rows, q_next.argmax(axis=1)]
    assert not np.allclose(vanilla, double_y)  # the batch tells the two apart
    y = double_y if double else vanilla
    out = agent.learn(obs, action, reward, next_obs, terminated)
    assert float(out["loss"]) == pytest.approx(np.mean((y - q[rows, action]) ** 2), rel=1e-5)
    assert float(out["mean_q"]) == pytest.approx(q.max(axis=1).mean(), rel=1e-5)


def test_target_network_moves_by_tau_on_every_c_th_gradient_step_only():
    agent = _agent(tau=0.5, target_update_every=3)
    batch = _batch()
    for step in range(1, 7):
        target, online = _weights(agent.target_network), _weights(agent.q_network)
        agent.learn(*batch)
        new_online = agent.q_network.get_weights()
        for t_new, t_old, o_new in zip(agent.target_network.get_weights(), target, new_online):
            expected = 0.5 * o_new + 0.5 * t_old if step % 3 == 0 else t_old
            np.testing.assert_allclose(t_new, expected, rtol=1e-5, atol=1e-6)
        assert any(not np.array_equal(a, b) for a, b in zip(new_online, online))


def test_repeat_gives_the_weights_of_the_same_steps_run_one_by_one():
    import tensorflow as tf

    a, b = (
        _agent(gradient_steps=3, target_update_every=2),
        _agent(gradient_steps=3, target_update_every=2),
    )
    batches = [_batch(seed=k) for k in range(3)]
    stacked = [np.stack(field) for field in zip(*batches)]
    together = a._learn_many(*stacked)  # one compiled call
    one_step = tf.function(b.learn)
    losses = [float(one_step(*batch)["loss"]) for batch in batches]
    for wa, wb in zip(
        a.q_network.get_weights() + a.target_network.get_weights(),
        b.q_network.get_weights() + b.target_network.get_weights(),
    ):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    assert float(together["loss"]) == pytest.approx(np.mean(losses), rel=1e-5)
    assert int(a.gradient_steps_done.numpy()) == int(b.gradient_steps_done.numpy()) == 3


def test_dueling_q_values_come_from_the_one_combine():
    from rlbook.nets import q_from_head

    agent = _agent(dueling=True)
    obs = np.random.default_rng(2).normal(size=(7, 4)).astype(np.float32)
    expected = q_from_head(agent.q_network(obs), dueling=True).numpy()
    np.testing.assert_allclose(agent.q_values(obs), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(agent.act(obs, greedy=True), expected.argmax(axis=1))


def test_the_recurrent_agent_is_built_by_its_own_class_and_it_checkpoints(tmp_path):
    from rlbook.agents import load
    from rlbook.checkpoint import CheckpointError

    agent = _recurrent()  # model_type="lstm" is its config's default
    assert type(agent) is RecurrentDQNAgent and agent.config.model_type == "lstm"
    env = make_env("CartPole-v1", seed=0)
    train(agent, env, steps=40, progress=False)
    path = agent.save(str(tmp_path / "lstm.ckpt"))
    for loaded in (RecurrentDQNAgent.load(path), load(path)):
        assert type(loaded) is RecurrentDQNAgent and int(loaded.gradient_steps_done.numpy()) > 0
        obs = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
        np.testing.assert_allclose(loaded.q_values(obs), agent.q_values(obs), rtol=1e-6)
    with pytest.raises(CheckpointError, match="holds a 'recurrent_dqn' agent"):
        DQNAgent.load(path)
    # each class builds its own kind of network, and says which class builds the other
    with pytest.raises(ValueError, match=r"model_type='lstm' needs a memory: .*RecurrentDQNAgent"):
        _agent(model_type="lstm")
    with pytest.raises(ValueError, match="RecurrentDQNAgent needs model_type='lstm', got 'dense'"):
        _recurrent(model_type="dense")
