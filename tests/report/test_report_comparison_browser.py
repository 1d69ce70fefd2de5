"""The comparison page in a real headless Chromium, from file://, with the network disabled.

Same pattern as test_report_site.py: the pages are opened once (console errors, failed
and blocked requests recorded), then each test inspects them. Under CI=true a missing
Chromium or Playwright is a failure; elsewhere these tests are skipped with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from pipelines.report.browser import VIEWPORT, launch_chromium
from tests_support import offline_context, open_page, require_browser

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PAGES = ("comparison/energy_precarity.html", "index.html", "est/site/energy_precarity.html")


@pytest.fixture(scope="module")
def browser_pages(two_territories):
    """The pages open in one offline Chromium, on a computer's and a phone's screen."""
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium)
        opened = {}
        for screen, viewport in (("desktop", VIEWPORT), ("phone", PHONE)):
            context = offline_context(browser, viewport, blocked)
            for name in PAGES:
                opened[screen, name] = open_page(context, two_territories / name)
        yield opened, blocked
        browser.close()


def test_no_request_leaves_the_machine_no_request_fails_no_console_error(browser_pages):
    opened, blocked = browser_pages
    assert blocked == []
    for key, state in opened.items():
        assert state.failed == [], key
        assert state.errors == [], key


def test_the_distribution_chart_draws_a_box_and_points_per_territory(browser_pages):
    opened, _ = browser_pages
    for screen in ("desktop", "phone"):
        page = opened[screen, "comparison/energy_precarity.html"].page
        drawn = page.evaluate("""() => {
            const el = document.querySelector('#chart-repartition-territoires');
            return [el.classList.contains('js-plotly-plot'), el.querySelectorAll('g.trace.boxes').length,
                    el.querySelectorAll('g.trace.boxes path.point').length,
                    el.querySelectorAll('g.geolayer > *, path.choroplethlocation').length]; }""")
        # est publishes 5 IRIS of 6, ouest 6: 11 points; no map
        assert drawn == [True, 2, 11, 0], screen


def test_no_horizontal_scroll_on_a_390_px_phone(browser_pages):
    opened, _ = browser_pages
    for name in PAGES:
        page = opened["phone", name].page
        widths = page.evaluate("""() => [document.documentElement.scrollWidth, document.body.scrollWidth,
            Math.max(0, ...Array.from(document.querySelectorAll('.chart')).map(c => c.getBoundingClientRect().right))]""")
        assert max(widths) <= PHONE["width"], f"{name}: {widths}"


def test_the_comparison_prints_to_an_a4_pdf(browser_pages):
    opened, _ = browser_pages
    pdf = opened["desktop", "comparison/energy_precarity.html"].page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes
    assert tuple(float(x) for x in boxes[0]) == pytest.approx((595.3, 841.9), abs=1.5)  # A4 in points


def test_links_between_territories_and_comparison_resolve(browser_pages):
    opened, _ = browser_pages
    targets = {}
    for name in PAGES:
        page = opened["desktop", name].page
        links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for absolute in links:
            url = urlparse(absolute)
            assert url.scheme == "file", f"{name}: {absolute}"
            assert Path(unquote(url.path)).is_file(), f"{name}: {absolute} does not resolve"
        targets[name] = {Path(unquote(urlparse(a).path)).as_posix() for a in links}
    comparison = next(iter(t for t in targets["index.html"] if t.endswith("/comparison/energy_precarity.html")))
    assert comparison in targets["est/site/energy_precarity.html"]  # "Comparer avec les autres territoires"
    assert any(t.endswith("/est/site/energy_precarity.html") for t in targets["comparison/energy_precarity.html"])
    assert any(t.endswith("/ouest/site/energy_precarity.html") for t in targets["comparison/energy_precarity.html"])


def test_the_link_from_a_territory_page_opens_the_comparison(browser_pages, two_territories):
    opened, _ = browser_pages
    page = opened["desktop", "est/site/energy_precarity.html"].page.context.new_page()  # the open ones stay
    page.goto((two_territories / "est" / "site" / "energy_precarity.html").resolve().as_uri())
    page.get_by_role("link", name="Comparer avec les autres territoires").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/comparison/energy_precarity.html")
    assert page.locator("h1").inner_text() == "Précarité énergétique"


def test_no_serious_or_critical_accessibility_violation(browser_pages):
    from axe_playwright_python.sync_playwright import Axe

    opened, _ = browser_pages
    for screen in ("desktop", "phone"):
        results = Axe().run(opened[screen, "comparison/energy_precarity.html"].page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{screen}:\n{results.generate_report()}"
