import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rlbook.plots import CLIFFWALKING_ARROWS, FROZENLAKE_ARROWS, curves_with_spread, learning_curve, q_grid
from rlbook.train import History


def test_learning_curve_draws_raw_and_rolling_mean():
    ax = learning_curve([1.0, 2.0, 3.0, 4.0], window=2)
    raw, mean = ax.get_lines()
    np.testing.assert_allclose(raw.get_ydata(), [1, 2, 3, 4])
    np.testing.assert_allclose(mean.get_ydata(), [1, 1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match="x must be 'episode' or 'step'"):
        learning_curve([1.0], x="time")


def test_curves_with_spread_averages_seeds():
    a = History(episode_returns=[0.0, 10.0], episode_end_steps=[0, 10])
    b = History(episode_returns=[10.0, 30.0], episode_end_steps=[0, 10])
    ax = curves_with_spread([a, b], window=1, points=3, label="x")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [5.0, 12.5, 20.0])


def test_q_grid_arrows_follow_greedy_action():
    q = np.zeros((4, 4))
    q[0, 2] = 1.0  # state 0: best action 2 (right in FrozenLake)
    q[1, 1] = 1.0  # state 1: down
    ax = q_grid(q, (2, 2), FROZENLAKE_ARROWS)
    texts = {(t.get_position()): t.get_text() for t in ax.texts}
    assert texts[(0, 0)] == "\u2192" and texts[(1, 0)] == "\u2193"
    assert (0, 1) not in texts  # never-updated states get no arrow
    with pytest.raises(ValueError, match="16 states but shape"):
        q_grid(np.zeros((16, 4)), (3, 3), CLIFFWALKING_ARROWS)


def test_tabular_explorer_retrains_on_slider_change(monkeypatch):
    import rlbook.widgets as widgets

    calls = []
    real = widgets.tabular_experiment
    monkeypatch.setattr(widgets, "tabular_experiment", lambda *a: calls.append(a) or real(*a))
    box = widgets.tabular_explorer(episodes=20)
    sliders = box.children[0].children
    assert [s.description for s in sliders] == ["epsilon", "gamma", "alpha"]
    assert all(not s.continuous_update for s in sliders)  # redraw on release only
    sliders[0].value = 0.3
    sliders[1].value = 0.5
    assert [c[1:4] for c in calls] == [(0.1, 0.99, 0.5), (0.3, 0.99, 0.5), (0.3, 0.5, 0.5)]


def test_small_multiples_one_panel_per_pair():
    from rlbook.widgets import tabular_small_multiples

    fig = tabular_small_multiples(epsilons=(0.0, 0.2), gammas=(0.9,), episodes=20)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 2 and titles[0].startswith("eps=0.0, gamma=0.9")
