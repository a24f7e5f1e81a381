import numpy as np
import pytest

from rlbook.replay import ReplayBuffer


def _fill(buf, steps, n=1, start=0):
    for t in range(start, start + steps):
        obs = np.full((n, 2), t, np.float32)
        buf.add(
            obs,
            np.full(n, t % 2),
            np.full(n, float(t)),
            obs + 1,
            np.zeros(n, bool),
            np.zeros(n, bool),
        )


def test_wraps_around_and_keeps_the_newest():
    buf = ReplayBuffer(5, (2,))
    _fill(buf, 7)
    assert len(buf) == 5 and buf.cursor == 2
    assert sorted(buf.reward[:, 0].tolist()) == [
        2.0,
        3.0,
        4.0,
        5.0,
        6.0,
    ]  # 0 and 1 were overwritten


def test_sample_shapes_and_contents():
    buf = ReplayBuffer(100, (2,), num_envs=4)
    _fill(buf, 10, n=4)
    rng = np.random.default_rng(0)
    b = buf.sample(32, rng)
    assert (
        b["obs"].shape == (32, 2) and b["action"].shape == (32,) and b["terminated"].shape == (32,)
    )
    np.testing.assert_array_equal(b["next_obs"], b["obs"] + 1)
    np.testing.assert_array_equal(
        b["obs"][:, 0], b["reward"]
    )  # fields of one transition stay together
    many = buf.sample(8, rng, num_batches=3)
    assert many["obs"].shape == (3, 8, 2) and many["reward"].shape == (3, 8)


def test_continuous_action_vectors_stay_with_their_transition():
    # SAC stores a float vector per action: (num_envs, A) per step, (B, A) per sample.
    buf = ReplayBuffer(50, (2,), num_envs=2, action_shape=(3,), action_dtype=np.float32)
    for t in range(10):
        obs = np.full((2, 2), t, np.float32)
        action = np.stack([np.full(3, t + 0.5), np.full(3, -t - 0.5)]).astype(np.float32)
        buf.add(obs, action, np.full(2, float(t)), obs + 1, np.zeros(2, bool), np.zeros(2, bool))
    b = buf.sample(16, np.random.default_rng(0), num_batches=2)
    assert b["action"].shape == (2, 16, 3) and b["action"].dtype == np.float32
    np.testing.assert_array_equal(np.abs(b["action"][..., 0]), b["reward"] + 0.5)
    assert (b["action"] == b["action"][..., :1]).all()  # a vector is never cut up


def test_terminated_is_stored_truncated_is_not_a_terminal():
    buf = ReplayBuffer(10, (1,))
    buf.add([0.0], 0, 1.0, [1.0], True, False)  # a real end
    buf.add([1.0], 0, 1.0, [2.0], False, True)  # a time limit
    assert buf.terminated[:2, 0].tolist() == [1.0, 0.0]
    assert buf.done[:2, 0].tolist() == [True, True]  # both end the stream (for sequences)


def test_sequences_are_consecutive_and_masked_after_episode_end():
    buf = ReplayBuffer(6, (1,))
    for t in range(9):  # wraps: rows hold t = 3..8
        buf.add([float(t)], 0, float(t), [t + 1.0], False, t == 5)
    rng = np.random.default_rng(1)
    s = buf.sample_sequences(50, 3, rng)
    assert s["obs"].shape == (50, 3, 1) and s["mask"].shape == (50, 3)
    steps = s["reward"]
    np.testing.assert_array_equal(
        np.diff(steps, axis=1), 1.0
    )  # consecutive, never across the ring's seam
    assert steps.min() >= 3 and steps.max() <= 8
    for row, mask in zip(steps, s["mask"]):
        # steps after t == 5 (truncated) belong to the next episode: masked out
        expected = [1.0 if (t <= 5 or row[0] > 5) else 0.0 for t in row]
        np.testing.assert_array_equal(mask, expected)


def test_errors_name_the_problem():
    buf = ReplayBuffer(10, (2,))
    _fill(buf, 3)
    with pytest.raises(ValueError, match="holds 3 transitions"):
        buf.sample(5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="only 3 stored steps"):
        buf.sample_sequences(1, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity must be a positive integer"):
        ReplayBuffer(0, (2,))
