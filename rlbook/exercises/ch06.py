"""Checks for the exercises of chapter 6 (REINFORCE)."""

from __future__ import annotations

import inspect

import numpy as np

from rlbook.exercises._core import (
    Case,
    Mistake,
    Verdict,
    call_student,
    check,
    close,
    fail,
    fmt,
    fresh_rng,
    grade,
    name_of,
    tensor_hint,
    to_array,
    wrong,
)
from rlbook.exercises._pg import (
    RETURN_MISTAKES,
    StudentStep,
    assert_tensors_unchanged,
    backprop,
    cartpole_verdict,
    discounted,
    flat,
    grads_or_none,
    log_softmax,
    loss_inputs,
    moves,
    near,
    no_gradient_hint,
    pg_output_grad,
    policy_step_mistake,
    set_flat,
    sgd,
    taped,
    tiny_networks,
    train_on_cartpole,
)

__all__ = [
    "check_episode_returns",
    "check_reinforce_loss",
    "check_reinforce_step",
    "check_reinforce_agent",
]


def _n_parameters(fn) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(
        1
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    )


def _returns_cases(rng, batched: bool):
    for i, gamma in enumerate([float(rng.choice([0.9, 0.8])), 0.5, 1.0]):
        if batched:
            lengths = [int(n) for n in rng.integers(2, 6, size=int(rng.integers(3, 5)))]
            lengths[int(rng.integers(len(lengths)))] = 1
            lengths = [int(rng.integers(3, 7))] if i == 2 else lengths
        else:
            lengths = [[int(rng.integers(4, 8))], [1], [int(rng.integers(2, 5))]][i]
        rewards = [float(x) for x in np.round(rng.uniform(-1.0, 3.0, size=sum(lengths)), 1)]
        dones = np.concatenate([np.eye(1, n, n - 1)[0] for n in lengths])
        given = list(rewards) if i % 2 == 0 else np.array(rewards)
        r = np.array(rewards)
        yield Case(
            (given, dones, gamma) if batched else (given, gamma),
            ("rewards", "dones", "gamma") if batched else ("rewards", "gamma"),
            f"(rewards {fmt(r)}{', dones ' + fmt(dones, 0) if batched else ''}, gamma {gamma})",
            f"for episodes of {lengths} steps back to back"
            if batched
            else f"for an episode of {lengths[0]} step{'s' if lengths[0] > 1 else ''}",
            what=f"one return per step, {len(r)} values",
            r=r,
            dones=dones if batched else np.zeros(len(r)),
            gamma=gamma,
            b=0.0,
            bootstrapped=False,
            symbol="G_t",
            next_symbol="G_{t+1}",
            quantity="returns",
        )


@check
def check_episode_returns(episode_returns) -> Verdict:
    """Check discounted returns, for one episode at a time or several episodes back to back.

    Two forms are accepted, told apart by the number of parameters:

    * ``episode_returns(rewards, gamma) -> G`` for one complete episode: called on several
      episodes of random lengths (one of them a single step), with gamma in {0.5, 0.9, 1.0};
    * ``episode_returns(rewards, dones, gamma) -> G`` for several complete episodes back to back,
      ``dones[t] = 1`` on each episode's last step: the return restarts after every end. Called
      on batches of three or four episodes of random lengths (one a single step), and on a batch
      of one episode.

    Rewards are random on every call, given as a list or an array, and never changed in place.
    """
    name = name_of(episode_returns)
    batched = _n_parameters(episode_returns) == 3
    return grade(
        episode_returns,
        _returns_cases(fresh_rng(), batched),
        lambda c: discounted(c.r, c.dones, c.gamma),
        RETURN_MISTAKES,
        signature="episode_returns"
        + ("(rewards, dones, gamma)" if batched else "(rewards, gamma)"),
        done=(
            f"{name}: G_t = r_t + gamma * (1 - done_t) * G_(t+1), from the last step back, "
            "restarting at every episode end."
            if batched
            else f"{name}: G_t = r_t + gamma * G_(t+1), computed from the last step back, one "
            "pass over the episode."
        ),
    )


# -- the REINFORCE loss -------------------------------------------------------------------------


def _loss_cases(rng):
    for n, n_actions in (
        (int(rng.integers(5, 9)), 2),
        (1, 2),
        (int(rng.integers(3, 7)), int(rng.integers(3, 5))),
    ):
        returns = np.round(rng.uniform(0.0, 10.0, size=n), 2).astype(np.float32)
        values = np.round(rng.uniform(0.0, 10.0, size=(n, 1)), 2).astype(np.float32)
        arrays, tensors, actions, action_tensor = loss_inputs(
            rng, n, n_actions, values=values, returns=returns
        )
        lp = log_softmax(arrays["logits"].astype(np.float64))
        yield Case(
            (tensors["logits"], action_tensor, tensors["returns"], tensors["values"]),
            (None, None, None, None),
            f"(logits {fmt(arrays['logits'])}, actions {actions.tolist()}, returns {fmt(returns)}, "
            f"values {fmt(values[:, 0])} of shape ({n}, 1))",
            arrays=arrays,
            tensors=tensors,
            lp=lp,
            log_pi=lp[np.arange(n), actions],
            actions=actions,
            adv=returns.astype(np.float64) - values[:, 0],
            g=returns.astype(np.float64),
            v=values[:, 0],
        )


def _loss(c, weights=None, log_pi=None, reduce=np.mean):
    """The REINFORCE loss of case ``c``, or a typical mistake's version of it."""
    weights = c.adv if weights is None else weights
    return -reduce(weights * (c.log_pi if log_pi is None else log_pi))


def _read_loss(got, c, name):
    """The loss's value; when it is right, its gradients are checked too."""
    out, tape = got
    assert_tensors_unchanged(name, c.arrays, c.tensors)
    arr = to_array(out, name, "the loss, one number (a scalar tensor)")
    n = len(c.adv)
    if arr.shape == (n, n) and n > 1:
        fail(
            f"{name} returned a matrix of shape {arr.shape}: returns - values with values of "
            "shape (N, 1) broadcasts to N x N (every return minus every value). Use values[:, 0]."
        )
    if arr.size != 1:
        fail(f"the loss should be one number (the mean over steps), got shape {arr.shape}.")
    loss = float(arr.reshape(()))
    if np.isclose(loss, _loss(c), rtol=1e-4, atol=1e-5):
        _check_loss_gradients(tape, out, c, name)
    return loss


def _check_loss_gradients(tape, out, c, name):
    g_logits, g_values = grads_or_none(tape, out, [c.tensors["logits"], c.tensors["values"]])
    if g_logits is None or not moves(g_logits):
        fail(
            "the value is right, but no gradient reaches the logits, so the policy could not "
            f"learn from it: compute the loss with TensorFlow operations on the tensors {name} "
            "receives (tf.nn.log_softmax, tf.gather, tf.reduce_mean), not NumPy or .numpy()."
        )
    if moves(g_values):
        fail(
            "the value is right, but the policy loss sends gradients into the baseline V(s). Hold "
            "the advantage fixed with tf.stop_gradient(returns - values[:, 0]): the baseline "
            "learns from its own loss."
        )
    n, n_actions = c.lp.shape
    want = -(c.adv / n)[:, None] * (np.eye(n_actions)[c.actions] - np.exp(c.lp))
    if not close(g_logits, want, rtol=1e-3, atol=1e-5):
        fail(
            "the value is right, but its gradient with respect to the logits is not the policy "
            "gradient -(G - V) * grad log pi(a|s) / N. Is a tf.stop_gradient around log pi? "
            + c.text
        )


_LOSS_MISTAKES = [
    Mistake(
        "returns - values with values of shape (N, 1) broadcasts to an N x N matrix (every "
        "return minus every value). Squeeze the critic's output to shape (N,) first, e.g. "
        "values[:, 0].",
        lambda c: -np.mean((c.g[None, :] - c.v[:, None]) * c.log_pi),
    ),
    Mistake(
        "the sign is flipped: minimizing this loss would make the better-than-expected actions "
        "*less* likely. The loss is -mean(...).",
        lambda c: -_loss(c),
    ),
    Mistake(
        "the baseline is missing: weight each log-probability by G_t - V(s_t).",
        lambda c: _loss(c, weights=c.g),
    ),
    Mistake(
        "use the mean over steps, not the sum (the step size should not grow with the batch).",
        lambda c: _loss(c, reduce=np.sum),
    ),
    Mistake(
        "use the log-probability log pi(a|s), not the probability pi(a|s).",
        lambda c: _loss(c, log_pi=np.exp(c.log_pi)),
    ),
    Mistake(
        "logits are not log-probabilities: apply a log-softmax first (tf.nn.log_softmax).",
        lambda c: _loss(c, log_pi=c.arrays["logits"][np.arange(len(c.adv)), c.actions]),
    ),
    Mistake(
        "logits are not probabilities: use tf.nn.log_softmax(logits), not the log of the logits.",
        lambda c: _loss(
            c,
            log_pi=np.log(np.maximum(c.arrays["logits"][np.arange(len(c.adv)), c.actions], 1e-30)),
        ),
    ),
    Mistake(
        "pick the log-probability of the action taken in each step (tf.gather(log_probs, "
        "actions, batch_dims=1)), not all of them.",
        lambda c: -np.mean(c.adv[:, None] * c.lp),
    ),
    Mistake(
        "pick the log-probability of the action taken in each step, tf.gather(log_probs, "
        "actions, batch_dims=1).",
        lambda c: _loss(c, log_pi=c.lp[:, 0]),
    ),
]


@check
def check_reinforce_loss(reinforce_loss) -> Verdict:
    """Check ``reinforce_loss(logits, actions, returns, values) -> scalar``, values of shape (N, 1).

    The inputs are TensorFlow tensors, as the agent passes them. Cases (random on every call): a
    batch of several steps, a batch of one step, and a batch with three or four actions. Besides
    the value of the loss, the check looks at its gradient: the logits must receive exactly the
    policy-gradient of the loss, and the baseline ``values`` must receive none (the advantage is
    held fixed with ``tf.stop_gradient``).
    """
    return grade(
        taped(reinforce_loss),
        _loss_cases(fresh_rng()),
        _loss,
        _LOSS_MISTAKES,
        read=_read_loss,
        same=lambda got, want: bool(np.isclose(got, want, rtol=1e-4, atol=1e-5)),
        signature="(logits, actions, returns, values)",
        hint=tensor_hint,
        explain=lambda got, want, c: f"expected {want:.4f}, got {got:.4f}.",
        done=(
            f"{name_of(reinforce_loss)}: L = -mean[(G_t - V(s_t)) log pi(a_t|s_t)], one advantage "
            "per step, with the gradient flowing into the logits only."
        ),
    )


# -- the REINFORCE step, and the student's own agent ----------------------------------------------

_STEP_SIGNATURE = "reinforce_step(policy, value_network, optimizer, obs, actions, returns)"


def _step_cases(rng):
    import tensorflow as tf

    for n, n_actions in (
        (int(rng.integers(5, 9)), 2),
        (1, 2),
        (int(rng.integers(3, 7)), int(rng.integers(3, 5))),
    ):
        obs_dim = int(rng.integers(3, 6))
        policy, value = tiny_networks(rng, obs_dim, n_actions, float(rng.uniform(2.0, 5.0)))
        obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
        actions = rng.integers(n_actions, size=n).astype(np.int32)
        returns = np.round(rng.uniform(0.0, 10.0, size=n), 2).astype(np.float32)
        lr = float(rng.choice([0.05, 0.1, 0.2]))
        v0 = value(obs).numpy()[:, 0].astype(np.float64)
        weights = returns - v0
        right = backprop(
            policy, obs, pg_output_grad(policy(obs).numpy().astype(np.float64), actions, weights)
        )
        yield Case(
            (policy, value, sgd(lr), tf.constant(obs), tf.constant(actions), tf.constant(returns)),
            (None,) * 6,
            f"(a batch of {n} step{'s' if n > 1 else ''}, {n_actions} actions, returns "
            f"{fmt(returns, 2)}, baseline V(s) {fmt(v0, 2)})",
            policy=policy,
            value=value,
            obs=obs,
            actions=actions,
            returns=returns,
            lr=lr,
            v0=v0,
            weights=weights,
            right=right,
            policy0=flat(policy),
            value0=flat(value),
        )


_BASELINE_MISTAKES = [
    (
        lambda c: c.returns,
        "the baseline is missing: weight each log-probability by G_t - V(s_t), with V(s_t) = "
        "value_network(obs)[:, 0].",
    ),
    (
        lambda c: c.returns - c.v0.mean(),
        "returns - values with values of shape (N, 1) broadcasts to an N x N matrix (every return "
        "minus every value), which weights every step by G_t minus the *mean* baseline. Squeeze "
        "the value network's output to shape (N,) first, value_network(obs)[:, 0].",
    ),
]


def _read_reinforce_step(got, c, name):
    """Every problem of the step the student took fails here, in the order a student fixes them."""
    if not np.array_equal(flat(c.value), c.value0):
        fail(
            f"{name} changed the value network's weights. In this step the baseline V(s_t) is "
            "held fixed: differentiate the loss with respect to policy.trainable_variables only "
            "(the agent fits the value network on the returns afterwards, with its own loss). "
            + c.text
        )
    policy1 = flat(c.policy)
    if np.array_equal(policy1, c.policy0):
        fail(
            f"{name} did not change the policy's weights. Compute the loss inside `with "
            "tf.GradientTape() as tape:`, then take one step: grads = tape.gradient(loss, "
            "policy.trainable_variables); optimizer.apply_gradients(zip(grads, "
            f"policy.trainable_variables)). {c.text}"
        )
    taken = (c.policy0 - policy1) / c.lr
    if not near(taken, c.right):
        set_flat(c.policy, c.policy0)  # the candidates' gradients are taken where the step started
        others = [(weights(c), hint) for weights, hint in _BASELINE_MISTAKES]
        message = policy_step_mistake(
            taken,
            c.policy,
            c.obs,
            c.actions,
            c.weights,
            c.lr,
            weight_name="G_t - V(s_t)",
            others=others,
        )
        fail(
            (
                message
                or "the policy's weights did not move by one step of the optimizer down the "
                "gradient of -mean[(G_t - V(s_t)) log pi(a_t|s_t)] (the weights G_t - V(s_t) "
                "held fixed)."
            )
            + f" {c.text}"
        )
    return None


@check
def check_reinforce_step(reinforce_step) -> Verdict:
    """Check ``reinforce_step(policy, value_network, optimizer, obs, actions, returns)``.

    It must take one step of ``optimizer`` on the policy's weights down the gradient of
    ``-mean_t[(G_t - V(s_t)) log pi(a_t|s_t)]``, the baseline ``V(s_t)`` read from
    ``value_network`` and held fixed, and leave the value network alone (the agent fits it
    afterwards). Small random networks and a plain SGD optimizer on every call, so the step taken
    is the change of the weights divided by the learning rate; the inputs are TensorFlow
    tensors, as the agent passes them. Cases: a batch of several steps, a batch of one step, a
    batch with three or four actions.
    """
    return grade(
        reinforce_step,
        _step_cases(fresh_rng()),
        lambda c: None,
        read=_read_reinforce_step,
        same=lambda got, want: True,  # (the step is judged by _read_reinforce_step)
        signature=_STEP_SIGNATURE,
        hint=no_gradient_hint,
        done=(
            f"{name_of(reinforce_step)} takes one optimizer step down -mean[(G_t - V(s_t)) log "
            "pi(a_t|s_t)], the baseline held fixed and the value network left alone."
        ),
    )


# The run the agent check trains: 8 copies of CartPole-v1, the chapter's REINFORCE defaults, and
# every 1,000 steps 10 evaluation episodes with sampled actions, until their mean return reaches
# the threshold. Random play averages about 22, and an untrained policy's sampled play never
# reached 50 (300 seeds, 20 evaluations each); the reference solution passed on 32 fresh seeds out
# of 32, after 5,000 to 12,100 steps.
_AGENT_STEPS, _THRESHOLD = 30_000, 100.0


def _student_returns(episode_returns, rewards, gamma) -> np.ndarray:
    """The returns of complete episodes (a list of reward arrays), by the student's function:
    one episode at a time, or all of them back to back with their ``dones``."""
    name = name_of(episode_returns)
    if _n_parameters(episode_returns) == 3:
        dones = np.concatenate([np.eye(1, len(r), len(r) - 1)[0] for r in rewards])
        flat_rewards = np.concatenate(rewards)
        sig = "episode_returns(rewards, dones, gamma)"
        got = call_student(episode_returns, flat_rewards, dones, gamma, name=name, signature=sig)
        what = f"one return per step, shape ({len(flat_rewards)},)"
        return to_array(got, name, what, shape=(len(flat_rewards),))
    out = []
    for r in rewards:
        sig = "episode_returns(rewards, gamma)"
        got = call_student(episode_returns, r, gamma, name=name, signature=sig)
        out.append(to_array(got, name, f"one return per step, shape ({len(r)},)", (len(r),)))
    return np.concatenate(out)


def _student_reinforce_agent(
    episode_returns, reinforce_step, observation_space, action_space, seed
):
    """rlbook's ``ReinforceAgent`` whose returns and policy step are the student's functions.

    The episodes, the value network's fit and the training loop are the library's. A time
    limit's cut is folded into the episode's last reward (``+ gamma * V(s_T)``), so the
    student's returns function sees complete episodes only.
    """
    import tensorflow as tf

    from rlbook.agents.reinforce import ReinforceAgent

    step_name = name_of(reinforce_step)

    class StudentReinforceAgent(ReinforceAgent):
        def update(self):
            obs, actions, rewards, terminated, last_obs = zip(*self._episodes)
            self._episodes.clear()
            gamma = self.config.gamma
            rewards = [r.astype(np.float64) for r in rewards]  # copies, handed to the student
            for r, ended, v in zip(rewards, terminated, self.values(np.stack(last_obs))):
                if not ended:  # cut by the time limit: what follows is worth V(s_T)
                    r[-1] += gamma * v
            returns = _student_returns(episode_returns, rewards, gamma).astype(np.float32)
            self._compiled_step(np.concatenate(obs), np.concatenate(actions), returns)
            self.sync()
            self.updates += 1
            return None

        def learn(self, obs, actions, returns):
            # compiled by ReinforceAgent.__init__ (with the student's step inside)
            reinforce_step(
                self.policy, self.value_network, self.policy_optimizer, obs, actions, returns
            )
            self.fit_value_network(obs, returns, self.config.baseline_steps)
            return {}

    agent = StudentReinforceAgent(observation_space, action_space, num_envs=8, seed=seed)
    d = agent.obs_dim
    fit = tf.function(
        lambda obs, returns: agent.fit_value_network(obs, returns, agent.config.baseline_steps),
        input_signature=[tf.TensorSpec((None, d), tf.float32), tf.TensorSpec((None,), tf.float32)],
    )

    def eager_step(obs, actions, returns):
        obs, actions, returns = tf.constant(obs), tf.constant(actions), tf.constant(returns)
        call_student(
            reinforce_step,
            agent.policy,
            agent.value_network,
            agent.policy_optimizer,
            obs,
            actions,
            returns,
            name=step_name,
            signature=_STEP_SIGNATURE,
            hint=no_gradient_hint,
        )
        fit(obs, returns)
        return {}

    agent._compiled_step = StudentStep(agent._compiled_step, eager_step)
    return agent


@check
def check_reinforce_agent(episode_returns, reinforce_step) -> Verdict:
    """Train rlbook's REINFORCE agent with the student's returns and policy step.

    The agent (the chapter's defaults: 8 copies of CartPole-v1, 8 episodes per update, the
    value baseline fitted by the library) computes each batch's returns with
    ``episode_returns(rewards, gamma)`` (per episode) or ``episode_returns(rewards, dones,
    gamma)`` (the batch, episodes back to back) and learns with ``reinforce_step(policy,
    value_network, optimizer, obs, actions, returns)``, inside ``rlbook.train.train`` with a new
    seed on every call, for at most 30,000 steps. Every 1,000 steps the agent plays 10 episodes
    sampling its actions (see :func:`rlbook.exercises._pg.train_on_cartpole` for why not
    greedily). It passes when an evaluation's mean return reaches 100 *and* both functions pass
    their own checks (:func:`check_episode_returns`,
    :func:`check_reinforce_step`); when the agent does not learn, those checks say why.
    """
    ret_name, step_name = name_of(episode_returns), name_of(reinforce_step)
    best, steps, problem = train_on_cartpole(
        lambda obs_space, act_space, seed: _student_reinforce_agent(
            episode_returns, reinforce_step, obs_space, act_space, seed
        ),
        _AGENT_STEPS,
        _THRESHOLD,
    )
    if problem is not None and "NotImplementedError" in problem:
        return wrong(problem)  # a stub left: nothing to diagnose yet
    units = [
        (ret_name, check_episode_returns(episode_returns)),
        (step_name, check_reinforce_step(reinforce_step)),
    ]
    run = (
        f"{steps:,} steps on 8 copies of CartPole-v1 (returns by {ret_name}, policy steps by "
        f"{step_name})"
    )
    return cartpole_verdict(run, best, _THRESHOLD, problem, units)
