"""The overseas profile: a second fictional territory whose CRSs are Martinique's.

It proves that "the CRSs are properties of the territory" (DESIGN.md, decision 6): the
same generator writes every file in EPSG:5490 (coordinates and INSEE's 200 m cells
alike), and the project's connectors read them with ``working_crs="EPSG:5490"``.
Generated once per module (the overseas territory at scale 1 takes well under a second).
"""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
import yaml

from pipelines.config import COMMUNE_CODE_PATTERN
from pipelines.connectors import get_connector
from pipelines.connectors.dvf import mutations
from pipelines.errors import SourceError
from pipelines.sample import MAINLAND, OVERSEAS, SAMPLE_FILES, Targets, generate_sample, get_profile, main
from pipelines.spatial.grid import cell_polygons, grid_cell_ids, parse_cell_ids

CRS = "EPSG:5490"
FICTIONAL_CODE = r"^00\d{3}$"
# Lon/lat boxes: where EPSG:5490 may be used (the French Antilles), and Martinique itself
# (the area of use of EPSG:2973, "Martinique - onshore").
AREA_5490 = pyproj.CRS(CRS).area_of_use
MARTINIQUE = pyproj.CRS("EPSG:2973").area_of_use
TO_LONLAT = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("overseas")
    return generate_sample(out, scale=1, profile="overseas"), out


@pytest.fixture(scope="module")
def out(generated) -> Path:
    return generated[1]


@pytest.fixture(scope="module")
def summary(generated):
    return generated[0]


def read(out: Path, connector: str, name: str, **options):
    return get_connector(connector)(out / name, working_crs=CRS, **options)


def csv(out: Path, name: str, sep: str = ",") -> pd.DataFrame:
    return pd.read_csv(out / name, sep=sep, dtype=str, keep_default_na=False, na_values=[""])


def assert_in_martinique(x, y, *, lonlat: bool = False) -> None:
    """Every point lies in Martinique's box, hence in EPSG:5490's area of use."""
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    lon, lat = (x, y) if lonlat else TO_LONLAT.transform(x, y)
    for area in (AREA_5490, MARTINIQUE):
        assert (lon >= area.west).all() and (lon <= area.east).all(), area.name
        assert (lat >= area.south).all() and (lat <= area.north).all(), area.name


# --------------------------------------------------------------------------- profiles
def test_the_two_profiles_differ_by_their_crs_place_and_codes():
    assert (MAINLAND.working_crs, MAINLAND.grid_crs, MAINLAND.grid_layer) == ("EPSG:2154", "EPSG:3035", "carreaux_200m_met")
    assert (OVERSEAS.working_crs, OVERSEAS.grid_crs, OVERSEAS.grid_layer) == (CRS, CRS, "carreaux_200m_mart")
    assert (MAINLAND.grid_epsg, OVERSEAS.grid_epsg) == (3035, 5490)
    assert OVERSEAS.seed != MAINLAND.seed and OVERSEAS.first_commune == 101
    assert_in_martinique(*OVERSEAS.origin)
    assert get_profile("overseas") is OVERSEAS and get_profile(MAINLAND) is MAINLAND
    with pytest.raises(ValueError, match="mainland, overseas"):
        get_profile("reunion")
    with pytest.raises(dataclasses.FrozenInstanceError):
        OVERSEAS.working_crs = "EPSG:2154"  # type: ignore[misc]


def test_overseas_targets_are_smaller():
    targets = Targets.from_scale(1, OVERSEAS)
    assert (targets.n_communes, targets.n_iris, targets.n_single_iris_communes) == (3, 24, 1)
    assert targets.households == 17_000 and targets.dpe_rows == 7_200
    assert Targets.from_scale(1) == Targets.from_scale(1, MAINLAND)


@pytest.mark.parametrize("profile", [MAINLAND, OVERSEAS])
def test_territory_cards_in_sources_match_their_profile(profile):
    card = yaml.safe_load((Path(__file__).resolve().parents[2] / "sources" / "territories"
                           / f"{profile.territory_id}.yaml").read_text(encoding="utf-8"))
    assert (card["id"], card["name"], card["data_dir"], card["working_crs"], card["grid_crs"], card["fictional"]) == (
        profile.territory_id, profile.name, profile.data_dir, profile.working_crs, profile.grid_crs, True)


# --------------------------------------------------------------------------- files
def test_every_file_is_written_and_says_it_is_fictional(out):
    assert sorted(p.name for p in out.iterdir()) == sorted(SAMPLE_FILES)
    notice = (out / "LISEZMOI_FICTIF.txt").read_text(encoding="utf-8")
    assert "FICTIVES" in notice and "FICTIONAL" in notice and "NOT\nMartinique" in notice and CRS in notice
    for name in ("contours_iris.gpkg", "communes.gpkg", "filosofi_200m.gpkg"):
        assert "FICTI" in pyogrio.read_info(out / name)["layer_metadata"]["DESCRIPTION"], name
    with zipfile.ZipFile(out / "gtfs_bus.zip") as feed:
        agency = pd.read_csv(feed.open("agency.txt"), dtype=str)
        publisher = pd.read_csv(feed.open("feed_info.txt"), dtype=str)
    assert "FICTIF" in agency.agency_name.iloc[0] and "FICTIVES" in publisher.feed_publisher_name.iloc[0]
    names = pd.concat([csv(out, "dvf.csv").nom_commune, csv(out, "rpls.csv", ";").LIBCOM,
                       csv(out, "lovac.csv", ";").LIBGEO_25, csv(out, "dpe_logements_existants.csv").nom_commune_ban])
    assert names.str.endswith("(fictif)").all()
    assert csv(out, "carsharing_trips.csv").station_name.str.endswith("(station fictive)").all()


def test_territory_card_says_the_profile_crs(out, summary):
    card = yaml.safe_load((out / "territory.yaml").read_text(encoding="utf-8"))
    assert {k: card[k] for k in ("id", "fictional", "working_crs", "grid_crs", "seed")} == {
        "id": "overseas_sample", "fictional": True, "working_crs": CRS, "grid_crs": CRS, "seed": OVERSEAS.seed}
    assert "fictif" in card["name"] and all(c["name"].endswith("(fictif)") for c in card["communes"])
    assert [c["code"] for c in card["communes"]] == ["00101", "00102", "00103"] == [
        f"00{101 + i}" for i in range(summary.communes)]


def test_layers_are_in_epsg5490_inside_martinique(out):
    layers = {"contours_iris.gpkg": "contours_iris", "communes.gpkg": "commune", "filosofi_200m.gpkg": "carreaux_200m_mart"}
    for name, layer in layers.items():
        info = pyogrio.read_info(out / name)
        assert pyogrio.list_layers(out / name)[:, 0].tolist() == [layer]
        assert pyproj.CRS(info["crs"]).to_epsg() == 5490, name
        xmin, ymin, xmax, ymax = info["total_bounds"]
        assert_in_martinique([xmin, xmax], [ymin, ymax])
    iris = pyogrio.read_dataframe(out / "contours_iris.gpkg")
    assert iris.is_valid.all() and (iris.geom_type == "MultiPolygon").all()
    width, height = np.ptp(iris.get_coordinates().to_numpy(), axis=0)
    assert max(width, height) > 1.1 * min(width, height)  # the elongated coastal strip, not the blob


def test_point_files_are_in_epsg5490_inside_the_territory(out):
    territory = pyogrio.read_dataframe(out / "communes.gpkg").union_all().buffer(1)
    points = {"dpe_logements_existants.csv": (",", "coordonnee_cartographique_x_ban", "coordonnee_cartographique_y_ban"),
              "rpls.csv": (";", "X", "Y"), "smart_meter_readings.csv": (",", "x_utm20n", "y_utm20n"),
              "operator_consumption.csv": (",", "x_utm20n", "y_utm20n"),
              "carsharing_trips.csv": (",", "x_utm20n", "y_utm20n"),
              "travel_survey_persons.csv": (",", "x_domicile", "y_domicile")}
    for name, (sep, x, y) in points.items():
        frame = csv(out, name, sep)
        xs, ys = frame[x].astype(float), frame[y].astype(float)
        assert shapely.contains_xy(territory, xs, ys).all(), name
        assert_in_martinique(xs, ys)
    dvf = csv(out, "dvf.csv")
    assert_in_martinique(dvf.longitude.astype(float), dvf.latitude.astype(float), lonlat=True)
    with zipfile.ZipFile(out / "gtfs_bus.zip") as feed:
        stops = pd.read_csv(feed.open("stops.txt"), dtype={"stop_id": str})
    assert_in_martinique(stops.stop_lon, stops.stop_lat, lonlat=True)


def test_cell_ids_are_epsg5490_ids_whose_squares_hold_their_points(out):
    grid = pyogrio.read_dataframe(out / "filosofi_200m.gpkg")
    for column, resolution in (("idcar_200m", 200), ("idcar_1km", 1_000)):
        parts = parse_cell_ids(grid[column])
        assert (parts.epsg == 5490).all() and (parts.resolution == resolution).all()
    assert (parse_cell_ids(grid.idcar_nat).epsg == 5490).all()
    squares = cell_polygons(grid.idcar_200m)
    assert squares.crs.to_epsg() == 5490 and squares.geom_equals_exact(grid.geometry, 1e-6).all()
    dpe = csv(out, "dpe_logements_existants.csv")
    x, y = dpe.coordonnee_cartographique_x_ban.astype(float), dpe.coordonnee_cartographique_y_ban.astype(float)
    ids = grid_cell_ids(x, y, src_crs=CRS, grid_crs=CRS).astype(object)
    assert set(ids) <= set(grid.idcar_200m)  # every dwelling is in an inhabited cell
    assert shapely.contains_xy(cell_polygons(pd.Series(ids)).values, x.to_numpy(), y.to_numpy()).all()


def test_codes_are_fictional_text_in_departement_00(out):
    communes = pyogrio.read_dataframe(out / "communes.gpkg", read_geometry=False)
    iris = pyogrio.read_dataframe(out / "contours_iris.gpkg", read_geometry=False)
    codes = set(communes.INSEE_COM)
    assert communes.INSEE_COM.str.match(FICTIONAL_CODE).all() and communes.INSEE_COM.str.match(COMMUNE_CODE_PATTERN).all()
    assert (communes.INSEE_DEP == "00").all() and codes == {"00101", "00102", "00103"}
    assert iris.CODE_IRIS.str.fullmatch(r"00\d{7}").all() and (iris.CODE_IRIS == iris.INSEE_COM + iris.IRIS).all()
    assert set(iris.TYP_IRIS) == {"H", "A", "D", "Z"}
    used = pd.concat([csv(out, "dvf.csv").code_commune, csv(out, "rpls.csv", ";").DEPCOM,
                      csv(out, "lovac.csv", ";").CODGEO_25, csv(out, "filosofi_commune.csv", ";").CODGEO,
                      csv(out, "dpe_logements_existants.csv").code_insee_ban,
                      csv(out, "operator_consumption.csv").code_commune])
    assert set(used) <= codes and (csv(out, "dvf.csv").code_departement == "00").all()
    grid = pyogrio.read_dataframe(out / "filosofi_200m.gpkg", read_geometry=False)
    assert grid.lcog_geo.str.fullmatch(r"(001\d{2})+").all()


def test_gtfs_runs_on_martinique_time_and_holidays(out):
    with zipfile.ZipFile(out / "gtfs_bus.zip") as feed:
        agency = pd.read_csv(feed.open("agency.txt"), dtype=str)
        exceptions = pd.read_csv(feed.open("calendar_dates.txt"), dtype=str)
    assert agency.agency_timezone.tolist() == ["America/Martinique"]
    assert set(exceptions.date) == {"20230501", "20230522", "20230714"}


# --------------------------------------------------------------------------- connectors
def test_zones_and_grid_read_with_the_connectors(out, summary):
    iris = read(out, "iris", "contours_iris.gpkg")
    communes = read(out, "communes", "communes.gpkg")
    assert iris.crs.to_epsg() == communes.crs.to_epsg() == 5490
    assert (len(iris), len(communes)) == (summary.iris, summary.communes)
    assert set(iris.code_commune) == set(communes.code_commune)
    cells = read(out, "filosofi_grid", "filosofi_200m.gpkg")
    assert cells.crs.to_epsg() == 5490 and cells.attrs["grid_crs"] == CRS and len(cells) == summary.grid_cells
    assert cells["ind"].sum() == pytest.approx(summary.inhabitants, rel=0.01)
    per_iris = read(out, "filosofi_zones", "filosofi_iris.csv")
    per_commune = read(out, "filosofi_zones", "filosofi_commune.csv")
    assert set(per_iris.code_iris) == set(iris.code_iris) and set(per_commune.code_commune) == set(communes.code_commune)


def test_points_read_with_the_connectors_in_epsg5490(out, summary):
    territory = read(out, "communes", "communes.gpkg").union_all().buffer(1)
    dpe = read(out, "dpe", "dpe_logements_existants.csv", crs=CRS)
    dvf = read(out, "dvf", "dvf.csv")
    rpls = read(out, "rpls", "rpls.csv", crs=CRS)
    meters = read(out, "point_csv", "smart_meter_readings.csv", x="x_utm20n", y="y_utm20n", crs=CRS,
                  columns={"numero_compteur": "text", "mois": "month", "conso_kwh": "float"})
    survey = read(out, "travel_survey", "travel_survey_persons.csv", crs=CRS)
    stops = read(out, "gtfs", "gtfs_bus.zip")
    for frame in (dpe, dvf, rpls, meters, survey, stops):
        assert frame.attrs["crs"] == CRS
        assert shapely.contains_xy(territory, frame.x, frame.y).all()
    assert len(dpe) == summary.dpe_rows and len(mutations(dvf)) == summary.dvf_mutations
    assert len(rpls) == summary.rpls_buildings and rpls.nb_logements.sum() == summary.social_dwellings
    assert len(meters) == summary.meter_rows and len(survey) == summary.survey_trips
    assert 0 < len(stops) <= summary.gtfs_stops and stops.departures.sum() > summary.gtfs_trips
    assert len(read(out, "lovac", "lovac.csv")) == summary.lovac_communes


@pytest.mark.parametrize("connector, name", [("dpe", "dpe_logements_existants.csv"), ("rpls", "rpls.csv"),
                                             ("travel_survey", "travel_survey_persons.csv")])
def test_reading_overseas_points_as_lambert93_is_an_error(out, connector, name):
    with pytest.raises(SourceError, match="outside the area where EPSG:2154 is used"):
        read(out, connector, name)  # the connectors' default CRS is Lambert-93


# --------------------------------------------------------------------------- determinism and CLI
def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_profile_and_seed_give_the_same_bytes(tmp_path):
    first = generate_sample(tmp_path / "a", scale=0.2, profile=OVERSEAS)
    generate_sample(tmp_path / "b", scale=0.2, seed=OVERSEAS.seed, profile="overseas")
    generate_sample(tmp_path / "mainland", scale=0.2)
    assert first.seed == OVERSEAS.seed and first.profile == "overseas"
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    mainland = _hashes(tmp_path / "mainland")
    assert all(mainland[k] != v for k, v in _hashes(tmp_path / "a").items())


def test_command_line_profile(tmp_path, capsys):
    assert main(["--profile", "overseas", "--scale", "0.2", "--seed", "None", "--out", str(tmp_path)]) == 0
    assert "overseas" in capsys.readouterr().out
    card = yaml.safe_load((tmp_path / "territory.yaml").read_text(encoding="utf-8"))
    assert (card["id"], card["working_crs"], card["seed"]) == ("overseas_sample", CRS, OVERSEAS.seed)
    with pytest.raises(SystemExit):
        main(["--profile", "reunion"])
