"""Mobility demonstrator: pure functions on tiny inline frames with hand-computed answers.

The territory of these tests works in EPSG:3035 (the grid's CRS), so that cell centres
and stops share coordinates and every distance can be worked out by hand.
"""

from __future__ import annotations

import re
from unittest import mock

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from shapely.geometry import box

from pipelines.catalogue.models import Territory
from pipelines.spatial import connect
from tests_support import load_demonstrator, step_context

CRS = "EPSG:3035"
E0, N0 = 3_800_000, 2_300_000  # an origin inside EPSG:3035's area, far from the axes


@pytest.fixture(scope="module")
def demo():
    card, registry, _ = load_demonstrator("mobility_access")
    return card, registry


@pytest.fixture(scope="module")
def mobility():
    return load_demonstrator("mobility_access")[2]


def make_ctx(demo, **params):
    territory = Territory(id="test", name="Test", fictional=True, working_crs=CRS, grid_crs=CRS, data_dir="test")
    return step_context(*demo, territory, **params)


def grid(lower_left_x: list[float], ind: list[float]) -> gpd.GeoDataFrame:
    """200 m cells on one row (y from N0 to N0 + 200), lower-left corners given."""
    ids = [f"CRS3035RES200mN{N0}E{E0 + int(x)}" for x in lower_left_x]
    return gpd.GeoDataFrame({"idcar_200m": ids, "ind": ind},
                            geometry=[box(E0 + x, N0, E0 + x + 200, N0 + 200) for x in lower_left_x], crs=CRS)


def stops(points: list[tuple[float, float]], departures: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"stop_id": [f"S{i}" for i in range(len(points))], "departures": departures,
                          "x": [E0 + p[0] for p in points], "y": [N0 + p[1] for p in points]})
    frame.attrs.update(crs=CRS, day="2024-01-08")
    return frame


# Three cells with centres at x = 100, 300, 2700 (y = 100); a frequent stop A at (100, 500)
# and a rarely served stop B at (1500, 100).
#   cell 1: A at 400 m exactly (served, 400 <= 400); nearest stop 400 m.
#   cell 2: A at sqrt(200² + 400²) = 447.2 m (not served); B at 1200 m; nearest 447.2 m.
#   cell 3: A at sqrt(2600² + 400²) = 2630.6 m; B at 1200 m: farther than 1 km from any stop.
CELLS_X, IND = [0, 200, 2600], [100.0, 50.0, 30.0]
STOPS = stops([(100, 500), (1500, 100)], [120, 10])


def test_nearest_distances_by_hand(mobility):
    points = np.array([[100, 100], [300, 100], [2700, 100]], dtype=float)
    targets = np.array([[100, 500], [1500, 100]], dtype=float)
    np.testing.assert_allclose(mobility.nearest_distances(points, targets),
                               [400.0, np.hypot(200, 400), 1200.0], rtol=1e-12)
    assert np.isinf(mobility.nearest_distances(points, np.empty((0, 2)))).all()


def test_cells_served_and_far(demo, mobility):
    cells = mobility.cell_access(grid(CELLS_X, IND), STOPS, ctx=make_ctx(demo))
    np.testing.assert_allclose(cells["distance_frequent_m"], [400.0, np.hypot(200, 400), np.hypot(2600, 400)])
    np.testing.assert_allclose(cells["distance_any_m"], [400.0, np.hypot(200, 400), 1200.0])
    assert cells["served"].tolist() == [True, False, False]
    assert cells["far"].tolist() == [False, False, True]
    assert cells.crs == CRS and cells.attrs["day"] == "2024-01-08"


def test_thresholds_come_from_the_params(demo, mobility):
    cells = mobility.cell_access(grid(CELLS_X, IND), STOPS,
                                 ctx=make_ctx(demo, distance_m=450, min_departures=5, far_distance_m=1300))
    assert cells["served"].tolist() == [True, True, False]  # cell 2 at 447.2 m <= 450
    np.testing.assert_allclose(cells["distance_frequent_m"], [400.0, np.hypot(200, 400), 1200.0])  # B counts now
    assert cells["far"].tolist() == [False, False, False]  # cell 3 at 1200 m <= 1300


def test_access_split_by_area(demo, mobility):
    # IRIS A covers x in [0, 300]: all of cell 1 and half of cell 2; IRIS B the rest.
    iris = gpd.GeoDataFrame({"code_iris": ["000010001", "000010002"]},
                            geometry=[box(E0, N0, E0 + 300, N0 + 200), box(E0 + 300, N0, E0 + 3000, N0 + 200)], crs=CRS)
    ctx = make_ctx(demo)
    access = mobility.access_by_iris(mobility.cell_access(grid(CELLS_X, IND), STOPS, ctx=ctx), iris, ctx=ctx)
    got = access.set_index("code_iris")
    np.testing.assert_allclose(got["population"], [125.0, 55.0])
    np.testing.assert_allclose(got["population_served"], [100.0, 0.0])
    np.testing.assert_allclose(got["population_far_from_stops"], [0.0, 30.0])
    shares = mobility.derive(access)
    np.testing.assert_allclose(shares["share_population_served"], [0.8, 0.0])
    np.testing.assert_allclose(shares["share_population_far"], [0.0, 30 / 55])


def test_kdtree_is_the_approach_and_agrees_with_a_duckdb_spatial_join(demo, mobility):
    """The KD-tree is what runs; DuckDB's ST_DWithin join (a SPATIAL_JOIN) finds the same cells."""
    rng = np.random.default_rng(7)
    cells_xy = rng.uniform(0, 20_000, (3_000, 2))
    stops_xy = rng.uniform(0, 20_000, (200, 2))
    with mock.patch.object(mobility, "cKDTree", wraps=mobility.cKDTree) as tree:
        near = mobility.nearest_distances(cells_xy, stops_xy) <= 400
    assert tree.call_count == 1
    query = ("SELECT DISTINCT c.id FROM cells AS c JOIN stops AS s "
             "ON ST_DWithin(ST_Point(c.x, c.y), ST_Point(s.x, s.y), 400)")
    with connect() as con:
        con.register("cells", pa.table({"id": np.arange(len(cells_xy)), "x": cells_xy[:, 0], "y": cells_xy[:, 1]}))
        con.register("stops", pa.table({"x": stops_xy[:, 0], "y": stops_xy[:, 1]}))
        plan = "\n".join(row[1] for row in con.execute("EXPLAIN " + query).fetchall())
        found = {row[0] for row in con.execute(query).fetchall()}
    assert "SPATIAL_JOIN" in plan
    assert found == set(np.flatnonzero(near)) and 0 < len(found) < len(cells_xy)


def test_kdtree_is_exact_on_a_large_territory(mobility):
    # Its speed beside shapely's STRtree: benchmarks/bench_hot_paths.py.
    rng = np.random.default_rng(1)
    cells_xy, stops_xy = rng.uniform(0, 300_000, (300_000, 2)), rng.uniform(0, 300_000, (30_000, 2))
    distances = mobility.nearest_distances(cells_xy, stops_xy)
    sample = rng.choice(len(cells_xy), 50, replace=False)
    brute = np.sqrt(((cells_xy[sample, None, :] - stops_xy[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(distances[sample], brute, rtol=1e-12)


# --- protected aggregates and published tables ------------------------------------------

def survey_aggregates() -> pd.DataFrame:
    """As the anonymiser returns them: IRIS 2 suppressed, IRIS 3 without any respondent."""
    return pd.DataFrame({
        "zoning": ["iris", "iris", "commune", "total"], "zone_id": ["000010001", "000010002", "00001", "total"],
        "parent_id": ["00001", "00001", "total", None],
        "units": pd.array([20, None, 26, 26], dtype="Int64"), "nb_deplacements": [100.0, None, 130.0, 130.0],
        "share_mode_voiture": [0.25, None, 0.3, 0.3], "share_mode_transports_collectifs": [0.2, None, 0.1, 0.1],
        "secret": [None, "n<11", None, None]})


def carsharing_aggregates() -> pd.DataFrame:
    return pd.DataFrame({
        "zoning": ["iris", "commune", "total"], "zone_id": ["000010001", "00001", "total"],
        "parent_id": ["00001", "total", None], "units": pd.array([None, 4, 4], dtype="Int64"),
        "nb_trajets": [None, 900.0, 900.0], "secret": ["n<3", None, None]})


def iris_zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "code_iris": ["000010001", "000010002", "000010003"], "nom_iris": ["A", "B", "C"],
        "code_commune": ["00001"] * 3, "nom_commune": ["Ville"] * 3},
        geometry=[box(E0 + 1000 * i, N0, E0 + 1000 * (i + 1), N0 + 1000) for i in range(3)], crs=CRS)


def access_counts() -> pd.DataFrame:
    return pd.DataFrame({"code_iris": ["000010001", "000010002", "000010003"], "population": [1000.0, 500.0, 0.0],
                         "population_served": [800.0, 100.0, 0.0], "population_far_from_stops": [0.0, 50.0, 0.0]})


def test_iris_table_joins_protected_aggregates(demo, mobility):
    table = mobility.indicators_by_iris(access_counts(), survey_aggregates(), carsharing_aggregates(), iris_zones(),
                                        ZONE_STOPS, ctx=make_ctx(demo)).set_index("code_iris")
    assert table.loc["000010001", "survey_households"] == 20 and table.loc["000010001", "share_trips_car"] == 0.25
    assert table.loc["000010002", ["survey_households", "survey_trips", "share_trips_car"]].isna().all()
    assert table["secret_survey_households"].tolist() == ["", "n<11", ""]
    # no respondent in IRIS 3: nothing published, and it is not a secret
    assert table.loc["000010003", ["survey_households", "share_trips_car"]].isna().all()
    # car-sharing: IRIS 1 suppressed; IRIS 2 and 3 have no station, hence 0 trips but no count
    assert np.isnan(table.loc["000010001", "carsharing_trips"])
    assert table.loc[["000010002", "000010003"], "carsharing_trips"].tolist() == [0.0, 0.0]
    assert table["carsharing_stations"].isna().all()
    assert table["secret_carsharing_stations"].tolist() == ["n<3", "", ""]
    np.testing.assert_allclose(table["share_population_served"], [0.8, 0.2, np.nan])
    assert table.loc["000010002", "carsharing_trips_per_1000"] == 0.0


def test_commune_table_sums_iris_and_joins_the_commune_cells(demo, mobility):
    communes = gpd.GeoDataFrame({"code_commune": ["00001"], "nom_commune": ["Ville"]},
                                geometry=[box(E0, N0, E0 + 3000, N0 + 1000)], crs=CRS)
    access = access_counts()
    table = mobility.indicators_by_commune(access, survey_aggregates(), carsharing_aggregates(), iris_zones(),
                                           communes, grid([], []), ZONE_STOPS, ctx=make_ctx(demo))
    row = table.iloc[0]
    assert row["population"] == 1500 and row["population_served"] == 900 and row["share_population_served"] == 0.6
    assert row["survey_households"] == 26 and row["carsharing_stations"] == 4 and row["carsharing_trips"] == 900
    assert row["carsharing_trips_per_1000"] == 600.0
    assert not [c for c in table.columns if c.startswith("_")]  # no hidden columns for the summary
    assert row["frequent_stops"] == 2  # the frequent stops of IRIS 1 and 2, none of the rare one


# A frequent stop in the middle of IRIS 1, one on the edge between IRIS 2 and 3 (x = 2000:
# the lowest code takes it), a rare one in IRIS 3.
ZONE_STOPS = stops([(500, 500), (2000, 500), (2500, 500)], [150, 100, 99])
# A 400 m disc (the buffer: a polygon of 128 sides, area 64 r² sin(2π/128)) inside IRIS 1;
# the edge stop's disc is split half and half between IRIS 2 and 3.
DISC = 64 * 400**2 * np.sin(2 * np.pi / 128)


def test_frequent_stops_and_the_area_near_them_by_hand(demo, mobility):
    service = mobility.service_by_zone(ZONE_STOPS, iris_zones(), "code_iris", ctx=make_ctx(demo))
    assert service["frequent_stops"].tolist() == [1.0, 1.0, 0.0]
    np.testing.assert_allclose(service["share_area_served"], [DISC / 1e6, DISC / 2e6, DISC / 2e6], rtol=1e-9)
    none = mobility.service_by_zone(ZONE_STOPS.iloc[2:], iris_zones(), "code_iris", ctx=make_ctx(demo))
    assert none["frequent_stops"].tolist() == [0.0, 0.0, 0.0] and none["share_area_served"].tolist() == [0.0] * 3


def test_without_iris_the_communes_take_the_cells_directly(demo, mobility):
    # Cells 1 and 2 (100 + 50 inhabitants) inside the commune, cell 3 (30) wholly outside it.
    communes = gpd.GeoDataFrame({"code_commune": ["00001"], "nom_commune": ["Ville"]},
                                geometry=[box(E0, N0, E0 + 1000, N0 + 1000)], crs=CRS)
    ctx = make_ctx(demo)
    ctx = type(ctx)(ctx.demonstrator, ctx.territory, ctx.sources, ctx.registry,
                    frozenset({"iris", "travel_survey", "carsharing_trips"}))
    cells = mobility.cell_access(grid(CELLS_X, IND), STOPS, ctx=ctx)
    empty = mobility.access_by_iris(cells, gpd.GeoDataFrame(), ctx=ctx)
    table = mobility.indicators_by_commune(empty, survey_aggregates().iloc[0:0], carsharing_aggregates().iloc[0:0],
                                           gpd.GeoDataFrame(), communes, cells, STOPS, ctx=ctx)
    row = table.iloc[0]
    assert row["population"] == 150 and row["population_served"] == 100 and row["frequent_stops"] == 1
    assert row["share_population_served"] == pytest.approx(100 / 150)
    without_grid = mobility.cell_access(pd.DataFrame(), STOPS, ctx=ctx)
    table = mobility.indicators_by_commune(empty, survey_aggregates().iloc[0:0], carsharing_aggregates().iloc[0:0],
                                           gpd.GeoDataFrame(), communes, without_grid, STOPS, ctx=ctx)
    assert np.isnan(table["population"].iloc[0]) and table["frequent_stops"].iloc[0] == 1


def test_territory_figures_take_the_operators_own_total_and_the_day(demo, mobility):
    staged = stops([(0, 0)], [3])
    staged.attrs["day"] = "2024-01-08"
    figures = mobility.territory_figures(carsharing_aggregates(), staged, ctx=make_ctx(demo))
    assert len(figures) == 1 and figures["carsharing_trips"].iloc[0] == 900.0
    assert figures["carsharing_stations"].iloc[0] == 4.0 and figures["day"].iloc[0] == "2024-01-08"


def test_crossing_by_hand(demo, mobility):
    # One well-served IRIS (30 % of 100 trips by car), two poorly served ones: A (60 % of
    # 50 trips, 1,000 inhabitants) and B (40 % of 50 trips, 500 inhabitants).
    # Poorly served: (30 + 20) / 100 = 50 % by car; territory: (30 + 30 + 20) / 200 = 40 %,
    # so only A is above it.
    table = pd.DataFrame({"code_iris": ["W", "A", "B"], "population": [2000.0, 1000.0, 500.0],
                          "population_served": [1600.0, 200.0, 50.0], "population_far_from_stops": [0.0, 0.0, 0.0],
                          "survey_households": [30.0, 20.0, 15.0], "survey_trips": [100.0, 50.0, 50.0],
                          "share_trips_car": [0.3, 0.6, 0.4], "share_trips_public_transport": [0.2, 0.1, 0.1]})
    table = mobility.derive(table)
    shares = mobility.group_car_shares(table, 0.5)
    assert shares["well"] == pytest.approx(0.3) and shares["poor"] == pytest.approx(0.5)
    values = pd.Series({"share_trips_car": 0.4})
    item = mobility.crossing(table, values, make_ctx(demo))
    assert item["public_only"] == 1500.0 and item["with_shared"] == 1000.0
    assert item["iris_poorly_served"] == 2 and item["iris_car_dependent"] == 1
    for figure in ("50,0", "30,0", "40,0", "1 500", "1 000"):
        assert figure in item["sentence"].replace("\u202f", " ").replace("\u00a0", " ")


# --- declarations -----------------------------------------------------------------------

def test_declaration_is_consistent_with_the_registry(demo):
    definition, registry = demo
    assert all(registry[i].theme == "mobility" for i in definition.indicators)
    assert set(definition.protected) <= set(definition.indicators)
    assert 3 <= len(definition.headlines) <= 5 and definition.main_indicator in definition.indicators


def test_registry_texts_quote_the_params(demo):
    params, registry = demo[0].params, demo[1]
    for text in (registry["share_population_served"].definition, registry["share_population_served"].plain,
                 registry["population_served"].definition):
        assert f"{params['distance_m']} m" in text and f"au moins {params['min_departures']} bus" in text
    for text in (registry["population_far_from_stops"].definition, registry["population_far_from_stops"].plain):
        assert f"{params['far_distance_m'] // 1000} km" in text
    assert re.search(r"\b11 ménages", " ".join(registry["survey_households"].caveats))


def test_the_page_says_which_bus_services_are_not_counted(demo, mobility):
    staged = stops([(0, 0)], [3])
    staged.attrs.update(day="2024-01-08", excluded_route_types=[712, 715], excluded_departures=1204)
    figures = mobility.territory_figures(carsharing_aggregates(), staged, ctx=make_ctx(demo))
    assert figures["excluded_route_types"].iloc[0] == "712, 715" and figures["excluded_departures"].iloc[0] == 1204
    sentence = mobility._left_out(figures).replace("\u202f", " ").replace("\u00a0", " ")
    assert sentence == " Les services scolaires et à la demande ne sont pas comptés (1 204 départs ce jour-là)."
    staged.attrs.update(excluded_route_types=[], excluded_departures=0)
    assert mobility._left_out(mobility.territory_figures(carsharing_aggregates(), staged, ctx=make_ctx(demo))) == ""


def test_survey_shares_carry_their_margin_and_a_wide_one_is_flagged(demo, mobility):
    """Margin = 1.96 × the anonymiser's standard error; above max_margin (0.15) the
    share stays, flagged in `statut`. IRIS 1: se 0.1 (margin 0.196, flagged); the
    commune: se 0.05 (margin 0.098)."""
    survey = survey_aggregates().assign(se_share_mode_voiture=[0.1, None, 0.05, 0.05],
                                        se_share_mode_transports_collectifs=[0.04, None, 0.03, 0.03])
    ctx = make_ctx(demo)
    iris = mobility.indicators_by_iris(access_counts(), survey, carsharing_aggregates(), iris_zones(), ZONE_STOPS,
                                       ctx=ctx).set_index("code_iris")
    assert iris.loc["000010001", "margin_trips_car"] == pytest.approx(0.1 * 1.959963984540054)
    assert iris.loc["000010001", "margin_trips_public_transport"] == pytest.approx(0.04 * 1.959963984540054)
    assert iris.loc["000010001", "statut"] == mobility.UNRELIABLE
    assert iris.loc["000010001", "share_trips_car"] == 0.25  # flagged, not hidden
    assert iris.loc["000010002", "statut"] == "" and np.isnan(iris.loc["000010002", "margin_trips_car"])
    # the territory: one published IRIS, so its margin is that IRIS's
    figures = mobility.territory_figures(carsharing_aggregates(), stops([(0, 0)], [3]), ctx=ctx)
    values = mobility.territory_values(iris.reset_index(), figures)
    assert values["margin_trips_car"] == pytest.approx(0.1 * 1.959963984540054)
