"""Chapter 2 as a student meets it: JupyterLab in Chromium, Run All, then move a slider.

Run with ``make test-browser``. The test starts JupyterLab (from the ``browser`` extra) on
127.0.0.1 with a kernel of this interpreter's environment, on a copy of
colab/book/02_tabular_q_learning.ipynb (the plain-Markdown notebook that Binder's button opens)
in a temporary folder (so nothing is saved into book/), with
this checkout's rlbook first on the path. Nothing leaves the machine: Chromium resolves no host
name (CHROMIUM_FLAGS) and JupyterLab serves all of its own files; the install cell runs too
(JupyterLab's Run All ignores the skip-execution tag) and must find rlbook installed.

It fails on any error or stderr output (tracebacks, warnings: the pink blocks), on a progress
bar left red, on a widget that does not appear, and when moving the explorer's gamma slider does
not redraw its figure. Screenshots go to ``_build/screenshots/jupyterlab/``. The server is
stopped at the end.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from book_site import ROOT, skip_or_fail

NOTEBOOK = "02_tabular_q_learning.ipynb"
RUN_ALL_TIMEOUT = 300  # seconds; the chapter itself runs in about a minute on 2 cores
REDRAW_TIMEOUT = 60

# Settings of a fresh JupyterLab that would add network traffic or hide cells from the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# The state of the open notebook, from JupyterLab's own models (window.jupyterapp).
STATE_JS = r"""
const app = window.jupyterapp;
if (!app) return null;
let panel = null;
for (const w of app.shell.widgets('main')) {
  if (w.content && w.sessionContext && w.content.model) panel = w;
}
if (!panel) return {ready: false};
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const cells = [];
const model = panel.content.model;
for (let i = 0; i < model.cells.length; i++) {
  const c = model.cells.get(i);
  if (c.type !== 'code') continue;
  cells.push({index: i, count: c.executionCount, outputs: c.outputs.toJSON()});
}
return {ready: true, kernel: kernel ? kernel.status : 'none', cells: cells,
        running: document.querySelectorAll('.jp-InputPrompt').length
                 ? [...document.querySelectorAll('.jp-InputPrompt')]
                     .filter(p => p.innerText.includes('*')).length
                 : 0};
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_lab(root, work, env: dict, token: str, port: int):
    """A JupyterLab server on 127.0.0.1:port serving ``work`` while the block runs; yields its
    base URL. Its settings, workspaces and configuration live under ``root / "home"``, its log
    in ``root / "server.log"``; it is stopped (and killed if it hangs) afterwards."""
    home = root / "home"
    env = dict(env)
    env.update(
        PYTHONPATH=str(ROOT),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        IPYTHONDIR=str(home / "ipython"),
    )
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.extension_manager=readonly",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "JupyterLab did not start:\n" + (root / "server.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of chapter 2; yields its URL."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        skip_or_fail("JupyterLab is missing (`pip install -e '.[browser]'`)")
    root = tmp_path_factory.mktemp("lab")
    work, home = root / "work", root / "home"
    work.mkdir()
    shutil.copy2(ROOT / "colab" / "book" / NOTEBOOK, work / NOTEBOOK)
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token, port = secrets.token_hex(16), _free_port()
    # As a student's JupyterLab: none of the variables `make` sets for headless runs (progress
    # bars are on), and no PYTEST_CURRENT_TEST (with it, ipykernel would not show C-level stderr).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RLBOOK_PROGRESS", "TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST", "MPLBACKEND")
    }
    with running_lab(root, work, env, token, port) as base:
        yield f"{base}/lab/tree/{NOTEBOOK}?token={token}"


def _shot(driver, name: str, screenshots) -> None:
    folder = screenshots / "jupyterlab"
    folder.mkdir(exist_ok=True)
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
    (folder / name).write_bytes(base64.b64decode(data))


def _problems(state: dict) -> list[str]:
    """Error and stderr outputs, as the student sees them (pink blocks), in cell order."""
    found = []
    for cell in state["cells"]:
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                found.append(f"cell {cell['index']}: {out['ename']}: {out['evalue']}")
            elif out["output_type"] == "stream" and out["name"] == "stderr":
                found.append(f"cell {cell['index']} stderr: {''.join(out['text'])[:500]}")
    return found


def _scroll_to(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    time.sleep(0.5)


def test_chapter_2_runs_all_and_its_explorer_redraws(lab, driver, screenshots):
    start = time.monotonic()
    size = driver.get_window_size()
    driver.set_window_size(1400, 1000)
    try:
        _run_chapter_2(lab, driver, screenshots, start)
    finally:
        driver.set_window_size(size["width"], size["height"])  # as the page tests expect it


def _run_chapter_2(lab, driver, screenshots, start):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver.get(lab)
    deadline = time.monotonic() + 120
    state = None
    while time.monotonic() < deadline:
        state = driver.execute_script(STATE_JS)
        if state and state.get("ready") and state["kernel"] == "idle" and state["cells"]:
            break
        time.sleep(1)
    else:
        _shot(driver, "02_not_ready.png", screenshots)
        pytest.fail(f"the notebook or its kernel did not become ready: {state}")

    # Run All, as from the Run menu.
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    deadline = time.monotonic() + RUN_ALL_TIMEOUT
    while True:
        time.sleep(2)
        state = driver.execute_script(STATE_JS)
        problems = _problems(state)
        if problems:
            _shot(driver, "02_error.png", screenshots)
            pytest.fail("Run All showed errors or stderr:\n  " + "\n  ".join(problems))
        done = all(c["count"] is not None for c in state["cells"])
        if done and state["kernel"] == "idle" and not state["running"]:
            break
        if time.monotonic() > deadline:
            _shot(driver, "02_timeout.png", screenshots)
            pending = [c["index"] for c in state["cells"] if c["count"] is None]
            pytest.fail(f"Run All did not finish in {RUN_ALL_TIMEOUT} s; cells not run: {pending}")
    run_all_seconds = time.monotonic() - start

    # The install cell ran (Run All ignores skip-execution) and left the installed rlbook alone.
    install = state["cells"][0]["outputs"]
    install_text = "".join("".join(o.get("text", "")) for o in install)
    assert "nothing to install" in install_text and install_text.count("\n") == 1, install_text

    # No progress bar left red (tqdm's "danger" style), no widget missing.
    bars = driver.execute_script(
        "return [...document.querySelectorAll('.widget-hprogress')].map(p => "
        "[p.closest('.widget-hbox') ? p.closest('.widget-hbox').innerText : '', "
        "p.querySelector('.progress-bar').className]);"
    )
    red = [text for text, classes in bars if "progress-bar-danger" in classes]
    assert not red, f"progress bars left red: {red}"
    page_text = driver.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel").text
    for broken in ("Error displaying widget", "Loading widget...", "VBox(children="):
        assert broken not in page_text, f"a widget did not render: {broken!r}"

    # How an exercise and its hidden solution read in JupyterLab (tests/browser/
    # test_plain_notebooks.py checks that no MyST shows).
    exercise = driver.execute_script(
        "return [...document.querySelectorAll('.jp-MarkdownCell')]"
        ".find(c => c.innerText.includes('Exercise 2.1'));"
    )
    if exercise is not None:
        _scroll_to(driver, exercise)
        _shot(driver, "02_exercise.png", screenshots)

    # The explorer: three sliders (epsilon, gamma, alpha) above its figure.
    explorer = None
    for box in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .widget-vbox"):
        labels = [e.text for e in box.find_elements(By.CSS_SELECTOR, ".widget-label")]
        if {"epsilon", "gamma", "alpha"} <= set(labels):
            explorer = box
            break
    assert explorer is not None, "the tabular explorer's sliders are missing"
    _scroll_to(driver, explorer)
    _shot(driver, "02_after_run_all.png", screenshots)

    def figure():  # the src (a data: URL) of the explorer's figure; None while it is replaced
        return driver.execute_script(
            "const img = arguments[0].querySelector('.widget-output img'); "
            "return img ? img.src : null;",
            explorer,
        )

    before = figure()
    assert before, "the explorer shows no figure"
    sliders = [
        s
        for s in explorer.find_elements(By.CSS_SELECTOR, ".widget-slider, .widget-hslider")
        if "gamma" in s.text
    ]
    assert sliders, "no gamma slider"
    gamma = sliders[0]
    readout_before = gamma.find_element(By.CSS_SELECTOR, ".widget-readout").text
    handle = gamma.find_element(By.CSS_SELECTOR, ".noUi-handle")
    # A student's drag: press the handle, move it left, release (the explorer redraws on release).
    ActionChains(driver).click_and_hold(handle).move_by_offset(-60, 0).pause(
        0.3
    ).release().perform()
    deadline = time.monotonic() + REDRAW_TIMEOUT
    while figure() in (before, None):
        if time.monotonic() > deadline:
            _shot(driver, "02_no_redraw.png", screenshots)
            pytest.fail(
                f"moving gamma ({readout_before!r} -> "
                f"{gamma.find_element(By.CSS_SELECTOR, '.widget-readout').text!r}) did not redraw"
            )
        time.sleep(0.25)
    readout_after = gamma.find_element(By.CSS_SELECTOR, ".widget-readout").text
    assert readout_after != readout_before and "horizon" in readout_after, (
        readout_before,
        readout_after,
    )
    state = driver.execute_script(STATE_JS)
    assert not _problems(state), _problems(state)
    _scroll_to(driver, explorer)
    _shot(driver, "02_after_slider.png", screenshots)
    total = time.monotonic() - start
    print(
        f"JupyterLab chapter 2: Run All {run_all_seconds:.0f} s, whole test {total:.0f} s; "
        f"gamma {readout_before} -> {readout_after}; progress bars left: {bars}"
    )
    assert total < RUN_ALL_TIMEOUT + 2 * REDRAW_TIMEOUT
