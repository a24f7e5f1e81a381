"""The block diagrams: each is a Figure with the labelled boxes its chapter talks about."""

import matplotlib.pyplot as plt  # headless: matplotlib picks Agg when there is no display
import pytest
from matplotlib.figure import Figure

from rlbook import diagrams

EXPECTED = {
    "agent_environment_loop": ["Agent", "Environment"],
    "dqn_data_flow": [
        "Environment",
        "Replay buffer",
        "Minibatch",
        "Online network",
        "Target network",
        "Loss",
    ],
    "dueling_architecture": ["State", "Shared trunk", "V stream", "A stream", "Q(s, a)"],
    "actor_critic_rollout": [
        "copy 1",
        "copy $N$",
        "n-step targets",
        "advantages",
        "Actor step",
        "Critic steps",
    ],
    "ppo_update": [
        "copy 1",
        "copy $N$",
        "2.3 GAE",
        "2.4 $K$ epochs $\\times$ $M$ minibatches",
        "2.4.2 Actor step on $L^{\\mathrm{CLIP}}$",
        "[1 - \\epsilon, 1 + \\epsilon]",
        "2.4.3 Critic step",
        "new policy",
    ],
    "sac_update": [
        "Environment",
        "Replay buffer",
        "Minibatch",
        "Actor on $s'$",
        "Target critics",
        "2.2.1 target",
        "2.2.2 Critic step",
        "2.2.3 Actor step",
        "2.2.4 Temperature",
    ],
}


def _boxes(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "box"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_diagram_has_its_labelled_boxes(name):
    fig = getattr(diagrams, name)()
    try:
        assert isinstance(fig, Figure)
        boxes = _boxes(fig)
        for label in EXPECTED[name]:
            assert sum(label in b for b in boxes) >= 1, (label, boxes)
        # fits the text column, on an opaque light panel (readable on the dark theme)
        width, height = fig.get_size_inches()
        assert width <= 7.5 and height <= 5
        r, g, b, alpha = fig.get_facecolor()
        assert alpha == 1 and min(r, g, b) > 0.9
        fig.canvas.draw()  # renders headless, mathtext included
    finally:
        plt.close(fig)


def test_dqn_diagram_shows_the_target_copy_and_the_loss_target():
    fig = diagrams.dqn_data_flow()
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert any("copy every" in t for t in texts)
    assert any("max_{a'}" in t and "terminated" in t for t in texts)


def test_sac_diagram_shows_the_soft_target_and_the_soft_update():
    fig = diagrams.sac_update()
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert any("y = r" in t and "terminated" in t and "\\log\\pi" in t for t in texts)
    assert any("soft update" in t and "\\tau" in t for t in texts)


def test_diagrams_module_imports_without_matplotlib_pyplot_loaded():
    import subprocess
    import sys

    code = "import sys, rlbook.diagrams; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
