"""Checkpoints: one file per saved agent, written atomically, loaded with clear errors.

Every agent has ``agent.save(path)``, ``AgentClass.load(path)`` (a new agent) and
``agent.restore(path)`` (into an agent that already exists, whose architecture must
match). :func:`load` here returns the right agent whatever the algorithm.

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, each with a CRC):

* ``header``: one JSON string with the format version, the algorithm, its
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
import importlib
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

__all__ = [
    "CheckpointError",
    "Checkpointable",
    "save",
    "load",
    "restore",
    "read_header",
    "ALGORITHMS",
]

FORMAT = "rlbook-checkpoint"
VERSION = 1

ALGORITHMS: dict[str, str] = {
    "qlearning": "rlbook.agents.qlearning:QLearningAgent:QLearningConfig",
    "sarsa": "rlbook.agents.sarsa:SarsaAgent:SarsaConfig",
    "dqn": "rlbook.agents.dqn:DQNAgent:DQNConfig",
    "reinforce": "rlbook.agents.reinforce:ReinforceAgent:ReinforceConfig",
    "actor_critic": "rlbook.agents.actor_critic:ActorCriticAgent:ActorCriticConfig",
}
"""Algorithm name -> ``module:AgentClass:ConfigClass``."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit what it is loaded into."""


class Checkpointable:
    """``save``, ``load`` and ``restore`` for an agent class, written once for all four agents.

    The agent supplies three hooks: ``_checkpoint(replay) -> (spec, counters, arrays)``
    (what to write), ``_restore_checkpoint(counters, arrays)`` (put them back), and, when
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
        return load(path, expect=cls)

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


def agent_class(algorithm: str):
    """The agent class registered under ``algorithm`` (imported on demand)."""
    return _registered(algorithm)[0]


def config_class(algorithm: str):
    """The config dataclass of ``algorithm``'s agent (imported on demand)."""
    return _registered(algorithm)[1]


def _registered(algorithm: str):
    if algorithm not in ALGORITHMS:
        raise CheckpointError(f"unknown algorithm {algorithm!r}; known: {sorted(ALGORITHMS)}")
    module, agent, config = ALGORITHMS[algorithm].split(":")
    module = importlib.import_module(module)
    return getattr(module, agent), getattr(module, config)


def algorithm_of(agent_or_class) -> str:
    """The registered algorithm name of an agent or agent class."""
    cls = agent_or_class if isinstance(agent_or_class, type) else type(agent_or_class)
    for klass in cls.__mro__:  # a subclass (the recurrent DQN) belongs to its base's algorithm
        for algorithm, target in ALGORITHMS.items():
            module, name, _ = target.split(":")
            if klass.__module__ == module and klass.__name__ == name:
                return algorithm
    raise CheckpointError(f"{cls.__name__} is not a registered agent; known: {sorted(ALGORITHMS)}")


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
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
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


def _read(path, header_only: bool = False) -> tuple[dict, dict[str, np.ndarray]]:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "header" not in archive.files:
                raise CheckpointError(
                    f"{path!r} is a NumPy archive but not an rlbook checkpoint (no header)"
                )
            header = json.loads(str(archive["header"]))
            names = [] if header_only else [name for name in archive.files if name != "header"]
            arrays = {name: archive[name] for name in names}  # reading each member checks its CRC
    except CheckpointError:
        raise
    except (
        zipfile.BadZipFile,
        ValueError,
        OSError,
        EOFError,
        KeyError,
        json.JSONDecodeError,
    ) as err:
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
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{path!r} has checkpoint format version {header.get('version')!r}; "
            f"this rlbook reads version {VERSION}"
        )
    missing = [] if header_only else sorted(set(header.get("arrays", [])) - set(arrays))
    if missing:
        raise CheckpointError(f"{path!r} is incomplete: arrays {missing} are missing")
    return header, arrays


def read_header(path) -> dict:
    """The JSON header of a checkpoint (algorithm, config, counters, metadata, ...), without reading
    the arrays."""
    return _read(path, header_only=True)[0]


def load(path, expect: str | type | None = None):
    """Build the agent saved at ``path``: same configuration, weights and counters.

    Args:
        path: a file written by ``agent.save``.
        expect: an algorithm name (``"dqn"``) or agent class; a checkpoint of another
            algorithm is then refused with :class:`CheckpointError`.

    Returns:
        A new agent whose greedy actions are exactly those of the saved one.
    """
    header, arrays = _read(path)
    algorithm = header["algorithm"]
    if expect is not None:
        wanted = expect if isinstance(expect, str) else algorithm_of(expect)
        if wanted != algorithm:
            raise CheckpointError(
                f"{os.fspath(path)!r} holds a {algorithm!r} agent ({header.get('agent_class')}), "
                f"expected a {wanted!r} agent; load it with rlbook.checkpoint.load(path) or "
                f"{agent_class(algorithm).__name__}.load(path)"
            )
    config = config_from_json(config_class(algorithm), header["config"])
    agent = agent_class(algorithm)._from_checkpoint_spec(header["spec"], config)
    agent._restore_checkpoint(header["counters"], arrays)
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
