"""Advantage actor-critic, taught in chapter 7.

Two networks learn together: the *actor* ``pi(a|s)`` (softmax over logits, actions
sampled from it) and the *critic* ``V(s)`` (one output: the value of the state, not
of an action). After each transition ``(s, a, r, s')``:

    y     = r + gamma * (1 - terminated) * V(s')      the TD target, held fixed
    delta = y - V(s)                                   the TD error
    critic loss  L_V  = mean(delta^2)
    actor loss   L_pi = -mean(delta * log pi(a|s))     delta held fixed

That is the one-step algorithm (``num_envs=1, n_steps=1, critic_steps=1``). The
defaults run the same update on batches, as A2C does (Mnih et al., 2016): ``num_envs``
copies of the environment each take ``n_steps`` steps, and one actor step uses all
``num_envs * n_steps`` transitions. Each target then looks up to ``n_steps`` rewards
ahead before bootstrapping, ``y_t = r_t + gamma r_{t+1} + ... + gamma^k V(s_{t+k})``
(the n-step return, :func:`rlbook.losses.discounted_returns`), which is the one-step
target when ``n_steps=1``. Batching gives less noisy gradients, parallel copies give
less correlated samples, and TensorFlow is called once per batch instead of once per
step. The critic takes ``critic_steps`` gradient steps on each batch's fixed targets:
a regression needs several to keep up with the policy, and a well-fitted critic keeps
the actor stable long after CartPole is solved.

Targets are computed in NumPy from the critic's weights *before* the update (that is
what holds them fixed), with a NumPy copy of the critic; acting uses a NumPy copy of
the actor; the whole update is one ``tf.function`` with a fixed input signature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import non_negative_int, positive, unit_interval, with_overrides
from rlbook.agents.reinforce import check_policy_spaces

__all__ = ["ActorCriticConfig", "ActorCriticAgent"]


@dataclass(frozen=True)
class ActorCriticConfig:
    """Hyperparameters of the actor-critic. The defaults solve CartPole-v1 (chapter 7)."""

    hidden: tuple[int, ...] = (64,)
    """Units of the hidden ReLU layers of the actor and of the critic (two separate networks)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    lr: float = 0.01
    """Adam learning rate of the actor."""
    critic_lr: float = 0.01
    """Adam learning rate of the critic."""
    critic_steps: int = 10
    """Gradient steps of the critic on each batch's fixed targets (the actor takes one)."""
    n_steps: int = 16
    """Steps each environment copy takes between updates (1 = the one-step algorithm)."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus (>= 0): higher keeps the policy exploring longer."""
    normalize: bool = False
    """Scale each batch's TD errors to mean 0 and standard deviation 1 in the actor loss."""
    max_grad_norm: float | None = 0.5
    """Shorten each network's gradient to at most this norm before the Adam step (``None``: never)."""
    seed: int | None = 0
    """Seed of the network weights and of the action sampling."""

    def __post_init__(self):
        from rlbook._validate import check_config

        check_config(self)


class ActorCriticAgent(ck.Checkpointable):
    """Actor-critic with a state-value critic, for Discrete actions and flat observations.

    Args:
        observation_space: a ``Box`` of shape ``(d,)``.
        action_space: a ``Discrete`` space.
        config: :class:`ActorCriticConfig`; keyword arguments override single fields.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).
    """

    def __init__(self, observation_space, action_space, config: ActorCriticConfig | None = None, num_envs: int = 1,
                 **overrides):
        import tensorflow as tf

        from rlbook.nets import mlp
        from rlbook.speed import NumpyMLP

        config = with_overrides(config or ActorCriticConfig(), overrides)
        check_policy_spaces(observation_space, action_space, "Actor-critic")
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.n_actions, self.obs_dim = int(action_space.n), int(observation_space.shape[0])
        self.rng = np.random.default_rng(config.seed)
        seed = config.seed
        self.actor = mlp(self.obs_dim, config.hidden, self.n_actions, name="actor", seed=seed)
        # The critic has ONE output, V(s): the value of the state under the current policy.
        self.critic = mlp(self.obs_dim, config.hidden, 1, name="critic", seed=None if seed is None else seed + 100)
        self.actor_optimizer = tf.keras.optimizers.Adam(config.lr, global_clipnorm=config.max_grad_norm)
        self.critic_optimizer = tf.keras.optimizers.Adam(config.critic_lr, global_clipnorm=config.max_grad_norm)
        self.actor_optimizer.build(self.actor.trainable_variables)  # slots made now, not while tracing
        self.critic_optimizer.build(self.critic.trainable_variables)
        self._numpy_pi, self._numpy_v = NumpyMLP(self.actor), NumpyMLP(self.critic)
        # The rollout of the current batch, time-major: (n_steps, num_envs, ...).
        shape = (config.n_steps, num_envs)
        self._obs = np.zeros(shape + (self.obs_dim,), np.float32)
        self._action = np.zeros(shape, np.int32)
        self._reward = np.zeros(shape, np.float32)
        self._done = np.zeros(shape, np.float32)
        self._t = 0
        self.updates = 0
        self._train = self._build_train_step(tf)

    # -- the compiled training step ---------------------------------------------------
    def _build_train_step(self, tf):
        from rlbook.losses import actor_critic_losses

        c = self.config
        actor, critic = self.actor, self.critic
        actor_optimizer, critic_optimizer = self.actor_optimizer, self.critic_optimizer
        batch = c.n_steps * self.num_envs

        def critic_step(i, obs, targets):
            # L_V = mean((y - V(s))^2) with the targets fixed: one step of a plain regression.
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(targets - critic(obs, training=False)[:, 0]))
            critic_optimizer.apply_gradients(zip(tape.gradient(loss, critic.trainable_variables),
                                                 critic.trainable_variables))
            return i + 1, obs, targets

        # A fixed input signature: traced once. autograph=False: nothing needs converting (the loop
        # below is an explicit tf.while_loop), and skipping the conversion makes the trace cheaper.
        @tf.function(input_signature=[tf.TensorSpec((batch, self.obs_dim), tf.float32),
                                      tf.TensorSpec((batch,), tf.int32), tf.TensorSpec((batch,), tf.float32)],
                     autograph=False)
        def train_step(obs, actions, targets):
            with tf.GradientTape() as tape:
                logits = actor(obs, training=False)
                values = critic(obs, training=False)[:, 0]  # (B, 1) -> (B,): one V(s) per step
                losses = actor_critic_losses(logits, actions, values, targets, c.entropy_coef, c.normalize)
            losses["mean_v"] = tf.reduce_mean(values)  # for the logs: the critic before the update
            # The actor: one step on L_pi (delta held fixed inside it, so no gradient reaches the critic).
            actor_optimizer.apply_gradients(zip(tape.gradient(losses["actor"], actor.trainable_variables),
                                                actor.trainable_variables))
            # The critic: critic_steps steps on L_V. A regression needs more than one step to keep up
            # with a changing policy; more actor steps on one batch would make the actor off-policy.
            tf.while_loop(lambda i, *_: i < c.critic_steps, critic_step, [tf.constant(0), obs, targets])
            # Returning the new weights is cheaper than reading the variables afterwards.
            return losses, [tf.identity(v) for v in actor.trainable_variables], \
                [tf.identity(v) for v in critic.trainable_variables]

        return train_step

    # -- acting -----------------------------------------------------------------------------
    def logits(self, obs) -> np.ndarray:
        """The actor's logits for a batch of observations, ``(B, A)`` (NumPy)."""
        return self._numpy_pi(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))

    def probs(self, obs) -> np.ndarray:
        """``pi(.|s)`` for a batch of observations, ``(B, A)``."""
        from rlbook.nets import softmax

        return softmax(self.logits(obs).astype(np.float64))

    def values(self, obs) -> np.ndarray:
        """The critic's ``V(s)`` for a batch of observations, ``(B,)``."""
        return self._numpy_v(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))[:, 0]

    def act(self, obs, greedy: bool = False):
        """Sample ``a ~ pi(.|s)`` (not epsilon-greedy; the most likely action when ``greedy``)."""
        from rlbook.nets import sample_categorical

        obs = np.asarray(obs, np.float32)
        batched = obs.ndim == 2
        logits = self._numpy_pi(obs if batched else obs[None])
        actions = logits.argmax(axis=1) if greedy else sample_categorical(logits, self.rng)
        return actions if batched else int(actions[0])

    # -- learning ---------------------------------------------------------------------------
    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Record the step(s); every ``n_steps`` steps compute the targets and update both networks."""
        n, t = self.num_envs, self._t
        terminated, truncated = np.reshape(terminated, (n,)), np.reshape(truncated, (n,))
        next_obs = np.reshape(next_obs, (n, self.obs_dim))
        reward = np.asarray(np.reshape(reward, (n,)), np.float32)
        if truncated.any():
            # Cut by the time limit, not ended: fold the rest of the episode, gamma * V(s'),
            # into the reward and end the return there (bootstrapping stops only on terminated).
            cut = truncated & ~terminated
            reward = reward + self.config.gamma * cut * self.values(next_obs)
        self._obs[t], self._action[t], self._reward[t] = np.reshape(obs, (n, self.obs_dim)), np.reshape(action, (n,)), reward
        self._done[t] = terminated | truncated
        self._t += 1
        if self._t < self.config.n_steps:
            return None
        self._t = 0
        return self.train_step(next_obs)

    def targets(self, last_next_obs) -> np.ndarray:
        """The n-step targets of the stored rollout, ``(n_steps, num_envs)``, from the current critic.

        ``y_t = r_t + gamma (1 - done_t) y_{t+1}``, starting from ``V(s_T)`` of the
        observations after the last step (``last_next_obs``, ``(num_envs, d)``).
        """
        from rlbook.losses import discounted_returns

        bootstrap = self.values(last_next_obs)
        return discounted_returns(self._reward, self._done, self.config.gamma, bootstrap=bootstrap)

    def train_step(self, last_next_obs) -> dict[str, float]:
        """One update on the stored rollout: one actor step and ``critic_steps`` critic steps, one compiled call."""
        targets = self.targets(last_next_obs)  # computed before the update: held fixed
        d = self.obs_dim
        losses, actor_weights, critic_weights = self._train(self._obs.reshape(-1, d), self._action.reshape(-1),
                                                            targets.reshape(-1))
        self._numpy_pi.sync()  # acting and the next targets use the new weights
        self._numpy_v.sync()
        self.updates += 1
        return {"actor_loss": float(losses["actor"]), "critic_loss": float(losses["critic"]),
                "entropy": float(losses["entropy"]), "mean_v": float(losses["mean_v"])}

    # -- checkpoints (see rlbook.checkpoint) ------------------------------------------------
    def _checkpoint(self, replay: bool = True):
        spec = {"observation_space": ck.box_spec((self.obs_dim,), np.float32), "n_actions": self.n_actions,
                "num_envs": self.num_envs}
        arrays = {**ck.model_arrays("weights.actor", self.actor), **ck.model_arrays("weights.critic", self.critic),
                  **ck.optimizer_arrays("optimizer.actor", self.actor_optimizer),
                  **ck.optimizer_arrays("optimizer.critic", self.critic_optimizer)}
        return spec, {"updates": self.updates, "rng": ck.rng_state(self.rng)}, arrays

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        ck.set_model("weights.actor", self.actor, arrays)
        ck.set_model("weights.critic", self.critic, arrays)
        ck.set_optimizer("optimizer.actor", self.actor_optimizer, arrays)
        ck.set_optimizer("optimizer.critic", self.critic_optimizer, arrays)
        self._numpy_pi.sync()
        self._numpy_v.sync()
        self.updates = int(counters["updates"])
        ck.set_rng_state(self.rng, counters["rng"])
        self._t = 0  # the rollout being collected starts afresh
