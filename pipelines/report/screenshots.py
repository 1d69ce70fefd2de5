"""Screenshots of the site's pages, for the README, a note, or a quick review."""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines.report.browser import VIEWPORT, find_chromium, launch_chromium, wait_for_charts

log = logging.getLogger(__name__)


def take_screenshots(site_dir: Path, out_dir: Path, *, full_page: bool = True,
                     viewport: dict | None = None) -> list[Path]:
    """Take a PNG screenshot of every page of the site in headless Chromium.

    Parameters
    ----------
    site_dir : Path
        Built site (its ``*.html`` pages are opened from ``file://``, offline).
    out_dir : Path
        Folder for ``<page>.png`` (created).
    full_page : bool
        Whole page (True) or the first screen only.
    viewport : dict, optional
        ``{"width": ..., "height": ...}``; a 1280 x 900 laptop screen by default.

    Returns
    -------
    list of Path
        The PNG files written; empty, with a log line, when no Chromium or Playwright is
        available.
    """
    chromium = find_chromium()
    if chromium is None:
        log.warning("screenshots skipped: no Chromium found (install `chromium`).")
        return []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log.warning("screenshots skipped: playwright is not installed (test extra).")
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium)
        context = browser.new_context(viewport=viewport or VIEWPORT, offline=True)
        page = context.new_page()
        for html in sorted(Path(site_dir).glob("*.html")):
            page.goto(html.resolve().as_uri(), wait_until="load")
            wait_for_charts(page)
            target = out_dir / f"{html.stem}.png"
            page.screenshot(path=str(target), full_page=full_page)
            written.append(target)
        browser.close()
    return written
