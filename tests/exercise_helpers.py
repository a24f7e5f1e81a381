"""What every exercise check must do, as assertions the chapter tests share."""

from __future__ import annotations

import copy
import functools

import numpy as np

# What a message must never show: the grader's files or TensorFlow's / NumPy's internals.
INTERNALS = (
    "_core.py",
    "rlbook/exercises",
    "site-packages",
    "tensorflow/python",
    "numpy/core",
    "Traceback",
)


def stub(*args, **kwargs):
    # Your code here.
    raise NotImplementedError


def accepts(check, fn, times: int = 2):
    """The check accepts ``fn`` on several calls (each call draws new random cases)."""
    for _ in range(times):
        verdict = check(fn)
        assert verdict.ok, verdict.message
        assert str(verdict).startswith("Correct!")


def rejects(check, fn, *phrases: str, times: int = 1):
    """The check rejects ``fn`` on every call, and the message holds every phrase."""
    for _ in range(times):
        verdict = check(fn)
        assert not verdict.ok, f"accepted: {verdict.message}"
        assert str(verdict).startswith("Not yet.")
        for phrase in phrases:
            assert phrase in verdict.message, f"{phrase!r} not in: {verdict.message}"
        assert not any(s in verdict.message for s in INTERNALS), verdict.message
    return verdict


def stub_is_not_yet(check):
    verdict = check(stub)
    assert not verdict.ok and "NotImplementedError" in verdict.message and "stub" in verdict.message
    assert str(verdict).startswith("Not yet.")
    # Said once, with nothing about how the step ran: there is no step yet.
    assert verdict.message.count("that is the stub") == 1 and "eagerly" not in verdict.message


def agent_stubs_are_not_yet(check, first, second):
    """An agent check of two functions: a stub in either or both is "not yet", and so is
    something that is not a function."""
    for a, b in ((stub, second), (first, stub), (stub, stub)):
        verdict = check(a, b)
        assert not verdict.ok and "NotImplementedError" in verdict.message
        assert "stub" in verdict.message and str(verdict).startswith("Not yet.")
        assert "eagerly" not in verdict.message
    assert "pass your function itself" in check(first, 42).message


def agent_rejects(check, first, second, *phrases: str, internals: bool = True):
    """An agent check of two functions rejects the pair, and the message holds every phrase
    (and, with ``internals``, none of the grader's or TensorFlow's internals)."""
    verdict = check(first, second)
    assert not verdict.ok, f"accepted: {verdict.message}"
    for phrase in phrases:
        assert phrase in verdict.message, f"{phrase!r} not in: {verdict.message}"
    if internals:
        assert not any(s in verdict.message for s in INTERNALS), verdict.message
    return verdict


def raising_shows_student_line(check, fn, line: str):
    """A student's function that raises: the verdict quotes the student's line, no internals."""
    verdict = rejects(check, fn, line, times=1)
    assert "raised" in verdict.message
    return verdict


def not_a_function(check):
    verdict = check(42)
    assert not verdict.ok and "pass your function itself" in verdict.message


class Spy:
    """Wraps a reference solution; records what the check handed it and a copy taken at the call."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []
        functools.update_wrapper(self, fn)  # the same name and signature as fn

    def __call__(self, *args):
        # (a generator is meant to change: not copied, not compared)
        copies = tuple(a if isinstance(a, np.random.Generator) else copy.deepcopy(a) for a in args)
        self.calls.append((args, copies))
        return self.fn(*args)


def _equal(a, b) -> bool:
    if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
        a = a.numpy()
    if hasattr(b, "numpy") and not isinstance(b, np.ndarray):
        b = b.numpy()
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def check_leaves_inputs_alone(check, fn, mutable_ok=()):
    """The check hands fresh objects on every call and does not change them after the call.

    ``mutable_ok`` lists argument positions the student is meant to change (a Q-table).
    """
    spy = Spy(fn)
    assert check(spy).ok
    assert len(spy.calls) >= 2
    seen = set()
    for args, at_call in spy.calls:
        for i, (a, c) in enumerate(zip(args, at_call)):
            if (
                i in mutable_ok
                or isinstance(a, (int, float, str, bool, np.random.Generator))
                or a is None
                or callable(a)
            ):
                continue
            if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
                continue  # TF tensors are immutable (Variables are compared by the check itself)
            assert _equal(a, c), f"argument {i} changed after the call"
            assert id(a) not in seen, f"argument {i} is the same object in two calls"
            seen.add(id(a))
    return spy


def wrong_picks():
    """Typical wrong ways to pick log pi(a|s) from logits ``lg`` (B, A) and actions ``a`` (B,),
    each with a phrase of its hint (chapters 6 and 7 check the same pick)."""
    import tensorflow as tf

    return [
        (lambda lg, a: tf.gather(tf.nn.log_softmax(lg), a, axis=1), "axis=1"),
        (
            lambda lg, a: tf.gather(tf.nn.log_softmax(lg, axis=0), a, batch_dims=1),
            "over the batch (axis 0)",
        ),
    ]
