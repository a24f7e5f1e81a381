"""Deep Q-networks (Mnih et al., 2015) with the double (chapter 4) and dueling
(chapter 5) variants as flags; taught in chapter 3.

The agent in one paragraph: act epsilon-greedily with a Q-network; store every
transition in a replay buffer; every ``train_every`` environment steps, draw
``gradient_steps`` minibatches and take one Adam step on each, regressing
``Q(s, a)`` towards a target computed with a slowly moving copy of the network
(the *target network*); after every ``target_update_every`` gradient steps move
the target network towards the online one by ``tau`` (``tau=1`` is a hard copy).

Speed (see DESIGN.md): acting with a dense network runs a NumPy copy of the
weights (microseconds instead of a Keras call's milliseconds), and all the
gradient steps of one training call run inside one compiled ``tf.function`` with a
fixed input signature, so Python and TensorFlow's dispatch are paid once per call.

Handy for the chapters: ``agent.q_values(obs_batch)`` (NumPy, ``(B, A)``),
``agent.value_advantage(obs_batch)`` (dueling: V ``(B,)`` and A ``(B, A)``),
``agent.model`` and ``agent.target_model``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from rlbook import checkpoint as ck
from rlbook._validate import non_negative_int, positive, unit_interval, with_overrides
from rlbook.replay import ReplayBuffer
from rlbook.schedules import make_schedule

__all__ = ["DQNConfig", "DQNAgent"]

MODEL_TYPES = ("dense", "conv", "lstm")


@dataclass(frozen=True)
class DQNConfig:
    """Hyperparameters of DQN. The defaults solve CartPole-v1 quickly (chapter 3)."""

    model_type: str = "dense"
    """Q-network kind: ``"dense"`` (flat observations), ``"conv"`` (images) or ``"lstm"`` (sequences)."""
    hidden: tuple[int, ...] = (128, 128)
    """Units of the hidden Dense layers."""
    double: bool = True
    """Use the double-DQN target: the online net selects the next action, the target net values it."""
    dueling: bool = True
    """Use a dueling head: Q = V + A - mean(A)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    lr: float = 2e-3
    """Adam learning rate."""
    loss: str = "huber"
    """``"huber"`` or ``"mse"`` between Q(s, a) and its target."""
    batch_size: int = 64
    """Transitions per minibatch (sequences per minibatch for the LSTM)."""
    buffer_size: int = 50_000
    """Transitions kept in the replay buffer."""
    learning_starts: int = 1_000
    """Environment steps of random-ish play before the first gradient step."""
    train_every: int = 64
    """Environment steps between training calls."""
    gradient_steps: int = 16
    """Gradient steps per training call (one compiled call does them all)."""
    target_update_every: int = 50
    """Gradient steps between target-network updates."""
    tau: float = 1.0
    """Target update rate in (0, 1]: target <- tau * online + (1 - tau) * target (1.0 = hard copy)."""
    epsilon_start: float = 1.0
    """Exploration rate at the start."""
    epsilon_end: float = 0.02
    """Exploration rate after the decay."""
    epsilon_decay_steps: int = 8_000
    """Environment steps over which epsilon anneals."""
    epsilon_schedule: str = "linear"
    """``"linear"``, ``"exponential"`` or ``"constant"``."""
    seq_len: int = 8
    """Length of the replayed sequences (``model_type="lstm"``)."""
    lstm_units: int = 64
    """Units of the LSTM (``model_type="lstm"``)."""
    seed: int | None = 0
    """Seed of the network weights, exploration and replay sampling."""

    def __post_init__(self):
        from rlbook._validate import check_config, one_of

        check_config(self, model_type=one_of(*MODEL_TYPES), loss=one_of("huber", "mse"))
        if self.batch_size > self.buffer_size:
            raise ValueError(f"batch_size ({self.batch_size}) must not exceed buffer_size ({self.buffer_size})")


def _check_spaces(observation_space, action_space, model_type: str) -> None:
    if not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(
            f"DQN needs a Discrete action space (one Q-value per action), got {action_space!r}; "
            "continuous actions need a policy-gradient method with a Gaussian policy instead"
        )
    if not isinstance(observation_space, gym.spaces.Box):
        raise TypeError(f"DQN needs a Box observation space, got {observation_space!r}; "
                        "for Discrete observations use tabular Q-learning (chapter 2)")
    dims = len(observation_space.shape)
    if model_type in ("dense", "lstm") and dims != 1:
        raise ValueError(f"model_type={model_type!r} needs flat observations of shape (d,), got shape "
                         f"{observation_space.shape}; use model_type='conv' for images")
    if model_type == "conv" and dims != 3:
        raise ValueError(f"model_type='conv' needs image observations of shape (H, W, C), got shape "
                         f"{observation_space.shape}; use model_type='dense' for flat vectors")


class DQNAgent(ck.Checkpointable):
    """DQN with replay, a target network, and optional double/dueling/recurrent variants.

    Args:
        observation_space: a ``Box`` (flat for dense/lstm, ``(H, W, C)`` for conv).
        action_space: a ``Discrete`` space.
        config: :class:`DQNConfig`; keyword arguments override single fields.
        num_envs: copies of the environment stepped together (a vector env's ``num_envs``).
    """

    def __init__(self, observation_space, action_space, config: DQNConfig | None = None, num_envs: int = 1, **overrides):
        import tensorflow as tf

        from rlbook.nets import q_network
        from rlbook.speed import NumpyMLP

        config = with_overrides(config or DQNConfig(), overrides)
        _check_spaces(observation_space, action_space, config.model_type)
        positive("num_envs", num_envs, integer=True)
        self.config, self.num_envs = config, num_envs
        self.n_actions = int(action_space.n)
        self.obs_shape = tuple(observation_space.shape)
        pixels = observation_space.dtype == np.uint8
        if config.seed is not None:
            tf.random.set_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.epsilon_fn = make_schedule(config.epsilon_schedule, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)

        def build(name):
            return q_network(self.obs_shape, self.n_actions, config.model_type, config.hidden, config.dueling,
                             config.lstm_units, pixels, config.seed, name)

        self.model, self.target_model = build("q_online"), build("q_target")
        self.target_model.set_weights(self.model.get_weights())
        self.optimizer = tf.keras.optimizers.Adam(config.lr)
        self.optimizer.build(self.model.trainable_variables)  # slots made now, not while tracing
        self.buffer = ReplayBuffer(config.buffer_size, self.obs_shape, num_envs, np.uint8 if pixels else np.float32)
        self.env_steps = 0
        self.gradient_steps_done = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._numpy_q = NumpyMLP(self.model) if config.model_type == "dense" else None
        self._build_functions(tf)
        self._windows: dict[int, np.ndarray] = {}  # LSTM memory: number of copies -> their windows
        self.reset_state(num_envs)

    # -- compiled functions ---------------------------------------------------------
    def _build_functions(self, tf) -> None:
        from rlbook.losses import double_td_target, q_loss, td_target
        from rlbook.nets import q_from_head

        c = self.config
        recurrent = c.model_type == "lstm"
        K, B = c.gradient_steps, c.batch_size
        seq = (c.seq_len,) if recurrent else ()
        obs_dtype = tf.uint8 if self.buffer.obs.dtype == np.uint8 else tf.float32
        online, target, optimizer = self.model, self.target_model, self.optimizer
        q_of = lambda net, obs: q_from_head(net(obs, training=False), c.dueling)  # noqa: E731

        def one_step(obs, action, reward, next_obs, terminated, mask):
            next_q_target = q_of(target, next_obs)
            # y = r + gamma (1 - terminated) Q_target(s', argmax_a' Q_online(s', a'))   (double)
            # y = r + gamma (1 - terminated) max_a' Q_target(s', a')                     (vanilla)
            if c.double:
                y = double_td_target(reward, q_of(online, next_obs), next_q_target, terminated, c.gamma)
            else:
                y = td_target(reward, next_q_target, terminated, c.gamma)
            with tf.GradientTape() as tape:
                q = q_of(online, obs)
                # Sequences (LSTM): shapes gain a time axis, and steps of the next episode
                # inside a replayed sequence get weight 0.
                loss = q_loss(q, action, y, c.loss, weights=mask if recurrent else None)
            grads = tape.gradient(loss, online.trainable_variables)
            optimizer.apply_gradients(zip(grads, online.trainable_variables))
            self.gradient_steps_done.assign_add(1)
            # The target network trails the online one: hard copy when tau == 1.
            if self.gradient_steps_done % c.target_update_every == 0:
                for t_var, o_var in zip(target.variables, online.variables):
                    t_var.assign(c.tau * o_var + (1.0 - c.tau) * t_var)
            return loss, tf.reduce_mean(tf.reduce_max(q, axis=-1))

        spec = lambda shape, dtype: tf.TensorSpec((K, B) + seq + shape, dtype)  # noqa: E731

        @tf.function(input_signature=[spec(self.obs_shape, obs_dtype), spec((), tf.int64), spec((), tf.float32),
                                      spec(self.obs_shape, obs_dtype), spec((), tf.float32), spec((), tf.float32)])
        def train_many(obs, action, reward, next_obs, terminated, mask):
            losses, mean_qs = tf.TensorArray(tf.float32, K), tf.TensorArray(tf.float32, K)
            for k in tf.range(K):
                loss, mean_q = one_step(obs[k], action[k], reward[k], next_obs[k], terminated[k], mask[k])
                losses, mean_qs = losses.write(k, loss), mean_qs.write(k, mean_q)
            return tf.reduce_mean(losses.stack()), tf.reduce_mean(mean_qs.stack())

        self._train_many = train_many
        self._q_batch = tf.function(lambda obs: q_of(online, obs), reduce_retracing=True)

    # -- acting -----------------------------------------------------------------------
    @property
    def epsilon(self) -> float:
        return self.epsilon_fn(self.env_steps)

    def reset_state(self, num_envs: int) -> None:
        """Forget the LSTM's memory of ``num_envs`` parallel episodes (no-op for other models).

        The memory is a window of each copy's last ``seq_len`` observations; all-zero
        rows are padding, which the network's Masking layer skips, so a fresh window is
        exactly a fresh LSTM state. One memory is kept per number of copies, so a greedy
        evaluation on 10 copies in the middle of training on 4 leaves the memory of the
        4 running training episodes alone.
        """
        if self.config.model_type == "lstm":
            self._windows[num_envs] = np.zeros((num_envs, self.config.seq_len) + self.obs_shape, np.float32)

    @property
    def recurrent_state(self) -> dict[int, np.ndarray] | None:
        """A copy of the LSTM's memory (``None`` for other models); assigning it puts a memory back.

        :func:`rlbook.train.evaluate` saves it before a greedy evaluation and restores it after,
        so evaluating, even on as many copies as training uses, never disturbs the memory of the
        running training episodes.
        """
        if self.config.model_type != "lstm":
            return None
        return {n: w.copy() for n, w in self._windows.items()}

    @recurrent_state.setter
    def recurrent_state(self, memory: dict[int, np.ndarray] | None) -> None:
        if memory is not None:
            self._windows = {n: w.copy() for n, w in memory.items()}

    @property
    def _window(self) -> np.ndarray | None:
        """The LSTM memory of the ``num_envs`` training copies, ``(num_envs, seq_len, *obs_shape)``."""
        return self._windows.get(self.num_envs)

    def q_values(self, obs) -> np.ndarray:
        """Q-values of a batch of observations, shape ``(B, A)`` (the LSTM sees each alone)."""
        obs = np.asarray(obs, dtype=self.buffer.obs.dtype).reshape((-1,) + self.obs_shape)
        if self._numpy_q is not None:
            head = self._numpy_q(obs)
            return head[:, 1:] + head[:, :1] - head[:, 1:].mean(axis=1, keepdims=True) if self.config.dueling else head
        if self.config.model_type == "lstm":
            obs = obs[:, None]
        q = self._q_batch(obs).numpy()
        return q[:, -1] if self.config.model_type == "lstm" else q

    def value_advantage(self, obs) -> tuple[np.ndarray, np.ndarray]:
        """For a dueling network: V(s) ``(B,)`` and the mean-removed A(s, a) ``(B, A)``."""
        if not self.config.dueling:
            raise ValueError("value_advantage needs a dueling network (dueling=True)")
        q = self.q_values(obs)
        v = q.mean(axis=1)
        return v, q - v[:, None]

    def _recurrent_q(self, obs: np.ndarray) -> np.ndarray:
        # Slide each copy's window by one step and rerun the LSTM over it: at act time the
        # network sees the same kind of seq_len-step window it is trained on.
        n = len(obs)
        if n not in self._windows:
            self.reset_state(n)
        window = self._windows[n] = np.concatenate([self._windows[n][:, 1:], obs[:, None]], axis=1)
        return self._q_batch(window).numpy()[:, -1]

    def act(self, obs, greedy: bool = False):
        """Epsilon-greedy action(s): an int for one observation, an array for a batch."""
        obs = np.asarray(obs, dtype=self.buffer.obs.dtype)
        batched = obs.ndim == len(self.obs_shape) + 1
        if not batched:
            obs = obs[None]
        if self._numpy_q is not None:
            head = self._numpy_q(obs)
            # With a dueling head V(s) is the same for every action, so the greedy
            # action is the argmax of the advantages alone.
            actions = (head[:, 1:] if self.config.dueling else head).argmax(axis=1)
        else:
            q = self._recurrent_q(obs) if self.config.model_type == "lstm" else self.q_values(obs)
            actions = q.argmax(axis=1)
        if not greedy:
            explore = self.rng.random(len(actions)) < self.epsilon
            if explore.any():
                actions[explore] = self.rng.integers(0, self.n_actions, int(explore.sum()))
        return actions if batched else int(actions[0])

    # -- learning ----------------------------------------------------------------------
    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        """Store the transition(s); train every ``train_every`` steps once ``learning_starts`` have passed."""
        n = self.num_envs
        self.buffer.add(obs, action, reward, next_obs, terminated, truncated)
        if self.config.model_type == "lstm":  # a finished episode's memory is wiped
            done = np.reshape(np.logical_or(terminated, truncated), (n,))
            if done.any() and n in self._windows:
                self._windows[n][done] = 0.0
        before, self.env_steps = self.env_steps, self.env_steps + n
        c = self.config
        if self.env_steps < c.learning_starts or self.env_steps // c.train_every == before // c.train_every:
            return None
        return self.train_step()

    def train_step(self) -> dict[str, float]:
        """One training call: ``gradient_steps`` minibatches, one compiled call."""
        c = self.config
        if c.model_type == "lstm":
            batches = [self.buffer.sample_sequences(c.batch_size, c.seq_len, self.rng) for _ in range(c.gradient_steps)]
            batch = {k: np.stack([b[k] for b in batches]) for k in batches[0]}
        else:
            batch = self.buffer.sample(c.batch_size, self.rng, num_batches=c.gradient_steps)
            batch["mask"] = np.ones_like(batch["reward"])
        loss, mean_q = self._train_many(batch["obs"], batch["action"], batch["reward"], batch["next_obs"],
                                        batch["terminated"], batch["mask"])
        if self._numpy_q is not None:
            self._numpy_q.sync()
        return {"loss": float(loss), "mean_q": float(mean_q), "epsilon": self.epsilon}

    # -- checkpoints (see rlbook.checkpoint) ------------------------------------------------
    _REPLAY_FIELDS = ("obs", "next_obs", "action", "reward", "terminated", "done")

    def _checkpoint(self, replay: bool = True):
        spec = {"observation_space": ck.box_spec(self.obs_shape, self.buffer.obs.dtype), "n_actions": self.n_actions,
                "num_envs": self.num_envs, "model_type": self.config.model_type, "dueling": self.config.dueling}
        counters = {"env_steps": self.env_steps, "gradient_steps": int(self.gradient_steps_done.numpy()),
                    "rng": ck.rng_state(self.rng)}
        arrays = {**ck.model_arrays("weights.online", self.model), **ck.model_arrays("weights.target", self.target_model),
                  **ck.optimizer_arrays("optimizer", self.optimizer)}
        if replay:  # only the rows written so far
            b = self.buffer
            arrays.update({f"replay.{name}": getattr(b, name)[: b.filled] for name in self._REPLAY_FIELDS})
            counters["replay"] = {"cursor": b.cursor, "filled": b.filled, "rows": b.rows}
        return spec, counters, arrays

    def _restore_checkpoint(self, counters: dict, arrays: dict) -> None:
        ck.set_model("weights.online", self.model, arrays)
        ck.set_model("weights.target", self.target_model, arrays)
        ck.set_optimizer("optimizer", self.optimizer, arrays)
        self.env_steps = int(counters["env_steps"])
        self.gradient_steps_done.assign(int(counters["gradient_steps"]))
        ck.set_rng_state(self.rng, counters["rng"])
        saved = counters.get("replay")
        b = self.buffer
        if saved is not None and saved["rows"] == b.rows and arrays["replay.obs"].shape[1:] == b.obs.shape[1:]:
            for name in self._REPLAY_FIELDS:
                getattr(b, name)[: saved["filled"]] = arrays[f"replay.{name}"]
            b.cursor, b.filled = saved["cursor"], saved["filled"]
        if self._numpy_q is not None:
            self._numpy_q.sync()
        self.reset_state(self.num_envs)
