"""The policy-gradient base (rlbook/agents/policy_gradient.py) and the two learning steps on
hand-made batches."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf

from rlbook.agents.actor_critic import ActorCriticAgent
from rlbook.agents.policy_gradient import PolicyGradientAgent
from rlbook.agents.reinforce import ReinforceAgent
from rlbook.losses import value_loss

OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
ACTIONS = gym.spaces.Discrete(2)
# A hand-made batch: four states, action 0 taken in each.
OBS = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]], np.float32)
TAKEN = np.zeros(4, np.int32)


def _log_pi_taken(agent):
    return tf.nn.log_softmax(agent.policy(OBS))[:, 0].numpy()


@pytest.mark.parametrize("cls", [ReinforceAgent, ActorCriticAgent])
def test_both_agents_share_one_base_and_one_set_of_names(cls):
    agent = cls(OBS_SPACE, ACTIONS, hidden=(8,))
    assert isinstance(agent, PolicyGradientAgent)
    assert agent.policy.output_shape == (None, 2) and agent.value_network.output_shape == (None, 1)
    assert agent.policy_optimizer is not agent.value_optimizer
    assert agent.env_steps == 0 and agent.updates == 0
    # acting reads the NumPy copies, which follow the networks after sync()
    for w in agent.policy.trainable_variables + agent.value_network.trainable_variables:
        w.assign(w + 0.1)
    assert not np.allclose(agent.values(OBS), agent.value_network(OBS).numpy()[:, 0], atol=1e-6)
    agent.sync()
    np.testing.assert_allclose(
        agent.values(OBS), agent.value_network(OBS).numpy()[:, 0], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(agent.logits(OBS), agent.policy(OBS).numpy(), rtol=1e-5, atol=1e-6)


def test_reinforce_without_baseline_has_no_value_network():
    agent = ReinforceAgent(OBS_SPACE, ACTIONS, hidden=(8,), baseline=None)
    assert agent.value_network is None and agent.value_optimizer is None
    with pytest.raises(
        ValueError, match="values\\(\\) needs a value network; this REINFORCE agent has none"
    ):
        agent.values(OBS)


@pytest.mark.parametrize("advantage, direction", [(+1.0, +1), (-1.0, -1)])
def test_reinforce_step_moves_log_pi_with_the_sign_of_the_return(advantage, direction):
    agent = ReinforceAgent(OBS_SPACE, ACTIONS, hidden=(8,), baseline=None, lr=0.01)
    before = _log_pi_taken(agent)
    metrics = agent.compile_step(agent.learn, None)(OBS, TAKEN, np.full(4, advantage, np.float32))
    assert set(metrics) == {"policy_loss", "entropy"}
    assert np.all(np.sign(_log_pi_taken(agent) - before) == direction)


def test_reinforce_step_weights_by_return_minus_baseline_and_then_fits_the_baseline():
    agent = ReinforceAgent(
        OBS_SPACE, ACTIONS, hidden=(8,), baseline="value", baseline_steps=30, baseline_lr=0.01
    )
    v = agent.value_network(OBS).numpy()[:, 0]
    # returns above V(s) in the first two states, below in the last two: G_t - V(s_t) = +-1
    returns = (v + np.array([1.0, 1.0, -1.0, -1.0])).astype(np.float32)
    before_pi, before_loss = _log_pi_taken(agent), value_loss(v, returns).numpy()
    step = agent.compile_step(agent.learn, None)
    metrics = step(OBS, TAKEN, tf.constant(returns))
    # the reported value loss is the one before fitting, and the fit reduced it
    assert float(metrics["value_loss"]) == pytest.approx(before_loss, rel=1e-5)
    assert value_loss(agent.value_network(OBS)[:, 0], returns).numpy() < 0.5 * before_loss
    change = _log_pi_taken(agent) - before_pi
    assert change[0] > 0 and change[1] > 0 and change[2] < 0 and change[3] < 0


def test_actor_critic_step_raises_log_pi_of_positive_td_errors_and_fits_the_fixed_targets():
    agent = ActorCriticAgent(
        OBS_SPACE, ACTIONS, hidden=(8,), critic_steps=10, n_steps=4, max_grad_norm=None
    )
    v = agent.value_network(OBS).numpy()[:, 0]
    targets = (v + np.array([2.0, 2.0, -2.0, -2.0])).astype(np.float32)  # delta = +-2
    targets_tensor = tf.constant(targets)
    before_pi, before_loss = _log_pi_taken(agent), value_loss(v, targets).numpy()
    metrics = agent._compiled_step(OBS, TAKEN, targets_tensor)
    assert set(metrics) == {"policy_loss", "value_loss", "entropy", "mean_v"}
    assert float(metrics["value_loss"]) == pytest.approx(
        before_loss, rel=1e-5
    )  # measured before the update
    assert float(metrics["mean_v"]) == pytest.approx(v.mean(), rel=1e-5, abs=1e-6)
    np.testing.assert_array_equal(targets_tensor.numpy(), targets)  # the targets are held fixed
    # the critic steps regress V on those fixed targets: each V(s) moved towards its own y
    v_after = agent.value_network(OBS).numpy()[:, 0]
    assert value_loss(v_after, targets).numpy() < before_loss
    np.testing.assert_array_equal(np.sign(v_after - v), [1, 1, -1, -1])
    change = _log_pi_taken(agent) - before_pi
    assert change[0] > 0 and change[1] > 0 and change[2] < 0 and change[3] < 0


def test_critic_steps_are_counted():
    # one critic step moves V less than ten steps do, from the same start and targets
    fitted = []
    for steps in (1, 10):
        agent = ActorCriticAgent(
            OBS_SPACE, ACTIONS, hidden=(8,), critic_steps=steps, n_steps=4, seed=3
        )
        targets = (agent.value_network(OBS).numpy()[:, 0] + 3.0).astype(np.float32)
        agent._compiled_step(OBS, TAKEN, targets)
        fitted.append(value_loss(agent.value_network(OBS)[:, 0], targets).numpy())
    assert fitted[1] < fitted[0]


def test_fit_value_network_zero_steps_changes_nothing():
    agent = ActorCriticAgent(OBS_SPACE, ACTIONS, hidden=(8,), n_steps=4)
    before = [w.numpy().copy() for w in agent.value_network.trainable_variables]
    tf.function(agent.fit_value_network)(tf.constant(OBS), tf.constant(np.ones(4, np.float32)), 0)
    for w, b in zip(agent.value_network.trainable_variables, before):
        np.testing.assert_array_equal(w.numpy(), b)


def test_compiled_step_traces_once():
    agent = ReinforceAgent(OBS_SPACE, ACTIONS, hidden=(8,))
    rng = np.random.default_rng(0)
    for n in (5, 17, 40):  # episodes of any total length share one graph
        agent._compiled_step(
            rng.normal(size=(n, 3)).astype(np.float32),
            np.zeros(n, np.int32),
            np.ones(n, np.float32),
        )
    assert agent._compiled_step.experimental_get_tracing_count() == 1


def test_fit_value_network_takes_exactly_steps_gradient_steps_in_one_traced_loop():
    targets = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    looped, by_hand = (ActorCriticAgent(OBS_SPACE, ACTIONS, hidden=(8,), seed=3) for _ in "ab")
    # traced as the agents' own steps are, without autograph
    fit = tf.function(tf.autograph.experimental.do_not_convert(looped.fit_value_network))
    fit(tf.constant(OBS), tf.constant(targets), 3)
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = value_loss(by_hand.value_network(OBS)[:, 0], targets)
        by_hand.apply_gradients(by_hand.value_optimizer, by_hand.value_network, tape, loss)
    for a, b in zip(looped.value_network.weights, by_hand.value_network.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_autograph_is_off_for_the_books_steps_and_on_when_a_subclass_asks():
    def step(obs, actions, returns):  # Python control flow on a tensor: needs autograph
        if tf.reduce_sum(returns) > 0:
            return {"sign": tf.constant(1.0)}
        return {"sign": tf.constant(-1.0)}

    batch = (OBS, TAKEN, np.ones(4, np.float32))
    agent = ReinforceAgent(OBS_SPACE, ACTIONS, hidden=(8,))
    assert agent.autograph is False
    with pytest.raises(TypeError, match="Tensor` as a Python `bool`"):
        agent.compile_step(step, batch_size=None)(*batch)

    class Converting(ReinforceAgent):
        autograph = True

    converting = Converting(OBS_SPACE, ACTIONS, hidden=(8,))
    assert float(converting.compile_step(step, batch_size=None)(*batch)["sign"]) == 1.0
