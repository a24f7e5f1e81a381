"""Every page of the built book, opened in headless Chromium, shows what a reader needs.

Run with ``make test-browser``. Each page of _toc.yml is opened from ``_build/html`` by its
file:// URL, a full-page screenshot is saved to ``_build/screenshots/<page>.png``, and the test
fails when the page shows:

* a Python traceback or error output (myst-nb's ``traceback``/``stderr`` outputs, docutils
  system messages, "Traceback (most recent call last)" in an output), or a JavaScript error
  raised by the page's own scripts;
* an image that did not load (``naturalWidth == 0``);
* a matplotlib ``to_jshtml`` animation that did not start (no frame shown, fewer than two frames,
  or the "next frame" button does not change the picture);
* a widget without its saved state: each ``widget-view+json`` output must refer to a model in
  the page's embedded ``widget-state+json``, and every Output widget in it must hold outputs (an
  empty box otherwise); no raw widget JSON may be visible, and no progress bar (tqdm) may be
  left in an output;
* on a chapter page (``NN_name``): no Binder or no Colab launch link, or links that do not open
  ``book/NN_name.ipynb`` of the configured repository on the configured branch;
* on a chapter page: no "Live Code" button (Thebe), a Thebe configuration that would start a
  kernel other than the notebook's, from another repository or branch or outside book/, or a code
  cell of the notebook that Thebe would not turn into a runnable cell (so "run the cells in
  order", from the install cell on, works in the page). Nothing is clicked and nothing is
  fetched: the test reads the page's configuration and the cells Thebe's selector finds;
* a Binder or Colab link to a page that is not a notebook (the intro is MyST Markdown);
* an exercise without a solution dropdown that opens on click.

What is checked offline, and what is not. Chromium resolves no host name here (see
CHROMIUM_FLAGS), so scripts from CDNs never load: MathJax (formulas stay as TeX source) and
the ipywidgets HTML manager (``@jupyter-widgets/html-manager``, which draws the live widget from
its saved state). The test therefore checks the saved widget state that the manager renders
online, not the drawn widget, and that the reader sees a note in the widget's place
(``_static/widget-fallback.js``) rather than an unexplained gap; where the manager did load (a
run without the resolver rule), it checks that each widget was drawn. Every figure, animation
and static widget view (small multiples) is plain HTML and is checked fully.
"""

from __future__ import annotations

import json
import pathlib
import re
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from book_site import ROOT, toc_pages

PAGES = toc_pages()
CHAPTER = re.compile(r"(^|/)\d\d_[^/]+$")

# Console messages of the book's toolchain, not of the book, that are harmless to a reader:
# sphinx-thebe 0.3.1 registers its inline config script twice under Sphinx 7 (the second copy's
# `const` redeclaration fails; the first defines everything Thebe needs), and
# pydata-sphinx-theme reports a fresh browser profile's empty light/dark setting.
KNOWN_THEME_MESSAGES = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    "Got invalid theme mode: . Resetting to auto.",
)

# One script gathers the facts of a page; Python decides what is a problem.
INSPECT_JS = r"""
const out = {errors: [], images: [], animations: [], widgets: {}, exercises: [], links: [],
             textClutter: []};
const article = document.querySelector('article') || document.body;

// 1. Errors shown in the page.
for (const el of document.querySelectorAll(
        '.output.traceback, .output.error, .output.stderr, .system-message, .problematic')) {
  out.errors.push(el.className + ': ' + el.innerText.slice(0, 300));
}
for (const el of document.querySelectorAll('.cell_output')) {
  const t = el.innerText;
  if (t.includes('Traceback (most recent call last)'))
    out.errors.push('traceback: ' + t.slice(0, 300));
  // tqdm leaves "42%|####   | 21/50 [00:01<00:02, 12.3it/s]" lines behind.
  if (/\d+%\|.*\|\s*\d+\/\d+/.test(t) || /\d+(\.\d+)?(it|s)\/(s|it)\]/.test(t))
    out.textClutter.push(t.slice(0, 200));
}

// 2. Images (every <img>, including the frames of animations and the theme's icons).
for (const img of document.images) {
  out.images.push({src: img.getAttribute('src').slice(0, 120), complete: img.complete,
                   width: img.naturalWidth});
}

// 3. matplotlib to_jshtml animations: a frame shown, >= 2 frames, "next frame" changes it.
for (const div of document.querySelectorAll('div.animation')) {
  const img = div.querySelector('img');
  const slider = div.querySelector('input.anim-slider');
  const next = [...div.querySelectorAll('button')].find(
      b => (b.getAttribute('onclick') || '').includes('next_frame'));
  const info = {shown: !!img && img.complete && img.naturalWidth > 0,
                frames: slider ? Number(slider.max) + 1 : 0, advanced: false};
  if (img && next) {
    const before = img.src;
    next.click();
    info.advanced = img.src !== before;
  }
  out.animations.push(info);
}

// 4. Widgets: the saved state and the views that refer to it.
const stateEl = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
out.widgets.state = stateEl ? stateEl.textContent : null;
const viewSelector = 'script[type="application/vnd.jupyter.widget-view+json"]';
out.widgets.views = [...document.querySelectorAll(viewSelector)]
  .map(s => s.textContent);
out.widgets.managerLoaded = typeof window.require !== 'undefined';
out.widgets.drawn = document.querySelectorAll('.widget-subarea').length;
// Each view must show something: the drawn widget, or (offline) _static/widget-fallback.js's note.
out.widgets.blank = [...document.querySelectorAll(viewSelector)]
  .filter(s => { const p = s.previousElementSibling;
                 return !(p && (p.classList.contains('widget-subarea') ||
                                (p.classList.contains('widget-fallback') &&
                                 p.offsetHeight > 0))); }).length;
out.widgets.rawJsonVisible =
  /"model_id"|application\/vnd\.jupyter\.widget/.test(document.body.innerText);

// 5. Exercises and their solutions.
for (const ex of document.querySelectorAll('div.exercise')) {
  const sols = [...document.querySelectorAll('div.solution')].filter(
      s => s.querySelector('.admonition-title a[href="#' + ex.id + '"]'));
  out.exercises.push({id: ex.id,
                      title: (ex.querySelector('.admonition-title') || ex).innerText.trim(),
                      solutions: sols.length,
                      dropdown: sols.some(s => s.classList.contains('dropdown'))});
}

// 6. Every link of the page (launch buttons are in the header, outside the article).
for (const a of document.querySelectorAll('a[href]')) out.links.push(a.href);
return out;
"""


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _severe_console_errors(driver) -> list[str]:
    """JavaScript errors of the page's own scripts (network failures of CDN files are expected)."""
    try:
        logs = driver.get_log("browser")
    except Exception:  # noqa: BLE001 - some driver versions do not expose logs
        return []
    bad = []
    for entry in logs:
        msg = entry.get("message", "")
        if entry.get("level") != "SEVERE":
            continue
        if "net::ERR_" in msg or "Failed to load resource" in msg:
            continue  # a CDN script or font that cannot be reached offline
        if any(known in msg for known in KNOWN_THEME_MESSAGES):
            continue
        bad.append(msg[:300])
    return bad


def _screenshot(driver, path):
    """A full-page PNG (the page's whole height, at most 30,000 px)."""
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    width = driver.execute_script("return document.documentElement.clientWidth")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(int(height), 30000), "scale": 1},
        },
    )
    import base64

    path.write_bytes(base64.b64decode(shot["data"]))


def _widget_problems(widgets: dict) -> list[str]:
    problems = []
    views = [json.loads(v) for v in widgets["views"]]
    if widgets["rawJsonVisible"]:
        problems.append("raw widget JSON is visible in the page text")
    if not views:
        return problems
    if not widgets["state"]:
        return problems + [
            f"{len(views)} widget view(s) but no saved widget state: the page shows empty boxes"
        ]
    state = json.loads(widgets["state"])["state"]

    def reachable(model_id, seen):
        if model_id in seen or model_id not in state:
            return
        seen.add(model_id)
        for ref in re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[model_id]["state"])):
            reachable(ref, seen)

    for view in views:
        mid = view["model_id"]
        if mid not in state:
            problems.append(f"widget view {mid} has no saved state")
            continue
        seen: set[str] = set()
        reachable(mid, seen)
        names = {state[m]["model_name"] for m in seen}
        for m in seen:
            if state[m]["model_name"] == "OutputModel" and not state[m]["state"].get("outputs"):
                problems.append(
                    f"widget {mid}: an Output widget saved no outputs (an empty box in the page)"
                )
        if names & {"FloatProgressModel", "IntProgressModel"}:
            problems.append(
                f"widget {mid}: a progress bar was saved into the page (set RLBOOK_PROGRESS=0)"
            )
        if names <= {"LayoutModel", "DescriptionStyleModel", "BoxModel", "VBoxModel", "HBoxModel"}:
            problems.append(f"widget {mid}: no control or output in its saved state")
    if widgets["blank"]:
        problems.append(
            f"{widgets['blank']} widget view(s) show nothing: neither drawn nor explained "
            "by the fallback note of _static/widget-fallback.js"
        )
    if widgets["managerLoaded"] and widgets["drawn"] < len(views):
        problems.append(
            f"the widget manager loaded but drew {widgets['drawn']} of {len(views)} widgets"
        )
    return problems


def _launch_problems(page: str, links: list[str]) -> list[str]:
    cfg = _config()
    repo = urlparse(cfg["repository"]["url"]).path.strip("/")
    branch = cfg["repository"]["branch"]
    # The launch buttons open the page's plain-Markdown copy, colab/ + the page's path
    # (tools/plain_markdown.py; _ext/launch_links_for_notebooks.py).
    notebook = "colab/" + (
        cfg["repository"].get("path_to_book", "").strip("/") + "/" + page + ".ipynb"
    ).lstrip("/")
    problems = []
    if not (ROOT / notebook).exists():
        problems.append(f"{notebook} does not exist: Binder and Colab open the .ipynb file")
    binder_base = cfg["launch_buttons"]["binderhub_url"].rstrip("/") + f"/v2/gh/{repo}/{branch}"
    binder = [u for u in links if u.startswith(binder_base + "?")]
    if not binder:
        problems.append(f"no Binder link starting with {binder_base}")
    elif not all(
        parse_qs(urlparse(u).query)["urlpath"][0].endswith("tree/" + notebook) for u in binder
    ):
        problems.append(f"Binder link does not open {notebook}: {binder}")
    colab = (
        cfg["launch_buttons"]["colab_url"].rstrip("/") + f"/github/{repo}/blob/{branch}/{notebook}"
    )
    if colab not in links:
        problems.append(f"no Colab link {colab}")
    return problems


THEBE_JS = r"""
const cfg = document.querySelector('script[type="text/x-thebe-config"]');
const live = [...document.querySelectorAll('button')].filter(
    b => (b.getAttribute('onclick') || '') === 'initThebeSBT()');
const cells = typeof thebe_selector === 'undefined' ? []
  : [...document.querySelectorAll(thebe_selector)];
return {
  config: cfg ? cfg.textContent : null,
  liveButtons: live.map(b => b.innerText.trim()),
  ready: typeof initThebe === 'function' && typeof initThebeSBT === 'function' &&
         typeof THEBE_JS_URL === 'string' && typeof thebe_selector_input === 'string',
  // What Thebe would make runnable: the input of each cell its selector finds, in page order.
  inputs: cells.map(c => c.querySelector('.cell_input ' + thebe_selector_input))
               .filter(pre => pre).map(pre => pre.textContent),
  loadedNow: [...document.scripts].filter(s => /thebe@|thebelab/.test(s.src)).map(s => s.src),
};
"""


def _thebe_field(config: str, name: str) -> str | None:
    match = re.search(rf"{name}:\s*\"([^\"]*)\"", config)
    return match.group(1) if match else None


def _thebe_problems(page: str, thebe: dict) -> list[str]:
    """The Live Code button and Thebe's configuration, read from the page (nothing is fetched)."""
    cfg = _config()
    if not thebe["liveButtons"]:
        return ["no Live Code (Thebe) button in the launch menu"]
    if thebe["liveButtons"] != ["Live Code"]:
        return [f"unexpected Thebe buttons: {thebe['liveButtons']}"]
    if not thebe["config"] or not thebe["ready"]:
        return ["Thebe is not configured on the page (no x-thebe-config or no sphinx-thebe.js)"]
    problems = []
    if thebe["loadedNow"]:
        problems.append(f"Thebe is loaded before the reader asks for it: {thebe['loadedNow']}")
    repo = urlparse(cfg["repository"]["url"]).path.strip("/")
    notebook = json.loads((ROOT / f"{page}.ipynb").read_text())
    expected = {
        "repo": repo,
        "ref": cfg["repository"]["branch"],
        "name": notebook["metadata"]["kernelspec"]["name"],
        "path": str(pathlib.PurePosixPath(page).parent),
    }
    got = {key: _thebe_field(thebe["config"], key) for key in expected}
    got["path"] = str(pathlib.PurePosixPath(got["path"] or ""))  # "./book" -> "book"
    if got != expected:
        problems.append(f"Thebe would start {got}, expected {expected}")
    # Every code cell of the notebook, in order, is a cell Thebe can run (none removed from the
    # page), starting with the install cell.
    sources = [
        "".join(c["source"]).strip()
        for c in notebook["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]
    shown = [text.strip() for text in thebe["inputs"]]
    if len(shown) != len(sources) or any(_squash(a) != _squash(b) for a, b in zip(shown, sources)):
        pairs = enumerate(zip(shown, sources))
        first = next(
            (i for i, (a, b) in pairs if _squash(a) != _squash(b)), min(len(shown), len(sources))
        )
        problems.append(
            f"Thebe finds {len(shown)} runnable cells, the notebook has {len(sources)} "
            f"code cells; the first difference is at code cell {first}"
        )
    elif "pip install" not in sources[0]:
        problems.append("the first runnable cell is not the install cell")
    return problems


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _open_solutions_problems(driver) -> list[str]:
    """Click each solution's toggle button and check that its code becomes visible."""
    return driver.execute_script(r"""
      const problems = [];
      for (const sol of document.querySelectorAll('div.solution.dropdown')) {
        const btn = sol.querySelector('button.toggle-button');
        if (!btn) { problems.push(sol.id + ': no toggle button'); continue; }
        btn.click();
      }
      return problems;
    """) + driver.execute_script(r"""
      const problems = [];
      for (const sol of document.querySelectorAll('div.solution.dropdown')) {
        const body = sol.querySelector('section, .cell');
        if (body && body.offsetHeight === 0) problems.push(sol.id + ': still hidden after a click');
      }
      return problems;
    """)


# A code cell or an output wider than the page's column scrolls sideways in a 1280-pixel
# window: the reader has to scroll to read it. The offending line, cut to 60 characters.
SIDEWAYS_JS = r"""
  const wide = [];
  for (const pre of document.querySelectorAll('div.cell pre, div.output pre')) {
    if (pre.scrollWidth > pre.clientWidth + 2) {
      const lines = pre.innerText.split('\n');
      const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
      wide.push(`${longest.slice(0, 60)} (${longest.length} characters, ` +
                `${pre.scrollWidth}/${pre.clientWidth} px)`);
    }
  }
  return wide;
"""


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_a_kernel(page, driver, book_html, screenshots):
    url = (book_html / f"{page}.html").as_uri()
    driver.get(url)
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight); window.scrollTo(0, 0);")
    # Wait until every image has finished loading or failed, and every widget view is drawn or
    # has its fallback note (added 2 s after load); file:// is fast, 10 s is generous.
    driver.set_script_timeout(15)
    driver.execute_async_script("""
      const done = arguments[arguments.length - 1];
      const t0 = Date.now();
      const settled = () => [...document.images].every(i => i.complete) &&
        [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')].every(
          s => s.previousElementSibling &&
               /widget-(subarea|fallback)/.test(s.previousElementSibling.className));
      (function poll() {
        if (settled() || Date.now() - t0 > 10000) done();
        else setTimeout(poll, 100);
      })();
    """)
    _screenshot(driver, screenshots / (page.replace("/", "_") + ".png"))
    facts = driver.execute_script(INSPECT_JS)

    problems = [f"error shown: {e}" for e in facts["errors"]]
    problems += [f"JavaScript error: {e}" for e in _severe_console_errors(driver)]
    problems += [f"progress-bar clutter in an output: {t!r}" for t in facts["textClutter"]]
    problems += [
        f"image did not load: {i['src']}"
        for i in facts["images"]
        if not (i["complete"] and i["width"] > 0)
    ]
    for k, anim in enumerate(facts["animations"]):
        if not anim["shown"] or anim["frames"] < 2 or not anim["advanced"]:
            problems.append(f"animation {k} did not render or play: {anim}")
    problems += _widget_problems(facts["widgets"])
    thebe = driver.execute_script(THEBE_JS)
    if CHAPTER.search(page):
        problems += _launch_problems(page, facts["links"])
        problems += _thebe_problems(page, thebe)
    elif not (ROOT / f"{page}.ipynb").exists():
        launch = [u for u in facts["links"] if "/v2/gh/" in u or "/github/" in u and "colab" in u]
        if launch:
            problems.append(f"Binder/Colab links to a page that is not a notebook: {launch}")
    for ex in facts["exercises"]:
        if ex["solutions"] == 0 or not ex["dropdown"]:
            problems.append(f"exercise {ex['id']} ({ex['title']}) has no solution dropdown")
    problems += _open_solutions_problems(driver)
    problems += [f"scrolls sideways: {t!r}" for t in driver.execute_script(SIDEWAYS_JS)]

    assert not problems, f"{page}.html:\n  " + "\n  ".join(problems)


def test_one_screenshot_per_page(screenshots, book_html):
    """Runs after the page tests (file order): the folder holds exactly one PNG per page."""
    shots = sorted(p.stem for p in screenshots.glob("*.png"))
    if not shots:
        pytest.skip("no page test ran (Chromium missing?)")
    assert shots == sorted(p.replace("/", "_") for p in PAGES)
