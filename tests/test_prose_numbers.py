"""Numbers that the code defines are printed by the code, not typed into the prose.

A setting typed into a sentence ("alpha = 0.1", "every 50 gradient steps") drifts the day
the code changes. So a Markdown cell of a chapter must not contain a number that equals a
config value of the same notebook:

* a numeric literal assigned to an UPPER_CASE name (``BUDGET = 40_000``, also inside a
  tuple: ``COPIES, STEPS = 5, 30_000``);
* a numeric literal passed as a keyword argument (``epsilon_decay_steps=30_000``, also
  inside a tuple: ``n_bins=(1, 1, 6, 12)``), except keywords of plotting calls;
* a default of the config dataclass of an agent the chapter uses (``DQNConfig``,
  ``ReinforceConfig``, ...), read from the dataclass itself;
* the product of two of those integers, each at least 4 and the product at least 50 (8
  environment copies times 16 steps is a batch of 128 transitions; 6 times 12 bins is 72
  states), outside inline code.

Numbers written as words count too ("ten critic steps"). The prose says "the default
step size, printed below" or the code prints the sentence. ``ALLOWED`` lists the numbers
the prose may discuss anyway, ``CONTEXT`` the words after which a number is a name,
not a setting ("chapter 3", "step 2.3"), and ``EXEMPT`` the few sentences, by notebook,
whose number equals a setting by coincidence or compares settings in a table.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import json
import pathlib
import re

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))

ALLOWED = {
    0,
    1,
    2,
    3,
    4,  # "two actions", "three seeds", CartPole's four numbers: counts, not settings
    100,
    195,
    200,  # FrozenLake's time limit; CartPole-v0's bar and time limit
    475,
    500,  # CartPole-v1's bar and time limit: the task, not a setting
}
# A number right after one of these words is a name or a reference, not a setting:
# "chapter 3", "Example 6.6", "section 4.4", "step 2.3", "line 3.1", "comment 2",
# "seed 0", "ln 2", "CartPole-v1"-style version suffixes are skipped by the pattern.
CONTEXT = re.compile(
    r"\b(?:chapters?|ch\.?|example|section|steps?|lines?|comments?|seeds?|ln|figure|"
    r"exercise|equation|page|version|python|tensorflow|keras|numpy|gymnasium|"
    r"and|to|or)\s*$",
    re.IGNORECASE,
)
# Keywords of plotting and layout calls: their numbers are not settings of a run.
PLOT_KEYWORDS = {
    "figsize",
    "alpha",
    "lw",
    "linewidth",
    "ls",
    "ms",
    "fontsize",
    "capsize",
    "ncol",
    "bbox_to_anchor",
    "rect",
    "width",
    "width_ratios",
    "height_ratios",
    "vmin",
    "vmax",
    "dpi",
    "interval",
    "fps",
    "pad",
    "zorder",
    "s",
    "size",
    "labelsize",
    "wspace",
    "hspace",
    "every",
    "frame_step",
    "max_frames",
    "indent",
    "initial_indent",
    "window",
}
PLOT_ROOTS = re.compile(r"^(plt|ax\w*|axes|fig\w*|np|textwrap|tf)$")
WORDS = {
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "sixteen": 16,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
}
NUMBER = re.compile(
    r"(?<![\w.\-/#])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:e-?\d+)?)(?![\w]|\.\d)"
    r"|\b(" + "|".join(WORDS) + r")\b",
    re.IGNORECASE,
)
# The config dataclasses, by the names that show a chapter uses them.
CONFIGS = {
    "QLearningAgent": "rlbook.agents.qlearning:QLearningConfig",
    "QLearningConfig": "rlbook.agents.qlearning:QLearningConfig",
    "SarsaAgent": "rlbook.agents.sarsa:SarsaConfig",
    "DQNAgent": "rlbook.agents.dqn:DQNConfig",
    "DQNConfig": "rlbook.agents.dqn:DQNConfig",
    "ReinforceAgent": "rlbook.agents.reinforce:ReinforceConfig",
    "ReinforceConfig": "rlbook.agents.reinforce:ReinforceConfig",
    "ActorCriticAgent": "rlbook.agents.actor_critic:ActorCriticConfig",
    "ActorCriticConfig": "rlbook.agents.actor_critic:ActorCriticConfig",
    "PPOAgent": "rlbook.agents.ppo:PPOConfig",
    "PPOConfig": "rlbook.agents.ppo:PPOConfig",
    "SACAgent": "rlbook.agents.sac:SACConfig",
    "SACConfig": "rlbook.agents.sac:SACConfig",
}
# Sentences whose number equals a config value by coincidence, or compares settings in a
# table, by notebook: (number, words right before or around it, why it may stay).
EXEMPT = {
    "08_comparison.ipynb": [(2000, "every 2,000 env", "the benchmark's evaluation protocol")],
    "09_ppo.ipynb": [(10, "475 over 10 episodes", "the agent check's evaluation")],
    "10_continuous_actions.ipynb": [
        (0.001, r"0.001\,a^2", "Pendulum's cost, not a setting"),
        (10, "better over 10 episodes", "the agent check's evaluation"),
        (0.001, r"$\tau = 0.001$ | Gaussi", "the source repository's DDPG, in the comparison"),
        (0.005, r"$\tau = 0.005$ | entrop", "SAC's tau in the comparison table"),
        (100000, "after 100,000 steps of", "a run in docs/performance.md"),
    ],
}


def _cells(notebook: pathlib.Path, kind: str) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == kind]


def _literals(node: ast.AST) -> list[float]:
    """The numeric literals of a constant, or of a tuple or list of them (-x included)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return [node.value]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return [-v for v in _literals(node.operand)]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [v for elt in node.elts for v in _literals(elt)]
    return []


def _root(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def code_values(sources: list[str]) -> set[float]:
    """Numeric literals assigned to UPPER_CASE names or passed as keyword arguments."""
    found: set[float] = set()
    for source in sources:
        # IPython magics (%pip ...) are not Python.
        source = "\n".join(
            line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assign):
                targets = []
                for target in node.targets:
                    targets += target.elts if isinstance(target, ast.Tuple) else [target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if names and all(n.isupper() for n in names):
                    found.update(_literals(node.value))
            elif isinstance(node, ast.Call) and not PLOT_ROOTS.match(_root(node.func)):
                for kw in node.keywords:
                    if kw.arg and kw.arg not in PLOT_KEYWORDS:
                        found.update(_literals(kw.value))
    return found


def config_defaults(sources: list[str]) -> set[float]:
    """The numeric defaults of the config dataclasses of the agents a chapter uses."""
    import importlib

    text = "\n".join(sources)
    uses_bench = re.search(r"\bbench\.", text) is not None  # chapter 8 runs every agent
    found: set[float] = set()
    for name, where in CONFIGS.items():
        if uses_bench or re.search(rf"\b{name}\b", text):
            module, cls = where.split(":")
            config = getattr(importlib.import_module(module), cls)
            for field in dataclasses.fields(config):
                value = field.default
                if isinstance(value, tuple):
                    found.update(v for v in value if type(v) in (int, float))
                elif type(value) in (int, float):
                    found.add(value)
    return found


def config_numbers(notebook: pathlib.Path) -> tuple[set[float], set[int]]:
    """The config values of ``notebook`` and the products of two of them (module docstring)."""
    sources = _cells(notebook, "code")
    values = {abs(v) for v in code_values(sources) | config_defaults(sources)}
    ints = {int(v) for v in values if float(v).is_integer() and v >= 4}
    products = {a * b for a, b in itertools.combinations(sorted(ints), 2) if a * b >= 50}
    return values, products


def _prose(markdown: str) -> str:
    """The text of a Markdown cell without what is not prose: links' targets, HTML tags,
    directive option lines and labels."""
    text = re.sub(r"<[^>]+>", " ", markdown)  # tags (citations are links)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"^:[\w-]+:.*$", "", text, flags=re.MULTILINE)  # :label: ...
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)  # roles
    text = re.sub(r"^\s*(?:#+\s*)?\d+\.\s", " ", text, flags=re.MULTILINE)  # "3. " items
    return text


def prose_numbers(markdown: str) -> list[tuple[float, str, bool]]:
    """``(number, context, in_code)`` for each number of a Markdown cell that could be a
    setting; ``in_code``: inside an inline code span."""
    text = _prose(markdown)
    spans = [m.span() for m in re.finditer(r"`[^`\n]+`", text)]
    found = []
    for match in NUMBER.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if CONTEXT.search(before.rstrip("$ ({[*`").rstrip()):
            continue
        if text[match.end() : match.end() + 1] == "^":
            continue  # the base of a power, as in 10^{-8}
        digits, word = match.groups()
        value = WORDS[word.lower()] if word else float(digits.replace(",", ""))
        context = text[max(0, match.start() - 30) : match.end() + 10].replace("\n", " ")
        in_code = any(a < match.start() < b for a, b in spans)
        found.append((value, context, in_code))
    return found


def offending(notebook: pathlib.Path) -> list[str]:
    values, products = config_numbers(notebook)
    hits = []
    for markdown in _cells(notebook, "markdown"):
        for value, context, in_code in prose_numbers(markdown):
            if value in ALLOWED or (1900 <= value <= 2030 and f"({value:g})" in context):
                continue  # allowed, or the year of a citation, "Weng (2018)"
            exempt = EXEMPT.get(notebook.name, [])
            if any(value == v and words in context for v, words, _ in exempt):
                continue
            numbers = values if in_code else values | products
            if any(abs(value - n) <= 1e-12 * max(1.0, abs(n)) for n in numbers):
                hits.append(f"{value:g} in '...{context}...'")
    return hits


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_types_no_config_value(notebook):
    hits = offending(notebook)
    assert not hits, (
        f"{notebook.name}: the prose types numbers that its code defines; print them from "
        f"the code (or say 'the default ..., printed below') instead: {hits}"
    )


def test_the_check_catches_what_it_should(tmp_path):
    """Each kind of config value is found in the prose: a constant, a keyword, a default,
    a product, and a number written as a word; the allowed ones and references are not."""

    def notebook(code, markdown):
        cells = [
            {"cell_type": "code", "source": [code]},
            {"cell_type": "markdown", "source": [markdown]},
        ]
        path = tmp_path / "nb.ipynb"
        path.write_text(json.dumps({"cells": cells}))
        return path

    code = (
        "BUDGET = 40_000\n"
        "agent = ReinforceAgent(space, space, num_envs=8, lr=3e-4)\n"
        "rollout = collect(n_steps=16)\n"
        "plt.plot(x, y, lw=7)\n"
    )
    caught = {
        "a budget of 40,000 steps": "40000",
        "eight copies": "8",
        "a step size of 3e-4": "0.0003",
        "20 baseline steps": "20",  # ReinforceConfig.critic_steps
        "batches of 64 transitions": "64",  # 8 copies times 8 episodes
        "one call per 128 transitions": "128",  # 8 copies times 16 steps
    }
    for sentence, value in caught.items():
        hits = offending(notebook(code, sentence))
        assert hits and hits[0].startswith(value), (sentence, hits)
    for sentence in (
        "the bar is 475 over 100 episodes",
        "see chapter 8 and step 2.3",
        "1. a list item",
        "the post's `[32, 32, 2]`",
        "a line 7 points wide",
        "Watkins (1992)",
        "CartPole-v1 and v0",
        "a floor of $10^{-8}$",  # 10 is a setting below, but here it is the base of a power
    ):
        assert not offending(notebook(code + "SEEDS = 10\n", sentence)), sentence
    # PPO's and SAC's defaults count too (chapters 9 and 10)
    for line, sentence, value in (
        ("agent = PPOAgent(space, space)\n", "ratios clipped at 0.2", "0.2"),
        ("agent = SACAgent(space, space)\n", "a target that trails by 0.005", "0.005"),
    ):
        hits = offending(notebook(line, sentence))
        assert hits and hits[0].startswith(value), (sentence, hits)
