"""The machinery shared by every check: :func:`grade` runs a check's cases (:class:`Case`), its
reference and its table of typical mistakes (:class:`Mistake`); whatever happens becomes a
:class:`Verdict`, never an exception in the notebook. When the student's code raises, the message
quotes the line of *their* code that raised; an untouched stub gets a friendly "not yet".
"""

from __future__ import annotations

import copy
import functools
import html
import inspect
import os
import re
import sysconfig
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

# fmt: off


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok``, and a message that says what is wrong and hints at a fix."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:  # printed: wrapped at 79 columns, like the book's code
        text = ("Correct! " if self.ok else "Not yet. ") + self.sentence
        return "\n".join(wrapped for line in text.split("\n") for wrapped in textwrap.wrap(
            line, 79, break_long_words=False, break_on_hyphens=False) or [""])

    __repr__ = __str__

    @property
    def sentence(self) -> str:
        """The message capitalised (hints follow "About f: ..."), unless it starts with a name."""
        first = self.message.split(" ", 1)[0]
        if first[:1].islower() and first.isalpha():
            return self.message[0].upper() + self.message[1:]
        return self.message

    def _repr_html_(self) -> str:
        color, mark = ("#1a7f37", "&#10004;") if self.ok else ("#b35900", "&#10008;")
        title = "Correct!" if self.ok else "Not yet."
        return (f'<div style="border-left:4px solid {color};padding:0.4em 0.8em;"><b '
                f'style="color:{color}">{mark} {title}</b> {html.escape(self.sentence)}</div>')


def correct(message: str) -> Verdict:
    return Verdict(True, message)


def wrong(message: str) -> Verdict:
    return Verdict(False, message)


class StudentError(Exception):
    """Raised inside a check to stop it with a verdict (caught by :func:`check`)."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


def fail(message: str):
    raise StudentError(wrong(message))


def fresh_rng() -> np.random.Generator:
    """A generator seeded from the operating system's entropy: new cases on every call."""
    return np.random.default_rng()


def name_of(fn) -> str:
    """The student's function as they named it (``my_td_target``); "your function" for a lambda."""
    name = getattr(fn, "__name__", None)
    return f"`{name}`" if name and name.isidentifier() else "your function"


# -- where the student's code raised ---------------------------------------------------------

_RLBOOK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PATHS = ("stdlib", "platstdlib", "purelib", "platlib")
_LIBRARY_DIRS = tuple(os.path.abspath(p) for p in {sysconfig.get_paths().get(k) for k in _PATHS}
                      if p)
_COMPILED_PACKAGES = ("numpy", "tensorflow", "keras", "gymnasium", "tf_keras", "jax", "scipy")


def _is_library(filename: str) -> bool:
    """rlbook itself, the standard library and installed packages (TensorFlow, NumPy, ...)."""
    if filename.endswith((".pyx", ".pxd")) or filename.startswith(("<frozen", "<__array_func")):
        return True  # compiled modules (NumPy's random, ...) report relative or pseudo file names
    if os.path.basename(filename).startswith("__autograph_generated_file"):
        return True  # tf.function's rewrite of the student's code, not what they wrote
    if not os.path.isabs(filename):
        return filename.replace("\\", "/").split("/")[0] in _COMPILED_PACKAGES
    path = os.path.abspath(filename)
    return (path.startswith(_RLBOOK_DIR + os.sep)
            or any(os.sep + d + os.sep in path for d in ("site-packages", "dist-packages"))
            or any(path.startswith(d + os.sep) for d in _LIBRARY_DIRS))


def _short(text: str, limit: int = 240) -> str:
    """An error message's first line, cut short, without TensorFlow's op names (``[Op:Sub]``)."""
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(text))
    text = re.sub(r"\s*\[Op:\w+\](\s*name:\s*\S*)?", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0] == "in user code:":  # tf.function's trace, then the error on the last
        lines = lines[-1:]
    first = lines[0] if lines else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def call_student(fn: Callable, *args, name=None, signature: str = "", hint=None, **kwargs):
    """Call the student's ``fn``; a crash becomes a :class:`StudentError` quoting ``signature``
    if it cannot be called so, and ``hint(err, line)`` about the line that raised."""
    name = name or name_of(fn)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        # The stub raises it itself; NumPy on a TensorFlow graph tensor raises it from inside
        # TensorFlow, which is a bug of the student's to report like any other.
        if not _is_library(traceback.extract_tb(err.__traceback__)[-1].filename):
            fail(f"{name} still raises NotImplementedError: that is the stub. "
                 "Replace `raise NotImplementedError` with your code, run its cell, "
                 "then run this check again.")
        _report(err, name, signature, hint)
    except RecursionError:
        fail(f"{name} calls itself without end (RecursionError). "
             "Did you give your function the name of the library function it calls?")
    except Exception as err:  # the student's bug, reported, never raised into the notebook
        _report(err, name, signature, hint)


def _report(err: BaseException, name: str, signature: str, hint) -> None:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not _is_library(f.filename)]
    frame = frames[-1] if frames else None
    if frame is None and isinstance(err, TypeError) and ("argument" in str(err)):
        params = f"Its parameters must be {signature}." if signature else "Check its parameters."
        fail(f"{name} cannot be called the way the exercise calls it ({_short(err)}). {params}")
    text = f"{type(err).__name__}: {_short(err)}" if _short(err) else type(err).__name__
    said = f"{name} raised {text}"
    if frame is not None:
        where = f"in `{frame.name}`, " if frame.name not in ("<module>", "<lambda>") else ""
        line = (frame.line or "").strip()
        said += f" ({where}line {frame.lineno}" + (f": `{line}`)" if line else ")")
    extra = hint(err, (frame.line or "") if frame else "") if hint else None
    fail(said + "." + (" " + extra if extra else ""))


def check(grader: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """Decorator for check functions: whatever goes wrong becomes a verdict, never a traceback."""

    @functools.wraps(grader)
    def wrapper(*args, **kwargs) -> Verdict:
        for arg in args:
            if not callable(arg):
                return wrong("pass your function itself, without calling it: "
                             f"{grader.__name__}(my_function), "
                             f"not {grader.__name__}(my_function(...)) (got a "
                             f"{type(arg).__name__}).")
        try:
            return grader(*args, **kwargs)
        except StudentError as err:
            return err.verdict
        except Exception as err:  # noqa: BLE001 - a bug of the check itself: say so, don't crash
            return wrong("the check could not handle what your function returned "
                         f"({type(err).__name__}: {_short(err)}). "
                         "Compare your function with the exercise's description: its parameters, "
                         "and what it returns.")

    return wrapper


# -- what the student returned ---------------------------------------------------------------


def to_array(value: Any, name: str, what: str, shape: tuple | None = None) -> np.ndarray:
    """The student's return value as a float64 NumPy array, or a clear "not yet"."""
    if value is None:
        fail(f"{name} returned None: did you forget the `return` line? Return {what}.")
    if isinstance(value, (str, bytes, dict, set)):
        fail(f"{name} returned a {type(value).__name__} ({_short(repr(value), 60)}); "
             f"return {what}.")
    if inspect.isgenerator(value) or isinstance(value, (map, filter, zip)):
        fail(f"{name} returned a {type(value).__name__}, which can be read only once; "
             f"return {what} (wrap it in list(...) or np.array(...)).")
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:  # noqa: BLE001 - e.g. a ragged list
        fail(f"{name} returned something that is not one array of numbers; return {what}.")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        fail(f"{name} returned values of type {array.dtype} ({_short(repr(value), 80)}); "
             f"return {what}.")
    array = array.astype(np.float64)
    if shape is not None and array.shape != tuple(shape):
        fail(f"{name} returned an array of shape {array.shape}; expected shape {tuple(shape)}: "
             f"{what}.")
    return array


def to_scalar(value: Any, name: str, what: str) -> float:
    """One number (Python, NumPy or a 0-d tensor) as a float; arrays of several numbers fail."""
    array = to_array(value, name, what)
    if array.size != 1:
        fail(f"{name} returned an array of shape {array.shape}, not one number: {what}.")
    return float(array.reshape(()))


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def assert_unchanged(name: str, before: list, after: list, names: list[str]) -> None:
    """Fail if the student's function changed one of its arguments in place."""
    for b, a, arg in zip(before, after, names):
        if not _same(b, a):
            fail(f"{name} changed its argument `{arg}` in place (for example with `+=`, `-=`, "
                 "`.sort()`, `.reverse()` or an assignment into it). "
                 f"The caller still needs `{arg}` as it was: "
                 "compute a new value instead (`x = x + ...` makes a new array).")


def fmt(x, digits: int = 3) -> str:
    """A small array or number, rounded, for messages."""
    if isinstance(x, (list, tuple, np.ndarray)):
        x = np.round(np.asarray(x, dtype=np.float64), digits)
        if x.size > 24:  # the first few, and how many
            return str(x.ravel()[:6].tolist())[:-1] + f", ... ({x.size} values of shape {x.shape})]"
        return str(x.tolist())
    if isinstance(x, (float, np.floating)):
        small = abs(x) < 1e-3 and x != 0
        return f"{float(x):.{digits}g}" if small else str(round(float(x), digits))
    return str(x)


def close(a, b, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# -- the driver: cases, a reference, a table of typical mistakes -------------------------------


class Case:
    """``args`` go to the student as deep copies, compared afterwards (``names[i]`` names
    ``args[i]``; None hands the object itself); ``text`` ends every message about the case,
    ``where`` starts it; other keywords are data for the reference and the mistakes."""

    def __init__(self, args=(), names=(), text: str = "", where: str = "", **data):
        self.args, self.names, self.text, self.where = tuple(args), tuple(names), text, where
        self.given = None  # the copies handed to the student (set by :func:`grade`)
        self.__dict__.update(data)


@dataclass(frozen=True)
class Mistake:
    """A ``hint`` (text, or a function of the case) and either ``wrong_answer(case)`` (None: it
    does not apply) or ``test(case, got)``; a table may list it as ``(hint, wrong_answer)``."""

    hint: str | Callable[[Case], str]
    wrong_answer: Callable[[Case], Any] | None = None
    test: Callable[[Case, Any], bool] | None = None

    def shown_by(self, case: Case, got, want, same) -> bool:
        try:
            if self.test is not None:
                return bool(self.test(case, got))
            bad = self.wrong_answer(case)
            return bad is not None and same(got, bad) and not same(want, bad)
        except Exception:  # noqa: BLE001 - a mistake that does not apply to this case
            return False

    def message(self, case: Case) -> str:
        return self.hint(case) if callable(self.hint) else self.hint


def shape_mistake(hint, wrong_shape: Callable[[Case, tuple], bool]) -> Mistake:
    """A mistake shown by the shape of the answer: ``wrong_shape(case, shape)``."""
    return Mistake(hint, test=lambda c, got: bool(wrong_shape(c, np.shape(got))))


def grade(fn, cases, reference, mistakes=(), *, read=None, same=None, signature="", hint=None,
          explain=None, rule="", done: str) -> Verdict:
    """Run ``fn`` on every case; ``read(got, case, name)`` (default: a float array) gives what
    ``same(got, reference(case))`` compares. When answers differ, the mistake that explains most
    failing cases (or the first) gives the hint; else ``explain(got, want, case)`` or ``rule``."""
    name, mistakes = name_of(fn), [m if isinstance(m, Mistake) else Mistake(*m) for m in mistakes]
    read = read or (lambda got, case, name: to_array(got, name, getattr(case, "what", "an array")))
    same, failures = same or close, []
    for case in cases:
        want = reference(case)
        kept = [i for i, n in enumerate(case.names) if n is not None]
        case.given = [copy.deepcopy(a) if i in kept else a for i, a in enumerate(case.args)]
        try:
            got = call_student(fn, *case.given, name=name, signature=signature, hint=hint)
            assert_unchanged(name, *([x[i] for i in kept]
                                     for x in (case.args, case.given, case.names)))
            got = read(got, case, name)
        except StudentError:
            if failures:  # a crash in a later case: the mismatch before it says more
                break
            raise
        if not same(got, want):
            case.got, case.want, case.name = got, want, name  # (hints may quote them)
            matched = [m for m in mistakes if m.shown_by(case, got, want, same)]
            failures.append((case, got, want, matched))
    if not failures:
        return correct(done)
    counts = {id(m): sum(m in matched for *_, matched in failures) for m in mistakes}
    first = [id(m) for m in failures[0][3]]
    ranked = sorted(mistakes, key=lambda m: (-counts[id(m)], id(m) not in first))
    if ranked and (counts[id(ranked[0])] > 1 or id(ranked[0]) in first):
        case = next(c for c, *_, matched in failures if ranked[0] in matched)
        return wrong(_about(case, ranked[0].message(case)))
    case, got, want, _ = failures[0]
    return wrong(_about(case, (explain or partial(expected, rule=rule))(got, want, case)))


def _about(case: Case, message: str) -> str:
    text = f"{case.where}: {message}" if case.where else message
    return f"{text} {case.text}".strip()


def expected(got, want, case: Case, rule: str = "") -> str:
    """The generic message: the expected answer and the student's, and what the answer is."""
    what = getattr(case, "what", "an array")
    if np.shape(got) != np.shape(want):  # (said once when `what` gives the shape already)
        shape = "" if "shape" in what else f", shape {np.shape(want)}"
        return f"expected {what}{shape}; got shape {np.shape(got)}."
    return f"expected {fmt(want, 4)}, got {fmt(got, 4)}." + (f" It is {rule}." if rule else "")


# -- the value-based chapters' targets (3, 4 and 7) ------------------------------------------------


def td_batches(rng: np.random.Generator):
    """``(rewards, terminated, gamma)``: mixed, one without terminal, all terminal, gamma 0.5."""
    for batch, terminal, gamma in [
        (int(rng.integers(5, 9)), "mixed", float(rng.choice([0.9, 0.99]))), (1, "none", 0.9),
        (int(rng.integers(3, 6)), "all", 0.99), (int(rng.integers(3, 6)), "mixed", 0.5),
    ]:
        r = np.round(rng.uniform(-1.0, 2.0, size=batch), 2).astype(np.float32)
        yield r, terminal_flags(rng, batch, terminal), gamma


def terminal_flags(rng: np.random.Generator, batch: int, terminal: str) -> np.ndarray:
    """Flags ``(B,)``: "all", "none" or "mixed" (about a third, at least one of each if B > 1)."""
    flags = np.full(batch, 1.0 if terminal == "all" else 0.0, np.float32)
    if terminal == "mixed":
        flags[rng.permutation(batch)[: max(1, batch // 3)]] = 1.0
    return flags


def td(c, boot=None, mask=None, gamma=None):
    """``r + gamma (1 - t) boot`` of a target case, or a typical mistake's version of it."""
    gamma = c.gamma if gamma is None else gamma
    return c.r + gamma * (1 - c.t if mask is None else mask) * (c.boot if boot is None else boot)


NO_MASK = ("the terminated transitions still bootstrap: their target is just the reward. "
           "Multiply the bootstrap term by (1 - terminated).")
FLIPPED = ("the flag is the wrong way round: bootstrap when the episode goes on, "
           "(1 - terminated), not terminated.")
REWARD_DISCOUNTED = ("the reward is not discounted: it arrives now. "
                     "Only the next state's value is multiplied by gamma.")
NOT_DISCOUNTED = "the next state's value must be discounted: multiply it by gamma."
# The slips every TD target can make, whatever it bootstraps from (chapters 3, 4 and 7).
TD_MISTAKES = [(NO_MASK, lambda c: td(c, mask=1.0)), (FLIPPED, lambda c: td(c, mask=c.t)),
               (REWARD_DISCOUNTED, lambda c: c.gamma * td(c, gamma=1.0)),
               (NOT_DISCOUNTED, lambda c: td(c, gamma=1.0)),
               ("the sign of the bootstrap term is flipped: "
                "y = r + gamma * (1 - terminated) * (the next state's value).",
                lambda c: td(c, gamma=-c.gamma)),
               ("a terminated transition's target is its reward r, not 0: "
                "multiply only the bootstrap term by (1 - terminated), not the whole target.",
                lambda c: (1 - c.t) * td(c)),
               Mistake("use the gamma you are given, not a number of your own "
                       "(0.99 is only the agents' default): the check tries several.",
                       test=lambda c, got: any(close(got, td(c, gamma=g))
                                               for g in (0.9, 0.95, 0.99) if g != c.gamma))]


def flags_hint(err, line: str) -> str | None:
    """A hint for ``if terminated:`` or ``~terminated`` on an array of float flags."""
    if "truth value" in str(err) and "ambiguous" in str(err):
        return ("`terminated` is an array, one flag per transition: "
                "`if` and `not` do not work on it. Multiply instead: (1 - terminated).")
    # ~, | or & on float flags: NumPy's ufunc error, or TensorFlow's Invert / Bitwise* op error
    if re.search(r"ufunc '(invert|bitwise_\w+)'|\b(Invert|Bitwise(And|Or|Xor))\b", str(err)):
        return ("The flags hold the floats 0.0 and 1.0, not booleans: ~ does not work on them, "
                "nor | and & (they work on booleans only). Use arithmetic instead: "
                "(1 - terminated).")
    return None


def tensor_hint(err: BaseException, line: str) -> str | None:
    """A hint for NumPy-only code given TensorFlow tensors (as the agents pass them)."""
    text = str(err)
    if isinstance(err, AttributeError) and ("Tensor" in text or "Variable" in text):
        return ("The check passes TensorFlow tensors, as the agent does: "
                "use TensorFlow operations (tf.nn.log_softmax, tf.gather(..., batch_dims=1), "
                "tf.reduce_mean, tf.stop_gradient), not NumPy methods.")
    if "NumPy array" in text or "__array__" in text:
        return "Use TensorFlow operations on the tensors you get, not NumPy ones."
    return None


# -- the agent checks ---------------------------------------------------------------------------

# Agent checks train on these seeds: the book's solution passes on the first with a wide margin;
# the second is tried only if a run fails while the unit checks pass (another CPU, another run).
AGENT_SEEDS = (1234, 5678)


def train_on_seeds(train, units, *, retry_stopped: bool):
    """``train(seed) -> (passed, problem, *more)`` on each seed until one passes, a unit check
    (``units()``: ``(name, verdict)`` pairs) fails or a "not yet" stops training (unless
    ``retry_stopped``); returns the last run's tuple and the unit verdicts."""
    verdicts = None
    for seed in AGENT_SEEDS:
        passed, problem, *more = train(seed)
        if problem is not None and "that is the stub" in problem:
            fail(problem)  # a stub left: nothing to diagnose yet
        verdicts = verdicts or units()
        stopped = problem is not None and not retry_stopped
        if passed or stopped or any(not v.ok for _, v in verdicts):
            break
    return passed, problem, *more, verdicts


def traced(name: str, how: str = "") -> str:
    """What an agent does with a learning step that its unit check cannot: it traces it."""
    return (f"in the agent {name} runs inside tf.function{how}: its Python code runs once, "
            "when the step is traced, so a Python number, list or NumPy value computed there, "
            "or a Python `if` on a tensor, is frozen at its first value. "
            "Compute everything that depends on the inputs with TensorFlow operations.")


def agent_verdict(run, reached, passed, problem, units, *, forgiving, learns="", note="", differs):
    """The verdict of an agent check from what trained (``run``), what it ``reached``, the "not
    yet" that stopped it (``problem``) and the unit checks' ``(name, verdict)``; ``forgiving`` says
    why a run may pass with a mistake left, ``differs`` what the unit checks cannot see."""
    failing = [(n, v) for n, v in units if not v.ok]
    diagnosis = " ".join(f"About {n}: {v.message}" for n, v in failing)
    if problem is not None:
        return wrong(f"Training stopped: {problem} {diagnosis}".strip())
    if passed and not failing:
        return correct(f"After {run}, your agent {reached}: "
                       f"{learns or 'your own code learns'}.{note}")
    if passed:
        return wrong(f"After {run} your agent {reached}, but {forgiving} {diagnosis}")
    if failing:
        return wrong(f"After {run} your agent {reached}: it did not learn. Why: {diagnosis}")
    names = " and ".join(n for n, _ in units)
    own = "passes its own check" if len(units) == 1 else "pass their own checks"
    return wrong(f"After {run} your agent {reached}: it did not learn, "
                 f"although {names} {own}.{note} The book's solution learns on these seeds "
                 "with a wide margin, so bad luck is unlikely. "
                 f"The unit checks call your code one case at a time; {differs}")
