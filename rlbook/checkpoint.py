"""Checkpoints: one file per saved agent, written atomically, loaded with clear errors.

Every agent has ``agent.save(path)``, ``AgentClass.load(path)`` (a new agent) and
``agent.restore(path)`` (into an agent that already exists, whose architecture must
match). :func:`rlbook.agents.load` returns the right agent whatever the algorithm: it
hands :func:`load` the classes of :data:`rlbook.agents.ALGORITHMS`, the only ones a
checkpoint can name (this module never imports the agents: they import it).

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, each with a CRC):

* ``header``: one JSON string with the format version, the algorithm (its name in
  :data:`rlbook.agents.ALGORITHMS`, which the agent class carries as ``algorithm``), its
  configuration, what the constructor needs (spaces, ``num_envs``), the training
  counters (steps, updates, random generator states), the *architecture signature*
  (the name and shape of every weight) and free-form ``metadata`` (the CLI stores the
  environment there);
* the arrays: ``weights.*`` (network weights or the Q-table), ``optimizer.*`` (Adam's
  step count and moment estimates, so training resumes where it stopped) and, for DQN,
  ``replay.*`` (the filled part of the replay buffer).

Atomic writes: the archive goes to a temporary file in the target's directory, is
flushed and ``fsync``-ed, then ``os.replace`` renames it over the target in one step.
A crash or a KeyboardInterrupt during ``save`` leaves the previous checkpoint intact
and at worst a stray ``.tmp`` file.

What is not saved: the environment (its state and random generator) and, for the
policy-gradient agents, the steps of episodes or rollouts still running. A resumed run
starts new episodes; it continues the learning, not the exact random stream.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "CheckpointError",
    "Checkpointable",
    "save",
    "load",
    "restore",
    "read_header",
]

FORMAT = "rlbook-checkpoint"
VERSION = 2
"""Version 2 (the agents' common vocabulary) reads version 1 files through :func:`_upgrade`."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit what it is loaded into."""


class Checkpointable:
    """``save``, ``load`` and ``restore`` for an agent class, written once for all four agents.

    The agent class names its algorithm (``algorithm``, its key in
    :data:`rlbook.agents.ALGORITHMS`) and its ``config_class``, and supplies three hooks:
    ``_checkpoint(replay) -> (spec, counters, arrays)`` (what to write),
    ``_restore_checkpoint(counters, arrays)`` (put them back), and, when
    its constructor needs more than a flat ``Box`` observation space, a ``Discrete``
    action space and ``num_envs``, its own ``_from_checkpoint_spec(spec, config)``.
    """

    def save(self, path, metadata: dict | None = None, replay: bool = True) -> str:
        """Write the agent to one file at ``path``, atomically (see :func:`rlbook.checkpoint.save`).

        Weights (or the Q-table), optimizer state, configuration and counters are saved, and
        with ``replay=True`` a replay buffer where the agent has one. Episodes still running
        are not: a resumed run starts new ones.
        """
        return save(self, path, metadata, replay=replay)

    @classmethod
    def load(cls, path):
        """A new agent from a file written by :meth:`save` (a checkpoint of another algorithm is
        refused)."""
        return load(path, cls)

    def restore(self, path) -> None:
        """Load a checkpoint into this agent, whose architecture must match (its config is kept)."""
        restore(self, path)

    @classmethod
    def _from_checkpoint_spec(cls, spec: dict, config):
        import gymnasium as gym

        return cls(
            box_from_spec(spec["observation_space"]),
            gym.spaces.Discrete(spec["n_actions"]),
            config,
            num_envs=spec["num_envs"],
        )


# -- which agent is which -------------------------------------------------------------


def algorithm_of(agent_or_class) -> str:
    """The algorithm name an agent (or agent class) writes into its checkpoints."""
    cls = agent_or_class if isinstance(agent_or_class, type) else type(agent_or_class)
    name = getattr(cls, "algorithm", None)
    if not isinstance(name, str):
        raise CheckpointError(f"{cls.__name__} is not one of the book's agents (no algorithm name)")
    return name


# -- writing ----------------------------------------------------------------------------


def save(agent, path: str | os.PathLike, metadata: dict | None = None, replay: bool = True) -> str:
    """Write ``agent`` to ``path`` atomically (the exact path: no extension is added).

    Args:
        agent: one of the book's agents (it provides ``_checkpoint(replay)``, returning
            its constructor spec, counters and arrays).
        path: the file to write; its directory must exist.
        metadata: JSON-serializable extras kept in the header (the CLI stores the
            environment id, its options and the evaluation seed here).
        replay: also save the replay buffer, where the agent has one (DQN), so that
            training resumes with its experience; ``False`` keeps the file small.

    Returns:
        The path written, as a string.
    """
    algorithm = algorithm_of(agent)
    path = _checked_path(path)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict (or None), got {metadata!r:.80}")
    if not isinstance(replay, bool):
        raise TypeError(f"replay must be True or False, got {replay!r}")
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CheckpointError(
            f"cannot save to {path!r}: it is a directory; give a file path such as "
            f"{os.path.join(path, 'agent.ckpt')!r}"
        )
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot save to {path!r}: the directory {os.path.dirname(path) or directory!r} does "
            "not exist (create it first, for example with os.makedirs)"
        )
    spec, counters, arrays = agent._checkpoint(replay=replay)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "algorithm": algorithm,
        "agent_class": type(agent).__name__,
        "config": config_to_json(agent.config),
        "spec": spec,
        "architecture": architecture(spec, arrays),
        "counters": counters,
        "metadata": metadata or {},
        "arrays": sorted(arrays),
    }
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"the checkpoint header is not JSON-serializable ({err}); check metadata={metadata!r}"
        ) from err
    payload = {"header": np.array(text)}
    payload.update({name: np.asarray(value) for name, value in arrays.items()})
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.chmod(
                tmp, _file_mode(path)
            )  # mkstemp makes the file private; give it the usual permissions
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:  # also on KeyboardInterrupt: never leave a half-written target
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return path


def _file_mode(path: str) -> int:
    if os.path.exists(path):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX file systems; not possible on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading ----------------------------------------------------------------------------


# Everything reading a damaged file can raise: a bit flip in a zip entry's header can ask
# for an unknown compression method (NotImplementedError) or a password (RuntimeError),
# break a length field (struct.error, EOFError, OverflowError, MemoryError), a name
# (KeyError, UnicodeDecodeError) or the data (BadZipFile from the CRC, zlib.error, ValueError).
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    RuntimeError,  # NotImplementedError is one
    ValueError,  # json.JSONDecodeError and UnicodeDecodeError are
    OSError,
    EOFError,
    KeyError,
    IndexError,
    OverflowError,
    MemoryError,
)


def _checked_path(path) -> str:
    """``path`` as a string, if it can name a file (a ``str`` or ``os.PathLike``, not empty)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a file path (a str or os.PathLike), got {path!r:.80}")
    path = os.fsdecode(path)
    if not path:
        raise ValueError(f"path must name a file, got {path!r}")
    return path


def _read(path, header_only: bool = False) -> tuple[dict, dict[str, np.ndarray]]:
    path = _checked_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    if os.path.isdir(path):
        raise CheckpointError(f"{path!r} is a directory, not a checkpoint file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy"): name for name in archive.namelist()}
            if "header" not in members:
                raise CheckpointError(
                    f"{path!r} is a NumPy archive but not an rlbook checkpoint (no header)"
                )
            header = json.loads(str(_read_member(archive, members["header"])))
            names = [] if header_only else [name for name in members if name != "header"]
            arrays = {name: _read_member(archive, members[name]) for name in names}
    except CheckpointError:
        raise
    except _UNREADABLE as err:
        raise CheckpointError(
            f"{path!r} is not a readable rlbook checkpoint: it is truncated or corrupt "
            f"({type(err).__name__}: {err})"
        ) from err
    found = header.get("format") if isinstance(header, dict) else type(header).__name__
    if found != FORMAT:
        raise CheckpointError(
            f"{path!r} is not an rlbook checkpoint (its header says {found!r} where {FORMAT!r} "
            "was expected)"
        )
    if header.get("version") not in (1, VERSION):
        raise CheckpointError(
            f"{path!r} has checkpoint format version {header.get('version')!r}; "
            f"this rlbook reads versions 1 and {VERSION}"
        )
    missing = [] if header_only else sorted(set(header.get("arrays", [])) - set(arrays))
    if missing:
        raise CheckpointError(f"{path!r} is incomplete: arrays {missing} are missing")
    try:
        return _upgrade(header), arrays
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(
            f"{path!r} has a malformed header ({type(err).__name__}: {err})"
        ) from err


def _read_member(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    # The whole member is read first, so zipfile checks its CRC before NumPy parses it.
    return np.lib.format.read_array(io.BytesIO(archive.read(name)), allow_pickle=False)


def _upgrade(header: dict) -> dict:
    """A version-1 header in version 2's names (the agents' common vocabulary).

    Version 1 called the tabular agents' step counter ``steps``, DQN's running count of
    gradient steps ``gradient_steps`` (and had no count of training calls), REINFORCE's
    baseline settings ``critic_lr`` and ``critic_steps``, and saved the recurrent DQN
    under ``dqn``.
    """
    for key, kind in (("algorithm", str), ("config", dict), ("spec", dict), ("counters", dict)):
        if not isinstance(header.get(key), kind):
            raise ValueError(f"{key!r} is missing or not a {kind.__name__}")
    if header["version"] == VERSION:
        return header
    header = json.loads(json.dumps(header))  # a copy
    algorithm, config, counters = header["algorithm"], header["config"], header["counters"]
    if algorithm == "dqn" and header.get("agent_class") == "RecurrentDQNAgent":
        algorithm = header["algorithm"] = "recurrent_dqn"
    if algorithm in ("qlearning", "sarsa"):
        counters["env_steps"] = counters.pop("steps")
    if algorithm in ("dqn", "recurrent_dqn"):
        done = counters["gradient_steps_done"] = counters.pop("gradient_steps")
        counters["updates"] = done // config.get("gradient_steps", 16)
    if algorithm == "reinforce":
        for old, new in (("critic_lr", "baseline_lr"), ("critic_steps", "baseline_steps")):
            if old in config:
                config[new] = config.pop(old)
    header["version"] = VERSION
    return header


def read_header(path) -> dict:
    """The JSON header of a checkpoint (algorithm, config, counters, metadata, ...), without reading
    the arrays."""
    return _read(path, header_only=True)[0]


def load(path, agent_class: type | Mapping[str, type]):
    """Build the agent saved at ``path``: same configuration, weights and counters.

    Args:
        path: a file written by ``agent.save``.
        agent_class: the agent class expected (a checkpoint of another algorithm is
            refused with :class:`CheckpointError`), or a mapping from algorithm names
            to the classes allowed (what :func:`rlbook.agents.load` passes). The file
            only ever chooses among these classes.

    Returns:
        A new agent whose greedy actions are exactly those of the saved one.
    """
    header, arrays = _read(path)
    algorithm = header["algorithm"]
    if isinstance(agent_class, Mapping):
        if algorithm not in agent_class:
            raise CheckpointError(
                f"{os.fspath(path)!r} holds an unknown algorithm {algorithm!r}; "
                f"known: {sorted(agent_class)}"
            )
        agent_class = agent_class[algorithm]
    elif algorithm != algorithm_of(agent_class):
        raise CheckpointError(
            f"{os.fspath(path)!r} holds a {algorithm!r} agent ({header.get('agent_class')}), "
            f"expected a {algorithm_of(agent_class)!r} agent; load it with "
            f"rlbook.agents.load(path) or {header.get('agent_class')}.load(path)"
        )
    try:
        config = config_from_json(agent_class.config_class, header["config"])
        agent = agent_class._from_checkpoint_spec(header["spec"], config)
        agent._restore_checkpoint(header["counters"], arrays)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise CheckpointError(
            f"{os.fspath(path)!r} does not describe a {algorithm!r} agent this rlbook can build "
            f"({type(err).__name__}: {err})"
        ) from err
    return agent


def restore(agent, path) -> None:
    """Load the weights and counters saved at ``path`` into an existing ``agent``.

    The agent keeps its own configuration (so training can resume with, say, another
    learning rate); its algorithm and architecture (every weight's name and shape) must
    match the checkpoint's, or :class:`CheckpointError` says what differs.
    """
    header, arrays = _read(path)
    algorithm = algorithm_of(agent)
    if header["algorithm"] != algorithm:
        raise CheckpointError(
            f"{os.fspath(path)!r} holds a {header['algorithm']!r} agent "
            f"({header.get('agent_class')}), expected a {algorithm!r} agent"
        )
    spec, _, own = agent._checkpoint(replay=False)
    check_architecture(architecture(spec, own), header["architecture"], path)
    agent._restore_checkpoint(header["counters"], arrays)


# -- architecture signatures ---------------------------------------------------------------


def architecture(spec: dict, arrays: dict[str, Any]) -> dict:
    """What must match for weights to fit: the constructor spec and each weight's shape.

    ``num_envs`` is left out: the same weights serve any number of environment copies.
    """
    return {
        "spec": {key: value for key, value in spec.items() if key != "num_envs"},
        "weights": [
            [name, list(np.shape(arrays[name]))]
            for name in sorted(arrays)
            if name.startswith("weights.") and not name.startswith("weights.qtable.")
        ],  # a Q-table's size grows with the states seen
    }


def check_architecture(found: dict, saved: dict, path) -> None:
    """Raise :class:`CheckpointError` naming the first difference between two signatures."""
    found, saved = json.loads(json.dumps(found)), json.loads(json.dumps(saved))  # tuples -> lists
    if found == saved:
        return
    for key in sorted(set(found["spec"]) | set(saved["spec"])):
        a, b = found["spec"].get(key), saved["spec"].get(key)
        if a != b:
            raise CheckpointError(
                f"{os.fspath(path)!r} was saved from an agent with {key}={b!r}, "
                f"but this agent has {key}={a!r}"
            )
    mine = {name: tuple(shape) for name, shape in found["weights"]}
    theirs = {name: tuple(shape) for name, shape in saved["weights"]}
    for name in sorted(set(mine) | set(theirs)):
        if mine.get(name) != theirs.get(name):
            raise CheckpointError(
                f"{os.fspath(path)!r} does not fit this agent's architecture: weight {name!r} "
                f"has shape {theirs.get(name, 'missing')} in the checkpoint and "
                f"{mine.get(name, 'missing')} in the agent "
                "(different hidden sizes, dueling head or model_type?)"
            )
    raise CheckpointError(f"{os.fspath(path)!r} does not fit this agent's architecture")


# -- configs -------------------------------------------------------------------------------


def config_to_json(config) -> dict:
    """A frozen config dataclass as a JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_json(config_cls, values: dict):
    """Rebuild a config; lists become tuples (``hidden``); unknown fields are an error."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise CheckpointError(
            f"the checkpoint's configuration has fields {unknown} that {config_cls.__name__} "
            "does not know (saved by another version of rlbook?)"
        )
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return config_cls(**fixed)


# -- helpers the agents use -------------------------------------------------------------------


def box_spec(shape, dtype) -> dict:
    return {"shape": [int(n) for n in shape], "dtype": np.dtype(dtype).name}


def box_from_spec(spec: dict):
    """A ``Box`` with the saved shape and dtype (agents use only those, not the bounds)."""
    import gymnasium as gym

    dtype = np.dtype(spec["dtype"])
    if dtype == np.uint8:
        return gym.spaces.Box(0, 255, tuple(spec["shape"]), dtype)
    return gym.spaces.Box(-np.inf, np.inf, tuple(spec["shape"]), dtype)


def bounds_spec(low, high) -> dict:
    """A bounded ``Box`` action space as a spec: its bounds (continuous-action agents)."""
    return {"low": np.asarray(low).tolist(), "high": np.asarray(high).tolist()}


def box_from_bounds(spec: dict):
    """The float32 ``Box`` of the bounds :func:`bounds_spec` saved."""
    import gymnasium as gym

    return gym.spaces.Box(np.asarray(spec["low"], np.float32), np.asarray(spec["high"], np.float32))


def model_arrays(prefix: str, model) -> dict[str, np.ndarray]:
    """``{prefix.000: weight, ...}`` of a Keras model, in ``model.weights`` order."""
    return {f"{prefix}.{i:03d}": np.asarray(w) for i, w in enumerate(model.get_weights())}


def set_model(prefix: str, model, arrays: dict[str, np.ndarray]) -> None:
    names = sorted(k for k in arrays if k.startswith(prefix + "."))
    model.set_weights([arrays[k] for k in names])


def optimizer_arrays(prefix: str, optimizer) -> dict[str, np.ndarray]:
    """Adam's state (step count and moment estimates); the learning rate comes from the config."""
    return {
        f"{prefix}.{i:03d}": np.asarray(v)
        for i, v in enumerate(optimizer.variables)
        if not v.path.endswith("learning_rate")
    }


def set_optimizer(prefix: str, optimizer, arrays: dict[str, np.ndarray]) -> None:
    for i, v in enumerate(optimizer.variables):
        key = f"{prefix}.{i:03d}"
        if key in arrays:
            if tuple(v.shape) != arrays[key].shape:
                raise CheckpointError(
                    f"optimizer variable {v.path} has shape {tuple(v.shape)}, "
                    f"the checkpoint has {arrays[key].shape}"
                )
            v.assign(arrays[key])


def rng_state(rng) -> dict:
    """A JSON-ready copy of a NumPy ``Generator``'s or ``random.Random``'s state."""
    if isinstance(rng, np.random.Generator):
        return {"numpy": rng.bit_generator.state}
    version, internal, gauss = rng.getstate()
    return {"python": [version, list(internal), gauss]}


def set_rng_state(rng, state: dict) -> None:
    if "numpy" in state:
        rng.bit_generator.state = state["numpy"]
    else:
        version, internal, gauss = state["python"]
        rng.setstate((version, tuple(internal), gauss))
