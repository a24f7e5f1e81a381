"""Rewrite MyST markup in the notebooks' Markdown cells into forms that also read as plain Markdown.

The convention (what this script produces, and tests/test_notebook_markup.py enforces):

The notebooks' prose is read in three places: the HTML book (Sphinx renders all of MyST), Binder's
JupyterLab (jupyterlab-myst renders most of it), and Colab or plain Jupyter, which render
CommonMark only and show MyST roles and directives as raw text. So, in every Markdown cell:

* A citation is a link to its entry on the book's references page, not a role:
  {cite}`watkins1992` becomes
  <a href="references.html#cite-watkins1992">Watkins and Dayan (1992)</a>
  ({cite}, {cite:t}, {cite:ts}: "Authors (Year)"; {cite:p}, {cite:ps}: "(Authors, Year)";
  several keys are joined). Authors and years come from book/references.bib; the anchor is the
  id that _config.yml's ``bibtex_cite_id: "cite-{key}"`` gives each entry. (Inline HTML, because
  MyST checks the #anchor of a Markdown link against the page's headings and would warn.)
  {doc}`text <name>`
  becomes [text](name.ipynb) and {math}`x` becomes $x$.
* A directive that must stay (exercise, solution gates, admonitions, prf:algorithm, ...) uses a
  colon fence, :::{name}, so its body renders as Markdown everywhere (a backtick fence shows the
  whole body as code in Colab), with a blank line before the closing fence (else the fence is
  glued to the last sentence).
* Its title is a bold first line of the body, not text after the braces, where it would be run
  together with the option lines (":::{exercise} One episode :label: ex-1" in Colab):
  - {exercise} and {prf:...}: the title argument moves into the body ("**One episode**"); the
    HTML box still says "Exercise 3.2" and shows the same bold title;
  - {admonition} with ``:class: warning`` (or note, tip, ...): becomes {warning} (that box, in
    the HTML book) with the title as its bold first line;
  - {solution-start}: gets the line "**Solution** (try the exercise first)";
  - directives with a literal body (code-cell, math, bibliography, ...) are left alone.

Usage (idempotent: a second run changes nothing; run it after merging new prose):

    python tools/notebook_markup.py book/*.ipynb          # rewrite in place
    python tools/notebook_markup.py --check book/*.ipynb  # exit 1 and list what would change
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
REFERENCES_PAGE = "references.html"  # the built page of book/references.md, beside the chapters

# Directives whose body is not Markdown: their fences stay as they are.
LITERAL = {
    "code-cell",
    "code",
    "code-block",
    "sourcecode",
    "math",
    "raw",
    "bibliography",
    "literalinclude",
    "mermaid",
    "graphviz",
    "csv-table",
    "glue:math",
    "eval-rst",
}
# Admonitions with a fixed title, which an {admonition} with that :class: becomes.
ADMONITIONS = {
    "attention",
    "caution",
    "danger",
    "error",
    "hint",
    "important",
    "note",
    "seealso",
    "tip",
    "warning",
}
SOLUTION_TITLE = "**Solution** (try the exercise first)"

ROLE = re.compile(r"\{(cite(?::[a-z]+)?|doc|math)\}`([^`]*)`")
FENCE_LINE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[^}\s]+)\}(?P<arg>.*)$")
OPTION = re.compile(r"^\s*:[\w-]+:")


# -- citations ---------------------------------------------------------------------------------


def _strip_braces(text: str) -> str:
    return re.sub(r"[{}]", "", text).strip()


def read_bib(path: pathlib.Path = BIB) -> dict[str, tuple[list[str], str]]:
    """``{key: (surnames, year)}`` of every entry of a BibTeX file.

    "van Hasselt, Hado" gives the surname "van Hasselt".
    """
    entries = {}
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", text, flags=re.DOTALL):
        key, body = match.group(1), match.group(2)
        fields = {
            m.group(1).lower(): m.group(2)
            for m in re.finditer(r"(\w+)\s*=\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\"[^\"]*\"|\d+)", body)
        }
        authors = _strip_braces(fields.get("author", fields.get("editor", "{Anonymous}"))[1:-1])
        surnames = []
        for person in re.split(r"\s+and\s+", authors):
            if "," in person:
                surnames.append(person.split(",")[0].strip())
            else:  # "First von Last": the last word (and a lower-case particle before it)
                words = person.split()
                surnames.append(" ".join(w for w in words[-2:] if w[0].islower() or w is words[-1]))
        year = _strip_braces(fields.get("year", "n.d.").strip('"'))
        entries[key] = (surnames, year)
    return entries


def _authors(surnames: list[str]) -> str:
    if len(surnames) == 1:
        return surnames[0]
    if len(surnames) == 2:
        return f"{surnames[0]} and {surnames[1]}"
    return f"{surnames[0]} et al."


def _link(text: str, key: str) -> str:
    # Inline HTML, not [text](references.html#...): MyST checks a Markdown link's #anchor against
    # the headings of the page and would warn (the build runs with -W); Colab and Jupyter render it.
    return f'<a href="{REFERENCES_PAGE}#cite-{key.lower()}">{text}</a>'


def cite(role: str, keys: str, bib: dict) -> str:
    """The Markdown for one citation role (``role`` is "cite", "cite:t", "cite:p", ...)."""
    parts = []
    for key in (k.strip() for k in keys.split(",") if k.strip()):
        if key not in bib:
            raise KeyError(f"{{{role}}}`{keys}`: no entry {key!r} in {BIB.relative_to(ROOT)}")
        surnames, year = bib[key]
        if role in ("cite:p", "cite:ps"):
            parts.append(_link(f"{_authors(surnames)}, {year}", key))
        elif role == "cite:author":
            parts.append(_link(_authors(surnames), key))
        elif role == "cite:year":
            parts.append(_link(year, key))
        else:  # cite, cite:t, cite:ts: "Watkins and Dayan (1992)" reads in any position
            parts.append(_link(f"{_authors(surnames)} ({year})", key))
    if role in ("cite:p", "cite:ps"):
        return "(" + "; ".join(parts) + ")"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _role(match: re.Match, bib: dict) -> str:
    role, text = match.group(1), match.group(2)
    if role.startswith("cite"):
        return cite(role, text, bib)
    if role == "math":
        return f"${text}$"
    # {doc}`text <target>` or {doc}`target`: a link to the notebook (Sphinx resolves it too)
    m = re.fullmatch(r"(.*?)\s*<([^>]+)>", text, flags=re.DOTALL)
    label, target = (m.group(1), m.group(2)) if m else (text, text)
    if "." not in target.rsplit("/", 1)[-1]:
        return f"[{label}]({target}.ipynb)"
    return f"[{label}]({target})"


def convert_roles(text: str, bib: dict) -> str:
    return ROLE.sub(lambda m: _role(m, bib), text)


# -- directives --------------------------------------------------------------------------------


class _Directive:
    def __init__(self, indent: str, fence: str, name: str, arg: str, children: list):
        self.indent, self.fence, self.name = indent, fence, name
        self.arg, self.children = arg, children


class _Literal:
    def __init__(self, lines: list[str]):
        self.lines = lines


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def _parse(lines: list[str], i: int = 0, fence: str | None = None) -> tuple[list, int]:
    """Lines, literal blocks and directives of ``lines[i:]`` up to the line closing ``fence``."""
    items: list = []
    while i < len(lines):
        line = lines[i]
        if fence is not None and _closes(line, fence):
            return items, i
        m = FENCE_LINE.match(line)
        info = m.group("info").strip() if m else ""
        if m and (m.group("fence")[0] != ":" or info.startswith("{")):
            d = DIRECTIVE.match(info)
            if d and d.group("name") not in LITERAL:
                children, end = _parse(lines, i + 1, m.group("fence"))
                if end < len(lines):
                    items.append(
                        _Directive(
                            m.group("indent"),
                            m.group("fence"),
                            d.group("name"),
                            d.group("arg").strip(),
                            children,
                        )
                    )
                    i = end + 1
                    continue
            # a code block or a literal directive: copied as it is, up to its closing fence
            end = i + 1
            while end < len(lines) and not _closes(lines[end], m.group("fence")):
                end += 1
            items.append(_Literal(lines[i : end + 1]))
            i = end + 1
            continue
        items.append(line)
        i += 1
    return items, i


def _render(items: list, bib: dict) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(convert_roles(item, bib))
        elif isinstance(item, _Literal):
            out.extend(item.lines)
        else:
            out.extend(_directive(item, bib))
    return out


def _directive(d: _Directive, bib: dict) -> list[str]:
    children = list(d.children)
    options = []
    while children and isinstance(children[0], str) and OPTION.match(children[0]):
        options.append(children.pop(0))
    inner = _render(children, bib)
    while inner and not inner[0].strip():
        inner.pop(0)
    while inner and not inner[-1].strip():
        inner.pop()
    name, arg, title = d.name, convert_roles(d.arg, bib), None
    if name == "admonition":
        classes = [o.split(":", 2)[2].strip() for o in options if o.strip().startswith(":class:")]
        if len(classes) == 1 and classes[0] in ADMONITIONS and arg:
            name, title, arg = classes[0], arg, ""
            options = [o for o in options if not o.strip().startswith(":class:")]
    elif (name == "exercise" or name.startswith("prf:")) and arg:
        title, arg = arg, ""
    elif name == "solution-start" and not inner:
        title = SOLUTION_TITLE
    if title is not None:
        bold = title if title.startswith("**") else f"**{title}**"
        inner = [d.indent + bold] + ([""] + inner if inner else [])
    # A colon fence must be longer than every colon fence nested inside it.
    nested = [
        len(m.group("fence"))
        for line in inner
        if (m := FENCE_LINE.match(line)) and m.group("fence")[0] == ":"
    ]
    fence = ":" * max([3, len(d.fence)] + [n + 1 for n in nested])
    head = f"{d.indent}{fence}{{{name}}}" + (f" {arg}" if arg else "")
    body = [""] + inner + [""] if inner else []
    return [head, *options, *body, d.indent + fence]


def convert_directives(text: str, bib: dict) -> str:
    items, _ = _parse(text.split("\n"))
    return "\n".join(_render(items, bib))


# -- notebooks ---------------------------------------------------------------------------------


def convert_markdown(text: str, bib: dict) -> str:
    """The converted text of one Markdown cell (unchanged if it already follows the convention)."""
    return convert_directives(text, bib)


def convert_notebook(path: pathlib.Path, bib: dict, write: bool = True) -> list[str]:
    """Convert every Markdown cell; returns the ids of the cells that changed."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    changed = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        new = convert_markdown(source, bib)
        if new != source:
            changed.append(cell.get("id", "?"))
            cell["source"] = new.splitlines(keepends=True)
    if changed and write:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a cell would change"
    )
    args = parser.parse_args(argv)
    bib = read_bib()
    status = 0
    for path in args.notebooks:
        changed = convert_notebook(path, bib, write=not args.check)
        if changed:
            verb = "would change" if args.check else "changed"
            print(f"{path}: {verb} cells {', '.join(changed)}")
            status = 1 if args.check else status
    return status


if __name__ == "__main__":
    sys.exit(main())
