"""The README is a front door that stays true: short, every chapter listed, every folder described,
links that resolve, launch links built from _config.yml, and an example that runs."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_readme_is_at_most_150_lines():
    assert len(README.splitlines()) <= 150


def test_every_chapter_of_the_toc_is_listed():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [c["file"] for c in toc["chapters"] if c["file"] != "book/references"]
    chapters = README.split("## Chapters", 1)[1].split("\n## ", 1)[0]
    for page in pages:
        assert f"]({page}." in chapters, f"README's chapter list lacks {page}"


def test_every_folder_is_described_in_the_layout():
    try:
        files = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    folders = {f.split("/")[0] for f in files if "/" in f}
    folders |= {"/".join(f.split("/")[:2]) for f in files if f.startswith(("rlbook/", "tests/"))}
    folders = {f for f in folders if (ROOT / f).is_dir() and not f.endswith("__pycache__")}
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = sorted(f for f in folders if f"`{f}/`" not in layout)
    assert not missing, f"README's Layout does not describe {missing}"


def test_launch_links_open_this_repository_and_existing_notebooks():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    org_repo = config["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    branch = config["repository"]["branch"]
    binder = re.findall(
        r"mybinder\.org/v2/gh/([^/]+/[^/]+)/([^?]+)\?urlpath=lab/tree/([^)\s]+)", README
    )
    colab = re.findall(
        r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/([^)\s]+)", README
    )
    assert binder and colab
    for repo, ref, path in binder + colab:
        assert (repo, ref) == (org_repo, branch), f"{repo}@{ref} is not _config.yml's repository"
        assert (ROOT / path).exists(), f"a launch link opens {path}, which does not exist"


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if not re.match(r"[a-z]+:", target):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, not found"


def test_the_example_runs():
    """The README's Python example, with a tiny budget: the names and signatures it uses work."""
    code = re.search(r"```python\n(.*?)```", README, flags=re.DOTALL).group(1)
    assert len(code.strip().splitlines()) <= 8
    assert "steps=30_000" in code
    code = code.replace("steps=30_000", "steps=200")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert 0 < float(out.getvalue().split()[-1]) <= 500
