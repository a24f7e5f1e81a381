"""The command line: ``rlbook train``, ``rlbook evaluate`` and ``rlbook bench``.

Also runs as ``python -m rlbook``. The commands call the same code as the notebooks:
:func:`rlbook.envs.make_env`, the agents, :func:`rlbook.train.train` and
:mod:`rlbook.checkpoint`. A round trip::

    rlbook train dqn --env CartPole-v1 --steps 20000 --seed 0 --save ckpt
    rlbook evaluate ckpt --episodes 10

The second command reports the same greedy mean as the first one's final evaluation:
both evaluate on a fresh environment seeded ``seed + 10000``, and the checkpoint holds
the exact weights (and, for tabular Q-learning, the random state that breaks ties).

The algorithms are those of :data:`rlbook.agents.ALGORITHMS`, with its default environment,
copies and step budget. The flags come from dataclasses, turned into a parser by ``tyro``:
the run options below, and every field of the algorithm's config dataclass
(``hidden`` -> ``--hidden 64 64``, ``double`` -> ``--double`` / ``--no-double``), with the
field's docstring as its help, so a field added to a config shows up here without editing this file.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, Union

import gymnasium
import tyro

from rlbook._validate import non_negative_int

__all__ = ["main"]

EVAL_SEED_OFFSET = 10_000
"""The final evaluation's environment is seeded ``seed + EVAL_SEED_OFFSET`` (as the benchmark's)."""


class CLIError(Exception):
    """A mistake in the command's arguments, reported as ``rlbook: error: ...`` with exit code 2."""


# -- the commands' options, as dataclasses (tyro makes the flags and their help) -----------


def _flag(metavar: str | None = None, *, default_in_doc: bool = False):
    """A flag's metavar, and no "(default: ...)" from tyro when the docstring says the default."""
    return tyro.conf.arg(metavar=metavar, help_behavior_hint="" if default_in_doc else None)


@dataclass
class RunOptions:
    """What to train on, for how long, and how to evaluate."""

    env: Annotated[str, _flag("ID")] = "CartPole-v1"
    """Gymnasium environment id."""
    env_kwarg: Annotated[tuple[str, ...], tyro.conf.UseAppendAction, _flag("KEY=VALUE")] = ()
    """Extra gymnasium.make argument, e.g. is_slippery=False."""
    steps: Annotated[int | None, _flag("N")] = None
    """Environment-step budget."""
    episodes: Annotated[int | None, _flag("N", default_in_doc=True)] = None
    """Episode budget (with --steps too, training stops at whichever comes first)."""
    seed: int = 0
    """Seed of the environments and of the agent."""
    max_episode_steps: Annotated[int | None, _flag("N", default_in_doc=True)] = None
    """Cut every episode (training and evaluation) at N steps (default: the environment's own time
    limit, or 10,000 steps if it has none, so a policy that goes round in circles cannot hang the
    run)."""
    num_envs: Annotated[int, _flag("N")] = 1
    """Environment copies stepped together."""
    eval_every: Annotated[int | None, _flag("N", default_in_doc=True)] = None
    """Also evaluate greedily every N steps during training (default: only at the end)."""
    eval_episodes: Annotated[int, _flag("K")] = 10
    """Episodes per evaluation, including the final greedy and stochastic ones."""
    stop_at: Annotated[float | None, _flag("R", default_in_doc=True)] = None
    """Stop once an evaluation's mean return reaches R (needs --eval-every)."""


@dataclass
class OutputOptions:
    """What to write."""

    logdir: Annotated[str | None, _flag("DIR", default_in_doc=True)] = None
    """Write TensorBoard scalars to DIR."""
    save: Annotated[str | None, _flag("PATH", default_in_doc=True)] = None
    """Write a checkpoint to PATH (atomically)."""
    history: Annotated[str | None, _flag("PATH", default_in_doc=True)] = None
    """Write the run's history (episode returns, metrics, evaluations) as JSON."""
    progress: Annotated[bool, _flag(default_in_doc=True)] = True
    """Progress bar (default: on, unless the environment variable RLBOOK_PROGRESS=0)."""


@dataclass
class DiscretizeOptions:
    """Discretizing a Box observation for the table (rlbook.envs.DiscretizedObservationWrapper)."""

    bins: Annotated[tuple[int, ...], _flag("N [N ...]", default_in_doc=True)] = ()
    """Bins per observation dimension: one number, or one per dimension (default: no wrapper)."""
    low: Annotated[tuple[float, ...], _flag("X [X ...]", default_in_doc=True)] = ()
    """Lower bounds, one per dimension (default: the space's, if finite)."""
    high: Annotated[tuple[float, ...], _flag("X [X ...]", default_in_doc=True)] = ()
    """Upper bounds, one per dimension (default: the space's, if finite)."""


@dataclass
class EvaluateCommand:
    """Load a checkpoint written by `rlbook train --save` (or agent.save), play K episodes and
    report the mean and spread of the return. By default the environment and seed are the ones
    the training run's final evaluation used, so the greedy mean is the same."""

    path: Annotated[str, tyro.conf.Positional, _flag("PATH")]
    """The checkpoint file."""
    episodes: Annotated[int, _flag("K")] = 10
    """Episodes to play."""
    env: Annotated[str | None, _flag("ID", default_in_doc=True)] = None
    """Environment id (default: the one stored in the checkpoint)."""
    seed: Annotated[int | None, _flag("SEED", default_in_doc=True)] = None
    """Evaluation seed (default: the training seed + 10000, as in the training run)."""
    stochastic: bool = False
    """Play the policy's own sampling (epsilon-greedy at the agent's current epsilon for DQN and
    Q-learning) instead of its greedy actions."""
    render: Annotated[str | None, _flag("OUT.gif", default_in_doc=True)] = None
    """Also record the first episode as an animated GIF."""
    fps: int = 30
    """Frames per second of the GIF."""


@dataclass
class BenchCommand:
    """Time-to-solve benchmark on CartPole-v1: python -m rlbook.bench (`rlbook bench --help`)."""


def _train_command(algo: str, env_id: str | None = None) -> type:
    """The options of ``rlbook train ALGO``: run, output, (discretizer,) and the config's fields.

    On ``env_id`` (the ``--env`` of the command line), the defaults are the registry's preset
    for that environment, if it has one (:attr:`rlbook.agents.Algorithm.presets`): a flag given
    on the command line still wins, and ``--help`` shows the preset's values as the defaults.
    The config's own ``seed`` is hidden: ``--seed`` (a run option) seeds the environments and
    the agent.
    """
    import typing

    from rlbook.agents import ALGORITHMS

    entry = ALGORITHMS[algo]
    config_cls = entry.config_class
    env_id = env_id or entry.env
    overrides, num_envs, budget = entry.settings(env_id)
    # The run and output options with this algorithm's defaults (the docstrings are inherited).
    steps_hint = f"(default: {budget:,} unless --episodes is given)"
    steps = Annotated[int | None, tyro.conf.arg(metavar="N", help_behavior_hint=steps_hint)]
    progress = os.environ.get("RLBOOK_PROGRESS", "1") != "0"
    run = dataclasses.make_dataclass("run", [
        ("env", Annotated[str, _flag("ID")], field(default=env_id)),
        ("steps", steps, field(default=None)),
        ("num_envs", Annotated[int, _flag("N")], field(default=num_envs)),
    ], bases=(RunOptions,))  # fmt: skip
    output = dataclasses.make_dataclass("output", [
        ("progress", Annotated[bool, _flag(default_in_doc=True)], field(default=progress)),
    ], bases=(OutputOptions,))  # fmt: skip
    # The flags' values are checked when cmd_train builds the real config (no __post_init__ here),
    # so a bad value gets this CLI's one-line error rather than tyro's report of a failed parse.
    # A preset's fields are declared again with the preset's value as their default.
    hints = typing.get_type_hints(config_cls)
    preset_fields = [(name, hints[name], field(default=value)) for name, value in overrides.items()]
    hyper = dataclasses.make_dataclass(config_cls.__name__, [
        *preset_fields,
        ("seed", Annotated[int | None, tyro.conf.Suppress], field(default=0)),
    ], bases=(config_cls,), frozen=True, namespace={"__post_init__": lambda _: None})  # fmt: skip
    hyper.__doc__ = "Hyperparameters (flags not given keep the config's default)."
    if overrides:
        hyper.__doc__ = (
            f"Hyperparameters. The defaults shown are the preset for {env_id} "
            f"({_describe_preset(entry, env_id)}); flags given win over it."
        )
        note = entry.preset(env_id).note
        hyper.__doc__ += f" The preset: {note}." if note else ""
    fields = [("run", run), ("output", output)]
    if entry.tabular:
        fields.append(("discretize", DiscretizeOptions))
    fields.append(("config", Annotated[hyper, tyro.conf.arg(name=f"{config_cls.__name__}")]))
    return dataclasses.make_dataclass(f"train_{algo}", fields)


def _describe_preset(entry, env_id: str) -> str:
    """The preset of ``entry`` for ``env_id`` as flags: ``--num-envs 16, --gamma 0.999, ...``."""
    preset = entry.preset(env_id)
    parts = [f"--num-envs {preset.num_envs}"] if preset.num_envs else []
    parts += [f"--steps {preset.steps}"] if preset.steps else []
    for name, value in preset.config.items():
        shown = " ".join(map(str, value)) if isinstance(value, tuple) else value
        parts.append(f"--{name.replace('_', '-')} {shown}")
    return ", ".join(parts)


def _env_in(argv: list[str]) -> str | None:
    """The value of ``--env`` in ``argv`` (its last use), to pick the preset before parsing."""
    env = None
    for i, arg in enumerate(argv):
        if arg == "--env" and i + 1 < len(argv):
            env = argv[i + 1]
        elif arg.startswith("--env="):
            env = arg.split("=", 1)[1]
    return env


def _command_type(env_id: str | None = None):
    """The whole command line as one type: ``train ALGO``, ``evaluate`` or ``bench``.

    ``env_id`` is the ``--env`` given, if any: it picks each algorithm's preset defaults.
    """
    from rlbook.agents import ALGORITHMS

    algos = []
    for algo, entry in ALGORITHMS.items():
        # one paragraph, as --help prints it: the docstring's line breaks and ``literals`` go
        doc = " ".join((entry.config_class.__doc__ or "").replace("``", "").split())
        if entry.presets:
            doc += (
                " Presets (with --env ID, flags given win): "
                + "; ".join(f"{env}: {_describe_preset(entry, env)}" for env in entry.presets)
                + "."
            )
        algos.append(
            Annotated[
                _train_command(algo, env_id),
                tyro.conf.subcommand(
                    algo,
                    description=f"{doc} Evaluated at the end greedily and with its own sampling.",
                ),
            ]
        )
    train = dataclasses.make_dataclass("train", [("algo", Union[tuple(algos)])])  # noqa: UP007
    return Union[  # noqa: UP007
        Annotated[
            train,
            tyro.conf.subcommand(
                "train",
                description="Train ALGO on a Gymnasium environment, evaluate it, print a one-line "
                "summary. `rlbook train ALGO --help` lists ALGO's hyperparameters.",
            ),
        ],
        Annotated[EvaluateCommand, tyro.conf.subcommand("evaluate")],
        Annotated[BenchCommand, tyro.conf.subcommand("bench")],
    ]


def _kwarg(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise CLIError(f"--env-kwarg expects KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # keep it a string
    return key, value


# -- building environments -----------------------------------------------------------------------


def make_envs(
    env_id: str,
    num_envs: int,
    seed: int | None,
    env_kwargs: dict,
    discretize: dict | None,
    render_mode: str | None = None,
):
    """One environment (``num_envs == 1``) or a vector of them, with the discretizer if asked."""
    from rlbook.envs import (
        DiscreteTupleWrapper,
        DiscretizedObservationWrapper,
        make_env,
        make_vec_env,
    )

    # make_env gives an environment without a time limit one of MAX_EPISODE_STEPS: an endless
    # episode would hang the run.
    kwargs = dict(env_kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if num_envs == 1:
        env = make_env(env_id, seed=seed, **kwargs)
        if discretize is not None and discretize.get("tuple"):
            return DiscreteTupleWrapper(env)  # Blackjack's (sum, card, ace) numbered for a table
        if discretize is not None:
            n_bins = discretize["bins"][0] if len(discretize["bins"]) == 1 else discretize["bins"]
            env = DiscretizedObservationWrapper(
                env, n_bins=n_bins, low=discretize.get("low"), high=discretize.get("high")
            )
        return env
    if discretize is not None:
        raise CLIError("the discretizing wrapper works on one environment: use --num-envs 1")
    return make_vec_env(env_id, num_envs, seed=seed, **kwargs)


def _check_output_file(flag: str, path: str | None) -> None:
    """Refuse a file path that cannot be written: a directory, or one in a missing directory."""
    if path is None:
        return
    if os.path.isdir(path):
        raise CLIError(f"{flag} {path} is a directory; give a file path such as {path}/run.ckpt")
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        raise CLIError(f"{flag} {path}: the directory {directory} does not exist")


def _spaces(env):
    import gymnasium as gym

    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


# -- commands ------------------------------------------------------------------------------


def cmd_train(algo: str, args) -> int:
    """``rlbook train ALGO``: ``args`` has ``run``, ``output``, ``config`` (and ``discretize``)."""
    import gymnasium as gym
    import numpy as np

    from rlbook.agents import ALGORITHMS
    from rlbook.envs import DiscreteTupleWrapper
    from rlbook.train import TrainingDiverged, evaluate, train

    entry = ALGORITHMS[algo]
    run, out = args.run, args.output
    budget = entry.settings(run.env)[2]  # the preset's budget on this environment, if it has one
    steps = run.steps if (run.steps is not None or run.episodes is not None) else budget
    if run.stop_at is not None and run.eval_every is None:
        raise CLIError("--stop-at needs --eval-every (evaluations decide when to stop)")
    if run.stop_at is not None and not math.isfinite(run.stop_at):
        raise CLIError(f"--stop-at must be a finite number (a mean return), got {run.stop_at}")
    # Where the run writes is checked before it trains, not after minutes of training.
    _check_output_file("--save", out.save)
    _check_output_file("--history", out.history)
    if out.logdir is not None and os.path.exists(out.logdir) and not os.path.isdir(out.logdir):
        raise CLIError(f"--logdir {out.logdir} is a file; give a directory")
    for flag, value in (
        ("--steps", run.steps),
        ("--episodes", run.episodes),
        ("--eval-every", run.eval_every),
        ("--eval-episodes", run.eval_episodes),
        ("--num-envs", run.num_envs),
        ("--max-episode-steps", run.max_episode_steps),
    ):
        if value is not None and value < 1:
            raise CLIError(f"{flag} must be a positive integer, got {value}")
    env_kwargs = dict(_kwarg(text) for text in run.env_kwarg)
    if run.max_episode_steps is not None:
        env_kwargs["max_episode_steps"] = run.max_episode_steps
    discretize = None
    if entry.tabular:
        if run.num_envs != 1:
            raise CLIError(f"{entry.agent_class.__name__} steps one environment: use --num-envs 1")
        d = args.discretize
        if d.bins:
            discretize = {
                "bins": list(d.bins),
                "low": list(d.low) or None,
                "high": list(d.high) or None,
            }
        elif d.low or d.high:
            raise CLIError("--low/--high need --bins")
    config_cls = entry.config_class
    try:
        values = {f.name: getattr(args.config, f.name) for f in dataclasses.fields(config_cls)}
        config = config_cls(**{**values, "seed": run.seed})
        env = make_envs(run.env, run.num_envs, run.seed, env_kwargs, discretize)
        tuples = DiscreteTupleWrapper.fits(env.observation_space)  # Blackjack's, for a table
        if entry.tabular and discretize is None and tuples:
            discretize = {"tuple": True}  # recorded in the checkpoint, so evaluate numbers them too
            env = DiscreteTupleWrapper(env)
        eval_seed = run.seed + EVAL_SEED_OFFSET
        obs_space, act_space = _spaces(env)
        kwargs = {} if entry.tabular else {"num_envs": run.num_envs}
        agent = entry.agent_class(obs_space, act_space, config, **kwargs)
    except gym.error.Error as err:
        raise CLIError(f"cannot make environment {run.env!r}: {err}") from err
    except (TypeError, ValueError) as err:
        hint = ""
        if entry.tabular and isinstance(err, TypeError) and "Discrete observation" in str(err):
            hint = " On the command line: --bins N [N ...] [--low X ... --high X ...]."
        elif entry.tabular and "DiscreteTupleWrapper" in str(err):
            hint = " On the command line: leave out --bins (the tuples are numbered)."
        elif "RecurrentDQNAgent(...)" in str(err):
            hint = " On the command line: rlbook train recurrent_dqn."
        raise CLIError(f"{err}{hint}") from err

    periodic_eval = (
        make_envs(run.env, 1, eval_seed, env_kwargs, discretize) if run.eval_every else None
    )
    try:
        history = train(
            agent,
            env,
            steps=steps,
            episodes=run.episodes,
            eval_env=periodic_eval,
            eval_every=run.eval_every,
            eval_episodes=run.eval_episodes,
            stop_at=run.stop_at,
            progress=out.progress,
            logdir=out.logdir,
        )
    except TrainingDiverged as err:
        _write_history(out.history, err.history)
        print(f"rlbook train: {err}", file=sys.stderr)
        if out.save:
            print(f"rlbook train: nothing saved; {out.save} is left as it was", file=sys.stderr)
        return 1

    parts = [
        f"{algo} on {run.env} (seed {run.seed}): {history.steps:,} steps, "
        f"{history.episodes:,} episodes, "
        f"{history.train_seconds:.1f} s"
    ]
    if history.episodes:
        last = history.episode_returns[-10:]
        parts.append(f"mean return of the last {len(last)} training episodes {np.mean(last):.2f}")
    if out.save:
        # Saved before the final evaluation, so the checkpoint is exactly the agent evaluated below
        # (tabular Q-learning breaks ties with its random generator, which evaluation advances).
        agent.save(
            out.save,
            metadata={
                "env_id": run.env,
                "env_kwargs": env_kwargs,
                "discretize": discretize,
                "seed": run.seed,
                "eval_seed": eval_seed,
                "steps": history.steps,
                "episodes": history.episodes,
            },
        )
    if history.interrupted:
        parts.append("interrupted, no final evaluation")
    else:
        # Greedy first (what `rlbook evaluate` reproduces), then the policy as it acted in training.
        for greedy in (True, False):
            env = _CutCounter(make_envs(run.env, 1, eval_seed, env_kwargs, discretize))
            returns = evaluate(agent, env, run.eval_episodes, greedy=greedy)
            history.evaluations.append(
                {
                    "step": history.steps,
                    "train_seconds": history.train_seconds,
                    "mean": float(returns.mean()),
                    "std": float(returns.std()),
                    "final": True,
                    "greedy": greedy,
                    "cut": env.cuts,
                }
            )
            how = "greedy evaluation" if greedy else f"stochastic evaluation ({_sampling(agent)})"
            parts.append(
                f"{how} over {run.eval_episodes} episodes: mean {returns.mean():.2f}, "
                f"std {returns.std():.2f}, {env.cuts} cut by the time limit"
            )
    if out.save:
        parts.append(f"saved {out.save}")
    if out.logdir:
        parts.append(f"TensorBoard logs in {out.logdir}")
    _write_history(out.history, history)
    print("; ".join(parts))
    return 130 if history.interrupted else 0


class _CutCounter(gymnasium.Wrapper):
    """Counts the episodes the time limit cut (truncated, not terminated).

    On CartPole a cut episode is a success; on Acrobot, MountainCar or Taxi it is a policy that
    never reached the goal, often a greedy one going round a loop (printed next to the mean so
    the two cases can be told apart).
    """

    cuts = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.cuts += bool(truncated and not terminated)
        return obs, reward, terminated, truncated, info


def _sampling(agent) -> str:
    """How ``agent.act(obs, greedy=False)`` chooses, in words."""
    epsilon = getattr(agent, "epsilon", None)
    if epsilon is not None:
        return f"epsilon-greedy, epsilon {epsilon:.3g}"
    return "actions sampled from the policy"


def _write_history(path, history) -> None:
    if not path:
        return
    data = dataclasses.asdict(history)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def cmd_evaluate(args) -> int:
    import gymnasium as gym

    from rlbook.agents import load
    from rlbook.checkpoint import CheckpointError, read_header
    from rlbook.train import evaluate

    if args.episodes < 1:
        raise CLIError(f"--episodes must be a positive integer, got {args.episodes}")
    if args.seed is not None:
        try:
            non_negative_int("--seed", args.seed)
        except ValueError as err:
            raise CLIError(str(err)) from None
    if args.render is not None:
        if args.fps < 1:
            raise CLIError(f"--fps must be a positive integer, got {args.fps}")
        _check_output_file("--render", args.render)
    try:
        header = read_header(args.path)
        agent = load(args.path)
    except FileNotFoundError as err:  # a path that is wrong: a bad argument, like --save's
        raise CLIError(str(err)) from None
    except CheckpointError as err:  # a file that is not a readable checkpoint
        print(f"rlbook evaluate: error: {err}", file=sys.stderr)
        return 1
    meta = header.get("metadata") or {}
    env_id = args.env or meta.get("env_id")
    if env_id is None:
        raise CLIError(
            f"{args.path} does not say which environment it was trained on; pass --env ID"
        )
    same_env = env_id == meta.get("env_id")
    env_kwargs = meta.get("env_kwargs", {}) if same_env else {}
    discretize = meta.get("discretize") if same_env else None
    seed = args.seed if args.seed is not None else meta.get("eval_seed", EVAL_SEED_OFFSET)
    try:
        env = _CutCounter(make_envs(env_id, 1, seed, env_kwargs, discretize))
        returns = evaluate(agent, env, args.episodes, greedy=not args.stochastic)
    except gym.error.Error as err:
        raise CLIError(f"cannot make environment {env_id!r}: {err}") from err
    except (TypeError, ValueError, IndexError) as err:
        raise CLIError(f"the checkpoint's agent does not fit {env_id!r}: {err}") from err
    how = f"stochastic episodes ({_sampling(agent)})" if args.stochastic else "greedy episodes"
    line = (
        f"{header['algorithm']} from {args.path} on {env_id} (seed {seed}), {args.episodes} {how}: "
        f"mean {returns.mean():.2f}, std {returns.std():.2f}, "
        f"min {returns.min():.2f}, max {returns.max():.2f}, {env.cuts} cut by the time limit"
    )
    if args.render:
        frames, total = _record(
            agent, env_id, env_kwargs, discretize, seed, greedy=not args.stochastic
        )
        _write_gif(frames, args.render, args.fps)
        line += f"; wrote {args.render} ({len(frames)} frames, return {total:.2f})"
    print(line)
    return 0


def _record(agent, env_id, env_kwargs, discretize, seed, greedy=True):
    from rlbook.render import record_episode

    env = make_envs(env_id, 1, seed, env_kwargs, discretize, render_mode="rgb_array")
    reset = getattr(agent, "reset_state", None)
    if reset is not None:
        reset(1)
    # make_envs already reset the environment with the seed; the next reset continues that stream,
    # so
    # the recorded episode is the first one `evaluate` played (greedy; a stochastic one differs).
    return record_episode(env, policy=lambda obs: agent.act(obs, greedy=greedy), max_steps=10_000)


def _write_gif(frames, path: str, fps: int, max_width: int = 320) -> None:
    """An animated GIF, scaled to at most ``max_width`` pixels wide, written atomically."""
    from PIL import Image

    if fps < 1:
        raise CLIError(f"--fps must be a positive integer, got {fps}")
    images = [Image.fromarray(f) for f in frames]
    w, h = images[0].size
    if w > max_width:
        images = [im.resize((max_width, max(1, round(h * max_width / w)))) for im in images]
    tmp = f"{path}.tmp"
    images[0].save(
        tmp,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
    )
    os.replace(tmp, path)


def _one_line_value_errors(argv: list[str]):
    """While tyro parses, a value it cannot convert (``--steps abc``) raises :class:`CLIError`.

    Without this tyro draws a box of a dozen lines with no ``error:`` line; with it the
    mistake reads like a bad config value: ``rlbook train dqn: error: --steps expects an
    integer, got 'abc'``. The hook is tyro's ``on_parse_error``, where tyro has it; with an
    older tyro, its box stays.
    """
    import contextlib

    try:
        from tyro import _errors
    except ImportError:
        return contextlib.nullcontext()
    if not hasattr(_errors, "on_parse_error"):
        return contextlib.nullcontext()

    def hook(event) -> None:
        argument = getattr(event, "argument", None)
        if argument is None:
            return  # unknown flags, missing arguments: tyro's message suggests the fix
        flag = argument.display_name()
        if isinstance(event, _errors.InvalidChoice):
            raise CLIError(f"{flag} must be one of {', '.join(event.choices)}, got {event.value!r}")
        if isinstance(event, (_errors.InstantiationFailure, _errors.BadValue)):
            given = _tokens_after(flag, argv)
            got = f", got {' '.join(given)!r}" if given else ", got nothing"
            raise CLIError(f"{flag} expects {_kind(argument.field.type_stripped)}{got}")

    return _errors.on_parse_error(hook)


def _tokens_after(flag: str, argv: list[str]) -> list[str]:
    """The values given to ``flag`` on the command line (its last use)."""
    if flag not in argv:
        return []
    start = len(argv) - argv[::-1].index(flag)
    end = next((i for i in range(start, len(argv)) if argv[i].startswith("--")), len(argv))
    return argv[start:end]


def _kind(type_) -> str:
    """What a value of ``type_`` looks like, in words (``int | None`` -> "an integer")."""
    import types
    import typing

    args = [a for a in typing.get_args(type_) if a is not type(None)]
    if typing.get_origin(type_) in (typing.Union, types.UnionType) and len(args) == 1:
        return _kind(args[0])
    if typing.get_origin(type_) is tuple:
        return f"one or more {_kind(args[0]).split(' ', 1)[-1]}s" if args else "values"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        type_, getattr(type_, "__name__", str(type_))
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # the benchmark has its own parser
        from rlbook import bench

        return bench.main(argv[1:])
    if argv[:1] == ["--version"]:
        from rlbook import __version__

        print(f"rlbook {__version__}")
        return 0
    sub = " ".join(argv[:2]) if argv[:1] == ["train"] else "evaluate"
    try:
        # --help, unknown flags and missing arguments are tyro's: it prints them and exits
        # (SystemExit, code 0 or 2). A value of the wrong type is reported here, as one line.
        with _one_line_value_errors(argv):
            args = tyro.cli(
                _command_type(_env_in(argv) if argv[:1] == ["train"] else None),
                prog="rlbook",
                args=argv,
                config=(tyro.conf.OmitArgPrefixes,),
                description="Train, evaluate and benchmark the agents of the rlbook deep RL "
                "book. Example: rlbook train dqn --env CartPole-v1 --steps 20000 --seed 0 "
                "--save ckpt && rlbook evaluate ckpt --episodes 10",
            )
        if isinstance(args, EvaluateCommand):
            return cmd_evaluate(args)
        return cmd_train(type(args.algo).__name__.removeprefix("train_"), args.algo)
    except CLIError as err:
        print(f"rlbook {sub}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before or after training (train itself stops cleanly on Ctrl-C)
        print(f"rlbook {sub}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
