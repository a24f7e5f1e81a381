"""Soft actor-critic, SAC (Haarnoja et al., 2018), for continuous actions (issue 21).

DQN (chapter 3) picks ``argmax_a Q(s, a)``, which needs one output per action: with a
continuous action, such as Pendulum's torque in [-2, 2], there is no list to take the
maximum over. SAC keeps DQN's replay buffer and target networks, and adds an *actor*
that proposes actions: a Gaussian over ``u`` squashed by ``tanh`` into (-1, 1), then
rescaled to the action space's bounds. The critics learn ``Q(s, a)`` from replayed
transitions; the actor learns to pick actions the critics value highly, while staying
as random as a temperature ``alpha`` pays it to be (the "soft", maximum-entropy
objective), and ``alpha`` itself is tuned so that the policy's entropy stays near a
target. Two critics, and the smaller of their estimates in every target, keep the actor
from exploiting one critic's overestimates (clipped double Q, Fujimoto et al., 2018).

The algorithm, with the step numbers of the code's comments::

    1. Initialise the actor pi_theta, the critics Q_1, Q_2 and their target copies
       Q_targ_i <- Q_i, log alpha, and an empty replay buffer.
    2. Repeat for every environment step:
       2.1 Act: a = tanh(u), u ~ N(mu_theta(s), sigma_theta(s)^2), rescaled to the
           bounds (uniformly random actions for the first learning_starts steps);
           store (s, a, r, s', terminated).                        (act, observe)
       2.2 Every train_every steps, take gradient_steps steps, each on a fresh
           minibatch of B transitions:                                   (update)
           2.2.1 the target, held fixed, with a' ~ pi_theta(.|s'):         (learn)
                 y = r + gamma (1 - terminated)
                     (min_i Q_targ_i(s', a') - alpha log pi_theta(a'|s'));
           2.2.2 critic step on sum_i mean (y - Q_i(s, a))^2;
           2.2.3 actor step on mean(alpha log pi_theta(a~|s) - min_i Q_i(s, a~)),
                 a~ = tanh(mu_theta(s) + sigma_theta(s) eps) sampled anew, so the
                 gradient flows through a~ (the reparameterisation trick);
           2.2.4 temperature step on -mean(log alpha (log pi_theta(a~|s) + H_target));
           2.2.5 Q_targ_i <- tau Q_i + (1 - tau) Q_targ_i.

Every loss is a function of :mod:`rlbook.losses` (``sac_critic_target``,
``value_loss``, ``sac_actor_loss``, ``sac_temperature_loss``,
``squashed_gaussian_log_prob``); :meth:`SACAgent.learn` composes them. The speed devices
are DQN's: a NumPy copy of the actor acts (:class:`rlbook.speed.NumpyMLP`), and one
compiled call takes all the gradient steps of a training call (:func:`rlbook.speed.repeat`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import Rule, agent_config, config, observations, positive, show_space
from rlbook.replay import ReplayBuffer
from rlbook.speed import NumpyMLP, repeat

__all__ = ["SACAgent", "SACConfig"]

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
"""The actor's log standard deviation is clipped to this range (sigma from 2e-9 to 7.4)."""


@config
class SACConfig:
    """Hyperparameters of SAC. The defaults solve Pendulum-v1 (a greedy mean of -200 or better)
    within a few thousand steps."""

    hidden: tuple[int, ...] = (64, 64)
    """Units of the hidden ReLU layers of the actor and of each critic."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    lr: float = 1e-3
    """Adam learning rate of the actor, the critics and the temperature."""
    batch_size: int = 128
    """Transitions per minibatch."""
    buffer_size: int = 100_000
    """Transitions kept in the replay buffer."""
    learning_starts: int = 500
    """Environment steps of uniformly random actions before the first gradient step."""
    train_every: int = 8
    """Environment steps between training calls."""
    gradient_steps: int = 8
    """Gradient steps per training call, each on a fresh minibatch (one compiled call does them all)."""  # noqa: E501 (one line: --help prints it as is)
    tau: float = 0.005
    """Target update rate in (0, 1]: target <- tau * critic + (1 - tau) * target, every gradient step."""  # noqa: E501 (one line: --help prints it as is)
    alpha: float = 1.0
    """The temperature alpha at the start (the weight of the entropy bonus)."""
    autotune: bool = True
    """Learn alpha so the policy's entropy approaches target_entropy; --no-autotune keeps it fixed."""  # noqa: E501 (one line: --help prints it as is)
    target_entropy: float | None = None
    """The entropy the temperature aims at (None: minus the number of action dimensions)."""
    seed: int | None = 0
    """Seed of the network weights, the exploration noise and replay sampling."""

    def __post_init__(self):
        from rlbook._validate import check_config

        check_config(self, target_entropy=Rule(float, lambda v: True, "a finite number"))
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) must not exceed buffer_size ({self.buffer_size})"
            )


def check_sac_spaces(observation_space, action_space) -> None:
    """Reject spaces SAC cannot handle: it needs a bounded ``Box`` of actions, flat observations."""
    if not isinstance(action_space, gym.spaces.Box):
        raise TypeError(
            f"SAC needs a continuous Box action space (its actor outputs a Gaussian per action "
            f"dimension), got action_space={show_space(action_space)}; for Discrete actions use "
            "DQN or PPO"
        )
    if (
        action_space.shape[:1] == (0,)
        or len(action_space.shape) != 1
        or not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all())
    ):
        raise ValueError(
            f"SAC needs a Box action space of shape (A,) with finite bounds (tanh squashes "
            f"actions into them), got action_space={show_space(action_space)}"
        )
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise TypeError(
            f"SAC needs flat Box observations of shape (d,), got {show_space(observation_space)}; "
            "wrap the environment in gymnasium.wrappers.FlattenObservation"
        )


class SACAgent(ck.Checkpointable):
    """Soft actor-critic with twin critics, target critics and a learned temperature.

    Args:
        observation_space: a ``Box`` of shape ``(d,)``.
        action_space: a ``Box`` of shape ``(A,)`` with finite bounds.
        config: :class:`SACConfig`; keyword arguments override single fields.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).

    Attributes: ``actor`` (a Keras model: observations -> ``2A`` numbers, the mean and
    log standard deviation of ``u``), ``critic1``, ``critic2`` and their copies
    ``target1``, ``target2`` (``(s, a) -> Q``, actions in [-1, 1] before rescaling),
    ``log_alpha`` (a ``tf.Variable``), ``buffer``, and the counters ``env_steps``,
    ``updates`` and ``gradient_steps_done``.
    """

    algorithm = "sac"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = SACConfig

    def __init__(
        self,
        observation_space,
        action_space,
        config: SACConfig | None = None,
        num_envs: int = 1,
        **overrides,
    ):
        import tensorflow as tf

        from rlbook.nets import mlp

        config = agent_config(SACConfig, config, overrides, "SACAgent")
        check_sac_spaces(observation_space, action_space)
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.obs_dim = int(observation_space.shape[0])
        self.action_dim = int(action_space.shape[0])
        self.low = action_space.low.astype(np.float32)
        self.high = action_space.high.astype(np.float32)
        self.target_entropy = (
            -float(self.action_dim) if config.target_entropy is None else config.target_entropy
        )
        seed = config.seed
        if seed is not None:
            tf.random.set_seed(seed)
        self.rng = np.random.default_rng(seed)  # acting and replay sampling
        self.noise = (  # the learning step's samples of the policy
            tf.random.Generator.from_seed(seed)
            if seed is not None
            else tf.random.Generator.from_non_deterministic_state()
        )

        # 1. The actor (mean and log sigma of u per action dimension), two critics of
        #    (s, a), their target copies, and the temperature.
        def net(name, inputs, outputs, offset):
            return mlp(inputs, config.hidden, outputs, name=name,
                       seed=None if seed is None else seed + offset)  # fmt: skip

        critic_inputs = self.obs_dim + self.action_dim
        self.actor = net("actor", self.obs_dim, 2 * self.action_dim, 0)
        self.critic1 = net("critic1", critic_inputs, 1, 100)
        self.critic2 = net("critic2", critic_inputs, 1, 200)
        self.target1 = net("target1", critic_inputs, 1, 100)
        self.target2 = net("target2", critic_inputs, 1, 200)
        self.target1.set_weights(self.critic1.get_weights())
        self.target2.set_weights(self.critic2.get_weights())
        self.log_alpha = tf.Variable(np.log(config.alpha), dtype=tf.float32, name="log_alpha")
        self.critic_variables = self.critic1.trainable_variables + self.critic2.trainable_variables

        def adam(variables):
            optimizer = tf.keras.optimizers.Adam(config.lr)
            optimizer.build(variables)  # slots made now, not while tracing
            return optimizer

        self.actor_optimizer = adam(self.actor.trainable_variables)
        self.critic_optimizer = adam(self.critic_variables)
        self.alpha_optimizer = adam([self.log_alpha])
        self.buffer = ReplayBuffer(
            config.buffer_size, (self.obs_dim,), num_envs,
            action_shape=(self.action_dim,), action_dtype=np.float32,
        )  # fmt: skip
        self.env_steps = 0
        """Environment steps observed (``num_envs`` per call of ``observe``)."""
        self.updates = 0
        """Training calls made (``update()``, ``gradient_steps`` learning steps each)."""
        self.gradient_steps_done = tf.Variable(0, dtype=tf.int64, trainable=False)

        # Speed devices (rlbook.speed); neither changes what is computed.
        # One compiled call runs `learn` on all the minibatches of a training call.
        # `learn` has no tensor-dependent control flow, so autograph need not rewrite
        # it: tracing the call then takes about 2 s of CPU instead of 3.3 (measured).
        self._learn_many = repeat(
            tf.autograph.experimental.do_not_convert(self.learn), config.gradient_steps
        )
        # The actor acts through a NumPy copy of itself (microseconds per batch).
        self._numpy_actor = NumpyMLP(self.actor)

    # -- the policy ----------------------------------------------------------------------
    def mean_and_log_std(self, obs):
        """The actor's ``mu(s)`` and ``log sigma(s)`` (clipped), ``(B, A)`` each (tensors)."""
        import tensorflow as tf

        out = self.actor(obs, training=False)
        mean, log_std = out[:, : self.action_dim], out[:, self.action_dim :]
        return mean, tf.clip_by_value(log_std, LOG_STD_MIN, LOG_STD_MAX)

    def sample_action(self, obs):
        """``a = tanh(mu(s) + sigma(s) eps)``, ``eps ~ N(0, I)``, in [-1, 1], and its
        ``log pi(a|s)``: ``(B, A)`` and ``(B,)``. Differentiable in the actor's weights."""
        import tensorflow as tf

        from rlbook.losses import squashed_gaussian_log_prob

        mean, log_std = self.mean_and_log_std(obs)
        u = mean + tf.exp(log_std) * self.noise.normal(tf.shape(mean))
        return tf.tanh(u), squashed_gaussian_log_prob(mean, log_std, u)

    def q_of(self, critic, obs, action):
        """``Q(s, a)`` of a critic, ``(B,)``, for actions in [-1, 1] ``(B, A)`` (tensors)."""
        import tensorflow as tf

        return critic(tf.concat([obs, action], axis=-1), training=False)[:, 0]

    # -- the algorithm -------------------------------------------------------------------
    # fmt: off
    def learn(self, obs, action, reward, next_obs, terminated):
        """One gradient step of SAC's critics, actor and temperature on a
        minibatch.

        Args:
            obs, next_obs: ``(B, d)``.
            action: ``(B, A)``, in [-1, 1] (before rescaling to the bounds).
            reward, terminated: ``(B,)``.

        Returns:
            ``critic_loss``, ``actor_loss``, ``alpha``, ``entropy`` (the mean
            of ``-log pi`` of the actor's samples) and ``mean_q``: scalars.
        """
        import tensorflow as tf

        from rlbook.losses import (
            sac_actor_loss,
            sac_temperature_loss,
            value_loss,
        )

        c = self.config
        alpha = tf.exp(self.log_alpha)
        # 2.2.1 The soft target y, held fixed (soft_target).
        y = self.soft_target(reward, next_obs, terminated, alpha)
        # 2.2.2 Both critics regress on the same y.
        with tf.GradientTape() as tape:
            q1 = self.q_of(self.critic1, obs, action)
            q2 = self.q_of(self.critic2, obs, action)
            critic_loss = value_loss(q1, y) + value_loss(q2, y)
        self.step(self.critic_optimizer, self.critic_variables, tape,
                  critic_loss)
        # 2.2.3 The actor: a new sample a~ whose gradient flows back through
        #       the critics' Q(s, a~) (only the actor's weights move).
        with tf.GradientTape() as tape:
            new_action, log_prob = self.sample_action(obs)
            actor_loss = sac_actor_loss(
                self.q_of(self.critic1, obs, new_action),
                self.q_of(self.critic2, obs, new_action), log_prob, alpha)
        self.step(self.actor_optimizer, self.actor.trainable_variables, tape,
                  actor_loss)
        # 2.2.4 The temperature: alpha rises while the policy's entropy
        #       -mean(log pi) is below the target, falls while above.
        if c.autotune:
            with tf.GradientTape() as tape:
                alpha_loss = sac_temperature_loss(
                    self.log_alpha, log_prob, self.target_entropy)
            self.step(self.alpha_optimizer, [self.log_alpha], tape,
                      alpha_loss)
        # 2.2.5 The target critics trail the critics:
        #       theta_targ <- tau theta + (1 - tau) theta_targ.
        for critic, target in ((self.critic1, self.target1),
                               (self.critic2, self.target2)):
            for var, target_var in zip(critic.variables, target.variables):
                target_var.assign(c.tau * var + (1.0 - c.tau) * target_var)
        self.gradient_steps_done.assign_add(1)
        return {"critic_loss": critic_loss, "actor_loss": actor_loss,
                "alpha": alpha, "entropy": -tf.reduce_mean(log_prob),
                "mean_q": tf.reduce_mean(tf.minimum(q1, q2))}

    def soft_target(self, reward, next_obs, terminated, alpha):
        """Step 2.2.1: the critics' target from the target critics and a
        fresh sample ``a' ~ pi(.|s')`` of the current policy, ``(B,)``.

        ``y = r + gamma (1 - terminated) (min_i Q_targ_i(s', a')
        - alpha log pi(a'|s'))``
        """
        from rlbook.losses import sac_critic_target

        next_action, next_log_prob = self.sample_action(next_obs)
        return sac_critic_target(
            reward, self.q_of(self.target1, next_obs, next_action),
            self.q_of(self.target2, next_obs, next_action),
            next_log_prob, terminated, self.config.gamma, alpha)
    # fmt: on

    @staticmethod
    def step(optimizer, variables, tape, loss) -> None:
        """One optimizer step of ``variables`` down the gradient of ``loss``."""
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Store the transition(s); every ``train_every`` environment steps after
        ``learning_starts``, make a training call, whose metrics it returns."""
        # 2.1 The critics see actions in [-1, 1], as the actor makes them. A truncated
        #     transition is stored with terminated = 0: it bootstraps.
        self.buffer.add(obs, self.to_unit(action), reward, next_obs, terminated, truncated)
        before, self.env_steps = self.env_steps, self.env_steps + self.num_envs
        c = self.config
        if (
            self.env_steps < c.learning_starts
            or len(self.buffer) < c.batch_size
            or self.env_steps // c.train_every == before // c.train_every
        ):
            return None
        return self.update()

    def update(self) -> dict[str, float]:
        """One training call: :meth:`learn` on ``gradient_steps`` fresh minibatches."""
        c = self.config
        # 2.2 gradient_steps minibatches, stacked: (gradient_steps, batch_size, ...).
        b = self.buffer.sample(c.batch_size, self.rng, num_batches=c.gradient_steps)
        metrics = self._learn_many(
            b["obs"], b["action"], b["reward"], b["next_obs"], b["terminated"]
        )
        self._numpy_actor.sync()  # act with the new weights
        self.updates += 1
        return {name: float(value) for name, value in metrics.items()}

    # -- acting ----------------------------------------------------------------------------
    @property
    def alpha(self) -> float:
        """The current temperature."""
        return float(np.exp(self.log_alpha.numpy()))

    def to_unit(self, action) -> np.ndarray:
        """Actions in the space's bounds mapped to [-1, 1] (the inverse of :meth:`to_bounds`)."""
        action = np.asarray(action, np.float32)
        unit = 2.0 * (action - self.low) / (self.high - self.low) - 1.0
        return np.clip(unit, -1.0, 1.0)

    def to_bounds(self, unit) -> np.ndarray:
        """Actions in [-1, 1] rescaled to the space's bounds: ``low + (a + 1) (high - low) / 2``."""
        return self.low + (np.asarray(unit, np.float32) + 1.0) * 0.5 * (self.high - self.low)

    def act(self, obs, greedy: bool = False) -> np.ndarray:
        """An action ``(A,)`` for one observation, ``(B, A)`` for a batch, within the bounds.

        Training samples ``tanh(u)``, ``u ~ N(mu(s), sigma(s)^2)`` (the policy's own
        randomness is the exploration), or uniformly random actions before
        ``learning_starts``; ``greedy=True`` takes the mean, ``tanh(mu(s))``.
        """
        obs, batched = observations(obs, (self.obs_dim,), "SACAgent")
        if not greedy and self.env_steps < self.config.learning_starts:
            unit = self.rng.uniform(-1.0, 1.0, (len(obs), self.action_dim))
        else:
            out = self._numpy_actor(obs)
            mean = out[:, : self.action_dim]
            if greedy:
                unit = np.tanh(mean)
            else:
                log_std = np.clip(out[:, self.action_dim :], LOG_STD_MIN, LOG_STD_MAX)
                unit = np.tanh(mean + np.exp(log_std) * self.rng.standard_normal(mean.shape))
        actions = self.to_bounds(unit).astype(np.float32)
        return actions if batched else actions[0]

    # -- checkpoints (see rlbook.checkpoint) ---------------------------------------------------
    _NETWORKS = ("actor", "critic1", "critic2", "target1", "target2")
    _OPTIMIZERS = ("actor", "critic", "alpha")

    def _checkpoint(self, replay: bool = True):
        spec = {
            "observation_space": ck.box_spec((self.obs_dim,), np.float32),
            "action_space": ck.bounds_spec(self.low, self.high),
            "num_envs": self.num_envs,
        }
        counters = {
            "env_steps": self.env_steps,
            "updates": self.updates,
            "gradient_steps_done": int(self.gradient_steps_done.numpy()),
            "rng": ck.rng_state(self.rng),
            "noise": [int(x) for x in self.noise.state.numpy()],
        }
        arrays = {"weights.log_alpha": self.log_alpha.numpy()}
        for name in self._NETWORKS:
            arrays.update(ck.model_arrays(f"weights.{name}", getattr(self, name)))
        for name in self._OPTIMIZERS:
            arrays.update(
                ck.optimizer_arrays(f"optimizer.{name}", getattr(self, f"{name}_optimizer"))
            )
        if replay:  # only the rows written so far
            counters["replay"], replay_arrays = self.buffer.state()
            arrays.update(replay_arrays)
        return spec, counters, arrays

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        for name in self._NETWORKS:
            ck.set_model(f"weights.{name}", getattr(self, name), arrays)
        for name in self._OPTIMIZERS:
            ck.set_optimizer(f"optimizer.{name}", getattr(self, f"{name}_optimizer"), arrays)
        self.log_alpha.assign(arrays["weights.log_alpha"])
        self.env_steps, self.updates = int(counters["env_steps"]), int(counters["updates"])
        self.gradient_steps_done.assign(int(counters["gradient_steps_done"]))
        ck.set_rng_state(self.rng, counters["rng"])
        self.noise.reset(np.asarray(counters["noise"], np.int64))
        self.buffer.restore(counters.get("replay"), arrays)
        self._numpy_actor.sync()

    @classmethod
    def _from_checkpoint_spec(cls, spec: dict, config):
        return cls(
            ck.box_from_spec(spec["observation_space"]),
            ck.box_from_bounds(spec["action_space"]),
            config,
            num_envs=spec["num_envs"],
        )
