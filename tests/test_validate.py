"""Every config checks its fields the same way (rlbook._validate.check_config)."""

import dataclasses
import math
import typing

import pytest

from rlbook import _validate
from rlbook._validate import ConfigError, check_config
from rlbook.agents.actor_critic import ActorCriticConfig
from rlbook.agents.dqn import DQNConfig
from rlbook.agents.qlearning import QLearningConfig
from rlbook.agents.reinforce import ReinforceConfig
from rlbook.schedules import SCHEDULES

CONFIGS = [QLearningConfig, DQNConfig, ReinforceConfig, ActorCriticConfig]
NAN, INF = float("nan"), float("inf")


def _bad_values(config_cls) -> list[tuple[str, object, str]]:
    """(field, bad value, words the message must contain) for every field, chosen by its type."""
    hints = typing.get_type_hints(config_cls)
    rows = []
    for f in dataclasses.fields(config_cls):
        tp = hints[f.name]
        base = (
            typing.get_args(tp)[0]
            if typing.get_origin(tp) is not None and f.name != "hidden"
            else tp
        )
        if base is bool:
            rows += [(f.name, 1, "True or False"), (f.name, "yes", "True or False")]
        elif base is int:
            rows += [
                (f.name, True, "integer"),
                (f.name, 2.0, "integer"),
                (f.name, "3", "integer"),
                (f.name, -3, "integer"),
            ]
        elif base is float:
            rows += [
                (f.name, NAN, "not finite"),
                (f.name, INF, "not finite"),
                (f.name, -INF, "not finite"),
                (f.name, "0.5", "number"),
                (f.name, True, "number"),
                (f.name, -1.5, "number"),
            ]
        elif base is str:
            rows += [
                (f.name, "no-such-choice", "one of" if f.name != "baseline" else "'value'"),
                (f.name, 3, ""),
            ]
        elif f.name == "hidden":
            rows += [
                ("hidden", 64, "tuple of positive integers"),
                ("hidden", (0,), "tuple of positive integers"),
                ("hidden", (), "at least one"),
                ("hidden", (64, -1), "tuple of positive integers"),
                ("hidden", (64.0,), "tuple of positive integers"),
                ("hidden", "64,64", "tuple"),
            ]
        else:  # pragma: no cover - a new annotation needs a row here
            raise AssertionError(f"no bad values for {config_cls.__name__}.{f.name}: {tp}")
    return rows


CASES = [(cls, name, value, words) for cls in CONFIGS for name, value, words in _bad_values(cls)]


@pytest.mark.parametrize(
    "config_cls, name, value, words", CASES, ids=[f"{c.__name__}-{n}-{v!r}" for c, n, v, _ in CASES]
)
def test_every_config_rejects_bad_values_naming_the_field(config_cls, name, value, words):
    with pytest.raises(ConfigError) as err:
        config_cls(**{name: value})
    message = str(err.value)
    assert message.startswith(f"{name} must be "), message
    assert words in message and repr(value) in message, message


@pytest.mark.parametrize("config_cls", CONFIGS)
def test_the_same_field_is_checked_the_same_way_in_every_config(config_cls):
    for name, value in [
        ("seed", -3),
        ("gamma", 1.5),
        ("gamma", -0.1),
        ("gamma", NAN),
        ("hidden", 64),
        ("hidden", (0,)),
        ("hidden", ()),
        ("entropy_coef", -0.1),
        ("epsilon_start", 1.2),
        ("epsilon_end", -0.2),
        ("epsilon_decay_steps", -1),
        ("epsilon_schedule", "cosine"),
    ]:
        if name not in {f.name for f in dataclasses.fields(config_cls)}:
            continue
        with pytest.raises(ConfigError) as err:
            config_cls(**{name: value})
        expected = {
            "seed": "seed must be an integer from 0 to 2**32 - 1 (or None), got -3",
            "gamma": f"gamma must be a number in [0, 1], got {value!r}",
        }.get(name, f"{name} must be ")
        assert str(err.value).startswith(expected), str(err.value)


def test_the_cases_named_in_the_issue():
    for config_cls, kw, message in [
        (
            DQNConfig,
            dict(hidden=64),
            "hidden must be a tuple of positive integers, at least one (units per layer, "
            "such as (64, 64)), got 64",
        ),
        (DQNConfig, dict(hidden=(0,)), "got (0,)"),
        (
            QLearningConfig,
            dict(seed=-3),
            "seed must be an integer from 0 to 2**32 - 1 (or None), got -3",
        ),
        (DQNConfig, dict(seed=-3), "seed must be an integer from 0 to 2**32 - 1 (or None), got -3"),
        (
            DQNConfig,
            dict(model_type="cnn"),
            "model_type must be one of 'dense', 'conv', 'lstm', got 'cnn'",
        ),
        (DQNConfig, dict(loss="l1"), "loss must be one of 'huber', 'mse', got 'l1'"),
        (
            ReinforceConfig,
            dict(baseline="critic"),
            "baseline must be None or 'value', got 'critic'",
        ),
        (QLearningConfig, dict(alpha=0.0), "alpha must be a number in (0, 1], got 0.0"),
        (DQNConfig, dict(tau=0.0), "tau must be a number in (0, 1], got 0.0"),
        (
            ActorCriticConfig,
            dict(max_grad_norm=0.0),
            "max_grad_norm must be a positive number (or None), got 0.0",
        ),
        (DQNConfig, dict(lr=INF), "lr must be a positive number, got inf (not finite)"),
    ]:
        with pytest.raises(ConfigError) as err:
            config_cls(**kw)
        assert message in str(err.value), (config_cls.__name__, kw, str(err.value))


def test_config_error_is_both_a_value_error_and_a_type_error():
    for kw in (dict(gamma=2.0), dict(hidden=64)):
        with pytest.raises(ValueError):
            ReinforceConfig(**kw)
        with pytest.raises(TypeError):
            ReinforceConfig(**kw)


def test_good_values_pass_and_are_kept():
    for config_cls in CONFIGS:
        config_cls()  # the defaults are valid
    assert DQNConfig(hidden=[32, 16]).hidden == (
        32,
        16,
    )  # a list becomes the tuple a frozen config needs
    assert DQNConfig(seed=None, gamma=0, lr=1).gamma == 0
    assert ReinforceConfig(baseline=None).baseline is None
    assert ActorCriticConfig(max_grad_norm=None, entropy_coef=0.0).max_grad_norm is None
    assert QLearningConfig(alpha=1.0, epsilon_decay_steps=0).alpha == 1.0


def test_cross_field_rule_still_applies():
    with pytest.raises(ValueError, match=r"batch_size \(100\) must not exceed buffer_size \(50\)"):
        DQNConfig(batch_size=100, buffer_size=50)


def test_shared_schedule_names_match_the_schedules_module():
    assert set(
        _validate.FIELD_RULES["epsilon_schedule"]
        .accepted.replace("one of ", "")
        .replace("'", "")
        .split(", ")
    ) == set(SCHEDULES)


def test_a_new_field_is_checked_by_its_type_and_rules_must_fit_the_type():
    @dataclasses.dataclass(frozen=True)
    class NewConfig:
        units: int = 4
        rate: float = 0.5
        flag: bool = False
        seed: int | None = 0

        def __post_init__(self):
            check_config(self)

    with pytest.raises(ConfigError, match="units must be a positive integer, got 0"):
        NewConfig(units=0)
    with pytest.raises(
        ConfigError, match=r"rate must be a positive number, got nan \(not finite\)"
    ):
        NewConfig(rate=math.nan)
    with pytest.raises(ConfigError, match="flag must be True or False, got 'no'"):
        NewConfig(flag="no")

    @dataclasses.dataclass(frozen=True)
    class Mistaken:
        units: int = 4

        def __post_init__(self):
            check_config(self, units=_validate.PROBABILITY)  # a float rule on an int field

    with pytest.raises(TypeError, match="the rule for Mistaken.units is for float values"):
        Mistaken()

    @dataclasses.dataclass(frozen=True)
    class Typo:
        units: int = 4

        def __post_init__(self):
            check_config(self, unit=_validate.COUNT)

    with pytest.raises(TypeError, match=r"Typo has no field\(s\) \['unit'\]"):
        Typo()


def test_a_config_prints_within_79_columns_and_reads_back():
    from rlbook.agents import ALGORITHMS

    for algorithm in ALGORITHMS.values():
        config = algorithm.config_class(seed=3)
        text = repr(config)
        assert max(len(line) for line in text.splitlines()) <= 79, text
        assert text.startswith(type(config).__name__ + "(") and "seed=3" in text
        assert eval(text, {type(config).__name__: type(config)}) == config
    long = ALGORITHMS["dqn"].config_class()
    assert len(repr(long).splitlines()) > 1  # wrapped, continuation lines under the first field
    assert repr(long).splitlines()[1].startswith(" " * len("DQNConfig(") + "gamma")
