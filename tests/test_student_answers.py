"""No answer in the student edition: no cell of student/ holds an exercise's reference solution.

tests/test_student_edition.py checks that the solution cells are gone, line by line. This test
looks for the answer anywhere else in the student edition (a later cell that "writes it out again",
prose that states the defining line, a computation that is the answer for the defaults), by
normalised token overlap rather than exact text:

* every code cell and Markdown cell of ``student/NN_name.ipynb`` is tokenised: Python's tokenizer
  drops comments from code, and one regex splits code and prose alike into names, numbers and
  operators; ``x.attr`` counts as ``attr`` (so ``c.batch_size`` matches ``batch_size``), ``1.0``
  as ``1``;
* a solution's **answer** is its code minus the lines its exercise already shows (the ``def``
  line of the stub, the check call);
* a **defining line** (the expression of a ``return`` or an assignment that computes something)
  leaks when a student cell holds a run of it at least ``MIN_RUN`` tokens long with at least
  ``MIN_RUN_OPERATORS`` operators (``ALLOWED`` lists the runs shown on purpose, with the reason);
* the **body** leaks when a student cell contains at least ``MAX_SHARED_SHINGLES`` of the
  answer's ``SHINGLE``-token shingles (sequences).

The thresholds are calibrated on the leaks of issue 20 (chapters 3, 4, 7 and 8 before the fix,
which this test fails) and the fixed edition (which passes with margin): see the constants.
"""

from __future__ import annotations

import io
import json
import pathlib
import re
import tokenize

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

SHINGLE = 4  # tokens per shingle
# Calibration (overlap_scores): in the fixed edition the largest share of an answer's shingles in
# one student cell is 31% (chapter 4, the figure's estimators: generic NumPy calls); the leaks
# shared 53% (chapter 4's `one_estimate_bias`) and 52% (chapter 8's ratio cell).
MAX_SHARED_SHINGLES = 0.45
# A defining line leaks when a student cell holds a run of its expression at least MIN_RUN tokens
# long with at least MIN_RUN_OPERATORS operators: chapter 8's `batch_size * gradient_steps /
# train_every` (5 tokens, 2 operators), chapter 3's `tau * online + (1 - tau) * target` (11, 4).
# It must name at least MIN_RUN_NAMES different variables: `+ (1 - tau)` alone (the box's
# equation) is no answer.
MIN_RUN = 5
MIN_RUN_OPERATORS = 2
MIN_RUN_NAMES = 2
OPERATORS = {"+", "-", "*", "/", "//", "%", "**", "@"}
# Runs that a student cell shows on purpose and that are not the exercise's point, with the reason.
ALLOWED = {
    # The TD target of chapter 3, in the tabular double Q-learning update of the errata box; the
    # exercise is about which network selects and which evaluates.
    ("ex-double-td-target", "reward + gamma * ( 1 - terminated ) * value"),
}

TOKEN = re.compile(
    r"[A-Za-z_]\w*|\d+(?:\.\d+)?(?:e[-+]?\d+)?|\*\*|//|==|!=|<=|>=|->|[-+*/%@=<>()\[\]{},.:]"
)


def _source(cell) -> str:
    return "".join(cell["source"])


def _strip_comments(code: str) -> str:
    """Code without comments (IPython magics and shell lines are kept as text)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.sub(r"#.*", "", code)
    lines = code.splitlines(keepends=True)
    for tok in reversed(tokens):
        if tok.type == tokenize.COMMENT:
            (row, col), (_, end) = tok.start, tok.end
            line = lines[row - 1]
            lines[row - 1] = line[:col] + line[end:]
    return "".join(lines)


def tokens(text: str) -> list[str]:
    """Normalised tokens: ``a.b`` -> ``b``, ``1.0`` -> ``1``, no dots."""
    raw = TOKEN.findall(text)
    out = []
    for i, tok in enumerate(raw):
        if tok == ".":
            continue
        if i + 1 < len(raw) and raw[i + 1] == "." and re.match(r"[A-Za-z_]", tok):
            continue  # the object of an attribute access
        out.append(re.sub(r"^(\d+)\.0+$", r"\1", tok))
    return out


def _shingles(toks: list[str], n: int = SHINGLE) -> set[tuple[str, ...]]:
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def solutions(notebook: dict) -> list[dict]:
    """Each gated solution: its label, its answer (code minus what the exercise shows) and the
    expressions of its defining lines (returns and assignments that compute something)."""
    found, current, outside = [], None, set()
    for cell in notebook["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "markdown" and "{solution-start}" in text:
            current = {"label": re.search(r"\{solution-start\}\s*(\S*)", text).group(1), "code": []}
        elif cell["cell_type"] == "markdown" and "{solution-end}" in text:
            found.append(current)
            current = None
        elif current is not None:
            current["code"].append(text)
        else:  # what the exercise shows: the stub's def line, the check call, ...
            outside.update(line.strip() for line in text.splitlines())
    for solution in found:
        code = _strip_comments("\n".join(solution["code"]))
        kept = [
            line
            for line in code.splitlines()
            if line.strip()
            and line.strip() not in outside
            and not re.match(r"\s*(print\()?check_\w+\(", line)
        ]
        solution["answer"] = "\n".join(kept)
        solution["lines"] = [e for e in map(_defining_expression, kept) if e]
    return found


def _defining_expression(line: str) -> list[str] | None:
    """The tokens after ``return`` or an assignment's ``=``, if they compute (hold an operator)."""
    toks = tokens(line)
    if toks and toks[0] == "return":
        expr = toks[1:]
    elif "=" in toks and "(" not in toks[: toks.index("=")] and toks[0] not in ("def", "class"):
        expr = toks[toks.index("=") + 1 :]
    else:
        return None
    return expr if any(t in OPERATORS for t in expr) else None


def longest_shared_run(expression: list[str], cell: list[str]) -> list[str]:
    """The longest run of ``expression``'s tokens, with at least MIN_RUN_OPERATORS operators and
    MIN_RUN_NAMES names, that ``cell`` contains in the same order."""
    best: list[str] = []
    for i in range(len(expression)):
        for j in range(len(cell)):
            k = 0
            while (
                i + k < len(expression) and j + k < len(cell) and expression[i + k] == cell[j + k]
            ):
                k += 1
            run = expression[i : i + k]
            names = {t for t in run if re.match(r"[A-Za-z_]", t)}
            if (
                len(run) > len(best)
                and sum(t in OPERATORS for t in run) >= MIN_RUN_OPERATORS
                and len(names) >= MIN_RUN_NAMES
            ):
                best = run
    return best


def student_cells(name: str) -> list[tuple[str, list[str]]]:
    """``(cell id, tokens)`` of every cell of the student edition of chapter ``name``."""
    nb = json.loads((ROOT / "student" / name).read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "code":
            text = _strip_comments(text)
        out.append((cell.get("id", "?"), tokens(text)))
    return out


def leaks(source: pathlib.Path, student: list[tuple[str, list[str]]] | None = None) -> list[str]:
    """Where the student edition of ``source`` shows an answer (empty: none)."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    student = student if student is not None else student_cells(source.name)
    found = []
    for solution in solutions(notebook):
        shingles = _shingles(tokens(solution["answer"]))
        for cell_id, toks in student:
            for expression in solution["lines"]:
                run = " ".join(longest_shared_run(expression, toks))
                if len(run.split()) >= MIN_RUN and (solution["label"], run) not in ALLOWED:
                    found.append(f"{solution['label']}: cell {cell_id} holds {run!r}")
            if shingles:
                shared = len(shingles & _shingles(toks)) / len(shingles)
                if shared >= MAX_SHARED_SHINGLES:
                    found.append(
                        f"{solution['label']}: cell {cell_id} shares {shared:.0%} of the answer"
                    )
    return found


def overlap_scores(source: pathlib.Path) -> dict[str, float]:
    """The largest shared-shingle fraction of each solution over the student cells."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    student = student_cells(source.name)
    scores = {}
    for solution in solutions(notebook):
        shingles = _shingles(tokens(solution["answer"]))
        scores[solution["label"]] = (
            max((len(shingles & _shingles(t)) / len(shingles) for _, t in student), default=0.0)
            if shingles
            else 0.0
        )
    return scores


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_no_cell_of_the_student_edition_holds_an_answer(source):
    found = leaks(source)
    assert not found, f"student/{source.name} gives answers away:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_every_solution_has_an_answer_to_look_for(source):
    for solution in solutions(json.loads(source.read_text(encoding="utf-8"))):
        assert len(tokens(solution["answer"])) >= MIN_RUN, solution["label"]


def test_every_allowed_run_is_still_shown():
    """ALLOWED holds no stale entries: each run is in the student edition, where it is allowed."""
    found = set()
    for source in CHAPTERS:
        notebook = json.loads(source.read_text(encoding="utf-8"))
        for solution in solutions(notebook):
            for _, toks in student_cells(source.name):
                for expression in solution["lines"]:
                    found.add((solution["label"], " ".join(longest_shared_run(expression, toks))))
    assert ALLOWED <= found, ALLOWED - found


def _cells(*texts):
    return [(f"c{i}", tokens(t)) for i, t in enumerate(texts)]


def test_the_leaks_of_issue_20_are_caught():
    """The four leaks as they were (abridged); the fixed wording passes."""
    ch = {p.name[:2]: p for p in CHAPTERS}
    # Chapter 3: prose stating the soft update's line.
    assert leaks(
        ch["03"],
        _cells("the agent applies `target = tau * online + (1 - tau) * target` every step"),
    )
    assert not leaks(ch["03"], _cells("the agent makes the soft update every few steps"))
    # Chapter 4: the answer written out again under another name.
    assert leaks(
        ch["04"],
        _cells(
            "def one_estimate_bias(true_values, sigma, n_samples, rng):\n"
            "    shape = (n_samples, len(true_values))\n"
            "    noisy = true_values + sigma * rng.normal(size=shape)\n"
            "    return noisy.max(axis=1).mean() - true_values.max()\n"
        ),
    )
    # Chapter 8: the ratio computed from the defaults.
    assert leaks(
        ch["08"], _cells("c = DQNConfig()\nratio = c.batch_size * c.gradient_steps / c.train_every")
    )
    # Chapter 7: the n-step targets as a loop (chapter 6's discounted_returns, renamed).
    assert leaks(
        ch["07"],
        _cells(
            "def returns(rewards, dones, last_values, gamma):\n"
            "    targets = np.zeros_like(rewards)\n    y = last_values\n"
            "    for t in reversed(range(len(rewards))):\n"
            "        y = rewards[t] + gamma * (1.0 - dones[t]) * y\n        targets[t] = y\n"
            "    return targets\n"
        ),
    )
