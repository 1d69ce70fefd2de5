"""Pages comparing territories, from two tiny published territories (see conftest.py).

Values worked out by hand: est's energy figures are its headlines (no territory_values),
ouest's come from its territory_values; est's IRIS share_fg are 31,2 / 18,4 / secret /
9,7 / 23,45 / 15,1 %, ouest's 25 / 10 / 40 / 5 / 20 / 30 %.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelines.errors import PrivacyError
from pipelines.privacy import audit_outputs
from pipelines.report.comparison import build_comparisons, comparison_plan
from pipelines.report.territories import publish_territory_site

NBSP = "\u00a0"
ENERGY = "energy_precarity"
MOBILITY = "mobility_access"
EAST, WEST = "est", "ouest"  # the territories of conftest's `two_territories`


class _Page(HTMLParser):
    """Tables (rows of cell texts, header cells included), links and embedded JSON of a page."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self.scripts: dict[str, str] = {}
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "script" and attrs.get("type") == "application/json":
            self._script = attrs["id"]
            self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            # ASCII white space only: the no-break spaces of French figures are kept
            self.tables[-1][-1].append(re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script:
            self.scripts[self._script] += data
        elif self._cell is not None:
            self._cell.append(data)
        self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def fr(text: str) -> str:
    """A French-formatted figure as written in the tests (plain spaces -> no-break spaces)."""
    return text.replace(" ", NBSP)


def table_with(page: _Page, header: str) -> list[list[str]]:
    return next(t for t in page.tables if t and t[0] and t[0][0] == header)


@pytest.fixture(scope="module")
def energy_page(two_territories) -> _Page:
    return parse(two_territories / "comparison" / f"{ENERGY}.html")


def test_only_demonstrators_shown_by_two_territories_get_a_page(two_territories):
    assert comparison_plan(two_territories) == {ENERGY: [EAST, WEST]}
    pages = sorted(p.name for p in (two_territories / "comparison").glob("*.html"))
    assert pages == [f"{ENERGY}.html"]  # mobility is published by est only
    assert (two_territories / "comparison" / "assets" / "plotly.min.js").is_file()


def test_the_page_is_french_and_loads_nothing_from_outside(two_territories):
    html = (two_territories / "comparison" / f"{ENERGY}.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources == ["assets/plotly.min.js", "assets/charts.js"]  # no map: no geo assets either


def test_values_table_puts_the_territories_side_by_side(energy_page):
    rows = table_with(energy_page, "Indicateur")
    assert rows[0] == ["Indicateur", "Ville de l'Est", "Ville de l'Ouest"]
    # est's headlines order, then nothing more: the main indicator (share_fg) is a headline
    assert rows[1:] == [
        ["Ménages modestes en logement F ou G", fr("1 169 ménages"), "non publié"],
        ["Part des logements classés F ou G", fr("18,3 %"), fr("20,5 %")],
        ["Ménages", fr("6 539 ménages"), fr("5 000 ménages")],
    ]
    text = " ".join("".join(energy_page.text).replace(NBSP, " ").split())
    assert ("« Part des logements classés F ou G », pour l'ensemble du territoire : 18,3 % pour "
            "Ville de l'Est, 20,5 % pour Ville de l'Ouest.") in text


def test_each_territory_links_to_its_site_with_its_data_date(energy_page, two_territories):
    rows = table_with(energy_page, "Territoire")
    assert [r[:2] for r in rows[1:]] == [["Ville de l'Est", "2024"], ["Ville de l'Ouest", "2023"]]
    for territory in (EAST, WEST):
        href = f"../{territory}/site/{ENERGY}.html"
        assert href in energy_page.links
        assert (two_territories / "comparison" / href).resolve().is_file()
    assert "../index.html" in energy_page.links  # back to every territory


def test_distribution_statistics_per_territory(energy_page):
    rows = table_with(energy_page, "Statistique")
    assert rows[0] == ["Statistique", "Ville de l'Est", "Ville de l'Ouest"]
    assert {r[0]: r[1:] for r in rows[1:]} == {
        "IRIS publiés": ["5 / 6", "6 / 6"],
        "Minimum": [fr("9,7 %"), fr("5,0 %")],
        "Médiane": [fr("18,4 %"), fr("22,5 %")],          # (20 + 25) / 2
        "Moyenne des IRIS": [fr("19,6 %"), fr("21,7 %")],  # 97,85 / 5 and 130 / 6
        "Maximum": [fr("31,2 %"), fr("40,0 %")],
        "Ensemble du territoire": [fr("18,3 %"), fr("20,5 %")],
    }


def test_distribution_chart_is_a_box_per_territory_and_no_geo_trace(energy_page):
    spec = json.loads(energy_page.scripts["data-repartition-territoires"])
    types = [t["type"] for t in spec["data"]]
    assert not any("geo" in t or t.startswith(("choropleth", "scattermap")) for t in types)
    boxes = [t for t in spec["data"] if t["type"] == "box"]
    assert [b["name"] for b in boxes] == ["Ville de l'Est", "Ville de l'Ouest"]
    assert boxes[0]["x"] == pytest.approx([31.2, 18.4, 9.7, 23.45, 15.1])  # the secret IRIS is left out
    assert boxes[1]["x"] == pytest.approx([25.0, 10.0, 40.0, 5.0, 20.0, 30.0])
    diamonds = [t for t in spec["data"] if t["type"] == "scatter"]
    assert [d["x"] for d in diamonds] == [pytest.approx([18.31]), pytest.approx([20.49])]
    assert boxes[0]["xaxis"] == "x" and boxes[1]["xaxis"] == "x2"
    assert spec["layout"]["xaxis"]["matches"] == "x2"  # one scale for both territories


def test_the_comparison_passes_the_disclosure_audit(two_territories):
    assert audit_outputs(two_territories / "comparison") == []


def test_territory_pages_and_the_index_link_to_the_comparison(two_territories):
    # est's site was built before ouest was published: it was rebuilt with the link
    east = (two_territories / EAST / "site" / f"{ENERGY}.html").read_text(encoding="utf-8")
    west = (two_territories / WEST / "site" / f"{ENERGY}.html").read_text(encoding="utf-8")
    link = f'href="../../comparison/{ENERGY}.html">Comparer avec les autres territoires</a>'
    assert link in east and link in west
    mobility = (two_territories / EAST / "site" / f"{MOBILITY}.html").read_text(encoding="utf-8")
    assert "comparison/" not in mobility and "Comparer avec" not in mobility
    index = parse(two_territories / "index.html")
    assert f"comparison/{ENERGY}.html" in index.links
    assert f"comparison/{MOBILITY}.html" not in index.links
    assert "Ville de l'Est · Ville de l'Ouest" in "".join(index.text)


def test_publishing_again_rebuilds_nothing_else_when_links_hold(tmp_path, kit):
    kit.publish_both(tmp_path)
    again = publish_territory_site(EAST, [ENERGY, MOBILITY], tmp_path)
    assert again.rebuilt == [] and [p.name for p in again.comparisons] == [f"{ENERGY}.html"]
    first = publish_territory_site(WEST, [ENERGY], tmp_path)
    assert first.rebuilt == [] and first.warnings == []


def test_a_single_territory_gets_no_page_and_a_stale_one_is_removed(tmp_path, kit):
    kit.write_east(tmp_path)
    single = publish_territory_site(EAST, [ENERGY, MOBILITY], tmp_path)
    assert single.comparisons == [] and not (tmp_path / "comparison").exists()
    assert "comparison/" not in (tmp_path / EAST / "site" / f"{ENERGY}.html").read_text(encoding="utf-8")
    kit.write_west(tmp_path)
    both = publish_territory_site(WEST, [ENERGY], tmp_path)
    assert both.rebuilt == [EAST] and (tmp_path / "comparison" / f"{ENERGY}.html").is_file()
    # ouest's energy becomes a draft: not on its site, so no longer compared
    path = tmp_path / WEST / ENERGY / "demonstrator.json"
    path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")) | {"draft": True}), encoding="utf-8")
    shutil.copytree(tmp_path / EAST / MOBILITY, tmp_path / WEST / MOBILITY)  # ouest publishes mobility too
    kit.set_territory(tmp_path / WEST, WEST, "Ville de l'Ouest")
    left = publish_territory_site(WEST, [ENERGY, MOBILITY], tmp_path)
    assert [p.name for p in left.comparisons] == [f"{MOBILITY}.html"]
    assert sorted(p.name for p in (tmp_path / "comparison").glob("*.html")) == [f"{MOBILITY}.html"]
    east = (tmp_path / EAST / "site" / f"{ENERGY}.html").read_text(encoding="utf-8")
    assert "comparison/" not in east and left.rebuilt == [EAST]  # its link was taken away
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f"comparison/{MOBILITY}.html" in index and f"comparison/{ENERGY}.html" not in index
    # mobility leaves the project: est's folder of it is removed, the last comparison and
    # its folder go, and ouest's mobility page loses its link
    gone = publish_territory_site(EAST, [ENERGY], tmp_path)
    assert gone.removed == [MOBILITY] and gone.comparisons == [] and gone.rebuilt == [WEST]
    assert not (tmp_path / "comparison").exists()
    assert "comparison/" not in (tmp_path / WEST / "site" / f"{MOBILITY}.html").read_text(encoding="utf-8")
    assert "Comparer les territoires" not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_territory_without_a_site_is_not_compared(tmp_path, kit):
    kit.write_east(tmp_path)
    kit.write_west(tmp_path)  # published, but its site is not built yet
    publish_territory_site(EAST, [ENERGY, MOBILITY], tmp_path)
    assert comparison_plan(tmp_path) == {} and not (tmp_path / "comparison").exists()


def test_the_audit_refuses_a_page_with_an_identifier_and_keeps_the_last_one(tmp_path, kit):
    kit.publish_both(tmp_path)
    page = tmp_path / "comparison" / f"{ENERGY}.html"
    before = page.read_bytes()
    kit.set_territory(tmp_path / WEST, WEST, "Ville de l'Ouest, contact 06 12 34 56 78")
    with pytest.raises(PrivacyError, match="phone"):
        build_comparisons(tmp_path)
    assert page.read_bytes() == before


def test_a_territory_cannot_be_called_comparison(tmp_path):
    from pipelines.errors import ConfigError

    with pytest.raises(ConfigError, match="comparison"):
        publish_territory_site("comparison", [ENERGY], tmp_path)


def test_the_comparison_chart_credits_its_sources(two_territories):
    html = (two_territories / "comparison" / f"{ENERGY}.html").read_text(encoding="utf-8")
    caption = re.search(r'<figcaption id="caption-repartition-territoires">(.*?)</figcaption>', html, flags=re.S).group(1)
    # both territories' share_fg comes from the DPE (tests/report/conftest.py): credited once
    assert caption.count("Sources\u00a0: ADEME, DPE des logements existants (2024, Licence Ouverte 2.0).") == 1
