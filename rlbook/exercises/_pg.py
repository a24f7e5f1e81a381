"""What the policy-gradient checks of chapters 6 (REINFORCE) and 7 (actor-critic) share.

* NumPy references: the log-softmax, and discounted returns along the time axis (with resets
  at episode ends and a bootstrap value), with the typical wrong returns and their hints
  (:func:`return_mistakes`, used for REINFORCE's returns and the actor-critic's n-step targets).
* The unit cases of a learning step: tiny networks, a plain SGD optimizer (one step moves the
  weights by exactly ``-lr * gradient``), and the step the student's function took, read from
  the change of the weights and compared with the policy gradient and its typical mistakes
  (:func:`policy_step_mistake`).
* The agent that trains with the student's functions (:class:`StudentStep`: compiled where
  their code allows, eager otherwise) and the verdict that puts training and unit checks
  together (:func:`train_on_cartpole`, :func:`cartpole_verdict`).
"""

from __future__ import annotations

import functools

import numpy as np

from rlbook.exercises._core import (
    Mistake,
    StudentError,
    Verdict,
    agent_verdict,
    assert_unchanged,
    tensor_hint,
)

# -- NumPy references ---------------------------------------------------------------------------


def log_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def policy_batch(rng, n, n_actions):
    """Random logits (N, A) and actions (N,): a batch of steps for a policy loss."""
    logits = np.round(rng.normal(0.0, 1.5, size=(n, n_actions)), 2).astype(np.float32)
    actions = rng.integers(n_actions, size=n).astype(np.int32)
    return logits, actions


def taped(fn):
    """``fn`` called inside a persistent ``GradientTape``: returns ``(its answer, the tape)``,
    so that a check can read the gradients of the loss the student computed."""
    import tensorflow as tf

    @functools.wraps(fn)
    def run(*args):
        with tf.GradientTape(persistent=True) as tape:
            out = fn(*args)
        return out, tape

    return run


def loss_inputs(rng, n, n_actions, **arrays):
    """Random logits and actions, and ``arrays`` (name: NumPy array), as the tensors the check
    hands the student (Variables, so that gradients can be read; actions a constant)."""
    import tensorflow as tf

    logits, actions = policy_batch(rng, n, n_actions)
    arrays = {"logits": logits, **arrays}
    tensors = {k: tf.Variable(v) for k, v in arrays.items()}
    return arrays, tensors, actions, tf.constant(actions)


def assert_tensors_unchanged(name: str, arrays: dict, tensors: dict) -> None:
    assert_unchanged(
        name, list(arrays.values()), [tensors[k].numpy() for k in arrays], list(arrays)
    )


def grads_or_none(tape, loss, variables):
    import tensorflow as tf

    try:
        grads = tape.gradient(loss, variables, unconnected_gradients=tf.UnconnectedGradients.NONE)
    except Exception:  # noqa: BLE001 - e.g. a NumPy value: no gradient at all
        return [None] * len(variables)
    return [
        None if g is None else np.asarray(tf.convert_to_tensor(g).numpy(), np.float64)
        for g in grads
    ]


def moves(g) -> bool:
    return g is not None and bool(np.any(np.abs(g) > 1e-7))


def discounted(rewards, dones, gamma, bootstrap=0.0, reset_offset=0, first_discount=None):
    """``y_t = r_t + gamma (1 - d_{t + reset_offset}) y_{t+1}`` along axis 0, from ``y_T =
    bootstrap``.

    Works for one sequence ``(T,)`` and for time-major batches ``(T, E)``. ``reset_offset``
    reads the end flag one step late (+1) or early (-1), a typical slip; ``first_discount``
    replaces gamma on the bootstrap term only (1.0: a bootstrap value that is not discounted).
    """
    r = np.asarray(rewards, np.float64)
    d = np.asarray(dones, np.float64)
    out = np.zeros_like(r)
    g = np.broadcast_to(np.asarray(bootstrap, np.float64), r.shape[1:]).copy()
    for t in range(len(r) - 1, -1, -1):
        k = t + reset_offset
        end = d[k] if 0 <= k < len(d) else np.zeros_like(d[0])
        discount = first_discount if (first_discount is not None and t == len(r) - 1) else gamma
        g = r[t] + discount * (1.0 - end) * g
        out[t] = g
    return out


def _forward(r, dones, gamma):
    """Rewards accumulated from the start of each episode (the wrong direction)."""
    out, g = np.zeros_like(r), np.zeros_like(r[0])
    for t in range(len(r)):
        g = np.where(dones[t - 1] > 0, 0.0, g) if t > 0 else g
        g = r[t] + gamma * g
        out[t] = g
    return out


def _discount_now(r, dones, gamma, b):
    out, g = np.zeros_like(r), np.broadcast_to(np.asarray(b, np.float64), r.shape[1:]).copy()
    for t in range(len(r) - 1, -1, -1):
        g = gamma * (r[t] + (1.0 - dones[t]) * g)
        out[t] = g
    return out


def _ret(c, dones=None, gamma=None, bootstrap=None, **kw):
    """The case's returns (or targets) with one part replaced by a typical slip."""
    d = c.dones if dones is None else dones
    b = c.b if bootstrap is None else bootstrap
    return discounted(c.r, d, c.gamma if gamma is None else gamma, b, **kw)


def _recursion(c) -> str:
    return f"{c.symbol} = r_t + gamma * (1 - dones[t]) * {c.next_symbol}"


def _if(condition, value):
    return value if condition else None  # None: the mistake does not apply to this case


def _cut_last(c):
    last_cut = c.dones.copy()
    last_cut[-1] = 0.0
    return _ret(c, dones=last_cut)


_ONE_OFF = (
    "the reset is one step off: at an episode's last step t (dones[t] = 1) {s} = r_t, so use "
    "dones[t] (not dones[t {sign} 1]) when computing {s}."
)

# The typical slips in discounted returns (chapter 6) and n-step targets (chapter 7). A case has
# ``r`` and ``dones`` ((T,) or time-major (T, E)), ``gamma``, ``b`` (the bootstrap value, 0 for
# complete episodes), ``bootstrapped`` (bool), ``symbol`` ("G_t" or "y_t"), ``next_symbol`` and
# ``quantity`` ("returns" or "targets").
RETURN_MISTAKES = [
    Mistake(
        lambda c: (
            f"{c.quantity} are not reset at episode ends: after an episode's last step "
            "(dones[t] = 1) the next episode's rewards"
            + (" and the bootstrap value" if c.bootstrapped else "")
            + f" must not flow back into it. Restart the sum: {_recursion(c)}."
        ),
        lambda c: _if(c.dones.any(), _ret(c, dones=np.zeros_like(c.dones))),
    ),
    Mistake(
        lambda c: _ONE_OFF.format(s=c.symbol, sign="+"),
        lambda c: _if(c.dones.any(), _ret(c, reset_offset=1)),
    ),
    Mistake(
        lambda c: _ONE_OFF.format(s=c.symbol, sign="-"),
        lambda c: _if(c.dones.any(), _ret(c, reset_offset=-1)),
    ),
    Mistake(
        "the end flag is the wrong way round: keep the future where the episode goes on, "
        "(1 - dones[t]).",
        lambda c: _if(c.dones.any(), _ret(c, dones=1.0 - c.dones)),
    ),
    Mistake(
        lambda c: (
            f"the {c.quantity} do not start from the bootstrap value: after the rollout's last "
            "step the episode goes on, worth V(s_T) (last_values), so start the backward pass "
            "from it, not from 0."
        ),
        lambda c: _if(c.bootstrapped, _ret(c, bootstrap=0.0)),
    ),
    Mistake(
        lambda c: (
            f"the bootstrap value is not discounted: the last step's {c.symbol} is "
            "r + gamma * (1 - dones) * V(s_T)."
        ),
        lambda c: _if(c.bootstrapped, _ret(c, first_discount=1.0)),
    ),
    Mistake(
        lambda c: (
            f"every {c.symbol} bootstraps from V(s_T) after one reward; an n-step target adds "
            f"the rewards up to the rollout's end: {_recursion(c)}, backwards from V(s_T)."
        ),
        lambda c: _if(c.bootstrapped, c.r + c.gamma * (1.0 - c.dones) * np.asarray(c.b)),
    ),
    Mistake(
        "the bootstrap value reaches steps where the episode ended (dones = 1 on the last step): "
        "nothing follows a real end, so multiply V(s_T) by (1 - dones) too (no bootstrapping "
        "through episode ends).",
        lambda c: _if(c.bootstrapped, _cut_last(c)),
    ),
    Mistake(
        lambda c: (
            f"the {c.quantity} are right but in reverse order: after the backward loop, reverse "
            f"the list so that entry t is {c.symbol}."
        ),
        lambda c: _ret(c)[::-1],
    ),
    Mistake(
        lambda c: (
            f"you accumulated rewards from the start of the episode; {c.symbol} looks *forward*, "
            "at the rewards from step t to the end. Loop over the rewards from the last one back."
        ),
        lambda c: _forward(c.r, c.dones, c.gamma),
    ),
    Mistake(
        lambda c: (
            f"the {c.quantity} are not discounted: each step further away should count gamma "
            "times less."
        ),
        lambda c: _ret(c, gamma=1.0),
    ),
    Mistake(
        lambda c: (
            f"the reward of step t itself is not discounted (it arrives now): {c.symbol} = r_t + "
            f"gamma * {c.next_symbol}."
        ),
        lambda c: _discount_now(c.r, c.dones, c.gamma, c.b),
    ),
    Mistake(
        lambda c: (
            f"every step got the total return {c.symbol.replace('_t', '_0')} of the first step; "
            f"{c.symbol} counts only the rewards from step t on."
        ),
        lambda c: np.broadcast_to(_ret(c)[0], c.r.shape),
    ),
    Mistake(
        lambda c: f"the {c.quantity} are shifted by one step: entry t must be {c.symbol}.",
        lambda c: _if(len(c.r) > 1, np.concatenate([np.zeros_like(c.r[:1]), _ret(c)[:-1]])),
    ),
    Mistake(
        lambda c: (
            f"the {c.quantity} are shifted by one step (off by one): entry t must be {c.symbol}, "
            "which includes r_t."
        ),
        lambda c: _if(len(c.r) > 1, np.concatenate([_ret(c)[1:], np.zeros_like(c.r[:1])])),
    ),
]


# -- the unit cases of a learning step ----------------------------------------------------------


def _small_network_class():
    import tensorflow as tf

    class SmallNetwork(tf.Module):
        """A dense network ``d -> 8 (ReLU) -> outputs`` that stands in for a Keras model.

        It is called the same way (``net(obs)``, a batch in, a batch out) and has the same
        ``trainable_variables`` (kernel and bias of each layer, in order), but an eager call
        costs about 1 ms instead of about 20, which keeps the unit cases of a learning step
        quick.
        """

        def __init__(self, rng, inputs: int, outputs: int, name: str, offset: float = 0.0):
            super().__init__(name=name)
            hidden = 8
            self.layers_ = [
                tf.Variable(
                    rng.uniform(-1, 1, (inputs, hidden)) * np.sqrt(6 / (inputs + hidden)),
                    dtype=tf.float32,
                    name="kernel_0",
                ),
                tf.Variable(rng.uniform(-0.1, 0.1, hidden), dtype=tf.float32, name="bias_0"),
                tf.Variable(
                    rng.uniform(-1, 1, (hidden, outputs)) * np.sqrt(6 / (hidden + outputs)),
                    dtype=tf.float32,
                    name="kernel_1",
                ),
                tf.Variable(
                    rng.uniform(-0.1, 0.1, outputs) + offset, dtype=tf.float32, name="bias_1"
                ),
            ]

        def __call__(self, x, training=None):
            w0, b0, w1, b1 = self.layers_
            x = tf.convert_to_tensor(x, tf.float32)
            return tf.nn.relu(x @ w0 + b0) @ w1 + b1

        @property
        def trainable_weights(self):  # the Keras name of the same list
            return list(self.trainable_variables)

    return SmallNetwork


def tiny_networks(rng, obs_dim: int, n_actions: int, value_offset: float):
    """A small policy (logits) and value network with random weights; V is shifted by
    ``value_offset`` so that a forgotten baseline changes the numbers clearly."""
    cls = _small_network_class()
    return cls(rng, obs_dim, n_actions, "policy"), cls(rng, obs_dim, 1, "value", value_offset)


def sgd(lr: float):
    """Plain SGD: one step moves the weights by exactly ``-lr * gradient``."""
    import keras

    return keras.optimizers.SGD(learning_rate=lr)


def flat(model) -> np.ndarray:
    """All trainable weights of ``model`` as one float64 vector."""
    return np.concatenate([np.ravel(v.numpy()) for v in model.trainable_variables]).astype(
        np.float64
    )


def set_flat(model, vector) -> None:
    i = 0
    for v in model.trainable_variables:
        n = int(np.prod(v.shape))
        v.assign(np.asarray(vector[i : i + n], np.float32).reshape(v.shape))
        i += n


def near(a, b, rtol: float = 3e-3) -> bool:
    """Two weight-change vectors agree (relative to the size of ``b``, float32 noise allowed)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.linalg.norm(a - b) <= rtol * np.linalg.norm(b) + 1e-6)


def backprop(model, obs, output_grads) -> np.ndarray:
    """The gradient of ``sum(output_grads * model(obs))`` with respect to the weights, flat."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        out = model(obs)
    grads = tape.gradient(
        out, model.trainable_variables, output_gradients=tf.constant(output_grads, tf.float32)
    )
    return np.concatenate([np.ravel(g.numpy()) for g in grads]).astype(np.float64)


def pg_output_grad(logits, actions, weights) -> np.ndarray:
    """d/dlogits of ``-mean_t[w_t log pi(a_t|s_t)]``, ``(N, A)``."""
    n, n_actions = logits.shape
    pi = np.exp(log_softmax(logits))
    return -(np.asarray(weights, np.float64) / n)[:, None] * (np.eye(n_actions)[actions] - pi)


def policy_step_mistake(
    taken, policy, obs, actions, weights, lr, *, weight_name, others=()
) -> str | None:
    """Which typical mistake explains the policy step the student took, or None.

    ``taken`` is the change of the policy's weights divided by ``-lr`` (the gradient that one
    SGD step followed); ``weights`` the right weights of the log-probabilities (``G_t - V(s_t)``
    or the TD errors). ``others``: more ``(weights, message)`` candidates for this chapter.
    The policy's weights must be those before the step.
    """
    import tensorflow as tf

    logits = policy(tf.constant(obs)).numpy().astype(np.float64)
    candidates = _policy_candidates(logits, actions, weights, weight_name)
    candidates += [(pg_output_grad(logits, actions, other), message) for other, message in others]
    right = backprop(policy, obs, pg_output_grad(logits, actions, weights))
    for output_grad, message in candidates:
        if len(actions) == 1 and message.startswith("the step is N times"):
            continue
        expected = backprop(policy, obs, output_grad)
        if near(taken, expected) and not near(taken, right):
            return message
        if "all actions" in message and _parallel(taken, expected):
            return message
    return _step_size_problem(taken, right)


def _policy_candidates(logits, actions, weights, weight_name):
    """``(gradient of the loss with respect to the logits, hint)`` for the typical mistakes."""
    n, n_actions = logits.shape
    pi = np.exp(log_softmax(logits))
    onehot = np.eye(n_actions)[actions]
    w = np.asarray(weights, np.float64)[:, None] / n
    loss = f"-mean[({weight_name}) log pi(a_t|s_t)]"
    candidates = [
        (
            -pg_output_grad(logits, actions, weights),
            f"the policy moved *up* the gradient of {loss}: the sign is flipped, and the "
            "better-than-expected actions became less likely. Minimise the loss with the minus "
            "sign (the optimizer always goes down the gradient).",
        ),
        (
            n * pg_output_grad(logits, actions, weights),
            "the step is N times too large: use the mean over the batch, not the sum "
            "(tf.reduce_mean), so the step size does not grow with the batch.",
        ),
        (
            -w * pi[np.arange(n), actions][:, None] * (onehot - pi),
            "the step follows pi(a|s) itself; use its logarithm, log pi(a|s) (tf.nn.log_softmax).",
        ),
        (
            -w * onehot,
            "the step treats the logits as log-probabilities; apply tf.nn.log_softmax to the "
            "logits first.",
        ),
        (
            -w * (np.eye(n_actions)[np.zeros(n, int)] - pi),
            "the step raises the log-probability of action 0 in every state: pick the action "
            "taken in each step, tf.gather(log_probs, actions, batch_dims=1).",
        ),
        (
            -w * (1.0 - n_actions * pi),
            "the step raises the log-probabilities of all actions: pick the action taken in each "
            "step, tf.gather(log_probs, actions, batch_dims=1).",
        ),
    ]
    if n > 1:
        w_all = np.asarray(weights, np.float64)
        scaled = (w_all - w_all.mean()) / (w_all.std() + 1e-8)
        candidates.append(
            (
                pg_output_grad(logits, actions, scaled),
                "the weights were normalised to mean 0 and standard deviation 1 (what the "
                f"agents' normalize=True does); this exercise asks for {weight_name} as it is.",
            )
        )
    return candidates


def _step_size_problem(taken, right) -> str | None:
    """A step in the right direction but of the wrong size (an optimizer of the student's own)."""
    moved = np.abs(right) > 1e-3 * np.abs(right).max()  # (Adam: tiny gradients, smaller steps)
    if (
        moved.any()
        and np.array_equal(np.sign(taken[moved]), np.sign(right[moved]))
        and np.ptp(np.abs(taken[moved])) < 0.1 * np.abs(taken[moved]).mean()
    ):
        return (
            "every weight moved by the same amount, as the first step of an Adam optimizer of "
            "your own would: take the step with the optimizer you are given (the agent gives "
            "its Adam, this check a plain SGD that shows the gradient you followed)."
        )
    if _parallel(taken, right):
        ratio = float(np.dot(taken, right) / np.dot(right, right))
        return (
            f"the step goes the right way but is {ratio:.3g} times the size of one step of the "
            "optimizer you are given: take exactly one step, "
            "optimizer.apply_gradients(zip(grads, policy.trainable_variables)), with that "
            "optimizer (not one of your own)."
        )
    return None


def _parallel(a, b) -> bool:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return bool(na > 0 and nb > 0 and np.dot(a, b) / (na * nb) > 0.9999)


def no_gradient_hint(err, line: str) -> str | None:
    """A hint for an optimizer given no gradient (the loss computed outside the tape, or in
    NumPy)."""
    text = str(err)
    if "No gradients provided" in text or ".gradient(" in line or "apply_gradients" in line:
        return (
            "No gradient reached the weights: compute the loss inside the `with "
            "tf.GradientTape() as tape:` block, from the network's output, with TensorFlow "
            "operations (no NumPy, no .numpy()), and differentiate it with "
            "tape.gradient(loss, network.trainable_variables)."
        )
    return tensor_hint(err, line)


# -- the agent that learns with the student's functions -----------------------------------------


class StudentStep:
    """A learning step that calls the student's code: compiled where their code allows.

    The first call runs ``compiled`` (the agent's ``tf.function``, which traces the student's
    function together with the library's part of the step). If that raises anything, tracing
    included, every later call runs ``eager``, which calls the student's function through
    :func:`~rlbook.exercises._core.call_student`: the same computation, and an error that shows
    the student's own line instead of TensorFlow's generated code.
    """

    def __init__(self, compiled, eager):
        self.compiled, self.eager, self.use_eager = compiled, eager, False

    def __call__(self, *args):
        if not self.use_eager:
            try:
                return self.compiled(*args)
            except Exception:  # noqa: BLE001 - rerun eagerly: it reports in the student's terms
                self.use_eager = True
        return self.eager(*args)


def train_on_cartpole(make_agent, steps: int, threshold: float, eval_every: int = 1000):
    """Train ``make_agent(observation_space, action_space, seed)`` on 8 copies of CartPole-v1
    with a fresh seed, until an evaluation's mean return reaches ``threshold``.

    Every ``eval_every`` steps the agent plays 10 episodes on separate copies *sampling* its
    actions, as it does in training (``evaluate(..., greedy=False)``). Not greedily: the greedy
    policy of an untrained network sometimes balances the pole for hundreds of steps by itself
    (on about 4% of seeds its best of 20 ten-episode means reached 200), while sampling from it
    never came near 100 (at most 46 in the same test).

    Returns:
        ``(best, steps_taken, problem)``: the best evaluation's mean return (None if training
        stopped before one), the environment steps taken, and the message of a "not yet" that
        stopped training (None if it ran).
    """
    from rlbook.envs import make_vec_env
    from rlbook.exercises._core import fresh_rng
    from rlbook.train import History, evaluate, train

    seed = int(fresh_rng().integers(2**31 - 20_000))
    env = make_vec_env("CartPole-v1", 8, seed=seed)
    eval_env = make_vec_env("CartPole-v1", 10, seed=seed + 10_000)
    history, problem, means = History(), None, []

    def evaluate_sampled(h) -> bool:
        if h.steps < (len(means) + 1) * eval_every:
            return False
        means.append(float(evaluate(agent, eval_env, 10, greedy=False).mean()))
        return means[-1] >= threshold  # True stops training

    try:
        agent = make_agent(env.single_observation_space, env.single_action_space, seed)
        train(agent, env, steps=steps, callback=evaluate_sampled, progress=False, history=history)
    except StudentError as err:
        problem = err.verdict.message
    finally:
        env.close()
        eval_env.close()
    if history.interrupted:
        problem = "training was interrupted (KeyboardInterrupt); run the check again."
    return max(means, default=None), history.steps, problem


def cartpole_verdict(run: str, best, threshold, problem, units) -> Verdict:
    """The agent verdict of chapters 6 and 7: ``best`` is the best evaluation's mean return."""
    if best is None:
        reached = "was never evaluated (the run ended before the first evaluation)"
    else:
        reached = (
            f"{'reached' if best >= threshold else 'got at best'} a mean return of {best:.0f} "
            "over 10 episodes, sampling its actions (random play averages about 22; the check "
            f"asks for {threshold:.0f})"
        )
    passed = best is not None and best >= threshold
    forgiving = "CartPole is forgiving: the mistake would show on harder tasks, or on another seed."
    return agent_verdict(run, reached, passed, problem, units, forgiving=forgiving)
