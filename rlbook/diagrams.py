"""Block diagrams of the book's algorithms, drawn with matplotlib (imported lazily).

Each function returns a :class:`matplotlib.figure.Figure`, so a chapter shows a picture
with one call and anyone can regenerate or restyle it:

* :func:`agent_environment_loop` - the agent acts, the environment answers (chapter 1);
* :func:`dqn_data_flow` - environment, replay buffer, minibatch, online and target
  networks, loss, and the target copy (chapter 3);
* :func:`dueling_architecture` - a shared trunk split into V and A streams that
  combine into Q (chapter 5);
* :func:`actor_critic_rollout` - n steps on parallel environment copies, n-step
  targets, then the actor step and the critic steps (chapter 7);
* :func:`ppo_update` - a rollout, GAE, then K epochs of M minibatches, each an actor
  step on the clipped surrogate and a critic step (chapter 9);
* :func:`sac_update` - replay buffer, minibatch, the soft target from the target
  critics, the critic, actor and temperature steps, and the soft target update
  (chapter 10).

The figures are drawn on an opaque light panel with a dark border, so they read the
same on the book's light and dark themes. Every box is a text artist whose ``gid`` is
``"box"``; the tests use this to find the labelled boxes.
"""

from __future__ import annotations

__all__ = [
    "agent_environment_loop",
    "dqn_data_flow",
    "dueling_architecture",
    "actor_critic_rollout",
    "ppo_update",
    "sac_update",
]

# One palette for every diagram: pale fills, dark ink (contrast > 7:1 on every fill).
INK = "#1f2328"
PANEL = "#fbfbf8"
FILLS = {
    "agent": "#dbe9f7",  # blue: what the agent owns (networks, policy)
    "env": "#dff0d8",  # green: the environment
    "data": "#fcefd4",  # sand: stored or sampled data
    "loss": "#f6dcdc",  # rose: losses and targets
    "plain": "#eeeeee",
}
WIDTH = 7.0  # inches: the book's text column shows about this much at 100 dpi


def _canvas(height: float, xlim: float = 10.0, ylim: float | None = None):
    """A figure of the column's width with one frameless axes in data units.

    The axes spans ``[0, xlim] x [0, ylim]`` with equal aspect, so boxes keep their
    shape; the figure's face is the opaque light panel with a dark border.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    ylim = ylim if ylim is not None else xlim * height / WIDTH
    fig = plt.figure(figsize=(WIDTH, height), facecolor=PANEL)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_xlim(0, xlim)
    ax.set_ylim(0, ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.patches.append(
        Rectangle(
            (0.003, 0.003),
            0.994,
            0.994,
            transform=fig.transFigure,
            fill=False,
            edgecolor=INK,
            linewidth=1.2,
        )
    )
    return fig, ax


def _box(
    ax,
    x: float,
    y: float,
    text: str,
    kind: str = "plain",
    w: float = 2.2,
    h: float = 0.9,
    size: float = 10.5,
):
    """Draw a rounded box centred at ``(x, y)`` holding ``text``; return its edges."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.15",
            facecolor=FILLS[kind],
            edgecolor=INK,
            linewidth=1.3,
        )
    )
    t = ax.text(x, y, text, ha="center", va="center", color=INK, fontsize=size)
    t.set_gid("box")
    return {"l": (x - w / 2, y), "r": (x + w / 2, y), "t": (x, y + h / 2), "b": (x, y - h / 2)}


def _arrow(
    ax,
    start,
    end,
    label: str = "",
    offset=(0.0, 0.18),
    rad: float = 0.0,
    dashed: bool = False,
    size: float = 9.5,
):
    """An arrow from ``start`` to ``end`` with an optional label near its middle."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            color=INK,
            linewidth=1.3,
            linestyle="--" if dashed else "-",
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=2,
            shrinkB=2,
        )
    )
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va="center", color=INK, fontsize=size)


def agent_environment_loop():
    """The agent-environment loop of chapter 1.

    The agent sees ``obs`` and picks ``action``; the environment returns
    ``next_obs, reward, terminated, truncated``; the next step starts from ``next_obs``.

    Returns:
        A matplotlib Figure.
    """
    fig, ax = _canvas(3.3)
    agent = _box(ax, 2.0, 2.35, "Agent\npolicy $\\pi(a \\mid s)$", "agent", w=2.6, h=1.1)
    env = _box(ax, 8.0, 2.35, "Environment\n$p(s', r \\mid s, a)$", "env", w=2.6, h=1.1)
    _arrow(ax, agent["t"], env["t"], "action $a_t$", offset=(0, 1.4), rad=-0.35)
    _arrow(ax, env["b"], agent["b"], "", rad=-0.35)
    ax.text(
        5.0,
        0.38,
        "next_obs $s_{t+1}$,  reward $r_{t+1}$,  terminated,  truncated",
        ha="center",
        va="center",
        color=INK,
        fontsize=9.5,
    )
    ax.text(
        5.0,
        2.35,
        "$t \\leftarrow t + 1$",
        ha="center",
        va="center",
        color=INK,
        fontsize=9.5,
        style="italic",
    )
    return fig


def dqn_data_flow():
    """DQN's data flow (chapter 3).

    Acting writes transitions into the replay buffer; learning samples a minibatch,
    the online network gives Q(s, a), the target network gives the bootstrap target,
    and their squared difference is the loss. Every C steps (or softly, with ``tau``)
    the online weights are copied into the target network.

    Returns:
        A matplotlib Figure.
    """
    fig, ax = _canvas(4.0)
    env = _box(ax, 1.45, 4.7, "Environment", "env", w=2.3)
    buf = _box(
        ax, 5.0, 4.7, "Replay buffer\n$(s, a, r, s', \\mathrm{terminated})$", "data", w=2.9, h=1.0
    )
    mb = _box(ax, 8.55, 4.7, "Minibatch\nof $B$ transitions", "data", w=2.4, h=1.0)
    online = _box(ax, 5.0, 2.55, "Online network\n$Q_\\theta(s, a)$", "agent", w=2.6, h=1.0)
    target = _box(
        ax, 8.6, 2.55, "Target network\n$Q_{\\theta^-}(s', \\cdot)$", "agent", w=2.3, h=1.0
    )
    loss = _box(
        ax,
        7.3,
        0.7,
        "Loss: $(Q_\\theta(s,a) - y)^2$,\n"
        "$y = r + \\gamma\\,(1-\\mathrm{terminated})\\max_{a'} Q_{\\theta^-}(s',a')$",
        "loss",
        w=5.0,
        h=1.0,
        size=9.5,
    )
    act = _box(ax, 1.45, 2.55, "$\\varepsilon$-greedy\naction", "agent", w=2.0, h=0.9)
    _arrow(ax, env["r"], buf["l"], "store", offset=(0, 0.2))
    _arrow(ax, buf["r"], mb["l"], "sample", offset=(0, 0.2))
    _arrow(ax, (mb["b"][0] - 0.8, mb["b"][1]), online["t"], "$s, a$", offset=(-0.3, 0.15))
    _arrow(ax, (mb["b"][0] + 0.05, mb["b"][1]), target["t"], "$s'$", offset=(0.25, 0.0))
    _arrow(
        ax,
        online["b"],
        (online["b"][0] + 0.6, loss["t"][1]),
        "$Q_\\theta(s, a)$",
        offset=(-0.65, 0.0),
        size=9,
    )
    _arrow(
        ax,
        target["b"],
        (target["b"][0], loss["t"][1]),
        "$y$ (no gradient)",
        offset=(-0.95, 0.0),
        size=9,
    )
    _arrow(
        ax,
        online["r"],
        target["l"],
        "copy every\n$C$ steps",
        offset=(0.0, -0.45),
        dashed=True,
        size=8.5,
    )
    _arrow(ax, online["l"], act["r"], "$Q_\\theta(s,\\cdot)$", offset=(0, 0.2))
    _arrow(ax, act["t"], env["b"], "$a$", offset=(0.2, 0))
    ax.text(
        2.9, 0.7, "gradient step\non $\\theta$", ha="center", va="center", color=INK, fontsize=9
    )
    _arrow(ax, loss["l"], (3.9, 2.05), "", rad=-0.3, dashed=True)
    return fig


def dueling_architecture():
    """The dueling network (chapter 5): a trunk, then a V stream and an A stream.

    ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``.

    Returns:
        A matplotlib Figure.
    """
    fig, ax = _canvas(3.2)
    obs = _box(ax, 1.0, 2.3, "State $s$", "env", w=1.6)
    trunk = _box(ax, 3.5, 2.3, "Shared trunk\n(dense + ReLU)", "agent", w=2.2, h=1.0)
    v = _box(ax, 6.3, 3.5, "V stream\n$V(s)$: 1 output", "agent", w=2.3, h=0.95)
    a = _box(
        ax,
        6.3,
        1.1,
        "A stream\n$A(s, a)$: $|\\mathcal{A}|$ outputs",
        "agent",
        w=2.3,
        h=0.95,
        size=9.5,
    )
    q = _box(
        ax,
        8.95,
        2.3,
        "$Q(s, a) =$\n$V(s) + A(s, a)$\n$- \\mathrm{mean}_{a'} A(s, a')$",
        "loss",
        w=1.9,
        h=1.3,
        size=9.5,
    )
    _arrow(ax, obs["r"], trunk["l"])
    _arrow(ax, (trunk["r"][0], trunk["r"][1] + 0.2), v["l"])
    _arrow(ax, (trunk["r"][0], trunk["r"][1] - 0.2), a["l"])
    _arrow(ax, v["r"], (q["l"][0], q["l"][1] + 0.3))
    _arrow(ax, a["r"], (q["l"][0], q["l"][1] - 0.3))
    return fig


def actor_critic_rollout():
    """The synchronous actor-critic's update cycle (chapter 7).

    ``N`` environment copies each take ``n`` steps with actions sampled from the
    policy; the rollout's n-step targets (bootstrapped from ``V(s_{t+n})`` unless the
    episode terminated) give the advantages for one actor step and the regression
    targets for the critic steps; then the next rollout starts.

    Returns:
        A matplotlib Figure.
    """
    fig, ax = _canvas(3.9)
    _rollout(
        ax,
        (4.55, 3.8, 2.75),
        "rollout: $n$ steps of $(s_t, a_t, r_{t+1})$, $a_t \\sim \\pi_\\theta(\\cdot \\mid s_t)$",
    )
    tgt = _box(
        ax,
        6.0,
        3.75,
        "n-step targets\n$G_t = \\sum_{k<n} \\gamma^k r_{t+k}$\n$+\\, \\gamma^n V_w(s_{t+n})$",
        "loss",
        w=2.6,
        h=1.35,
        size=9.5,
    )
    adv = _box(ax, 8.85, 3.75, "advantages\n$G_t - V_w(s_t)$", "loss", w=2.0, h=0.95, size=9.5)
    actor = _box(
        ax,
        4.4,
        0.95,
        "Actor step\n$-\\log\\pi_\\theta(a_t|s_t)\\,\\hat A_t$",
        "agent",
        w=2.8,
        h=0.95,
        size=9.5,
    )
    critic = _box(
        ax, 8.0, 0.95, "Critic steps\nmin $(V_w(s_t) - G_t)^2$", "agent", w=2.6, h=0.95, size=9.5
    )
    _arrow(ax, (4.15, 3.75), tgt["l"])
    _arrow(ax, tgt["r"], adv["l"])
    _arrow(ax, adv["b"], (actor["r"][0], actor["r"][1] + 0.25), rad=-0.15)
    _arrow(ax, (tgt["b"][0] + 0.6, tgt["b"][1]), critic["t"])
    _arrow(
        ax,
        actor["l"],
        (0.9, 2.3),
        "next rollout",
        offset=(-1.3, -0.1),
        rad=-0.3,
        dashed=True,
        size=9,
    )
    return fig


def ppo_update():
    """PPO's update cycle (chapter 9), numbered as the chapter's algorithm box.

    ``N`` environment copies each take ``T`` steps (2.1); the networks that acted give
    ``log pi_old`` and ``V`` (2.2); GAE gives the advantages and value targets, held
    fixed (2.3); then ``K`` epochs of ``M`` minibatches each take an actor step on the
    clipped surrogate, with ``rho = pi / pi_old`` clipped to ``[1 - eps, 1 + eps]``, and
    a critic step on the value loss (2.4); the new policy collects the next rollout.

    Returns:
        A matplotlib Figure.
    """
    from matplotlib.patches import FancyBboxPatch

    fig, ax = _canvas(4.9)
    rollout = _rollout(
        ax,
        (5.95, 5.2, 4.15),
        "rollout (2.1, 2.2): $T$ steps of $(s_t, a_t, r_{t+1}, \\log\\pi_{\\mathrm{old}}, V_w)$",
        title_x=0.25,
    )
    gae = _box(
        ax,
        7.05,
        5.05,
        "2.3 GAE, held fixed:\nadvantages $A_t$, targets\n$R_t = A_t + V_w(s_t)$",
        "loss",
        w=2.9,
        h=1.35,
        size=9.5,
    )
    ax.add_patch(
        FancyBboxPatch(
            (2.95, 0.12),
            6.85,
            3.13,
            boxstyle="round,pad=0.02",
            facecolor="none",
            edgecolor=INK,
            linewidth=1.0,
            linestyle=":",
        )
    )
    epochs = _box(
        ax,
        6.375,
        2.6,
        "2.4 $K$ epochs $\\times$ $M$ minibatches\n(the $B = NT$ samples, shuffled)",
        "data",
        w=4.6,
        h=0.85,
        size=9.5,
    )
    actor = _box(
        ax,
        4.75,
        0.9,
        "2.4.2 Actor step on $L^{\\mathrm{CLIP}}$\n"
        "$\\rho_t = \\pi_\\theta / \\pi_{\\mathrm{old}}$ clipped\n"
        "to $[1 - \\epsilon, 1 + \\epsilon]$",
        "agent",
        w=3.2,
        h=1.1,
        size=9.5,
    )
    critic = _box(
        ax,
        8.35,
        0.9,
        "2.4.3 Critic step\nmin $(R_t - V_w(s_t))^2$",
        "agent",
        w=2.6,
        h=1.1,
        size=9.5,
    )
    new = _box(ax, 1.25, 0.9, "new policy\n$\\pi_\\theta$, $V_w$", "agent", w=1.9, h=0.9)
    _arrow(ax, rollout["r"], (gae["l"][0], rollout["r"][1]))
    _arrow(ax, gae["b"], (gae["b"][0], epochs["t"][1]), "$A_t, R_t$", offset=(0.45, 0.0))
    _arrow(
        ax,
        (actor["t"][0], epochs["b"][1]),
        actor["t"],
        "$A_t$ normalised (2.4.1)",
        offset=(1.2, 0.0),
        size=9,
    )
    _arrow(ax, (critic["t"][0], epochs["b"][1]), critic["t"], "$R_t$", offset=(0.3, 0.0), size=9)
    _arrow(ax, (2.95, new["r"][1]), new["r"])
    _arrow(
        ax,
        new["t"],
        (new["t"][0], rollout["b"][1]),
        "collects the\nnext rollout",
        offset=(0.75, 0.0),
        dashed=True,
        size=9,
    )
    return fig


def sac_update():
    """One gradient step of soft actor-critic (chapter 10), numbered as its algorithm box.

    Acting fills the replay buffer (2.1); a minibatch is sampled; the actor samples
    ``a' = tanh(mu + sigma * eps)`` with its ``log pi`` for ``s'``, and the two target
    critics give the soft value ``min_i Q_i'(s', a') - alpha log pi``, so the target is
    ``y = r + gamma (1 - terminated) (...)`` (2.2.1); both critics regress to ``y``
    (2.2.2); the actor step maximises ``min_i Q_i(s, a~) - alpha log pi`` (2.2.3); the
    temperature step follows (2.2.4); the target critics trail the critics by ``tau``
    (2.2.5).

    Returns:
        A matplotlib Figure.
    """
    fig, ax = _canvas(4.9)
    env = _box(ax, 1.2, 6.3, "Environment\nactions from $\\pi_\\theta$", "env", w=2.1, h=0.95)
    buf = _box(
        ax, 5.0, 6.3, "Replay buffer\n$(s, a, r, s', \\mathrm{terminated})$", "data", w=2.9, h=0.95
    )
    mb = _box(ax, 8.6, 6.3, "Minibatch\nof $B$ transitions", "data", w=2.3, h=0.95)
    nxt = _box(
        ax,
        8.45,
        4.0,
        "Actor on $s'$:\n$a' = \\tanh(\\mu_\\theta + \\sigma_\\theta\\,\\varepsilon)$,\n"
        "$\\log\\pi_\\theta(a' \\mid s')$",
        "agent",
        w=2.75,
        h=1.25,
        size=9.5,
    )
    tq = _box(
        ax,
        5.0,
        4.0,
        "Target critics $\\bar Q_1, \\bar Q_2$:\n$\\mathrm{min}_i \\bar Q_i(s', a')$\n"
        "$-\\, \\alpha \\log\\pi_\\theta(a' \\mid s')$",
        "agent",
        w=2.9,
        h=1.25,
        size=9.5,
    )
    y = _box(
        ax,
        1.65,
        4.0,
        "2.2.1 target, held fixed:\n$y = r + \\gamma\\,(1 - \\mathrm{terminated})$\n"
        "$\\times\\,(\\mathrm{min}_i \\bar Q_i - \\alpha \\log\\pi_\\theta)$",
        "loss",
        w=3.0,
        h=1.25,
        size=9.5,
    )
    critic = _box(
        ax,
        1.6,
        1.0,
        "2.2.2 Critic step\nmin $\\sum_i (y - Q_i(s, a))^2$",
        "agent",
        w=2.9,
        h=1.1,
        size=9.5,
    )
    actor = _box(
        ax,
        5.35,
        1.0,
        "2.2.3 Actor step, $\\tilde a$ sampled anew:\n"
        "min $\\alpha \\log\\pi_\\theta(\\tilde a \\mid s) - \\mathrm{min}_i Q_i(s, \\tilde a)$",
        "agent",
        w=3.9,
        h=1.1,
        size=9.5,
    )
    temp = _box(
        ax, 8.75, 1.0, "2.2.4 Temperature\nstep on $\\log\\alpha$", "agent", w=2.1, h=1.1, size=9.5
    )
    _arrow(ax, env["r"], buf["l"], "2.1 store", offset=(0, 0.2))
    _arrow(ax, buf["r"], mb["l"], "sample", offset=(0, 0.2))
    _arrow(ax, (nxt["t"][0], mb["b"][1]), nxt["t"], "$s'$", offset=(0.25, 0.0))
    _arrow(ax, nxt["l"], tq["r"])
    _arrow(ax, tq["l"], y["r"])
    _arrow(ax, y["b"], (y["b"][0], critic["t"][1]), "$y$", offset=(0.2, 0.0))
    _arrow(ax, critic["r"], actor["l"])
    _arrow(ax, actor["r"], temp["l"])
    _arrow(
        ax,
        (critic["t"][0] + 1.0, critic["t"][1]),
        (tq["b"][0], tq["b"][1]),
        "2.2.5 soft update:\n$\\bar Q_i \\leftarrow \\tau Q_i + (1 - \\tau) \\bar Q_i$",
        offset=(1.45, -0.1),
        dashed=True,
        size=9,
    )
    return fig


def _rollout(ax, ys, title: str, title_x: float = 2.15):
    """Environment copies 1, 2 and N (rows at heights ``ys``), each with a row of
    transitions, in a dotted frame with ``title`` above it; return the frame's edges."""
    from matplotlib.patches import FancyBboxPatch

    bottom, top = ys[2] - 0.4, ys[0] + 0.45
    ax.add_patch(
        FancyBboxPatch(
            (0.15, bottom),
            3.95,
            top - bottom,
            boxstyle="round,pad=0.02",
            facecolor="none",
            edgecolor=INK,
            linewidth=1.0,
            linestyle=":",
        )
    )
    for i, y in enumerate(ys):
        label = f"copy {i + 1}" if i < 2 else "copy $N$"
        _box(ax, 0.9, y, label, "env", w=1.35, h=0.55, size=9)
        for k in range(4):
            ax.add_patch(_cell(1.75 + 0.55 * k, y - 0.2, "data"))
    ax.text(0.9, ys[2] + 0.55, "$\\vdots$", ha="center", va="center", color=INK, fontsize=11)
    ax.text(title_x, top + 0.25, title, ha="left", va="center", color=INK, fontsize=9.5)
    mid = (bottom + top) / 2
    return {"l": (0.15, mid), "r": (4.15, mid), "t": (2.15, top), "b": (2.15, bottom)}


def _cell(x: float, y: float, kind: str):
    """One small square: a transition in the rollout picture."""
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 0.42, 0.4, facecolor=FILLS[kind], edgecolor=INK, linewidth=1.0)
