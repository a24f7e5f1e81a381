"""A tiny grid world seen as an image, for the convolutional Q-network (chapter 3).

:class:`ImageGridEnv` is a square room surrounded by walls. Each episode puts the
agent and a goal on two different random cells; the agent moves one cell up, right,
down or left (walking into a wall leaves it in place) and the episode *terminates*
when it steps onto the goal. After ``max_steps`` steps without reaching it the
episode is *truncated* (a time limit, not a failure state: bootstrapping continues).

The observation is a small ``uint8`` image of shape ``(size + 2, size + 2, 3)``, one
channel per kind of object, 255 where the object is and 0 elsewhere:

* channel 0 (red when shown as RGB): the walls;
* channel 1 (green): the agent;
* channel 2 (blue): the goal.

Nothing about the positions is given as numbers, so a network has to find the
agent and the goal in the picture, which is what a convolutional network is for.
The environment is registered as ``"rlbook/ImageGrid-v0"`` (importing this module
registers it; :func:`rlbook.envs.make_env` does so for ids starting with ``rlbook/``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["ImageGridEnv", "ENV_ID", "ACTION_NAMES"]

ENV_ID = "rlbook/ImageGrid-v0"
ACTION_NAMES = ("up", "right", "down", "left")
# Row and column change of each action; row 0 is the top of the image.
_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
WALL, AGENT, GOAL = 0, 1, 2


class ImageGridEnv(gym.Env):
    """Reach the goal in a walled room, observed as a ``(size + 2, size + 2, 3)`` image.

    Args:
        size: cells per side of the room, inside the walls (>= 2). The default 5 gives
            7x7 images.
        max_steps: steps before the episode is truncated (>= 1).
        goal_reward: reward for the step that reaches the goal.
        step_reward: reward for every other step (a small penalty favours short paths).
        render_mode: ``None`` or ``"rgb_array"`` (the observation enlarged, for pictures).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        size: int = 5,
        max_steps: int = 20,
        goal_reward: float = 1.0,
        step_reward: float = -0.01,
        render_mode: str | None = None,
    ):
        for name, value, low in (("size", size, 2), ("max_steps", max_steps, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.size, self.max_steps = int(size), int(max_steps)
        self.goal_reward, self.step_reward = float(goal_reward), float(step_reward)
        self.render_mode = render_mode
        side = self.size + 2
        self.observation_space = gym.spaces.Box(0, 255, (side, side, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(4)
        # The walls never move: draw them once.
        self._background = np.zeros((side, side, 3), np.uint8)
        self._background[[0, -1], :, WALL] = 255
        self._background[:, [0, -1], WALL] = 255
        self.agent = self.goal = None  # (row, col) inside the walls, 1 .. size
        self.t = 0

    def _obs(self) -> np.ndarray:
        obs = self._background.copy()
        obs[self.agent[0], self.agent[1], AGENT] = 255
        obs[self.goal[0], self.goal[1], GOAL] = 255
        return obs

    def _info(self) -> dict:
        return {
            "agent": tuple(int(x) for x in self.agent),
            "goal": tuple(int(x) for x in self.goal),
            "distance": int(np.abs(self.agent - self.goal).sum()),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        # Two different cells of the room, uniformly: agent first, then goal.
        cells = self.np_random.choice(self.size * self.size, size=2, replace=False)
        self.agent = np.array(divmod(int(cells[0]), self.size)) + 1
        self.goal = np.array(divmod(int(cells[1]), self.size)) + 1
        self.t = 0
        return self._obs(), self._info()

    def step(self, action):
        if self.agent is None:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(
                f"action must be an integer in 0..3 ({', '.join(ACTION_NAMES)}), got {action!r}"
            )
        # Move, then clip back inside the walls: bumping into a wall wastes the step.
        self.agent = np.clip(self.agent + _MOVES[int(action)], 1, self.size)
        self.t += 1
        terminated = bool(np.array_equal(self.agent, self.goal))
        truncated = not terminated and self.t >= self.max_steps
        reward = self.goal_reward if terminated else self.step_reward
        return self._obs(), reward, terminated, truncated, self._info()

    def render(self, scale: int = 24):
        """The current observation enlarged ``scale`` times (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() needs render_mode='rgb_array' "
                "(e.g. make_env(..., render_mode='rgb_array'))"
            )
            return None
        if self.agent is None:
            raise RuntimeError("call reset() before render()")
        return np.repeat(np.repeat(self._obs(), scale, axis=0), scale, axis=1)


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="rlbook.gridworld:ImageGridEnv")
