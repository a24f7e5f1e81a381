import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rlbook.plots import (
    CLIFFWALKING_ARROWS,
    FROZENLAKE_ARROWS,
    curves_with_spread,
    learning_curve,
    q_grid,
)
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


def test_gamma_slider_steps_along_the_horizon():
    from rlbook.widgets import GAMMAS, gamma_slider

    slider = gamma_slider()
    values = [value for _, value in slider.options]
    assert list(values) == list(GAMMAS) and slider.value == 0.99
    horizons = [1 / (1 - g) for g in values if g < 1]
    ratios = np.diff(np.log10(horizons))
    assert np.all(ratios > 0) and np.all(ratios <= np.log10(2.5) + 1e-9)  # a 1-2-5 log scale
    index = {v: i for i, v in enumerate(values)}
    # 0.9, 0.99 and 0.999 are each a notch of their own, three notches apart: easy to hit.
    assert index[0.99] - index[0.9] == 3 and index[0.999] - index[0.99] == 3
    assert len(values) <= 12
    labels = dict((v, label) for label, v in slider.options)
    assert labels[0.99] == "0.99 (horizon 100)" and labels[0.9] == "0.9 (horizon 10)"
    assert labels[1.0] == "1 (horizon inf)" and labels[0.0] == "0 (horizon 1)"
    with pytest.raises(ValueError, match="must be one of gammas"):
        gamma_slider(value=0.97)


def test_tabular_explorer_sliders_keep_sensible_steps(monkeypatch):
    import rlbook.widgets as widgets

    drawn = []
    monkeypatch.setattr(widgets, "_draw", lambda fig, *args: drawn.append(args[-3:]))
    eps, gam, alp = widgets.tabular_explorer(episodes=5).children[0].children
    assert (eps.min, eps.max, eps.step) == (0.0, 0.5, 0.01)
    assert (alp.min, alp.max, alp.step) == (0.05, 1.0, 0.05)
    assert [v for _, v in gam.options] == list(widgets.GAMMAS) and not gam.continuous_update
    gam.value = 0.999  # one of the stops: retrains and redraws with it
    assert drawn == [(0.1, 0.99, 0.5), (0.1, 0.999, 0.5)]


def test_gamma_explorer_redraws_with_the_chosen_gamma(monkeypatch):
    import rlbook.widgets as widgets

    drawn = []
    real = widgets.draw_gamma
    monkeypatch.setattr(widgets, "draw_gamma", lambda g, *a: drawn.append(g) or real(g, *a))
    slider, _ = widgets.gamma_explorer().children
    assert [v for _, v in slider.options] == [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]
    slider.value = 0.999
    slider.value = 0.9
    assert drawn == [0.99, 0.999, 0.9]
