"""Check functions for the exercises: each returns a :class:`Verdict`, "correct" or what is
wrong with a hint, and never raises into the notebook. One module per chapter, every check
re-exported here (``from rlbook.exercises import check_td_target``); ``_core`` holds the driver
that runs a check's cases, reference and table of typical mistakes, ``_pg`` what the
policy-gradient chapters (6, 7, 9 and 10) share. The modules are laid out by hand
(``# fmt: off``): one hint per table entry, messages broken between phrases.
"""

from rlbook.exercises._core import Verdict  # noqa: F401  (the type every check returns)
from rlbook.exercises.ch01 import *  # noqa: F401,F403
from rlbook.exercises.ch02 import *  # noqa: F401,F403
from rlbook.exercises.ch03 import *  # noqa: F401,F403
from rlbook.exercises.ch04 import *  # noqa: F401,F403
from rlbook.exercises.ch05 import *  # noqa: F401,F403
from rlbook.exercises.ch06 import *  # noqa: F401,F403
from rlbook.exercises.ch07 import *  # noqa: F401,F403
from rlbook.exercises.ch08 import *  # noqa: F401,F403
from rlbook.exercises.ch09 import *  # noqa: F401,F403
from rlbook.exercises.ch10 import *  # noqa: F401,F403
