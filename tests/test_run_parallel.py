"""run_parallel: a notebook's own functions run on worker processes, results in task order.

Chapters 4 and 5 define their training function in the notebook and hand it to
``run_parallel``; a spawned worker cannot import such a function, so it travels by value.
A function local to a test is in the same situation, which is what these tests use.
"""

import os

import pytest

from rlbook.parallel import run_parallel


def test_local_function_and_class_run_on_workers_in_task_order():
    offset = 10

    class Doubler:  # defined here: a worker can only get it by value
        def __call__(self, x):
            return 2 * x

    def task(x, y):
        import os

        return Doubler()(x) + y + offset, os.getpid(), os.environ.get("TF_NUM_INTRAOP_THREADS")

    args = [(1, 2), (3, 4), (5, 6)]
    results = run_parallel(task, args, workers=2)
    assert [value for value, _, _ in results] == [14, 20, 26]
    pids = {pid for _, pid, _ in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    # Each worker keeps TensorFlow to one thread, so two workers share two cores, unless the
    # caller chose a thread count itself (the robustness sweep does): then the workers keep it.
    chosen = os.environ.get("TF_NUM_INTRAOP_THREADS", "1")
    assert {threads for _, _, threads in results} == {chosen}


def test_no_tasks_start_no_workers():
    assert run_parallel(print, [], workers=2) == []


def test_an_error_in_a_task_reaches_the_caller():
    def task(x):
        if x == 2:
            raise ValueError(f"bad task {x}")
        return x

    with pytest.raises(ValueError, match="bad task 2"):
        run_parallel(task, [(1,), (2,)], workers=2)


def test_a_dqn_run_on_a_worker_equals_the_same_run_here():
    # The chapters say a run gives the same result on a worker as alone: the seed, not
    # the process (nor TensorFlow's thread count), fixes every random draw.
    def run(seed):
        from rlbook.agents.dqn import DQNAgent
        from rlbook.envs import make_vec_env
        from rlbook.train import train

        env = make_vec_env("CartPole-v1", 4, seed=seed)
        agent = DQNAgent(
            env.single_observation_space,
            env.single_action_space,
            num_envs=4,
            seed=seed,
            double=True,
            dueling=True,
            learning_starts=256,
        )
        history = train(agent, env, steps=1_500, progress=False)
        return history.episode_returns, [q for _, q in history.metrics["mean_q"]]

    ((returns, mean_q),) = run_parallel(run, [(3,)], workers=2)
    here_returns, here_mean_q = run(3)
    assert len(mean_q) > 5  # it trained
    assert returns == here_returns
    assert mean_q == here_mean_q


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True])
def test_bad_worker_counts_are_refused_by_name(workers):
    with pytest.raises(ValueError, match="workers must be a whole number"):
        run_parallel(abs, [(1,)], workers=workers)
