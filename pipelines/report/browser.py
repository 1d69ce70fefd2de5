"""Headless Chromium for screenshots and tests, driven by Playwright.

Playwright's own browser download does not work offline, so a system Chromium is used
(Debian's ``chromium``), found at ``$DATACITES_CHROMIUM`` or on the usual paths.
Playwright is imported lazily: it is a test extra, not needed to build the site.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

CHROMIUM_ENV = "DATACITES_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
VIEWPORT = {"width": 1280, "height": 900}
READY_SELECTOR = "html[data-charts-ready='true']"


def find_chromium() -> Path | None:
    """Path of a usable Chromium, or None (``$DATACITES_CHROMIUM`` first)."""
    candidates = [os.environ.get(CHROMIUM_ENV, ""), *CHROMIUM_CANDIDATES,
                  shutil.which("chromium") or "", shutil.which("chromium-browser") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def launch_chromium(playwright, executable: Path | None = None):
    """Launch headless Chromium with the flags that keep it off the network.

    Parameters
    ----------
    playwright : playwright.sync_api.Playwright
        A started Playwright (``sync_playwright().start()``).
    executable : Path, optional
        Chromium to use; :func:`find_chromium` by default.

    Returns
    -------
    playwright.sync_api.Browser
    """
    executable = executable or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium found. Fix: `apt-get install chromium`, or set "
                                f"{CHROMIUM_ENV} to its path.")
    return playwright.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS))


def wait_for_charts(page, timeout_ms: float = 20_000) -> None:
    """Wait until every chart of a page is drawn (pages without charts return at once)."""
    if page.locator("[data-figure]").count():
        page.wait_for_selector(READY_SELECTOR, state="attached", timeout=timeout_ms)
