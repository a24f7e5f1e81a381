"""What REINFORCE (chapter 6), the actor-critic (chapter 7) and PPO (chapters 9-10) have in common.

Each agent owns a *policy network* (one logit per action; the policy ``pi(a|s)`` is
their softmax and actions are sampled from it) and a *value network* ``V(s)`` with
one output (REINFORCE's baseline, the critic of the actor-critic and of PPO), each with its own Adam
optimizer. :class:`PolicyGradientAgent` builds them, acts, fits the value network by
regression, and saves and restores them; each algorithm's module keeps only its
algorithm: how it collects experience, what its targets are, and its learning step.

The *policy head* (chapter 10) is the distribution the network's outputs parameterise:
a softmax over a ``Discrete`` action space, or, for an agent whose class sets
``continuous_actions`` (PPO), a diagonal Gaussian over a ``Box`` action space of
shape ``(A,)``: the network outputs the mean ``mu(s)`` of each action dimension, and
a learned ``log_std`` ``(A,)``, the same in every state, sets the spread. Only the
section "the policy head" below knows which one it is (REINFORCE's and the
actor-critic's losses take logits, so those two stay Discrete-only).

Speed devices (see :mod:`rlbook.speed`): acting uses NumPy copies of both networks
(:class:`~rlbook.speed.NumpyMLP`) and of a Gaussian policy's ``log_std``, refreshed with
:meth:`PolicyGradientAgent.sync` after every learning step, and each learning step runs
as one compiled ``tf.function`` call (PPO: one per epoch;
:meth:`PolicyGradientAgent.compile_step`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import numbered_from_zero, observations, positive, show_space

__all__ = ["PolicyGradientAgent", "check_policy_spaces"]


def check_policy_spaces(
    observation_space, action_space, algo: str, continuous: bool = False
) -> None:
    """Reject spaces the policy over flat observations cannot handle.

    A softmax policy (chapters 6-7) needs a ``Discrete`` action space; with ``continuous``
    (PPO, chapter 10) a ``Box`` of shape ``(A,)`` with finite bounds is accepted too.
    """
    if continuous and isinstance(action_space, gym.spaces.Box):
        if (
            action_space.shape[:1] == (0,)
            or len(action_space.shape) != 1
            or not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all())
        ):
            raise ValueError(
                f"{algo} needs a Box action space of shape (A,) with finite bounds (its "
                f"Gaussian policy's actions are clipped into them), got {show_space(action_space)}"
            )
    elif continuous and not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(
            f"{algo} needs a Discrete action space (a softmax policy) or a Box of shape (A,) "
            f"(a Gaussian policy), got {show_space(action_space)}"
        )
    elif not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(
            f"{algo} needs a Discrete action space (its policy is a softmax over actions), "
            f"got {show_space(action_space)}; a continuous (Box) action space needs a Gaussian "
            "policy "
            "(a mean and a standard deviation per action dimension), which chapters 6-7 do not "
            "build: PPOAgent (rlbook.agents.ppo) and SACAgent (rlbook.agents.sac) "
            "have one; see also Sutton & Barto (2018), section 13.7"
        )
    if isinstance(action_space, gym.spaces.Discrete):
        numbered_from_zero(action_space, algo)
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise TypeError(
            f"{algo} needs flat Box observations of shape (d,), got "
            f"{show_space(observation_space)}; "
            "wrap the environment in gymnasium.wrappers.FlattenObservation (it one-hot encodes "
            "Discrete observations and flattens images)"
        )


class PolicyGradientAgent(ck.Checkpointable):
    """A policy network and an optional state-value network.

    The policy is a softmax over a ``Discrete`` action space, or (for a subclass that sets
    :attr:`continuous_actions`) a diagonal Gaussian over a ``Box`` action space.
    Subclasses pass their validated config (it needs the fields ``hidden``, ``lr`` and
    ``seed``, and ``init_log_std`` for a Gaussian policy) and implement ``observe``, the
    training call ``update()`` and the learning step ``learn``.

    Args:
        observation_space: a ``Box`` of shape ``(d,)``.
        action_space: a ``Discrete`` space (or a ``Box`` of shape ``(A,)`` with finite bounds,
            see :attr:`continuous_actions`).
        config: the algorithm's config.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).
        value_lr: Adam learning rate of the value network ``V(s)``; ``None`` builds none.
        max_grad_norm: shorten each network's gradient to at most this norm before
            the Adam step (``None``: never).
    """

    title = "policy gradient"
    """The name used in error messages."""
    continuous_actions = False
    """Whether the agent takes a ``Box`` action space too (with a diagonal Gaussian policy).
    REINFORCE's and the actor-critic's losses take the softmax's logits, so they do not."""
    autograph = False
    """Whether :meth:`compile_step` lets autograph rewrite the learning step's Python. The
    book's steps have no Python control flow on tensors, so they are traced as written: autograph
    would spend about 0.25 s per process rewriting them. The exercise checks switch it on, for
    the student's code."""

    def __init__(
        self,
        observation_space,
        action_space,
        config,
        num_envs: int = 1,
        *,
        value_lr: float | None,
        max_grad_norm: float | None = None,
    ):
        import tensorflow as tf

        from rlbook.nets import mlp
        from rlbook.speed import NumpyMLP

        check_policy_spaces(observation_space, action_space, self.title, self.continuous_actions)
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.obs_dim = int(observation_space.shape[0])
        self.gaussian = isinstance(action_space, gym.spaces.Box)
        """Whether the policy is a diagonal Gaussian (a ``Box`` action space) or a softmax."""
        if self.gaussian:
            self.n_actions, self.action_dim = None, int(action_space.shape[0])
            self.low = action_space.low.astype(np.float32)
            self.high = action_space.high.astype(np.float32)
        else:
            self.n_actions, self.action_dim = int(action_space.n), None
        self.action_shape = (self.action_dim,) if self.gaussian else ()
        """The shape of one action as the agent stores it: ``()`` (an integer) or ``(A,)``."""
        self.rng = np.random.default_rng(config.seed)  # action sampling
        seed = config.seed

        def adam(lr, variables):
            optimizer = tf.keras.optimizers.Adam(lr, global_clipnorm=max_grad_norm)
            optimizer.build(variables)  # slots made now, not while tracing
            return optimizer

        # The policy network: one logit per action (softmax), or the mean of each action
        # dimension (Gaussian).
        outputs = self.action_dim if self.gaussian else self.n_actions
        self.policy = mlp(self.obs_dim, config.hidden, outputs, name="policy", seed=seed)
        if self.gaussian:
            # The Gaussian's mean starts in the middle of the bounds (the output layer's bias),
            # not at 0: on bounds such as CarRacing's gas in [0, 1], or [10, 20], a mean of 0
            # puts half or all of the samples on the lower bound, where the clipped action no
            # longer changes with the sample and the policy gets nothing to learn from. The
            # middle of symmetric bounds is 0, the bias Keras starts with.
            self.policy.layers[-1].bias.assign((self.low + self.high) / 2)
        self.log_std = None
        """The Gaussian policy's ``log sigma``, ``(A,)``: a variable learned with the policy's
        weights, not an output of the network (``None`` for a softmax policy)."""
        self.policy_variables = list(self.policy.trainable_variables)
        """What the policy's optimizer trains: the network's weights (and ``log_std``)."""
        if self.gaussian:
            init = np.full(self.action_dim, config.init_log_std, np.float32)
            self.log_std = tf.Variable(init, name="log_std")
            self.policy_variables.append(self.log_std)
        self.policy_optimizer = adam(config.lr, self.policy_variables)
        self._numpy_policy = NumpyMLP(self.policy)
        self._numpy_log_std = None if self.log_std is None else self.log_std.numpy()
        self._last_sample = None  # the unclipped Gaussian sample of the last act() (observe)
        self.value_network = self.value_optimizer = self._numpy_value = None
        if value_lr is not None:
            # ONE output, V(s): the value of the state under the current policy.
            self.value_network = mlp(
                self.obs_dim,
                config.hidden,
                1,
                name="value",
                seed=None if seed is None else seed + 100,
            )
            self.value_optimizer = adam(value_lr, self.value_network.trainable_variables)
            self._numpy_value = NumpyMLP(self.value_network)
        self.env_steps = 0
        """Environment steps observed (``num_envs`` per call of ``observe``)."""
        self.updates = 0
        """Training calls made (``update()``, one learning step each)."""

    # -- acting -----------------------------------------------------------------------------
    def logits(self, obs) -> np.ndarray:
        """The policy network's outputs for a batch of observations (NumPy): the logits
        ``(B, n_actions)`` of a softmax policy, the means ``(B, A)`` of a Gaussian one."""
        return self._numpy_policy(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))

    def probs(self, obs) -> np.ndarray:
        """``pi(.|s)`` for a batch of observations, ``(B, A)`` (a softmax policy)."""
        from rlbook.nets import softmax

        if self.gaussian:
            raise ValueError(
                f"probs() is for a Discrete action space; this {self.title} agent's policy is a "
                "Gaussian: its means are logits(obs) and its log standard deviations log_std"
            )
        return softmax(self.logits(obs).astype(np.float64))

    def values(self, obs) -> np.ndarray:
        """The value network's ``V(s)`` for a batch of observations, ``(B,)``."""
        if self._numpy_value is None:
            raise ValueError(
                f"values() needs a value network; this {self.title} agent has none "
                "(create it with baseline='value')"
            )
        return self._numpy_value(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))[:, 0]

    def act(self, obs, greedy: bool = False):
        """Sample ``a ~ pi(.|s)`` (the most likely action when ``greedy``).

        Training always samples: the policy's own randomness is the exploration (no
        epsilon-greedy). ``greedy=True`` is for evaluation.

        Returns:
            Discrete actions: an int, or ``(B,)`` for a batch. Box actions: ``(A,)``, or
            ``(B, A)`` for a batch, within the space's bounds (see :meth:`act_gaussian`).
        """
        from rlbook.nets import sample_categorical

        obs, batched = observations(obs, (self.obs_dim,), type(self).__name__)
        logits = self._numpy_policy(obs)
        if self.gaussian:
            actions = self.act_gaussian(logits, greedy)
            return actions if batched else actions[0]
        actions = logits.argmax(axis=1) if greedy else sample_categorical(logits, self.rng)
        return actions if batched else int(actions[0])

    # -- the policy head: the only code that knows which distribution pi is -------------------
    def act_gaussian(self, mean, greedy: bool) -> np.ndarray:
        """Actions ``(B, A)`` of the Gaussian policy with means ``mean`` ``(B, A)``, clipped
        into the bounds: the sample ``u = mu(s) + sigma * eps``, ``eps ~ N(0, I)``, or the mean
        when ``greedy``.

        The environment gets ``clip(u, low, high)``, but the agent learns from ``u`` itself
        (kept here for :meth:`stored_actions`): ``u`` is what the Gaussian sampled, so
        ``pi(u|s)`` is its true probability density under the old and the new policy. The
        clipped action is not a sample of the Gaussian (all of the mass beyond a bound lands
        on the bound), so its density would weigh it wrongly in the ratio
        ``pi(a|s) / pi_old(a|s)`` and bias the gradient. The clip is then part of the
        environment, as far as the algorithm can tell.
        """
        if greedy:
            return np.clip(mean, self.low, self.high)
        noise = self.rng.standard_normal(mean.shape).astype(np.float32)
        self._last_sample = mean + np.exp(self._numpy_log_std) * noise
        return np.clip(self._last_sample, self.low, self.high)

    def stored_actions(self, action) -> np.ndarray:
        """What ``observe`` stores for the actions ``action`` the environment was given.

        Discrete: the actions, ``(N,)``. Gaussian: ``(N, A)``, the unclipped sample of the
        last :meth:`act` when ``action`` is that sample clipped (the training loop's case),
        else ``action`` itself (actions chosen by other code).
        """
        n = self.num_envs
        if not self.gaussian:
            return np.reshape(action, (n,))
        action = np.reshape(np.asarray(action, np.float32), (n, self.action_dim))
        sample = self._last_sample
        if sample is not None and sample.shape == action.shape:
            if np.array_equal(np.clip(sample, self.low, self.high), action):
                return sample
        return action

    def log_probs(self, obs, actions) -> np.ndarray:
        """``log pi(a|s)`` of a batch under the acting (NumPy) policy, ``(B,)``.

        Args:
            obs: ``(B, d)``.
            actions: ``(B,)`` integers (softmax) or ``(B, A)`` unclipped samples (Gaussian).
        """
        logits = self.logits(obs)
        if self.gaussian:
            from rlbook.losses import gaussian_log_prob

            log_pi = gaussian_log_prob(logits, self._numpy_log_std, np.asarray(actions, np.float32))
            return log_pi.numpy()
        logits = logits.astype(np.float64)
        z = logits - logits.max(axis=1, keepdims=True)
        log_pi = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return log_pi[np.arange(len(log_pi)), actions].astype(np.float32)

    def log_prob_and_entropy(self, obs, actions):
        """``log pi(a|s)`` and the entropy ``H(pi(.|s))`` of the trained policy, ``(B,)`` each
        (tensors; differentiable in :attr:`policy_variables`)."""
        import tensorflow as tf

        from rlbook.losses import entropy, gaussian_entropy, gaussian_log_prob, log_prob

        out = self.policy(obs)
        if self.gaussian:
            log_std = tf.broadcast_to(self.log_std, tf.shape(out))  # the same sigma in every s
            return gaussian_log_prob(out, log_std, actions), gaussian_entropy(log_std)
        return log_prob(out, actions), entropy(out)

    # -- learning: what both algorithms' learning steps (``learn``) use -------------------------
    # fmt: off
    def fit_value_network(self, obs, targets, steps):
        """``steps`` gradient steps of the value network on
        ``mean((y - V(s))^2)``.

        The targets ``y`` stay fixed for all the steps: a plain regression,
        which needs several steps to keep up with a policy that keeps changing.
        Runs inside a compiled learning step, as one graph loop.

        Args:
            obs: ``(B, d)``.
            targets: ``(B,)``.
            steps: how many gradient steps (0 takes none).
        """
        import tensorflow as tf

        from rlbook.losses import value_loss

        def one_step(step):
            with tf.GradientTape() as tape:
                loss = value_loss(self.value_network(obs)[:, 0], targets)
            self.apply_gradients(
                self.value_optimizer, self.value_network, tape, loss
            )
            return step + 1

        # A graph loop: traced once, it runs `steps` times.
        tf.while_loop(lambda step: step < steps, one_step, [tf.constant(0)])
    # fmt: on

    @staticmethod
    def apply_gradients(optimizer, network, tape, loss) -> None:
        """One optimizer step of ``network``'s weights down the gradient of ``loss``.

        ``network`` is a Keras model, or a list of variables (:attr:`policy_variables`: a
        Gaussian policy's network weights and its ``log_std``).
        """
        variables = network if isinstance(network, list) else network.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    def compile_step(self, step, batch_size: int | None, floats: int = 1, times: int | None = None):
        """``step(obs, actions, *floats)`` compiled for batches of ``batch_size`` (``None``: any).

        The arguments are ``obs`` ``(B, d)``, the ``actions`` (integers ``(B,)``, or floats
        ``(B, A)`` for a Gaussian policy) and ``floats`` float arrays ``(B,)`` (targets,
        returns, ...). The fixed input signature means one
        trace; TensorFlow's cost per call (a few hundred microseconds) is then paid once per
        learning step. With ``times``, one call runs ``step`` on ``times`` stacked minibatches
        (every argument gains a leading axis of that length) and returns the metrics averaged
        over them (:func:`rlbook.speed.repeat`): the cost per call is paid once for all.
        """
        import tensorflow as tf

        from rlbook.speed import repeat

        if not self.autograph:  # traced as written (see autograph)
            step = tf.autograph.experimental.do_not_convert(step)
        signature = [
            tf.TensorSpec((batch_size, self.obs_dim), tf.float32),
            tf.TensorSpec(
                (batch_size, *self.action_shape), tf.float32 if self.gaussian else tf.int32
            ),
            *[tf.TensorSpec((batch_size,), tf.float32) for _ in range(floats)],
        ]
        if times is None:
            return tf.function(step, input_signature=signature)
        stacked = [tf.TensorSpec((times, *spec.shape), spec.dtype) for spec in signature]
        return repeat(step, times, input_signature=stacked)

    def sync(self) -> None:
        """Copy the networks' new weights into the NumPy copies that act (after each learning step).

        Reading the variables costs 0.15 to 0.4 ms per network on a busy 2-core machine, about
        a tenth of a second over the actor-critic's whole CartPole run; the compiled learning
        step returns only its metrics.
        """
        self._numpy_policy.sync()
        if self.log_std is not None:
            self._numpy_log_std = self.log_std.numpy()
        if self._numpy_value is not None:
            self._numpy_value.sync()

    # -- checkpoints (see rlbook.checkpoint) ------------------------------------------------
    def _checkpoint(self, replay: bool = True):
        spec = {
            "observation_space": ck.box_spec((self.obs_dim,), np.float32),
            "n_actions": self.n_actions,
            "num_envs": self.num_envs,
            "value_network": self.value_network is not None,
        }
        arrays = {
            **ck.model_arrays("weights.policy", self.policy),
            **ck.optimizer_arrays("optimizer.policy", self.policy_optimizer),
        }
        if self.gaussian:  # the bounds, and log_std (its Adam moments are the optimizer's)
            spec["action_space"] = ck.bounds_spec(self.low, self.high)
            arrays["weights.log_std"] = self.log_std.numpy()
        if self.value_network is not None:
            arrays.update(
                {
                    **ck.model_arrays("weights.value", self.value_network),
                    **ck.optimizer_arrays("optimizer.value", self.value_optimizer),
                }
            )
        counters = {
            "env_steps": self.env_steps,
            "updates": self.updates,
            "rng": ck.rng_state(self.rng),
        }
        return spec, counters, arrays

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        ck.set_model("weights.policy", self.policy, arrays)
        if self.gaussian:
            self.log_std.assign(arrays["weights.log_std"])
        ck.set_optimizer("optimizer.policy", self.policy_optimizer, arrays)
        if self.value_network is not None:
            ck.set_model("weights.value", self.value_network, arrays)
            ck.set_optimizer("optimizer.value", self.value_optimizer, arrays)
        self.sync()
        self.env_steps, self.updates = int(counters["env_steps"]), int(counters["updates"])
        ck.set_rng_state(self.rng, counters["rng"])
        self.reset_rollout()

    @classmethod
    def _from_checkpoint_spec(cls, spec: dict, config):
        if "action_space" not in spec:  # a softmax policy
            return super()._from_checkpoint_spec(spec, config)
        return cls(
            ck.box_from_spec(spec["observation_space"]),
            ck.box_from_bounds(spec["action_space"]),
            config,
            num_envs=spec["num_envs"],
        )

    def reset_rollout(self) -> None:
        """Forget the experience collected since the last learning step (after a restore)."""
        raise NotImplementedError
