"""REINFORCE, the Monte Carlo policy gradient (Williams, 1992), taught in chapter 6.

The agent in one paragraph: a network maps an observation to one *logit* per
action; the policy ``pi(a|s)`` is their softmax, and actions are *sampled* from it
(exploration comes from the policy's own randomness, no epsilon). When an episode
ends, its returns ``G_t`` are computed backwards; once ``batch_episodes`` episodes
are finished, one gradient step on

    L = -mean_t[(G_t - b(s_t)) log pi(a_t|s_t)]

makes the actions that were followed by a better-than-expected return more likely.
The baseline ``b`` is nothing (``baseline=None``) or a second network's estimate
``V(s_t)`` of the return, regressed on ``G_t`` for ``critic_steps`` gradient steps
per batch (``baseline="value"``): it does not change the gradient's expectation but
shrinks its variance.

With ``num_envs=1`` and ``batch_episodes=1`` this is the textbook algorithm (one
update per episode). With a vector environment, copies whose episode is still
running when an update happens keep their earlier steps, so a small part of a batch
comes from the policy one update older (a small bias, traded for never wasting steps).

Speed (see DESIGN.md): acting uses NumPy copies of the networks, and the training
step is one ``tf.function`` whose input signature has a ``None`` batch dimension, so
batches of any length run the same compiled graph (no retracing).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import non_negative_int, positive, unit_interval, with_overrides

__all__ = ["ReinforceConfig", "ReinforceAgent", "check_policy_spaces"]

BASELINES = (None, "value")


@dataclass(frozen=True)
class ReinforceConfig:
    """Hyperparameters of REINFORCE. The defaults solve CartPole-v1 (chapter 6)."""

    hidden: tuple[int, ...] = (64,)
    """Units of the hidden Dense layers of the policy (and of the baseline network)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    lr: float = 0.01
    """Adam learning rate of the policy."""
    baseline: str | None = "value"
    """``None`` (weight each step by its return G_t) or ``"value"`` (by G_t - V(s_t), with V learned)."""
    critic_lr: float = 0.01
    """Adam learning rate of the value baseline (``baseline="value"``)."""
    critic_steps: int = 20
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


def check_policy_spaces(observation_space, action_space, algo: str) -> None:
    """Reject spaces a softmax policy over flat observations cannot handle (chapters 6-7)."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(
            f"{algo} needs a Discrete action space (its policy is a softmax over actions), got {action_space!r}; "
            "a continuous (Box) action space needs a Gaussian policy (a mean and a standard deviation per action "
            "dimension), which chapters 6-7 do not build: see Sutton & Barto (2018), section 13.7"
        )
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise TypeError(
            f"{algo} needs flat Box observations of shape (d,), got {observation_space!r}; wrap the environment "
            "in gymnasium.wrappers.FlattenObservation (it one-hot encodes Discrete observations and flattens images)"
        )


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
            self.obs, self.action, self.reward = grow(self.obs), grow(self.action), grow(self.reward)
            return
        for a in (self.obs, self.action, self.reward):
            a[: self.t - shift] = a[shift: self.t]
        self.start -= shift
        self.t -= shift


class ReinforceAgent(ck.Checkpointable):
    """REINFORCE with an optional learned baseline, for Discrete actions and flat observations.

    Args:
        observation_space: a ``Box`` of shape ``(d,)``.
        action_space: a ``Discrete`` space.
        config: :class:`ReinforceConfig`; keyword arguments override single fields.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).
    """

    def __init__(self, observation_space, action_space, config: ReinforceConfig | None = None, num_envs: int = 1,
                 **overrides):
        import tensorflow as tf

        from rlbook.nets import mlp
        from rlbook.speed import NumpyMLP

        config = with_overrides(config or ReinforceConfig(), overrides)
        check_policy_spaces(observation_space, action_space, "REINFORCE")
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.n_actions, self.obs_dim = int(action_space.n), int(observation_space.shape[0])
        self.rng = np.random.default_rng(config.seed)
        seed = config.seed
        self.policy = mlp(self.obs_dim, config.hidden, self.n_actions, name="policy", seed=seed)
        self.optimizer = tf.keras.optimizers.Adam(config.lr)
        self.optimizer.build(self.policy.trainable_variables)  # slots made now, not while tracing
        self.critic = self.critic_optimizer = self._numpy_v = None
        if config.baseline == "value":
            self.critic = mlp(self.obs_dim, config.hidden, 1, name="value", seed=None if seed is None else seed + 100)
            self.critic_optimizer = tf.keras.optimizers.Adam(config.critic_lr)
            self.critic_optimizer.build(self.critic.trainable_variables)
            self._numpy_v = NumpyMLP(self.critic)
        self._numpy_pi = NumpyMLP(self.policy)
        self._collector = _EpisodeCollector(num_envs, self.obs_dim)
        self._batch: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.updates = 0
        self._train = self._build_train_step(tf)

    # -- the compiled training step ---------------------------------------------------
    def _build_train_step(self, tf):
        from rlbook.losses import entropy, reinforce_loss

        c = self.config
        policy, critic, optimizer, critic_optimizer = self.policy, self.critic, self.optimizer, self.critic_optimizer

        def critic_step(i, obs, returns):
            # Regress V(s_t) on G_t: L_V = mean((G_t - V(s_t))^2).
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(returns - critic(obs, training=False)[:, 0]))
            critic_optimizer.apply_gradients(zip(tape.gradient(loss, critic.trainable_variables),
                                                 critic.trainable_variables))
            return i + 1, obs, returns

        # None batch dimension: episodes of any total length share one compiled graph (traced once).
        # autograph=False: nothing needs converting (the loop is an explicit tf.while_loop), which
        # makes the trace cheaper.
        @tf.function(input_signature=[tf.TensorSpec((None, self.obs_dim), tf.float32),
                                      tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None,), tf.float32)],
                     autograph=False)
        def train_step(obs, actions, returns):
            critic_loss = mean_v = tf.constant(0.0)
            baseline = None
            if critic is not None:
                baseline = critic(obs, training=False)[:, 0]  # V(s_t) before this batch, shape (N,): one per step
                critic_loss = tf.reduce_mean(tf.square(returns - baseline))  # reported: the error before fitting
                mean_v = tf.reduce_mean(baseline)
                tf.while_loop(lambda i, *_: i < c.critic_steps, critic_step, [tf.constant(0), obs, returns])
            with tf.GradientTape() as tape:
                logits = policy(obs, training=False)
                # L = -mean[(G_t - b(s_t)) log pi(a_t|s_t)] - c_H mean H, the weight held fixed
                loss = reinforce_loss(logits, actions, returns, baseline, c.entropy_coef, c.normalize)
            grads = tape.gradient(loss, policy.trainable_variables)
            optimizer.apply_gradients(zip(grads, policy.trainable_variables))
            # Returning the new weights is cheaper than reading the variables afterwards.
            weights = [tf.identity(v) for v in policy.trainable_variables]
            critic_weights = [] if critic is None else [tf.identity(v) for v in critic.trainable_variables]
            # For the logs: the policy's mean entropy and the baseline's mean V(s), both before the step.
            stats = {"critic_loss": critic_loss, "entropy": tf.reduce_mean(entropy(logits)), "mean_v": mean_v}
            return loss, stats, weights, critic_weights

        return train_step

    # -- acting -----------------------------------------------------------------------------
    def logits(self, obs) -> np.ndarray:
        """The policy's logits for a batch of observations, ``(B, A)`` (NumPy)."""
        return self._numpy_pi(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))

    def probs(self, obs) -> np.ndarray:
        """``pi(.|s)`` for a batch of observations, ``(B, A)``."""
        from rlbook.nets import softmax

        return softmax(self.logits(obs).astype(np.float64))

    def values(self, obs) -> np.ndarray:
        """The baseline's ``V(s)`` for a batch of observations, ``(B,)`` (needs ``baseline="value"``)."""
        if self._numpy_v is None:
            raise ValueError("values() needs a learned baseline: create the agent with baseline='value'")
        return self._numpy_v(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))[:, 0]

    def act(self, obs, greedy: bool = False):
        """Sample ``a ~ pi(.|s)`` (the most likely action when ``greedy``): an int, or an array for a batch."""
        from rlbook.nets import sample_categorical

        obs = np.asarray(obs, np.float32)
        batched = obs.ndim == 2
        logits = self._numpy_pi(obs if batched else obs[None])
        actions = logits.argmax(axis=1) if greedy else sample_categorical(logits, self.rng)
        return actions if batched else int(actions[0])

    # -- learning ---------------------------------------------------------------------------
    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Record the step(s); at each episode end compute its returns; train once the batch is full."""
        n = self.num_envs
        self._collector.add(np.reshape(obs, (n, self.obs_dim)), np.reshape(action, (n,)), np.reshape(reward, (n,)))
        terminated, truncated = np.reshape(terminated, (n,)), np.reshape(truncated, (n,))
        for i in np.flatnonzero(terminated | truncated):
            ep_obs, ep_actions, ep_rewards = self._collector.pop_episode(i)
            self._batch.append((ep_obs, ep_actions, self._returns(ep_rewards, terminated[i], np.reshape(next_obs, (n, -1))[i])))
        if len(self._batch) < self.config.batch_episodes:
            return None
        return self.train_step()

    def _returns(self, rewards: np.ndarray, terminated: bool, last_obs: np.ndarray) -> np.ndarray:
        from rlbook.losses import discounted_returns

        # A time-limit truncation is not a failure: with a learned V, the steps beyond
        # the limit are worth V(s_T) (zero only when the episode really terminated).
        # Without a baseline there is no estimate, and the truncated return is used as is.
        last_value = 0.0 if terminated or self._numpy_v is None else float(self.values(last_obs)[0])
        return discounted_returns(rewards, np.zeros_like(rewards), self.config.gamma, bootstrap=last_value)

    def train_step(self) -> dict[str, float]:
        """One gradient step on the finished episodes collected so far (then forget them)."""
        obs, actions, returns = (np.concatenate(parts) for parts in zip(*self._batch))
        self._batch.clear()
        loss, stats, weights, critic_weights = self._train(obs, actions, returns)
        self._numpy_pi.sync()  # acting now uses the new weights
        if self._numpy_v is not None:
            self._numpy_v.sync()
        self.updates += 1
        info = {"loss": float(loss), "batch_steps": float(len(returns)), "entropy": float(stats["entropy"])}
        if self.critic is not None:
            info.update(critic_loss=float(stats["critic_loss"]), mean_v=float(stats["mean_v"]))
        return info

    # -- checkpoints (see rlbook.checkpoint) ------------------------------------------------
    def _checkpoint(self, replay: bool = True):
        spec = {"observation_space": ck.box_spec((self.obs_dim,), np.float32), "n_actions": self.n_actions,
                "num_envs": self.num_envs, "baseline": self.config.baseline}
        arrays = {**ck.model_arrays("weights.policy", self.policy), **ck.optimizer_arrays("optimizer.policy", self.optimizer)}
        if self.critic is not None:
            arrays.update({**ck.model_arrays("weights.value", self.critic),
                           **ck.optimizer_arrays("optimizer.value", self.critic_optimizer)})
        return spec, {"updates": self.updates, "rng": ck.rng_state(self.rng)}, arrays

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        ck.set_model("weights.policy", self.policy, arrays)
        ck.set_optimizer("optimizer.policy", self.optimizer, arrays)
        self._numpy_pi.sync()
        if self.critic is not None:
            ck.set_model("weights.value", self.critic, arrays)
            ck.set_optimizer("optimizer.value", self.critic_optimizer, arrays)
            self._numpy_v.sync()
        self.updates = int(counters["updates"])
        ck.set_rng_state(self.rng, counters["rng"])
        self._collector = _EpisodeCollector(self.num_envs, self.obs_dim)  # running episodes start afresh
        self._batch.clear()
