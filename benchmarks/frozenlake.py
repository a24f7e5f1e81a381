"""Time-to-train of chapter 2's tabular Q-learning on FrozenLake-v1 (4x4, slippery).

    python benchmarks/frozenlake.py [--seeds 0 1 2 3 4]

For each seed: train the chapter's agent (QLearningConfig defaults) for 60,000 steps,
time it, then report the greedy success rate over 1,000 evaluation episodes. The
target is a success rate >= 0.70 (the optimal policy's is about 0.74) in under 3 s.
"""

import argparse
import json

from rlbook.agents.qlearning import QLearningAgent
from rlbook.envs import make_env
from rlbook.train import evaluate, train

STEPS = 60_000


def run(seed: int) -> dict:
    env = make_env("FrozenLake-v1", seed=seed)
    agent = QLearningAgent(env.observation_space, env.action_space, seed=seed)
    history = train(agent, env, steps=STEPS, progress=False)
    success = evaluate(agent, make_env("FrozenLake-v1", seed=seed + 100), episodes=1000).mean()
    return {"seed": seed, "steps": STEPS, "train_s": round(history.train_seconds, 2), "success": round(float(success), 3)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    for seed in parser.parse_args().seeds:
        print(json.dumps(run(seed)), flush=True)
