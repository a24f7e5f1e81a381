"""REINFORCE, the Monte Carlo policy gradient (Williams, 1992), taught in chapter 6.

The agent in one paragraph: a network maps an observation to one *logit* per
action; the policy ``pi(a|s)`` is their softmax, and actions are *sampled* from it
(exploration comes from the policy's own randomness, no epsilon). When an episode
ends, its returns ``G_t`` are computed backwards; once ``batch_episodes`` episodes
are finished, one gradient step on

    L = -mean_t[(G_t - b(s_t)) log pi(a_t|s_t)]

makes the actions that were followed by a better-than-expected return more likely.
The baseline ``b`` is nothing (``baseline=None``) or a second network's estimate
``V(s_t)`` of the return, regressed on ``G_t`` for ``baseline_steps`` gradient steps
per batch (``baseline="value"``): it does not change the gradient's expectation but
shrinks its variance.

With ``num_envs=1`` and ``batch_episodes=1`` this is the textbook algorithm (one
update per episode). With a vector environment, copies whose episode is still
running when an update happens keep their earlier steps, so a small part of a batch
comes from the policy one update older (a small bias, traded for never wasting steps).

The training call, :meth:`ReinforceAgent.update`, computes the returns; the learning
step, :meth:`ReinforceAgent.learn`, reads as the algorithm: the baseline, the
policy-gradient step, the baseline's fit. What the agent shares with the actor-critic
(networks, acting, the value fit, checkpoints) is in :mod:`rlbook.agents.policy_gradient`.
"""

from __future__ import annotations

import numpy as np

from rlbook._validate import agent_config, config
from rlbook.agents.policy_gradient import PolicyGradientAgent, check_policy_spaces

__all__ = ["ReinforceConfig", "ReinforceAgent", "check_policy_spaces"]

BASELINES = (None, "value")


@config
class ReinforceConfig:
    """Hyperparameters of REINFORCE. The defaults solve CartPole-v1 (chapter 6)."""

    hidden: tuple[int, ...] = (64,)
    """Units of the hidden Dense layers of the policy (and of the baseline network)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    lr: float = 0.01
    """Adam learning rate of the policy."""
    baseline: str | None = "value"
    """None (weight each step by its return G_t) or "value" (by G_t - V(s_t), with V learned)."""  # noqa: E501 (one line: --help prints it as is)
    baseline_lr: float = 0.01
    """Adam learning rate of the value baseline (baseline="value")."""
    baseline_steps: int = 20
    """Gradient steps of the value baseline on each batch (its regression needs more than one)."""
    normalize: bool = False
    """Scale each batch's weights G_t - b(s_t) to mean 0 and standard deviation 1."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus (>= 0): higher keeps the policy exploring longer."""
    batch_episodes: int = 8
    """Finished episodes per gradient step."""
    seed: int | None = 0
    """Seed of the network weights and of the action sampling."""

    def __post_init__(self):
        from rlbook._validate import check_config, one_of

        check_config(self, baseline=one_of(*(b for b in BASELINES if b is not None)))


class _EpisodeCollector:
    """The running episode of each environment copy, in preallocated time-major arrays.

    Row ``t`` holds step ``t`` of every copy; copy ``i``'s running episode is rows
    ``start[i] .. t - 1`` of column ``i``. Rows no episode needs any more are dropped
    by moving the rest to the front; the arrays double when one episode fills them.
    """

    def __init__(self, num_envs: int, obs_dim: int, capacity: int = 1024):
        self.obs = np.zeros((capacity, num_envs, obs_dim), np.float32)
        self.action = np.zeros((capacity, num_envs), np.int32)
        self.reward = np.zeros((capacity, num_envs), np.float32)
        self.start = np.zeros(num_envs, np.int64)
        self.t = 0

    def add(self, obs, action, reward) -> None:
        if self.t == len(self.obs):
            self._make_room()
        self.obs[self.t], self.action[self.t], self.reward[self.t] = obs, action, reward
        self.t += 1

    def pop_episode(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copy ``i``'s finished episode: obs ``(L, d)``, actions ``(L,)``, rewards ``(L,)``."""
        rows = slice(self.start[i], self.t)
        self.start[i] = self.t
        return self.obs[rows, i].copy(), self.action[rows, i].copy(), self.reward[rows, i].copy()

    def _make_room(self) -> None:
        shift = int(self.start.min())
        if shift == 0:  # one episode spans the whole array: double it
            grow = lambda a: np.concatenate([a, np.zeros_like(a)])  # noqa: E731
            self.obs, self.action, self.reward = map(grow, (self.obs, self.action, self.reward))
            return
        for a in (self.obs, self.action, self.reward):
            a[: self.t - shift] = a[shift : self.t]
        self.start -= shift
        self.t -= shift


class ReinforceAgent(PolicyGradientAgent):
    """REINFORCE with an optional learned baseline, for Discrete actions and flat observations.

    ``ReinforceAgent(observation_space, action_space, config=None, num_envs=1, **overrides)``:
    a ``Box`` of shape ``(d,)``, a ``Discrete`` space, a :class:`ReinforceConfig` (keyword
    arguments override single fields) and the number of environment copies stepped together.
    """

    title = "REINFORCE"
    algorithm = "reinforce"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = ReinforceConfig

    def __init__(
        self,
        observation_space,
        action_space,
        config: ReinforceConfig | None = None,
        num_envs: int = 1,
        **overrides,
    ):
        config = agent_config(ReinforceConfig, config, overrides, "ReinforceAgent")
        super().__init__(
            observation_space,
            action_space,
            config,
            num_envs,
            value_lr=config.baseline_lr if config.baseline == "value" else None,
        )
        self._collector = _EpisodeCollector(num_envs, self.obs_dim)
        # Finished episodes not learned from yet: (obs, actions, rewards, terminated, last_obs).
        self._episodes: list[tuple] = []
        # Batches of any total length run the same compiled graph (traced once).
        self._compiled_step = self.compile_step(self.learn, batch_size=None)

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Record the step(s); once ``batch_episodes`` episodes have ended, learn from them."""
        n = self.num_envs
        self._collector.add(
            np.reshape(obs, (n, self.obs_dim)), np.reshape(action, (n,)), np.reshape(reward, (n,))
        )
        self.env_steps += n
        terminated, truncated = np.reshape(terminated, (n,)), np.reshape(truncated, (n,))
        next_obs = np.reshape(next_obs, (n, self.obs_dim))
        for i in np.flatnonzero(terminated | truncated):
            self._episodes.append((*self._collector.pop_episode(i), terminated[i], next_obs[i]))
        if len(self._episodes) < self.config.batch_episodes:
            return None
        return self.update()

    # fmt: off
    def update(self) -> dict[str, float]:
        """One training call: the returns, then :meth:`learn` on the episodes
        finished so far (then forget them)."""
        from rlbook.losses import discounted_returns

        obs, actions, rewards, terminated, last_obs = zip(*self._episodes)
        self._episodes.clear()
        # 2.2 The returns G_t of each episode, computed backwards. A time
        #     limit is not a failure: with a value network, what follows the
        #     last step is worth V(s_T) (0 only if the episode terminated);
        #     without one, the return stops.
        last_v = np.zeros(len(obs))
        if self.value_network is not None:
            last_v = self.values(np.stack(last_obs))
        returns = [discounted_returns(r, np.zeros_like(r), self.config.gamma,
                                      bootstrap=0.0 if ended else v)
                   for r, ended, v in zip(rewards, terminated, last_v)]
        # 2.3-2.5 The baseline, the policy-gradient step, the baseline's fit:
        #         one call.
        obs, actions, returns = (
            np.concatenate(x) for x in (obs, actions, returns)
        )
        metrics = self._compiled_step(obs, actions, returns)
        # acting (and the next bootstrap values) use the new weights
        self.sync()
        self.updates += 1
        metrics = {name: float(value) for name, value in metrics.items()}
        return {"batch_steps": float(len(returns)), **metrics}

    def learn(self, obs, actions, returns):
        """Baseline, policy-gradient step, baseline fit on ``N`` steps
        (compiled).

        Args:
            obs: ``(N, d)``; actions: ``(N,)`` integers; returns: ``G_t``,
                ``(N,)``.

        Returns:
            The metrics: ``policy_loss``, ``entropy`` and, with a baseline,
            ``value_loss`` (its error on this batch before the fit) and
            ``mean_v``.
        """
        import tensorflow as tf

        from rlbook.losses import entropy, reinforce_loss, value_loss

        c, metrics, baseline = self.config, {}, None
        if self.value_network is not None:
            # 2.3 The baseline b(s_t) = V(s_t) before this batch, one per
            #     step: (N,).
            baseline = self.value_network(obs)[:, 0]
            metrics = {
                "value_loss": value_loss(baseline, returns),  # before the fit
                "mean_v": tf.reduce_mean(baseline),
            }
        # 2.4 The policy-gradient step on
        #     L = -mean[(G_t - b(s_t)) log pi(a_t|s_t)] - c_H mean H,
        #     the weight G_t - b(s_t) held fixed inside reinforce_loss.
        with tf.GradientTape() as tape:
            logits = self.policy(obs)
            loss = reinforce_loss(logits, actions, returns, baseline,
                                  c.entropy_coef, c.normalize)
        self.apply_gradients(self.policy_optimizer, self.policy, tape, loss)
        # 2.5 The baseline's fit: baseline_steps steps regressing V(s_t) on
        #     G_t.
        if self.value_network is not None:
            self.fit_value_network(obs, returns, c.baseline_steps)
        entropy_mean = tf.reduce_mean(entropy(logits))
        return {"policy_loss": loss, "entropy": entropy_mean, **metrics}
    # fmt: on

    def reset_rollout(self) -> None:
        """Forget the running and finished episodes (a restored agent starts new ones)."""
        self._collector = _EpisodeCollector(self.num_envs, self.obs_dim)
        self._episodes.clear()
