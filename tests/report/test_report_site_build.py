"""The static site as files: pages, assets shipped once, downloads, no external URL."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pytest

from pipelines.errors import SourceError
from pipelines.report.site import build_site


@pytest.fixture(scope="module")
def built(report_outputs):
    outputs, metas = report_outputs
    return build_site(outputs, outputs / "site"), metas, outputs


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Tags:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_one_page_per_demonstrator_and_a_home_page(built):
    summary, metas, _ = built
    assert [p.name for p in summary.pages] == ["index.html", "energy_precarity.html",
                                               "mobility_access.html"]
    assert summary.demonstrators == ("energy_precarity", "mobility_access")
    assert all(p.is_file() for p in summary.pages)
    assert summary.size_bytes > 4_000_000  # Plotly's JavaScript, once
    assert summary.warnings == ()


def test_plotly_is_shipped_once_and_pages_stay_small(built):
    summary, _, _ = built
    scripts = [p for p in summary.site_dir.rglob("*.js") if "plotly" in p.name]
    assert [p.relative_to(summary.site_dir).as_posix() for p in scripts] == ["assets/plotly.min.js"]
    for page in summary.pages:
        assert page.stat().st_size < 200_000, f"{page.name} embeds more than its data"


def test_pages_are_french_and_load_nothing_from_outside(built):
    summary, _, _ = built
    for page in summary.pages:
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<html lang="fr">', html)
        tags = _parse(page).tags
        for tag, attrs in tags:
            for key in ("src", "href"):
                value = attrs.get(key) or ""
                assert not re.match(r"^(https?:)?//", value), f"{page.name}: <{tag} {key}={value}>"
        assert "cdn." not in html and "fonts.googleapis" not in html


def test_geo_assets_are_defined_before_plotly_loads(built):
    summary, _, _ = built
    page = summary.site_dir / "energy_precarity.html"
    sources = [a["src"] for tag, a in _parse(page).tags if tag == "script" and "src" in a]
    assert sources == ["assets/geo-assets.js", "assets/plotly.min.js", "assets/charts.js"]
    assert "world_110m" in (summary.site_dir / "assets" / "geo-assets.js").read_text()
    index_scripts = [a for tag, a in _parse(summary.index).tags if tag == "script"]
    assert index_scripts == []  # the home page has no chart and loads no Plotly


def test_downloads_are_copies_of_the_published_tables(built):
    summary, metas, outputs = built
    for demo_id, meta in metas.items():
        links = [a["href"] for tag, a in _parse(summary.site_dir / f"{demo_id}.html").tags
                 if tag == "a" and "download" in a]
        expected = [f"downloads/{demo_id}/{name}" for t in meta["tables"]
                    for name in t["files"].values()] + [f"downloads/{demo_id}/demonstrator.json"]
        assert sorted(links) == sorted(expected)
        for href in links:
            copy = summary.site_dir / href
            original = outputs / demo_id / Path(href).name
            assert copy.read_bytes() == original.read_bytes()


def test_first_screen_carries_the_message_the_fictional_banner_and_the_headlines(built):
    summary, metas, _ = built
    for demo_id, meta in metas.items():
        html = (summary.site_dir / f"{demo_id}.html").read_text(encoding="utf-8")
        positions = [html.index(meta["message"].replace("'", "&#39;")),
                     html.index('class="headline-list"'), html.index('id="chart-carte"')]
        assert positions == sorted(positions)
        assert "Territoire fictif" in html
        assert html.count('class="headline"') == len(meta["headlines"])


def test_every_chart_has_a_text_alternative_and_a_data_table(built):
    summary, _, _ = built
    tags = _parse(summary.site_dir / "energy_precarity.html").tags
    charts = [a for tag, a in tags if "data-figure" in a]
    assert [c["id"] for c in charts] == ["chart-carte", "chart-classement", "chart-croisement",
                                         "chart-repartition"]
    ids = {a.get("id") for _, a in tags}
    for chart in charts:
        assert chart["role"] == "img" and chart["aria-label"]
        assert chart["aria-describedby"] in ids
    scoped = [a["scope"] for tag, a in tags if tag == "th"]
    assert scoped and set(scoped) <= {"col", "row"}


def test_rebuilding_replaces_the_site_without_leftovers(report_outputs, tmp_path):
    outputs, _ = report_outputs
    site = tmp_path / "site"
    build_site(outputs, site)
    (site / "stale.html").write_text("old")
    build_site(outputs, site)
    assert not (site / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_territory_json_overrides_the_demonstrators_territory(report_outputs, tmp_path):
    outputs, _ = report_outputs
    copy = tmp_path / "outputs"
    shutil.copytree(outputs, copy, ignore=shutil.ignore_patterns("site"))
    (copy / "territory.json").write_text(json.dumps({"name": "Pays de Nulle-Part (fictif)"}))
    summary = build_site(copy, copy / "site")
    assert "Pays de Nulle-Part (fictif)" in summary.index.read_text(encoding="utf-8")


def test_errors_name_the_file_and_the_field(report_outputs, tmp_path):
    with pytest.raises(SourceError, match="demonstrator.json found"):
        build_site(tmp_path / "empty", tmp_path / "site")
    outputs, _ = report_outputs
    copy = tmp_path / "outputs"
    shutil.copytree(outputs / "mobility_access", copy / "mobility_access")
    meta_path = copy / "mobility_access" / "demonstrator.json"
    meta = json.loads(meta_path.read_text())
    del meta["main_indicator"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(SourceError, match=r"mobility_access/demonstrator.json.*'main_indicator'"):
        build_site(copy, copy / "site")
    assert not (copy / "site").exists()


def test_a_demonstrator_with_nothing_published_still_gets_a_page(report_outputs, tmp_path):
    outputs, _ = report_outputs
    copy = tmp_path / "outputs"
    shutil.copytree(outputs / "mobility_access", copy / "mobility_access")
    table_path = copy / "mobility_access" / "mobility_access_iris.parquet"
    table = gpd.read_parquet(table_path)
    table["minutes_to_stop"] = float("nan")
    table.to_parquet(table_path)
    summary = build_site(copy, copy / "site")
    html = (summary.site_dir / "mobility_access.html").read_text(encoding="utf-8")
    assert "Aucune valeur n&#39;est publiée par IRIS pour cet indicateur." in html
    assert html.count("Non publié (") == 6


def test_every_chart_credits_the_sources_of_what_it_shows(built):
    summary, _, _ = built
    html = (summary.site_dir / "energy_precarity.html").read_text(encoding="utf-8")
    captions = dict(re.findall(r'<figcaption id="caption-([a-z]+)">(.*?)</figcaption>', html, flags=re.S))
    assert set(captions) == {"carte", "classement", "croisement", "repartition"}
    # share_fg, the main indicator and the crossing's, comes from the DPE only (conftest)
    dpe = "Sources\u00a0: ADEME, DPE des logements existants (2024, Licence Ouverte 2.0)."
    for chart, caption in captions.items():
        assert dpe in caption, chart
        assert "INSEE" not in caption and "Énergie Fictive" not in caption, chart
