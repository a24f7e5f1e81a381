"""Shared by the browser tests and their fixtures: where the book is, its pages, how to build it."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
STUDENT_HTML = ROOT / "_build" / "student" / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"

ENABLE_HINT = (
    "To run the browser tests: `sudo apt-get install chromium chromium-driver` (Debian/Ubuntu), "
    "then `make test-browser` (it installs the `browser` extra: selenium). "
    "Override the binaries with RLBOOK_CHROMIUM / RLBOOK_CHROMEDRIVER."
)

# Chromium flags: headless, no sandbox (CI runs as root), and no traffic of its own (no first-run,
# sync, component updates, QUIC). host-resolver-rules makes every host name unresolvable, so
# pages are tested as they are offline: CDN scripts (MathJax, the ipywidgets manager) and
# external links are never fetched. Only file:// URLs are opened, and the JupyterLab test's own
# server on 127.0.0.1 (the one address the rule leaves alone).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,1000",
]


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def skip_or_fail(reason: str):
    """Skip outside CI (with the how-to-enable hint); fail in CI, where the tools must be there."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip). {ENABLE_HINT}")
    pytest.skip(f"{reason}. {ENABLE_HINT}")


def toc_pages() -> list[str]:
    """Every page of the book in reading order, as 'book/NN_name' (from _toc.yml)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for c in toc["chapters"]]


def _sources() -> list[pathlib.Path]:
    files = [ROOT / "_config.yml", ROOT / "_toc.yml"]
    for pattern in ("*.ipynb", "*.md", "*.bib"):
        files += (ROOT / "book").glob(pattern)
        files += (ROOT / "student").glob(pattern)  # the student edition's sources
    return files


def ensure_built(html_dir: pathlib.Path, target: str) -> pathlib.Path:
    """Reuse html_dir if it is newer than every source, else run `make <target>`."""
    stamp = html_dir / "searchindex.js"  # rewritten by every Sphinx HTML build
    newest_source = max(p.stat().st_mtime for p in _sources())
    if not stamp.exists() or stamp.stat().st_mtime < newest_source:
        result = subprocess.run(["make", target], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(
                f"`make {target}` failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
    return html_dir
