"""Make sphinx-exercise's ``hide_solutions`` hide gated solutions too (the student edition).

The book's solutions are gated: a ``{solution-start}`` cell, the solution's code cells, then a
``{solution-end}`` cell. sphinx-exercise 1.x honours ``hide_solutions = True`` only for the
``{solution}`` directive: for a gated solution it drops the start marker alone, so the solution
code stays in the page and the leftover end marker crashes the HTML writer ("unknown node type:
solution_end_node"). With this extension, ``hide_solutions`` removes the whole gated block, from
the start marker to the end marker. It does nothing when ``hide_solutions`` is off (the full
book), so ``make book`` and ``make book-student`` differ only in that setting.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node

logger = logging.getLogger(__name__)


class hidden_solution_start(nodes.Element):
    """Where a hidden gated solution starts; the transform below removes it and what follows."""


class HideableSolutionStart(SolutionStartDirective):
    def run(self):
        result = super().run()  # registers the gated block, so the structure checks still pass
        if self.env.app.config.hide_solutions:
            return [hidden_solution_start()]
        return result


class RemoveHiddenSolutions(SphinxTransform):
    # Before sphinx-exercise's CheckGatedDirectives/MergeGatedSolutions (priority 10).
    default_priority = 9

    def apply(self):
        if not self.config.hide_solutions:
            return
        for marker in list(self.document.findall(hidden_solution_start)):
            parent = marker.parent
            start = parent.index(marker)
            end = next((i for i in range(start + 1, len(parent.children))
                        if isinstance(parent.children[i], solution_end_node)), None)
            if end is None:
                logger.warning("solution-start without a solution-end in the same section",
                               location=marker)
                parent.remove(marker)
                continue
            del parent.children[start:end + 1]


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution_start)
    app.add_directive("solution-start", HideableSolutionStart, override=True)
    app.add_transform(RemoveHiddenSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
