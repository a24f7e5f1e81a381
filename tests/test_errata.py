"""The seed post's remaining bugs, each shown, and each absent from the book's code.

The errata boxes of chapters 2, 5, 6 and 7 name these tests:

* the wrapper snippet (chapter 2) uses ``np``, ``Box`` and ``Discrete`` without importing them;
* the dueling, REINFORCE and actor-critic snippets (chapters 5-7) call
  ``dense_nn(..., name=...)``, a keyword that the post's own ``dense_nn(inputs, layers_sizes,
  scope_name)`` does not take;
* the REINFORCE loop (chapter 6) rebinds the ``actions`` and ``returns`` placeholders to lists,
  then uses them as ``feed_dict`` keys.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import json
import pathlib
import subprocess
import symtable
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


# --- chapter 2: the wrapper's imports ---------------------------------------------------


def unresolved_globals(module) -> set[str]:
    """Names that the module's code reads as globals but neither defines nor imports."""
    source = inspect.getsource(module)
    table = symtable.symtable(source, module.__file__, "exec")
    known = set(vars(module)) | set(dir(builtins))
    missing: set[str] = set()

    def visit(t):
        for sym in t.get_symbols():
            if sym.is_referenced() and (sym.is_global() or t.get_type() == "module"):
                if not sym.is_assigned() and not sym.is_imported() and sym.get_name() not in known:
                    missing.add(sym.get_name())
        for child in t.get_children():
            visit(child)

    visit(table)
    return missing


def test_unresolved_globals_finds_the_posts_missing_imports():
    """The post's wrapper, as printed: only ``import gym``, then ``np``, ``Box``, ``Discrete``."""
    snippet = (
        "import gym\n"
        "class DiscretizedObservationWrapper(gym.ObservationWrapper):\n"
        "    def __init__(self, env, n_bins=10, low=None, high=None):\n"
        "        assert isinstance(env.observation_space, Box)\n"
        "        self.val_bins = [np.linspace(l, h, n_bins + 1) for l, h in zip(low, high)]\n"
        "        self.observation_space = Discrete(n_bins ** len(low))\n"
    )
    module = type(sys)("post_wrapper")
    module.__file__ = "post_wrapper.py"
    module.__dict__["gym"] = pytest.importorskip("gymnasium")
    inspect_getsource = inspect.getsource
    try:
        inspect.getsource = lambda m: snippet  # the snippet has no file to read
        assert unresolved_globals(module) == {"Box", "np", "Discrete"}
    finally:
        inspect.getsource = inspect_getsource


def test_wrapper_module_imports_every_name_it_uses():
    envs = importlib.import_module("rlbook.envs")
    assert unresolved_globals(envs) == set()


def test_wrapper_works_in_a_fresh_interpreter():
    """The wrapper from a plain import in a new process, with the post's plain-list bounds."""
    code = (
        "from rlbook.envs import DiscretizedObservationWrapper, make_env\n"
        "env = DiscretizedObservationWrapper(make_env('CartPole-v1', seed=0), n_bins=8,\n"
        "    low=[-2.4, -2.0, -0.42, -3.5], high=[2.4, 2.0, 0.42, 3.5])\n"
        "obs, _ = env.reset()\n"
        "assert env.observation_space.contains(obs), obs\n"
        "print(env.observation_space.n)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == str(8**4)


# --- chapters 5-7: dense_nn(..., name=) ---------------------------------------------------


def post_dense_nn(inputs, layers_sizes, scope_name):
    """The post's helper's signature (its body is TensorFlow 1)."""


def builder_calls(tree: ast.AST, builders: set[str]):
    """``(name, n_positional, keywords, line)`` of every call of a builder, without
    ``*``/``**``; a plain name that is also a function's parameter (``q_network`` handed to
    a learning step) is that parameter, not the builder."""
    parameters = {
        a.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.arguments)
        for a in node.args + node.kwonlyargs + node.posonlyargs
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in builders or (isinstance(func, ast.Name) and name in parameters):
            continue
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            continue
        yield name, len(node.args), [k.arg for k in node.keywords], getattr(node, "lineno", 0)


def _binds(func, n_positional, keywords) -> bool:
    try:
        inspect.signature(func).bind(*[None] * n_positional, **dict.fromkeys(keywords))
    except TypeError:
        return False
    return True


def test_the_posts_dense_nn_call_does_not_bind():
    call = ast.parse("q_hidden = dense_nn(states, [32], name='Q_primary_hidden')")
    ((name, n, kws, _),) = builder_calls(call, {"dense_nn"})
    assert not _binds(post_dense_nn, n, kws)
    with pytest.raises(TypeError, match="unexpected keyword argument 'name'"):
        post_dense_nn("states", [32], name="Q_primary_hidden")


def _sources():
    for path in sorted((ROOT / "rlbook").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                lines = [
                    line
                    for line in "".join(cell["source"]).splitlines()
                    if not line.lstrip().startswith(("%", "!"))
                ]
                yield f"{path.name} cell {i}", "\n".join(lines)


def test_every_network_builder_call_matches_its_signature():
    nets = importlib.import_module("rlbook.nets")
    builders = {
        name: f
        for name, f in vars(nets).items()
        if inspect.isfunction(f) and f.__module__ == nets.__name__ and not name.startswith("_")
    }
    assert {"mlp", "q_network"} <= set(builders)
    checked, bad = 0, []
    for where, source in _sources():
        for name, n, kws, line in builder_calls(ast.parse(source), set(builders)):
            checked += 1
            if not _binds(builders[name], n, kws):
                bad.append(f"{where}, line {line}: {name}({n} positional, {kws})")
    assert checked >= 5, "no builder calls found: has rlbook.nets changed?"
    assert not bad, f"calls that do not match their builder's signature: {bad}"


# --- chapter 6: the REINFORCE placeholders -----------------------------------------------


def test_reinforce_placeholders_overwritten_by_lists():
    """The post's loop, with objects standing in for its placeholders: the feed fails."""

    class Placeholder:  # hashable, like a tf.Tensor of TensorFlow 1
        pass

    states, actions, returns = Placeholder(), Placeholder(), Placeholder()
    # One episode of the post's loop: the names are rebound to lists ...
    obs, actions, rewards, returns = [], [], [], []
    for ob, a, r in [(np.zeros(4), 0, 1.0), (np.ones(4), 1, 1.0)]:
        obs.append(ob)
        actions.append(a)
        rewards.append(r)
    return_so_far = 0.0
    for r in rewards[::-1]:
        return_so_far = 0.99 * return_so_far + r
        returns.append(return_so_far)
    returns = returns[::-1]
    # ... and then used as the keys of the feed.
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        {states: np.array(obs), actions: np.array(actions), returns: np.array(returns)}  # noqa: B018


def test_reinforce_trains_through_several_updates():
    """The book's REINFORCE keeps its data apart from the learning step's inputs: update after
    update runs, one episode each."""
    from rlbook.agents.reinforce import ReinforceAgent
    from rlbook.envs import make_env
    from rlbook.train import train

    env = make_env("CartPole-v1", seed=3)
    agent = ReinforceAgent(
        env.observation_space, env.action_space, num_envs=1, batch_episodes=1, seed=3
    )
    history = train(agent, env, episodes=4, progress=False)
    assert history.episodes == 4
    assert agent.updates == 4
