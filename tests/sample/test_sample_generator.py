"""Tests of the fictional sample generator, at scale 1 (generated once per module).

Spatial facts are checked with an independent method (GeoPandas/shapely joins on the
written files), not with the generator's own nearest-seed lookup.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import yaml
from scipy.stats import spearmanr

from pipelines.config import COMMUNE_CODE_PATTERN, IRIS_CODE_PATTERN
from pipelines.sample import (
    MAX_COMMUNES,
    SAMPLE_FILES,
    Targets,
    commune_codes,
    generate_sample,
    main,
)

CENTRE_L93 = (700_000.0, 6_600_000.0)
EP_BOUNDS = {"A": (0, 70), "B": (70, 110), "C": (110, 180), "D": (180, 250), "E": (250, 330), "F": (330, 420), "G": (420, 1e9)}
ADEME_PERIODS = {"avant 1948", "1948-1974", "1975-1977", "1978-1982", "1983-1988", "1989-2000",
                 "2001-2005", "2006-2012", "2013-2021", "après 2021"}
GEO_DVF_HEADER = ["id_mutation", "date_mutation", "numero_disposition", "nature_mutation", "valeur_fonciere", "adresse_numero", "adresse_suffixe", "adresse_nom_voie", "adresse_code_voie", "code_postal", "code_commune", "nom_commune", "code_departement", "ancien_code_commune", "ancien_nom_commune", "id_parcelle", "ancien_id_parcelle", "numero_volume", "lot1_numero", "lot1_surface_carrez", "lot2_numero", "lot2_surface_carrez", "lot3_numero", "lot3_surface_carrez", "lot4_numero", "lot4_surface_carrez", "lot5_numero", "lot5_surface_carrez", "nombre_lots", "code_type_local", "type_local", "surface_reelle_bati", "nombre_pieces_principales", "code_nature_culture", "nature_culture", "code_nature_culture_speciale", "nature_culture_speciale", "surface_terrain", "longitude", "latitude", "section_prefixe"]
GRID_COLUMNS = [
    "idcar_200m", "idcar_1km", "idcar_nat", "i_est_200", "i_est_1km", "lcog_geo", "ind", "men",
    "men_pauv", "men_1ind", "men_5ind", "men_prop", "men_fmp", "ind_snv", "men_surf", "men_coll",
    "men_mais", "log_av45", "log_45_70", "log_70_90", "log_ap90", "log_inc", "log_soc", "ind_0_3",
    "ind_4_5", "ind_6_10", "ind_11_17", "ind_18_24", "ind_25_39", "ind_40_54", "ind_55_64",
    "ind_65_79", "ind_80p", "ind_inc",
]
CSV_HEADERS = {
    "filosofi_iris.csv": (";", ["IRIS", "DISP_MED19", "DISP_TP6019"]),
    "filosofi_commune.csv": (";", ["CODGEO", "DISP_MED19", "DISP_TP6019"]),
    "dpe_logements_existants.csv": (",", [
        "numero_dpe", "date_etablissement_dpe", "etiquette_dpe", "etiquette_ges", "conso_5_usages_par_m2_ep",
        "conso_5_usages_par_m2_ef", "surface_habitable_logement", "annee_construction", "periode_construction",
        "type_batiment", "code_insee_ban", "code_postal_ban", "nom_commune_ban", "identifiant_ban",
        "coordonnee_cartographique_x_ban", "coordonnee_cartographique_y_ban"]),
    "dvf.csv": (",", GEO_DVF_HEADER),
    "rpls.csv": (";", ["DEPCOM", "CODEPOSTAL", "NUMVOIE", "LIBVOIE", "NBLOG", "CONSTRUCT", "X", "Y"]),
    "lovac.csv": (";", ["CODGEO_25", "LIBGEO_25", "pp_vacant_25", "pp_vacant_plus_2ans_25", "pp_total_24"]),
    "operator_consumption.csv": (",", ["id_batiment", "annee", "code_commune", "x_l93", "y_l93",
                                       "nb_points_livraison", "nb_logements", "conso_totale_mwh", "segment"]),
    "carsharing_trips.csv": (",", ["station_id", "station_name", "x_l93", "y_l93", "mois", "nb_trajets"]),
    "smart_meter_readings.csv": (",", ["numero_compteur", "adresse", "x_l93", "y_l93", "mois", "conso_kwh"]),
    "travel_survey_persons.csv": (",", ["id_personne", "id_menage", "x_domicile_l93", "y_domicile_l93",
                                        "tranche_age", "taille_menage"]),
    "travel_survey_trips.csv": (",", ["id_personne", "id_deplacement", "mode", "motif", "distance_km"]),
}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return generate_sample(out, scale=1), out


@pytest.fixture(scope="module")
def out(generated) -> Path:
    return generated[1]


@pytest.fixture(scope="module")
def summary(generated):
    return generated[0]


def read_csv(out: Path, name: str) -> pd.DataFrame:
    sep = CSV_HEADERS.get(name, (",",))[0]
    return pd.read_csv(out / name, sep=sep, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def iris(out) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(out / "contours_iris.gpkg", layer="contours_iris")


@pytest.fixture(scope="module")
def communes(out) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(out / "communes.gpkg", layer="commune")


@pytest.fixture(scope="module")
def grid(out) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(out / "filosofi_200m.gpkg", layer="carreaux_200m_met")


@pytest.fixture(scope="module")
def dpe(out, iris) -> gpd.GeoDataFrame:
    frame = read_csv(out, "dpe_logements_existants.csv")
    x = frame.coordonnee_cartographique_x_ban.astype(float)
    y = frame.coordonnee_cartographique_y_ban.astype(float)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs="EPSG:2154")
    return gpd.sjoin(points, iris[["CODE_IRIS", "INSEE_COM", "geometry"]], how="left", predicate="within")


def iris_of_points(iris: gpd.GeoDataFrame, x, y, crs="EPSG:2154") -> pd.Series:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=crs).to_crs("EPSG:2154")
    return gpd.sjoin(points, iris[["CODE_IRIS", "geometry"]], how="left", predicate="within").CODE_IRIS


def distance_to_centre(x, y) -> np.ndarray:
    return np.hypot(np.asarray(x, float) - CENTRE_L93[0], np.asarray(y, float) - CENTRE_L93[1])


# --------------------------------------------------------------------------- counts and card
def test_summary_counts_are_in_the_stated_ranges(summary):
    assert summary.communes == 4
    assert summary.iris == 40
    assert 26_000 <= summary.households <= 30_000
    assert 55_000 <= summary.inhabitants <= 65_000
    assert 11_000 <= summary.dpe_rows <= 13_000
    assert summary.meter_households == 3_000 and summary.meter_rows == 36_000
    assert 1_800 <= summary.survey_persons <= 2_200
    assert summary.dvf_rows > summary.dvf_mutations  # several rows for some mutations


def test_every_file_is_written_and_says_it_is_fictional(out):
    assert sorted(p.name for p in out.iterdir()) == sorted(SAMPLE_FILES)
    notice = (out / "LISEZMOI_FICTIF.txt").read_text(encoding="utf-8")
    assert "FICTIVES" in notice and "FICTIONAL" in notice
    with zipfile.ZipFile(out / "gtfs_bus.zip") as feed, feed.open("agency.txt") as handle:
        agency = pd.read_csv(handle, dtype=str)
    assert "FICTIF" in agency.agency_name.iloc[0]
    assert "FICTI" in pyogrio.read_info(out / "contours_iris.gpkg")["layer_metadata"]["DESCRIPTION"]


def test_territory_card(out, communes):
    card = yaml.safe_load((out / "territory.yaml").read_text(encoding="utf-8"))
    assert {k: card[k] for k in ("id", "fictional", "working_crs", "grid_crs", "scale", "seed", "data_year")} == {
        "id": "sample", "fictional": True, "working_crs": "EPSG:2154", "grid_crs": "EPSG:3035",
        "scale": 1, "seed": 20261128, "data_year": 2023}
    assert "fictif" in card["name"]
    assert [c["code"] for c in card["communes"]] == communes.INSEE_COM.tolist()
    assert all("(fictif)" in c["name"] for c in card["communes"])


# --------------------------------------------------------------------------- geography
def test_codes_are_text_fictional_and_consistent(iris, communes):
    assert communes.INSEE_COM.str.match(COMMUNE_CODE_PATTERN).all()
    assert communes.INSEE_COM.str.startswith("00").all() and communes.INSEE_COM.is_unique
    assert iris.CODE_IRIS.str.match(IRIS_CODE_PATTERN).all() and iris.CODE_IRIS.is_unique
    assert (iris.CODE_IRIS == iris.INSEE_COM + iris.IRIS).all()
    assert set(iris.INSEE_COM) == set(communes.INSEE_COM)
    assert set(iris.TYP_IRIS) == {"H", "A", "D", "Z"}
    assert (iris.loc[iris.TYP_IRIS == "Z", "IRIS"] == "0000").all()


def test_layers_are_in_lambert93_and_valid(iris, communes):
    for frame in (iris, communes):
        assert frame.crs.to_epsg() == 2154
        assert frame.is_valid.all() and (frame.geom_type == "MultiPolygon").all()
    x, y = communes.union_all().centroid.coords[0]
    assert abs(x - CENTRE_L93[0]) < 5_000 and abs(y - CENTRE_L93[1]) < 5_000


def test_iris_tile_their_commune_and_communes_tile_the_territory(iris, communes):
    iris_area = iris.assign(area=iris.area).groupby("INSEE_COM").area.sum()
    commune_area = communes.set_index("INSEE_COM").area
    np.testing.assert_allclose(iris_area.loc[commune_area.index], commune_area, rtol=1e-9)
    for code, geometry in zip(communes.INSEE_COM, communes.geometry, strict=False):
        assert iris[code == iris.INSEE_COM].union_all().symmetric_difference(geometry).area < 1e-6
    left, right = iris.sindex.query(iris.geometry, predicate="intersects")
    pairs = left < right
    overlap = iris.geometry.values[left[pairs]].intersection(iris.geometry.values[right[pairs]]).area
    assert overlap.max() < 1e-6
    assert abs(communes.area.sum() - communes.union_all().area) < 1e-3


# --------------------------------------------------------------------------- Filosofi
def test_grid_cells_follow_the_insee_layout(grid, communes):
    assert grid.crs.to_epsg() == 3035
    assert list(grid.columns[:-1]) == GRID_COLUMNS
    ids = grid.idcar_200m.str.extract(r"^CRS3035RES200mN(\d+)E(\d+)$").astype(int)
    bounds = grid.bounds
    assert (ids[0] == bounds.miny).all() and (ids[1] == bounds.minx).all()
    assert ((bounds.maxx - bounds.minx) == 200).all() and (ids % 200 == 0).all().all()
    assert (grid.men > 0).all() and grid.idcar_200m.is_unique
    assert grid.lcog_geo.str.fullmatch(r"(00\d{3})+").all()
    fractional = grid.loc[grid.i_est_200 == 1, "men"] % 1 != 0
    assert fractional.any() and (grid.loc[grid.i_est_200 == 0, "men"] % 1 == 0).all()
    territory = communes.to_crs("EPSG:3035").union_all()
    assert (~grid.within(territory)).any()  # edge cells stick out of the territory
    assert grid.centroid.within(territory.buffer(1)).all()


def test_income_tables_are_coherent_with_the_grid(out, grid, iris):
    table = read_csv(out, "filosofi_iris.csv")
    assert set(table.IRIS) == set(iris.CODE_IRIS)
    centroids = grid.set_geometry(grid.centroid)
    grid = grid.assign(CODE_IRIS=iris_of_points(iris, centroids.geometry.x, centroids.geometry.y, "EPSG:3035").values)
    zone = grid.groupby("CODE_IRIS")[["ind_snv", "ind", "men_pauv", "men"]].sum()
    merged = table.dropna().astype({"DISP_MED19": float, "DISP_TP6019": float}).set_index("IRIS").join(zone)
    assert spearmanr(merged.DISP_MED19, merged.ind_snv / merged.ind).statistic > 0.8
    assert spearmanr(merged.DISP_TP6019, merged.men_pauv / merged.men).statistic > 0.8
    rate = merged.men_pauv / merged.men
    assert rate.max() > 2 * rate.median()  # some districts are much poorer
    commune = read_csv(out, "filosofi_commune.csv")
    assert commune.NBMENFISC19.astype(float).sum() == pytest.approx(grid.men.sum(), rel=1e-3)


# --------------------------------------------------------------------------- DPE
def test_every_dpe_point_is_in_a_grid_cell_and_in_its_iris(dpe, grid):
    assert dpe.CODE_IRIS.notna().all()
    assert (dpe.code_insee_ban == dpe.INSEE_COM).all()
    e, n = pyproj.Transformer.from_crs(2154, 3035, always_xy=True).transform(dpe.geometry.x, dpe.geometry.y)
    corner = lambda v: (np.floor(v / 200) * 200).astype(int).astype(str)  # noqa: E731
    ids = "CRS3035RES200mN" + corner(n) + "E" + corner(e)
    assert pd.Series(ids).isin(set(grid.idcar_200m)).all()


def test_dpe_values_are_consistent(dpe):
    ep = dpe.conso_5_usages_par_m2_ep.astype(float)
    low = dpe.etiquette_dpe.map(lambda e: EP_BOUNDS[e][0])
    high = dpe.etiquette_dpe.map(lambda e: EP_BOUNDS[e][1])
    assert ((ep >= low) & (ep < high)).all()
    assert set(dpe.periode_construction) <= ADEME_PERIODS and len(set(dpe.periode_construction)) == 10
    assert set(dpe.type_batiment) <= {"maison", "appartement", "immeuble"}
    assert dpe.numero_dpe.is_unique and dpe.numero_dpe.str.fullmatch(r"\d{2}00E\d{7}[A-Z]").all()
    assert dpe.code_postal_ban.str.fullmatch(r"\d{5}").all()
    year = dpe.annee_construction.dropna().astype(int)
    assert 0 < len(year) < len(dpe) and year.between(1700, 2023).all()


def test_old_dwellings_in_the_centre_and_rated_f_or_g(dpe):
    old = dpe.periode_construction.isin(["avant 1948", "1948-1974"])
    bad = dpe.etiquette_dpe.isin(["F", "G"])
    by_iris = pd.DataFrame({"old": old, "bad": bad, "iris": dpe.CODE_IRIS}).groupby("iris").mean()
    assert spearmanr(by_iris.old, by_iris.bad).statistic > 0.5
    ring = pd.cut(distance_to_centre(dpe.geometry.x, dpe.geometry.y), [0, 1_500, 3_000, 1e9])
    share_old = old.groupby(ring, observed=True).mean()
    assert share_old.is_monotonic_decreasing and share_old.iloc[0] > share_old.iloc[-1] + 0.2


# --------------------------------------------------------------------------- DVF
def test_dvf_layout_and_mutations(out):
    dvf = read_csv(out, "dvf.csv")
    assert list(dvf.columns) == GEO_DVF_HEADER
    assert '"' in (out / "dvf.csv").read_text(encoding="utf-8").splitlines()[1]  # street names quoted
    per_mutation = dvf.groupby("id_mutation").agg(rows=("id_mutation", "size"), values=("valeur_fonciere", "nunique"))
    assert (per_mutation.rows > 1).any() and (per_mutation["values"] == 1).all()
    assert set(dvf.type_local.dropna()) == {"Appartement", "Maison", "Dépendance"}
    assert dvf.code_commune.str.match(COMMUNE_CODE_PATTERN).all() and dvf.id_parcelle.str.len().eq(14).all()
    lon, lat = dvf.longitude.astype(float), dvf.latitude.astype(float)
    assert lon.between(2.5, 3.5).all() and lat.between(46.2, 46.8).all()
    flats = dvf[dvf.type_local == "Appartement"].drop_duplicates("id_mutation")
    to_l93 = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    x, y = to_l93.transform(flats.longitude.astype(float), flats.latitude.astype(float))
    per_m2 = flats.valeur_fonciere.astype(float) / flats.surface_reelle_bati.astype(float)
    assert spearmanr(distance_to_centre(x, y), per_m2).statistic < -0.3


def test_dvf_header_matches_the_real_geo_dvf_file(out, realdata):
    real = next(realdata("dvf_geodvf").glob("*.csv"))
    assert (out / "dvf.csv").read_text(encoding="utf-8").splitlines()[0] == real.read_text(encoding="utf-8").splitlines()[0]


# --------------------------------------------------------------------------- GTFS
@pytest.fixture(scope="module")
def gtfs(out) -> dict[str, pd.DataFrame]:
    archive = zipfile.ZipFile(out / "gtfs_bus.zip")
    return {n[:-4]: pd.read_csv(archive.open(n), dtype=str) for n in archive.namelist()}


def test_gtfs_feed_is_complete_and_consistent(gtfs):
    assert {"agency", "stops", "routes", "trips", "stop_times", "calendar", "calendar_dates", "frequencies"} <= set(gtfs)
    stops, times = gtfs["stops"], gtfs["stop_times"]
    children = stops.parent_station.notna()
    assert children.any() and (~children & (stops.location_type == "0")).any()
    assert set(stops.parent_station.dropna()) <= set(stops.loc[stops.location_type == "1", "stop_id"])
    assert set(times.stop_id) <= set(stops.stop_id) and set(times.trip_id) == set(gtfs["trips"].trip_id)
    assert (times.departure_time.str.slice(0, 2).astype(int) >= 24).any()
    assert (gtfs["calendar_dates"].exception_type == "2").any()
    assert set(gtfs["frequencies"].trip_id) <= set(gtfs["trips"].trip_id)


def test_stops_are_denser_where_people_live(gtfs, iris, grid):
    stops = gtfs["stops"][gtfs["stops"].location_type == "0"]
    stop_iris = iris_of_points(iris, stops.stop_lon.astype(float), stops.stop_lat.astype(float), "EPSG:4326")
    assert stop_iris.notna().all()
    centroids = grid.centroid
    cell_iris = iris_of_points(iris, centroids.x, centroids.y, "EPSG:3035")
    area = iris.set_index("CODE_IRIS").area / 1e6
    people = grid.ind.groupby(cell_iris.values).sum().reindex(area.index, fill_value=0) / area
    stops_per_km2 = stop_iris.value_counts().reindex(area.index, fill_value=0) / area
    assert spearmanr(stops_per_km2, people).statistic > 0


# --------------------------------------------------------------------------- housing
def test_rpls_and_lovac(out, grid):
    rpls = read_csv(out, "rpls.csv")
    assert rpls.DEPCOM.str.match(COMMUNE_CODE_PATTERN).all()
    assert rpls.NBLOG.astype(int).sum() == pytest.approx(np.rint(grid.log_soc).sum(), rel=1e-9)
    lovac = read_csv(out, "lovac.csv")
    values = lovac[["pp_vacant_25", "pp_vacant_plus_2ans_25", "pp_total_24"]].stack()
    assert (values == "s").any() and values[values != "s"].str.fullmatch(r"\d+").all()
    assert (values[values != "s"].astype(int) >= 11).all()


# --------------------------------------------------------------------------- private
def test_operator_data_give_the_privacy_rules_work(out, iris):
    op = read_csv(out, "operator_consumption.csv")
    op = op.assign(CODE_IRIS=iris_of_points(iris, op.x_l93.astype(float), op.y_l93.astype(float)).values,
                   conso=op.conso_totale_mwh.astype(float), points=op.nb_points_livraison.astype(int))
    assert op.CODE_IRIS.notna().all() and set(op.segment) == {"residentiel", "professionnel"}
    year = op[op.annee == "2023"].groupby("CODE_IRIS")
    share = year.conso.max() / year.conso.sum()
    assert share.between(0.85, 0.95).any()
    points = year.points.sum()
    assert ((points > 0) & (points < 10)).any()


def test_real_consumption_is_lower_than_predicted_in_poor_districts(out, dpe, iris):
    op = read_csv(out, "operator_consumption.csv")
    op = op[(op.segment == "residentiel") & (op.annee == "2022") & (op.nb_points_livraison == "1")]
    op = op.assign(CODE_IRIS=iris_of_points(iris, op.x_l93.astype(float), op.y_l93.astype(float)).values)
    real = op.groupby("CODE_IRIS").conso_totale_mwh.apply(lambda s: s.astype(float).median())
    predicted = dpe[dpe.type_batiment == "maison"].assign(
        mwh=lambda d: d.conso_5_usages_par_m2_ef.astype(float) * d.surface_habitable_logement.astype(float) / 1_000
    ).groupby("CODE_IRIS").mwh.median()
    income = read_csv(out, "filosofi_iris.csv").dropna().set_index("IRIS").DISP_TP6019.astype(float)
    frame = pd.concat({"ratio": real / predicted, "poverty": income}, axis=1).dropna()
    assert len(frame) >= 20
    assert spearmanr(frame.poverty, frame.ratio).statistic < 0


def test_carsharing(out):
    trips = read_csv(out, "carsharing_trips.csv")
    assert trips.station_id.nunique() == 25 and trips.mois.str.fullmatch(r"2023-(0[1-9]|1[0-2])").all()
    assert trips.groupby("station_id").size().min() < 12  # one station opened during the year


# --------------------------------------------------------------------------- personal
def test_meter_numbers_keep_their_leading_zeros(out):
    meters = read_csv(out, "smart_meter_readings.csv")
    assert meters.numero_compteur.str.fullmatch(r"\d{14}").all()
    assert meters.numero_compteur.str.startswith("0").any()
    assert meters.groupby("numero_compteur").size().eq(12).all() and meters.numero_compteur.nunique() == 3_000
    assert meters.adresse.str.contains("(fictif)", regex=False).all()
    assert meters.conso_kwh.isna().any()  # a few readings are missing, as with real meters


def test_car_use_grows_with_distance_from_the_centre(out):
    persons, trips = read_csv(out, "travel_survey_persons.csv"), read_csv(out, "travel_survey_trips.csv")
    assert set(trips["mode"]) == {"voiture", "transports_collectifs", "velo", "marche", "autre"}
    assert set(trips.id_personne) <= set(persons.id_personne) and persons.id_personne.is_unique
    merged = trips.merge(persons, on="id_personne")
    ring = pd.cut(distance_to_centre(merged.x_domicile_l93, merged.y_domicile_l93), [0, 1_500, 3_000, 1e9])
    car = (merged["mode"] == "voiture").groupby(ring, observed=True).mean()
    assert car.is_monotonic_increasing and car.iloc[-1] > car.iloc[0] + 0.2


# --------------------------------------------------------------------------- formats
def test_files_read_with_their_declared_columns(out):
    for name, (sep, columns) in CSV_HEADERS.items():
        raw = (out / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw, name
        header = pd.read_csv(out / name, sep=sep, nrows=0).columns
        assert set(columns) <= set(header), name
    layers = {"contours_iris.gpkg": "contours_iris", "communes.gpkg": "commune", "filosofi_200m.gpkg": "carreaux_200m_met"}
    for file, layer in layers.items():
        assert pyogrio.list_layers(out / file)[:, 0].tolist() == [layer]


# --------------------------------------------------------------------------- determinism
def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(out, tmp_path):
    again = tmp_path / "again"
    generate_sample(again, scale=1)
    assert _hashes(again) == _hashes(out)
    other = tmp_path / "other"
    generate_sample(other, scale=1, seed=7)
    differing = {k for k, v in _hashes(other).items() if v != _hashes(out)[k]}
    assert differing >= set(SAMPLE_FILES) - {"LISEZMOI_FICTIF.txt", "territory.yaml"}


# --------------------------------------------------------------------------- scale
def test_scale_multiplies_zones_and_keeps_codes_fictional(tmp_path):
    summary = generate_sample(tmp_path, scale=2.5)
    assert (summary.communes, summary.iris) == (10, 100)
    assert 65_000 <= summary.households <= 75_000
    communes = pyogrio.read_dataframe(tmp_path / "communes.gpkg", read_geometry=False)
    assert communes.INSEE_COM.is_unique and communes.INSEE_COM.str.match(COMMUNE_CODE_PATTERN).all()


def test_national_scale_targets_and_code_capacity():
    targets = Targets.from_scale(1250)
    assert targets.n_iris == 50_000 and targets.n_communes == MAX_COMMUNES
    codes = commune_codes(MAX_COMMUNES)
    assert len(set(codes)) == MAX_COMMUNES and all(re.fullmatch(COMMUNE_CODE_PATTERN, c) for c in codes)
    with pytest.raises(ValueError, match="at most"):
        commune_codes(MAX_COMMUNES + 1)


def test_fictional_codes_never_match_a_real_commune(realdata):
    real = {c["code"] for c in json.loads((realdata("cog2026") / "communes.json").read_text(encoding="utf-8"))}
    assert not set(commune_codes(MAX_COMMUNES)) & real


@pytest.mark.parametrize("scale", [0, -1, float("nan"), 1e6])
def test_invalid_scale_is_refused(scale, tmp_path):
    with pytest.raises(ValueError, match="scale must be"):
        generate_sample(tmp_path, scale=scale)


def test_command_line(tmp_path, capsys):
    assert main(["--scale", "0.2", "--out", str(tmp_path)]) == 0
    assert "FICTIONAL" in capsys.readouterr().out and (tmp_path / "dvf.csv").exists()
    assert main(["--scale", "0"]) == 2
