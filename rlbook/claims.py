"""What a chapter claims about its training runs, checked, and the seeds it runs on.

Every chapter ends with a check cell: the agent reached the chapter's goal, the
ablation costs return, and so on. A training run is deterministic on one machine,
but another CPU (other kernels, oneDNN on or off, another thread count) computes
the last bits differently and the run drifts onto another trajectory. So a claim
must hold with a margin, not on one lucky trajectory. Two small tools keep that
honest:

* :func:`seed_offset` is added to every seed a chapter uses. It is 0, unless the
  environment variable ``RLBOOK_SEED_OFFSET`` says otherwise: the robustness sweep
  (``make test-robust``, ``tools/robust.py``) reruns each chapter on shifted seeds
  and under other numeric configurations.
* :func:`expect` asserts one claim, ``value op bound``, and says which claim failed
  and by how much. When ``RLBOOK_CLAIMS_LOG`` names a file, it appends the claim,
  its value and its margin there instead of raising, so that the sweep sees every
  claim of a run, and tabulates its worst margin.
"""

from __future__ import annotations

import json
import math
import operator
import os

__all__ = ["expect", "seed_offset", "margin"]

SEED_OFFSET_VAR = "RLBOOK_SEED_OFFSET"
LOG_VAR = "RLBOOK_CLAIMS_LOG"

_OPS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


def seed_offset() -> int:
    """The shift applied to every seed of a chapter: 0 unless ``RLBOOK_SEED_OFFSET`` is set."""
    raw = os.environ.get(SEED_OFFSET_VAR, "0").strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"{SEED_OFFSET_VAR} must be a whole number (the shift added to every seed), got {raw!r}"
        ) from None


def margin(value: float, op: str, bound: float) -> float:
    """How far ``value`` is on the right side of ``bound`` (negative: the claim fails).

    For ``>=`` and ``>`` it is ``value - bound``, for ``<=`` and ``<`` it is
    ``bound - value``, and for ``==`` it is 0 when equal and ``-|value - bound|``
    otherwise. A strict inequality that holds with equality has margin 0 but fails.
    """
    if op not in _OPS:
        raise ValueError(f"op must be one of {', '.join(_OPS)}, got {op!r}")
    value, bound = float(value), float(bound)
    if op in (">=", ">"):
        return value - bound
    if op in ("<=", "<"):
        return bound - value
    return 0.0 if value == bound else -abs(value - bound)


def expect(claim: str, value: float, op: str, bound: float) -> None:
    """Check the claim ``value op bound``, for example ``expect("greedy mean", m, ">=", 475)``.

    Args:
        claim: what is claimed, in a few words (the sweep's table lists it).
        value: the measured number.
        op: one of ``>=``, ``>``, ``<=``, ``<``, ``==``.
        bound: the number it is compared with.

    Raises:
        AssertionError: the claim does not hold (unless ``RLBOOK_CLAIMS_LOG`` is set,
            in which case the result is appended to that file and nothing is raised).
    """
    if op not in _OPS:
        raise ValueError(f"op must be one of {', '.join(_OPS)}, got {op!r}")
    value, bound = float(value), float(bound)
    passed = bool(_OPS[op](value, bound)) and math.isfinite(value)
    log = os.environ.get(LOG_VAR)
    if log:
        record = {
            "claim": claim,
            "value": value,
            "op": op,
            "bound": bound,
            "margin": margin(value, op, bound),
            "passed": passed,
        }
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return
    if not passed:
        raise AssertionError(
            f"{claim}: expected {op} {bound:g}, got {value:g} "
            f"(margin {margin(value, op, bound):+g})"
        )
