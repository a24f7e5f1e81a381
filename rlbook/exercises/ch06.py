"""Checks for the exercises of chapter 6 (REINFORCE)."""

from __future__ import annotations

import inspect

import numpy as np

from rlbook.exercises import _core, _pg
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of
from rlbook.exercises._pg import Replay, flat, near

# fmt: off
__all__ = ["check_episode_returns", "check_reinforce_loss", "check_reinforce_step",
           "check_reinforce_agent"]


def _n_parameters(fn) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in positional and p.default is p.empty)


def _lengths(rng, batched: bool, i: int) -> list[int]:
    """Episode lengths: short ones first, then as long as the agent's (one episode, or 8)."""
    if not batched:
        return [int(n) for n in ([rng.integers(4, 8)], [rng.integers(2, 5)], [1],
                                 [rng.integers(200, 500)])[i]]
    if i >= 2:
        return [int(n) for n in ([rng.integers(3, 7)] if i == 2 else rng.integers(10, 300, size=8))]
    lengths = [int(n) for n in rng.integers(2, 6, size=int(rng.integers(3, 5)))]
    lengths[int(rng.integers(len(lengths)))] = 1
    return lengths


def _returns_cases(rng, batched: bool):
    """Rewards as a list or a float64 array (as the agent passes them), short and long."""
    for i, gamma in enumerate([float(rng.choice([0.9, 0.8])), 0.5, 1.0, 0.99]):
        lengths = _lengths(rng, batched, i)
        r = np.round(rng.uniform(-1.0, 3.0, size=sum(lengths)), 1)
        dones = np.concatenate([np.eye(1, n, n - 1)[0] for n in lengths])
        given = [float(x) for x in r] if i % 2 == 0 else r.copy()
        steps = f"{lengths[0]} step{'s' if lengths[0] > 1 else ''}"
        where = f"episodes of {lengths} steps back to back" if batched else f"an episode of {steps}"
        shown = f"rewards {fmt(r)}, dones {fmt(dones, 0)}" if batched else f"rewards {fmt(r)}"
        yield Case((given, dones, gamma)[:: 1 if batched else 2],
                   ("rewards", "dones", "gamma")[:: 1 if batched else 2],
                   f"({shown}, gamma {gamma})", f"for {where}",
                   what=f"one return per step, {len(r)} values",
                   r=r, dones=dones if batched else 0 * r, gamma=gamma, b=0.0, bootstrapped=False,
                   symbol="G_t", next_symbol="G_{t+1}", first="G_0", quantity="returns",
                   flows="the next episode's rewards")


_RETURN_SLIPS = [
    ("you normalised the returns (mean 0, standard deviation 1): return them as they are "
     "(the agent normalises weights itself when asked, normalize=True).",
     lambda c: _pg.normalised(_pg.discounted(c.r, c.dones, c.gamma))),
    ("gamma counts from the episode's start (gamma**k r_k): G_t discounts from step t, "
     "G_t = sum_k gamma**(k - t) r_k, so r_t counts fully.",
     lambda c: _pg.discounted(c.r, c.dones, c.gamma) * c.gamma ** np.arange(len(c.r))),
]


@check
def check_episode_returns(episode_returns) -> Verdict:
    """Check discounted returns: ``episode_returns(rewards, gamma)`` for one complete episode, or
    ``episode_returns(rewards, dones, gamma)`` for several back to back (``dones[t] = 1`` on each
    episode's last step), told apart by the number of parameters. Rewards are random on every
    call, a list or an array, up to the length of the agent's episodes, never changed in place."""
    name = name_of(episode_returns)
    batched = _n_parameters(episode_returns) == 3
    return grade(
        episode_returns, _returns_cases(fresh_rng(), batched),
        lambda c: _pg.discounted(c.r, c.dones, c.gamma), _pg.RETURN_MISTAKES + _RETURN_SLIPS,
        signature=f"episode_returns(rewards, {'dones, ' if batched else ''}gamma)",
        hint=_core.flags_hint,
        rule="G_t = r_t + gamma * G_(t+1), from the last step back"
             + (", restarting after every episode end (dones[t] = 1)" if batched else ""),
        done=f"{name}: G_t = r_t + gamma * (1 - done_t) * G_(t+1), from the last step back, "
             "restarting at every episode end." if batched else
             f"{name}: G_t = r_t + gamma * G_(t+1), computed from the last step back, "
             "one pass over the episode.")


# -- the REINFORCE loss -------------------------------------------------------------------------


def _loss_cases(rng):
    for n, n_actions in ((int(rng.integers(5, 9)), 2), (1, 2), (int(rng.integers(3, 7)), 3)):
        returns = np.round(rng.uniform(0.0, 10.0, size=n), 2).astype(np.float32)
        values = np.round(rng.uniform(0.0, 10.0, size=(n, 1)), 2).astype(np.float32)
        c = _pg.loss_case(rng, n, n_actions, f"returns {fmt(returns)}, values "
                          f"{fmt(values[:, 0])} of shape ({n}, 1)", returns=returns, values=values)
        c.adv, c.g, c.v = returns - values[:, 0].astype(float), returns.astype(float), values[:, 0]
        c.logit_taken = c.arrays["logits"][np.arange(n), c.actions]
        yield c


def _loss(c, weights=None, log_pi=None, reduce=np.mean):
    weights = c.adv if weights is None else weights
    return -reduce(weights * (c.log_pi if log_pi is None else log_pi))


def _read_loss(got, c, name):
    out, tape = _pg.read_taped(got, c, name)
    arr = _core.to_array(out, name, "the loss, one number (a scalar tensor)")
    n = len(c.adv)
    if arr.shape == (n, n) and n > 1:
        fail(f"{name} returned a matrix of shape {arr.shape}: "
             "returns - values with values of shape (N, 1) broadcasts to N x N (every return "
             "minus every value). Use values[:, 0].")
    if arr.size != 1:
        fail(f"the loss should be one number (the mean over steps), got shape {arr.shape}.")
    loss = float(arr.reshape(()))
    if not np.isclose(loss, _loss(c), rtol=1e-4, atol=1e-5):
        return loss
    g_logits, g_values = _pg.grads_or_none(tape, out, [c.tensors["logits"], c.tensors["values"]])
    if g_logits is None or not _pg.moves(g_logits):
        fail("the value is right, but no gradient reaches the logits, "
             "so the policy could not learn from it: "
             f"compute the loss with TensorFlow operations on the tensors {name} receives "
             "(tf.nn.log_softmax, tf.gather, tf.reduce_mean), not NumPy or .numpy().")
    if _pg.moves(g_values):
        fail("the value is right, but the policy loss sends gradients into the baseline V(s). "
             "Hold the advantage fixed with tf.stop_gradient(returns - values[:, 0]): "
             "the baseline learns from its own loss.")
    if not _core.close(g_logits, _pg.pg_output_grad(c.lp, c.actions, c.adv), 1e-3, 1e-5):
        fail("the value is right, "
             "but its gradient with respect to the logits is not the policy gradient -(G - V) * "
             "grad log pi(a|s) / N. Is a tf.stop_gradient around log pi? " + c.text)
    return loss


_PICK = ("pick the log-probability of the action taken in each step, "
         "tf.gather(log_probs, actions, batch_dims=1)")
_LOSS_MISTAKES = [
    ("returns - values with values of shape (N, 1) broadcasts to an N x N matrix (every return "
     "minus every value). Squeeze the critic's output to shape (N,) first, e.g. values[:, 0].",
     lambda c: -np.mean((c.g[None, :] - c.v[:, None]) * c.log_pi)),
    ("the sign is flipped: "
     "minimizing this loss would make the better-than-expected actions *less* likely. "
     "The loss is -mean(...).", lambda c: -_loss(c)),
    ("the baseline is missing: weight each log-probability by G_t - V(s_t).",
     lambda c: _loss(c, weights=c.g)),
    ("use the mean over steps, not the sum (the step size should not grow with the batch).",
     lambda c: _loss(c, reduce=np.sum)),
    ("use the log-probability log pi(a|s), not the probability pi(a|s).",
     lambda c: _loss(c, log_pi=np.exp(c.log_pi))),
    ("logits are not log-probabilities: apply a log-softmax first (tf.nn.log_softmax).",
     lambda c: _loss(c, log_pi=c.logit_taken)),
    ("logits are not probabilities: use tf.nn.log_softmax(logits), not the log of the logits.",
     lambda c: _loss(c, log_pi=np.log(np.maximum(c.logit_taken, 1e-30)))),
    (_PICK + ", not all of them.", lambda c: -np.mean(c.adv[:, None] * c.lp)),
    (_PICK + ".", lambda c: _loss(c, log_pi=c.lp[:, 0])),
    (_pg.GATHER_AXIS1, lambda c: _loss(c, log_pi=_pg.across(c))),
    (_pg.SOFTMAX_AXIS0, lambda c: _loss(c, log_pi=_pg.over_batch(c))),
    (_pg.NORMALISED.format("G_t - V(s_t)"), lambda c: _loss(c, weights=_pg.normalised(c.adv))),
]


@check
def check_reinforce_loss(reinforce_loss) -> Verdict:
    """Check ``reinforce_loss(logits, actions, returns, values) -> scalar`` (values of shape
    (N, 1); TensorFlow tensors, as the agent passes them): its value, and its gradient, all of it
    into the logits (the policy gradient), none into the baseline ``values``."""
    return grade(
        _pg.taped(reinforce_loss), _loss_cases(fresh_rng()), _loss, _LOSS_MISTAKES, read=_read_loss,
        same=lambda got, want: bool(np.isclose(got, want, rtol=1e-4, atol=1e-5)),
        signature="(logits, actions, returns, values)", hint=_pg.pick_hint,
        explain=lambda got, want, c: (
            f"expected {want:.4f}, got {got:.4f}: "
            "the loss is -mean[(G_t - V(s_t)) log pi(a_t|s_t)], "
            "with the log-probability of the action taken in each step."),
        done=(f"{name_of(reinforce_loss)}: L = -mean[(G_t - V(s_t)) log pi(a_t|s_t)], "
              "one advantage per step, with the gradient flowing into the logits only."))


# -- the REINFORCE step, and the student's own agent ----------------------------------------------

_STEP_SIGNATURE = "reinforce_step(policy, value_network, optimizer, obs, actions, returns)"


def _step_cases(rng):
    """Small batches with SGD first (a wrong step shows which mistake it is), then the agent's
    sizes with the warm Adam it uses, and three actions with RMSprop."""
    import tensorflow as tf
    for n, n_actions, obs_dim, hidden, kind in (
        (int(rng.integers(5, 9)), 2, int(rng.integers(3, 6)), 8, "SGD"),
        (1, 2, int(rng.integers(3, 6)), 8, "SGD"),
        (int(rng.integers(3, 7)), int(rng.integers(3, 5)), int(rng.integers(3, 6)), 8, "SGD"),
        (int(rng.integers(300, 800)), 2, 4, 64, "Adam"),
        (int(rng.integers(30, 80)), 3, 4, 16, "RMSprop"),
    ):
        policy = _pg.small_network(rng, obs_dim, n_actions, hidden)
        value = _pg.small_network(rng, obs_dim, 1, hidden, float(rng.uniform(2.0, 5.0)))
        lr = float(rng.choice([0.05, 0.1, 0.2])) if kind == "SGD" else 0.01
        opt = _pg.optimizer(kind, lr, policy, rng)
        obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
        actions = rng.integers(n_actions, size=n).astype(np.int32)
        returns = np.round(rng.uniform(0.0, 10.0, size=n), 2).astype(np.float32)
        v0 = value(obs).numpy()[:, 0].astype(np.float64)
        yield Case((policy, value, opt, *map(tf.constant, (obs, actions, returns))), (None,) * 6,
                   f"(a batch of {n} step{'s' if n > 1 else ''}, {n_actions} actions, {kind} "
                   f"optimizer, returns {fmt(returns, 2)}, baseline V(s) {fmt(v0, 2)})",
                   obs=obs, actions=actions, returns=returns, v0=v0, weights=returns - v0,
                   value=value, value0=flat(value), replay=Replay(policy, opt))


_BASELINE_MISTAKES = [  # (the weights of the log-probabilities, hint)
    (lambda c: c.returns,
     "the baseline is missing: weight each log-probability by G_t - V(s_t), "
     "with V(s_t) = value_network(obs)[:, 0]."),
    (lambda c: c.returns - c.v0.mean(),
     "returns - values with values of shape (N, 1) broadcasts to an N x N matrix (every return "
     "minus every value), which weights every step by G_t minus the *mean* baseline. "
     "Squeeze the value network's output to shape (N,) first, value_network(obs)[:, 0]."),
]


def _read_reinforce_step(got, c, name):
    """Every problem of the step the student took fails here, in the order a student fixes them."""
    if not np.array_equal(flat(c.value), c.value0):
        fail(f"{name} changed the value network's weights. "
             "In this step the baseline V(s_t) is held fixed: "
             "differentiate the loss with respect to policy.trainable_variables only (the agent "
             "fits the value network on the returns afterwards, with its own loss). " + c.text)
    fix = ("Compute the loss inside `with tf.GradientTape() as tape:`, then take one step: "
           "grads = tape.gradient(loss, policy.trainable_variables); "
           "optimizer.apply_gradients(zip(grads, policy.trainable_variables)).")
    taken = _pg.read_steps(c.replay, "the policy", name, c.text, fix)
    policy = c.replay.model
    logits = policy(c.obs).numpy().astype(float)
    right = _pg.backprop(policy, c.obs, _pg.pg_output_grad(logits, c.actions, c.weights))
    if not near(taken, c.replay.after(right)):
        others = [(weights(c), hint) for weights, hint in _BASELINE_MISTAKES]
        message = _pg.policy_step_mistake(c, c.replay, taken, c.weights,
                                          weight_name="G_t - V(s_t)", others=others)
        fail((message or "the policy's weights did not move by one step of the optimizer you are "
                         "given down the gradient of -mean[(G_t - V(s_t)) log pi(a_t|s_t)] (the "
                         "weights G_t - V(s_t) held fixed).") + f" {c.text}")


@check
def check_reinforce_step(reinforce_step) -> Verdict:
    """Check ``reinforce_step(policy, value_network, optimizer, obs, actions, returns)``: one step
    of ``optimizer`` (SGD, Adam or RMSprop, replayed from the same state) on the policy down
    ``-mean_t[(G_t - V(s_t)) log pi(a_t|s_t)]``, V from ``value_network`` held fixed and that
    network left alone; inputs are TensorFlow tensors, as the agent passes them."""
    return grade(
        reinforce_step, _step_cases(fresh_rng()), lambda c: None, read=_read_reinforce_step,
        same=lambda got, want: True,  # (the step is judged by _read_reinforce_step)
        signature=_STEP_SIGNATURE, hint=_pg.no_gradient_hint,
        done=(f"{name_of(reinforce_step)} takes one optimizer step down -mean[(G_t - V(s_t)) log "
              "pi(a_t|s_t)], the baseline held fixed and the value network left alone."))


def _student_returns(episode_returns, rewards, gamma) -> np.ndarray:
    """The student's returns of complete episodes, one at a time or back to back with dones."""
    name = name_of(episode_returns)
    if _n_parameters(episode_returns) == 3:
        dones = np.concatenate([np.eye(1, len(r), len(r) - 1)[0] for r in rewards])
        rewards, sig = [np.concatenate(rewards)], "episode_returns(rewards, dones, gamma)"
        got = [_core.call_student(episode_returns, rewards[0], dones, gamma, signature=sig)]
    else:
        sig = "episode_returns(rewards, gamma)"
        got = [_core.call_student(episode_returns, r, gamma, signature=sig) for r in rewards]
    what = "one return per step, shape ({},)"
    return np.concatenate([_core.to_array(g, name, what.format(len(r)), (len(r),))
                           for g, r in zip(got, rewards)])


def _student_reinforce_agent(episode_returns, reinforce_step, observation_space, action_space,
                             seed):
    """rlbook's ``ReinforceAgent`` with the student's returns and step; a time limit's cut is
    folded into the last reward (``+ gamma * V(s_T)``), so the returns see complete episodes."""
    import tensorflow as tf

    from rlbook.agents.reinforce import ReinforceAgent
    class StudentReinforceAgent(ReinforceAgent):
        autograph = True  # the student's step may have Python control flow on tensors
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

        def learn(self, obs, actions, returns):  # compiled by ReinforceAgent, the student's inside
            nets = (self.policy, self.value_network, self.policy_optimizer)
            reinforce_step(*nets, obs, actions, returns)
            self.fit_value_network(obs, returns, self.config.baseline_steps)
            return {}

    agent = StudentReinforceAgent(observation_space, action_space, num_envs=8, seed=seed)
    fit = tf.function(
        lambda obs, returns: agent.fit_value_network(obs, returns, agent.config.baseline_steps),
        input_signature=[tf.TensorSpec((None, agent.obs_dim)), tf.TensorSpec((None,))])

    def eager_step(obs, actions, returns):
        obs, actions, returns = tf.constant(obs), tf.constant(actions), tf.constant(returns)
        args = (agent.policy, agent.value_network, agent.policy_optimizer, obs, actions, returns)
        _core.call_student(reinforce_step, *args, signature=_STEP_SIGNATURE,
                           hint=_pg.no_gradient_hint)
        fit(obs, returns)
        return {}

    agent._compiled_step = _pg.StudentStep(agent._compiled_step, eager_step)
    return agent


@check
def check_reinforce_agent(episode_returns, reinforce_step) -> Verdict:
    """Train rlbook's REINFORCE agent (the chapter's defaults) with the student's returns and
    policy step on CartPole-v1, on fixed seeds, for at most 30,000 steps; it passes when an
    evaluation's mean return (10 episodes, actions sampled) reaches 100 *and* both functions pass
    their own checks, which say why when the agent does not learn."""
    ret_name, step_name = name_of(episode_returns), name_of(reinforce_step)
    return _pg.agent_check(
        lambda *space_seed: _student_reinforce_agent(episode_returns, reinforce_step, *space_seed),
        lambda: [(ret_name, check_episode_returns(episode_returns)),
                 (step_name, check_reinforce_step(reinforce_step))],
        f"returns by {ret_name}, policy steps by {step_name}", **_pg.CARTPOLE_SAMPLED,
        differs=_core.traced(step_name))
