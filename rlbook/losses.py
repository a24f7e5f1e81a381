"""Targets and losses as small pure functions, each beside its equation.

Every function is stateless and batch-first (the leading axis is the batch), takes
and returns ``tf.Tensor``-compatible values, and wraps the part that must not be
differentiated in ``tf.stop_gradient``. The tests in ``tests/test_losses.py`` check
each one against numbers computed by hand.

Chapters: value targets in 3-5 (DQN, double DQN, dueling DQN); returns and
policy-gradient losses in 6-7 (REINFORCE, actor-critic).
"""

from __future__ import annotations

import tensorflow as tf

# -- value-based targets (chapters 3-5) ----------------------------------------------


# -- returns and policy-gradient losses (chapters 6-7) --------------------------------
