"""bench.run_histories: runs on worker processes give exactly the runs made one by one."""

from rlbook import bench


def test_parallel_runs_equal_sequential_runs_in_task_order():
    tasks = [("qlearning", 1), ("qlearning", 0)]
    parallel = bench.run_histories(tasks, workers=2, max_steps=4_000, stop=False)
    assert len(parallel) == 2
    for (algo, seed), (row, history) in zip(tasks, parallel):
        alone_row, alone = bench.run_history(algo, seed, max_steps=4_000, stop=False)
        assert row["seed"] == seed and row["steps"] == alone_row["steps"]
        assert history.episode_returns == alone.episode_returns
        assert [e["mean"] for e in history.evaluations] == [e["mean"] for e in alone.evaluations]
    # the two seeds really are different runs
    assert parallel[0][1].episode_returns != parallel[1][1].episode_returns
