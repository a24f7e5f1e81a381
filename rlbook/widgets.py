"""Interactive explorers for the notebooks, and their static twins for the HTML book.

Chapter 2 uses :func:`tabular_explorer`: sliders for epsilon, gamma and alpha that
retrain a tabular Q-learning agent on a grid world (CliffWalking by default, a few
tenths of a second per run) and redraw when a slider is released. Readers of the
HTML book have no kernel, so :func:`tabular_small_multiples` draws the same
experiment for a grid of epsilon and gamma values as one static figure.

ipywidgets and matplotlib are imported lazily, so importing rlbook stays headless.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlbook._validate import positive, unit_interval
from rlbook.agents.qlearning import QLearningAgent
from rlbook.envs import make_env
from rlbook.train import History, train

__all__ = [
    "tabular_experiment",
    "tabular_explorer",
    "tabular_small_multiples",
    "grid_info",
    "draw_gamma",
    "gamma_explorer",
    "gamma_small_multiples",
    "gamma_slider",
    "GAMMAS",
]

# The gamma slider's stops: effective horizons 1/(1 - gamma) of 1, 2, 5, 10, 20, 50, ... steps, a
# log scale on which 0.9, 0.99 and 0.999 are each one notch apart from their neighbours, and
# gamma = 1 (no discount) at the end. A linear slider over [0, 1] would give 0.9 to 0.999 a few
# pixels at its right end.
GAMMAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 1.0)


def gamma_slider(gammas: Sequence[float] = GAMMAS, value: float = 0.99, **kwargs):
    """An ``ipywidgets.SelectionSlider`` over ``gammas``, labelled with gamma and its horizon.

    Each notch is one gamma; the readout beside the slider shows it with its effective horizon
    ``1 / (1 - gamma)`` ("0.99 (horizon 100)"), so the scale the student moves along is the
    horizon's. ``value`` must be one of ``gammas``; ``kwargs`` go to the slider.
    """
    import ipywidgets as widgets

    gammas = _numbers("gammas", gammas, unit=True)
    if value not in gammas:
        raise ValueError(f"value={value!r} must be one of gammas={tuple(gammas)}")
    options = [(f"{g:g} (horizon {'inf' if g >= 1 else f'{1 / (1 - g):.0f}'})", g) for g in gammas]
    return widgets.SelectionSlider(options=options, value=value, description="gamma", **kwargs)


def _numbers(name: str, values, unit: bool = False) -> tuple[float, ...]:
    """``values`` as a tuple, if it is a non-empty sequence of numbers (in [0, 1] with ``unit``)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(
            f"{name} must be a non-empty sequence of numbers, such as (0.9, 0.99), got {values!r}"
        )
    for v in values if unit else ():
        unit_interval(f"each of {name}", v)
    return tuple(values)


def grid_info(env) -> tuple[tuple[int, int], dict[int, str], np.ndarray | None]:
    """``(shape, arrows, desc)`` of a toy-text grid world, for :func:`rlbook.plots.q_grid`."""
    from rlbook.plots import CLIFFWALKING_ARROWS, FROZENLAKE_ARROWS

    base = env.unwrapped
    if hasattr(base, "desc"):  # FrozenLake
        return tuple(base.desc.shape), FROZENLAKE_ARROWS, base.desc
    if hasattr(base, "shape") and hasattr(
        base, "_cliff"
    ):  # CliffWalking: build a FrozenLake-like map
        desc = np.full(base.shape, "F")
        desc[base._cliff] = "C"
        desc[base.start_state_index // base.shape[1], base.start_state_index % base.shape[1]] = "S"
        desc[-1, -1] = "G"
        return tuple(base.shape), CLIFFWALKING_ARROWS, desc
    raise ValueError(
        f"{base.spec.id if base.spec else base!r} is not a FrozenLake or CliffWalking grid world"
    )


def tabular_experiment(
    env_id: str = "CliffWalking-v1",
    epsilon: float = 0.1,
    gamma: float = 0.99,
    alpha: float = 0.5,
    episodes: int = 300,
    seed: int = 0,
) -> tuple[QLearningAgent, History]:
    """Train Q-learning with a *constant* epsilon and return the agent and its history.

    A constant epsilon keeps the slider's meaning simple: it is the exploration rate
    during the whole run.
    """
    unit_interval("epsilon", epsilon)  # the config calls it epsilon_start
    env = make_env(env_id, seed=seed)
    agent = QLearningAgent(
        env.observation_space,
        env.action_space,
        alpha=alpha,
        gamma=gamma,
        epsilon_start=epsilon,
        epsilon_schedule="constant",
        seed=seed,
    )
    history = train(agent, env, episodes=episodes, progress=False)
    return agent, history


def _draw(fig, env_id, agent, history, epsilon, gamma, alpha, window=20):
    from rlbook.plots import learning_curve, q_grid

    env = make_env(env_id)
    shape, arrows, desc = grid_info(env)
    fig.clear()
    ax_curve, ax_grid = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    learning_curve(history, window=window, ax=ax_curve)
    ax_curve.set_title(
        f"online return, last {window} episodes: {np.mean(history.episode_returns[-window:]):.1f}",
        fontsize="medium",
    )
    q_grid(
        agent.q_table(env.observation_space.n),
        shape,
        arrows,
        desc=desc,
        ax=ax_grid,
        title=(
            f"greedy policy and max Q  (epsilon={epsilon:.2f}, gamma={gamma:g}, alpha={alpha:.2f})"
        ),
    )
    fig.tight_layout()


def tabular_explorer(env_id: str = "CliffWalking-v1", episodes: int = 300, seed: int = 0):
    """Sliders for epsilon, gamma and alpha; each release retrains and redraws.

    gamma moves along its effective horizon (see :func:`gamma_slider`); epsilon in steps of
    0.01, alpha in steps of 0.05.

    Returns:
        An ``ipywidgets.VBox`` (display it, or leave it as the cell's last line).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    # One slider per row, on a long track (easier to stop at a value), labels aligned.
    common = dict(
        continuous_update=False,
        style={"description_width": "5em"},
        layout=widgets.Layout(width="min(100%, 40em)"),
    )
    eps = widgets.FloatSlider(
        value=0.1, min=0.0, max=0.5, step=0.01, description="epsilon", **common
    )
    gam = gamma_slider(GAMMAS, 0.99, **common)
    alp = widgets.FloatSlider(
        value=0.5, min=0.05, max=1.0, step=0.05, description="alpha", **common
    )
    out = widgets.Output()

    def redraw(_=None):
        agent, history = tabular_experiment(env_id, eps.value, gam.value, alp.value, episodes, seed)
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(11, 3.4))
            _draw(fig, env_id, agent, history, eps.value, gam.value, alp.value)
            plt.show()

    for slider in (eps, gam, alp):
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.VBox([eps, gam, alp]), out])


def tabular_small_multiples(
    epsilons: Sequence[float] = (0.01, 0.1, 0.3),
    gammas: Sequence[float] = (0.5, 0.9, 0.99),
    env_id: str = "CliffWalking-v1",
    alpha: float = 0.5,
    episodes: int = 300,
    seed: int = 0,
):
    """The static view of the explorer: one panel per (epsilon, gamma), greedy policy over max Q.

    Each panel's title gives the mean online return of the last 50 episodes, which
    shows the price of exploring; the colour scale shows how gamma sets the size of
    the values (about ``r / (1 - gamma)``).

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    from rlbook.plots import q_grid

    epsilons, gammas = _numbers("epsilons", epsilons, True), _numbers("gammas", gammas, True)
    env = make_env(env_id)
    shape, arrows, desc = grid_info(env)
    fig, axes = plt.subplots(
        len(gammas),
        len(epsilons),
        figsize=(4.2 * len(epsilons), 1.9 * len(gammas) + 0.6),
        squeeze=False,
    )
    for i, gamma in enumerate(gammas):
        for j, epsilon in enumerate(epsilons):
            agent, history = tabular_experiment(env_id, epsilon, gamma, alpha, episodes, seed)
            online = np.mean(history.episode_returns[-50:])
            q_grid(
                agent.q_table(env.observation_space.n),
                shape,
                arrows,
                desc=desc,
                ax=axes[i, j],
                title=f"eps={epsilon}, gamma={gamma}: online {online:.0f}",
            )
    fig.suptitle(f"{env_id}: Q-learning for {episodes} episodes (alpha={alpha})")
    fig.tight_layout()
    return fig


# -- chapter 3: what gamma does to the Q-values ---------------------------------------


def draw_gamma(gamma: float, axes, episode_length: int = 500) -> None:
    """Two panels for one gamma: the weight of a reward k steps ahead, and CartPole's true Q.

    Left: ``gamma ** k``, with the effective horizon ``1 / (1 - gamma)`` marked.
    Right: with +1 per step until the time limit, the discounted return from a state
    with ``T`` steps left is ``(1 - gamma ** T) / (1 - gamma)``: the value a perfect
    CartPole agent's Q-network must learn. Its ceiling ``1 / (1 - gamma)`` is the
    scale of every Q-value (and of every TD error) during training.
    """
    unit_interval("gamma", gamma)
    positive("episode_length", episode_length, integer=True)
    k = np.arange(episode_length)
    horizon = np.inf if gamma >= 1 else 1.0 / (1.0 - gamma)
    left, right = axes
    left.plot(k, gamma**k)
    if np.isfinite(horizon):
        left.axvline(horizon, color="k", ls="--", lw=1, label=f"1/(1-gamma) = {horizon:.0f}")
        left.legend(fontsize="small")
    left.set_xlabel("steps ahead k")
    left.set_ylabel("weight gamma^k")
    left.set_ylim(0, 1.05)
    left.set_title(f"gamma = {gamma}", fontsize="medium")
    steps_left = np.arange(1, episode_length + 1)
    value = steps_left.astype(float) if gamma >= 1 else (1 - gamma**steps_left) / (1 - gamma)
    right.plot(steps_left, value)
    right.set_xlabel("steps left in the episode")
    right.set_ylabel("true Q of a perfect agent")
    for ax in axes:
        ax.grid(alpha=0.3)


def gamma_explorer(episode_length: int = 500):
    """A gamma slider (redraws on release) for :func:`draw_gamma`; returns an
    ``ipywidgets.VBox``."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    positive("episode_length", episode_length, integer=True)
    slider = gamma_slider(
        [g for g in GAMMAS if 0.5 <= g < 1],
        0.99,
        continuous_update=False,
        layout=widgets.Layout(width="60%"),
    )
    out = widgets.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=(10, 3))
            draw_gamma(slider.value, axes, episode_length)
            fig.tight_layout()
            plt.show()

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, out])


def gamma_small_multiples(gammas: Sequence[float] = (0.9, 0.99, 0.999), episode_length: int = 500):
    """The static view of :func:`gamma_explorer`: one row of two panels per gamma."""
    import matplotlib.pyplot as plt

    gammas = _numbers("gammas", gammas, unit=True)
    positive("episode_length", episode_length, integer=True)
    fig, axes = plt.subplots(len(gammas), 2, figsize=(10, 2.6 * len(gammas)), squeeze=False)
    for gamma, row in zip(gammas, axes):
        draw_gamma(gamma, row, episode_length)
    fig.tight_layout()
    return fig
