"""Checks for the exercises of chapter 9 (PPO): GAE, the clipped loss, the actor's step, and
the agent that solves CartPole-v1 with the student's functions."""

from __future__ import annotations

import re
from functools import partial
from types import SimpleNamespace

import numpy as np

from rlbook.exercises import _core, _pg
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of
from rlbook.exercises._pg import Replay, near

# fmt: off
__all__ = ["check_gae", "check_clipped_loss", "check_ppo_actor_step", "check_ppo_agent"]

_GAE_SIGNATURE = "(rewards, values, next_values, terminated, truncated, gamma, lam)"
_STEP_SIGNATURE = "(policy, optimizer, obs, actions, old_log_probs, advantages, clip_eps)"


# -- GAE -----------------------------------------------------------------------------------------


def _gae_cases(rng):
    """Rollouts of T steps in N copies (time first) with terminations, truncations and a step
    that is both, at a random lambda, at lambda 0 and 1, and for one copy."""
    gammas = rng.permutation([0.9, 0.99, *rng.choice([0.9, 0.99], 2)])  # (both: a fixed one fails)
    for (lam, n), gamma in zip(((float(rng.choice([0.8, 0.9, 0.95])), 2), (0.0, 2), (1.0, 3),
                                (0.9, 1)), gammas.tolist()):
        t_len = int(rng.integers(5, 8))
        r = np.round(rng.uniform(-1.0, 2.0, (t_len, n)), 2)
        v, next_v = (np.round(rng.uniform(1.0, 10.0, (t_len, n)), 2) for _ in range(2))
        term, trunc = np.zeros((2, t_len, n))
        rows = rng.permutation(t_len - 1)  # an end in the middle, so the sum must stop there
        term[rows[0], 0], trunc[rows[1], -1], trunc[rows[2], 0] = 1.0, 1.0, 1.0
        term[rows[2], 0] = float(n == 1)  # one copy: a step both terminated and truncated
        yield Case(tuple(x.astype(np.float32) for x in (r, v, next_v, term, trunc)) + (gamma, lam),
                   ("rewards", "values", "next_values", "terminated", "truncated", "gamma", "lam"),
                   f"(rewards {fmt(r, 2)}, values {fmt(v, 2)}, next_values {fmt(next_v, 2)}, "
                   f"terminated {fmt(term, 0)}, truncated {fmt(trunc, 0)}, gamma {gamma}, "
                   f"lam {lam})",
                   what=f"one advantage per step and copy, shape {r.shape}", r=r, v=v,
                   next_v=next_v, term=term, trunc=trunc, gamma=gamma, lam=lam)


def _gae(c, boot=None, cut=None, decay=None, next_v=None, backwards=True, v=None):
    """GAE of the case, with one part replaced by a typical slip: ``boot`` multiplies V(s') in
    delta, ``cut`` stops the sum, ``decay`` replaces gamma * lambda, ``next_v`` V(s'), ``v``
    V(s)."""
    boot = 1 - c.term if boot is None else boot
    cut = (1 - c.term) * (1 - c.trunc) if cut is None else cut
    decay = c.gamma * c.lam if decay is None else decay
    delta = c.r + c.gamma * boot * (c.next_v if next_v is None else next_v) - (
        c.v if v is None else v)
    out, a = np.zeros_like(delta), np.zeros_like(delta[0])
    for t in range(len(delta) - 1, -1, -1) if backwards else range(len(delta)):
        out[t] = a = delta[t] + decay * (cut[t] if backwards else cut[t - 1] if t else 1) * a
    return out


_GAE_MISTAKES = [
    ("a truncated step was cut by the time limit: its next state still has a future worth "
     "V(s'), so delta_t keeps gamma * V(s_{t+1}). Only terminated drops it from delta.",
     lambda c: _gae(c, boot=(1 - c.term) * (1 - c.trunc))),
    ("the sum ran across the end of an episode: after a truncated step the next row belongs to a "
     "new episode, so the recursion stops at every end, (1 - terminated) * (1 - truncated).",
     lambda c: _gae(c, cut=1 - c.term)),
    ("the sum ran across the end of an episode: stop the recursion A_t = delta_t + gamma * lam * "
     "A_(t+1) at every step that ended one, terminated or truncated.",
     lambda c: _gae(c, cut=np.ones_like(c.r))),
    ("the recursion decays by gamma only: the factor is gamma * lam (lam = 1 gives the Monte "
     "Carlo advantage, lam = 0 the one-step TD error).", lambda c: _gae(c, decay=c.gamma)),
    ("the recursion decays by lam only: the factor is gamma * lam.",
     lambda c: _gae(c, decay=c.lam)),
    ("you returned the value targets A_t + V(s_t); return the advantages A_t.",
     lambda c: _gae(c) + c.v),
    ("delta_t used values[t + 1] for V(s_{t+1}); use next_values[t]: at an episode's end the next "
     "row is the reset state of a new episode, and after the last row there is none.",
     lambda c: _gae(c, next_v=np.concatenate([c.v[1:], np.zeros_like(c.v[:1])]))),
    ("the recursion ran forwards in time; GAE sums the *future* TD errors, so go backwards from "
     "the last step, A_t = delta_t + gamma * lam * (1 - done_t) * A_(t+1).",
     lambda c: _gae(c, backwards=False)),
    ("the sum stopped one row late: row t's flags say whether step t ended its episode (the "
     "formula's done_(t+1)), so A_t = delta_t + gamma * lam * (1 - done[t]) * A_(t+1), "
     "not done[t + 1].", lambda c: _gae(c, cut=np.concatenate([
         ((1 - c.term) * (1 - c.trunc))[1:], np.ones_like(c.r[:1])]))),
    ("1 - terminated - truncated is -1 on a step that is both terminated and truncated (it can "
     "be both): stop the sum with (1 - terminated) * (1 - truncated).",
     lambda c: _gae(c, cut=1 - c.term - c.trunc)),
    ("delta_t drops V(s') after a truncation and keeps it after a termination: the other way "
     "round, delta_t = r_t + gamma * (1 - terminated_t) * V(s_(t+1)) - V(s_t).",
     lambda c: _gae(c, boot=1 - c.trunc)),
    ("delta_t = r_t + gamma * (1 - terminated_t) * V(s_(t+1)) - V(s_t): subtract values[t], "
     "the baseline.", lambda c: _gae(c, v=0.0)),
    ("you returned the TD errors delta_t themselves; the advantage sums them backwards, "
     "A_t = delta_t + gamma * lam * (1 - done_t) * A_(t+1).", lambda c: _gae(c, decay=0.0)),
    ("the advantages came out in reverse time order: when you go backwards, store A_t in row t "
     "(advantages[t] = ...), or flip the result back.", lambda c: _gae(c)[::-1]),
    ("return the advantages as they are: the agent normalises them over each minibatch "
     "(step 2.4.1), gae does not.", lambda c: (_gae(c) - _gae(c).mean()) / (_gae(c).std() + 1e-8)),
    ("the arrays are time first, shape (T, N): the recursion runs down the rows (axis 0, one per "
     "step), not along the copies.", lambda c: _gae(SimpleNamespace(**{
         k: getattr(x, "T", x) for k, x in vars(c).items()})).T if c.r.shape[1] > 1 else None),
    _core.Mistake(lambda c: "gamma and lam are parameters: use them, not fixed numbers (this "
                            f"case has gamma {c.gamma} and lam {c.lam}).",
                  test=lambda c, got: any(
                      _core.close(got, _gae(SimpleNamespace(**{**vars(c), k: x})))
                      for k, values in (("gamma", (0.99, 0.98, 0.9)), ("lam", (0.95, 0.9, 0.8)))
                      for x in values if x != getattr(c, k))),
]


def _read_gae(got, c, name):
    if isinstance(got, tuple) and len(got) == 2:
        fail(f"{name} returned two things; return the advantages alone, shape {c.r.shape} (the "
             f"agent adds the values to them for the critic's targets). {c.text}")
    return _core.to_array(got, name, c.what, c.r.shape)


def _gae_hint(err, line: str) -> str | None:
    if "setting an array element with a sequence" in str(err):
        return ("Each row of the advantages holds one number per copy: make the array with "
                "np.zeros_like(rewards), shape (T, N), and the running A_(t+1) with "
                "np.zeros_like(rewards[0]), shape (N,).")
    return _core.flags_hint(err, line)


@check
def check_gae(gae) -> Verdict:
    """Check ``gae(rewards, values, next_values, terminated, truncated, gamma, lam) -> (T, N)``
    against :func:`rlbook.losses.gae_advantages` on fresh rollouts."""
    return grade(gae, _gae_cases(fresh_rng()), _gae, _GAE_MISTAKES, read=_read_gae,
                 signature=_GAE_SIGNATURE, hint=_gae_hint,
                 rule="A_t = delta_t + gamma * lam * (1 - done_t) * A_(t+1), backwards, with "
                      "delta_t = r_t + gamma * (1 - terminated_t) * V(s_(t+1)) - V(s_t)",
                 done=f"{name_of(gae)}: the TD errors bootstrap unless terminated, and their "
                      "gamma * lam-discounted sum stops at every episode end.")


# -- the clipped surrogate loss -------------------------------------------------------------------


def _clip_cases(rng):
    """Log-probabilities whose ratios to the old ones fall inside and outside the clip range on
    both sides, with advantages of both signs, at clip_eps 0.1 or 0.3; a batch where nothing moved
    yet; one sample."""
    import tensorflow as tf
    for n, spread, eps in ((int(rng.integers(6, 10)), 0.6, float(rng.choice([0.1, 0.3]))),
                           (5, 0.0, 0.2), (1, 0.5, 0.1)):
        old = np.round(np.log(rng.uniform(0.1, 0.9, n)), 3)
        new = np.round(old + rng.uniform(-spread, spread, n), 3)
        adv = np.round(_pg.mixed_signs(rng, n) * rng.uniform(0.2, 2.0, n), 2)
        if n > 1 and spread:  # one ratio above 1 + eps, one below 1 - eps; the two pull up (so
            # max, min and the clipped term alone all differ there), a third above 1 + eps pushes
            # down (the min of the products keeps it, the min of the ratios clips it); a fourth
            # pulls up between 1 + eps and 1.2 or 1.3 (a fixed clip_eps of 0.2 shows)
            new[:4] = old[:4] + [0.5, -0.5, 0.5, np.log(1 + (eps + 0.2) / 2)]
            adv[:4] = np.abs(adv[:4]) * [1, 1, -1, 1]
        log_probs = tf.Variable(new.astype(np.float32))
        yield Case((log_probs, tf.constant(old, tf.float32), tf.constant(adv, tf.float32), eps),
                   (None, None, None, "clip_eps"),
                   f"(log_probs {fmt(new)}, old_log_probs {fmt(old)}, advantages {fmt(adv, 2)}, "
                   f"clip_eps {eps})", var=log_probs)


def _surrogate(clip="min", ratio="exp", sign=-1.0, mean=True, eps=None, normalize=False):
    """A PPO loss with one part replaced by a typical slip (``eps``: a fixed clip_eps)."""
    import tensorflow as tf

    def loss(new, old, adv, clip_eps):
        e = clip_eps if eps is None else eps
        if normalize:
            adv = (adv - tf.reduce_mean(adv)) / (tf.math.reduce_std(adv) + 1e-8)
        rho = {"exp": tf.exp(new - old), "inverse": tf.exp(old - new),
               "difference": new - old, "quotient": new / old}[ratio]
        clipped = tf.clip_by_value(rho, 1 - e, 1 + e) * adv
        term = {"min": tf.minimum(rho * adv, clipped), "max": tf.maximum(rho * adv, clipped),
                "none": rho * adv, "only": clipped,
                "ratios": tf.minimum(rho, tf.clip_by_value(rho, 1 - e, 1 + e)) * adv,
                "product": tf.minimum(rho * adv, tf.clip_by_value(rho * adv, 1 - e, 1 + e)),
                "around 0": tf.minimum(rho * adv, tf.clip_by_value(rho, -e, e) * adv)}[clip]
        return sign * (tf.reduce_mean(term) if mean else tf.reduce_sum(term))

    return loss


def _read_clip(got, c, name):
    """The loss's value and its gradient with respect to ``log_probs``."""
    out, tape = got
    value = _core.to_scalar(out, name, "one number, the mean clipped loss")
    grad = _pg.grads_or_none(tape, out, [c.var])[0]
    if grad is None and not np.isclose(value, 0.0):
        fail(f"{name} returned the right kind of number, but no gradient reaches log_probs: "
             "compute the loss from log_probs with TensorFlow operations (tf.exp, "
             f"tf.clip_by_value, tf.minimum), no NumPy and no .numpy(). {c.text}")
    return np.concatenate([[value], np.zeros(c.var.shape) if grad is None else grad])


def _clip_answer(**slip):
    """``[loss, d loss / d log_probs...]`` of :func:`_surrogate`, read as the student's answer."""
    return lambda c: _read_clip(_pg.taped(_surrogate(**slip))(*c.args), c, "the reference")


_CLIP_MISTAKES = [
    ("the loss took the larger of the two terms; PPO is pessimistic: min(rho * A, "
     "clip(rho, 1 - eps, 1 + eps) * A), so a sample stops pulling once it has moved far enough.",
     _clip_answer(clip="max")),
    ("the loss is the objective itself; the optimizer minimises, so return minus the mean of the "
     "clipped surrogate.", _clip_answer(sign=1.0)),
    ("the ratio is upside down: rho = pi / pi_old = exp(log_probs - old_log_probs).",
     _clip_answer(ratio="inverse")),
    ("the ratio must be pi / pi_old, the exponential of the difference of the log-probabilities: "
     "rho = exp(log_probs - old_log_probs), not their difference.",
     _clip_answer(ratio="difference")),
    ("the ratio is not clipped: take min(rho * A, clip(rho, 1 - eps, 1 + eps) * A), "
     "tf.clip_by_value for the clip.", _clip_answer(clip="none")),
    ("the loss uses the clipped term alone; take the minimum of the unclipped and the clipped "
     "term, sample by sample: a ratio that moved the wrong way must keep its gradient.",
     _clip_answer(clip="only")),
    ("the loss is the sum over the batch; use the mean, so its size does not grow with the batch.",
     _clip_answer(mean=False)),
    ("clip_eps is a parameter: clip the ratio to [1 - clip_eps, 1 + clip_eps] with the value "
     "you are given, not a fixed 0.2.", _clip_answer(eps=0.2)),
    ("the minimum is of the two products, not of the ratios: min(rho * A, clip(rho, 1 - eps, "
     "1 + eps) * A). With a negative advantage the smaller product has the larger ratio.",
     _clip_answer(clip="ratios")),
    ("clip the ratio, not the product: clip(rho, 1 - eps, 1 + eps) * A.",
     _clip_answer(clip="product")),
    ("the ratio stays near 1: clip it to [1 - eps, 1 + eps], not to [-eps, eps].",
     _clip_answer(clip="around 0")),
    ("the ratio is of the probabilities, pi / pi_old = exp(log_probs - old_log_probs), not of "
     "the log-probabilities.", _clip_answer(ratio="quotient")),
    ("the loss takes the advantages as they are; normalising them over the minibatch is the "
     "actor step's job (the next exercise).", _clip_answer(normalize=True)),
]


def _clip_hint(err, line: str) -> str | None:
    """A hint for a reduction or Python's min where tf.minimum compares sample by sample."""
    if "Tidx" in str(err):  # a tensor where a reduction expects its axis
        return ("tf.reduce_min(x, axis) reduces one tensor along an axis; the smaller of two "
                "tensors, sample by sample, is tf.minimum(x, y).")
    if "truth value" in str(err):
        return ("Python's min, max and `if` need one True or False, and a comparison of tensors "
                "gives one per sample: use tf.minimum(x, y), sample by sample.")
    return _core.tensor_hint(err, line)


@check
def check_clipped_loss(clipped_loss) -> Verdict:
    """Check ``clipped_loss(log_probs, old_log_probs, advantages, clip_eps) -> scalar``: its
    value and its gradient with respect to ``log_probs`` against
    :func:`rlbook.losses.ppo_clip_loss`."""
    return grade(_pg.taped(clipped_loss), _clip_cases(fresh_rng()), _clip_answer(),
                 _CLIP_MISTAKES, read=_read_clip, signature="(log_probs, old_log_probs, "
                 "advantages, clip_eps)", hint=_clip_hint,
                 explain=lambda got, want, c: (
                     f"expected the loss {fmt(want[0], 4)} and the gradient {fmt(want[1:], 4)} "
                     f"with respect to log_probs, got {fmt(got[0], 4)} and {fmt(got[1:], 4)}."),
                 done=f"{name_of(clipped_loss)}: -mean(min(rho * A, clip(rho, 1 - eps, 1 + eps) "
                      "* A)), and its gradient stops where a ratio has moved far enough.")


# -- the actor's step -----------------------------------------------------------------------------


def _step_cases(rng):
    """Small networks with SGD (each mistake moves the weights its own way), then the agent's
    sizes with a warm Adam optimizer; old log-probabilities mostly 0.4 away, so ratios clip, and
    two 0.15 away, which clip at clip_eps 0.1 but not at 0.2."""
    import tensorflow as tf
    for n, n_actions, hidden, kind, eps in ((int(rng.integers(6, 10)), 2, 8, "SGD", 0.1),
                                            (int(rng.integers(5, 9)), 3, 8, "SGD", 0.2),
                                            (64, 2, 64, "Adam", float(rng.choice([0.1, 0.2])))):
        obs_dim = int(rng.integers(3, 6))
        policy = _pg.small_network(rng, obs_dim, n_actions, hidden)
        opt = _pg.optimizer(kind, 0.1 if kind == "SGD" else 0.003, policy, rng)
        obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
        actions = rng.integers(n_actions, size=n).astype(np.int32)
        log_pi = _pg.log_softmax(policy(obs).numpy().astype(float))[np.arange(n), actions]
        # Most ratios start 0.4 in log away from 1 (clipped or not, by the advantage's sign);
        # the first two start at 1, so the right step always moves the policy. The next two
        # start 0.15 away, with the largest and the smallest advantage (positive and negative
        # once normalised), towards the side where they clip at clip_eps 0.1 but not at 0.2:
        # the first case has clip_eps 0.1, the second 0.2, so a fixed clip_eps shows. The fifth
        # clips at any clip_eps (ignoring it shows apart from a fixed one).
        offsets = rng.choice([-0.4, 0.4], n)
        offsets[:5] = [0.0, 0.0, -0.15, 0.15, -0.4]
        old = (log_pi + offsets).astype(np.float32)
        adv = _pg.mixed_signs(rng, n) * rng.uniform(0.5, 3.0, n) + 1.0
        adv[2:5] = adv.max() + 0.5, adv.min() - 0.5, adv.max() + 0.5
        adv = adv.astype(np.float32)
        yield Case((policy, opt, *map(tf.constant, (obs, actions, old, adv)), eps),
                   (None,) * 6 + ("clip_eps",),
                   f"({n} steps, {n_actions} actions, {kind}, old_log_probs "
                   f"{fmt(old, 2)}, advantages {fmt(adv, 2)}, clip_eps {eps})",
                   obs=obs, actions=actions, old=old, adv=adv, eps=eps, rp=Replay(policy, opt))


def _actor_change(c, normalize=True, logits_as_log_probs=False, probs=False, first=False,
                  **loss):
    """How one step of the case's optimizer moves the policy's weights, down the PPO loss with
    one part replaced by a typical slip (``normalize``: True, False, "center" or "scale";
    ``loss``: the slips of :func:`_surrogate`)."""
    import tensorflow as tf
    adv = c.adv - c.adv.mean() if normalize in (True, "center") else c.adv
    adv = adv / (c.adv.std() + 1e-8) if normalize in (True, "scale") else adv
    model = c.rp.model
    with tf.GradientTape() as tape:
        logits = model(tf.constant(c.obs))
        log_pi = (logits if logits_as_log_probs else tf.nn.softmax(logits) if probs
                  else tf.nn.log_softmax(logits))
        log_pi = log_pi[:, 0] if first else tf.gather(log_pi, c.actions, batch_dims=1)
        loss = _surrogate(**loss)(log_pi, tf.constant(c.old), tf.constant(adv, tf.float32), c.eps)
    grads = tape.gradient(loss, model.trainable_variables)
    return c.rp.after(np.concatenate([g.numpy().ravel() for g in grads]))


_STEP_MISTAKES = [(hint, partial(_actor_change, **slip)) for hint, slip in [
    ("the advantages were used as they are: normalise them over the minibatch first, "
     "(A - mean(A)) / (std(A) + 1e-8), step 2.4.1 of the algorithm.", {"normalize": False}),
    ("the step treats the logits as log-probabilities; "
     "apply tf.nn.log_softmax to the logits first, then pick the actions taken.",
     {"logits_as_log_probs": True}),
    ("the policy moved *up* the loss: minimise your clipped_loss, minus sign included.",
     {"sign": 1.0}),
    ("the step ignores clip_eps: pass it to your clipped loss.", {"clip": "none"}),
    ("clip_eps is a parameter: pass the clip_eps you are given to your clipped loss, not a fixed "
     "0.2.", {"eps": 0.2}),
    ("the advantages were centred but not scaled: (A - mean(A)) / (std(A) + 1e-8).",
     {"normalize": "center"}),
    ("the advantages were scaled but not centred: (A - mean(A)) / (std(A) + 1e-8).",
     {"normalize": "scale"}),
    ("the step uses the probabilities pi(a|s); the ratio needs their logarithms: apply "
     "tf.nn.log_softmax to the logits, then pick the actions taken.", {"probs": True}),
    ("the step raises the log-probability of action 0 in every state: pick the action taken in "
     "each step, tf.gather(log_pi, actions, batch_dims=1).", {"first": True}),
]] + [_core.Mistake(
    "the step went down another loss than the clipped loss (the larger of the two terms, the "
    "clipped term alone, the minimum of the ratios or a sum): make your clipped_loss pass "
    "check_clipped_loss first, then call it here.", test=lambda c, got: any(
        near(got, bad) and not near(c.want, bad) for bad in (
            _actor_change(c, **slip) for slip in ({"clip": "max"}, {"clip": "only"},
                                                  {"clip": "ratios"}, {"mean": False})))),
    _core.Mistake(
        "the step has the right direction but is too short: the gradient was shortened "
        "(tf.clip_by_global_norm) or the loss scaled down. Leave the shortening out here (the "
        "agent's own step does it, with its max_grad_norm) and minimise the clipped loss as it "
        "is.", test=lambda c, got: _pg.parallel(got, c.want)
        and np.linalg.norm(got) < 0.99 * np.linalg.norm(c.want))]


def _step_hint(err, line: str) -> str | None:
    if re.search(r"Incompatible shapes: \[\d+,\d+\] vs. \[\d+\]", str(err)):
        return ("A (b, A) tensor, one log-probability per action, met a (b,) one: pick the "
                "action taken in each state, tf.gather(log_pi, actions, batch_dims=1), before "
                "the ratio to old_log_probs.")
    return _pg.no_gradient_hint(err, line)


def _read_step(got, c, name):
    """How far the student's step moved the policy's weights, once it took one optimizer step."""
    fix = ("Compute the loss inside `with tf.GradientTape() as tape:`, then take one step: "
           "optimizer.apply_gradients(zip(grads, policy.trainable_variables)).")
    steps = c.rp.steps_taken()
    taken = _pg.read_steps(c.rp, "the policy", name, c.text, fix)
    if steps > 1:
        fail(f"{name} took {steps} steps of the optimizer; take one per minibatch (the agent "
             f"runs the epochs and the minibatches). {c.text}")
    return taken


@check
def check_ppo_actor_step(ppo_actor_step) -> Verdict:
    """Check ``ppo_actor_step(policy, optimizer, obs, actions, old_log_probs, advantages,
    clip_eps)``: one step of ``optimizer`` down the clipped loss of the minibatch's normalised
    advantages, replayed from the same weights and optimizer state."""
    return grade(ppo_actor_step, _step_cases(fresh_rng()), _actor_change, _STEP_MISTAKES,
                 read=_read_step, same=near, signature=_STEP_SIGNATURE, hint=_step_hint,
                 explain=lambda got, want, c: (
                     "the policy's weights did not move by one step of the optimizer down the "
                     "clipped loss of the normalised advantages, -mean(min(rho * A, clip(rho, "
                     "1 - eps, 1 + eps) * A)) with rho = exp(log pi(a|s) - old_log_probs)."),
                 done=f"{name_of(ppo_actor_step)}: one step down the clipped loss, on advantages "
                      "normalised over the minibatch.")


# -- the agent ------------------------------------------------------------------------------------


def _student_ppo(gae, ppo_actor_step, observation_space, action_space, seed):
    """rlbook's ``PPOAgent`` whose advantages and actor step are the student's functions; the
    rollout, the critic's step and the loop are the library's."""
    import tensorflow as tf

    from rlbook.agents.ppo import PPOAgent
    from rlbook.losses import value_loss

    class StudentPPO(PPOAgent):
        autograph = True  # the student's step may have Python control flow on tensors
        def advantages(self, values, next_values):
            c, shape = self.config, self._reward.shape
            args = (self._reward.copy(), values, next_values, self._terminated.copy(),
                    self._truncated.copy(), c.gamma, c.gae_lambda)
            got = _core.call_student(gae, *args, signature=_GAE_SIGNATURE, hint=_core.flags_hint)
            advantages = _core.to_array(got, name_of(gae), f"shape {shape}", shape)
            return advantages.astype(np.float32), (advantages + values).astype(np.float32)

        def minibatch_step(self, obs, actions, old_log_probs, advantages, returns):
            ppo_actor_step(self.policy, self.policy_optimizer, obs, actions, old_log_probs,
                           advantages, self.config.clip_eps)
            with tf.GradientTape() as tape:
                loss = value_loss(self.value_network(obs)[:, 0], returns)
            self.apply_gradients(self.value_optimizer, self.value_network, tape, loss)
            return {}

    agent = StudentPPO(observation_space, action_space, num_envs=8, seed=seed)

    agent._compiled_epoch = _pg.compiled_or_stop(
        agent._compiled_epoch, agent.minibatch_step, name_of(ppo_actor_step),
        signature=_STEP_SIGNATURE, hint=_pg.no_gradient_hint)
    return agent


# PPO with the chapter's defaults solves CartPole-v1 (a greedy mean of 475) in 8,000 to 22,000
# steps on the seeds tried; the check allows 60,000 on each of two seeds.
AGENT_STEPS = 60_000


@check
def check_ppo_agent(gae, ppo_actor_step) -> Verdict:
    """Train rlbook's PPO (the chapter's defaults) with the student's GAE and actor step on
    CartPole-v1; it passes when a greedy evaluation's mean return reaches 475 (solved) *and* both
    functions pass their own checks, which say why when the agent does not learn."""
    gae_name, step_name = name_of(gae), name_of(ppo_actor_step)
    return _pg.agent_check(
        lambda *s: _student_ppo(gae, ppo_actor_step, *s),
        lambda: [(gae_name, check_gae(gae)), (step_name, check_ppo_actor_step(ppo_actor_step))],
        f"advantages by {gae_name}, actor steps by {step_name}", env_id="CartPole-v1", copies=8,
        steps=AGENT_STEPS, eval_every=2_000, threshold=475, greedy=True, goal="solved is 475",
        learns="your own PPO solves CartPole", differs=_core.traced(step_name))
