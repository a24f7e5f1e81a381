"""Independent, seeded runs on several processes (chapters 3, 4, 5 and 8).

:func:`run_parallel` is how a notebook trains several agents at once on a 2-core
machine: the benchmark's :func:`rlbook.bench.run_histories` uses it too.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["run_parallel"]


def run_parallel(fn: Callable, args, workers: int = 2) -> list:
    """``[fn(*a) for a in args]``, computed on ``workers`` processes, in the order of ``args``.

    For independent, seeded runs, such as those that chapters 4 and 5 define in the
    notebook itself: a spawned process could not import a function defined there, so
    ``fn`` travels to the workers by value with ``cloudpickle``. Processes are *spawned*
    (fresh interpreters), never forked from a caller whose TensorFlow already runs
    threads, and each keeps TensorFlow to one thread, so two runs use two cores without
    fighting over them. Each worker starts by importing
    what ``fn`` uses (TensorFlow takes a few seconds). Calls start in the order given:
    put the longest first.

    Args:
        fn: a function of the items of ``args``; it and its results must be picklable
            (functions and classes defined in the notebook are).
        args: a sequence of argument tuples, one per call.
        workers: processes to use (at most one per call).

    Returns:
        The results, ``[fn(*args[0]), fn(*args[1]), ...]``.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import cloudpickle

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(
            f"workers must be a whole number of processes, at least 1; got {workers!r}"
        )
    calls = [cloudpickle.dumps((fn, tuple(a))) for a in args]
    if not calls:
        return []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(calls))),
        mp_context=context,
        initializer=_one_thread_per_worker,
    ) as pool:
        futures = [pool.submit(_call_pickled, call) for call in calls]
        return [future.result() for future in futures]


def _call_pickled(call: bytes):
    import pickle

    fn, args = pickle.loads(call)
    return fn(*args)


def _one_thread_per_worker() -> None:
    # Runs before TensorFlow is imported in the worker. Two workers on two cores each
    # get one core; TensorFlow's own thread pools would otherwise oversubscribe them.
    import os

    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
