"""Argument checks shared by every public entry point: one clear message per mistake.

Every config dataclass checks its fields with one call, ``check_config(self, ...)`` in its
``__post_init__``. Each field is checked by a :class:`Rule`, the first that applies of:

1. a rule given to the call (``model_type=one_of(*MODEL_TYPES)``), for what only that config has;
2. the shared rule for the field's name in :data:`FIELD_RULES` (``seed``, ``gamma``, ``hidden``,
   ...), so a field that several configs have is checked the same way in all of them;
3. the default rule for the field's annotated type (``int``: a positive integer, ``float``: a
   positive finite number, ``bool``, ``str``, ``tuple[int, ...]``), so a field added later is
   checked without anyone writing a line. ``X | None`` also accepts ``None``.

A bad value raises :class:`ConfigError`, whose message names the field, the accepted values
and the value given: ``gamma must be a number in [0, 1], got 1.5``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

__all__ = [
    "ConfigError",
    "config",
    "Rule",
    "check_config",
    "one_of",
    "interval",
    "FIELD_RULES",
    "unit_interval",
    "positive",
    "non_negative_int",
    "agent_config",
    "with_overrides",
    "observations",
    "numbered_from_zero",
    "show_space",
]


class ConfigError(ValueError, TypeError):
    """A config field with a value it does not accept.

    Both a ``ValueError`` and a ``TypeError`` (as NumPy's ``AxisError`` is both a
    ``ValueError`` and an ``IndexError``): ``gamma=1.5`` is a bad value, ``hidden=64`` a bad
    type, and code that catches either kind catches both.
    """


# -- the config classes ------------------------------------------------------------------


def config(cls: type) -> type:
    """``@dataclass(frozen=True)`` for an agent's config, with a repr that wraps at 79 columns.

    A chapter prints its agent's config; on one line it would run past the page's width.
    """
    cls = dataclass(frozen=True, repr=False)(cls)
    cls.__repr__ = _wrapped_repr
    return cls


def _wrapped_repr(self) -> str:
    head = f"{type(self).__name__}("
    parts = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr]
    lines, line = [], head
    for i, part in enumerate(parts):
        piece = part + (", " if i < len(parts) - 1 else ")")
        if line != head and len(line) + len(piece.rstrip()) > 79:
            lines.append(line.rstrip())
            line = " " * len(head)
        line += piece
    return "\n".join([*lines, line])


# -- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What a field accepts: the Python type it must have, a test, and how to say it."""

    kind: type
    """The field's annotated type (without ``| None``) this rule is written for."""
    ok: Callable[[Any], bool]
    """True when the value is acceptable (called only on values of the right kind)."""
    accepted: str
    """The accepted values in words, for the message: ``"a number in [0, 1]"``."""


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _kind_ok(kind: type, value) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return _is_int(value)
    if kind is float:
        return _is_real(value) and math.isfinite(value)
    if kind is tuple:
        return isinstance(value, tuple) and all(_is_int(v) for v in value)
    return isinstance(value, kind)


def interval(low: float, high: float, *, open_low: bool = False, open_high: bool = False) -> Rule:
    """A finite number in ``[low, high]`` (``(low, ...`` with ``open_low``, ``..., high)`` with
    ``open_high``)."""
    left, right = "(" if open_low else "[", ")" if open_high else "]"
    return Rule(
        float,
        lambda v: (low < v if open_low else low <= v) and (v < high if open_high else v <= high),
        f"a number in {left}{low:g}, {high:g}{right}",
    )


def one_of(*choices: str) -> Rule:
    """One of a few strings (a field typed ``str | None`` also accepts ``None``)."""
    words = ", ".join(repr(c) for c in choices)
    return Rule(str, lambda v: v in choices, words if len(choices) == 1 else f"one of {words}")


PROBABILITY = interval(0, 1)
"""A probability, or a discount factor: a number in [0, 1]."""
POSITIVE = Rule(float, lambda v: v > 0, "a positive number")
NON_NEGATIVE = Rule(float, lambda v: v >= 0, "a number >= 0")
COUNT = Rule(int, lambda v: v > 0, "a positive integer")
NON_NEGATIVE_INT = Rule(int, lambda v: v >= 0, "an integer >= 0")
UNITS = Rule(
    tuple,
    lambda v: len(v) > 0 and all(u > 0 for u in v),
    "a tuple of positive integers, at least one (units per layer, such as (64, 64))",
)
SEED = Rule(int, lambda v: 0 <= v < 2**32, "an integer from 0 to 2**32 - 1")
"""A seed: NumPy, Gymnasium and TensorFlow all take these (TensorFlow refuses some beyond 2**62)."""
FLAG = Rule(bool, lambda v: True, "True or False")
TEXT = Rule(str, lambda v: True, "a string")

FIELD_RULES: dict[str, Rule] = {
    "seed": SEED,
    "gamma": PROBABILITY,
    "hidden": UNITS,
    "epsilon_start": PROBABILITY,
    "epsilon_end": PROBABILITY,
    "epsilon_decay_steps": NON_NEGATIVE_INT,
    "epsilon_schedule": one_of("linear", "exponential", "constant"),
    "entropy_coef": NON_NEGATIVE,
    "learning_starts": NON_NEGATIVE_INT,
    "tau": interval(0, 1, open_low=True),
}
"""Rules by field name, shared by every config that has the field."""

TYPE_RULES: dict[type, Rule] = {int: COUNT, float: POSITIVE, bool: FLAG, str: TEXT, tuple: UNITS}
"""The rule of a field that has neither its own rule nor a shared one, by annotated type."""


# -- checking a config ---------------------------------------------------------------------------


def _field_kind(annotation) -> tuple[type, bool]:
    """``(base type, accepts None)`` of a field annotation such as ``int | None``."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(rest) < len(typing.get_args(annotation))
        if len(rest) != 1:
            raise TypeError(f"check_config cannot check the annotation {annotation}")
        annotation = rest[0]
    base = typing.get_origin(annotation) or annotation
    if base not in TYPE_RULES:
        raise TypeError(f"check_config cannot check the annotation {annotation}")
    return base, optional


def check_config(config, **rules: Rule) -> None:
    """Check every field of the dataclass ``config``; raise :class:`ConfigError` at the first bad.

    Args:
        config: a dataclass instance (called from its ``__post_init__``).
        **rules: rules for fields only this config has (field name -> :class:`Rule`); they
            override :data:`FIELD_RULES` and the type defaults.

    A list given for a ``tuple`` field (``hidden=[64, 64]``) is stored as a tuple.
    """
    cls = type(config)
    hints = typing.get_type_hints(cls)
    fields = [
        f.name for f in dataclasses.fields(config)
    ]  # in order: the first bad field is reported
    unknown = sorted(set(rules) - set(fields))
    if unknown:
        raise TypeError(f"check_config: {cls.__name__} has no field(s) {unknown}")
    for name in fields:
        base, optional = _field_kind(hints[name])
        rule = rules.get(name) or FIELD_RULES.get(name) or TYPE_RULES[base]
        if rule.kind is not base:
            raise TypeError(
                f"check_config: the rule for {cls.__name__}.{name} is for {rule.kind.__name__} "
                f"values, but the field is annotated {hints[name]}"
            )
        value = getattr(config, name)
        if value is None and optional:
            continue
        if base is tuple and isinstance(value, list):
            value = tuple(value)
            object.__setattr__(config, name, value)  # frozen dataclass: the __post_init__ idiom
        if not (_kind_ok(base, value) and rule.ok(value)):
            accepted = rule.accepted
            if optional:  # None is one more choice of a string, or "off" for a number
                accepted = f"None or {accepted}" if base is str else f"{accepted} (or None)"
            raise ConfigError(f"{name} must be {accepted}, got {_show(value)}")


def _show(value) -> str:
    if _is_real(value) and not math.isfinite(value):
        return f"{value!r} (not finite)"
    return repr(value)


# -- single arguments (functions that take plain parameters rather than a config) ------------


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
        if not (_is_int(value) and value > 0):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        return value
    if not (_is_real(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def non_negative_int(name: str, value) -> int:
    """Return ``value`` if it is an integer >= 0 (not a bool)."""
    if not (_is_int(value) and value >= 0):
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def agent_config(config_class: type, config, overrides: dict, agent: str):
    """The config an agent's constructor was given (``None``: the defaults), with ``overrides``.

    A config of another class (``QLearningAgent(..., config=DQNConfig())``) is refused: its fields
    would be read under the wrong names, or not at all.
    """
    if config is None:
        config = config_class()
    elif not isinstance(config, config_class):
        raise TypeError(
            f"{agent} needs config to be a {config_class.__name__} (or None for the defaults), "
            f"got {_show_object(config)}"
        )
    return with_overrides(config, overrides) if overrides else config


def numbered_from_zero(space, agent: str, name: str = "action_space") -> None:
    """Refuse a ``Discrete(n, start=k)`` space with ``k != 0``: the agents number actions 0..n-1."""
    start = getattr(space, "start", 0)
    if start != 0:
        raise ValueError(
            f"{agent} needs a Discrete {name} numbered from 0 (its actions are 0 to n - 1), got "
            f"{show_space(space)}; the environment would receive actions it does not number that "
            "way"
        )


def show_space(space) -> str:
    """A Gymnasium space on one line, for an error message.

    NumPy prints a ``Box`` whose bounds differ per dimension over several lines (LunarLander's,
    BipedalWalker's), padded with runs of spaces; a message must stay one line. Short bounds are
    kept whole; long ones are summarised as NumPy does (``[-3.14, -5, -5, ..., 1, 1, 1]``).
    """
    import numpy as np

    text = " ".join(repr(space).split()).replace("[ ", "[").replace(" ]", "]")
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if len(text) <= 160 or np.ndim(low) == 0 or np.ndim(high) == 0:
        return text

    def bounds(values) -> str:
        return np.array2string(
            np.asarray(values),
            separator=", ",
            threshold=6,
            edgeitems=3,
            max_line_width=10**6,
            formatter={"float_kind": lambda x: f"{x:.4g}"},
        )

    return (
        f"{type(space).__name__}(low={bounds(low)}, high={bounds(high)}, "
        f"shape={tuple(space.shape)}, dtype={space.dtype})"
    )


def _show_object(value) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"a {type(value).__name__}"
    return repr(value)


def observations(obs, shape: tuple, agent: str, dtype="float32"):
    """``(obs as an array (B, *shape), whether it was a batch)``, for an agent's ``act``.

    One observation of ``shape`` or a batch ``(B, *shape)`` is accepted; anything else raises a
    ``ValueError`` naming ``obs`` and the shapes accepted, instead of NumPy's reshape or matmul
    error deep inside the network.
    """
    import numpy as np

    try:
        array = np.asarray(obs, dtype)
    except (TypeError, ValueError):
        array = None
    if array is not None:
        if array.shape == shape:
            return array[None], False
        if array.ndim == len(shape) + 1 and array.shape[1:] == shape:
            return array, True
    got = (
        f"shape {array.shape}"
        if array is not None
        else f"{type(obs).__name__} {obs!r:.60}, which is not an array of numbers"
    )
    batch = "(B, " + ", ".join(map(str, shape)) + ")"
    raise ValueError(
        f"{agent}.act needs obs of shape {shape} (one observation) or {batch} (a batch), got "
        f"{got}; was the agent built for this environment's observation space?"
    )


def with_overrides(config, overrides: dict):
    """``dataclasses.replace(config, **overrides)`` with a clear error for unknown fields."""
    names = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(
            f"unknown {type(config).__name__} field(s) {unknown}; valid fields: {sorted(names)}"
        )
    return dataclasses.replace(config, **overrides)
