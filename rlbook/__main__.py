"""``python -m rlbook``: the command line (see :mod:`rlbook.cli`)."""

import sys

from rlbook.cli import main

sys.exit(main())
