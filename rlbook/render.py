"""Pictures and animations of episodes that also play in the static HTML book.

Chapter 1 animates a random MsPacman; chapter 7 a trained CartPole agent. An
animation is a matplotlib ``FuncAnimation`` turned into self-contained HTML
(``to_jshtml``: the frames are embedded as PNG images with play controls), so a
reader without a kernel can still press play. matplotlib is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["record_episode", "animate", "show_frame"]


def record_episode(
    env,
    policy: Callable | None = None,
    max_steps: int = 500,
    seed: int | None = None,
) -> tuple[list[np.ndarray], float]:
    """Play one episode and keep every rendered frame.

    Args:
        env: an environment created with ``render_mode="rgb_array"``.
        policy: ``obs -> action``; ``None`` samples random actions.
        max_steps: stop after this many steps even if the episode goes on.
        seed: passed to ``env.reset`` (and seeds the random actions).

    Returns:
        ``(frames, total_reward)``: the RGB frames (the first one is the reset state)
        and the undiscounted return of the steps played.
    """
    if getattr(env, "render_mode", None) != "rgb_array":
        raise ValueError(
            "record_episode needs an environment made with render_mode='rgb_array', "
            f"got render_mode={env.render_mode!r}"
        )
    if seed is not None:
        env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    frames, total = [env.render()], 0.0
    for _ in range(max_steps):
        action = env.action_space.sample() if policy is None else policy(obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        frames.append(env.render())
        if terminated or truncated:
            break
    return frames, total


def show_frame(frame: np.ndarray, title: str | None = None, ax=None, scale: float = 1.0):
    """Show one RGB frame without axes; returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        h, w = frame.shape[:2]
        _, ax = plt.subplots(figsize=(scale * w / 80, scale * h / 80))
    ax.imshow(frame)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


def animate(
    frames: Sequence[np.ndarray],
    fps: int = 15,
    stride: int = 1,
    max_frames: int = 120,
    width: float = 3.0,
    title: str | None = None,
):
    """Turn frames into an animation that plays in the notebook *and* the static HTML book.

    Embedded frames cost page weight (about 5-20 kB each), so keep every ``stride``-th
    frame and at most ``max_frames`` of them.

    Args:
        frames: RGB arrays of equal shape ``(H, W, 3)``.
        fps: playback speed.
        stride: keep every ``stride``-th frame.
        max_frames: upper bound on embedded frames (the rest are dropped from the end).
        width: figure width in inches.
        title: optional title above the animation.

    Returns:
        An ``IPython.display.HTML`` object (display it, or leave it as the cell's last line).
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation

    if stride < 1 or max_frames < 1:
        raise ValueError(
            "stride and max_frames must be positive integers, "
            f"got stride={stride}, max_frames={max_frames}"
        )
    kept = list(frames)[::stride][:max_frames]
    if not kept:
        raise ValueError("animate needs at least one frame")
    h, w = kept[0].shape[:2]
    fig, ax = plt.subplots(figsize=(width, width * h / w))
    image = ax.imshow(kept[0])
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize="small")
    fig.tight_layout(pad=0.2)

    def update(i):
        image.set_data(kept[i])
        return (image,)

    anim = animation.FuncAnimation(fig, update, frames=len(kept), interval=1000 / fps, blit=True)
    html = anim.to_jshtml(fps=fps, default_mode="once")
    plt.close(fig)  # the animation replaces the static figure
    return HTML(html)
