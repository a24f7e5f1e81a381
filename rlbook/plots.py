"""Plotting helpers that keep the notebooks short (matplotlib is imported lazily).

* :func:`learning_curve` - raw episode returns and their rolling mean (every chapter);
* :func:`curves_with_spread` - mean and spread over seeds, against steps or seconds
  (chapters 6-8);
* :func:`q_grid` - a grid world's state values ``max_a Q(s, a)`` with the greedy
  action drawn as an arrow in each cell (chapter 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rlbook._validate import positive

__all__ = [
    "learning_curve",
    "curves_with_spread",
    "q_grid",
    "FROZENLAKE_ARROWS",
    "CLIFFWALKING_ARROWS",
]

# Gymnasium's action numbering differs between the two toy-text grid worlds.
FROZENLAKE_ARROWS = {0: "\u2190", 1: "\u2193", 2: "\u2192", 3: "\u2191"}  # left, down, right, up
CLIFFWALKING_ARROWS = {0: "\u2191", 1: "\u2192", 2: "\u2193", 3: "\u2190"}  # up, right, down, left


def _axes(ax, figsize=(6, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def learning_curve(
    history, window: int = 100, ax=None, label: str | None = None, x: str = "episode", color=None
):
    """Plot each episode's return (faint) and the rolling mean over ``window`` episodes.

    Args:
        history: a :class:`rlbook.train.History` or a sequence of episode returns.
        window: episodes in the rolling mean.
        ax: the matplotlib axes to draw on (a new figure if ``None``).
        label: legend label of the rolling mean.
        x: ``"episode"`` (episode index) or ``"step"`` (environment steps, needs a History).

    Returns:
        The axes.
    """
    from rlbook.train import History

    positive("window", window, integer=True)
    if isinstance(history, History):
        hist = history
    else:
        try:
            hist = History(episode_returns=[float(r) for r in history])
        except (TypeError, ValueError):
            raise TypeError(
                "history must be a rlbook.train.History or a sequence of episode returns "
                f"(numbers), got {history!r:.80}"
            ) from None
        if x == "step":
            raise ValueError(
                "x='step' needs a History (it knows the step at which each episode ended); a "
                "sequence of returns can only be drawn against x='episode'"
            )
    ax = _axes(ax)
    returns = np.asarray(hist.episode_returns, dtype=float)
    if x == "episode":
        xs = np.arange(1, returns.size + 1)
    elif x == "step":
        xs = np.asarray(hist.episode_end_steps)
    else:
        raise ValueError(f"x must be 'episode' or 'step', got {x!r}")
    line = ax.plot(xs, returns, alpha=0.25, lw=0.8, color=color)[0]
    ax.plot(
        xs,
        hist.rolling_mean(window),
        lw=2,
        color=line.get_color(),
        label=label or f"mean of last {window}",
    )
    ax.set_xlabel("episode" if x == "episode" else "environment steps")
    ax.set_ylabel("return")
    ax.grid(alpha=0.3)
    if label is not None or ax.get_legend() is None:
        ax.legend(loc="best", fontsize="small")
    return ax


def curves_with_spread(
    histories: Sequence,
    label: str | None = None,
    x: str = "step",
    ax=None,
    points: int = 100,
    window: int = 20,
    color=None,
):
    """Mean (line) and min-max spread (band) of several seeds' learning curves.

    Each history's rolling-mean return (over ``window`` episodes) is interpolated
    onto a common grid of ``points`` x-values, from 0 to the smallest final x among
    the runs, so every point averages the same number of seeds.

    Args:
        histories: :class:`rlbook.train.History` objects, one per seed.
        x: ``"step"`` (environment steps) or ``"seconds"`` (training wall-clock time).

    Returns:
        The axes.
    """
    from rlbook.train import History

    if x not in ("step", "seconds"):
        raise ValueError(f"x must be 'step' or 'seconds', got {x!r}")
    if isinstance(histories, History):
        raise TypeError(
            "histories must be a sequence of History objects, one per seed; got one History "
            "(pass [history])"
        )
    histories = list(histories)
    for h in histories:
        if not isinstance(h, History):
            raise TypeError(
                "histories must be a sequence of rlbook.train.History objects, got an item "
                f"{h!r:.60}"
            )
    positive("window", window, integer=True)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    ax = _axes(ax)
    runs = []
    for h in histories:
        xs = np.asarray(h.episode_end_steps if x == "step" else h.episode_end_seconds, dtype=float)
        if xs.size:
            runs.append((xs, h.rolling_mean(window)))
    if not runs:
        raise ValueError("curves_with_spread needs at least one history with a finished episode")
    grid = np.linspace(0, min(xs[-1] for xs, _ in runs), points)
    ys = np.stack([np.interp(grid, xs, y) for xs, y in runs])
    line = ax.plot(
        grid,
        ys.mean(axis=0),
        lw=2,
        label=f"{label} ({len(runs)} seeds)" if label else None,
        color=color,
    )[0]
    ax.fill_between(grid, ys.min(axis=0), ys.max(axis=0), alpha=0.2, color=line.get_color())
    ax.set_xlabel("environment steps" if x == "step" else "training seconds")
    ax.set_ylabel(f"return (mean of last {window} episodes)")
    ax.grid(alpha=0.3)
    if label:
        ax.legend(loc="best", fontsize="small")
    return ax


def q_grid(
    q_table: np.ndarray,
    shape: tuple[int, int],
    arrows: dict[int, str],
    ax=None,
    title: str | None = None,
    desc=None,
    cmap: str = "viridis",
    annotate: bool = True,
):
    """Draw ``max_a Q(s, a)`` of a grid world as a heatmap with the greedy action in each cell.

    Args:
        q_table: Q-values of shape ``(rows * cols, n_actions)``; state ``s`` is the cell
            ``(s // cols, s % cols)``, as in Gymnasium's FrozenLake and CliffWalking.
        shape: ``(rows, cols)`` of the grid.
        arrows: action -> arrow character (:data:`FROZENLAKE_ARROWS`, :data:`CLIFFWALKING_ARROWS`).
        desc: optional map of cell letters (FrozenLake's ``env.unwrapped.desc``, or
            :func:`rlbook.widgets.grid_info`'s map of CliffWalking); holes ``H``, cliff
            cells ``C`` and the goal ``G`` are labelled instead of an arrow. Cells whose
            Q-values were never updated are grey.
        annotate: write the arrows (turn off for very small panels).

    Returns:
        The axes.
    """
    import matplotlib
    from matplotlib import patheffects

    try:
        q_table = np.asarray(q_table, dtype=float)
    except (TypeError, ValueError):
        q_table = None
    if q_table is None or q_table.ndim != 2:
        raise ValueError(
            "q_table must be an array of Q-values of shape (n_states, n_actions), such as "
            "agent.q_table(env.observation_space.n)"
        )
    if not (
        isinstance(shape, (tuple, list))
        and len(shape) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise ValueError(
            f"shape must be (rows, cols) of the grid, two positive integers; got {shape!r}"
        )
    rows, cols = shape
    if not isinstance(arrows, Mapping):
        raise TypeError(
            f"arrows must be a dict action -> arrow, such as FROZENLAKE_ARROWS, got {arrows!r:.60}"
        )
    missing = [a for a in range(q_table.shape[1]) if a not in arrows]
    if missing:
        raise ValueError(
            f"arrows has no arrow for the actions {missing} (q_table has {q_table.shape[1]} "
            "actions)"
        )
    if desc is not None and np.shape(desc) != (rows, cols):
        raise ValueError(f"desc must have the grid's shape {(rows, cols)}, got {np.shape(desc)}")
    if cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap must be a matplotlib colormap name such as 'viridis', got {cmap!r}")
    if q_table.shape[0] != rows * cols:
        raise ValueError(
            f"q_table has {q_table.shape[0]} states but shape {shape} has {rows * cols} cells"
        )
    ax = _axes(ax, figsize=(cols * 0.6 + 1.5, rows * 0.6 + 0.8))
    untouched = np.all(q_table == q_table[:, :1], axis=1).reshape(rows, cols)  # never updated
    # Cells never updated (holes, cliff, goal, unvisited states) are left grey rather
    # than coloured as if their value were known to be 0.
    values = np.where(untouched, np.nan, q_table.max(axis=1).reshape(rows, cols))
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="#d0d0d0")
    image = ax.imshow(values, cmap=colormap)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="max$_a$ Q(s, a)")
    greedy = q_table.argmax(axis=1).reshape(rows, cols)
    letters = None if desc is None else np.asarray(desc).astype(str)
    for r in range(rows):
        for c in range(cols):
            cell = letters[r, c] if letters is not None else ""
            if cell in ("H", "G", "C"):
                text = cell
            elif not annotate or untouched[r, c]:
                continue
            else:
                text = arrows[int(greedy[r, c])]
            ax.text(
                c,
                r,
                text,
                ha="center",
                va="center",
                color="white",
                fontsize=11,
                fontweight="bold",
                path_effects=[patheffects.withStroke(linewidth=2.5, foreground="black")],
            )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="medium")
    return ax
