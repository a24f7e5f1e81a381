"""Deep Q-networks (Mnih et al., 2015), taught in chapter 3, with the double target
(chapter 4) and the dueling head (chapter 5) as flags.

The agent in one paragraph: act epsilon-greedily with a Q-network; store every
transition in a replay buffer; every ``train_every`` environment steps, make a
training call (:meth:`DQNAgent.update`): draw ``gradient_steps`` minibatches and
:meth:`DQNAgent.learn` from each: regress
``Q(s, a)`` towards a target computed with a slowly moving copy of the network (the
*target network*), and after every ``target_update_every`` gradient steps move the
target network towards the online one by ``tau`` (``tau=1`` is a hard copy).

``learn`` is the algorithm; the speed devices of :mod:`rlbook.speed` wrap it without
changing it. Images (``model_type="conv"``) change only the network; sequences
(``model_type="lstm"``) need a memory, kept by the subclass
:class:`rlbook.agents.recurrent_dqn.RecurrentDQNAgent`, which is built by its own class.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import (
    agent_config,
    config,
    numbered_from_zero,
    observations,
    positive,
    show_space,
)
from rlbook.nets import q_from_head, q_network
from rlbook.replay import ReplayBuffer
from rlbook.schedules import make_schedule
from rlbook.speed import NumpyMLP, repeat

__all__ = ["DQNAgent", "DQNConfig"]

MODEL_TYPES = ("dense", "conv", "lstm")


@config
class DQNConfig:
    """Hyperparameters of DQN. The defaults (vanilla DQN: max target, plain head) solve CartPole-v1
    quickly (chapter 3); chapters 4 and 5 switch on ``double`` and ``dueling``."""

    model_type: str = "dense"
    """Q-network kind: "dense" (flat observations), "conv" (images) or "lstm" (RecurrentDQNAgent)."""  # noqa: E501 (one line: --help prints it as is)
    hidden: tuple[int, ...] = (128, 128)
    """Units of the hidden Dense layers."""
    double: bool = False
    """Use the double-DQN target: the online net selects the next action, the target net values it."""  # noqa: E501 (one line: --help prints it as is)
    dueling: bool = False
    """Use a dueling head: Q = V + A - mean(A)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    lr: float = 2e-3
    """Adam learning rate."""
    loss: str = "huber"
    """"huber" or "mse" between Q(s, a) and its target."""
    batch_size: int = 64
    """Transitions per minibatch (sequences per minibatch for the LSTM)."""
    buffer_size: int = 50_000
    """Transitions kept in the replay buffer."""
    learning_starts: int = 1_000
    """Environment steps of random-ish play before the first gradient step."""
    train_every: int = 64
    """Environment steps between training calls."""
    gradient_steps: int = 16
    """Gradient steps per training call, each on a fresh minibatch (one compiled call does them all)."""  # noqa: E501 (one line: --help prints it as is)
    target_update_every: int = 50
    """Gradient steps between target-network updates."""
    tau: float = 1.0
    """Target update rate in (0, 1]: target <- tau * online + (1 - tau) * target (1.0 = hard copy)."""  # noqa: E501 (one line: --help prints it as is)
    epsilon_start: float = 1.0
    """Exploration rate at the start."""
    epsilon_end: float = 0.02
    """Exploration rate after the decay."""
    epsilon_decay_steps: int = 8_000
    """Environment steps over which epsilon anneals."""
    epsilon_schedule: str = "linear"
    """"linear", "exponential" or "constant"."""
    seq_len: int = 8
    """Length of the replayed sequences (model_type="lstm")."""
    lstm_units: int = 64
    """Units of the LSTM (model_type="lstm")."""
    seed: int | None = 0
    """Seed of the network weights, exploration and replay sampling."""

    def __post_init__(self):
        from rlbook._validate import check_config, one_of

        check_config(self, model_type=one_of(*MODEL_TYPES), loss=one_of("huber", "mse"))
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) must not exceed buffer_size ({self.buffer_size})"
            )


def _check_spaces(observation_space, action_space, model_type: str) -> None:
    if not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(
            "DQN needs a Discrete action space (one Q-value per action), got "
            f"{show_space(action_space)}; "
            "continuous actions need a policy-gradient method with a Gaussian policy instead, "
            "such as SACAgent (rlbook.agents.sac; rlbook train sac) or PPOAgent "
            "(rlbook.agents.ppo; rlbook train ppo)"
        )
    numbered_from_zero(action_space, "DQN")
    if not isinstance(observation_space, gym.spaces.Box):
        raise TypeError(
            f"DQN needs a Box observation space, got {show_space(observation_space)}; "
            "for Discrete observations use tabular Q-learning (chapter 2), or one-hot vectors "
            "for DQN with gymnasium.wrappers.FlattenObservation"
        )
    dims = len(observation_space.shape)
    if model_type in ("dense", "lstm") and dims != 1:
        raise ValueError(
            f"model_type={model_type!r} needs flat observations of shape (d,), got shape "
            f"{observation_space.shape}; use model_type='conv' for images"
        )
    if model_type == "conv" and dims != 3:
        raise ValueError(
            f"model_type='conv' needs image observations of shape (H, W, C), got shape "
            f"{observation_space.shape}; use model_type='dense' for flat vectors"
        )


class DQNAgent(ck.Checkpointable):
    """DQN with replay and a target network; double target and dueling head as flags.

    Args:
        observation_space: a ``Box`` (flat for dense/lstm, ``(H, W, C)`` for conv).
        action_space: a ``Discrete`` space.
        config: :class:`DQNConfig`; keyword arguments override single fields.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).

    Attributes: ``q_network`` and ``target_network`` (Keras models whose output is the
    head: Q-values, or V then A for a dueling head), ``optimizer``, ``buffer``, and the
    running counters ``env_steps`` (environment steps observed), ``updates`` (training
    calls made) and ``gradient_steps_done`` (a ``tf.Variable``: the target update reads it).
    ``model_type="lstm"`` is refused: :class:`~rlbook.agents.recurrent_dqn.RecurrentDQNAgent`
    builds that agent.
    """

    algorithm = "dqn"
    """The name of the algorithm in :data:`rlbook.agents.ALGORITHMS` and in checkpoints."""
    config_class = DQNConfig
    recurrent = False
    """Whether the agent keeps a memory (``model_type="lstm"`` needs one)."""

    def __init__(
        self,
        observation_space,
        action_space,
        config: DQNConfig | None = None,
        num_envs: int = 1,
        **overrides,
    ):
        import tensorflow as tf  # here, not at the top: importing the config stays fast

        config = agent_config(self.config_class, config, overrides, type(self).__name__)
        if (config.model_type == "lstm") != self.recurrent:
            raise ValueError(
                "model_type='lstm' needs a memory: build the agent with RecurrentDQNAgent(...) "
                "(rlbook.agents.recurrent_dqn)"
                if not self.recurrent
                else f"{type(self).__name__} needs model_type='lstm', got {config.model_type!r}; "
                "use DQNAgent(...) for the other network kinds"
            )
        _check_spaces(observation_space, action_space, config.model_type)
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.n_actions = int(action_space.n)
        self.obs_shape = tuple(observation_space.shape)
        pixels = observation_space.dtype == np.uint8
        if config.seed is not None:
            tf.random.set_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.epsilon_fn = make_schedule(
            config.epsilon_schedule,
            config.epsilon_start,
            config.epsilon_end,
            config.epsilon_decay_steps,
        )
        self.q_network, self.target_network = (
            q_network(
                obs_shape=self.obs_shape,
                n_actions=self.n_actions,
                model_type=config.model_type,
                hidden=config.hidden,
                dueling=config.dueling,
                lstm_units=config.lstm_units,
                pixels=pixels,
                seed=config.seed,
                name=name,
                seq_len=config.seq_len if self.recurrent else None,
            )
            for name in ("q_online", "q_target")
        )
        self.target_network.set_weights(self.q_network.get_weights())
        self.optimizer = tf.keras.optimizers.Adam(config.lr)
        self.optimizer.build(
            self.q_network.trainable_variables
        )  # slots made now, not while tracing
        self.buffer = ReplayBuffer(
            config.buffer_size, self.obs_shape, num_envs, np.uint8 if pixels else np.float32
        )
        self.env_steps = 0
        self.updates = 0
        self.gradient_steps_done = tf.Variable(0, dtype=tf.int64, trainable=False)

        # Speed devices (rlbook.speed); neither changes what is computed.
        # One compiled call runs `learn` on all the minibatches of a training call, so
        # TensorFlow's fixed cost per call (a few hundred microseconds) is paid once.
        self._learn_many = repeat(self.learn, config.gradient_steps)
        # A dense network acts through a NumPy copy of itself (about 10 microseconds
        # a batch, against 500 for a compiled Keras call; the recurrent subclass has
        # its own copy); images act through a compiled call.
        self._numpy_q = None
        if config.model_type == "dense":
            self._numpy_q = NumpyMLP(self.q_network, output_map=self._combine_matrix())
        self._compiled_q = tf.function(self._online_q_values, reduce_retracing=True)

    # -- the algorithm ---------------------------------------------------------------------
    def q_of(self, network, obs):
        """Q-values ``(B, A)`` of a batch of observations under ``network`` (a tensor)."""
        return q_from_head(network(obs, training=False), self.config.dueling)

    # fmt: off
    def learn(self, obs, action, reward, next_obs, terminated, weights=None):
        """One gradient step of DQN on a minibatch of transitions.

        Args:
            obs, next_obs: ``(B, *obs_shape)``.
            action, reward, terminated: ``(B,)``.
            weights: optional ``(B,)``; 0 drops a transition from the loss (the
                recurrent subclass passes the mask of its replayed sequences,
                which add a time axis after ``B``).

        Returns:
            ``{"loss": ..., "mean_q": ...}``, scalar tensors (``mean_q`` is the
            mean of ``max_a Q(s, a)`` over the minibatch).
        """
        import tensorflow as tf

        from rlbook.losses import double_td_target, q_loss, td_target

        c = self.config
        # 2.3.2 The target, a constant for the gradient (inside the loss
        #       functions).
        next_q_target = self.q_of(self.target_network, next_obs)
        if c.double:
            # y = r + gamma (1 - terminated) Q_target(s', argmax_a' Q(s', a'))
            next_q = self.q_of(self.q_network, next_obs)
            y = double_td_target(reward, next_q, next_q_target, terminated,
                                 c.gamma)
        else:
            # y = r + gamma (1 - terminated) max_a' Q_target(s', a')
            y = td_target(reward, next_q_target, terminated, c.gamma)
        # 2.3.3 The loss between Q(s, a) and y.
        with tf.GradientTape() as tape:
            q = self.q_of(self.q_network, obs)
            loss = q_loss(q, action, y, c.loss, weights)
        # 2.3.4 One gradient step on it.
        variables = self.q_network.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        self.gradient_steps_done.assign_add(1)
        # 2.3.5 Every C gradient steps, the target network moves towards the
        #       online one: theta_target <- tau theta + (1 - tau) theta_target
        #       (tau = 1: a hard copy).
        if self.gradient_steps_done % c.target_update_every == 0:
            pairs = zip(
                self.q_network.variables, self.target_network.variables
            )
            for var, target_var in pairs:
                target_var.assign(c.tau * var + (1.0 - c.tau) * target_var)
        return {
            "loss": loss,
            "mean_q": tf.reduce_mean(tf.reduce_max(q, axis=-1)),
        }
    # fmt: on

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Store the transition(s); every ``train_every`` environment steps (once
        ``learning_starts`` have passed) make a training call, whose metrics it returns."""
        self.buffer.add(obs, action, reward, next_obs, terminated, truncated)
        before, self.env_steps = self.env_steps, self.env_steps + self.num_envs
        c = self.config
        if (
            self.env_steps < c.learning_starts
            or self.env_steps // c.train_every == before // c.train_every
        ):
            return None
        return self.update()

    def update(self) -> dict[str, float]:
        """One training call: :meth:`learn` on ``gradient_steps`` fresh minibatches."""
        metrics = self._learn_many(*self.sample_minibatches())
        if self._numpy_q is not None:
            self._numpy_q.sync()  # act with the new weights
        self.updates += 1
        return {**{name: float(value) for name, value in metrics.items()}, "epsilon": self.epsilon}

    def sample_minibatches(self) -> tuple[np.ndarray, ...]:
        """``gradient_steps`` minibatches, stacked: arrays ``(gradient_steps, batch_size, ...)``."""
        c = self.config
        b = self.buffer.sample(c.batch_size, self.rng, num_batches=c.gradient_steps)
        return b["obs"], b["action"], b["reward"], b["next_obs"], b["terminated"]

    # -- acting --------------------------------------------------------------------------------
    @property
    def epsilon(self) -> float:
        return self.epsilon_fn(self.env_steps)

    def q_values(self, obs) -> np.ndarray:
        """Q-values of a batch of observations, NumPy ``(B, A)``."""
        obs = np.asarray(obs, dtype=self.buffer.obs.dtype).reshape((-1,) + self.obs_shape)
        if self._numpy_q is not None:
            return self._numpy_q(obs)
        return self._compiled_q(obs).numpy()

    def value_advantage(self, obs) -> tuple[np.ndarray, np.ndarray]:
        """For a dueling network: V(s) ``(B,)`` and the mean-removed A(s, a) ``(B, A)``."""
        if not self.config.dueling:
            raise ValueError("value_advantage needs a dueling network (dueling=True)")
        q = self.q_values(obs)
        v = q.mean(axis=1)  # the combine makes V the mean of Q over the actions
        return v, q - v[:, None]

    def act(self, obs, greedy: bool = False):
        """Epsilon-greedy action(s): an int for one observation, an array for a batch."""
        obs, batched = observations(obs, self.obs_shape, type(self).__name__, self.buffer.obs.dtype)
        actions = self._acting_q_values(obs).argmax(axis=1)
        if not greedy:
            explore = self.rng.random(len(actions)) < self.epsilon
            if explore.any():
                actions[explore] = self.rng.integers(0, self.n_actions, int(explore.sum()))
        return actions if batched else int(actions[0])

    def _combine_matrix(self) -> np.ndarray:
        # The dueling combine is linear in the head, so it is a matrix (q_from_head of
        # the identity) that the NumPy copies fold into their last layer.
        head_size = self.q_network.output_shape[-1]
        return np.asarray(q_from_head(np.eye(head_size, dtype=np.float32), self.config.dueling))

    def _online_q_values(self, obs):
        return self.q_of(self.q_network, obs)

    def _acting_q_values(self, obs: np.ndarray) -> np.ndarray:
        # The Q-values `act` decides on (the recurrent subclass adds its memory).
        return self.q_values(obs)

    # -- checkpoints (see rlbook.checkpoint) -------------------------------------------------

    def _checkpoint(self, replay: bool = True):
        b, c = self.buffer, self.config
        spec = {
            "observation_space": ck.box_spec(self.obs_shape, b.obs.dtype),
            "n_actions": self.n_actions,
            "num_envs": self.num_envs,
            "model_type": c.model_type,
            "dueling": c.dueling,
        }
        counters = {
            "env_steps": self.env_steps,
            "updates": self.updates,
            "gradient_steps_done": int(self.gradient_steps_done.numpy()),
            "rng": ck.rng_state(self.rng),
        }
        arrays = {
            **ck.model_arrays("weights.online", self.q_network),
            **ck.model_arrays("weights.target", self.target_network),
            **ck.optimizer_arrays("optimizer", self.optimizer),
        }
        if replay:  # only the rows written so far
            counters["replay"], replay_arrays = self.buffer.state()
            arrays.update(replay_arrays)
        return spec, counters, arrays

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        ck.set_model("weights.online", self.q_network, arrays)
        ck.set_model("weights.target", self.target_network, arrays)
        ck.set_optimizer("optimizer", self.optimizer, arrays)
        self.env_steps, self.updates = int(counters["env_steps"]), int(counters["updates"])
        self.gradient_steps_done.assign(int(counters["gradient_steps_done"]))
        ck.set_rng_state(self.rng, counters["rng"])
        self.buffer.restore(counters.get("replay"), arrays)
        if self._numpy_q is not None:
            self._numpy_q.sync()
