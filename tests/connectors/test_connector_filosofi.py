"""Filosofi 200 m grid (three editions, CSV and GeoPackage) and IRIS/commune tables."""

from __future__ import annotations

import csv

import geopandas as gpd
import pytest
import shapely

from pipelines.connectors import get_connector
from pipelines.errors import SourceError

LA_ROCHELLE = "CRS3035RES200mN2625200E3462200"
NEIGHBOUR = "CRS3035RES200mN2625400E3462200"

CSV_2019 = (
    "idcar_200m,idcar_1km,idcar_nat,i_est_200,i_est_1km,lcog_geo,ind,men,men_pauv\n"
    f"{LA_ROCHELLE},CRS3035RES1000mN2625000E3462000,CRS3035RES2000mN2624000E3462000,"
    "0,0,17300,12.5,5.2,1.1\n"
    f"{NEIGHBOUR},CRS3035RES1000mN2625000E3462000,CRS3035RES2000mN2624000E3462000,"
    "1,1,1730017306,3,1.5,0\n")


def test_2019_csv_with_crlf_rebuilds_cells_from_ids(tmp_path, write):
    path = write(tmp_path / "carreaux.csv", CSV_2019, newline="\r\n")
    cells = get_connector("filosofi_grid")(path, working_crs="EPSG:2154")
    assert cells.crs.to_epsg() == 3035 and cells.attrs["grid_crs"] == "EPSG:3035"
    assert cells["idcar_200m"].tolist() == [LA_ROCHELLE, NEIGHBOUR]
    assert cells.geometry.iloc[0].bounds == (3462200, 2625200, 3462400, 2625400)
    assert cells.geometry.iloc[1].bounds == (3462200, 2625400, 3462400, 2625600)
    assert cells["ind"].sum() == pytest.approx(15.5)
    assert cells["men_pauv"].tolist() == [1.1, 0.0]
    assert cells["lcog_geo"].tolist() == ["17300", "1730017306"]
    assert list(cells.columns[:3]) == ["idcar_200m", "idcar_1km", "idcar_nat"]


def test_2015_names_are_mapped_to_the_2019_ones(tmp_path, write):
    text = ("IdINSPIRE;Id_carr1km;I_est_cr;Id_carr_n;Groupe;Depcom;I_pauv;Id_car2010;Ind;Men;Men_pauv\n"
            f"{LA_ROCHELLE};CRS3035RES1000mN2625000E3462000;0;CRS3035RES2000mN2624000E3462000;"
            "1234;17300;0;N26252E34622;8;3;1\n")
    cells = get_connector("filosofi_grid")(write(tmp_path / "c2015.csv", text))
    assert list(cells.columns) == ["idcar_200m", "idcar_1km", "i_est_200", "idcar_nat", "groupe",
                                   "lcog_geo", "i_pauv", "id_car2010", "ind", "men", "men_pauv",
                                   "geometry"]
    assert cells.loc[0, "groupe"] == "1234" and cells.loc[0, "men"] == 3.0


def test_geopackage_edition_keeps_the_grid_crs(tmp_path):
    ids = [LA_ROCHELLE, NEIGHBOUR]
    frame = gpd.GeoDataFrame(
        {"idcar_200m": ids, "ind": [12.5, 3.0], "men_pauv": [1.1, 0.0]},
        geometry=[shapely.box(3462200, 2625200, 3462400, 2625400),
                  shapely.box(3462200, 2625400, 3462400, 2625600)], crs="EPSG:3035")
    path = tmp_path / "filosofi.gpkg"
    frame.to_file(path, layer="carreaux_200m_met")
    cells = get_connector("filosofi_grid")(path, working_crs="EPSG:2154")
    assert cells.crs.to_epsg() == 3035
    assert cells.geometry.geom_equals(frame.geometry).all()
    assert cells["ind"].tolist() == [12.5, 3.0]


def test_geometry_not_matching_its_id_is_refused(tmp_path, check_error):
    frame = gpd.GeoDataFrame({"idcar_200m": [LA_ROCHELLE, NEIGHBOUR], "ind": [1.0, 2.0]},
                             geometry=[shapely.box(3462200, 2625200, 3462400, 2625400),
                                       shapely.box(3462400, 2625400, 3462600, 2625600)],
                             crs="EPSG:3035")
    path = tmp_path / "filosofi.gpkg"
    frame.to_file(path, layer="carreaux_200m_met")
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_grid")(path)
    check_error(excinfo.value, row=2, column="geometry", contains=("not the square named",))


def test_malformed_and_mixed_ids_are_refused(tmp_path, write, check_error):
    bad = CSV_2019.replace(NEIGHBOUR, "CRS3035RES200mN2625450E3462200")
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_grid")(write(tmp_path / "a.csv", bad))
    check_error(excinfo.value, row=3, column="idcar_200m", contains=("not an INSEE grid cell id",))
    mixed = CSV_2019.replace(NEIGHBOUR, "CRS5490RES200mN1592600E728800")
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_grid")(write(tmp_path / "b.csv", mixed))
    check_error(excinfo.value, row=3, column="idcar_200m", contains=("several CRSs",))


def test_case_variants_of_one_column_are_refused(tmp_path, write, check_error):
    text = f"idcar_200m,Ind,ind\n{LA_ROCHELLE},1,2\n"
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_grid")(write(tmp_path / "a.csv", text))
    check_error(excinfo.value, row=1, column="ind", contains=("normalise to 'ind'",))


def test_real_martinique_2017_sample(realdata):
    path = (realdata("filosofi2017_200m_martinique_sample")
            / "Filosofi2017_carreaux_200m_mart_first200.csv")
    cells = get_connector("filosofi_grid")(path, working_crs="EPSG:5490")
    assert len(cells) == 200
    assert cells.crs.to_epsg() == 5490
    known = cells.set_index("idcar_200m").geometry.loc["CRS5490RES200mN1592600E728800"]
    assert known.bounds == (728800, 1592600, 729000, 1592800)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for published, normalised in (("Men_pauv", "men_pauv"), ("Ind", "ind"), ("Men", "men")):
        expected = sum(float(row[published]) for row in rows)
        assert cells[normalised].sum() == pytest.approx(expected)
    assert cells["lcog_geo"].str.len().eq(5).all()
    assert (cells["i_est_200"] == 1).sum() == sum(row["I_est_200"] == "1" for row in rows)


IRIS_TABLE = ("IRIS;DISP_MED19;DISP_TP6019;DISP_Q119;DISP_NOTE19\n"
              "173000101;21450;14.5;12800;0\n"
              "173000102;s;s;nd;1\n"
              "2A0040101;19800.5;22;11020;0\n")


def test_filosofi_iris_table_strips_the_year_and_masks(tmp_path, write):
    frame = get_connector("filosofi_zones")(write(tmp_path / "iris.csv", IRIS_TABLE))
    assert list(frame.columns) == ["code_iris", "disp_med", "disp_tp60", "disp_q1", "disp_note",
                                   "masque"]
    assert frame["code_iris"].tolist() == ["173000101", "173000102", "2A0040101"]
    assert frame["disp_med"].tolist()[0::2] == [21450.0, 19800.5]
    assert frame["disp_tp60"].isna().tolist() == [False, True, False]
    assert frame["masque"].tolist() == [False, True, False]
    assert frame.attrs["year"] == 2019 and frame.attrs["level"] == "iris"


@pytest.mark.parametrize("year", ["17", "18", "20"])
def test_filosofi_commune_table_for_other_years(tmp_path, write, year):
    text = f"CODGEO;DISP_MED{year};DISP_TP60{year}\n01053;21000,5;13,2\n17300;20500;16\n"
    frame = get_connector("filosofi_zones")(write(tmp_path / "c.csv", text), decimal=",")
    assert frame["code_commune"].tolist() == ["01053", "17300"]
    assert frame["disp_med"].tolist() == [21000.5, 20500.0]
    assert frame.attrs["year"] == 2000 + int(year)


def test_filosofi_table_without_poverty_rate_or_mixing_years(tmp_path, write, check_error):
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(write(tmp_path / "a.csv", "CODGEO;DISP_MED19\n01053;1\n"))
    check_error(excinfo.value, row=1, column="DISP_TP60", contains=("required column is missing",))
    text = "CODGEO;DISP_MED19;DISP_TP6018\n01053;1;2\n"
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(write(tmp_path / "b.csv", text))
    check_error(excinfo.value, row=1, contains=("several years (18, 19)",))
