"""Check functions for the exercises: each returns a :class:`Verdict` that says
"correct" or what is wrong with a hint, and never raises into the notebook.

One module per chapter (``ch01`` ... ``ch08``); every check is re-exported here, so a
notebook writes ``from rlbook.exercises import check_td_target``. ``_core`` holds what every
check shares (random cases drawn afresh on each call, copies handed to the student, the
student's line when their code raises), ``_pg`` what the policy-gradient checks of chapters 6
and 7 share (returns and their typical mistakes, reading a learning step from the weights, the
agent that learns with the student's functions). The solution-free notebooks of the student
edition (``student/``) are generated from ``book/`` by ``tools/student.py``.
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
