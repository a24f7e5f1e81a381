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
what holds them fixed), by the training call :meth:`ActorCriticAgent.update`. The
learning step, :meth:`ActorCriticAgent.learn`, reads as the algorithm: the actor's step,
then the critic's. The actor is the agent's ``policy`` network and the critic its
``value_network``; what the agent shares with REINFORCE (networks, acting, the value fit,
checkpoints) is in :mod:`rlbook.agents.policy_gradient`.
"""

from __future__ import annotations

import numpy as np

from rlbook._validate import agent_config, config
from rlbook.agents.policy_gradient import PolicyGradientAgent

__all__ = ["ActorCriticConfig", "ActorCriticAgent"]


@config
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
    """Shorten each network's gradient to at most this norm before the Adam step (None: never)."""  # noqa: E501 (one line: --help prints it as is)
    seed: int | None = 0
    """Seed of the network weights and of the action sampling."""

    def __post_init__(self):
        from rlbook._validate import check_config

        check_config(self)


class ActorCriticAgent(PolicyGradientAgent):
    """Actor-critic with a state-value critic, for Discrete actions and flat observations.

    ``ActorCriticAgent(observation_space, action_space, config=None, num_envs=1, **overrides)``:
    a ``Box`` of shape ``(d,)``, a ``Discrete`` space, a :class:`ActorCriticConfig` (keyword
    arguments override single fields) and the number of environment copies stepped together.
    """

    title = "Actor-critic"
    algorithm = "actor_critic"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = ActorCriticConfig

    def __init__(
        self,
        observation_space,
        action_space,
        config: ActorCriticConfig | None = None,
        num_envs: int = 1,
        **overrides,
    ):
        config = agent_config(ActorCriticConfig, config, overrides, "ActorCriticAgent")
        super().__init__(
            observation_space,
            action_space,
            config,
            num_envs,
            value_lr=config.critic_lr,
            max_grad_norm=config.max_grad_norm,
        )
        # The rollout of the current batch, time-major: (n_steps, num_envs, ...).
        shape = (config.n_steps, num_envs)
        self._obs = np.zeros(shape + (self.obs_dim,), np.float32)
        self._action = np.zeros(shape, np.int32)
        self._reward = np.zeros(shape, np.float32)
        self._done = np.zeros(shape, np.float32)
        self._last_next_obs = np.zeros((num_envs, self.obs_dim), np.float32)
        self._t = 0
        batch_size = config.n_steps * num_envs  # a fixed shape: traced once
        self._compiled_step = self.compile_step(self.learn, batch_size)

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Record the step(s); every ``n_steps`` steps, update both networks."""
        n, t = self.num_envs, self._t
        terminated, truncated = np.reshape(terminated, (n,)), np.reshape(truncated, (n,))
        next_obs = np.reshape(next_obs, (n, self.obs_dim))
        reward = np.asarray(np.reshape(reward, (n,)), np.float32)
        if truncated.any():
            # Cut by the time limit, not ended: fold the rest of the episode, gamma * V(s'),
            # into the reward and end the return there (bootstrapping stops only on terminated).
            cut = truncated & ~terminated
            reward = reward + self.config.gamma * cut * self.values(next_obs)
        self._obs[t], self._action[t] = np.reshape(obs, (n, self.obs_dim)), np.reshape(action, (n,))
        self._reward[t], self._done[t] = reward, terminated | truncated
        self._t += 1
        self.env_steps += n
        if self._t < self.config.n_steps:
            return None
        self._t = 0
        self._last_next_obs = next_obs
        return self.update()

    def targets(self) -> np.ndarray:
        """The n-step targets of the stored rollout, ``(n_steps, num_envs)``, from the critic.

        ``y_t = r_t + gamma (1 - done_t) y_{t+1}``, starting from ``V(s_T)`` of the
        observations after the rollout's last step (``(num_envs, d)``).
        """
        from rlbook.losses import discounted_returns

        bootstrap = self.values(self._last_next_obs)
        return discounted_returns(self._reward, self._done, self.config.gamma, bootstrap=bootstrap)

    # fmt: off
    def update(self) -> dict[str, float]:
        """One training call on the stored rollout: the targets, then
        :meth:`learn` (one actor step, critic steps)."""
        # 2.2 The n-step targets, from the critic before the update: held
        #     fixed.
        targets = self.targets()
        # 2.3-2.5 The TD errors, the actor step and the critic steps: one call.
        obs, actions = (
            self._obs.reshape(-1, self.obs_dim),
            self._action.reshape(-1),
        )
        metrics = self._compiled_step(obs, actions, targets.reshape(-1))
        self.sync()  # acting and the next targets use the new weights
        self.updates += 1
        return {name: float(value) for name, value in metrics.items()}

    def learn(self, obs, actions, targets):
        """One actor step and ``critic_steps`` critic steps on ``B`` steps
        (compiled).

        Args:
            obs: ``(B, d)``; actions: ``(B,)`` integers; targets: ``y_t``,
                ``(B,)``.

        Returns:
            The metrics: what :func:`rlbook.losses.actor_critic_losses` returns
            (before the update) and ``mean_v``.
        """
        import tensorflow as tf

        from rlbook.losses import actor_critic_losses

        c = self.config
        # 2.3 The TD errors delta_t = y_t - V(s_t), inside actor_critic_losses.
        with tf.GradientTape() as tape:
            # (B, 1) -> (B,): one V per step
            values = self.value_network(obs)[:, 0]
            losses = actor_critic_losses(
                self.policy(obs),
                actions,
                values,
                targets,
                c.entropy_coef,
                c.normalize,
            )
        # 2.4 The actor: one step on L_pi (delta is held fixed inside it: no
        #     gradient reaches the critic). More steps would make it
        #     off-policy.
        self.apply_gradients(self.policy_optimizer, self.policy, tape,
                             losses["policy_loss"])
        # 2.5 The critic: critic_steps steps on L_V = value_loss(V(s), y), the
        #     targets held fixed (a regression needs several steps to keep
        #     up).
        self.fit_value_network(obs, targets, c.critic_steps)
        return {**losses, "mean_v": tf.reduce_mean(values)}
    # fmt: on

    def reset_rollout(self) -> None:
        """Forget the rollout being collected (a restored agent starts a new one)."""
        self._t = 0
