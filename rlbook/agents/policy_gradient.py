"""What REINFORCE (chapter 6), the actor-critic (chapter 7) and PPO (chapter 9) have in common.

Each agent owns a *policy network* (one logit per action; the policy ``pi(a|s)`` is
their softmax and actions are sampled from it) and a *value network* ``V(s)`` with
one output (REINFORCE's baseline, the critic of the actor-critic and of PPO), each with its own Adam
optimizer. :class:`PolicyGradientAgent` builds them, acts, fits the value network by
regression, and saves and restores them; each algorithm's module keeps only its
algorithm: how it collects experience, what its targets are, and its learning step.

Speed devices (see :mod:`rlbook.speed`): acting uses NumPy copies of both networks
(:class:`~rlbook.speed.NumpyMLP`), refreshed with :meth:`PolicyGradientAgent.sync`
after every learning step, and each learning step runs as one compiled
``tf.function`` call (PPO: one per epoch; :meth:`PolicyGradientAgent.compile_step`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import positive

__all__ = ["PolicyGradientAgent", "check_policy_spaces"]


def check_policy_spaces(observation_space, action_space, algo: str) -> None:
    """Reject spaces a softmax policy over flat observations cannot handle (chapters 6-7)."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(
            f"{algo} needs a Discrete action space (its policy is a softmax over actions), "
            f"got {action_space!r}; a continuous (Box) action space needs a Gaussian policy "
            "(a mean and a standard deviation per action dimension), which chapters 6-7 do not "
            "build: SACAgent (rlbook.agents.sac) has one; see also Sutton & Barto (2018), "
            "section 13.7"
        )
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise TypeError(
            f"{algo} needs flat Box observations of shape (d,), got {observation_space!r}; "
            "wrap the environment in gymnasium.wrappers.FlattenObservation (it one-hot encodes "
            "Discrete observations and flattens images)"
        )


class PolicyGradientAgent(ck.Checkpointable):
    """A softmax policy network and an optional state-value network, for Discrete actions.

    Subclasses pass their validated config (it needs the fields ``hidden``, ``lr`` and
    ``seed``) and implement ``observe``, the training call ``update()`` and the learning
    step ``learn``.

    Args:
        observation_space: a ``Box`` of shape ``(d,)``.
        action_space: a ``Discrete`` space.
        config: the algorithm's config.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).
        value_lr: Adam learning rate of the value network ``V(s)``; ``None`` builds none.
        max_grad_norm: shorten each network's gradient to at most this norm before
            the Adam step (``None``: never).
    """

    title = "policy gradient"
    """The name used in error messages."""

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

        check_policy_spaces(observation_space, action_space, self.title)
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.n_actions, self.obs_dim = int(action_space.n), int(observation_space.shape[0])
        self.rng = np.random.default_rng(config.seed)  # action sampling
        seed = config.seed

        def adam(lr, network):
            optimizer = tf.keras.optimizers.Adam(lr, global_clipnorm=max_grad_norm)
            optimizer.build(network.trainable_variables)  # slots made now, not while tracing
            return optimizer

        self.policy = mlp(self.obs_dim, config.hidden, self.n_actions, name="policy", seed=seed)
        self.policy_optimizer = adam(config.lr, self.policy)
        self._numpy_policy = NumpyMLP(self.policy)
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
            self.value_optimizer = adam(value_lr, self.value_network)
            self._numpy_value = NumpyMLP(self.value_network)
        self.env_steps = 0
        """Environment steps observed (``num_envs`` per call of ``observe``)."""
        self.updates = 0
        """Training calls made (``update()``, one learning step each)."""

    # -- acting -----------------------------------------------------------------------------
    def logits(self, obs) -> np.ndarray:
        """The policy's logits for a batch of observations, ``(B, A)`` (NumPy)."""
        return self._numpy_policy(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))

    def probs(self, obs) -> np.ndarray:
        """``pi(.|s)`` for a batch of observations, ``(B, A)``."""
        from rlbook.nets import softmax

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
        """Sample ``a ~ pi(.|s)`` (the most likely action when ``greedy``): an int, or ``(B,)``.

        Training always samples: the policy's own randomness is the exploration (no
        epsilon-greedy). ``greedy=True`` is for evaluation.
        """
        from rlbook.nets import sample_categorical

        obs = np.asarray(obs, np.float32)
        batched = obs.ndim == 2
        logits = self._numpy_policy(obs if batched else obs[None])
        actions = logits.argmax(axis=1) if greedy else sample_categorical(logits, self.rng)
        return actions if batched else int(actions[0])

    # -- learning: what both algorithms' learning steps (``learn``) use -------------------------
    # fmt: off
    def fit_value_network(self, obs, targets, steps):
        """``steps`` gradient steps of the value network on
        ``mean((y - V(s))^2)``.

        The targets ``y`` stay fixed for all the steps: a plain regression,
        which needs several steps to keep up with a policy that keeps changing.
        Runs inside a compiled learning step (autograph turns the loop into one
        graph loop).

        Args:
            obs: ``(B, d)``.
            targets: ``(B,)``.
            steps: how many gradient steps (0 takes none).
        """
        import tensorflow as tf

        from rlbook.losses import value_loss

        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = value_loss(self.value_network(obs)[:, 0], targets)
            self.apply_gradients(
                self.value_optimizer, self.value_network, tape, loss
            )
    # fmt: on

    @staticmethod
    def apply_gradients(optimizer, network, tape, loss) -> None:
        """One optimizer step of ``network``'s weights down the gradient of ``loss``."""
        variables = network.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    def compile_step(self, step, batch_size: int | None, floats: int = 1, times: int | None = None):
        """``step(obs, actions, *floats)`` compiled for batches of ``batch_size`` (``None``: any).

        The arguments are ``obs`` ``(B, d)``, the integer ``actions`` ``(B,)`` and ``floats``
        float arrays ``(B,)`` (targets, returns, ...). The fixed input signature means one
        trace; TensorFlow's cost per call (a few hundred microseconds) is then paid once per
        learning step. With ``times``, one call runs ``step`` on ``times`` stacked minibatches
        (every argument gains a leading axis of that length) and returns the metrics averaged
        over them (:func:`rlbook.speed.repeat`): the cost per call is paid once for all.
        """
        import tensorflow as tf

        from rlbook.speed import repeat

        signature = [
            tf.TensorSpec((batch_size, self.obs_dim), tf.float32),
            tf.TensorSpec((batch_size,), tf.int32),
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
        ck.set_optimizer("optimizer.policy", self.policy_optimizer, arrays)
        if self.value_network is not None:
            ck.set_model("weights.value", self.value_network, arrays)
            ck.set_optimizer("optimizer.value", self.value_optimizer, arrays)
        self.sync()
        self.env_steps, self.updates = int(counters["env_steps"]), int(counters["updates"])
        ck.set_rng_state(self.rng, counters["rng"])
        self.reset_rollout()

    def reset_rollout(self) -> None:
        """Forget the experience collected since the last learning step (after a restore)."""
        raise NotImplementedError
