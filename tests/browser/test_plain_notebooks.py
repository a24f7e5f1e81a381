"""The notebooks the launch buttons open, in a real client that knows no MyST.

Colab renders plain Markdown; so does JupyterLab without the jupyterlab-myst extension. This test
starts JupyterLab (the ``browser`` extra) on 127.0.0.1 with jupyterlab-myst disabled in a
throwaway configuration folder (``labconfig/page_config.json``), opens copies of chapter 3's
plain-Markdown notebooks, ``colab/book/03_dqn.ipynb`` and ``colab/student/03_dqn.ipynb`` (an
exercise, errata boxes, the algorithm box, and in the full edition a hidden solution), in headless
Chromium, and checks the rendered page: no raw directive text is visible, the exercises carry
their numbers, and the full edition's solution code stays hidden until asked for. Screenshots go
to ``_build/screenshots/plain/``. Run with ``make test-browser``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import time

import pytest
from book_site import ROOT, skip_or_fail
from test_jupyterlab import LAB_SETTINGS, _free_port, running_lab

NOTEBOOK = "03_dqn.ipynb"
EDITIONS = ("book", "student")
RAW = (
    ":::{",
    "::::{",
    "{exercise}",
    "{solution",
    ":label:",
    ":class:",
    "{prf:",
    "{warning}",
    "{admonition}",
    "{cite",
    "{doc}",
)


@pytest.fixture(scope="module")
def plain_lab(tmp_path_factory):
    """JupyterLab without jupyterlab-myst, serving work/<edition>/03_dqn.ipynb.

    Yields (base URL, token)."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        skip_or_fail("JupyterLab is missing (`pip install -e '.[browser]'`)")
    root = tmp_path_factory.mktemp("plain-lab")
    work, home = root / "work", root / "home"
    for edition in EDITIONS:
        (work / edition).mkdir(parents=True)
        shutil.copy2(ROOT / "colab" / edition / NOTEBOOK, work / edition / NOTEBOOK)
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # The extension that would render MyST is switched off, as it is absent from Colab.
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"jupyterlab-myst": True}})
    )
    token, port = secrets.token_hex(16), _free_port()
    with running_lab(root, work, dict(os.environ), token, port) as base:
        yield base, token


def _shot(driver, name: str, screenshots) -> str:
    folder = screenshots / "plain"
    folder.mkdir(exist_ok=True)
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
    (folder / name).write_bytes(base64.b64decode(data))
    return str(folder / name)


# The open notebook's Markdown cells, once JupyterLab has rendered all of them.
# (The notebook opened earlier in the session may be restored as a hidden tab: the shown one.)
PANEL_JS = r"""
return [...document.querySelectorAll('.jp-NotebookPanel')]
  .find(p => !p.classList.contains('lm-mod-hidden')) || null;
"""
CELLS_JS = r"""
const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
  .find(p => !p.classList.contains('lm-mod-hidden'));
if (!panel) return null;
const md = [...panel.querySelectorAll('.jp-MarkdownCell')];
return {markdown: md.length,
        rendered: md.filter(c => c.querySelector('.jp-RenderedMarkdown')).length,
        config: document.getElementById('jupyter-config-data').textContent};
"""


@pytest.mark.parametrize("edition", EDITIONS)
def test_plain_notebook_shows_no_myst_in_jupyterlab_without_jupyterlab_myst(
    edition, plain_lab, driver, screenshots
):
    base, token = plain_lab
    expected = [
        c
        for c in json.loads((ROOT / "colab" / edition / NOTEBOOK).read_text())["cells"]
        if c["cell_type"] == "markdown"
    ]
    driver.get(f"{base}/lab/tree/{edition}/{NOTEBOOK}?token={token}")
    deadline = time.monotonic() + 120
    state = None
    while time.monotonic() < deadline:
        state = driver.execute_script(CELLS_JS)
        if state and state["markdown"] == len(expected) and state["rendered"] == len(expected):
            break
        time.sleep(1)
    else:
        _shot(driver, f"03_{edition}_not_ready.png", screenshots)
        pytest.fail(f"the notebook's Markdown cells did not all render: {state}")
    time.sleep(2)  # MathJax typesets after the Markdown renders
    config = json.loads(state["config"])
    assert "jupyterlab-myst" in config.get("disabledExtensions", []), (
        "jupyterlab-myst is not disabled: this test would not show what Colab shows"
    )

    panel = driver.execute_script(PANEL_JS)
    text = panel.get_attribute("innerText")
    raw = [r for r in RAW if r in text]
    first = driver.execute_script(
        "return [...arguments[0].querySelectorAll('.jp-MarkdownCell')]"
        ".find(c => c.innerText.includes('Exercise 3.1'));",
        panel,
    )
    if first is not None:
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", first)
        time.sleep(1)
    path = _shot(driver, f"03_dqn_{edition}_exercise.png", screenshots)
    print(f"screenshot: {path}")
    assert not raw, f"raw MyST visible in colab/{edition}/{NOTEBOOK}: {raw} (see {path})"
    assert first is not None, "no 'Exercise 3.1' heading in the rendered notebook"
    assert "Algorithm 3.1: Deep Q-network" in text
    box = driver.execute_script(
        "return [...arguments[0].querySelectorAll('.jp-MarkdownCell')]"
        ".find(c => c.innerText.includes('Algorithm 3.1'));",
        panel,
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", box)
    time.sleep(1)
    _shot(driver, f"03_dqn_{edition}_algorithm.png", screenshots)

    if edition == "book":
        # The solution heading is there; its code is collapsed (JupyterLab's hidden input).
        heading = driver.execute_script(
            "return [...arguments[0].querySelectorAll('.jp-MarkdownCell')]"
            ".find(c => c.innerText.includes('Solution to Exercise 3.1'));",
            panel,
        )
        assert heading is not None, "no 'Solution to Exercise 3.1' heading"
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", heading)
        time.sleep(1)
        _shot(driver, f"03_dqn_{edition}_solution.png", screenshots)
        solution = "return reward + gamma * (1.0 - terminated) * next_q_target.max(axis=-1)"
        assert solution not in text, "the solution's code shows before the reader asks for it"
    else:
        assert "Solution to" not in text
