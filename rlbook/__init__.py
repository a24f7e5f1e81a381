"""rlbook: the tested implementations behind the chapters of the book.

Import the submodules you need (``rlbook.envs``, ``rlbook.train``,
``rlbook.agents.qlearning``, ...). TensorFlow is imported only by the modules
that need it, so the tabular chapters start quickly.
"""

import os as _os

# Quiet TensorFlow's C++ start-up messages (they go to stderr and clutter notebooks).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
