"""rlbook: the tested implementations behind the chapters of the book.

Import the submodules you need (``rlbook.envs``, ``rlbook.train``,
``rlbook.agents.qlearning``, ...). TensorFlow is imported only by the modules
that need it, so the tabular chapters start quickly.
"""

import os as _os

from rlbook import _tf_startup

# Hide TensorFlow's C++ INFO and WARNING lines (they go to stderr and clutter notebooks); errors
# still show. The lines TensorFlow logs before it reads this variable are filtered by
# rlbook/_tf_startup.py, which wraps the first `import tensorflow` (import rlbook first).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_tf_startup.install()

__version__ = "0.1.0"
