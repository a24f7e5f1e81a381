"""Chapter 8's checks: time to solve, and the replay ratio."""

import math

import numpy as np
from exercise_helpers import (
    accepts,
    check_leaves_inputs_alone,
    raising_shows_student_line,
    rejects,
    stub_is_not_yet,
)

from rlbook.exercises import check_replay_ratio, check_time_to_solve


def time_to_solve(evaluations, threshold):
    for e in evaluations:
        if e["mean"] >= threshold:
            return e["step"], e["train_seconds"]
    return None


def test_time_to_solve_accepts_the_reference():
    accepts(check_time_to_solve, time_to_solve)
    check_leaves_inputs_alone(check_time_to_solve, time_to_solve)
    stub_is_not_yet(check_time_to_solve)


def test_time_to_solve_typical_mistakes():
    def strict(evaluations, threshold):
        return next(
            ((e["step"], e["train_seconds"]) for e in evaluations if e["mean"] > threshold), None
        )

    def best(evaluations, threshold):
        solved = [e for e in evaluations if e["mean"] >= threshold]
        e = max(solved, key=lambda e: e["mean"]) if solved else None
        return None if e is None else (e["step"], e["train_seconds"])

    def last(evaluations, threshold):
        solved = [e for e in evaluations if e["mean"] >= threshold]
        return (solved[-1]["step"], solved[-1]["train_seconds"]) if solved else None

    def position(evaluations, threshold):
        return next(
            ((i, e["train_seconds"]) for i, e in enumerate(evaluations) if e["mean"] >= threshold),
            None,
        )

    def swapped(evaluations, threshold):
        found = time_to_solve(evaluations, threshold)
        return found and (found[1], found[0])

    def false_when_never(evaluations, threshold):
        return time_to_solve(evaluations, threshold) or False

    def whole_dict(evaluations, threshold):
        return next((e for e in evaluations if e["mean"] >= threshold), None)

    def sorts_in_place(evaluations, threshold):
        evaluations.sort(key=lambda e: e["step"], reverse=True)
        return time_to_solve(evaluations[::-1], threshold)

    rejects(check_time_to_solve, strict, ">=, not >")
    rejects(check_time_to_solve, best, "FIRST")
    rejects(check_time_to_solve, last, "FIRST")
    rejects(check_time_to_solve, position, "position in the list")
    rejects(check_time_to_solve, swapped, "wrong order")
    rejects(check_time_to_solve, false_when_never, "None, not False")
    rejects(check_time_to_solve, whole_dict, "dict")
    rejects(check_time_to_solve, sorts_in_place, "`evaluations` in place")
    rejects(
        check_time_to_solve, lambda evaluations, threshold: (2000, 1.5), ""
    )  # the old fixed answer
    rejects(check_time_to_solve, lambda evaluations, threshold: None, "returned None")  # constant
    raising_shows_student_line(
        check_time_to_solve,
        lambda evaluations, threshold: evaluations[0].step,
        "evaluations[0].step",
    )


def test_time_to_solve_more_mistakes():
    def fixed_475(evaluations, threshold):  # the notebook's threshold, not the parameter
        return time_to_solve(evaluations, 475)

    def none_inside_the_loop(evaluations, threshold):
        for e in evaluations:
            if e["mean"] >= threshold:
                return e["step"], e["train_seconds"]
            else:
                return None

    def next_without_default(evaluations, threshold):
        e = next(e for e in evaluations if e["mean"] >= threshold)
        return e["step"], e["train_seconds"]

    def mean_not_seconds(evaluations, threshold):
        return next(((e["step"], e["mean"]) for e in evaluations if e["mean"] >= threshold), None)

    # (a fixed 475 passes the cases whose threshold is 475: another case has another threshold)
    rejects(check_time_to_solve, fixed_475, "the parameter `threshold`", times=4)
    rejects(check_time_to_solve, none_inside_the_loop, "only after the loop", times=3)
    rejects(check_time_to_solve, next_without_default, "StopIteration", "next(..., None)")
    rejects(check_time_to_solve, mean_not_seconds, "not the mean return", times=2)


def test_time_to_solve_accepts_other_forms():
    def as_list(evaluations, threshold):
        solved = [[e["step"], e["train_seconds"]] for e in evaluations if e["mean"] >= threshold]
        return solved[0] if solved else None

    def as_array(evaluations, threshold):
        found = time_to_solve(evaluations, threshold)
        return None if found is None else np.array(found)

    accepts(check_time_to_solve, as_list)
    accepts(check_time_to_solve, as_array)


def replay_ratio(batch_size, gradient_steps, train_every):
    return batch_size * gradient_steps / train_every


def test_replay_ratio_accepts_the_reference():
    accepts(check_replay_ratio, replay_ratio)
    accepts(check_replay_ratio, lambda b, k, e: np.float64(b) * k / e)
    stub_is_not_yet(check_replay_ratio)


def test_replay_ratio_typical_mistakes():
    rejects(check_replay_ratio, lambda b, k, e: b * k // e, "must return a float: use / not //")
    rejects(check_replay_ratio, lambda b, k, e: str(b * k / e), "string")
    rejects(check_replay_ratio, lambda b, k, e: float(b * k), "divide by train_every")
    rejects(check_replay_ratio, lambda b, k, e: k / e, "multiply by batch_size")
    rejects(check_replay_ratio, lambda b, k, e: e / (b * k), "upside down")
    rejects(check_replay_ratio, lambda b, k, e: round(b * k / e), "")
    rejects(check_replay_ratio, lambda b, k, e: 16.0, "expected")  # constant (the old first case)
    rejects(check_replay_ratio, lambda b, k, e: None, "returned None")
    rejects(check_replay_ratio, lambda b, k, e: int(b * k / e), "use / not //")
    # (the whole-number cases: an int where the float is meant, named with the fix)
    rejects(check_replay_ratio, lambda b, k, e: math.ceil(b * k / e), "the int", "use / not //")
    rejects(check_replay_ratio, lambda b, k, e: float(b * k // e), "the fraction is gone")
    raising_shows_student_line(
        check_replay_ratio, lambda b, k, e: b * k / (e - e), "b * k / (e - e)"
    )
