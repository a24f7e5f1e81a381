"""Argument checks shared by every public entry point: one clear message per mistake."""

from __future__ import annotations

import math
from numbers import Real


def unit_interval(name: str, value, *, open_low: bool = False) -> float:
    """Return ``value`` as a float if it lies in [0, 1] (or (0, 1] with ``open_low``)."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (0.0 < value <= 1.0) if open_low else (0.0 <= value <= 1.0)
    if not ok:
        accepted = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name} must be a number in {accepted}, got {value!r}")
    return float(value)


def positive(name: str, value, *, integer: bool = False) -> float | int:
    """Return ``value`` if it is a finite number > 0 (an ``int`` when ``integer``)."""
    if integer:
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if not ok:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        return value
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def non_negative_int(name: str, value) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def with_overrides(config, overrides: dict):
    """``dataclasses.replace(config, **overrides)`` with a clear error for unknown fields."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"unknown {type(config).__name__} field(s) {unknown}; valid fields: {sorted(names)}")
    return dataclasses.replace(config, **overrides)
