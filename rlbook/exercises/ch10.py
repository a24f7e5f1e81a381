"""Checks for the exercises of chapter 10 (continuous actions): the squashed Gaussian's
log-probability, SAC's critic target, and the SAC agent that must swing up Pendulum-v1 with the
student's functions."""

from __future__ import annotations

import re

import numpy as np

from rlbook.exercises import _core, _pg
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of, td

# fmt: off
__all__ = ["check_squashed_log_prob", "check_sac_target", "check_sac_agent"]

_LOG_PROB_SIGNATURE = "(mean, log_std, u)"
_TARGET_ARGS = ("rewards", "next_q1", "next_q2", "next_log_probs", "terminated", "gamma", "alpha")


# -- the squashed Gaussian's log-probability -------------------------------------------------


def _log_prob_cases(rng):
    """Batches of B samples of A action dimensions (one dimension, as Pendulum has, and several),
    means and log standard deviations of both signs, samples u up to 3 from 0."""
    import tensorflow as tf
    for n, dims in ((int(rng.integers(4, 8)), 1), (int(rng.integers(3, 6)), 3), (1, 2)):
        mean = np.round(rng.uniform(-1.5, 1.5, (n, dims)), 2)
        log_std = np.round(rng.uniform(-1.5, 0.5, (n, dims)), 2)
        u = np.round(np.clip(mean + np.exp(log_std) * rng.normal(size=(n, dims)), -3, 3), 2)
        variables = [tf.Variable(x.astype(np.float32)) for x in (mean, log_std)]
        yield Case((*variables, tf.constant(u, tf.float32)), (None, None, None),
                   f"(mean {fmt(mean, 2)}, log_std {fmt(log_std, 2)}, u {fmt(u, 2)})",
                   what=f"one log-probability per sample, shape ({n},)", variables=variables, u=u)


def _log_prob(correction=-1.0, sigma="exp", constant=True, at=None, square=True, mean_=False,
              jacobian="tanh^2"):
    """The squashed Gaussian's log-probability with one part replaced by a typical slip
    (``constant``: True, False, "log 2 pi" or "once"; ``square``: False divides by sigma, not
    its square; ``mean_``: the mean over the dimensions)."""
    def log_prob(mean, log_std, u):
        import tensorflow as tf
        x = u if at is None else tf.tanh(u)
        std = {"exp": tf.exp(log_std), "raw": log_std, "variance": tf.exp(log_std / 2)}[sigma]
        log_sigma = {"exp": log_std, "variance": log_std / 2}.get(sigma)
        log_sigma = tf.math.log(tf.abs(std)) if log_sigma is None else log_sigma
        quadratic = -0.5 * ((x - mean) / std) ** 2 if square else -0.5 * (x - mean) ** 2 / std
        c = {True: 0.9189385, "log 2 pi": 2 * 0.9189385}.get(constant, 0.0)
        log_det = (2.0 * (np.log(2.0) - u - tf.nn.softplus(-2.0 * u)) if jacobian == "tanh^2"
                   else tf.math.log(1 - tf.tanh(u) + 1e-6))
        out = (tf.reduce_mean if mean_ else tf.reduce_sum)(
            quadratic - log_sigma - c + correction * log_det, axis=-1)
        return out - 0.9189385 if constant == "once" else out

    return log_prob


def _answer(fn):
    """``[log-probabilities..., d sum / d mean..., d sum / d log_std...]`` of ``fn``."""
    def answer(c):
        out, tape = _pg.taped(fn)(*c.args)
        grads = tape.gradient(out, c.variables)  # (of the sum of the outputs)
        return np.concatenate([np.ravel(out)] + [np.ravel(g.numpy()) for g in grads])

    return answer


_LOG_PROB_MISTAKES = [
    ("this is the log-density of u, the Gaussian sample: the action is a = tanh(u), and squashing "
     "changes the density. Subtract log(1 - tanh(u)^2), summed over the action dimensions.",
     _answer(_log_prob(correction=0.0))),
    ("the tanh correction has the wrong sign: log pi(a) = log N(u) - sum log(1 - tanh(u)^2) "
     "(squashing packs the probability into a smaller interval, so the density rises).",
     _answer(_log_prob(correction=1.0))),
    ("log_std is the logarithm of the standard deviation: sigma = exp(log_std).",
     _answer(_log_prob(sigma="raw"))),
    ("the Gaussian's log-density has a constant term, -log(2 pi) / 2 per dimension.",
     _answer(_log_prob(constant=False))),
    ("the Gaussian part is the density of u, the sample before squashing, not of tanh(u).",
     _answer(_log_prob(at="tanh"))),
    ("the action dimensions are independent, so their log-probabilities add up: "
     "tf.reduce_sum over the last axis, not the mean.", _answer(_log_prob(mean_=True))),
    ("the constant is -log(2 pi) / 2 per dimension, half of log(2 pi).",
     _answer(_log_prob(constant="log 2 pi"))),
    ("the constant -log(2 pi) / 2 belongs to each dimension: subtract it inside the sum "
     "(A times for A dimensions), not once per sample.", _answer(_log_prob(constant="once"))),
    ("the squared distance is divided by the variance: -((u - mean) / sigma)^2 / 2, not "
     "-(u - mean)^2 / (2 sigma).", _answer(_log_prob(square=False))),
    ("log_std is the logarithm of the standard deviation, not of the variance: "
     "sigma = exp(log_std), not exp(log_std / 2).", _answer(_log_prob(sigma="variance"))),
    ("the tanh correction is log(1 - tanh(u)^2), with tanh squared: the derivative of tanh.",
     _answer(_log_prob(jacobian="no square"))),
]


def _read_log_prob(got, c, name):
    out, tape = got
    if isinstance(out, (tuple, list)) and len(out) and hasattr(out[0], "shape"):
        fail(f"{name} returned {len(out)} things; return the log-probabilities alone, "
             f"{c.what}. {c.text}")
    n, dims = c.u.shape
    if np.shape(out) == c.u.shape and dims > 1:
        fail(f"{name} returned one number per sample *and dimension*, shape {c.u.shape}: the "
             f"dimensions are independent, so their log-probabilities add up; sum over the last "
             f"axis. {c.text}")
    values = _core.to_array(out, name, c.what).reshape(-1)
    if np.shape(out) == (n, 1):
        fail(f"{name} returned shape ({n}, 1); return shape ({n},): sum over the last axis "
             "without keepdims (next to a tensor of shape (B,), one of shape (B, 1) broadcasts "
             f"to (B, B)). {c.text}")
    if np.shape(out) in ((), (dims,)) and n > 1 and n != dims:
        fail(f"{name} returned shape {np.shape(out)}: it summed over the batch too; sum over the "
             f"last axis only, tf.reduce_sum(..., axis=-1), for {c.what}. {c.text}")
    if values.shape != (n,):
        fail(f"{name} returned shape {np.shape(out)}; expected {c.what}. {c.text}")
    grads = _pg.grads_or_none(tape, out, c.variables)
    c.no_gradient = any(g is None for g in grads)
    return np.concatenate([values] + [np.zeros(c.u.size) if g is None else np.ravel(g)
                                      for g in grads])


def _explain_log_prob(got, want, c) -> str:
    n = len(c.u)
    if not _core.close(got[:n], want[:n], 1e-3, 1e-3):
        return f"expected the log-probabilities {fmt(want[:n], 4)}, got {fmt(got[:n], 4)}."
    if c.no_gradient:
        return ("the values are right, but no gradient reaches mean and log_std: compute them "
                "with TensorFlow operations (tf.exp, tf.tanh, tf.math.log, tf.reduce_sum), no "
                "NumPy and no .numpy().")
    return ("the values are right but their gradients are not: "
            "compute every term from mean and log_std.")


@check
def check_squashed_log_prob(squashed_log_prob) -> Verdict:
    """Check ``squashed_log_prob(mean, log_std, u) -> (B,)``, ``log pi(tanh(u))`` for ``u ~
    N(mean, exp(log_std)^2)``: its values and its gradients with respect to ``mean`` and
    ``log_std`` against :func:`rlbook.losses.squashed_gaussian_log_prob`."""
    return grade(_pg.taped(squashed_log_prob), _log_prob_cases(fresh_rng()),
                 _answer(_log_prob()), _LOG_PROB_MISTAKES, read=_read_log_prob,
                 same=lambda got, want: _core.close(got, want, rtol=1e-3, atol=1e-3),
                 signature=_LOG_PROB_SIGNATURE, hint=_core.tensor_hint,
                 explain=_explain_log_prob,
                 done=f"{name_of(squashed_log_prob)}: log N(u; mean, exp(log_std)^2) - "
                      "sum log(1 - tanh(u)^2), summed over the action dimensions.")


# -- SAC's critic target ----------------------------------------------------------------------


def _target_cases(rng):
    """Minibatches with terminal transitions, a batch of one, and alpha 0 (no entropy term)."""
    gammas = rng.permutation([0.9, 0.99, rng.choice([0.9, 0.99])])  # (both: a fixed one fails)
    for (n, alpha), gamma in zip(((int(rng.integers(5, 9)), float(rng.choice([0.2, 0.5]))),
                                  (1, 0.3), (int(rng.integers(4, 7)), 0.0)), gammas.tolist()):
        r = np.round(rng.uniform(-2.0, 0.0, n), 2)
        q1, q2 = (np.round(rng.uniform(-10.0, -1.0, n), 2) for _ in range(2))
        log_pi = np.round(rng.uniform(-2.0, 1.0, n), 2)
        term = (rng.permutation(n) < max(1, n // 3)).astype(float) * (n > 1)
        free = np.flatnonzero(term == 0)[:2]  # each critic the smaller on one bootstrapped row,
        if len(free) == 2:  # so one critic alone is neither min(Q1, Q2) nor max(Q1, Q2)
            low, high = np.minimum(q1[free], q2[free]), np.maximum(q1[free], q2[free])
            q1[free], q2[free] = [low[0], high[1]], [high[0], low[1]]
        entropy = -alpha * log_pi
        yield Case((*(x.astype(np.float32) for x in (r, q1, q2, log_pi, term)), gamma, alpha),
                   _TARGET_ARGS,
                   f"(rewards {fmt(r, 2)}, next_q1 {fmt(q1, 2)}, next_q2 {fmt(q2, 2)}, "
                   f"next_log_probs {fmt(log_pi, 2)}, terminated {fmt(term, 0)}, gamma {gamma}, "
                   f"alpha {alpha})", what=f"one target per transition, shape ({n},)", r=r,
                   q1=q1, q2=q2, log_pi=log_pi, alpha=alpha, entropy=entropy, t=term, gamma=gamma,
                   boot=np.minimum(q1, q2) + entropy)  # the next state's soft value


# The reference is _core.td, r + gamma * (1 - terminated) * boot; the slips use a wrong boot.
_TARGET_MISTAKES = [
    ("the target took the larger of the two critics; take the smaller, min(Q1, Q2): each critic "
     "overestimates some actions, and the minimum keeps the actor from exploiting them.",
     lambda c: td(c, boot=np.maximum(c.q1, c.q2) + c.entropy)),
    ("the target averaged the two critics; take the smaller, min(Q1, Q2) (clipped double Q).",
     lambda c: td(c, boot=(c.q1 + c.q2) / 2 + c.entropy)),
    _core.Mistake("the target used one critic; take the smaller of the two, min(Q1, Q2).",
                  test=lambda c, got: any(_core.close(got, td(c, boot=q + c.entropy))
                                          for q in (c.q1, c.q2))),
    ("the entropy term has the wrong sign: the next state's soft value is min Q - alpha * log "
     "pi(a'|s'), a bonus for a random policy (log pi is low when pi is spread out).",
     lambda c: td(c, boot=np.minimum(c.q1, c.q2) - c.entropy)),
    ("the entropy term is missing: subtract alpha * log pi(a'|s') from min(Q1, Q2) inside the "
     "discounted part.", lambda c: td(c, boot=np.minimum(c.q1, c.q2))),
    ("the entropy term belongs to the next state, inside the discounted part: "
     "r + gamma * (1 - terminated) * (min(Q1, Q2) - alpha * log pi(a'|s')).",
     lambda c: td(c, boot=np.minimum(c.q1, c.q2)) + c.entropy),
    ("a terminated transition has no next state: multiply the discounted part by "
     "(1 - terminated).", lambda c: td(c, mask=1.0)),
    ("the entropy term is part of the next state's value, and a terminated transition has no next "
     "state: mask both, r + gamma * (1 - terminated) * (min(Q1, Q2) - alpha * log pi(a'|s')).",
     lambda c: td(c, boot=np.minimum(c.q1, c.q2)) + c.gamma * c.entropy),
    ("np.min (or tf.reduce_min) reduced the critics to one number for the whole batch; take the "
     "smaller of the two transition by transition: np.minimum(next_q1, next_q2) or tf.minimum.",
     lambda c: td(c, boot=min(c.q1.min(), c.q2.min()) + c.entropy)),
    ("the entropy term is alpha * log pi(a'|s'): multiply the log-probability by alpha.",
     lambda c: td(c, boot=np.minimum(c.q1, c.q2) - c.log_pi)),
    _core.Mistake(lambda c: "gamma and alpha are parameters: use them, not fixed numbers (this "
                            f"case has gamma {c.gamma} and alpha {c.alpha}).",
                  test=lambda c, got: any(
                      _core.close(got, bad) and not _core.close(c.want, bad) for bad in (
                          *(td(c, gamma=x) for x in (0.99, 0.9)),
                          *(td(c, boot=np.minimum(c.q1, c.q2) - x * c.log_pi)
                            for x in (0.2, 0.1, 0.05))))),
]


def _target_hint(err, line: str) -> str | None:
    if "truth value" in str(err) and re.search(r"(?<![\w.])(min|max)\(", line):
        return ("Python's min and max compare whole arrays; take the smaller critic transition "
                "by transition with np.minimum(next_q1, next_q2) or tf.minimum.")
    return _core.flags_hint(err, line)


@check
def check_sac_target(sac_target) -> Verdict:
    """Check ``sac_target(rewards, next_q1, next_q2, next_log_probs, terminated, gamma, alpha)
    -> (B,)`` against :func:`rlbook.losses.sac_critic_target`."""
    return grade(sac_target, _target_cases(fresh_rng()), td,
                 _TARGET_MISTAKES + _core.TD_MISTAKES,
                 read=lambda got, c, name: _core.to_array(got, name, c.what, c.r.shape),
                 signature=f"({', '.join(_TARGET_ARGS)})", hint=_target_hint,
                 rule="y = r + gamma * (1 - terminated) * (min(Q1, Q2) - alpha * log pi(a'|s'))",
                 done=f"{name_of(sac_target)}: y = r + gamma * (1 - terminated) * (min(Q1, Q2) "
                      "- alpha * log pi(a'|s')).")


# -- the agent ----------------------------------------------------------------------------------


def _student_sac(squashed_log_prob, sac_target, observation_space, action_space, seed):
    """rlbook's ``SACAgent`` whose log-probabilities and critic target are the student's."""
    import tensorflow as tf

    from rlbook.agents.sac import SACAgent

    class StudentSAC(SACAgent):
        def sample_action(self, obs):
            mean, log_std = self.mean_and_log_std(obs)
            u = mean + tf.exp(log_std) * self.noise.normal(tf.shape(mean))
            return tf.tanh(u), tf.reshape(squashed_log_prob(mean, log_std, u), [-1])

        def soft_target(self, reward, next_obs, terminated, alpha):
            next_action, next_log_prob = self.sample_action(next_obs)
            y = sac_target(reward, self.q_of(self.target1, next_obs, next_action),
                           self.q_of(self.target2, next_obs, next_action), next_log_prob,
                           terminated, self.config.gamma, alpha)
            return tf.stop_gradient(tf.reshape(tf.cast(y, tf.float32), [-1]))

    agent = StudentSAC(observation_space, action_space, seed=seed)

    agent._learn_many = _pg.compiled_or_stop(
        agent._learn_many, agent.learn,
        f"{name_of(squashed_log_prob)} or {name_of(sac_target)}", hint=_core.tensor_hint)
    return agent


# SAC with the chapter's defaults reaches a greedy mean of -200 on Pendulum-v1 in 3,000 to 6,000
# steps on the seeds measured (docs/performance.md); the check allows 12,000 on each of two seeds.
AGENT_STEPS = 12_000


@check
def check_sac_agent(squashed_log_prob, sac_target) -> Verdict:
    """Train rlbook's SAC (the chapter's defaults) with the student's log-probability and critic
    target on Pendulum-v1; it passes when a greedy evaluation's mean return reaches -200 (swung
    up and balanced) *and* both functions pass their own checks."""
    lp_name, target_name = name_of(squashed_log_prob), name_of(sac_target)
    return _pg.agent_check(
        lambda *s: _student_sac(squashed_log_prob, sac_target, *s),
        lambda: [(lp_name, check_squashed_log_prob(squashed_log_prob)),
                 (target_name, check_sac_target(sac_target))],
        f"log-probabilities by {lp_name}, targets by {target_name}", env_id="Pendulum-v1",
        copies=1, steps=AGENT_STEPS, eval_every=1_000, threshold=-200, greedy=True,
        goal="a random policy gets about -1,200; the check asks for -200",
        learns="your own SAC swings the pendulum up",
        differs=_core.traced(f"{lp_name} or {target_name}"))
