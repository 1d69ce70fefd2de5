"""Two territories in one clone: one is the sample without any shared data.

The second territory reuses the sample's files (`data_dir: sample`) and declares its
four private and personal sources absent: the demonstrators publish their public core,
credit only the sources used, say what the shared data would add, and the public
figures equal the sample's own (same files, same code).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests_support import run_cli

pytestmark = pytest.mark.slow
PUBLIC_ONLY = """id: public_only
name: Fictiville, données publiques seules (territoire fictif)
fictional: true
data_dir: sample
sources:
  operator_consumption: {absent: true}
  smart_meter: {absent: true}
  travel_survey: {absent: true}
  carsharing_trips: {absent: true}
"""
SHARED = {"operator_consumption", "smart_meter", "travel_survey", "carsharing_trips"}


@pytest.fixture(scope="module")
def both(sample_project):
    root = sample_project["root"]
    (root / "sources" / "territories" / "public_only.yaml").write_text(PUBLIC_ONLY, encoding="utf-8")
    try:
        run_cli(["run", "--territory", "public_only"], sample_project["env"], root)
    finally:
        (root / "sources" / "territories" / "public_only.yaml").unlink()
    return root / "outputs"


def run_with_card(sample_project, territory: str, text: str, demo: str) -> None:
    """Run one demonstrator for a territory whose card exists only for this run."""
    root = sample_project["root"]
    card = root / "sources" / "territories" / f"{territory}.yaml"
    card.write_text(text, encoding="utf-8")
    try:
        run_cli(["run", "--territory", territory, "--demonstrator", demo], sample_project["env"], root)
    finally:
        card.unlink()


def document(outputs, territory, demo):
    return json.loads((outputs / territory / demo / "demonstrator.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("demo", ["energy_precarity", "mobility_access"])
def test_public_core_is_published_without_the_shared_data(both, demo):
    doc = document(both, "public_only", demo)
    assert doc["territory"]["id"] == "public_only"
    assert not SHARED & {s["id"] for s in doc["sources"]}  # absent data is never credited
    assert {m["id"] for m in doc["missing_shared"]} <= SHARED and doc["missing_shared"]
    assert all(m["adds"] for m in doc["missing_shared"])
    assert doc["crossing"] == []  # no claim of what shared data adds without it
    shown = {i["id"] for i in doc["indicators"]}
    assert not {h["indicator"] for h in doc["headlines"]} - shown
    for indicator in doc["indicators"]:
        assert not SHARED & set(indicator["sources"])


@pytest.mark.parametrize("demo, column", [("energy_precarity", "share_households_low_income_fg"),
                                          ("mobility_access", "share_population_served")])
def test_public_figures_equal_the_samples(both, demo, column):
    own = pd.read_csv(both / "sample" / demo / f"{demo}_iris.csv", dtype={"code_iris": str}).set_index("code_iris")
    public = pd.read_csv(both / "public_only" / demo / f"{demo}_iris.csv",
                         dtype={"code_iris": str}).set_index("code_iris")
    pd.testing.assert_series_equal(own[column], public[column])
    shared = ("operator_", "metered_", "survey_", "carsharing_", "secret_", "hidden_precarity", "precarity_households")
    assert [c for c in own.columns if c.startswith(shared)]  # the sample publishes them...
    assert not [c for c in public.columns if c.startswith(shared)]  # ...a territory without the data does not
    manifest = json.loads((both / "public_only" / demo / f"{demo}_iris.manifest.json").read_text(encoding="utf-8"))
    assert manifest["count_columns"] == {} and manifest["rule"] == {}


def test_each_territory_has_its_own_site_and_the_index_lists_both(both):
    page = (both / "public_only" / "site" / "energy_precarity.html").read_text(encoding="utf-8")
    assert "Ce territoire n&#39;a pas confié les données suivantes" in page
    assert "Consommation annuelle d&#39;énergie par bâtiment" in page  # the missing source, named
    sample_page = (both / "sample" / "site" / "energy_precarity.html").read_text(encoding="utf-8")
    assert "n&#39;a pas confié" not in sample_page
    index = (both / "index.html").read_text(encoding="utf-8")
    assert 'href="sample/site/index.html"' in index and 'href="public_only/site/index.html"' in index


def test_the_overseas_territory_publishes_in_its_own_crs_and_site(sample_project):
    import geopandas as gpd

    outputs = sample_project["root"] / "outputs"
    for demo in ("energy_precarity", "mobility_access", "housing_affordability"):
        table = gpd.read_parquet(outputs / "overseas_sample" / demo / f"{demo}_iris.parquet")
        assert table.crs.to_epsg() == 5490 and len(table) > 0
        assert table["code_iris"].str.match(r"^001\d{6}$").all()
        assert document(outputs, "overseas_sample", demo)["territory"]["id"] == "overseas_sample"
    site = (outputs / "overseas_sample" / "site" / "index.html").read_text(encoding="utf-8")
    assert "Anse-Fictive" in site and "Fictiville" not in site
    assert "Anse-Fictive" not in (outputs / "sample" / "site" / "index.html").read_text(encoding="utf-8")


TOWN = """id: bus_town
name: Ville du bus
fictional: false
data_dir: bus_town
sources:
  gtfs_bus:
    producer: Syndicat des transports de la Ville du bus
    attribution: "Syndicat des transports de la Ville du bus — GTFS"
    licence: ODbL 1.0
    date: "2026"
  travel_survey: {absent: true}
  carsharing_trips: {absent: true}
"""


def test_a_territory_with_only_public_mobility_data_publishes_that_demonstrator(sample_project):
    """As a real agglomeration would: its bus network, IRIS, communes and grid, nothing
    else; one demonstrator run, real credits, no fictional banner, nothing of another
    territory on its site."""
    root = sample_project["root"]
    folder = root / "sources" / "bus_town"
    folder.mkdir()
    for name in ("contours_iris.gpkg", "communes.gpkg", "filosofi_200m.gpkg", "gtfs_bus.zip"):
        (folder / name).symlink_to(root / "sources" / "sample" / name)
    run_with_card(sample_project, "bus_town", TOWN, "mobility_access")
    outputs = root / "outputs" / "bus_town"
    assert sorted(p.name for p in outputs.iterdir()) == ["mobility_access", "site"]
    doc = document(root / "outputs", "bus_town", "mobility_access")
    gtfs = next(s for s in doc["sources"] if s["id"] == "gtfs_bus")
    assert gtfs["producer"] == "Syndicat des transports de la Ville du bus" and gtfs["licence"] == "ODbL 1.0"
    site = {p.name: p.read_text(encoding="utf-8") for p in (outputs / "site").glob("*.html")}
    assert set(site) == {"index.html", "mobility_access.html"}
    # (the zones keep their sample names: only the territory's own words are checked)
    assert not any("banner-fictional" in page or "Anse-Fictive" in page for page in site.values())
    assert all("Ville du bus" in page for page in site.values())
    assert "Syndicat des transports de la Ville du bus" in site["mobility_access.html"]


def test_demo_builds_both_fictional_territories_and_says_where_the_pages_are(sample_project):
    printed, outputs = sample_project["stdout"], sample_project["root"] / "outputs"
    assert f"file://{outputs / 'index.html'}" in printed
    for territory in ("sample", "overseas_sample"):
        assert f"file://{outputs / territory / 'site' / 'index.html'}" in printed
        assert (outputs / territory / "screenshots" / "energy_precarity.png").stat().st_size > 0
    comparison = (outputs / "comparison" / "energy_precarity.html").read_text(encoding="utf-8")
    assert "Anse-Fictive" in comparison and "Fictiville" in comparison
    page = (outputs / "sample" / "site" / "energy_precarity.html").read_text(encoding="utf-8")
    assert "../../comparison/energy_precarity.html" in page


NO_GRID = """id: no_grid
name: Fictiville sans carroyage (territoire fictif)
fictional: true
data_dir: sample
sources:
  filosofi_200m: {absent: true}
"""


def test_without_the_grid_the_energy_shares_come_from_the_iris_poverty_rate(sample_project):
    """Alternatives: no 200 m grid, so no household counts; Filosofi's IRIS and commune
    poverty rates stand in, and the main share is the rate times the share of F/G
    dwellings (the counts' own assumption, on shares). Recomputed from the raw CSV."""
    root = sample_project["root"]
    run_with_card(sample_project, "no_grid", NO_GRID, "energy_precarity")
    demo = "energy_precarity"
    got = pd.read_csv(root / "outputs" / "no_grid" / demo / f"{demo}_iris.csv", dtype={"code_iris": str})
    got = got.set_index("code_iris")
    rates = pd.read_csv(root / "sources" / "sample" / "filosofi_iris.csv", sep=";", dtype={"IRIS": str})
    rate = pd.to_numeric(rates.set_index("IRIS")["DISP_TP6019"], errors="coerce") / 100
    own = pd.read_csv(root / "outputs" / "sample" / demo / f"{demo}_iris.csv", dtype={"code_iris": str})
    share_fg = own.set_index("code_iris")["share_fg"]  # checked against the raw DPE in test_end_to_end
    expected = (rate.reindex(got.index) * share_fg.reindex(got.index)).rename("share_households_low_income_fg")
    pd.testing.assert_series_equal(got["share_households_low_income_fg"], expected, check_names=False, rtol=1e-9)
    assert got["share_households_low_income_fg"].notna().sum() >= 30
    assert not {"households", "low_income_households", "low_income_fg_households"} & set(got.columns)
    doc = document(root / "outputs", "no_grid", demo)
    credited = [s["id"] for s in doc["sources"]]
    assert "filosofi_200m" not in credited and {"filosofi_iris", "filosofi_commune"} <= set(credited)
    main = next(i for i in doc["indicators"] if i["id"] == "share_households_low_income_fg")
    assert "filosofi_200m" not in main["sources"] and "filosofi_iris" in main["sources"]
    assert "share_households_low_income_fg" not in doc["territory_values"]  # no counts, no territory value


COMMUNES_ONLY = """id: bus_communes
name: Agglomération du bus, communes seules
fictional: false
data_dir: bus_communes
sources:
  gtfs_bus:
    producer: Régie des transports de l'agglomération du bus
    attribution: "Régie des transports de l'agglomération du bus — GTFS"
    licence: ODbL 1.0
    date: "2026"
  iris: {absent: true}
  filosofi_200m: {absent: true}
  travel_survey: {absent: true}
  carsharing_trips: {absent: true}
"""


def test_a_territory_with_only_a_bus_network_and_commune_contours_publishes_mobility(sample_project):
    """The data engineer of the issue: a GTFS and the commune contours, no IRIS, no grid,
    no shared data. Mobility publishes per commune what needs no population (frequent
    stops, the area near them), says what IRIS and the grid would add, credits the real
    producer. Recomputed independently: stops from the sample's own IRIS table summed by
    commune, the area by sampling points on a 20 m lattice."""
    import geopandas as gpd
    import numpy as np
    from scipy.spatial import cKDTree

    from pipelines.connectors.registry import get_connector

    root = sample_project["root"]
    folder = root / "sources" / "bus_communes"
    folder.mkdir()
    for name in ("communes.gpkg", "gtfs_bus.zip"):
        (folder / name).symlink_to(root / "sources" / "sample" / name)
    run_with_card(sample_project, "bus_communes", COMMUNES_ONLY, "mobility_access")
    demo = "mobility_access"
    published = root / "outputs" / "bus_communes" / demo
    assert not list(published.glob("*_iris*"))  # no IRIS, no IRIS table
    table = gpd.read_parquet(published / f"{demo}_commune.parquet").set_index("code_commune")
    assert not {"population", "share_population_served", "population_far_from_stops"} & set(table.columns)
    sample_iris = pd.read_csv(root / "outputs" / "sample" / demo / f"{demo}_iris.csv",
                              dtype={"code_iris": str, "code_commune": str})
    expected = sample_iris.groupby("code_commune")["frequent_stops"].sum()
    pd.testing.assert_series_equal(table["frequent_stops"].sort_index(), expected.sort_index().astype("float64"),
                                   check_names=False)
    assert table["frequent_stops"].sum() > 0
    # the area within 400 m of a frequent stop, by counting lattice points
    stops = get_connector("gtfs")(root / "sources" / "sample" / "gtfs_bus.zip", working_crs="EPSG:2154")
    frequent = stops.loc[stops["departures"] >= 100, ["x", "y"]].to_numpy()
    tree = cKDTree(frequent)
    for code, row in table.iterrows():
        xmin, ymin, xmax, ymax = row.geometry.bounds
        xs, ys = np.meshgrid(np.arange(xmin + 10, xmax, 20), np.arange(ymin + 10, ymax, 20))
        points = gpd.GeoSeries(gpd.points_from_xy(xs.ravel(), ys.ravel()), crs=table.crs)
        inside = points[points.within(row.geometry)]
        near = tree.query(np.column_stack([inside.x, inside.y]))[0] <= 400
        assert row["share_area_served"] == pytest.approx(near.mean(), abs=0.01), code
    doc = document(root / "outputs", "bus_communes", demo)
    assert doc["main_indicator"] == "share_area_served"
    assert [h["indicator"] for h in doc["headlines"]] == ["share_area_served"]
    assert {s["id"] for s in doc["sources"]} == {"communes", "gtfs_bus"}
    assert {m["id"] for m in doc["missing_public"]} == {"iris", "filosofi_200m"}
    page = (root / "outputs" / "bus_communes" / "site" / f"{demo}.html").read_text(encoding="utf-8")
    assert "Régie des transports de l'agglomération du bus" in page.replace("&#39;", "'")
    assert "banner-fictional" not in page and "Avec données partagées" not in page
    assert "les contours IRIS détailleraient" in page.replace("&#39;", "'")


def test_two_territories_run_at_once_with_jobs(sample_project):
    """`run -t A -t B -j 2`: one process per territory, each line prefixed with its
    territory, both published again, the same figures as before."""
    root = sample_project["root"]
    demo = "mobility_access"
    before = {t: pd.read_csv(root / "outputs" / t / demo / f"{demo}_iris.csv") for t in ("sample", "overseas_sample")}
    stamps = {t: (root / "outputs" / t / demo / "demonstrator.json").stat().st_mtime_ns for t in before}
    done = run_cli(["run", demo, "-t", "sample", "-t", "overseas_sample", "--jobs", "2", "--force"], sample_project["env"], root)
    lines = done.stdout.splitlines()
    for territory in before:
        assert any(line.startswith(f"[{territory}] done {demo}/summary") for line in lines), done.stdout[-2000:]
        assert (root / "outputs" / territory / demo / "demonstrator.json").stat().st_mtime_ns > stamps[territory]
        after = pd.read_csv(root / "outputs" / territory / demo / f"{demo}_iris.csv")
        pd.testing.assert_frame_equal(after, before[territory])
