"""What the policy-gradient checks of chapters 6 (REINFORCE), 7 (actor-critic), 9 (PPO) and 10
(SAC) share: NumPy
references (log-softmax, discounted returns, :data:`RETURN_MISTAKES`), the cases of a loss, the
unit cases of a learning step (small networks, a warm SGD, Adam or RMSprop optimizer, and the
step the student took compared with one step of that optimizer down the policy gradient and its
typical mistakes: :class:`Replay`, :func:`policy_step_mistake`), and the agent that trains with
the student's functions (:class:`StudentStep`, :func:`agent_check`).
"""

from __future__ import annotations

import functools
import re

import numpy as np

from rlbook.exercises import _core
from rlbook.exercises._core import Case, StudentError, fail, fmt

# fmt: off


# -- NumPy references ---------------------------------------------------------------------------


def log_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def mixed_signs(rng, n):
    """n random signs, both present when n > 1: weights of both signs, so that mean(|x|) and
    mean(x), and squares and absolute values, give different numbers."""
    signs = rng.choice([-1.0, 1.0], size=n)
    if n > 1:
        signs[rng.permutation(n)[:2]] = [-1.0, 1.0]
    return signs


def taped(fn):
    """``fn`` called inside a persistent ``GradientTape``: returns ``(its answer, the tape)``."""
    import tensorflow as tf
    @functools.wraps(fn)
    def run(*args):
        with tf.GradientTape(persistent=True) as tape:
            out = fn(*args)
        return out, tape

    return run


def loss_case(rng, n, n_actions, text, **arrays):
    """A case of a loss ``(logits, actions, *arrays)``, given as tensors (Variables but the
    actions, so that gradients can be read); ``text`` follows the logits and actions."""
    import tensorflow as tf
    logits = np.round(rng.normal(0.0, 1.5, size=(n, n_actions)), 2).astype(np.float32)
    actions = rng.integers(n_actions, size=n).astype(np.int32)
    arrays = {"logits": logits, **arrays}
    tensors = {k: tf.Variable(v) for k, v in arrays.items()}
    lp = log_softmax(logits.astype(np.float64))
    return Case((tensors["logits"], tf.constant(actions), *list(tensors.values())[1:]), (None,) * 4,
                f"(logits {fmt(logits)}, actions {actions.tolist()}, {text})", arrays=arrays,
                tensors=tensors, actions=actions, lp=lp, log_pi=lp[np.arange(n), actions])


def read_taped(got, c, name):
    """The answer of a loss run by :func:`taped` and its tape, once it left its inputs alone."""
    _core.assert_unchanged(name, list(c.arrays.values()), [t.numpy() for t in c.tensors.values()],
                           list(c.arrays))
    return got


def grads_or_none(tape, loss, variables):
    import tensorflow as tf
    try:
        grads = tape.gradient(loss, variables, unconnected_gradients=tf.UnconnectedGradients.NONE)
    except Exception:  # noqa: BLE001 - e.g. a NumPy value: no gradient at all
        return [None] * len(variables)
    return [None if g is None else np.asarray(tf.convert_to_tensor(g), np.float64) for g in grads]


def moves(g) -> bool:
    return g is not None and bool(np.any(np.abs(g) > 1e-7))


def discounted(rewards, dones, gamma, bootstrap=0.0, reset_offset=0, first_discount=None):
    """``y_t = r_t + gamma (1 - d_{t + reset_offset}) y_{t+1}`` along axis 0, from ``y_T =
    bootstrap``, for ``(T,)`` or time-major ``(T, E)``. ``reset_offset`` reads the end flag one
    step late (+1) or early (-1); ``first_discount`` replaces gamma on the bootstrap term only."""
    r, d = np.asarray(rewards, np.float64), np.asarray(dones, np.float64)
    out, g = np.zeros_like(r), np.broadcast_to(np.asarray(bootstrap, np.float64), r.shape[1:])
    for t in range(len(r) - 1, -1, -1):
        end = d[t + reset_offset] if 0 <= t + reset_offset < len(d) else np.zeros_like(d[0])
        discount = first_discount if first_discount is not None and t == len(r) - 1 else gamma
        out[t] = g = r[t] + discount * (1.0 - end) * g
    return out


def _forward(r, dones, gamma):
    """Rewards accumulated from the start of each episode (the wrong direction)."""
    out, g = np.zeros_like(r), np.zeros_like(r[0])
    for t in range(len(r)):
        g = np.where(dones[t - 1] > 0, 0.0, g) if t > 0 else g
        out[t] = g = r[t] + gamma * g
    return out


def _discount_now(c):
    """Every reward discounted, the one of step t too: y_t = gamma (r_t + (1 - d_t) y_{t+1})."""
    return c.gamma * discounted(c.r, c.dones, c.gamma, c.b / c.gamma)


def _ret(c, dones=None, gamma=None, bootstrap=None, **kw):
    """The case's returns (or targets) with one part replaced by a typical slip."""
    d, b = c.dones if dones is None else dones, c.b if bootstrap is None else bootstrap
    return discounted(c.r, d, c.gamma if gamma is None else gamma, b, **kw)


def _t(template: str):
    """A hint that names the case's quantity ("returns", "targets") and symbols (G_t, y_t)."""
    return lambda c: template.format(**vars(c))


def _if(condition, value):
    return value if condition else None  # None: the mistake does not apply to this case


_REC = "{symbol} = r_t + gamma * (1 - dones[t]) * {next_symbol}"
_ONE_OFF = ("the reset is one step off: at an episode's last step t (dones[t] = 1) {symbol} = r_t, "
            "so use dones[t] (not dones[t {sign} 1]) when computing {symbol}.")

# The typical slips in discounted returns (chapter 6) and n-step targets (chapter 7). A case has
# ``r`` and ``dones`` ((T,) or time-major (T, E)), ``gamma``, ``b`` (the bootstrap value, 0 for
# complete episodes), ``bootstrapped``, ``symbol`` ("G_t" or "y_t"), ``next_symbol``, ``first``
# (G_0 or y_0), ``quantity`` ("returns" or "targets") and ``flows`` (what must not flow back).
RETURN_MISTAKES = [
    (_t("{quantity} are not reset at episode ends: "
        "after an episode's last step (dones[t] = 1) {flows} must not flow back into it. "
        f"Restart the sum: {_REC}."),
     lambda c: _if(c.dones.any(), _ret(c, dones=np.zeros_like(c.dones)))),
    (_t(_ONE_OFF.replace("{sign}", "+")), lambda c: _if(c.dones.any(), _ret(c, reset_offset=1))),
    (_t(_ONE_OFF.replace("{sign}", "-")), lambda c: _if(c.dones.any(), _ret(c, reset_offset=-1))),
    ("the end flag is the wrong way round: keep the future where the episode goes on, "
     "(1 - dones[t]).",
     lambda c: _if(c.dones.any(), _ret(c, dones=1.0 - c.dones))),
    (_t("the {quantity} do not start from the bootstrap value: "
        "after the rollout's last step the episode goes on, worth V(s_T) (last_values), "
        "so start the backward pass from it, not from 0."),
     lambda c: _if(c.bootstrapped, _ret(c, bootstrap=0.0))),
    (_t("the bootstrap value is not discounted: "
        "the last step's {symbol} is r + gamma * (1 - dones) * V(s_T)."),
     lambda c: _if(c.bootstrapped, _ret(c, first_discount=1.0))),
    (_t("every {symbol} bootstraps from V(s_T) after one reward; "
        f"an n-step target adds the rewards up to the rollout's end: {_REC}, "
        "backwards from V(s_T)."),
     lambda c: _if(c.bootstrapped, c.r + c.gamma * (1.0 - c.dones) * np.asarray(c.b))),
    ("the bootstrap value reaches steps where the episode ended (dones = 1 on the last step): "
     "nothing follows a real end, "
     "so multiply V(s_T) by (1 - dones) too (no bootstrapping through episode ends).",
     lambda c: _if(c.bootstrapped, _ret(c, dones=np.vstack([c.dones[:-1], 0 * c.dones[-1]])))),
    (_t("the {quantity} are right but in reverse order: after the backward loop, "
        "reverse the list so that entry t is {symbol}."),
     lambda c: _ret(c)[::-1]),
    (_t("you accumulated rewards from the start of the episode; {symbol} looks *forward*, "
        "at the rewards from step t to the end. Loop over the rewards from the last one back."),
     lambda c: _forward(c.r, c.dones, c.gamma)),
    (_t("the {quantity} are not discounted: each step further away should count gamma times less."),
     lambda c: _ret(c, gamma=1.0)),
    (_t("the reward of step t itself is not discounted (it arrives now): "
        "{symbol} = r_t + gamma * {next_symbol}."),
     _discount_now),
    (_t("every step got the total return {first} of the first step; "
        "{symbol} counts only the rewards from step t on."),
     lambda c: np.broadcast_to(_ret(c)[0], c.r.shape)),
    (_t("the {quantity} are shifted by one step: entry t must be {symbol}."),
     lambda c: _if(len(c.r) > 1, np.concatenate([np.zeros_like(c.r[:1]), _ret(c)[:-1]]))),
    (_t("the {quantity} are shifted by one step (off by one): entry t must be {symbol}, "
        "which includes r_t."),
     lambda c: _if(len(c.r) > 1, np.concatenate([_ret(c)[1:], np.zeros_like(c.r[:1])]))),
    (_t("{first} is missing (0): the loop stops before step 0. "
        "Go over every step, for t in reversed(range(len(rewards)))."),
     lambda c: np.concatenate([np.zeros_like(c.r[:1]), _ret(c)[1:]])),
    (_t("the last step's {symbol} is missing (0): start the loop at the last step, "
        "for t in reversed(range(len(rewards)))."),
     lambda c: _if(len(c.r) > 1, np.concatenate([_ret(c)[:-1], np.zeros_like(c.r[:1])]))),
    ("use the gamma you are given, not a number of your own "
     "(0.99 is only the agents' default): the check tries several.",
     lambda c: _if(c.gamma != 0.99, _ret(c, gamma=0.99))),
]

# -- the unit cases of a learning step ----------------------------------------------------------


def small_network(rng, inputs: int, outputs: int, hidden: int, offset: float = 0.0):
    """A dense ``inputs -> hidden (ReLU) -> outputs`` called like a Keras model, but in 1 ms
    instead of 20 eagerly; the output's bias is shifted by ``offset``."""
    import tensorflow as tf
    def glorot(n, m):
        return tf.Variable((rng.uniform(-1, 1, (n, m)) * np.sqrt(6 / (n + m))).astype(np.float32))

    class SmallNetwork(tf.Module):
        def __init__(self):
            super().__init__()
            self.w0, self.w1 = glorot(inputs, hidden), glorot(hidden, outputs)
            self.b0 = tf.Variable(rng.uniform(-0.1, 0.1, hidden).astype(np.float32))
            self.b1 = tf.Variable((rng.uniform(-0.1, 0.1, outputs) + offset).astype(np.float32))

        def __call__(self, x, training=None):
            x = tf.convert_to_tensor(x, tf.float32)
            return tf.nn.relu(x @ self.w0 + self.b0) @ self.w1 + self.b1

        @property
        def trainable_weights(self):  # the Keras name of the same list
            return list(self.trainable_variables)

    return SmallNetwork()


def optimizer(kind: str, lr: float, model, rng):
    """A Keras optimizer; Adam and RMSprop have taken two steps on ``model`` (a warm state)."""
    import keras
    import tensorflow as tf
    opt = getattr(keras.optimizers, kind)(learning_rate=lr)
    variables = model.trainable_variables
    for _ in range(0 if kind == "SGD" else 2):
        grads = [tf.constant(rng.normal(0, 0.3, v.shape).astype(np.float32)) for v in variables]
        opt.apply_gradients(zip(grads, variables))
    return opt


def flat(model) -> np.ndarray:
    """All trainable weights of ``model`` as one float64 vector."""
    return np.concatenate([np.ravel(v.numpy()) for v in model.trainable_variables]).astype(float)


def set_flat(model, vector) -> None:
    i = 0
    for v in model.trainable_variables:
        n = int(np.prod(v.shape))
        v.assign(np.asarray(vector[i : i + n], np.float32).reshape(v.shape))
        i += n


class Replay:
    """Steps of one optimizer on one model, replayed from the weights and optimizer state where
    the student's step started."""

    def __init__(self, model, opt):
        self.model, self.opt = model, opt
        self.start, self.state = flat(model), [v.numpy() for v in opt.variables]

    def restore(self):
        set_flat(self.model, self.start)
        for v, s in zip(self.opt.variables, self.state):
            v.assign(s)

    def steps_taken(self) -> int:
        return int(self.opt.iterations.numpy()) - int(self.state[0])

    def moved(self) -> np.ndarray:
        """How far the student's step moved the weights; then back to the start."""
        moved = flat(self.model) - self.start
        self.restore()
        return moved

    def after(self, gradient, steps: int = 1) -> np.ndarray:
        """The weights' change after ``steps`` steps down ``gradient`` (or ``gradient(model)``)."""
        import tensorflow as tf
        if not callable(gradient) and type(self.opt).__name__ == "SGD" and not self.opt.momentum:
            return -float(self.opt.learning_rate) * steps * np.asarray(gradient, np.float32)
        self.restore()
        variables = self.model.trainable_variables
        for _ in range(steps):
            g = gradient(self.model) if callable(gradient) else gradient
            parts = np.split(np.asarray(g, np.float32), np.cumsum([np.size(v) for v in variables]))
            grads = [tf.constant(p.reshape(v.shape)) for p, v in zip(parts, variables)]
            self.opt.apply_gradients(zip(grads, variables))
        moved = flat(self.model) - self.start
        self.restore()
        return moved


def near(a, b, rtol: float = 3e-3) -> bool:
    """Two weight changes agree (relative to the size of ``b``, float32 noise allowed)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.linalg.norm(a - b) <= rtol * np.linalg.norm(b) + 1e-6)


def backprop(model, obs, output_grads) -> np.ndarray:
    """The gradient of ``sum(output_grads * model(obs))`` with respect to the weights, flat."""
    import tensorflow as tf
    with tf.GradientTape() as tape:
        out = model(obs)
    grads = tape.gradient(out, model.trainable_variables,
                          output_gradients=tf.constant(output_grads, tf.float32))
    return np.concatenate([np.ravel(g.numpy()) for g in grads]).astype(np.float64)


def pg_output_grad(logits, actions, weights) -> np.ndarray:
    """d/dlogits of ``-mean_t[w_t log pi(a_t|s_t)]``, ``(N, A)``."""
    n, n_actions = logits.shape
    pi = np.exp(log_softmax(logits))
    return -(np.asarray(weights, np.float64) / n)[:, None] * (np.eye(n_actions)[actions] - pi)


def read_steps(replay: Replay, net: str, name: str, text: str, fix: str) -> np.ndarray:
    """The change of ``replay.model``'s weights by the student's step (then undone), once it
    stepped with the optimizer it is given (``fix`` says how)."""
    steps = replay.steps_taken()
    moved = replay.moved()
    if not np.any(moved):
        fail(f"{name} did not change {net}'s weights. {fix} {text}")
    if steps == 0:
        fail(f"{name} changed {net}'s weights, but not with the optimizer you are given: "
             "take the step with its apply_gradients (the agent gives its Adam; this check gives "
             f"SGD, Adam or RMSprop), not with an optimizer or an update of your own. {text}")
    return moved


def policy_step_mistake(c, replay, taken, weights, *, weight_name, others=()) -> str | None:
    """The typical mistake that explains the policy step ``taken``, or None; ``weights`` weight
    the log-probabilities right, ``others`` are the chapter's ``(weights, hint)``."""
    import tensorflow as tf
    policy, obs, actions = replay.model, c.obs, c.actions
    logits = policy(tf.constant(obs)).numpy().astype(np.float64)
    candidates = _policy_candidates(logits, actions, weights, weight_name)
    candidates += [(hint, pg_output_grad(logits, actions, w)) for w, hint in others]
    right = replay.after(backprop(policy, obs, pg_output_grad(logits, actions, weights)))
    for message, output_grad in candidates:
        if len(actions) == 1 and message.startswith("the step is N times"):
            continue
        expected = replay.after(backprop(policy, obs, output_grad))
        if near(taken, expected) and not near(taken, right):
            return message
        if "all actions" in message and parallel(taken, expected):
            return message
    if parallel(taken, right):
        return ("the step goes the right way but is "
                f"{np.dot(taken, right) / np.dot(right, right):.3g} times the size of one step of "
                "the optimizer you are given: take exactly one step, "
                "optimizer.apply_gradients(zip(grads, policy.trainable_variables)), "
                "on the gradient of the mean loss.")
    return None


def _policy_candidates(logits, actions, weights, weight_name):
    """``(gradient of the loss with respect to the logits, hint)`` for the typical mistakes."""
    n, n_actions = logits.shape
    pi, onehot = np.exp(log_softmax(logits)), np.eye(n_actions)[actions]
    w, right = np.asarray(weights, float)[:, None] / n, pg_output_grad(logits, actions, weights)
    loss = f"-mean[({weight_name}) log pi(a_t|s_t)]"
    candidates = [  # (hint, the gradient with respect to the logits)
        (f"the policy moved *up* the gradient of {loss}: the sign is flipped, "
         "and the better-than-expected actions became less likely. "
         "Minimise the loss with the minus sign (the optimizer always goes down the gradient).",
         -right),
        ("the step is N times too large: use the mean over the batch, "
         "not the sum (tf.reduce_mean), so the step size does not grow with the batch.", n * right),
        ("the step follows pi(a|s) itself; use its logarithm, log pi(a|s) (tf.nn.log_softmax).",
         -w * pi[np.arange(n), actions][:, None] * (onehot - pi)),
        ("the step treats the logits as log-probabilities; "
         "apply tf.nn.log_softmax to the logits first.", -w * onehot),
        ("the step raises the log-probability of action 0 in every state: "
         "pick the action taken in each step, tf.gather(log_probs, actions, batch_dims=1).",
         -w * (np.eye(n_actions)[np.zeros(n, int)] - pi)),
        ("the step raises the log-probabilities of all actions: "
         "pick the action taken in each step, tf.gather(log_probs, actions, batch_dims=1).",
         -w * (1.0 - n_actions * pi)),
    ]
    if n > 1:
        candidates.append((NORMALISED.format(weight_name),
                           pg_output_grad(logits, actions, normalised(np.asarray(weights, float)))))
    return candidates


# Slips of a policy loss (chapters 6 and 7): a case of loss_case, its log pi replaced.
NORMALISED = ("the weights were normalised to mean 0 and standard deviation 1 (what the agents' "
              "normalize=True does); this exercise asks for {} as it is.")
GATHER_AXIS1 = ("tf.gather(log_probs, actions, axis=1) takes every step's log-probability of every "
                "action taken (an N x N matrix): use batch_dims=1, one per step.")
SOFTMAX_AXIS0 = ("the softmax ran over the batch (axis 0); it runs over each step's actions, "
                 "the last axis: tf.nn.log_softmax(logits).")


def normalised(x):
    return (x - x.mean()) / (x.std() + 1e-8) if len(x) > 1 else None


def across(c):  # tf.gather(log_probs, actions, axis=1) weighted by (N,): a mean over rows
    return c.lp[:, c.actions].mean(axis=0)


def over_batch(c):
    return log_softmax(c.arrays["logits"].T.astype(float)).T[np.arange(len(c.actions)), c.actions]


def parallel(a, b) -> bool:
    """Whether two weight changes point the same way (cosine above 0.9999)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return bool(na > 0 and nb > 0 and np.dot(a, b) / (na * nb) > 0.9999)


def pick_hint(err, line: str) -> str | None:
    """A hint for an array of every action's log-probability met where one per step was meant:
    a one-hot of the wrong depth, tf.gather without batch_dims; else :func:`_core.tensor_hint`."""
    found = re.findall(r"[\[(][\d, ]+[\])]", str(err)) if re.search(
        "Incompatible shapes|broadcast", str(err)) else []
    a, b = ([tuple(map(int, re.findall(r"\d+", s))) for s in found] + [(), ()])[:2]
    if len(a) == len(b) == 2 and a[1] != b[1]:
        return ("tf.one_hot(actions, depth) needs depth = the number of actions, "
                "logits.shape[-1], not a number of your own: the check also tries 3 actions.")
    if sorted((len(a), len(b))) == [1, 2]:
        return ("An (N, A) array met an (N,) one: tf.gather(log_probs, actions) picks whole "
                "rows; tf.gather(log_probs, actions, batch_dims=1) picks one per step.")
    return _core.tensor_hint(err, line)


def no_gradient_hint(err, line: str) -> str | None:
    """A hint for an optimizer given no gradient (the loss outside the tape, or in NumPy)."""
    if "Unknown variable" in str(err):
        return ("That optimizer steps other weights (another network's, or those of an earlier "
                "call): each network has its own optimizer, the one you are given, "
                "and a step changes only the weights of the network it trains.")
    if "has no attribute 'minimize'" in str(err):
        return ("Keras 3 optimizers have no minimize: take the gradient with "
                "tape.gradient(loss, variables), then optimizer.apply_gradients(zip(grads, "
                "variables)).")
    if "No gradients provided" in str(err) or ".gradient(" in line or "apply_gradients" in line:
        return ("No gradient reached the weights: "
                "compute the loss inside the `with tf.GradientTape() as tape:` block, "
                "from the network's output, with TensorFlow operations (no NumPy, no .numpy()), "
                "and differentiate it with tape.gradient(loss, network.trainable_variables).")
    return pick_hint(err, line)


# -- the agent that learns with the student's functions -----------------------------------------


class StudentStep:
    """A learning step: ``compiled`` (the agent's ``tf.function``) until it raises, then
    ``eager``, which calls the student's code through ``call_student`` (errors show their line);
    ``fallback(err)`` is told when it leaves ``compiled``."""

    def __init__(self, compiled, eager, fallback=None):
        self.compiled, self.eager, self.fallback, self.use_eager = compiled, eager, fallback, False

    def __call__(self, *args):
        if not self.use_eager:
            try:
                return self.compiled(*args)
            except Exception as err:  # noqa: BLE001 - rerun eagerly: it reports in their terms
                self.use_eager = True
                if self.fallback is not None:
                    self.fallback(err)
        return self.eager(*args)


def compiled_or_stop(compiled, run_one, name: str, **call):
    """The learning step of an agent check whose training call is costly eagerly (PPO's epochs,
    SAC's gradient steps): ``compiled`` until it raises; then ``run_one`` on the first minibatch,
    eagerly through ``call_student`` (``call``: its ``signature`` and ``hint``), so that an error
    quotes the student's line. If that runs, the student's code works eagerly only (NumPy on a
    tensor, ``.numpy()``, a Python ``if`` on a tensor): the check stops and says so instead of
    training eagerly for minutes."""
    raised = []

    def eager(*batches):
        import tensorflow as tf
        _core.call_student(run_one, *[tf.constant(b[0]) for b in batches], name=name, **call)
        err = raised[0]
        said = _core._short(err).removeprefix(f"{type(err).__name__}: ")
        said += "" if said.endswith(".") else "."
        why = ("The agent runs it inside tf.function, where NumPy functions and .numpy() cannot "
               "read a tensor's values: use TensorFlow operations (tf.minimum, tf.exp, "
               "tf.reduce_mean, ...), not NumPy.")
        if "tf.Variable" in str(err):  # (an optimizer or a layer made on every call)
            why = ("The agent runs it inside tf.function, which lets a call create variables "
                   "(a new optimizer, layer or tf.Variable) only the first time: use the "
                   "optimizer and the networks you are given.")
        fail(f"{name} runs eagerly (the check ran it on one minibatch) but not inside the agent's "
             f"compiled training step, where it raised {type(err).__name__}: {said} {why}")

    return StudentStep(compiled, eager, fallback=raised.append)


def train_student(make_agent, env_id: str, copies: int, steps: int, eval_every: int,
                  threshold: float, seed: int, greedy: bool):
    """Train ``make_agent(observation_space, action_space, seed)`` on ``copies`` copies of
    ``env_id`` for at most ``steps``, evaluating 10 episodes every ``eval_every`` steps (greedy, or
    sampling its actions at the next episode's end) until a mean return reaches ``threshold``;
    the environments are closed whatever happens. Returns ``(passed, the "not yet" that stopped
    training or None, the best evaluation or None, steps)``."""
    from rlbook.envs import make_vec_env
    from rlbook.train import History, evaluate, train
    env = make_vec_env(env_id, copies, seed=seed)
    eval_env = make_vec_env(env_id, 10, seed=seed + 10_000)
    history, problem, sampled = History(), None, []

    def evaluate_sampled(h) -> bool:  # True stops training
        if h.steps < (len(sampled) + 1) * eval_every:
            return False
        sampled.append(float(evaluate(agent, eval_env, 10, greedy=False).mean()))
        return sampled[-1] >= threshold

    schedule = (dict(eval_env=eval_env, eval_every=eval_every, stop_at=threshold) if greedy
                else dict(callback=evaluate_sampled))
    try:
        agent = make_agent(env.single_observation_space, env.single_action_space, seed)
        train(agent, env, steps=steps, progress=False, history=history, **schedule)
    except StudentError as err:
        problem = err.verdict.message
    finally:
        env.close()
        eval_env.close()
    if history.interrupted:
        problem = "training was interrupted (KeyboardInterrupt); run the check again."
    best = max([e["mean"] for e in history.evaluations] if greedy else sampled, default=None)
    return best is not None and best >= threshold, problem, best, history.steps


# The agent checks of chapters 6 and 7: 8 copies of CartPole-v1, the chapter's defaults, and every
# 1,000 steps 10 evaluation episodes with sampled actions, until their mean return reaches 100.
# Random play averages about 22, and an untrained policy's sampled play never reached 50 (300
# seeds, 20 evaluations each); its greedy play balances the pole on about 4% of seeds, hence
# the sampled evaluation.
CARTPOLE_SAMPLED = dict(env_id="CartPole-v1", copies=8, steps=30_000, eval_every=1_000,
                        threshold=100.0, greedy=False,
                        goal="random play averages about 22; the check asks for 100")


def agent_check(make_agent, units, run: str, *, env_id: str, copies: int, steps: int,
                eval_every: int, threshold: float, greedy: bool, goal: str, learns: str = "",
                differs: str):
    """The agent check of chapters 6, 7, 9 and 10: train with the student's functions on the
    seeds until an evaluation reaches ``threshold``, then the verdict; ``run`` says whose
    functions trained, ``goal`` what random play gets and what the check asks for."""
    passed, problem, best, taken, verdicts = _core.train_on_seeds(
        lambda seed: train_student(make_agent, env_id, copies, steps, eval_every, threshold,
                                   seed, greedy), units, retry_stopped=True)
    if best is None:
        reached = "was never evaluated (the run ended before the first evaluation)"
    else:
        how = "a greedy mean return" if greedy else "a mean return"
        reached = (f"{'reached' if passed else 'got at best'} {how} of {best:.0f} over 10 "
                   f"episodes{'' if greedy else ', sampling its actions'} ({goal})")
    where = f"on {copies} copies of {env_id}" if copies > 1 else f"of {env_id}"
    forgiving = (f"{env_id.split('-')[0]} is forgiving: the mistake would show on harder tasks, "
                 "or on another seed.")
    return _core.agent_verdict(f"{taken:,} steps {where} ({run})", reached, passed, problem,
                               verdicts, forgiving=forgiving, learns=learns, differs=differs)
