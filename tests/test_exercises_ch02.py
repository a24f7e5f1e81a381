"""Chapter 2's checks: the Q-learning update, the bin encoding, epsilon-greedy with decay."""

import random

import numpy as np
from exercise_helpers import (
    INTERNALS,
    accepts,
    agent_rejects,
    agent_stubs_are_not_yet,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import (
    check_encode,
    check_epsilon_greedy,
    check_q_learning_agent,
    check_q_update,
)

# -- the update ----------------------------------------------------------------------------------


def update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
    max_q_next = 0.0 if terminated else max(Q[next_obs, a] for a in actions)
    Q[obs, action] += alpha * (reward + gamma * max_q_next - Q[obs, action])


def _with_target(target_fn):
    """An update that moves Q[obs, action] by alpha towards target_fn(...) (for wrong targets)."""

    def wrong_update(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        target = target_fn(Q, action, reward, next_obs, terminated, truncated, gamma, actions)
        Q[obs, action] += alpha * (target - Q[obs, action])

    return wrong_update


def test_q_update_accepts_the_reference_and_leaves_the_rest_alone():
    accepts(check_q_update, update)
    check_leaves_inputs_alone(check_q_update, update, mutable_ok=(0,))
    stub_is_not_yet(check_q_update)


def test_q_update_typical_mistakes():
    best = lambda Q, s, actions: max(Q[s, a] for a in actions)  # noqa: E731
    done_on_truncation = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: (
            r + (0 if term or trunc else g * best(Q, s2, acts))
        )
    )
    always_bootstrap = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: r + g * best(Q, s2, acts)
    )
    sarsa_like = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: r + (0 if term else g * Q[s2, a])
    )
    argmax_index = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: (
            r + (0 if term else g * int(np.argmax([Q[s2, b] for b in acts])))
        )
    )
    no_gamma = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: r + (0 if term else best(Q, s2, acts))
    )

    def no_alpha(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        Q[obs, action] = reward + (
            0.0 if terminated else gamma * max(Q[next_obs, a] for a in actions)
        )

    def sign_flipped(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        target = reward + (0.0 if terminated else gamma * max(Q[next_obs, a] for a in actions))
        Q[obs, action] += alpha * (Q[obs, action] - target)

    def returns_instead(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        target = reward + (0.0 if terminated else gamma * max(Q[next_obs, a] for a in actions))
        return Q[obs, action] + alpha * (target - Q[obs, action])

    def touches_others(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions)
        Q[next_obs, actions[0]] = 0.0

    rejects(
        check_q_update, done_on_truncation, "after a truncation the next state still has a value"
    )
    rejects(
        check_q_update, always_bootstrap, "When `terminated` is True the target is just the reward"
    )
    rejects(check_q_update, sarsa_like, "the action just taken")
    rejects(check_q_update, argmax_index, "index of the best next action")
    rejects(check_q_update, no_gamma, "multiply it by gamma")
    rejects(check_q_update, no_alpha, "fraction alpha")
    rejects(check_q_update, sign_flipped, "sign is flipped")
    rejects(check_q_update, returns_instead, "did not write it into the table")
    rejects(check_q_update, touches_others, "other entries of Q changed")
    rejects(check_q_update, lambda *args: 0.0, "did not change")  # constant


def test_q_update_raising_shows_the_line():
    def uses_numpy_on_a_dict(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        Q[obs, action] += alpha * (reward + gamma * Q[next_obs].max() - Q[obs, action])

    raising_shows_student_line(check_q_update, uses_numpy_on_a_dict, "Q[next_obs].max()")


# -- the encoding ---------------------------------------------------------------------------------


def encode(bins, n_bins):
    return sum(b * n_bins**i for i, b in enumerate(bins))


def test_encode_accepts_any_bijection():
    accepts(check_encode, encode)
    accepts(
        check_encode, lambda bins, n: sum(b * n**i for i, b in enumerate(reversed(bins))), times=1
    )
    accepts(
        check_encode, lambda bins, n: int(np.ravel_multi_index(bins, (n,) * len(bins))), times=1
    )
    stub_is_not_yet(check_encode)


def test_encode_typical_mistakes():
    rejects(
        check_encode,
        lambda bins, n: sum(b * (n + 1) ** i for i, b in enumerate(bins)),
        "Base n_bins + 1",
    )
    rejects(check_encode, lambda bins, n: sum(bins), "both encode to")
    rejects(check_encode, lambda bins, n: 0, "both encode to")  # constant
    rejects(check_encode, lambda bins, n: float(encode(bins, n)), "a float")
    rejects(check_encode, lambda bins, n: str(encode(bins, n)), "return one int")

    def reverses_in_place(bins, n_bins):
        bins.reverse()
        return encode(bins, n_bins)

    rejects(check_encode, reverses_in_place, "changed the list `bins` in place")


# -- epsilon-greedy -------------------------------------------------------------------------------


def epsilon_greedy(q_values, step, rng, start, end, decay_steps):
    epsilon = start + (end - start) * min(step / decay_steps, 1.0)
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))


def test_epsilon_greedy_accepts_the_reference():
    accepts(check_epsilon_greedy, epsilon_greedy)
    check_leaves_inputs_alone(check_epsilon_greedy, epsilon_greedy)
    stub_is_not_yet(check_epsilon_greedy)


def _variant(explore=None, greedy=None, epsilon=None):
    """epsilon_greedy with one part replaced (each a typical mistake)."""

    def fn(q_values, step, rng, start, end, decay_steps):
        eps = (
            epsilon(step, start, end, decay_steps)
            if epsilon
            else start + (end - start) * min(step / decay_steps, 1)
        )
        if rng.random() < eps:
            return explore(q_values, rng) if explore else int(rng.integers(len(q_values)))
        return (
            greedy(q_values, rng)
            if greedy
            else int(rng.choice(np.flatnonzero(q_values == q_values.max())))
        )

    return fn


def test_epsilon_greedy_typical_mistakes():
    rejects(
        check_epsilon_greedy,
        _variant(greedy=lambda q, rng: int(np.argmax(q))),
        "ties are not broken at random",
    )
    rejects(
        check_epsilon_greedy, _variant(greedy=lambda q, rng: int(np.argmin(q))), "smallest Q-value"
    )

    def not_greedy(q, rng):
        others = np.flatnonzero(q != q.max())
        return int(rng.choice(others))

    rejects(check_epsilon_greedy, _variant(explore=not_greedy), "the greedy one included")
    rejects(
        check_epsilon_greedy,
        _variant(epsilon=lambda t, s, e, d: s + (e - s) * min(t // d, 1)),
        "epsilon does not decay",
        "use /",
    )
    rejects(check_epsilon_greedy, _variant(epsilon=lambda t, s, e, d: s), "epsilon does not decay")
    rejects(
        check_epsilon_greedy,
        _variant(epsilon=lambda t, s, e, d: s + (e - s) * t / d),
        "stay at `end`",
    )
    rejects(
        check_epsilon_greedy,
        _variant(epsilon=lambda t, s, e, d: e + (s - e) * 0.01 ** (t / d)),
        "Decay linearly",
    )
    rejects(check_epsilon_greedy, lambda q, step, rng, s, e, d: 0, "60 times in a row")  # constant

    def global_random(q_values, step, rng, start, end, decay_steps):
        return epsilon_greedy(
            q_values, step, np.random.default_rng(random.randrange(2**31)), start, end, decay_steps
        )

    def greater_than(q_values, step, rng, start, end, decay_steps):
        eps = start + (end - start) * min(step / decay_steps, 1.0)
        if rng.random() > eps:
            return int(rng.integers(len(q_values)))
        return int(rng.choice(np.flatnonzero(q_values == q_values.max())))

    def float_action(q_values, step, rng, start, end, decay_steps):
        return float(epsilon_greedy(q_values, step, rng, start, end, decay_steps))

    def adds_noise_in_place(q_values, step, rng, start, end, decay_steps):
        q_values += rng.random(len(q_values)) * 1e-6  # tie-breaking noise, but in place
        return epsilon_greedy(q_values, step, rng, start, end, decay_steps)

    rejects(check_epsilon_greedy, global_random, "the `rng` you are given")
    rejects(check_epsilon_greedy, greater_than, "(not >)")
    rejects(check_epsilon_greedy, float_action, "return one action, an int")
    rejects(check_epsilon_greedy, adds_noise_in_place, "changed its argument `q_values` in place")


# -- the student's own agent learns ---------------------------------------------------------------


def test_q_learning_agent_learns_with_the_reference():
    for _ in range(2):  # a new seed on every call
        verdict = check_q_learning_agent(epsilon_greedy, update)
        assert verdict.ok, verdict.message
        assert "greedy episodes" in verdict.message and "your own code learns" in verdict.message


def test_q_learning_agent_stubs_are_not_yet():
    agent_stubs_are_not_yet(check_q_learning_agent, epsilon_greedy, update)


def _agent_rejects(first, second, *phrases):
    return agent_rejects(check_q_learning_agent, first, second, *phrases, internals=False)


def test_q_learning_agent_typical_mistakes():
    # Greedy without random tie-breaking: often learns nothing (all-zero rows always pick 0).
    no_ties = _variant(greedy=lambda q, rng: int(np.argmax(q)))
    _agent_rejects(no_ties, update, "ties are not broken at random")
    # Epsilon never decays: Q-learning is off-policy, so the table may still be right.
    _agent_rejects(_variant(epsilon=lambda t, s, e, d: s), update, "epsilon does not decay")

    def truncation_ends_the_future(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        max_q_next = 0.0 if terminated or truncated else max(Q[next_obs, a] for a in actions)
        Q[obs, action] += alpha * (reward + gamma * max_q_next - Q[obs, action])

    def ignores_alpha(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        Q[obs, action] = reward + (
            0.0 if terminated else gamma * max(Q[next_obs, a] for a in actions)
        )

    _agent_rejects(
        epsilon_greedy, truncation_ends_the_future, "after a truncation the next state still"
    )
    _agent_rejects(epsilon_greedy, ignores_alpha, "fraction alpha")

    def learns_nothing(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        pass

    _agent_rejects(epsilon_greedy, learns_nothing, "it did not learn", "did not change")


def test_q_learning_agent_constant_answers_fail_to_learn():
    always_left = lambda q_values, step, rng, start, end, decay_steps: 0  # noqa: E731
    verdict = _agent_rejects(always_left, update, "0% of 100 greedy episodes", "did not learn")
    assert "60 times in a row" in verdict.message
    verdict = _agent_rejects(epsilon_greedy, lambda *args: 0.0, "did not learn", "did not change")
    assert "your function" in verdict.message


def test_q_learning_agent_crash_shows_the_students_line():
    def uses_numpy_on_a_dict(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        Q[obs, action] += alpha * (reward + gamma * Q[next_obs].max() - Q[obs, action])

    verdict = _agent_rejects(
        epsilon_greedy, uses_numpy_on_a_dict, "Training stopped", "Q[next_obs].max()"
    )
    assert not any(s in verdict.message for s in INTERNALS), verdict.message


def test_q_learning_agent_that_passes_its_unit_checks_but_not_learns_is_told_what_differs():
    # A counter kept between calls: the update is skipped on most calls of a long run, while the
    # unit check (a handful of calls, at the start of a period) sees it work.
    calls = [0]

    def forgetful_update(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        calls[0] += 1
        if calls[0] % 1000 < 50:
            update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions)

    verdict = _agent_rejects(epsilon_greedy, forgetful_update, "it did not learn", "although")
    assert "keeps from one call to the next" in verdict.message
    assert "bad luck is unlikely" in verdict.message


# -- red-team: slips found by trying typical wrong answers ----------------------------------------


def test_q_update_more_typical_mistakes():
    best = lambda Q, s, actions: max(Q[s, a] for a in actions)  # noqa: E731
    fixed_actions = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: r + (0 if term else g * best(Q, s2, range(4)))
    )
    whole_table = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: r + (0 if term else g * max(Q.values()))
    )
    reward_discounted = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: g * (r + (0 if term else best(Q, s2, acts)))
    )
    own_gamma = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: r + (0 if term else 0.9 * best(Q, s2, acts))
    )
    averaged = _with_target(
        lambda Q, a, r, s2, term, trunc, g, acts: (
            r + (0 if term else g * np.mean([Q[s2, b] for b in acts]))
        )
    )
    reward_only = _with_target(lambda Q, a, r, s2, term, trunc, g, acts: r)

    def own_alpha(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        update(Q, obs, action, reward, next_obs, terminated, truncated, 0.1, gamma, actions)

    def from_obs(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        update(Q, obs, action, reward, obs, terminated, truncated, alpha, gamma, actions)

    def returns_a_copy(
        Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions
    ):
        Q = dict(Q)
        update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions)
        return Q

    rejects(check_q_update, fixed_actions, "a fixed number of actions", times=4)
    rejects(check_q_update, whole_table, "the whole table", times=2)
    rejects(check_q_update, reward_discounted, "the reward is not discounted", times=2)
    rejects(check_q_update, own_gamma, "a gamma of your own", times=2)
    rejects(check_q_update, own_alpha, "a step size of your own", times=2)
    rejects(check_q_update, averaged, "you averaged", times=2)
    rejects(check_q_update, reward_only, "you never bootstrapped", times=4)
    rejects(check_q_update, from_obs, "the state you were in", times=2)
    rejects(check_q_update, returns_a_copy, "returned a new table", times=2)


def test_q_update_accepts_the_flag_as_a_number():
    def multiplied(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        future = (1 - terminated) * max(Q[next_obs, a] for a in actions)
        Q[obs, action] = Q[obs, action] + alpha * (reward + gamma * future - Q[obs, action])

    accepts(check_q_update, multiplied)


def test_encode_more_typical_mistakes_and_forms():
    rejects(check_encode, lambda bins, n: int("".join(map(str, bins))), "decimal number")
    rejects(
        check_encode,
        lambda bins, n: sum(b * n ** (i + 1) for i, b in enumerate(bins)),
        "one power of n_bins too high",
    )

    def horner(bins, n_bins):
        code = 0
        for b in bins:
            code = code * n_bins + b
        return code

    accepts(check_encode, horner, times=1)
    accepts(check_encode, lambda bins, n: np.dot(bins, n ** np.arange(len(bins))), times=1)


def test_epsilon_greedy_one_action_short_and_other_correct_forms():
    def one_short(q_values, step, rng, start, end, decay_steps):
        epsilon = start + (end - start) * min(step / decay_steps, 1.0)
        if rng.random() < epsilon:
            return int(rng.integers(0, len(q_values) - 1))
        return int(rng.choice(np.flatnonzero(q_values == q_values.max())))

    def by_list(q_values, step, rng, start, end, decay_steps):
        epsilon = start + (end - start) * min(step / decay_steps, 1.0)
        if rng.random() < epsilon:
            return int(rng.integers(len(q_values)))
        best = [a for a, q in enumerate(q_values) if q == max(q_values)]
        return best[rng.integers(len(best))]

    def shuffled_argmax(q_values, step, rng, start, end, decay_steps):
        epsilon = start + (end - start) * min(step / decay_steps, 1.0)
        if rng.random() < epsilon:
            return int(rng.integers(len(q_values)))
        order = rng.permutation(len(q_values))
        return int(order[np.argmax(q_values[order])])

    rejects(check_epsilon_greedy, one_short, "never chose the last action", times=2)
    accepts(check_epsilon_greedy, by_list, times=1)
    accepts(check_epsilon_greedy, shuffled_argmax, times=1)
