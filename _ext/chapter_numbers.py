"""Number exercises and algorithm boxes per chapter: "Exercise 3.2", "Algorithm 4.1".

Without a numbered toctree (the chapters' titles carry their own numbers, "3. Deep Q-networks"),
Sphinx numbers every enumerable node across the whole book: chapter 3's second exercise would be
"Exercise 7". This extension renumbers exercises (sphinx-exercise) and algorithm boxes
(sphinx-proof) within each chapter, prefixed by the chapter's number, which is the ``NN`` of its
file name (``book/03_dqn``). The plain-Markdown notebooks that the launch buttons open
(tools/plain_markdown.py) number them the same way, so "Exercise 3.2" is the same exercise in the
HTML book, in Colab and in JupyterLab. Figures and tables keep Sphinx's numbering.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

CHAPTER = re.compile(r"(?:^|/)(\d+)_[^/]*$")
# sphinx-exercise's type, and sphinx-proof's (algorithm, theorem, definition, ...).
KEEP = {"section", "figure", "table", "code-block"}


def chapter_of(docname: str) -> int | None:
    match = CHAPTER.search(docname)
    return int(match.group(1)) if match else None


def renumber(app: Sphinx, env) -> list[str]:
    changed = []
    for docname, figtypes in env.toc_fignumbers.items():
        chapter = chapter_of(docname)
        if chapter is None:
            continue
        for figtype, numbers in figtypes.items():
            if figtype in KEEP:
                continue
            # Sphinx numbered them in document order: keep the order, restart at 1.
            ordered = sorted(numbers, key=lambda node_id: numbers[node_id])
            new = {node_id: (chapter, i) for i, node_id in enumerate(ordered, start=1)}
            if new != numbers:
                figtypes[figtype] = new
                changed.append(docname)
    return sorted(set(changed))


def setup(app: Sphinx) -> dict:
    # After Sphinx's TocTreeCollector (priority 500) has assigned the book-wide numbers.
    app.connect("env-get-updated", renumber, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
