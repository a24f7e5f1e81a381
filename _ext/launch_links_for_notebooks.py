"""Binder and Colab links only where they open a notebook.

sphinx-book-theme gives every executed page the launch menu. For a MyST Markdown page (the
intro, whose one code cell shows the versions the book was built with) its Binder and Colab links
would open ``book/intro.md``, which Colab cannot open and Binder shows as plain text. This
extension drops those two links from such pages and keeps "Live Code" (Thebe), which runs the
page's cells where the reader is. Chapter pages (``.ipynb``) are left as they are.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def drop_links_to_text_files(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if doctree is None or Path(app.env.doc2path(pagename)).suffix == ".ipynb":
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [b for b in group["buttons"] if b.get("type") != "link"]


def setup(app: Sphinx) -> dict:
    # After sphinx-book-theme's add_launch_buttons (priority 501) has filled the menu.
    app.connect("html-page-context", drop_links_to_text_files, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
