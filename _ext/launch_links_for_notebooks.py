"""Binder and Colab links only where they open a notebook, and to its plain-Markdown copy.

sphinx-book-theme gives every executed page the launch menu, whose links open the page's own
source. Two changes:

* A chapter (``book/03_dqn.ipynb``, or ``student/03_dqn.ipynb`` in the student edition) is MyST,
  which Colab shows as raw text. Its Binder and Colab links open the plain-Markdown copy that
  tools/student.py generates beside it, ``colab/`` + the page's path
  (``colab/book/03_dqn.ipynb``, ``colab/student/03_dqn.ipynb``; see tools/plain_markdown.py).
* For a MyST Markdown page (the intro, whose one code cell shows the versions the book was built
  with) the links would open ``book/intro.md``, which Colab cannot open and Binder shows as plain
  text: they are dropped, and "Live Code" (Thebe), which runs the page's cells where the reader
  is, stays.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

PLAIN = "colab"  # tools/plain_markdown.py's TARGET


def plain_notebook(pagename: str) -> str:
    """The repository path of the notebook a page's launch buttons open."""
    return f"{PLAIN}/{pagename}.ipynb"


def fix_launch_links(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if doctree is None:
        return
    is_notebook = Path(app.env.doc2path(pagename)).suffix == ".ipynb"
    book_relpath = (app.config.html_theme_options or {}).get("path_to_docs", "").strip("/")
    own_path = (f"{book_relpath}/" if book_relpath else "") + f"{pagename}.ipynb"
    plain = plain_notebook(pagename)
    has_plain = (Path(app.srcdir) / plain).exists()
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        if not is_notebook:
            group["buttons"] = [b for b in group["buttons"] if b.get("type") != "link"]
            continue
        for button in group["buttons"]:
            url = button.get("url", "")
            if has_plain and button.get("type") == "link" and url.endswith("/" + own_path):
                button["url"] = url[: -len(own_path)] + plain


def setup(app: Sphinx) -> dict:
    # After sphinx-book-theme's add_launch_buttons (priority 501) has filled the menu.
    app.connect("html-page-context", fix_launch_links, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
