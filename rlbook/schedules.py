"""Exploration schedules: epsilon as a pure function of the step (chapters 2 and 3).

Starting with a large epsilon and lowering it as the estimates improve is called
*epsilon annealing*. Each schedule here is a plain function of the step count, so
it is easy to plot, test and reuse; an agent calls it with its own step counter.
"""

from __future__ import annotations

import math

from rlbook._validate import non_negative_int, unit_interval

__all__ = ["constant", "linear", "exponential"]


def constant(step: int, value: float) -> float:
    """``value`` at every step (no annealing)."""
    return value


def linear(step: int, start: float, end: float, duration: int) -> float:
    """Go from ``start`` to ``end`` in a straight line over ``duration`` steps, then stay.

    ``epsilon(t) = start + (end - start) * min(t / duration, 1)``; ``duration=0``
    gives ``end`` at once.
    """
    if duration <= 0:
        return end
    frac = min(max(step, 0) / duration, 1.0)
    return start + (end - start) * frac


def exponential(step: int, start: float, end: float, duration: int) -> float:
    """Decay geometrically from ``start`` towards ``end``, reaching ``end`` at ``duration``.

    ``epsilon(t) = end + (start - end) * r**t`` with the rate ``r`` chosen so the gap
    to ``end`` has shrunk 100-fold by ``t = duration``; from then on it is ``end``.
    """
    if duration <= 0 or step >= duration:
        return end
    rate = math.exp(math.log(0.01) / duration)
    return end + (start - end) * rate ** max(step, 0)


SCHEDULES = {"constant": constant, "linear": linear, "exponential": exponential}


def make_schedule(kind: str, start: float, end: float, duration: int):
    """A one-argument ``epsilon(step)`` built from a schedule name and its parameters.

    Raises:
        ValueError: for an unknown ``kind``, values outside [0, 1] or a negative duration.
    """
    if kind not in SCHEDULES:
        raise ValueError(f"epsilon schedule must be one of {sorted(SCHEDULES)}, got {kind!r}")
    unit_interval("epsilon_start", start)
    unit_interval("epsilon_end", end)
    non_negative_int("epsilon_decay_steps", duration)
    if kind == "constant":
        return lambda step: start
    fn = SCHEDULES[kind]
    return lambda step: fn(step, start, end, duration)
