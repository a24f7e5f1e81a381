"""The notebooks as the launch buttons open them: MyST turned into plain Markdown and HTML.

Colab renders CommonMark and some HTML, not MyST; JupyterLab without jupyterlab-myst neither. The
book's sources (``book/``) and the student edition (``student/``) are MyST, for the HTML books.
This module turns one of their notebooks into its plain form, which tools/student.py writes to
``colab/book/`` (the full edition) and ``colab/student/`` (the student edition); the Binder and
Colab buttons of both HTML editions open those (_ext/launch_links_for_notebooks.py).

In every Markdown cell:

* ``:::{exercise}`` with ``:label:`` becomes a bold heading numbered per chapter as the HTML book
  numbers it (_ext/chapter_numbers.py): "**Exercise 3.2: The soft update**";
* ``{prf:algorithm}`` (and any ``{prf:...}`` box) becomes "**Algorithm 3.1: Title**" above its
  body, the numbered list;
* an admonition (``{warning}``, ``{note}``, ...) becomes a blockquote;
* ``{prf:ref}``, ``{ref}`` and ``{numref}`` of a label become plain text ("Algorithm 4.1"),
  ``{cite}``, ``{doc}`` and ``{math}`` become links and ``$...$`` (tools/notebook_markup.py);
* relative links (``references.html#cite-...``, ``03_dqn.ipynb``) become absolute: the published
  book's pages (``html.baseurl`` in _config.yml, the one place that names it) for the full
  edition; for the student edition, the references page and the other chapters' student
  notebooks in Colab (the full book's pages hold the solutions).

A gated solution (full edition only: the student edition has none) becomes a "Solution to
Exercise 3.2" heading cell followed by the solution's code cells with their code hidden until
the reader asks for it: Colab's form view (``cellView: form`` and a ``#@title`` line) and
JupyterLab's collapsed input (``jupyter.source_hidden``). The ``{solution-end}`` cell goes. A
``{solution}`` block inside a Markdown cell becomes a collapsed ``<details>`` element.
"""

from __future__ import annotations

import copy
import importlib.util
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "notebook_markup", ROOT / "tools" / "notebook_markup.py"
)
markup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(markup)

TARGET = "colab"  # colab/book/NN_name.ipynb, colab/student/NN_name.ipynb
ADMONITIONS = markup.ADMONITIONS | {"admonition"}
SOLUTION_HINT = (
    "Try the exercise first. The solution's code is hidden in the next cell: in Colab, click "
    "**Show code**; in JupyterLab, click the cell's three dots."
)
CHAPTER = re.compile(r"^(\d+)_")
LABEL = re.compile(r"^\s*:label:\s*(\S+)\s*$")
XREF = re.compile(r"\{(prf:ref|ref|numref)\}`([^`]*)`")
# A link target in Markdown ``](...)`` or HTML ``href="..."``.
LINK = re.compile(r'(?P<pre>\]\(|href=")(?P<target>[^)"\s]+)')
SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#)", re.I)


def config(root: pathlib.Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def published_url(root: pathlib.Path = ROOT) -> str:
    """The published HTML book, ``html.baseurl`` of _config.yml, with a final slash."""
    return config(root)["html"]["baseurl"].rstrip("/") + "/"


def colab_url(path: str, root: pathlib.Path = ROOT) -> str:
    """The Colab URL that opens ``path`` (a file of the repository) on the configured branch."""
    cfg = config(root)
    repo = cfg["repository"]["url"].rstrip("/").split("github.com/", 1)[1]
    base = cfg["launch_buttons"]["colab_url"].rstrip("/")
    return f"{base}/github/{repo}/blob/{cfg['repository']['branch']}/{path}"


def chapter_number(name: str) -> int:
    match = CHAPTER.match(pathlib.Path(name).name)
    if not match:
        raise ValueError(f"{name}: a chapter notebook's name starts with its number, NN_")
    return int(match.group(1))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _walk(items):
    for item in items:
        if isinstance(item, markup._Directive):
            yield item
            yield from _walk(item.children)


def _label(d) -> str | None:
    for line in d.children:
        if not isinstance(line, str) or not markup.OPTION.match(line):
            break
        if m := LABEL.match(line):
            return m.group(1)
    return None


def labels(notebook: dict, name: str) -> dict[str, str]:
    """``{label: "Exercise 3.2"}`` for the numbered boxes of one chapter, in the HTML's numbers."""
    chapter, counts, found = chapter_number(name), {}, {}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        items, _ = markup._parse(_source(cell).split("\n"))
        for d in _walk(items):
            if d.name == "exercise" or d.name.startswith("prf:"):
                kind = "Exercise" if d.name == "exercise" else d.name[4:].capitalize()
                counts[kind] = counts.get(kind, 0) + 1
                label = _label(d) or f"_{kind}{counts[kind]}"
                found[label] = f"{kind} {chapter}.{counts[kind]}"
    return found


class _Context:
    def __init__(self, name: str, edition: str, refs: dict[str, str], bib: dict, root):
        self.name, self.edition, self.refs, self.bib, self.root = name, edition, refs, bib, root
        self.chapter = chapter_number(name)
        self.counts: dict[str, int] = {}


def _link_target(target: str, ctx: _Context) -> str:
    if SCHEME.match(target):
        return target
    path, _, anchor = target.partition("#")
    stem = pathlib.PurePosixPath(path).stem
    if pathlib.PurePosixPath(path).suffix not in (".html", ".ipynb", ".md", ""):
        return target
    if ctx.edition == "student" and CHAPTER.match(stem):
        url = colab_url(f"{TARGET}/student/{stem}.ipynb", ctx.root)
    else:
        url = f"{published_url(ctx.root)}book/{stem}.html"
    return url + (f"#{anchor}" if anchor else "")


def _inline(line: str, ctx: _Context) -> str:
    line = markup.convert_roles(line, ctx.bib)

    def xref(m: re.Match) -> str:
        text = m.group(2)
        explicit = re.fullmatch(r"(.*?)\s*<([^>]+)>", text, flags=re.S)
        label = explicit.group(2) if explicit else text
        if label not in ctx.refs:
            raise KeyError(f"{ctx.name}: {{{m.group(1)}}}`{text}` names no exercise or box")
        return ctx.refs[label] if not explicit else explicit.group(1).replace("%s", ctx.refs[label])

    line = XREF.sub(xref, line)
    return LINK.sub(lambda m: m.group("pre") + _link_target(m.group("target"), ctx), line)


def _title_and_body(lines: list[str]) -> tuple[str | None, list[str]]:
    """A bold first line is the box's title (tools/notebook_markup.py's convention)."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    if lines and re.fullmatch(r"\*\*(.+)\*\*", lines[0].strip()):
        rest = lines[1:]
        while rest and not rest[0].strip():
            rest = rest[1:]
        return lines[0].strip()[2:-2], rest
    return None, lines


def _strip(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _render(items: list, ctx: _Context) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(_inline(item, ctx))
        elif isinstance(item, markup._Literal):
            out.extend(_literal(item.lines))
        else:
            out.extend(_directive(item, ctx))
    return out


def _literal(lines: list[str]) -> list[str]:
    """A fenced block: ```{math} becomes $$ ... $$, any other ```{name} a plain code fence."""
    m = markup.FENCE_LINE.match(lines[0])
    info = m.group("info").strip()
    d = markup.DIRECTIVE.match(info)
    if not d:
        return lines
    body = [line for line in lines[1:-1] if not markup.OPTION.match(line)]
    if d.group("name") == "math":
        return [m.group("indent") + "$$", *body, m.group("indent") + "$$"]
    lang = d.group("arg").strip().split(" ")[0] if d.group("arg").strip() else ""
    lang = "python" if lang.startswith("ipython") or d.group("name") == "code-cell" else lang
    return [m.group("indent") + m.group("fence") + lang, *body, lines[-1]]


def _directive(d, ctx: _Context) -> list[str]:
    children = list(d.children)
    while children and isinstance(children[0], str) and markup.OPTION.match(children[0]):
        children.pop(0)
    body = _strip(_render(children, ctx))
    title, rest = _title_and_body(body)
    arg = _inline(d.arg, ctx).strip()
    title = title or arg or None
    indent = d.indent
    if d.name == "exercise" or d.name.startswith("prf:"):
        # Numbered in order, per kind, as labels() and the HTML book number them.
        kind = "Exercise" if d.name == "exercise" else d.name[4:].capitalize()
        ctx.counts[kind] = ctx.counts.get(kind, 0) + 1
        number = f"{kind} {ctx.chapter}.{ctx.counts[kind]}"
        head = f"**{number}: {title}**" if title else f"**{number}**"
        return [indent + head, *([""] + rest if rest else [])]
    if d.name in ADMONITIONS:
        kind = d.name.capitalize() if d.name != "admonition" else "Note"
        head = f"**{title}**" if title else f"**{kind}**"
        quoted = [head, *([""] + rest if rest else [])]
        return [indent + ("> " + line if line.strip() else ">") for line in quoted]
    if d.name == "solution":
        number = ctx.refs.get(d.arg.strip(), "the exercise")
        return [
            indent + f"<details><summary>Solution to {number} (try the exercise first)</summary>",
            "",
            *rest,
            "",
            indent + "</details>",
        ]
    # Any other directive: its body, as Markdown (the test of the plain notebooks lists what
    # it does not know, so a new directive gets a rule here).
    return ([f"**{title}**", ""] if title else []) + rest


def _markdown(text: str, ctx: _Context) -> str:
    items, _ = markup._parse(text.split("\n"))
    return "\n".join(_render(items, ctx))


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _marker(cell, name: str) -> bool:
    return cell["cell_type"] == "markdown" and "{" + name + "}" in _source(cell)


def _solution_label(cell) -> str:
    m = re.search(r"\{solution-start\}\s*(\S+)", _source(cell))
    return m.group(1) if m else ""


def plain_notebook(
    notebook: dict,
    name: str,
    edition: str,
    refs: dict[str, str] | None = None,
    bib: dict | None = None,
    root: pathlib.Path = ROOT,
) -> dict:
    """The plain-Markdown copy of one chapter notebook (``edition``: "book" or "student")."""
    nb = copy.deepcopy(notebook)
    refs = dict(refs or {}) | labels(nb, name)
    ctx = _Context(name, edition, refs, bib if bib is not None else markup.read_bib(), root)
    cells, solution = [], None
    for cell in nb["cells"]:
        if _marker(cell, "solution-start"):
            solution = refs.get(_solution_label(cell), "the exercise")
            cell["source"] = _lines(f"#### Solution to {solution}\n\n{SOLUTION_HINT}")
            cells.append(cell)
            continue
        if _marker(cell, "solution-end"):
            solution = None
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = _lines(_markdown(_source(cell), ctx))
        elif cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell.setdefault("metadata", {}).pop("execution", None)
            if solution is not None:
                title = f"#@title Solution to {solution} (click Show code)"
                cell["source"] = _lines(f"{title}\n{_source(cell)}")
                cell["metadata"]["cellView"] = "form"
                cell["metadata"].setdefault("jupyter", {})["source_hidden"] = True
        cells.append(cell)
    nb["cells"] = cells
    nb.setdefault("metadata", {})["rlbook"] = {
        "edition": f"{edition} (plain Markdown, for Colab and Binder)",
        "generated_from": f"{edition}/{pathlib.Path(name).name}",
        "note": "Generated by `make student` (python tools/student.py): edit book/.",
    }
    return nb
