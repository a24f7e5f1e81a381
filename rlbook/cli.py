"""The command line: ``rlbook train``, ``rlbook evaluate`` and ``rlbook bench``.

Also runs as ``python -m rlbook``. The commands call the same code as the notebooks:
:func:`rlbook.envs.make_env`, the agents, :func:`rlbook.train.train` and
:mod:`rlbook.checkpoint`. A round trip::

    rlbook train dqn --env CartPole-v1 --steps 20000 --seed 0 --save ckpt
    rlbook evaluate ckpt --episodes 10

The second command reports the same greedy mean as the first one's final evaluation:
both evaluate on a fresh environment seeded ``seed + 10000``, and the checkpoint holds
the exact weights (and, for tabular Q-learning, the random state that breaks ties).

Algorithm options are generated from each agent's config dataclass: every field
becomes a flag (``hidden`` -> ``--hidden 64,64``, ``double`` -> ``--double`` /
``--no-double``), with the field's docstring as its help, so a new field shows up here
without editing this file.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import os
import sys
import textwrap
import types
import typing

__all__ = ["main", "build_parser", "config_options"]

ALGOS = ("qlearning", "dqn", "reinforce", "actor_critic")

EVAL_SEED_OFFSET = 10_000
"""The final evaluation runs on a fresh environment seeded ``seed + EVAL_SEED_OFFSET`` (as the benchmark's)."""


def _defaults(algo: str) -> dict:
    """The environment, copies and step budget the CLI uses when they are not given."""
    from rlbook.bench import DQN_ENVS, PG_ENVS

    return {
        "qlearning": {"env": "FrozenLake-v1", "num_envs": 1, "steps": 60_000},
        "dqn": {"env": "CartPole-v1", "num_envs": DQN_ENVS, "steps": 50_000},
        "reinforce": {"env": "CartPole-v1", "num_envs": PG_ENVS, "steps": 300_000},
        "actor_critic": {"env": "CartPole-v1", "num_envs": PG_ENVS, "steps": 100_000},
    }[algo]


class CLIError(Exception):
    """A mistake in the command's arguments, reported as ``rlbook: error: ...`` with exit code 2."""


# -- flags from config dataclasses ---------------------------------------------------------


def field_docs(config_cls) -> dict[str, str]:
    """Each field's docstring (the string literal under it in the class body), on one line.

    Fields a base dataclass defines (the tabular agents share theirs) keep its docstrings.
    """
    docs: dict[str, str] = {}
    for cls in reversed(config_cls.__mro__):
        if dataclasses.is_dataclass(cls):
            docs.update(_own_field_docs(cls))
    return docs


def _own_field_docs(config_cls) -> dict[str, str]:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(config_cls)))
    except (OSError, TypeError, SyntaxError):  # no source available: flags without help text
        return {}
    body = tree.body[0].body
    docs = {}
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = " ".join(following.value.value.replace("``", "").split())
    return docs


def _parse_tuple(item_type):
    def parse(text: str) -> tuple:
        parts = [p for p in text.replace(" ", ",").split(",") if p]
        try:
            return tuple(item_type(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {item_type.__name__} values such as 64,64, got {text!r}") from None

    return parse


def _optional(convert):
    def parse(text: str):
        return None if text.lower() == "none" else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def _converter(tp) -> tuple[typing.Callable | None, str]:
    """(string -> value, metavar) for a field type; ``None`` for booleans (on/off flags)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"cannot make a flag for the type {tp}")
        convert, metavar = _converter(rest[0])
        return _optional(convert), metavar + "|none"
    if tp is bool:
        return None, ""
    if typing.get_origin(tp) is tuple:
        return _parse_tuple(args[0]), f"{args[0].__name__.upper()},..."
    if tp in (int, float, str):
        return tp, tp.__name__.upper()
    raise TypeError(f"cannot make a flag for the type {tp}")


def config_options(parser: argparse.ArgumentParser, config_cls, skip: tuple[str, ...] = ("seed",)) -> list[str]:
    """Add one flag per field of ``config_cls`` to ``parser``; returns the field names added.

    Defaults are not copied into the parser (``argparse.SUPPRESS``): a flag that is not
    given leaves the dataclass's own default in force, and the help shows that default.
    """
    hints = typing.get_type_hints(config_cls)
    docs = field_docs(config_cls)
    group = parser.add_argument_group(f"{config_cls.__name__} options (hyperparameters)")
    names = []
    for f in dataclasses.fields(config_cls):
        if f.name in skip:
            continue
        convert, metavar = _converter(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        help_text = f"{docs.get(f.name, '')} (default: {shown})".replace("%", "%%")
        flag = "--" + f.name.replace("_", "-")
        if convert is None:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                               help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=convert, metavar=metavar, default=argparse.SUPPRESS,
                               help=help_text)
        names.append(f.name)
    return names


# -- the parser ------------------------------------------------------------------------------


def _kwarg(text: str) -> tuple[str, typing.Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # keep it a string
    return key, value


def _floats(text: str) -> list[float]:
    try:
        return [float(p) for p in text.replace(" ", ",").split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The ``rlbook`` argument parser (sub-commands ``train``, ``evaluate`` and ``bench``)."""
    from rlbook import __version__
    from rlbook.checkpoint import config_class

    parser = argparse.ArgumentParser(
        prog="rlbook",
        description="Train, evaluate and benchmark the agents of the rlbook deep RL book.",
        epilog="Example: rlbook train dqn --env CartPole-v1 --steps 20000 --seed 0 --save ckpt && "
               "rlbook evaluate ckpt --episodes 10",
    )
    parser.add_argument("--version", action="version", version=f"rlbook {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train_p = commands.add_parser(
        "train", help="train an agent, evaluate it greedily, optionally save a checkpoint",
        description="Train ALGO on a Gymnasium environment, then evaluate its greedy policy on a fresh "
                    "environment (seeded SEED + 10000) and print a one-line summary. "
                    "`rlbook train ALGO --help` lists ALGO's hyperparameters.",
    )
    algos = train_p.add_subparsers(dest="algo", metavar="ALGO", required=True)
    for algo in ALGOS:
        config_cls = config_class(algo)
        d = _defaults(algo)
        p = algos.add_parser(
            algo, help=(config_cls.__doc__ or "").strip().splitlines()[0],
            description=f"Train {algo}. {(config_cls.__doc__ or '').strip()} Flags below that are not given keep "
                        "the config's default.",
        )
        run = p.add_argument_group("run")
        run.add_argument("--env", default=d["env"], metavar="ID", help="Gymnasium environment id (default: %(default)s)")
        run.add_argument("--env-kwarg", dest="env_kwargs", type=_kwarg, action="append", default=[],
                         metavar="KEY=VALUE",
                         help="extra gymnasium.make argument, e.g. is_slippery=False (repeatable)")
        run.add_argument("--steps", type=int, default=None, metavar="N",
                         help=f"environment-step budget (default {d['steps']:,} unless --episodes is given)")
        run.add_argument("--episodes", type=int, default=None, metavar="N",
                         help="episode budget (with --steps too, training stops at whichever comes first)")
        run.add_argument("--seed", type=int, default=0, help="seed of the environments and of the agent (default: %(default)s)")
        run.add_argument("--num-envs", type=int, default=d["num_envs"], metavar="N",
                         help="environment copies stepped together (default: %(default)s" + (
                             "; tabular Q-learning needs 1)" if algo == "qlearning" else ")"))
        run.add_argument("--eval-every", type=int, default=None, metavar="N",
                         help="also evaluate greedily every N steps during training (default: only at the end)")
        run.add_argument("--eval-episodes", type=int, default=10, metavar="K",
                         help="greedy episodes per evaluation, including the final one (default: %(default)s)")
        run.add_argument("--stop-at", type=float, default=None, metavar="R",
                         help="stop once an evaluation's mean return reaches R (needs --eval-every)")
        if algo == "qlearning":
            disc = p.add_argument_group("discretizing a Box observation (rlbook.envs.DiscretizedObservationWrapper)")
            disc.add_argument("--bins", type=_parse_tuple(int), default=None, metavar="N[,N...]",
                              help="bins per observation dimension: one number, or one per dimension")
            disc.add_argument("--low", type=_floats, default=None, metavar="X,...",
                              help="lower bounds, one per dimension (default: the space's, if finite)")
            disc.add_argument("--high", type=_floats, default=None, metavar="X,...",
                              help="upper bounds, one per dimension (default: the space's, if finite)")
        out = p.add_argument_group("output")
        out.add_argument("--logdir", default=None, metavar="DIR", help="write TensorBoard scalars to DIR")
        out.add_argument("--save", default=None, metavar="PATH", help="write a checkpoint to PATH (atomically)")
        out.add_argument("--history", default=None, metavar="PATH",
                         help="write the run's history (episode returns, metrics, evaluations) as JSON")
        out.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="progress bar (default: on, unless the environment variable RLBOOK_PROGRESS=0)")
        p.set_defaults(config_fields=config_options(p, config_cls))

    eval_p = commands.add_parser(
        "evaluate", help="load a checkpoint, report its greedy returns, optionally write a GIF",
        description="Load a checkpoint written by `rlbook train --save` (or agent.save), play K greedy "
                    "episodes and report the mean and spread of the return. By default the environment and "
                    "seed are the ones the training run's final evaluation used, so the mean is the same.",
    )
    eval_p.add_argument("path", metavar="PATH", help="the checkpoint file")
    eval_p.add_argument("--episodes", type=int, default=10, metavar="K", help="greedy episodes to play (default: %(default)s)")
    eval_p.add_argument("--env", default=None, metavar="ID",
                        help="environment id (default: the one stored in the checkpoint)")
    eval_p.add_argument("--seed", type=int, default=None,
                        help="evaluation seed (default: the training seed + 10000, as in the training run)")
    eval_p.add_argument("--render", default=None, metavar="OUT.gif",
                        help="also record the first of the greedy episodes as an animated GIF")
    eval_p.add_argument("--fps", type=int, default=30, help="frames per second of the GIF (default: %(default)s)")

    commands.add_parser(
        "bench", help="time-to-solve benchmark on CartPole-v1 (see `rlbook bench --help`)", add_help=False,
        description="Same as python -m rlbook.bench.",
    )
    return parser


# -- building environments -----------------------------------------------------------------------


def make_envs(env_id: str, num_envs: int, seed: int | None, env_kwargs: dict, discretize: dict | None,
              render_mode: str | None = None):
    """One environment (``num_envs == 1``) or a vector of them, with the discretizer if asked."""
    from rlbook.envs import DiscretizedObservationWrapper, make_env, make_vec_env

    kwargs = dict(env_kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if num_envs == 1:
        env = make_env(env_id, seed=seed, **kwargs)
        if discretize is not None:
            n_bins = discretize["bins"][0] if len(discretize["bins"]) == 1 else discretize["bins"]
            env = DiscretizedObservationWrapper(env, n_bins=n_bins, low=discretize.get("low"),
                                                high=discretize.get("high"))
        return env
    if discretize is not None:
        raise CLIError("the discretizing wrapper works on one environment: use --num-envs 1")
    return make_vec_env(env_id, num_envs, seed=seed, **kwargs)


def _spaces(env):
    import gymnasium as gym

    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


# -- commands ------------------------------------------------------------------------------------------


def cmd_train(args) -> int:
    import gymnasium as gym
    import numpy as np

    from rlbook.checkpoint import agent_class, config_class
    from rlbook.train import TrainingDiverged, evaluate, train

    algo = args.algo
    overrides = {name: getattr(args, name) for name in args.config_fields if hasattr(args, name)}
    steps = args.steps if (args.steps is not None or args.episodes is not None) else _defaults(algo)["steps"]
    if args.stop_at is not None and args.eval_every is None:
        raise CLIError("--stop-at needs --eval-every (evaluations decide when to stop)")
    for flag, value in (("--steps", args.steps), ("--episodes", args.episodes), ("--eval-every", args.eval_every),
                        ("--eval-episodes", args.eval_episodes), ("--num-envs", args.num_envs)):
        if value is not None and value < 1:
            raise CLIError(f"{flag} must be a positive integer, got {value}")
    env_kwargs = dict(args.env_kwargs)
    discretize = None
    if algo == "qlearning":
        if args.num_envs != 1:
            raise CLIError("tabular Q-learning steps one environment: use --num-envs 1")
        if args.bins is not None:
            discretize = {"bins": list(args.bins), "low": args.low, "high": args.high}
        elif args.low is not None or args.high is not None:
            raise CLIError("--low/--high need --bins")
    try:
        config = config_class(algo)(seed=args.seed, **overrides)
        env = make_envs(args.env, args.num_envs, args.seed, env_kwargs, discretize)
        eval_seed = args.seed + EVAL_SEED_OFFSET
        obs_space, act_space = _spaces(env)
        kwargs = {} if algo == "qlearning" else {"num_envs": args.num_envs}
        agent = agent_class(algo)(obs_space, act_space, config, **kwargs)
    except gym.error.Error as err:
        raise CLIError(f"cannot make environment {args.env!r}: {err}") from err
    except (TypeError, ValueError) as err:
        hint = ""
        if algo == "qlearning" and isinstance(err, TypeError) and "Discrete observation" in str(err):
            hint = " On the command line: --bins N [--low X,... --high X,...]."
        raise CLIError(f"{err}{hint}") from err

    periodic_eval = make_envs(args.env, 1, eval_seed, env_kwargs, discretize) if args.eval_every else None
    try:
        history = train(agent, env, steps=steps, episodes=args.episodes, eval_env=periodic_eval,
                        eval_every=args.eval_every, eval_episodes=args.eval_episodes, stop_at=args.stop_at,
                        progress=args.progress, logdir=args.logdir)
    except TrainingDiverged as err:
        _write_history(args.history, err.history)
        print(f"rlbook train: {err}", file=sys.stderr)
        if args.save:
            print(f"rlbook train: nothing saved; {args.save} is left as it was", file=sys.stderr)
        return 1

    parts = [f"{algo} on {args.env} (seed {args.seed}): {history.steps:,} steps, {history.episodes:,} episodes, "
             f"{history.train_seconds:.1f} s"]
    if history.episodes:
        last = history.episode_returns[-10:]
        parts.append(f"mean return of the last {len(last)} training episodes {np.mean(last):.2f}")
    if args.save:
        # Saved before the final evaluation, so the checkpoint is exactly the agent evaluated below
        # (tabular Q-learning breaks ties with its random generator, which evaluation advances).
        agent.save(args.save, metadata={
            "env_id": args.env, "env_kwargs": env_kwargs, "discretize": discretize, "seed": args.seed,
            "eval_seed": eval_seed, "steps": history.steps, "episodes": history.episodes,
        })
    if history.interrupted:
        parts.append("interrupted, no final evaluation")
    else:
        returns = evaluate(agent, make_envs(args.env, 1, eval_seed, env_kwargs, discretize), args.eval_episodes)
        history.evaluations.append({"step": history.steps, "train_seconds": history.train_seconds,
                                    "mean": float(returns.mean()), "std": float(returns.std()), "final": True})
        parts.append(f"greedy evaluation over {args.eval_episodes} episodes: mean {returns.mean():.2f}, "
                     f"std {returns.std():.2f}")
    if args.save:
        parts.append(f"saved {args.save}")
    if args.logdir:
        parts.append(f"TensorBoard logs in {args.logdir}")
    _write_history(args.history, history)
    print("; ".join(parts))
    return 130 if history.interrupted else 0


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

    from rlbook.checkpoint import CheckpointError, load, read_header
    from rlbook.train import evaluate

    if args.episodes < 1:
        raise CLIError(f"--episodes must be a positive integer, got {args.episodes}")
    try:
        header = read_header(args.path)
        agent = load(args.path)
    except (CheckpointError, FileNotFoundError) as err:
        print(f"rlbook evaluate: error: {err}", file=sys.stderr)
        return 1
    meta = header.get("metadata") or {}
    env_id = args.env or meta.get("env_id")
    if env_id is None:
        raise CLIError(f"{args.path} does not say which environment it was trained on; pass --env ID")
    same_env = env_id == meta.get("env_id")
    env_kwargs = meta.get("env_kwargs", {}) if same_env else {}
    discretize = meta.get("discretize") if same_env else None
    seed = args.seed if args.seed is not None else meta.get("eval_seed", EVAL_SEED_OFFSET)
    try:
        env = make_envs(env_id, 1, seed, env_kwargs, discretize)
        returns = evaluate(agent, env, args.episodes)
    except gym.error.Error as err:
        raise CLIError(f"cannot make environment {env_id!r}: {err}") from err
    except (TypeError, ValueError, IndexError) as err:
        raise CLIError(f"the checkpoint's agent does not fit {env_id!r}: {err}") from err
    line = (f"{header['algorithm']} from {args.path} on {env_id} (seed {seed}), {args.episodes} greedy episodes: "
            f"mean {returns.mean():.2f}, std {returns.std():.2f}, min {returns.min():.2f}, max {returns.max():.2f}")
    if args.render:
        frames, total = _record(agent, env_id, env_kwargs, discretize, seed)
        _write_gif(frames, args.render, args.fps)
        line += f"; wrote {args.render} ({len(frames)} frames, return {total:.2f})"
    print(line)
    return 0


def _record(agent, env_id, env_kwargs, discretize, seed):
    from rlbook.render import record_episode

    env = make_envs(env_id, 1, seed, env_kwargs, discretize, render_mode="rgb_array")
    reset = getattr(agent, "reset_state", None)
    if reset is not None:
        reset(1)
    # make_envs already reset the environment with the seed; the next reset continues that stream, so
    # the recorded episode is the first one `evaluate` played.
    return record_episode(env, policy=lambda obs: agent.act(obs, greedy=True), max_steps=10_000)


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
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # the benchmark has its own parser
        from rlbook import bench

        return bench.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return cmd_train(args) if args.command == "train" else cmd_evaluate(args)
    except CLIError as err:
        sub = f"{args.command} {args.algo}" if args.command == "train" else args.command
        print(f"rlbook {sub}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
