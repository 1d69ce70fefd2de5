"""DPE: API export (snake_case), historical export (French labels), pre-2021 dataset."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from pipelines.connectors import get_connector
from pipelines.connectors.dpe import DPE_COLUMNS, before_1975
from pipelines.errors import SourceError

API = (
    "numero_dpe,date_etablissement_dpe,etiquette_dpe,etiquette_ges,conso_5_usages_par_m2_ep,"
    "conso_5_usages_par_m2_ef,surface_habitable_logement,annee_construction,periode_construction,"
    "type_batiment,code_insee_ban,code_postal_ban,nom_commune_ban,identifiant_ban,"
    "coordonnee_cartographique_x_ban,coordonnee_cartographique_y_ban\n"
    "2101E0000001A,2023-05-02,G,F,480.5,300.1,42.0,1960,1948-1974,appartement,01053,01000,"
    "Bourg-en-Bresse,01053_0120_00012,871200.5,6568700.25\n"
    "2101E0000002B,2023-06-10,C,B,120,110,95.5,,1989-2000,maison,01053,01000,Bourg-en-Bresse,,"
    "871300,6568800\n"
    "2101E0000003C,2024-01-15,E,E,260,200,60,1980,,appartement,2A004,20000,Ajaccio,"
    "2A004_1234_00001,,\n")


def test_api_export_is_normalised(tmp_path, write):
    frame = get_connector("dpe")(write(tmp_path / "dpe.csv", API), working_crs="EPSG:2154")
    assert tuple(frame.columns) == DPE_COLUMNS
    assert frame["numero_dpe"].tolist() == ["2101E0000001A", "2101E0000002B", "2101E0000003C"]
    assert frame["etiquette_dpe"].tolist() == ["G", "C", "E"]
    assert frame["conso_ep_m2"].tolist() == [480.5, 120.0, 260.0]
    assert frame["conso_ef_m2"].tolist() == [300.1, 110.0, 200.0]
    assert frame["surface_m2"].tolist() == [42.0, 95.5, 60.0]
    assert frame["annee_construction"].tolist() == [1960, pd.NA, 1980]
    assert frame["avant_1975"].tolist() == [True, False, False]
    assert frame["code_commune"].tolist() == ["01053", "01053", "2A004"]
    assert frame["identifiant_ban"].isna().tolist() == [False, True, False]
    assert frame.loc[0, ["x", "y"]].tolist() == [871200.5, 6568700.25]
    assert frame["date_etablissement"].iloc[2] == pd.Timestamp("2024-01-15")
    # The Ajaccio row has no coordinates: kept, NaN, counted.
    assert np.isnan(frame.loc[2, "x"]) and frame.attrs["rows_without_coordinates"] == 1
    assert frame.attrs["crs"] == "EPSG:2154" and frame.attrs["layout"] == "2021"


def test_n_dpe_variant_and_reprojection(tmp_path, write):
    text = API.replace("numero_dpe,", "n_dpe,", 1)
    frame = get_connector("dpe")(write(tmp_path / "dpe.csv", text), working_crs="EPSG:3035")
    expected = Transformer.from_crs("EPSG:2154", "EPSG:3035", always_xy=True).transform(
        871200.5, 6568700.25)
    assert frame.loc[0, ["x", "y"]].tolist() == pytest.approx(list(expected))
    assert frame.attrs["crs"] == "EPSG:3035"


def test_pre_2021_dataset_with_lon_lat(tmp_path, write):
    text = ("numero_dpe;date_etablissement_dpe;classe_consommation_energie;consommation_energie;"
            "surface_thermique_lot;annee_construction;code_insee_commune_actualise;longitude;latitude\n"
            "1769V1000001A;2017-03-01;D;230.5;75;1972;69123;4.835;45.764\n"
            "1769V1000002B;2018-04-02;N;0;40;2005;69123;4.84;45.76\n")
    frame = get_connector("dpe")(write(tmp_path / "old.csv", text))
    assert frame["etiquette_dpe"].tolist()[0] == "D" and pd.isna(frame["etiquette_dpe"].iloc[1])
    assert frame.attrs["rows_without_label"] == 1 and frame.attrs["layout"] == "pre2021"
    assert frame["conso_ep_m2"].tolist() == [230.5, 0.0]
    assert frame["conso_ef_m2"].isna().all()  # the pre-2021 dataset has no final energy
    assert frame["surface_m2"].tolist() == [75.0, 40.0]
    assert frame["avant_1975"].tolist() == [True, False]
    expected = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform(4.835, 45.764)
    assert frame.loc[0, ["x", "y"]].tolist() == pytest.approx(list(expected))


HISTORICAL = (
    "\ufeffN°DPE,Etiquette_DPE,Adresse_brute,Code_INSEE_(BAN),Identifiant__BAN,"
    "Conso_5_usages_par_m²_é_primaire,Surface_habitable_logement,"
    "Coordonnée_cartographique_X_(BAN),Coordonnée_cartographique_Y_(BAN)\n"
    '2469N0000001A,B,"12 rue X\nBâtiment A",69388,69388_0470_00006,80.5,44,844269.67,6516581.3\n'
    '2469N0000002B,C,"3 rue Y",69388,69388_0470_00007,95,61.2,844295.77,6516480.5\n'
    '2469N0000003C,H,"4 rue Z\nEscalier 2\nPorte 5",69388,,70,30,844196.97,6516676.13\n')


def test_historical_export_with_bom_and_quoted_newlines(tmp_path, write, check_error):
    path = write(tmp_path / "hist.csv", HISTORICAL.replace(",H,", ",A,"))
    frame = get_connector("dpe")(path)
    assert frame["numero_dpe"].tolist() == ["2469N0000001A", "2469N0000002B", "2469N0000003C"]
    assert frame["conso_ep_m2"].tolist() == [80.5, 95.0, 70.0]
    assert frame["identifiant_ban"].tolist()[:2] == ["69388_0470_00006", "69388_0470_00007"]
    # The bad label is on the 3rd record, which starts on line 5 of the file.
    bad = write(tmp_path / "bad.csv", HISTORICAL)
    with pytest.raises(SourceError) as excinfo:
        get_connector("dpe")(bad)
    check_error(excinfo.value, file=bad, row=5, column="Etiquette_DPE",
                contains=("not one of A to G",))


@pytest.mark.parametrize("year, period, expected", [
    (1960, None, True), (1975, "avant 1948", False), (None, "avant 1948", True),
    (None, "1948-1974", True), (None, "1975-1977", False), (None, "après 2021", False),
    (None, None, None), (None, "inconnue", None)])
def test_before_1975_from_year_then_period(year, period, expected):
    result = before_1975(pd.Series([year], dtype="Int64"), pd.Series([period], dtype="str"))
    assert (pd.isna(result.iloc[0]) and expected is None) or result.iloc[0] == expected


def test_real_lyon_new_dwellings_extract(realdata):
    path = realdata("dpe_v2_neufs_lyon") / "dpe-v2-logements-neufs_69_part1.csv"
    frame = get_connector("dpe")(path, working_crs="EPSG:2154", dataset="neufs")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(frame) == len(rows) == 1400
    assert set(frame["etiquette_dpe"]) <= set("ABCDE")
    assert Counter(frame["etiquette_dpe"]) == Counter(row["Etiquette_DPE"] for row in rows)
    assert frame["code_commune"].dtype == "str"
    assert frame["code_commune"].str.fullmatch(r"69\d{3}").all()
    assert (frame["code_commune"] == "69388").sum() == 1399
    expected_surface = sum(float(r["Surface_habitable_logement"]) for r in rows
                           if r["Surface_habitable_logement"])
    assert np.nansum(frame["surface_m2"]) == pytest.approx(expected_surface)
    assert frame["identifiant_ban"].iloc[0] == rows[0]["Identifiant__BAN"]
    assert not frame["avant_1975"].any() and frame.attrs["rows_without_coordinates"] == 0
    # Rhône in Lambert-93.
    assert frame["x"].between(780_000, 880_000).all() and frame["y"].between(6_480_000, 6_560_000).all()


def test_a_replaced_diagnosis_is_counted_once(tmp_path, write):
    text = API.replace("coordonnee_cartographique_y_ban\n", "coordonnee_cartographique_y_ban,numero_dpe_remplace\n", 1)
    lines = text.splitlines()
    # the third diagnosis replaces the first one (same dwelling, corrected)
    lines = [lines[0], lines[1] + ",", lines[2] + ",", lines[3] + ",2101E0000001A"]
    frame = get_connector("dpe")(write(tmp_path / "dpe.csv", "\n".join(lines) + "\n"))
    assert frame["numero_dpe"].tolist() == ["2101E0000002B", "2101E0000003C"]
    assert frame.attrs["replaced_rows"] == 1
