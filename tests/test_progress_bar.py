"""Training's progress bar ends as what happened, in Jupyter's widget bar (tqdm.notebook).

tqdm.notebook paints a bar that closes before its total red ("danger"), which reads as a failure.
A run that stops because it reached its goal must end complete and not red, saying why; an
interrupted run says so; a diverged run still raises TrainingDiverged.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from rlbook.train import TrainingDiverged, train

pytest.importorskip("ipywidgets")


class Walk(gym.Env):
    """Reward 1 per step, episodes of 5 steps (terminated)."""

    observation_space = gym.spaces.Box(0, 10, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.t], np.float32), 1.0, self.t >= 5, False, {}


class Agent:
    def __init__(self, interrupt_at=None, loss=0.5):
        self.steps, self.interrupt_at, self.loss = 0, interrupt_at, loss

    def act(self, obs, greedy=False):
        if not greedy:
            self.steps += 1
            if self.steps == self.interrupt_at:
                raise KeyboardInterrupt
        return 0

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        return {"loss": self.loss}


@pytest.fixture
def bars(monkeypatch):
    """Every bar train() makes is a tqdm.notebook bar (as in Jupyter), recorded for inspection."""
    import tqdm.auto
    from tqdm.notebook import tqdm as notebook_tqdm

    made = []

    class Recorded(notebook_tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorded)
    return made


def _style(bar) -> str:
    _, widget, _ = bar.container.children
    return widget.bar_style


def test_a_solved_run_ends_with_a_complete_bar_that_says_so(bars):
    history = train(
        Agent(), Walk(), steps=1000, eval_env=Walk(), eval_every=100, stop_at=5.0, progress=True
    )
    assert history.steps == 100 and not history.interrupted
    (bar,) = bars
    _, widget, _ = bar.container.children
    assert bar.n == bar.total == 100 and widget.max == 100 and widget.value == 100  # complete
    assert _style(bar) != "danger", "a solved run must not end red"
    assert bar.leave and "eval_mean=5.0" in bar.postfix and "solved at step 100" in bar.postfix
    assert "solved at step 100" in str(bar)


def test_other_early_stops_say_why(bars):
    train(Agent(), Walk(), steps=1000, episodes=3, progress=True)  # the episode budget comes first
    train(Agent(), Walk(), episodes=10, callback=lambda h: h.episodes == 2, progress=True)
    first, second = bars
    assert first.n == first.total == 15 and _style(first) != "danger"
    assert first.postfix == "episode budget reached at step 15"
    assert second.n == second.total == 2 and _style(second) != "danger"
    assert second.postfix == "stopped by the callback at step 10"


def test_a_full_run_ends_complete_and_clears_its_bar(bars):
    train(Agent(), Walk(), steps=50, progress=True)
    (bar,) = bars
    assert bar.n == bar.total == 50 and _style(bar) != "danger" and not bar.postfix


def test_an_interrupted_run_says_it_was_interrupted(bars, capsys):
    history = train(Agent(interrupt_at=31), Walk(), steps=100, progress=True)
    assert history.interrupted and history.steps == 30
    (bar,) = bars
    assert bar.n == 30 and bar.total == 100  # where it stopped, not completed
    assert bar.leave and bar.postfix == "interrupted at step 30"
    assert "Training interrupted after 30 steps" in capsys.readouterr().out


def test_a_diverged_run_still_raises(bars):
    with pytest.raises(TrainingDiverged, match="loss=nan"):
        train(Agent(loss=math.nan), Walk(), steps=100, progress=True)
    (bar,) = bars
    assert bar.n < bar.total and _style(bar) == "danger"


def test_without_a_bar_the_reasons_cost_nothing():
    history = train(
        Agent(), Walk(), steps=1000, eval_env=Walk(), eval_every=100, stop_at=5.0, progress=False
    )
    assert history.steps == 100
