"""The machinery shared by every check: run the student's code safely, say what is wrong."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` and a message that says what is wrong and hints at a fix.

    A notebook cell that ends with a check shows the message (in HTML and in plain text).
    ``bool(verdict)`` is ``verdict.ok``.
    """

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return ("Correct! " if self.ok else "Not yet. ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        color, mark = ("#1a7f37", "&#10004;") if self.ok else ("#b35900", "&#10008;")
        title = "Correct!" if self.ok else "Not yet."
        return (
            f'<div style="border-left:4px solid {color};padding:0.4em 0.8em;">'
            f"<b style=\"color:{color}\">{mark} {title}</b> {html.escape(self.message)}</div>"
        )


def correct(message: str) -> Verdict:
    return Verdict(True, message)


def wrong(message: str) -> Verdict:
    return Verdict(False, message)


class StudentError(Exception):
    """Raised inside a check when the student's code fails; turned into a verdict."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


def call_student(fn: Callable, *args, what: str = "your function", **kwargs):
    """Call the student's ``fn``; turn ``NotImplementedError`` or a crash into a verdict.

    Raises:
        StudentError: carrying the verdict, caught by :func:`check`.
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise StudentError(wrong(f"{what} still raises NotImplementedError: replace the stub with your code."))
    except Exception as err:  # the student's bug, reported, never raised into the notebook
        frame = traceback.extract_tb(err.__traceback__)[-1]
        raise StudentError(
            wrong(f"{what} raised {type(err).__name__}: {err} (at line {frame.lineno}: `{(frame.line or '').strip()}`).")
        )


def check(grader: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """Decorator for check functions: whatever goes wrong becomes a verdict, never a traceback."""
    import functools

    @functools.wraps(grader)
    def wrapper(*args, **kwargs) -> Verdict:
        try:
            return grader(*args, **kwargs)
        except StudentError as err:
            return err.verdict
        except Exception as err:  # e.g. an answer of the wrong type that the grader trips over
            return wrong(f"the check could not use your answer ({type(err).__name__}: {err}).")

    return wrapper
