"""Fixtures for the browser tests: the built book, headless Chromium, the screenshot folder.

These tests run in their own make target, ``make test-browser`` (``.ci/run`` calls it after
``make book`` and ``make book-student``). They reuse ``_build/html`` when it is newer than every
source of the book and run ``make book`` otherwise.

Chromium comes from Debian (``apt-get install chromium chromium-driver``), never from a browser
download. Outside CI a machine without it skips these tests with a message saying how to enable
them; in CI (``CI`` set) a missing Chromium is a failure, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest
from book_site import CHROMIUM_FLAGS, HTML, SCREENSHOTS, STUDENT_HTML, ensure_built, skip_or_fail


@pytest.fixture(scope="session")
def book_html() -> pathlib.Path:
    return ensure_built(HTML, "book")


@pytest.fixture(scope="session")
def student_html() -> pathlib.Path:
    return ensure_built(STUDENT_HTML, "book-student")


@pytest.fixture(scope="session")
def screenshots() -> pathlib.Path:
    """_build/screenshots/, emptied once per session so it holds one PNG per page of this run."""
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def driver(tmp_path_factory):
    """A headless Debian Chromium driven by selenium through Debian's chromedriver."""
    chromium = (
        os.environ.get("RLBOOK_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    chromedriver = os.environ.get("RLBOOK_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not chromedriver:
        skip_or_fail("Chromium or chromedriver not found")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip_or_fail("The selenium package is missing (`pip install -e '.[browser]'`)")

    # Both binaries are given explicitly, so Selenium Manager never looks for (or downloads) one;
    # these variables keep it offline and quiet should it start anyway.
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()
