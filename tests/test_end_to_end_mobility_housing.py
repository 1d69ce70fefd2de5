"""Mobility and housing on the sample territory, checked against an independent computation.

The session fixture `sample_project` runs `datacites sample` and `datacites demo` once in a
scratch root; here the per-IRIS figures are recomputed from the generated files with
plain pandas, GeoPandas and SciPy (no connector, no demonstrator code) and compared with
the published CSV files: counts exactly, derived values to 1e-6.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.spatial import cKDTree

from pipelines.config import PROJECT_ROOT
from tests_support import BIN

pytestmark = pytest.mark.slow
DTYPES = {"code_iris": str, "code_commune": str}


def params(demo: str) -> dict:
    path = PROJECT_ROOT / "demonstrators" / demo / "defs.yaml"
    return yaml.safe_load(path.read_text("utf-8"))["attributes"]["params"]


@pytest.fixture(scope="module")
def sample(sample_project) -> Path:
    return sample_project["root"] / "sources" / "sample"


def published(sample_project, demo: str) -> dict[str, pd.DataFrame]:
    folder = sample_project["root"] / "outputs" / "sample" / demo
    return {z: pd.read_csv(folder / f"{demo}_{z}.csv", dtype=DTYPES) for z in ("iris", "commune")}


def document(sample_project, demo: str) -> dict:
    return json.loads((sample_project["root"] / "outputs" / "sample" / demo / "demonstrator.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def iris(sample) -> gpd.GeoDataFrame:
    return gpd.read_file(sample / "contours_iris.gpkg", layer="contours_iris")[["CODE_IRIS", "INSEE_COM", "geometry"]]


def in_iris(points: gpd.GeoDataFrame, iris: gpd.GeoDataFrame) -> pd.Series:
    """IRIS of each point; a point on a boundary goes to the lowest code."""
    located = gpd.GeoDataFrame({"row": np.arange(len(points))}, geometry=points.geometry.to_numpy(), crs=points.crs)
    joined = gpd.sjoin(located, iris[["CODE_IRIS", "geometry"]], predicate="intersects")
    codes = joined.sort_values("CODE_IRIS").drop_duplicates("row").set_index("row")["CODE_IRIS"]
    return pd.Series(codes.reindex(np.arange(len(points))).to_numpy(), index=points.index)


def area_split(cells: gpd.GeoDataFrame, iris: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    """Cell values split across IRIS by area, each cell's whole value kept in the territory."""
    pieces = gpd.overlay(cells, iris[["CODE_IRIS", "geometry"]], how="intersection", keep_geom_type=True)
    area = pd.Series(pieces.geometry.area.to_numpy(), index=pieces.index)
    weight = area / area.groupby(pieces["idcar_200m"]).transform("sum")
    return pieces[columns].mul(weight, axis=0).groupby(pieces["CODE_IRIS"]).sum().reindex(iris["CODE_IRIS"]).fillna(0)


# --- mobility ------------------------------------------------------------------------------


def gtfs_tables(path: Path) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(path) as feed:
        return {name[:-4]: pd.read_csv(feed.open(name), dtype=str) for name in feed.namelist() if name.endswith(".txt")}


def active_services(g: dict, day: dt.date) -> set[str]:
    stamp = day.strftime("%Y%m%d")
    calendar = g["calendar"]
    running = (calendar[day.strftime("%A").lower()] == "1") & (calendar.start_date <= stamp) & (calendar.end_date >= stamp)
    active = set(calendar.loc[running, "service_id"])
    exceptions = g.get("calendar_dates", pd.DataFrame(columns=["service_id", "date", "exception_type"]))
    today = exceptions[exceptions.date == stamp]
    return (active | set(today[today.exception_type == "1"].service_id)) - set(today[today.exception_type == "2"].service_id)


def typical_weekday(g: dict) -> dt.date:
    """The Monday-to-Friday day of the feed's period with the most trips running (earliest on ties)."""
    dates = pd.concat([g["calendar"].start_date, g["calendar"].end_date, g["calendar_dates"].date])
    first, last = (dt.datetime.strptime(d, "%Y%m%d").date() for d in (dates.min(), dates.max()))
    per_service = g["trips"].service_id.value_counts()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    counts = [(-per_service.reindex(list(active_services(g, d))).fillna(0).sum(), d) for d in days if d.weekday() < 5]
    return min(counts)[1]


def station_departures(g: dict, day: dt.date) -> pd.DataFrame:
    """Boarding departures per station (or stand-alone stop) on `day`, with its Lambert-93 position."""
    trips = g["trips"][g["trips"].service_id.isin(active_services(g, day))].copy()
    seconds = lambda t: t.str.split(":", expand=True).astype(int) @ [3600, 60, 1]  # noqa: E731
    freq = g.get("frequencies")
    trips["runs"] = 1
    if freq is not None:
        freq = freq.assign(runs=np.ceil((seconds(freq.end_time) - seconds(freq.start_time)) / freq.headway_secs.astype(float)))
        trips["runs"] = trips.trip_id.map(freq.groupby("trip_id").runs.sum()).fillna(1)
    times = g["stop_times"].assign(seq=lambda f: f.stop_sequence.astype(int))
    times = times[times.seq != times.groupby("trip_id").seq.transform("max")]
    if "pickup_type" in times:
        times = times[times.pickup_type.fillna("0") != "1"]
    times = times.merge(trips[["trip_id", "runs"]], on="trip_id")
    stops = g["stops"].assign(location_type=lambda f: f.location_type.fillna("0"))
    station = stops.parent_station.fillna(stops.stop_id) if "parent_station" in stops else stops.stop_id
    times["station"] = times.stop_id.map(dict(zip(stops.stop_id, station, strict=False)))
    places = stops[(stops.location_type == "1") | ((stops.location_type == "0") & (station == stops.stop_id))]
    lonlat = gpd.points_from_xy(places.stop_lon.astype(float), places.stop_lat.astype(float))
    points = gpd.GeoSeries(lonlat, crs=4326).to_crs(2154)
    return pd.DataFrame({"stop_id": places.stop_id.to_numpy(), "x": points.x.to_numpy(), "y": points.y.to_numpy(),
                         "departures": places.stop_id.map(times.groupby("station").runs.sum()).fillna(0).to_numpy()})


def independent_access(sample: Path, iris: gpd.GeoDataFrame) -> tuple[pd.DataFrame, dt.date]:
    p = params("mobility_access")
    g = gtfs_tables(sample / "gtfs_bus.zip")
    day = typical_weekday(g)
    stops = station_departures(g, day)
    grid = gpd.read_file(sample / "filosofi_200m.gpkg")[["idcar_200m", "ind", "geometry"]]
    centres = grid.geometry.centroid.to_crs(iris.crs)
    xy = np.column_stack([centres.x, centres.y])
    frequent = stops[stops.departures >= p["min_departures"]][["x", "y"]].to_numpy()
    running = stops[stops.departures >= 1][["x", "y"]].to_numpy()
    cells = grid.to_crs(iris.crs)
    cells["population"] = cells.ind
    cells["population_served"] = cells.ind * (cKDTree(frequent).query(xy)[0] <= p["distance_m"])
    cells["population_far_from_stops"] = cells.ind * (cKDTree(running).query(xy)[0] > p["far_distance_m"])
    return area_split(cells, iris, ["population", "population_served", "population_far_from_stops"]), day


def independent_survey(sample: Path, iris: gpd.GeoDataFrame) -> pd.DataFrame:
    persons = pd.read_csv(sample / "travel_survey_persons.csv", dtype=str)
    trips = pd.read_csv(sample / "travel_survey_trips.csv", dtype=str).merge(persons, on="id_personne")
    homes = gpd.GeoDataFrame(trips, geometry=gpd.points_from_xy(trips.x_domicile_l93.astype(float),
                                                                 trips.y_domicile_l93.astype(float)), crs=iris.crs)
    trips["iris"] = in_iris(homes, iris)
    trips["car"] = trips["mode"] == "voiture"
    return trips.groupby("iris").agg(households=("id_menage", "nunique"), trips=("car", "size"), car=("car", "mean"))


@pytest.fixture(scope="module")
def mobility(sample_project, sample, iris):
    access, day = independent_access(sample, iris)
    return {"tables": published(sample_project, "mobility_access"), "access": access, "day": day,
            "survey": independent_survey(sample, iris), "doc": document(sample_project, "mobility_access")}


def test_mobility_access_per_iris_matches(mobility):
    got, expected = mobility["tables"]["iris"].set_index("code_iris"), mobility["access"]
    assert len(got) == 40 and got.index.equals(expected.index)
    for column in ("population", "population_served", "population_far_from_stops"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-6, atol=1e-6)
    share = expected.population_served / expected.population
    np.testing.assert_allclose(got["share_population_served"], share, rtol=1e-6)
    assert 0 < got["share_population_served"].mean() < 1 and got["population_far_from_stops"].sum() > 0


def test_mobility_counts_the_feeds_typical_weekday(mobility):
    explanation = mobility["doc"]["headlines"][0]["explanation"]
    day = mobility["day"]
    assert f"{day.day} " in explanation and str(day.year) in explanation and day.weekday() < 5


def test_mobility_survey_per_iris_matches_where_published(mobility):
    got = mobility["tables"]["iris"].set_index("code_iris")
    expected = mobility["survey"].reindex(got.index)
    shown = got["survey_households"].notna()
    assert shown.sum() >= 30
    np.testing.assert_array_equal(got.loc[shown, "survey_households"], expected.loc[shown, "households"])
    np.testing.assert_array_equal(got.loc[shown, "survey_trips"], expected.loc[shown, "trips"])
    np.testing.assert_allclose(got.loc[shown, "share_trips_car"], expected.loc[shown, "car"], rtol=1e-6)
    small = expected["households"].fillna(0) < 11
    assert small.any() and not shown[small].any()
    assert (got.loc[small, "secret_survey_households"] == "secret").all()  # published tables carry one code for every hidden cell


def test_mobility_carsharing_per_commune_matches_where_published(sample, iris, mobility):
    trips = pd.read_csv(sample / "carsharing_trips.csv", dtype={"station_id": str})
    points = gpd.GeoDataFrame(trips, geometry=gpd.points_from_xy(trips.x_l93, trips.y_l93), crs=iris.crs)
    trips["commune"] = in_iris(points, iris).map(dict(zip(iris.CODE_IRIS, iris.INSEE_COM, strict=False)))
    per_station = trips.groupby(["commune", "station_id"]).nb_trajets.sum()
    expected = per_station.groupby("commune").agg(stations="size", trips="sum", largest="max")
    got = mobility["tables"]["commune"].set_index("code_commune")
    shown = got["carsharing_stations"].notna()
    # communes with stations are either published exactly or hidden with the one code; on
    # the sample every commune is hidden (the attacker knows each hidden cell holds >= 1)
    with_stations = got.index.isin(expected.index)
    assert (got.loc[with_stations & ~shown, "secret_carsharing_stations"] == "secret").all()
    np.testing.assert_array_equal(got.loc[shown, "carsharing_stations"], expected.loc[got.index[shown], "stations"])
    np.testing.assert_array_equal(got.loc[shown, "carsharing_trips"], expected.loc[got.index[shown], "trips"])
    unsafe = (expected.stations < 3) | (expected.largest >= 0.85 * expected.trips)
    assert not shown.reindex(expected.index[unsafe]).fillna(False).any()
    headline = {h["indicator"]: h["value"] for h in mobility["doc"]["headlines"]}
    assert headline["carsharing_trips"] == trips.nb_trajets.sum()


# --- housing -------------------------------------------------------------------------------


def independent_sales(sample: Path, iris: gpd.GeoDataFrame) -> pd.DataFrame:
    """Sales of one dwelling, one row per mutation, with their IRIS, from the raw geo-dvf CSV."""
    p = params("housing_affordability")
    lines = pd.read_csv(sample / "dvf.csv", dtype=str).drop_duplicates()
    xy = gpd.GeoSeries(gpd.points_from_xy(lines.longitude.astype(float), lines.latitude.astype(float)), crs=4326).to_crs(iris.crs)
    lines = lines.assign(x=xy.x.to_numpy(), y=xy.y.to_numpy(), value=lines.valeur_fonciere.astype(float),
                         surface=lines.surface_reelle_bati.astype(float))
    locals_ = lines.dropna(subset=["code_type_local"]).drop_duplicates(
        ["id_mutation", "id_parcelle", "lot1_numero", "code_type_local", "surface_reelle_bati", "nombre_pieces_principales"])
    kinds = locals_.assign(house=locals_.code_type_local == "1", flat=locals_.code_type_local == "2",
                           business=locals_.code_type_local == "4",
                           dwelling_surface=locals_.surface.where(locals_.code_type_local.isin(["1", "2"])))
    per = kinds.groupby("id_mutation").agg(houses=("house", "sum"), flats=("flat", "sum"), business=("business", "sum"),
                                           surface=("dwelling_surface", "sum"))
    mutation = lines.groupby("id_mutation").agg(nature=("nature_mutation", "first"), value=("value", "first"),
                                                date=("date_mutation", "first"), x=("x", "mean"), y=("y", "mean")).join(per)
    year = mutation.date.str[:4].astype(int)
    kept = mutation[(mutation.nature.isin(p["natures"])) & (mutation.houses + mutation.flats == 1) & (mutation.business == 0)
                    & (mutation.value > 0) & (mutation.surface > 0) & (year > year.max() - p["years"])].copy()
    kept["kind"] = np.where(kept.houses == 1, "houses", "flats")
    kept["price_m2"] = kept.value / kept.surface
    points = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(kept.x, kept.y), crs=iris.crs)
    kept["iris"] = in_iris(points, iris)
    return kept.dropna(subset=["iris"])


def independent_housing(sample: Path, iris: gpd.GeoDataFrame) -> pd.DataFrame:
    p = params("housing_affordability")
    sales = independent_sales(sample, iris)
    table = pd.DataFrame(index=iris["CODE_IRIS"])
    for kind, rows in (("flats", sales[sales.kind == "flats"]), ("houses", sales[sales.kind == "houses"]),
                       ("dwellings", sales)):
        stats = rows.groupby("iris").price_m2.agg(["size", "median"]).reindex(table.index)
        table[f"sales_{kind}"] = stats["size"].fillna(0).astype(int)
        table[f"median_price_m2_{kind}"] = stats["median"].where(stats["size"] >= p["min_sales"])
    incomes = pd.read_csv(sample / "filosofi_iris.csv", sep=";", dtype=str).set_index("IRIS")
    table["median_income"] = incomes.DISP_MED19.astype(float).reindex(table.index)
    table["years_income_70m2"] = table.median_price_m2_dwellings * p["surface_m2"] / table.median_income
    grid = gpd.read_file(sample / "filosofi_200m.gpkg").to_crs(iris.crs)
    grid["dwellings"] = grid[["log_av45", "log_45_70", "log_70_90", "log_ap90", "log_inc"]].sum(axis=1)
    table["dwellings"] = area_split(grid[["idcar_200m", "dwellings", "geometry"]], iris, ["dwellings"])["dwellings"]
    rpls = pd.read_csv(sample / "rpls.csv", sep=";", dtype=str)
    buildings = gpd.GeoDataFrame(rpls, geometry=gpd.points_from_xy(rpls.X.astype(float), rpls.Y.astype(float)), crs=iris.crs)
    social = rpls.NBLOG.astype(int).groupby(in_iris(buildings, iris)).sum()
    table["social_dwellings"] = social.reindex(table.index).fillna(0).astype(int)
    table["share_social_housing"] = table.social_dwellings / table.dwellings
    return table


@pytest.fixture(scope="module")
def housing(sample_project, sample, iris):
    return {"tables": published(sample_project, "housing_affordability"), "expected": independent_housing(sample, iris),
            "doc": document(sample_project, "housing_affordability")}


def test_housing_sales_and_prices_per_iris_match(housing):
    got = housing["tables"]["iris"].set_index("code_iris")
    expected = housing["expected"]
    assert len(got) == 40 and got.index.equals(expected.index)
    for kind in ("flats", "houses"):
        np.testing.assert_array_equal(got[f"sales_{kind}"], expected[f"sales_{kind}"])
    for kind in ("flats", "houses", "dwellings"):
        np.testing.assert_array_equal(got[f"median_price_m2_{kind}"].isna(), expected[f"median_price_m2_{kind}"].isna())
        np.testing.assert_allclose(got[f"median_price_m2_{kind}"], expected[f"median_price_m2_{kind}"], rtol=1e-6)
    not_significant = expected.sales_houses < params("housing_affordability")["min_sales"]
    assert not_significant.any() and got.loc[not_significant, "median_price_m2_houses"].isna().all()


def test_housing_income_and_stock_per_iris_match(housing):
    got = housing["tables"]["iris"].set_index("code_iris")
    expected = housing["expected"]
    np.testing.assert_allclose(got["median_income"], expected["median_income"], rtol=1e-6)
    np.testing.assert_allclose(got["years_income_70m2"], expected["years_income_70m2"], rtol=1e-6)
    assert got["years_income_70m2"].notna().sum() >= 30
    np.testing.assert_allclose(got["dwellings"], expected["dwellings"], rtol=1e-6)
    np.testing.assert_array_equal(got["social_dwellings"], expected["social_dwellings"])
    np.testing.assert_allclose(got["share_social_housing"], expected["share_social_housing"], rtol=1e-6)


def test_housing_vacancy_per_commune_matches_lovac(sample, housing):
    lovac = pd.read_csv(sample / "lovac.csv", sep=";", dtype=str).set_index("CODGEO_25")
    count = lambda c: pd.to_numeric(lovac[c].where(lovac[c] != "s"))  # noqa: E731
    got = housing["tables"]["commune"].set_index("code_commune")
    expected = (count("pp_vacant_25") / count("pp_total_24")).reindex(got.index)
    np.testing.assert_allclose(got["vacancy_rate"], expected, rtol=1e-6)
    np.testing.assert_array_equal(got["vacant_dwellings"].isna(), count("pp_vacant_25").reindex(got.index).isna())
    assert "vacancy_rate" not in housing["tables"]["iris"].columns  # commune-only in the registry: not published per IRIS


def test_housing_commune_medians_are_not_medians_of_iris(sample, iris, housing):
    sales = independent_sales(sample, iris)
    sales["commune"] = sales.iris.map(dict(zip(iris.CODE_IRIS, iris.INSEE_COM, strict=False)))
    expected = sales[sales.kind == "flats"].groupby("commune").price_m2.agg(["size", "median"])
    got = housing["tables"]["commune"].set_index("code_commune")
    shown = got["median_price_m2_flats"].notna()
    np.testing.assert_allclose(got.loc[shown, "median_price_m2_flats"], expected.loc[got.index[shown], "median"], rtol=1e-6)
    headline = {h["indicator"]: h["value"] for h in housing["doc"]["headlines"]}
    assert headline["median_price_m2_flats"] == pytest.approx(sales[sales.kind == "flats"].price_m2.median(), rel=1e-9)


# --- publication ---------------------------------------------------------------------------


@pytest.mark.parametrize("demo", ["mobility_access", "housing_affordability"])
def test_published_bundle_and_audit(sample_project, demo):
    root = sample_project["root"]
    for zoning in ("iris", "commune"):
        for ext in ("csv", "parquet", "gpkg", "manifest.json"):
            assert (root / "outputs" / "sample" / demo / f"{demo}_{zoning}.{ext}").stat().st_size > 0
        columns = pd.read_csv(root / "outputs" / "sample" / demo / f"{demo}_{zoning}.csv", nrows=0).columns
        assert not [c for c in columns if c.startswith("_")]  # working columns never published
    doc = document(sample_project, demo)
    assert 3 <= len(doc["headlines"]) <= 5 and doc["message"] and doc["crossing"]
    assert all(isinstance(h["value"], float) and not np.isnan(h["value"]) for h in doc["headlines"])
    assert (root / "outputs" / "sample" / "site" / f"{demo}.html").exists()
    done = subprocess.run([str(BIN / "datacites"), "audit", str(root / "outputs" / "sample" / demo)], env=sample_project["env"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
