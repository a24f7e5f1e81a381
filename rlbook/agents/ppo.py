"""Proximal policy optimization, PPO-Clip (Schulman et al., 2017), taught in chapter 9.

The actor-critic of chapter 7 takes one gradient step per rollout: a second step on
the same data would follow a gradient computed for a policy that is no longer the one
acting. PPO takes many (``update_epochs`` passes over ``num_minibatches`` minibatches)
and stays safe by *clipping*: the loss weighs each sample by the ratio
``rho = pi(a|s) / pi_old(a|s)`` of the new policy to the one that collected it, and
stops pulling a sample once its ratio leaves ``[1 - eps, 1 + eps]`` in the direction its
advantage pushes (:func:`rlbook.losses.ppo_clip_loss`). The advantages are GAE(lambda)
(Schulman et al., 2016; :func:`rlbook.losses.gae_advantages`), between chapter 7's
one-step TD errors (``lambda = 0``) and chapter 6's Monte Carlo returns (``lambda = 1``).

The algorithm, with the step numbers of the code's comments::

    1. Initialise the actor pi_theta and the critic V_w; reset the N copies.
    2. Repeat:
       2.1 Collect T = n_steps steps in every copy with a_t ~ pi_theta(.|s_t),
           keeping s_t, a_t, r_{t+1}, s_{t+1} (the real final observation when a
           time limit cut the episode), terminated and truncated.       (observe)
       2.2 With the networks that collected the rollout: V_w(s_t), V_w(s_{t+1})
           and log pi_old(a_t|s_t).                                     (update)
       2.3 GAE, backwards, held fixed from here on:
           delta_t = r_{t+1} + gamma (1 - terminated) V_w(s_{t+1}) - V_w(s_t)
           A_t = delta_t + gamma lambda (1 - done) A_{t+1};  R_t = A_t + V_w(s_t)
       2.4 Repeat update_epochs times: shuffle the B = N T samples, cut them
           into num_minibatches minibatches, and for each one:          (learn)
           2.4.1 normalise its advantages to mean 0, std 1;     (minibatch_step)
           2.4.2 actor step on L^CLIP - c_H mean H, with
                 rho_t = exp(log pi_theta(a_t|s_t) - log pi_old(a_t|s_t)),
                 L^CLIP = -mean min(rho_t A_t, clip(rho_t, 1-eps, 1+eps) A_t);
           2.4.3 critic step on L_V = mean (R_t - V_w(s_t))^2.
           Both steps shorten the gradient to norm max_grad_norm first.

Actor and critic are two networks, each with its own Adam optimizer, as in chapters
6-7 (:class:`~rlbook.agents.policy_gradient.PolicyGradientAgent`). The paper's summed
loss ``L^CLIP + c_V L_V - c_H H`` is for a network with one shared trunk; with separate
networks its gradient splits into the actor's and the critic's, and the weight ``c_V``
would only rescale a gradient that Adam normalises anyway: the critic's step size is
``critic_lr`` instead.

The training call :meth:`PPOAgent.update` computes the advantages; the learning step
:meth:`PPOAgent.learn` runs the epochs, and :meth:`PPOAgent.minibatch_step` is one
gradient step of each network. None of them knows what distribution the policy is:
only the policy head of :class:`~rlbook.agents.policy_gradient.PolicyGradientAgent`
(``act``, ``log_probs``, ``log_prob_and_entropy``) does.

Continuous actions (chapter 10). With a ``Box`` action space of shape ``(A,)``, such as
Pendulum-v1's torque in [-2, 2], the policy is a diagonal Gaussian: the actor outputs
the mean ``mu(s)`` of each action dimension (starting near the middle of the bounds: the
output layer's bias starts there), and a learned ``log_std`` ``(A,)``, the same in every
state and starting at ``init_log_std``, sets the spread. An action is
``u = mu(s) + sigma * eps`` with ``eps ~ N(0, I)``; the environment gets ``u`` clipped
into the bounds, but the rollout keeps ``u`` itself and the ratio uses its density
(:func:`rlbook.losses.gaussian_log_prob`; the entropy bonus,
:func:`rlbook.losses.gaussian_entropy`, depends on ``log_std`` only). Storing the clipped
action instead would put all the mass beyond a bound on the bound, where the Gaussian's
density says something else, and bias the ratio. The greedy action is the mean, clipped.
Everything else (GAE, the clipped loss, the critic) is the algorithm above, unchanged.
:data:`PENDULUM` holds settings that learn Pendulum-v1.
"""

from __future__ import annotations

import numpy as np

from rlbook._validate import agent_config, config, positive
from rlbook.agents.policy_gradient import PolicyGradientAgent

__all__ = ["PENDULUM", "PPOConfig", "PPOAgent"]


@config
class PPOConfig:
    """Hyperparameters of PPO. The defaults solve CartPole-v1 on 8 copies (chapter 9)."""

    hidden: tuple[int, ...] = (64,)
    """Units of the hidden ReLU layers of the actor and of the critic (two separate networks)."""
    gamma: float = 0.98
    """Discount factor in [0, 1]."""
    gae_lambda: float = 0.8
    """GAE's lambda in [0, 1]: 0 gives one-step TD errors, 1 Monte Carlo returns minus V(s)."""
    lr: float = 0.003
    """Adam learning rate of the actor."""
    critic_lr: float = 0.003
    """Adam learning rate of the critic."""
    n_steps: int = 32
    """Steps each environment copy takes per rollout (the batch is n_steps * num_envs)."""
    update_epochs: int = 10
    """Passes over each rollout (each pass shuffles it into new minibatches)."""
    num_minibatches: int = 4
    """Minibatches per pass, one gradient step each; must divide n_steps * num_envs."""
    clip: bool = True
    """Clip the probability ratio (PPO); --no-clip trains on the unclipped surrogate."""
    clip_eps: float = 0.2
    """Clip range eps in (0, 1): ratios outside [1 - eps, 1 + eps] stop pulling."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus (>= 0): higher keeps the policy exploring longer."""
    normalize: bool = True
    """Scale each minibatch's advantages to mean 0 and standard deviation 1."""
    max_grad_norm: float | None = 0.5
    """Shorten each network's gradient to at most this norm before the Adam step (None: never)."""  # noqa: E501 (one line: --help prints it as is)
    init_log_std: float = 0.0
    """Box actions only: the Gaussian policy's log standard deviation at the start (then learned)."""  # noqa: E501 (one line: --help prints it as is)
    seed: int | None = 0
    """Seed of the network weights, the action sampling and the minibatch shuffling."""

    def __post_init__(self):
        from rlbook._validate import Rule, check_config, interval

        check_config(
            self,
            gae_lambda=interval(0, 1),
            clip_eps=interval(0, 1, open_low=True, open_high=True),
            init_log_std=Rule(float, lambda v: True, "a finite number"),
        )


PENDULUM = dict(
    hidden=(64, 64),
    gamma=0.9,
    gae_lambda=0.95,
    lr=1e-3,
    critic_lr=1e-3,
    n_steps=256,
    update_epochs=10,
    num_minibatches=8,
    clip_eps=0.2,
    init_log_std=0.0,
)
"""Settings that learn Pendulum-v1 with the Gaussian policy (chapter 10), on 8 copies
(``num_envs=8``, the registry's default): ``PPOConfig(**PENDULUM)`` or
``PPOAgent(obs_space, action_space, num_envs=8, **PENDULUM)``. They are also the registry's
preset for Pendulum-v1 (``rlbook train ppo --env Pendulum-v1``).

Rollouts of 256 x 8 = 2,048 steps, cut into minibatches of 256, and a short horizon
(``gamma = 0.9``), as in rl-baselines3-zoo's settings for Pendulum (which also use gSDE,
an exploration noise rlbook does not build). Measured (2026-12, the shared 2-core
machine, load 8-9), greedy means over 10 episodes: after 50,000 steps, -143 to -180 on
seeds 0-7 (about 5 s of CPU, 9 s of wall time); evaluated every 10,000 steps of a
100,000-step run, seeds 0-2 are at -191 to -248 after 40,000 steps and -121 to -145
after 70,000-80,000, and wander between about -130 and -350 in between and after.
100,000 steps take about 10.5 s of CPU (19-25 s of wall time at that load).
"""


class PPOAgent(PolicyGradientAgent):
    """PPO-Clip with GAE, for Discrete or Box actions and flat observations.

    ``PPOAgent(observation_space, action_space, config=None, num_envs=1, **overrides)``:
    a ``Box`` of shape ``(d,)``, a ``Discrete`` space (a softmax policy) or a ``Box`` of
    shape ``(A,)`` with finite bounds (a diagonal Gaussian policy), a :class:`PPOConfig`
    (keyword arguments override single fields) and the number of environment copies
    stepped together.
    """

    title = "PPO"
    continuous_actions = True
    algorithm = "ppo"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = PPOConfig

    def __init__(
        self,
        observation_space,
        action_space,
        config: PPOConfig | None = None,
        num_envs: int = 1,
        **overrides,
    ):
        config = agent_config(PPOConfig, config, overrides, "PPOAgent")
        batch_size = config.n_steps * positive("num_envs", num_envs, integer=True)
        if batch_size % config.num_minibatches:
            raise ValueError(
                f"num_minibatches must divide the rollout, n_steps * num_envs = "
                f"{config.n_steps} * {num_envs} = {batch_size}; got {config.num_minibatches}"
            )
        super().__init__(
            observation_space,
            action_space,
            config,
            num_envs,
            value_lr=config.critic_lr,
            max_grad_norm=config.max_grad_norm,
        )
        # The rollout buffer, time-major: row t holds step t of every copy, (n_steps, num_envs).
        shape = (config.n_steps, num_envs)
        self._obs = np.zeros(shape + (self.obs_dim,), np.float32)
        self._next_obs = np.zeros(shape + (self.obs_dim,), np.float32)
        # the actions: integers, or the Gaussian's unclipped samples (A numbers each)
        self._action = np.zeros(shape + self.action_shape,
                                np.float32 if self.gaussian else np.int32)  # fmt: skip
        self._reward = np.zeros(shape, np.float32)
        self._terminated = np.zeros(shape, np.float32)
        self._truncated = np.zeros(shape, np.float32)
        self._t = 0
        self.epoch_metrics: dict[str, np.ndarray] = {}
        """The last update's metrics per epoch, ``(update_epochs,)`` each (``learn``'s result)."""
        self.epoch_history: list[dict[str, np.ndarray]] = []
        """Every update's ``epoch_metrics``, oldest first (chapter 9 plots them per epoch)."""
        # One compiled call runs minibatch_step on every minibatch of an epoch (fixed shapes:
        # traced once), so TensorFlow's cost per call is paid once per epoch.
        self._compiled_epoch = self.compile_step(
            self.minibatch_step,
            batch_size // config.num_minibatches,
            floats=3,
            times=config.num_minibatches,
        )

    # -- collecting ---------------------------------------------------------------------------
    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Store the step(s) (2.1); once every copy has taken ``n_steps`` steps, update."""
        n, t = self.num_envs, self._t
        self._obs[t] = np.reshape(obs, (n, self.obs_dim))
        # At a truncation the training loop passes the real final observation (not the reset
        # one): V of it stands for the rest of the episode in the GAE of step 2.3.
        self._next_obs[t] = np.reshape(next_obs, (n, self.obs_dim))
        # A Gaussian policy's rollout keeps the unclipped sample u (see act_gaussian).
        self._action[t] = self.stored_actions(action)
        self._reward[t] = np.reshape(reward, (n,))
        self._terminated[t] = np.reshape(terminated, (n,))
        self._truncated[t] = np.reshape(truncated, (n,))
        self._t += 1
        self.env_steps += n
        if self._t < self.config.n_steps:
            return None
        self._t = 0
        return self.update()

    # fmt: off
    def update(self) -> dict[str, float]:
        """One training call on the full rollout: GAE, then :meth:`learn`.

        Returns the metrics of :meth:`learn` averaged over its epochs (each
        epoch's are in :attr:`epoch_metrics`).
        """
        d = self.obs_dim
        obs, next_obs = self._obs.reshape(-1, d), self._next_obs.reshape(-1, d)
        # (B,) integers, or (B, A) for a Gaussian policy
        actions = self._action.reshape(-1, *self.action_shape)
        # 2.2 V(s_t), V(s_{t+1}) and log pi_old(a_t|s_t), from the networks
        #     that collected the rollout: (T, N) each.
        values = self.values(obs).reshape(self._reward.shape)
        next_values = self.values(next_obs).reshape(self._reward.shape)
        old_log_probs = self.log_probs(obs, actions)
        # 2.3 The advantages A_t and the value targets R_t = A_t + V(s_t),
        #     backwards over the rollout; constants from here on.
        advantages, returns = self.advantages(values, next_values)
        # 2.4 The epochs of minibatch steps.
        self.epoch_metrics = self.learn(obs, actions, old_log_probs,
                                        advantages.reshape(-1),
                                        returns.reshape(-1))
        self.epoch_history.append(self.epoch_metrics)
        # the next rollout acts with (and is pi_old of) the new policy
        self.sync()
        self.updates += 1
        return {name: float(per_epoch.mean())
                for name, per_epoch in self.epoch_metrics.items()}

    def advantages(self, values, next_values):
        """GAE(lambda) of the rollout (2.3): ``(advantages, returns)``,
        ``(T, N)`` each (:func:`rlbook.losses.gae_advantages`)."""
        from rlbook.losses import gae_advantages

        c = self.config
        return gae_advantages(self._reward, values, next_values,
                              self._terminated, self._truncated, c.gamma,
                              c.gae_lambda)

    def learn(self, obs, actions, old_log_probs, advantages, returns):
        """``update_epochs`` passes over one rollout of ``B`` samples, each
        shuffled and cut into ``num_minibatches`` minibatches.

        Args:
            obs: ``(B, d)``; actions: ``(B,)`` integers, or ``(B, A)``
                for a Gaussian policy; old_log_probs,
                advantages, returns: ``(B,)``, held fixed.

        Returns:
            The metrics of :meth:`minibatch_step`, each an array
            ``(update_epochs,)`` of its means over each epoch's minibatches.
        """
        c, b = self.config, len(obs)
        per_epoch = []
        for _ in range(c.update_epochs):
            # 2.4 Shuffle the samples and cut them into minibatches:
            #     index rows (num_minibatches, B / num_minibatches).
            order = self.rng.permutation(b).reshape(c.num_minibatches, -1)
            # 2.4.1-2.4.3 One step of each network per minibatch
            #             (minibatch_step), all minibatches in one call.
            metrics = self._compiled_epoch(
                obs[order], actions[order], old_log_probs[order],
                advantages[order], returns[order])
            per_epoch.append({k: float(v) for k, v in metrics.items()})
        return {k: np.array([m[k] for m in per_epoch]) for k in per_epoch[0]}

    def minibatch_step(self, obs, actions, old_log_probs, advantages, returns):
        """One gradient step of the actor and one of the critic on a
        minibatch (compiled).

        Returns:
            ``policy_loss`` (L^CLIP), ``value_loss``, ``entropy``,
            ``approx_kl`` and ``clip_fraction`` (before the steps).
        """
        import tensorflow as tf

        from rlbook.losses import normalize_advantages as normalize
        from rlbook.losses import ppo_clip_loss, ppo_diagnostics, value_loss

        c = self.config
        # 2.4.1 Advantages on one scale, whatever the rewards' scale.
        if c.normalize:
            advantages = normalize(advantages)
        # 2.4.2 The actor: L^CLIP on rho = pi / pi_old, minus the entropy
        #       bonus; clip=False leaves the ratio unclipped.
        with tf.GradientTape() as tape:
            log_probs, entropy = self.log_prob_and_entropy(obs, actions)
            policy_loss = ppo_clip_loss(log_probs, old_log_probs, advantages,
                                        c.clip_eps if c.clip else None)
            mean_entropy = tf.reduce_mean(entropy)
            actor_loss = policy_loss - c.entropy_coef * mean_entropy
        self.apply_gradients(self.policy_optimizer, self.policy_variables,
                             tape, actor_loss)
        # 2.4.3 The critic: a regression of V(s_t) on the fixed R_t.
        with tf.GradientTape() as tape:
            critic_loss = value_loss(self.value_network(obs)[:, 0], returns)
        self.apply_gradients(self.value_optimizer, self.value_network, tape,
                             critic_loss)
        return {"policy_loss": policy_loss, "value_loss": critic_loss,
                "entropy": mean_entropy,
                **ppo_diagnostics(log_probs, old_log_probs, c.clip_eps)}
    # fmt: on

    @property
    def rollout(self) -> dict[str, np.ndarray]:
        """The rollout being collected, or the last one once it is full: copies of ``obs``,
        ``actions``, ``rewards``, ``next_obs`` (the real final observation at a truncation),
        ``terminated`` and ``truncated``, time first, ``(n_steps, num_envs, ...)``."""
        arrays = (
            self._obs,
            self._action,
            self._reward,
            self._next_obs,
            self._terminated,
            self._truncated,
        )
        names = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated")
        return {name: array.copy() for name, array in zip(names, arrays)}

    def reset_rollout(self) -> None:
        """Forget the rollout being collected (a restored agent starts a new one)."""
        self._t = 0
