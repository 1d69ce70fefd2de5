"""The site in a real headless Chromium, from file://, with the network disabled.

One browser for the module: every page is opened once (recording console errors,
failed and blocked requests), then each test inspects the open pages. Under CI=true a
missing Chromium or Playwright is a failure; elsewhere these tests are skipped with the
reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import geopandas as gpd
import pytest

from pipelines.report.browser import VIEWPORT, launch_chromium
from pipelines.report.formatting import display_value, format_fr, parse_fr
from pipelines.report.site import build_site
from tests_support import offline_context, open_page, require_browser

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def site(published_outputs):
    outputs, metas = published_outputs
    return build_site(outputs, outputs / "site"), metas, outputs


@pytest.fixture(scope="module")
def pages(site):
    """Every page of the site, open in one offline Chromium; plus the blocked requests."""
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    summary = site[0]
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium)
        context = offline_context(browser, VIEWPORT, blocked)
        opened = {path.name: open_page(context, path) for path in summary.pages}
        yield opened, blocked
        browser.close()


def test_no_request_leaves_the_machine_and_none_fails(pages):
    opened, blocked = pages
    assert blocked == []
    for name, state in opened.items():
        assert state.failed == [], name


def test_no_console_error(pages):
    opened, _ = pages
    for name, state in opened.items():
        assert state.errors == [], name


def test_every_chart_is_drawn(pages, site):
    opened, _ = pages
    # map, ranking and distribution on every page, plus the crossing chart where there is one
    expected = {"index.html": 0} | {f"{d}.html": 3 + bool(m.get("crossing")) for d, m in site[1].items()}
    for name, state in opened.items():
        counts = state.page.evaluate("""() => Array.from(document.querySelectorAll('[data-figure]'))
            .map(el => el.classList.contains('js-plotly-plot')
                 ? Array.from(el.querySelectorAll('svg.main-svg'))
                     .reduce((n, svg) => n + svg.querySelectorAll('path').length, 0)
                 : -1)""")
        assert len(counts) == expected[name], name
        assert all(c > 0 for c in counts), f"{name}: paths per chart {counts}"


def test_the_map_draws_one_shape_per_zone(pages, site):
    opened, _ = pages
    _, metas, outputs = site
    for demo_id in metas:
        zones = gpd.read_parquet(outputs / demo_id / f"{demo_id}_iris.parquet")
        shapes = opened[f"{demo_id}.html"].page.locator("#chart-carte path.choroplethlocation")
        assert shapes.count() == len(zones), demo_id


def test_every_link_resolves(pages):
    opened, _ = pages
    for name, state in opened.items():
        links = state.page.evaluate("""() => Array.from(document.querySelectorAll('a[href]'))
            .map(a => [a.getAttribute('href'), a.href, a.hasAttribute('download')])""")
        assert any(d for *_, d in links) == (name != "index.html")
        for raw, absolute, _ in links:
            url = urlparse(absolute)
            assert url.scheme == "file", f"{name}: {raw}"
            assert Path(unquote(url.path)).is_file(), f"{name}: {raw} does not resolve"
            if url.fragment:
                assert state.page.locator(f"[id='{url.fragment}']").count() == 1, f"{name}: {raw}"


def test_no_serious_or_critical_accessibility_violation(pages):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    opened, _ = pages
    for name, state in opened.items():
        results = axe.run(state.page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{name}:\n{results.generate_report()}"


def test_keyboard_focus_reaches_the_skip_link_and_is_visible(pages):
    opened, _ = pages
    page = opened["energy_precarity.html"].page
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const el = document.activeElement, s = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return [el.className, s.outlineStyle, r.top >= 0 && r.bottom <= innerHeight]; }""")
    assert focused == ["skip-link", "solid", True]
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"


def test_each_page_prints_to_an_a4_pdf(pages):
    opened, _ = pages
    for name, state in opened.items():
        pdf = state.page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000, name
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes, name
        width, height = (float(x) for x in boxes[0])
        assert (width, height) == pytest.approx((595.3, 841.9), abs=1.5), name  # A4 in points


def _headline_texts(page, selector: str) -> list[tuple[str, str]]:
    return page.evaluate(f"""() => Array.from(document.querySelectorAll('{selector}')).map(h =>
        [h.querySelector('.headline-label').innerText, h.querySelector('.headline-value').innerText])""")


def _half_digit(text: str) -> float:
    """Half of the last digit shown: the most a correctly rounded figure can differ."""
    number = re.search(r"\d[\d\s\u202f\u00a0]*(?:,(\d+))?", text)
    decimals = len(number.group(1)) if number and number.group(1) else 0
    return 0.5 * 10 ** -decimals + 1e-9


def _shown(value, unit) -> float:
    return display_value(value, unit)


def test_headline_figures_equal_demonstrator_json(pages, site):
    opened, _ = pages
    _, metas, _ = site
    for demo_id, meta in metas.items():
        shown = _headline_texts(opened[f"{demo_id}.html"].page, ".headline")
        assert [label for label, _ in shown] == [h["label"] for h in meta["headlines"]]
        for (label, text), headline in zip(shown, meta["headlines"], strict=False):
            assert parse_fr(text) == pytest.approx(_shown(headline["value"], headline["unit"]), abs=_half_digit(text)), label
            assert text.endswith(headline["unit"]), label
    cards = _headline_texts(opened["index.html"].page, ".key-figure")
    firsts = [m["headlines"][0] for m in metas.values()]
    for (_, text), first in zip(cards, firsts, strict=True):
        assert parse_fr(text) == pytest.approx(_shown(first["value"], first["unit"]), abs=_half_digit(text))


def test_map_table_equals_the_published_table(pages, site):
    opened, _ = pages
    _, metas, outputs = site
    for demo_id, meta in metas.items():
        main = meta["main_indicator"]
        unit = next(i["unit"] for i in meta["indicators"] if i["id"] == main)
        zones = gpd.read_parquet(outputs / demo_id / f"{demo_id}_iris.parquet")
        rows = opened[f"{demo_id}.html"].page.evaluate("""() => Array.from(
            document.querySelectorAll('#figure-carte + details table tbody tr')).map(tr =>
            [tr.querySelector('th').textContent, tr.querySelector('td:last-child').textContent])""")
        assert [name for name, _ in rows] == zones.sort_values("code_iris")["nom_iris"].tolist()
        for (name, text), value in zip(rows, zones.sort_values("code_iris")[main], strict=False):
            if value != value:  # NA: suppressed
                assert text.startswith("Non publié"), name
            else:
                assert parse_fr(text) == pytest.approx(_shown(value, unit), abs=0.051), name


def test_narrative_names_the_highest_and_lowest_zones_of_the_table(pages, site):
    opened, _ = pages
    _, metas, outputs = site
    for demo_id, meta in metas.items():
        main = meta["main_indicator"]
        unit = next(i["unit"] for i in meta["indicators"] if i["id"] == main)
        zones = gpd.read_parquet(outputs / demo_id / f"{demo_id}_iris.parquet").dropna(subset=[main])
        high, low = zones.loc[zones[main].idxmax()], zones.loc[zones[main].idxmin()]
        first = opened[f"{demo_id}.html"].page.locator(".narrative p").first.inner_text()
        assert f"{format_fr(low[main], unit)} ({low['nom_iris']}" in first
        assert f"{format_fr(high[main], unit)} ({high['nom_iris']}" in first


def test_a_missing_chromium_fails_under_ci_and_is_skipped_elsewhere(monkeypatch):
    monkeypatch.setattr("pipelines.report.browser.find_chromium", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="need a Chromium"):
        require_browser()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        require_browser()


def test_hovering_a_zone_shows_its_name_and_french_value(pages, site):
    opened, _ = pages
    _, metas, outputs = site
    zones = gpd.read_parquet(outputs / "energy_precarity" / "energy_precarity_iris.parquet")
    communes = gpd.read_parquet(outputs / "energy_precarity" / "energy_precarity_commune.parquet")
    communes = dict(zip(communes.code_commune, communes.nom_commune, strict=False))
    main = metas["energy_precarity"]["main_indicator"]
    unit = next(i["unit"] for i in metas["energy_precarity"]["indicators"] if i["id"] == main)
    # a commune with a single IRIS (same name) is not repeated in brackets
    named = {z.code_iris: z.nom_iris if z.nom_iris == communes[z.code_commune] else f"{z.nom_iris}, {communes[z.code_commune]}"
             for z in zones.itertuples()}
    expected = {named[z.code_iris]:
                format_fr(getattr(z, main), unit) if getattr(z, main) == getattr(z, main)
                else "Non publié : secret statistique" for z in zones.itertuples()}
    page = opened["energy_precarity.html"].page
    page.bring_to_front()  # a background tab gets no animation frames: hover would crawl
    page.locator("#chart-carte").scroll_into_view_if_needed()
    shapes = page.locator("#chart-carte path.choroplethlocation")
    seen = {}
    label = page.locator("#chart-carte .hovertext")
    for i in range(shapes.count()):
        page.mouse.move(1, 1)  # off the map, so that the previous label goes
        label.wait_for(state="detached", timeout=2_000)
        box = shapes.nth(i).bounding_box()
        # one jump: intermediate mouse positions would hover other zones on the way
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        label.wait_for(state="attached", timeout=2_000)
        lines = [t.text_content() for t in label.locator("tspan.line").all()]
        seen[lines[0]] = lines[1]
    assert seen == expected
