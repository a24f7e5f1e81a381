"""Links of the built book: no dangling local link or anchor; external links listed in one place.

Runs over ``_build/html`` (``make book`` first; ``make test-browser`` runs it after the browser
tests, which build the book when it is missing or stale). Skipped when the book is not built.
Nothing is fetched: an external link is only compared with the list on the references page.

The build itself already runs with ``--warningiserror``, so Sphinx cross-references (``{doc}``,
``{ref}``, ``{cite}``, exercise labels) that do not resolve fail ``make book``; this test catches
what Sphinx does not check: raw HTML and Markdown links, anchors, and files that should have been
copied into the build (images, downloads, static files).
"""

from __future__ import annotations

import pathlib
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
LINKS_PAGE = HTML / "book" / "references.html"

# (tag, attribute) pairs that point at another resource.
LINK_ATTRS = {
    ("a", "href"),
    ("img", "src"),
    ("link", "href"),
    ("script", "src"),
    ("source", "src"),
    ("iframe", "src"),
}


class _Page(HTMLParser):
    """Collects ids, links, and the external links of the article (the page's own content)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.article_external: list[str] = []
        self.bibliography_external: list[str] = []
        self.links_section_external: list[str] = []
        self._stack: list[tuple[str, set[str], str]] = []  # (tag, classes, id)
        self.meta_refresh: str | None = None

    def _inside(self, predicate) -> bool:
        return any(predicate(tag, classes, ident) for tag, classes, ident in self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.ids.add(attrs[key])
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            content = attrs.get("content") or ""
            if "url=" in content.lower():
                self.meta_refresh = content[content.lower().index("url=") + 4 :].strip()
        for t, a in LINK_ATTRS:
            if tag == t and attrs.get(a):
                self.links.append(attrs[a])
                if t == "a" and urlparse(attrs[a]).scheme in ("http", "https"):
                    if self._inside(lambda tg, cl, i: tg == "article"):
                        self.article_external.append(attrs[a])
                    if self._inside(
                        lambda tg, cl, i: (
                            "citation" in cl or "bibliography" in cl or "footnote-list" in cl
                        )
                    ):
                        self.bibliography_external.append(attrs[a])
                    if self._inside(lambda tg, cl, i: tg == "section" and i == "links"):
                        self.links_section_external.append(attrs[a])
        if tag not in {
            "br",
            "img",
            "meta",
            "link",
            "input",
            "hr",
            "source",
            "wbr",
            "col",
            "area",
            "base",
        }:
            self._stack.append((tag, classes, attrs.get("id") or ""))

    def handle_endtag(self, tag):
        for k in range(len(self._stack) - 1, -1, -1):
            if self._stack[k][0] == tag:
                del self._stack[k:]
                break


def _parse(path: pathlib.Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


@pytest.fixture(scope="module")
def pages() -> dict[pathlib.Path, _Page]:
    if not (HTML / "index.html").exists():
        pytest.skip(
            "the book is not built: run `make book` (or `make test-browser`, which builds it)"
        )
    return {p: _parse(p) for p in HTML.rglob("*.html") if "_static" not in p.parts}


def _local_target(page: pathlib.Path, link: str) -> tuple[pathlib.Path, str] | None:
    parsed = urlparse(link)
    if parsed.scheme or parsed.netloc or link.startswith(("mailto:", "data:", "javascript:")):
        return None
    path, fragment = urldefrag(link)
    path = unquote(urlparse(path).path)
    target = page if path == "" else (page.parent / path).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(fragment)


def test_every_local_link_and_anchor_resolves(pages):
    dangling = []
    for page, parsed in pages.items():
        links = parsed.links + ([parsed.meta_refresh] if parsed.meta_refresh else [])
        for link in links:
            resolved = _local_target(page, link)
            if resolved is None:
                continue
            target, fragment = resolved
            where = f"{page.relative_to(HTML)} -> {link}"
            if not target.exists():
                dangling.append(
                    f"{where}: no file "
                    f"{target.relative_to(ROOT) if ROOT in target.parents else target}"
                )
            elif fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if fragment not in ids:
                    dangling.append(f"{where}: no id #{fragment}")
    assert not dangling, "dangling local links:\n  " + "\n  ".join(sorted(set(dangling)))


def _norm(url: str) -> str:
    return url.rstrip("/")


def test_external_links_are_listed_in_one_place(pages):
    """Every external link in a page's content is on the references page's list (or is a
    citation)."""
    if LINKS_PAGE not in pages:
        pytest.fail(
            f"{LINKS_PAGE.relative_to(ROOT)} is missing: it holds the list of external links"
        )
    listed = {_norm(u) for u in pages[LINKS_PAGE].links_section_external}
    assert listed, "the references page has no 'Links' section with external links"
    unlisted = []
    for page, parsed in pages.items():
        allowed = listed | {_norm(u) for u in parsed.bibliography_external}
        for link in parsed.article_external:
            if _norm(link) not in allowed:
                unlisted.append(f"{page.relative_to(HTML)}: {link}")
    assert not unlisted, (
        "external links missing from the 'Links' section of book/references.md "
        "(add them there):\n  " + "\n  ".join(sorted(set(unlisted)))
    )
