"""RPLS social housing per building and LOVAC vacancy per commune."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.connectors import get_connector
from pipelines.errors import SourceError

RPLS = ("DEPCOM;NBLOG;X;Y\n"
        "17300;24;380120.5;6570300\n"
        "17300;8;381000;6571000\n"
        "2A004;12;;\n")


def test_rpls_buildings(tmp_path, write):
    frame = get_connector("rpls")(write(tmp_path / "rpls.csv", RPLS), working_crs="EPSG:2154")
    assert list(frame.columns) == ["code_commune", "nb_logements", "x", "y"]
    assert frame["code_commune"].tolist() == ["17300", "17300", "2A004"]
    assert frame["nb_logements"].sum() == 44 and str(frame["nb_logements"].dtype) == "Int64"
    assert frame.loc[0, ["x", "y"]].tolist() == [380120.5, 6570300.0]
    assert np.isnan(frame.loc[2, "x"]) and frame.attrs["rows_without_coordinates"] == 1


def test_rpls_nblspls_variant_with_decimal_comma(tmp_path, write):
    text = "depcom;nblspls;x;y\n17300;5;380120,5;6570300,25\n"
    frame = get_connector("rpls")(write(tmp_path / "r.csv", text), decimal=",")
    assert frame.loc[0, ["nb_logements", "x", "y"]].tolist() == [5, 380120.5, 6570300.25]


def test_rpls_negative_count_is_refused(tmp_path, write, check_error):
    with pytest.raises(SourceError) as excinfo:
        get_connector("rpls")(write(tmp_path / "r.csv", RPLS.replace(";8;", ";-8;")))
    check_error(excinfo.value, row=3, column="NBLOG", contains=("negative",))


LOVAC = ("CODGEO_25;LIBGEO_25;pp_vacant_25;pp_vacant_plus_2ans_25;pp_total_24\n"
         "17300;La Rochelle;2450;980;48000\n"
         "17306;Lagord;s;s;3900\n"
         "01053;Bourg-en-Bresse;1800;700;24000\n")


def test_lovac_years_dropped_and_masks(tmp_path, write):
    frame = get_connector("lovac")(write(tmp_path / "lovac.csv", LOVAC))
    assert list(frame.columns) == ["code_commune", "nom_commune", "pp_vacant",
                                   "pp_vacant_plus_2ans", "pp_total", "masque"]
    assert frame["code_commune"].tolist() == ["17300", "17306", "01053"]
    assert frame["pp_vacant"].tolist() == [2450, pd.NA, 1800]
    assert frame["pp_total"].sum() == 75900
    assert frame["masque"].tolist() == [False, True, False]
    assert frame.attrs["years"] == {"code_commune": 2025, "libgeo": 2025, "pp_vacant": 2025,
                                    "pp_vacant_plus_2ans": 2025, "pp_total": 2024}


def test_lovac_code_stored_as_number_and_two_vintages(tmp_path, write, check_error):
    with pytest.raises(SourceError) as excinfo:
        get_connector("lovac")(write(tmp_path / "a.csv", LOVAC.replace("\n01053;", "\n1053;")))
    check_error(excinfo.value, row=4, column="CODGEO_25", contains=("stored as a number",))
    text = "CODGEO_25;pp_vacant_25;pp_vacant_24;pp_total_24\n17300;1;2;3\n"
    with pytest.raises(SourceError) as excinfo:
        get_connector("lovac")(write(tmp_path / "b.csv", text))
    check_error(excinfo.value, row=1, column="pp_vacant_24", contains=("once their year is dropped",))
