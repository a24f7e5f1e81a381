"""Checks for the exercises of chapter 2 (tabular Q-learning)."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from rlbook.exercises import _core
from rlbook.exercises._core import Case, Verdict, check, fail, fmt, fresh_rng, grade, name_of

# fmt: off
__all__ = ["check_q_update", "check_encode", "check_epsilon_greedy", "check_q_learning_agent"]

_UPDATE_SIG = ("update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, "
               "actions)")  # (the exercise's signature, quoted when the call fails)
_EPS_SIG = "epsilon_greedy(q_values, step, rng, start, end, decay_steps)"

# -- the Q-learning update ----------------------------------------------------------------------


def _update_cases(rng):
    actions = list(range(int(rng.integers(5, 7))))  # more than FrozenLake's 4
    pairs, n = list(itertools.product(range(4), actions)), 4 * len(actions)
    for what, obs, next_obs, terminated, truncated, gamma in [
        ("an ordinary step", 0, 1, False, False, float(rng.choice([0.5, 0.8, 0.9]))),
        ("a step that terminates the episode", 1, 2, True, False, 0.9),
        ("a step cut short by the time limit (truncated, not terminated)", 2, 3, False, True, 0.9),
        ("a step that ends in the state it started from", 3, 3, False, False, 0.99),
        ("a step with gamma = 0", 0, 2, False, False, 0.0),
    ]:
        # A table of distinct values, not rounded: no two formulas give the same number by chance.
        values = rng.permutation(n) * 0.37 - 2.0 + rng.uniform(-0.1, 0.1, n)
        Q = defaultdict(float, zip(pairs, values))
        # The table's largest value in another state (a max over the whole table shows), and the
        # next state's best action the last one (a max over range(4) shows).
        others = [k for k in pairs if k[0] not in (obs, next_obs)]
        top, spot = max(pairs, key=Q.get), others[int(rng.integers(len(others)))]
        Q[top], Q[spot] = Q[spot], Q[top]
        row = [(next_obs, a) for a in actions]
        top = max(row, key=Q.get)
        Q[top], Q[row[-1]] = Q[row[-1]], Q[top]
        # The action taken is neither the next state's best nor its worst (nor the best of the
        # first 4), so "Q(s', a)", "max Q(s', .)", "min Q(s', .)" and range(4)'s max all differ.
        first = max(actions[:4], key=lambda a: Q[next_obs, a])
        action = int(rng.choice([a for a in sorted(actions, key=lambda a: Q[next_obs, a])[1:-1]
                                 if a != first]))
        reward = float(np.round(rng.uniform(-1.0, 2.0), 2)) or 0.5
        alpha, q_next = float(np.round(rng.uniform(0.2, 0.8), 2)), [Q[next_obs, a] for a in actions]
        yield Case(
            (Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions),
            (None, "obs", "action", "reward", "next_obs", "terminated", "truncated", "alpha",
             "gamma", "actions"),
            f"(Q[obs] = {fmt([Q[obs, a] for a in actions])}, Q[next_obs] = {fmt(q_next)}, action "
            f"{action}, reward {reward}, alpha {alpha}, gamma {gamma})",
            f"for {what}", before=dict(Q), old=Q[obs, action], q_next=q_next, key=(obs, action),
            r=reward, alpha=alpha, gamma=gamma, term=terminated, trunc=truncated,
            q_taken=Q[next_obs, action], q_obs=[Q[obs, a] for a in actions])


def _moved(c, best=None, ends=None, gamma=None, alpha=None):
    """Q[obs, action] after the update of case ``c``, or after a typical mistake's."""
    best, ends = max(c.q_next) if best is None else best, c.term if ends is None else ends
    target = c.r + (0.0 if ends else (c.gamma if gamma is None else gamma) * best)
    return c.old + (c.alpha if alpha is None else alpha) * (target - c.old)


def _read_table(returned, c, name):
    Q, want = c.given[0], _moved(c)
    if isinstance(returned, dict) and returned is not Q:
        fail(f"{name} returned a new table and left the one it was given as it was: "
             "the agent keeps using its own Q, so change it in place, "
             "`Q[obs, action] += alpha * (target - Q[obs, action])` (no copy, no return needed).")
    try:
        have = float(Q.get(c.key, 0.0))
    except (TypeError, ValueError):
        fail(f"{c.where} Q[obs, action] became {Q.get(c.key)!r}; it must stay a number.")
    if np.isclose(have, c.old) and not np.isclose(want, c.old):
        if isinstance(returned, (int, float, np.number)) and np.isclose(float(returned), want):
            fail(f"{name} returned the new value but did not write it into the table: "
                 "update it in place, `Q[obs, action] += alpha * (target - Q[obs, action])`.")
        fail(f"{c.where}, Q[obs, action] did not change (still {c.old}). "
             "Update the table in place: Q[obs, action] += alpha * (target - Q[obs, action]).")
    others = [k for k, v in Q.items() if k != c.key and not np.isclose(v, c.before.get(k, 0.0))]
    if others and np.isclose(have, want, atol=1e-6):
        fail(f"{c.where}, "
             f"Q[obs, action] is right but other entries of Q changed too ({others[:3]}): "
             "update only Q[obs, action].")
    return have


_UPDATE_MISTAKES = [
    ("you dropped the bootstrap term. Only `terminated` means the future is worth 0; "
     "after a truncation the next state still has a value, so keep gamma * max_a' Q(next_obs, a').",
     lambda c: _moved(c, ends=c.term or c.trunc)),
    ("you still bootstrapped from the next state. "
     "When `terminated` is True the target is just the reward.", lambda c: _moved(c, ends=False)),
    (lambda c: f"you set Q[obs, action] to the target ({fmt(_moved(c, alpha=1.0))}); "
               "move it only a fraction alpha of the way: "
               "Q += alpha * (target - Q).", lambda c: _moved(c, alpha=1.0)),
    ("you bootstrapped from Q(next_obs, action), the action just taken. "
     "Q-learning uses the best next action: "
     "max over a' of Q(next_obs, a').", lambda c: _moved(c, best=c.q_taken)),
    ("you never bootstrapped: the target is the reward plus the discounted value of the next "
     "state, reward + gamma * max_a' Q(next_obs, a') (only the reward if terminated).",
     lambda c: _moved(c, ends=True)),
    ("you bootstrapped from the index of the best next action (argmax); "
     "the target needs its value, "
     "max over a' of Q(next_obs, a').",
     lambda c: _moved(c, best=int(np.argmax(c.q_next))) if np.argmax(c.q_next) else None),
    ("you bootstrapped from the state you were in, obs; the target uses the next state: "
     "max over a' of Q(next_obs, a').", lambda c: _moved(c, best=max(c.q_obs))),
    ("you took the max over the whole table; take it over the next state's actions only: "
     "max(Q[next_obs, a] for a in actions).", lambda c: _moved(c, best=max(c.before.values()))),
    ("you took the max over a fixed number of actions (FrozenLake's 4?); "
     "take it over the `actions` you are given: max(Q[next_obs, a] for a in actions).",
     lambda c: _moved(c, best=max(c.q_next[:4]))),
    ("you averaged the next Q-values; Q-learning bootstraps from the best next action: "
     "max over a'.", lambda c: _moved(c, best=float(np.mean(c.q_next)))),
    ("you summed the next Q-values; take the max over a'.",
     lambda c: _moved(c, best=sum(c.q_next))),
    (_core.REWARD_DISCOUNTED,
     lambda c: c.old + c.alpha * (c.gamma * (c.r + (0.0 if c.term else max(c.q_next))) - c.old)),
    _core.Mistake(lambda c: f"you used a gamma of your own, not the `gamma` argument ({c.gamma}): "
                            "use the parameter.",
                  test=lambda c, got: any(np.isclose(got, _moved(c, gamma=g), atol=1e-6)
                                          for g in (0.9, 0.95, 0.99) if g != c.gamma)),
    _core.Mistake(lambda c: f"you used a step size of your own, not the `alpha` argument "
                            f"({c.alpha}): use the parameter.",
                  test=lambda c, got: any(np.isclose(got, _moved(c, alpha=a), atol=1e-6)
                                          for a in (0.01, 0.05, 0.1, 0.2, 0.5) if a != c.alpha)),
    ("you bootstrapped from the worst next action (min); Q-learning uses the max.",
     lambda c: _moved(c, best=min(c.q_next))),
    (_core.NOT_DISCOUNTED, lambda c: _moved(c, gamma=1.0)),
    ("Q moved away from the target: the sign is flipped. Q += alpha * (target - Q).",
     lambda c: _moved(c, alpha=-c.alpha)),
    ("you added alpha * target; move by alpha * (target - Q).",
     lambda c: c.old + c.alpha * _moved(c, alpha=1.0)),
]


@check
def check_q_update(update) -> Verdict:
    """Check ``update(Q, ...)``: ``Q[obs, action]`` changed in place by the Q-learning rule,
    bootstrapping unless the episode *terminated*, nothing else changed; on an ordinary step, a
    terminating one, a truncated one, a step back into the same state, and gamma 0."""
    return grade(
        update, _update_cases(fresh_rng()), _moved, _UPDATE_MISTAKES, read=_read_table,
        same=lambda got, want: bool(np.isclose(got, want, atol=1e-6)), signature=_UPDATE_SIG,
        explain=lambda got, want, c: (
            f"expected Q[obs, action] = {want:.4f}, got {got:.4f}. "
            "Target: reward + gamma * max_a' Q(next_obs, a') (without the max term if terminated); "
            "step size alpha."),
        done=(f"{name_of(update)} follows the Q-learning rule, "
              "stops bootstrapping only on `terminated`, "
              "and keeps the next state's value after a truncation."))


# -- encoding bins ------------------------------------------------------------------------------


def _base_n(bins, n_bins) -> int:
    return sum(b * n_bins**i for i, b in enumerate(bins))


def _code(encode, bins, n_bins, name):
    given = list(bins)
    code = _core.call_student(encode, given, n_bins, name=name, signature="encode(bins, n_bins)")
    if given != list(bins):
        fail(f"{name} changed the list `bins` in place (e.g. .reverse() or .pop()): "
             "the wrapper still needs it. Read it without changing it.")
    if isinstance(code, (float, np.floating)):
        fail(f"encode({list(bins)}, {n_bins}) returned {code!r}, a float; "
             "return an int (a row of the Q-table). Use ** and * on ints, or int(...).")
    if not isinstance(code, (int, np.integer)) or isinstance(code, bool):
        fail(f"encode({list(bins)}, {n_bins}) returned {code!r} ({type(code).__name__}); "
             "return one int.")
    return int(code)


@check
def check_encode(encode) -> Verdict:
    """Check ``encode(bins, n_bins) -> int``: any encoding that gives every tuple of bins its own
    code in ``0 .. n_bins ** d - 1`` (the size the wrapper declares); every tuple is tried, for
    random sizes and the edges d = 1 and n_bins = 1."""
    name, rng = name_of(encode), fresh_rng()
    sizes = [(rng.integers(2, 5), rng.integers(2, 4)), (rng.integers(2, 4), 4),
             (rng.integers(3, 7), 1), (1, 3)]
    for n_bins, dims in ((int(n), int(d)) for n, d in sizes):
        seen: dict[int, tuple] = {}
        for bins in itertools.product(range(n_bins), repeat=dims):
            code = _code(encode, bins, n_bins, name)
            if not 0 <= code < n_bins**dims and code == int("".join(map(str, bins))):
                fail(f"encode({list(bins)}, n_bins={n_bins}) = {code}: you read the bins as the "
                     f"digits of a decimal number, so the codes go past n_bins ** d - 1 = "
                     f"{n_bins**dims - 1}. Use base n_bins: sum(b * n_bins ** i for i, b in "
                     "enumerate(bins)).")
            if not 0 <= code < n_bins**dims and code == n_bins * _base_n(bins, n_bins):
                fail(f"encode({list(bins)}, n_bins={n_bins}) = {code}, outside 0 .. "
                     f"{n_bins**dims - 1}: every digit's weight is one power of n_bins too high. "
                     "The first bin counts n_bins ** 0 = 1: sum(b * n_bins ** i for i, b in "
                     "enumerate(bins)), with i from 0.")
            if not 0 <= code < n_bins**dims:
                fail(f"encode({list(bins)}, n_bins={n_bins}) = {code}, outside 0 .. "
                     f"{n_bins**dims - 1}: the wrapper declares Discrete(n_bins ** d) = "
                     f"Discrete({n_bins**dims}). Base n_bins + 1 (the original's bug) overshoots; "
                     "use base n_bins.")
            if code in seen:
                fail(f"bins {list(seen[code])} and {list(bins)} (n_bins={n_bins}) "
                     f"both encode to {code}: "
                     "two different states would share one row of the Q-table. "
                     "Read the bins as the digits of a number in base n_bins.")
            seen[code] = bins
    return _core.correct(f"{name} gives every tuple of bins its own code, "
                         "and the codes fill exactly 0 .. n_bins ** d - 1.")


# -- epsilon-greedy with random tie-breaking and a decaying epsilon -----------------------------


def _act(fn, name: str, q_values, *args) -> int:
    """The action the student's ``epsilon_greedy`` chose, once it is one action of ``q_values``."""
    value = _core.call_student(fn, q_values, *args, name=name, signature=_EPS_SIG)
    n_actions = len(q_values)
    if isinstance(value, np.ndarray) and value.size == 1 and np.issubdtype(value.dtype, np.integer):
        value = int(value.reshape(()))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        fail(f"{name} returned {value!r} ({type(value).__name__}); return one action, "
             f"an int between 0 and {n_actions - 1} (int(...) turns a NumPy result into one).")
    if not 0 <= int(value) < n_actions:
        fail(f"{name} returned the action {int(value)}, "
             f"but there are only {n_actions} actions (0 .. {n_actions - 1}).")
    return int(value)


def _frequencies(fn, name, q, step, start, end, decay_steps, n, rng):
    """How often each action is chosen in ``n`` calls; the sample sizes below keep every
    frequency within its tolerance but with a chance below one in a million (> 5 sigma)."""
    g, out = np.random.default_rng(int(rng.integers(2**31))), np.empty(n, dtype=np.int64)
    for i in range(n):
        given = q.copy()
        out[i] = _act(fn, name, given, step, g, start, end, decay_steps)
        if given.tobytes() != q.tobytes():  # (fast) changed in place: say so
            _core.assert_unchanged(name, [q], [given], ["q_values"])
    return np.bincount(out, minlength=len(q)) / n


def _random_q(rng, n_actions):
    q = np.round(rng.normal(size=n_actions), 2)
    q[int(rng.integers(n_actions))] = q.max() + 1.0
    return q


def _seeded(fn, name, rng):
    """The randomness comes from rng: the same seed gives the same actions, and they vary."""
    q, seed = np.round(rng.normal(size=int(rng.integers(4, 7))), 2), int(rng.integers(2**31))
    runs = [[_act(fn, name, q.copy(), 10, g, 0.5, 0.5, 100) for _ in range(60)]
            for g in (np.random.default_rng(seed), np.random.default_rng(seed))]
    if runs[0] != runs[1]:
        fail(f"{name} gave different actions for two generators with the same seed: "
             "draw every random number from the `rng` you are given (rng.random(), "
             "rng.integers(n), rng.choice(...)), not from np.random or the random module, "
             "so a run can be repeated.")
    if len(set(runs[0])) == 1:
        fail(f"with epsilon = 0.5 {name} returned the action {runs[0][0]} 60 times in a row: "
             "with probability epsilon the action must be random.")


def _ties(fn, name, rng):
    """Epsilon 0: only best actions, ties broken uniformly at random."""
    n_actions = int(rng.integers(4, 7))
    q = np.round(rng.uniform(-1.0, 1.0, size=n_actions), 2)
    n_best = int(rng.integers(2, n_actions))
    best = np.sort(rng.choice(n_actions, size=n_best, replace=False))
    q[best] = q.max() + 0.5
    freq = _frequencies(fn, name, q, 0, 0.0, 0.0, 100, 800, rng)
    outside, case = np.delete(freq, best).sum(), f"(q_values = {fmt(q)}, epsilon = 0)"
    if outside > 0 and np.all(np.abs(freq - 1.0 / n_actions) < 0.07):
        fail(f"with epsilon = 0 {name} chose uniformly among all actions {case}: "
             "it explores when it should not. "
             "Explore only `if rng.random() < epsilon:` (not >).")
    if outside > 0 and np.isclose(freq[np.flatnonzero(q == q.min())].sum(), 1.0):
        fail(f"with epsilon = 0 {name} chose the action with the smallest Q-value {case}: "
             "greedy means the largest, max / argmax.")
    if outside > 0:
        fail("with epsilon = 0 every action must be a best one, "
             f"actions {best.tolist()} {case}, "
             f"but {name} chose another one {outside:.0%} of the time.")
    if np.isclose(freq[best[0]], 1.0):
        fail("ties are not broken at random: "
             f"with epsilon = 0 and the best actions {best.tolist()} tied {case}, "
             f"{name} always chose {best[0]} (np.argmax returns the first best). "
             "Choose uniformly among all best actions: "
             "rng.choice(np.flatnonzero(q_values == q_values.max())).")
    if np.any(np.abs(freq[best] - 1.0 / n_best) > 0.1):
        fail("ties must be broken uniformly: "
             f"the best actions {best.tolist()} {case} should each be chosen 1/{n_best} of the "
             f"time, {name} chose them {fmt(freq[best], 2)}.")


def _uniform(fn, name, rng):
    """Epsilon 1: every action equally likely, the greedy one included."""
    n_actions = int(rng.integers(3, 6))
    q = _random_q(rng, n_actions)
    q = np.roll(q, -1) if np.argmax(q) == n_actions - 1 else q  # (the last action is not greedy)
    greedy, case = int(np.argmax(q)), f"(q_values = {fmt(q)}, epsilon = 1)"
    freq = _frequencies(fn, name, q, 0, 1.0, 1.0, 100, 1200, rng)
    if np.isclose(freq[greedy], 1.0):
        fail(f"with epsilon = 1 {name} always chose the greedy action {case}: "
             "explore with probability epsilon, `if rng.random() < epsilon:` (not >).")
    if freq[greedy] < 0.02:
        fail(f"with epsilon = 1 {name} never chose the greedy action {case}: "
             "the random action is drawn from all actions, "
             "the greedy one included (rng.integers(n_actions)).")
    if freq[-1] == 0 and np.all(np.abs(freq[:-1] - 1.0 / (n_actions - 1)) < 0.07):
        fail(f"with epsilon = 1 {name} never chose the last action, {n_actions - 1} {case}: "
             "rng.integers(n) draws 0 .. n - 1 already (its upper bound is left out), so "
             "rng.integers(len(q_values)) draws every action; rng.integers(0, n - 1) misses one.")
    if np.any(np.abs(freq - 1.0 / n_actions) > 0.07):
        fail(f"with epsilon = 1 every action should be chosen 1/{n_actions} of the time {case}; "
             f"{name} chose them {fmt(freq, 2)}. Draw the random action uniformly, "
             "rng.integers(n_actions).")


def _decay(fn, name, rng):
    """The decay: epsilon read back from how often a non-greedy action is chosen."""
    n_actions = int(rng.integers(4, 7))
    q = _random_q(rng, n_actions)
    start, end = float(rng.choice([1.0, 0.9, 0.8])), float(np.round(rng.uniform(0.15, 0.3), 2))
    decay_steps = int(rng.integers(3, 40)) * 100 + int(rng.integers(1, 99))  # not a round number
    for step in (0, decay_steps // 2, decay_steps, 3 * decay_steps):
        freq = _frequencies(fn, name, q, step, start, end, decay_steps, 2000, rng)
        behaves = (1.0 - freq[int(np.argmax(q))]) * n_actions / (n_actions - 1)  # P(not greedy)
        want = start + (end - start) * min(step / decay_steps, 1.0)
        if abs(behaves - want) <= 0.08:
            continue
        case = (f"at step {step} with start = {start}, end = {end}, decay_steps = {decay_steps}, "
                f"epsilon should be {want:.3f}, but {name} explores as if it were {behaves:.2f}")
        if step == decay_steps // 2 and abs(behaves - start) <= 0.08:
            fail(f"epsilon does not decay: {case}. If you wrote step // decay_steps, "
                 "integer division gives 0 until the end: use /. "
                 "epsilon = start + (end - start) * min(step / decay_steps, 1).")
        if step > decay_steps and behaves < end - 0.08:
            fail(f"after decay_steps epsilon must stay at `end`: {case}. Clip the fraction, "
                 "min(step / decay_steps, 1).")
        if step == 0:
            fail(f"epsilon must start at `start`: {case}.")
        fail(f"{case}. Decay linearly: "
             "epsilon = start + (end - start) * min(step / decay_steps, 1).")


@check
def check_epsilon_greedy(epsilon_greedy) -> Verdict:
    """Check ``epsilon_greedy(q_values, step, rng, start, end, decay_steps) -> action``: epsilon
    linear from ``start`` to ``end`` over ``decay_steps``, then ``end``; with probability epsilon
    a uniformly random action among *all*, else a greedy one, ties broken at random; all
    randomness from ``rng``. Statistical parts: the seed, epsilon 0, epsilon 1, the decay."""
    name, rng = name_of(epsilon_greedy), fresh_rng()
    for part in (_seeded, _ties, _uniform, _decay):  # each fails with its hint
        part(epsilon_greedy, name, rng)
    return _core.correct(f"{name} explores with the decaying epsilon, "
                         "picks among all actions when it explores, breaks ties at random, "
                         "and draws everything from the generator it is given.")


# -- the student's own agent learns ---------------------------------------------------------

# The run the check trains: the deterministic 4x4 lake, epsilon linear from 1 to 0.05.
_AGENT_RUN = dict(alpha=0.5, gamma=0.9, start=1.0, end=0.05, decay_steps=3_000, steps=5_000)
_EVAL_EPISODES, _PASS_RATE = 100, 0.9


def _student_agent(epsilon_greedy, update, observation_space, action_space, seed):
    """rlbook's ``QLearningAgent`` whose ``act`` and ``observe`` call the student's functions."""
    from rlbook.agents.qlearning import QLearningAgent
    run, eps_name = _AGENT_RUN, name_of(epsilon_greedy)

    class StudentQLearningAgent(QLearningAgent):
        def act(self, obs, greedy=False):
            q_values = np.array([self.Q[obs, a] for a in self.actions])
            start, end = (0.0, 0.0) if greedy else (run["start"], run["end"])
            args = (q_values, self.env_steps, self.np_rng, start, end, run["decay_steps"])
            return _act(epsilon_greedy, eps_name, *args)

        def observe(self, obs, action, reward, next_obs, terminated, truncated):
            c = self.config
            transition = (obs, action, reward, next_obs, terminated, truncated)
            _core.call_student(update, self.Q, *transition, c.alpha, c.gamma, list(self.actions),
                               signature=_UPDATE_SIG)
            self.env_steps += 1

    agent = StudentQLearningAgent(
        observation_space, action_space, alpha=run["alpha"], gamma=run["gamma"], seed=seed)
    agent.np_rng = np.random.default_rng(seed)
    return agent


def _success(epsilon_greedy, update, seed: int):
    """``(passed, the "not yet" that stopped training or None, greedy success rate or None)``."""
    from rlbook.envs import make_env
    from rlbook.train import evaluate, train
    env = make_env("FrozenLake-v1", seed=seed, is_slippery=False)
    eval_env = make_env("FrozenLake-v1", seed=seed + 1, is_slippery=False)
    agent = _student_agent(epsilon_greedy, update, env.observation_space, env.action_space, seed)
    try:
        train(agent, env, steps=_AGENT_RUN["steps"], progress=False)
        success = float(np.mean(evaluate(agent, eval_env, episodes=_EVAL_EPISODES)))
        return success >= _PASS_RATE, None, success
    except _core.StudentError as err:
        return False, err.verdict.message, None
    finally:
        env.close()
        eval_env.close()


@check
def check_q_learning_agent(epsilon_greedy, update) -> Verdict:
    """Train rlbook's Q-learning agent with the student's ``epsilon_greedy`` and ``update`` for
    5,000 steps of the deterministic 4x4 FrozenLake (alpha 0.5, gamma 0.9, epsilon from 1 to 0.05
    over 3,000 steps) on fixed seeds. It passes when the greedy policy reaches the goal in 90% of
    100 episodes *and* both functions pass their own checks, which say why when it does not."""
    eps_name, upd_name = name_of(epsilon_greedy), name_of(update)
    passed, problem, success, units = _core.train_on_seeds(
        lambda seed: _success(epsilon_greedy, update, seed),
        lambda: [(eps_name, check_epsilon_greedy(epsilon_greedy)),
                 (upd_name, check_q_update(update))], retry_stopped=False)
    reached = "" if success is None else f"reached the goal in {success:.0%} of {_EVAL_EPISODES}"
    reached += " greedy episodes" + ("" if passed else f" (it needs {_PASS_RATE:.0%})")
    return _core.agent_verdict(
        f"{_AGENT_RUN['steps']:,} steps on the deterministic FrozenLake (acting with {eps_name}, "
        f"learning with {upd_name})", reached, passed, problem, units,
        forgiving="this lake is forgiving; on harder tasks the mistake would show.",
        differs=("in the agent they are called 5,000 times in a row, on one table, one generator "
                 "and the agent's step counter. Look for what your code keeps from one call to "
                 "the next (a global variable, a counter or a generator of its own), "
                 "and make each call depend on its arguments only."))
