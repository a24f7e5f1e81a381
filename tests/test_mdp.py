"""Dynamic programming on arrays: hand-computed numbers on a two-state MDP, then FrozenLake."""

import types

import numpy as np
import pytest

from rlbook.envs import make_env
from rlbook.mdp import (
    expected_return,
    finite_horizon_optimum,
    greedy_policy,
    policy_evaluation,
    success_probability,
    transition_arrays,
    value_iteration,
)

# Two states. In state 0, action 0 moves to state 1 or stays (probability 1/2 each,
# reward 0) and action 1 ends the episode with reward 1. In state 1, action 0 ends the
# episode with reward 2 and action 1 goes back to state 0 (reward 0).
TINY = {
    0: {0: [(0.5, 1, 0.0, False), (0.5, 0, 0.0, False)], 1: [(1.0, 0, 1.0, True)]},
    1: {0: [(1.0, 1, 2.0, True)], 1: [(1.0, 0, 0.0, False)]},
}


def _tiny():
    return transition_arrays(types.SimpleNamespace(unwrapped=types.SimpleNamespace(P=TINY)))


def test_transition_arrays_drop_terminating_transitions_and_average_rewards():
    mdp = _tiny()
    np.testing.assert_allclose(mdp.P[0, 0], [0.5, 0.5])
    np.testing.assert_allclose(mdp.P[0, 1], [0.0, 0.0])  # terminates: no future
    np.testing.assert_allclose(mdp.P[1, 1], [1.0, 0.0])
    np.testing.assert_allclose(mdp.R, [[0.0, 1.0], [2.0, 0.0]])
    np.testing.assert_allclose(mdp.start, [1.0, 0.0])


def test_value_iteration_hand_computed():
    mdp = _tiny()
    Q = value_iteration(mdp.P, mdp.R, gamma=0.9)
    # V(1) = 2 (take the reward); V(0) = 0.9 * (0.5 * 2 + 0.5 * V(0)) = 0.9 / 0.55 = 18/11 > 1
    v0 = 18 / 11
    np.testing.assert_allclose(Q, [[v0, 1.0], [2.0, 0.9 * v0]], atol=1e-8)
    np.testing.assert_array_equal(greedy_policy(Q), [0, 0])


def test_value_iteration_with_small_gamma_prefers_the_sure_reward():
    mdp = _tiny()
    # gamma = 0.5: Q(0, 0) = 0.5 * (0.5 * 2 + 0.5 * V(0)) with V(0) = 1 gives 0.75 < 1
    Q = value_iteration(mdp.P, mdp.R, gamma=0.5)
    np.testing.assert_allclose(Q, [[0.75, 1.0], [2.0, 0.5]], atol=1e-8)
    assert greedy_policy(Q)[0] == 1


def test_policy_evaluation_hand_computed():
    mdp = _tiny()
    # always action 1: V(0) = 1, V(1) = 0.9 * V(0) = 0.9;
    # Q(0, 0) = 0.9 * (0.5 * 0.9 + 0.5 * 1) = 0.855, Q(1, 0) = 2
    Q = policy_evaluation(mdp.P, mdp.R, np.array([1, 1]), gamma=0.9)
    np.testing.assert_allclose(Q, [[0.855, 1.0], [2.0, 0.9]], atol=1e-12)
    # the same policy given as probabilities
    Q2 = policy_evaluation(mdp.P, mdp.R, np.array([[0.0, 1.0], [0.0, 1.0]]), gamma=0.9)
    np.testing.assert_allclose(Q2, Q)
    # Q* is the value of its own greedy policy (Bellman optimality = expectation under greedy)
    Qstar = value_iteration(mdp.P, mdp.R, gamma=0.9)
    np.testing.assert_allclose(
        policy_evaluation(mdp.P, mdp.R, greedy_policy(Qstar), 0.9), Qstar, atol=1e-8
    )


def test_expected_return_within_a_time_limit_hand_computed():
    mdp = _tiny()
    always_0 = np.array([0, 0])
    # from state 0, each step reaches state 1 with probability 1/2; state 1 then pays 2
    assert expected_return(mdp, always_0, horizon=1) == pytest.approx(0.0)
    assert expected_return(mdp, always_0, horizon=2) == pytest.approx(2 * 0.5)
    assert expected_return(mdp, always_0, horizon=3) == pytest.approx(2 * 0.75)
    assert expected_return(mdp, always_0, horizon=3, gamma=0.9) == pytest.approx(
        0.9 * 0.5 * 2 + 0.9**2 * 0.25 * 2
    )


def test_bad_arguments_are_named():
    mdp = _tiny()
    with pytest.raises(ValueError, match="gamma must be"):
        value_iteration(mdp.P, mdp.R, gamma=1.5)
    with pytest.raises(ValueError, match="horizon must be"):
        expected_return(mdp, np.array([0, 0]), horizon=0)
    with pytest.raises(ValueError, match="policy must have shape"):
        policy_evaluation(mdp.P, mdp.R, np.array([0, 0, 0]), gamma=0.9)
    with pytest.raises(ValueError, match="use expected_return"):
        success_probability(mdp, np.array([0, 0]), horizon=5)


def test_deterministic_frozenlake_shortest_path():
    env = make_env("FrozenLake-v1", is_slippery=False)
    mdp = transition_arrays(env)
    assert mdp.P.shape == (16, 4, 16) and mdp.R.shape == (16, 4)
    Q = value_iteration(mdp.P, mdp.R, gamma=0.9)
    # the goal is 6 steps away and pays 1 on the 6th: V*(start) = 0.9 ** 5
    assert Q[0].max() == pytest.approx(0.9**5)
    assert success_probability(mdp, greedy_policy(Q), horizon=100) == pytest.approx(1.0)
    assert success_probability(mdp, greedy_policy(Q), horizon=5) == 0.0  # too short


def test_slippery_frozenlake_exact_success_matches_sampling():
    env = make_env("FrozenLake-v1", seed=0)
    mdp = transition_arrays(env)
    policy = greedy_policy(value_iteration(mdp.P, mdp.R, gamma=0.99))
    exact = success_probability(mdp, policy, horizon=100)
    assert 0.70 < exact < 0.80
    wins = 0
    for _ in range(2000):
        obs, _ = env.reset()
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
            done = terminated or truncated
        wins += reward
    # 2000 samples: standard error about 0.01
    assert abs(wins / 2000 - exact) < 0.035


def test_finite_horizon_optimum_hand_computed():
    # TINY, by hand, with V_k the best return with k steps left:
    #   V_1 = (1, 2): in state 0 end at once for 1; in state 1 end with 2.
    #   V_2(0) = max(1, 0.5 * V_1(1) + 0.5 * V_1(0)) = max(1, 1.5) = 1.5 (action 0),
    #   V_2(1) = max(2, V_1(0)) = 2.
    #   V_3(0) = max(1, 0.5 * 2 + 0.5 * 1.5) = 1.75.
    mdp = _tiny()
    assert finite_horizon_optimum(mdp, 1)[0] == pytest.approx(1.0)
    value, policy = finite_horizon_optimum(mdp, 2)
    assert value == pytest.approx(1.5)
    np.testing.assert_array_equal(policy, [[0, 0], [1, 0]])  # the last step: take the 1
    assert finite_horizon_optimum(mdp, 3)[0] == pytest.approx(1.75)


def test_finite_horizon_optimum_beats_every_stationary_policy():
    # With 2 steps, the clock matters: "try for the 2, take the 1 on the last step"
    # (1.5) beats both stationary choices in state 0 (1.0 each).
    mdp = _tiny()
    best_stationary = max(
        expected_return(mdp, np.array(p), horizon=2) for p in [(0, 0), (1, 0), (0, 1), (1, 1)]
    )
    assert best_stationary == pytest.approx(1.0)
    assert finite_horizon_optimum(mdp, 2)[0] == pytest.approx(1.5)


def test_finite_horizon_optimum_on_frozenlake_bounds_value_iteration():
    lake = transition_arrays(make_env("FrozenLake-v1", seed=0))
    best, policy = finite_horizon_optimum(lake, 100)
    stationary = success_probability(
        lake, greedy_policy(value_iteration(lake.P, lake.R, gamma=0.99)), horizon=100
    )
    assert policy.shape == (100, 16)
    assert stationary <= best <= 1.0
    assert best - stationary < 0.02  # close, but the clock buys a little
    # Its own time-indexed policy, evaluated forward, achieves the value.
    dist, total = lake.start.copy(), 0.0
    for t in range(100):
        onehot = np.eye(4)[policy[t]]
        total += dist @ (onehot * lake.R).sum(axis=1)
        dist = dist @ np.einsum("sa,sat->st", onehot, lake.P)
    assert total == pytest.approx(best)
