"""TensorBoard logs: the event files hold the scalars the docs promise (read with TensorBoard's
reader)."""

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator  # a dependency: never skipped
from tensorboard.util.tensor_util import make_ndarray

from rlbook.envs import make_env, make_vec_env
from rlbook.tblog import TensorBoardLogger
from rlbook.train import train


def read_scalars(logdir) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value)] of every scalar in ``logdir`` (tf.summary stores them as tensors)."""
    acc = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        assert acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars", tag
        out[tag] = [(e.step, float(make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
    return out


class Reporter:
    """Plays action 0 and reports a policy-gradient-like set of metrics every 4 steps."""

    epsilon = 0.25

    def __init__(self):
        self.t = 0

    def act(self, obs, greedy=False):
        return 0

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        self.t += 1
        return (
            {"policy_loss": 1.0 / self.t, "entropy": 0.5, "mean_v": 2.0}
            if self.t % 4 == 0
            else None
        )


def test_train_logdir_writes_episodes_agent_metrics_and_evaluations(tmp_path):
    history = train(
        Reporter(),
        make_env("CartPole-v1", seed=0),
        steps=60,
        eval_env=make_env("CartPole-v1", seed=1),
        eval_every=30,
        eval_episodes=2,
        logdir=tmp_path,
        progress=False,
    )
    scalars = read_scalars(tmp_path)
    assert set(scalars) == {
        "episode/return",
        "episode/length",
        "agent/policy_loss",
        "agent/entropy",
        "agent/mean_v",
        "agent/epsilon",
        "eval/mean_return",
        "eval/std_return",
    }
    assert scalars["episode/return"] == list(
        zip(history.episode_end_steps, history.episode_returns)
    )
    policy_loss = history.metrics["policy_loss"]
    assert [s for s, _ in scalars["agent/policy_loss"]] == [
        s for s, _ in policy_loss
    ]  # all of them, to the end
    np.testing.assert_allclose(
        [v for _, v in scalars["agent/policy_loss"]], [v for _, v in policy_loss], rtol=1e-6
    )
    assert [s for s, _ in scalars["eval/mean_return"]] == [30, 60]
    assert scalars["agent/epsilon"][0][1] == 0.25  # read from the agent: it does not report it


def test_logger_as_a_callback_and_context_manager(tmp_path):
    with TensorBoardLogger(tmp_path / "run") as logger:
        history = train(
            Reporter(), make_env("CartPole-v1", seed=0), episodes=2, callback=logger, progress=False
        )
        logger.close(history)
        logger.close()  # closing twice is harmless
    scalars = read_scalars(tmp_path / "run")
    assert len(scalars["episode/return"]) == 2
    with pytest.raises(RuntimeError, match="closed"):
        logger(history)


def test_real_agent_metrics_reach_tensorboard(tmp_path):
    from rlbook.agents.actor_critic import ActorCriticAgent
    from rlbook.agents.reinforce import ReinforceAgent

    # both policy-gradient agents report the same metric names
    for cls, kw in (
        (ActorCriticAgent, dict(n_steps=8, critic_steps=1)),
        (ReinforceAgent, dict(batch_episodes=2, baseline_steps=1)),
    ):
        env = make_vec_env("CartPole-v1", 2, seed=0)
        agent = cls(
            env.single_observation_space,
            env.single_action_space,
            num_envs=2,
            hidden=(8,),
            **kw,
        )
        train(agent, env, steps=200, logdir=tmp_path / cls.__name__, progress=False)
        tags = set(read_scalars(tmp_path / cls.__name__))
        assert {
            "agent/policy_loss",
            "agent/value_loss",
            "agent/entropy",
            "agent/mean_v",
            "episode/return",
        } <= tags
