"""Filosofi 200 m grid (three editions, CSV and GeoPackage) and IRIS/commune tables."""

from __future__ import annotations

import csv
import math
from pathlib import Path

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




def published_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def number(text: str) -> float:
    return math.nan if text == "" else float(text)


def test_real_filosofi_iris_2018_of_lyon_8e(realterritory):
    path = realterritory("lyon_8e") / "BASE_TD_FILO_DISP_IRIS_2018_lyon8.csv"
    rows = published_rows(path)
    frame = get_connector("filosofi_zones")(path)
    assert frame.attrs == {"year": 2018, "level": "iris"}
    assert frame["code_iris"].tolist() == [row["IRIS"] for row in rows]
    assert len(frame) == 27 and str(frame["code_iris"].dtype) == "str"
    assert frame["disp_med"].tolist() == [float(row["DISP_MED18"]) for row in rows]
    expected_tp60 = [number(row["DISP_TP6018"]) for row in rows]
    assert frame["disp_tp60"].isna().tolist() == [math.isnan(v) for v in expected_tp60]
    assert frame["disp_tp60"].isna().sum() == sum(row["DISP_TP6018"] == "" for row in rows) == 4
    assert frame["disp_tp60"].dropna().tolist() == [v for v in expected_tp60 if not math.isnan(v)]
    # Empty fields are INSEE's secrecy: NA; `masque` flags producer tokens (s, nd ...) only.
    assert not frame["masque"].any()
    assert frame["disp_note"].tolist() == [row["DISP_NOTE18"] for row in rows]
    assert "households" not in frame


def test_real_filosofi_commune_2019_key_figures_with_crlf(realterritory, check_error):
    path = realterritory("lyon_8e") / "cc_filosofi_2019_COM_lyon.CSV"
    assert b"\r\n" in path.read_bytes()
    rows = {row["CODGEO"]: row for row in published_rows(path)}
    read = get_connector("filosofi_zones")
    with pytest.raises(SourceError) as excinfo:
        read(path)
    line_of_first_arrondissement = 2 + list(rows).index("69381")
    check_error(excinfo.value, file=path, row=line_of_first_arrondissement, column="CODGEO",
                contains=("Lyon (69123", "count it twice", "`arrondissements: drop`"))

    commune = read(path, arrondissements="drop")
    assert commune["code_commune"].tolist() == ["69123"]
    assert commune.attrs["year"] == 2019 and commune.attrs["arrondissement_rows_dropped"] == 9
    lyon = rows["69123"]
    assert commune.loc[0, "disp_med"] == float(lyon["MED19"])
    assert commune.loc[0, "disp_tp60"] == float(lyon["TP6019"])
    assert commune.loc[0, "households"] == float(lyon["NBMENFISC19"])
    assert commune.loc[0, "persons"] == float(lyon["NBPERSMENFISC19"])
    assert commune.loc[0, "disp_d1"] == float(lyon["D119"])

    arrondissements = read(path, arrondissements="only")
    expected = sorted(code for code in rows if code != "69123")
    assert arrondissements["code_commune"].tolist() == expected
    assert arrondissements["households"].sum() == sum(float(rows[c]["NBMENFISC19"]) for c in expected)
    assert arrondissements["households"].sum() == commune.loc[0, "households"]  # README: 232,702
    by_code = arrondissements.set_index("code_commune")
    assert by_code.loc["69388", "disp_med"] == float(rows["69388"]["MED19"])
    assert len(read(path, arrondissements="keep")) == 10


def test_key_figures_of_any_year_and_the_edition_option(tmp_path, write, check_error):
    text = ("CODGEO;NBMENFISC21;NBPERSMENFISC21;MED21;TP6021;D121\n"
            "01053;20154;40311.5;22150;15;11200\n"
            "2A004;30012;61000;21080;;10020\n")
    path = write(tmp_path / "cc_filosofi_2021_COM.CSV", text, newline="\r\n")
    frame = get_connector("filosofi_zones")(path)
    assert list(frame.columns) == ["code_commune", "households", "persons", "disp_med",
                                   "disp_tp60", "disp_d1", "masque"]
    assert frame["code_commune"].tolist() == ["01053", "2A004"]
    assert frame["persons"].tolist() == [40311.5, 61000.0]
    assert frame["disp_tp60"].isna().tolist() == [False, True]
    assert frame.attrs["year"] == 2021
    assert get_connector("filosofi_zones")(path, edition=2021).attrs["year"] == 2021
    assert get_connector("filosofi_zones")(path, edition=21).attrs["year"] == 2021
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(path, edition=2019)
    check_error(excinfo.value, file=path, row=1, column="DISP_MED",
                contains=("edition 2019", "MED19"))
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(path, edition="latest")
    check_error(excinfo.value, column="edition", contains=("not a year",))


def test_edition_picks_one_year_among_several(tmp_path, write, check_error):
    text = "IRIS;DISP_MED18;DISP_TP6018;DISP_MED19;DISP_TP6019\n173000101;21000;14;21450;14.5\n"
    path = write(tmp_path / "iris.csv", text)
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(path)
    check_error(excinfo.value, row=1, contains=("several years (18, 19)", "`edition:`"))
    frame = get_connector("filosofi_zones")(path, edition=2019)
    assert frame[["disp_med", "disp_tp60"]].iloc[0].tolist() == [21450.0, 14.5]
    assert frame.attrs["year"] == 2019


def test_one_indicator_in_both_layouts_is_refused(tmp_path, write, check_error):
    text = "CODGEO;MED19;DISP_MED19;TP6019\n01053;1;1;2\n"
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(write(tmp_path / "c.csv", text))
    check_error(excinfo.value, row=1, column="DISP_MED19", contains=("two columns give 'disp_med'",))


def test_sample_commune_layout_exposes_tax_households(tmp_path, write):
    # The sample generator's layout: NBMENFISC19 and NBPERSMENFISC19 beside DISP_ columns.
    text = ("CODGEO;NBMENFISC19;NBPERSMENFISC19;DISP_TP6019;DISP_MED19\n"
            "00001;22755;47915;13.5;20040\n00004;68;168;;\n")
    frame = get_connector("filosofi_zones")(write(tmp_path / "c.csv", text))
    assert list(frame.columns) == ["code_commune", "households", "persons", "disp_tp60",
                                   "disp_med", "masque"]
    assert frame["households"].tolist() == [22755.0, 68.0]
    assert frame["disp_med"].isna().tolist() == [False, True]
    assert frame["masque"].tolist() == [False, False]


@pytest.mark.parametrize(("codes", "row", "city"), [
    (["75056", "75101", "75120"], 3, "Paris (75056, arrondissements 75101 to 75120)"),
    (["13216", "13055"], 2, "Marseille (13055, arrondissements 13201 to 13216)"),
])
def test_paris_and_marseille_at_both_levels_are_refused(tmp_path, write, check_error, codes, row,
                                                         city):
    text = "CODGEO;MED19;TP6019\n" + "".join(f"{code};20000;15\n" for code in codes)
    path = write(tmp_path / "c.csv", text)
    with pytest.raises(SourceError) as excinfo:
        get_connector("filosofi_zones")(path)
    check_error(excinfo.value, row=row, column="CODGEO",
                contains=(city,))
    dropped = get_connector("filosofi_zones")(path, arrondissements="drop")
    assert dropped["code_commune"].tolist() == [c for c in codes if c in ("75056", "13055")]


def test_arrondissements_option_is_not_applied_to_iris_tables(tmp_path, write):
    path = write(tmp_path / "iris.csv", IRIS_TABLE)
    frame = get_connector("filosofi_zones")(path, arrondissements="only")
    assert len(frame) == 3 and "arrondissement_rows_dropped" not in frame.attrs
