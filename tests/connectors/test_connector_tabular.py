"""point_csv: private and personal files declared column by column; no value in errors."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.connectors import get_connector
from pipelines.errors import ConfigError, SourceError

METERS = ("numero_compteur;adresse;x_l93;y_l93;mois;conso_kwh;code_commune;chauffage_elec\n"
          "01234567890123;1 rue des Lilas;700100.5;6600200.25;2024-01;350.5;00001;oui\n"
          "01234567890124;2 rue des Roses;700200;6600300;2024-02;;00002;non\n")
OPTIONS = {"columns": {"numero_compteur": "text", "mois": "month", "conso_kwh": "float",
                       "code_commune": "text", "chauffage_elec": "bool"},
           "x": "x_l93", "y": "y_l93", "crs": "EPSG:2154", "codes": {"code_commune": "commune"}}


def test_declared_columns_with_their_types(tmp_path, write):
    frame = get_connector("point_csv")(write(tmp_path / "m.csv", METERS),
                                       working_crs="EPSG:2154", **OPTIONS)
    assert list(frame.columns) == ["numero_compteur", "mois", "conso_kwh", "code_commune",
                                   "chauffage_elec", "x", "y"]
    assert frame["numero_compteur"].tolist() == ["01234567890123", "01234567890124"]
    assert frame["conso_kwh"].isna().tolist() == [False, True]
    assert frame["chauffage_elec"].tolist() == [True, False]
    assert frame.loc[0, ["x", "y"]].tolist() == [700100.5, 6600200.25]
    assert "adresse" not in frame and frame.attrs["crs"] == "EPSG:2154"


def test_table_without_coordinates_and_default_text(tmp_path, write):
    text = "station;mois;trajets;date_debut\nS01;2024-01;120;2024-01-01\n"
    frame = get_connector("point_csv")(write(tmp_path / "t.csv", text),
                                       columns={"station": "text", "trajets": "int",
                                                "date_debut": "date"})
    assert frame["trajets"].tolist() == [120] and "x" not in frame
    assert frame["date_debut"].iloc[0] == pd.Timestamp("2024-01-01")
    every = get_connector("point_csv")(tmp_path / "t.csv")
    assert every.dtypes.eq("str").all() and every["trajets"].tolist() == ["120"]


@pytest.mark.parametrize("options, match", [
    ({"columns": {"a": "decimal"}}, "unknown to point_csv"),
    ({"x": "x_l93"}, "both `x:` and `y:`"),
    ({"x": "x_l93", "y": "y_l93"}, "`crs:`"),
    ({"codes": {"code_commune": "canton"}}, "code kind"),
])
def test_card_mistakes_are_config_errors(tmp_path, write, options, match):
    with pytest.raises(ConfigError, match=match):
        get_connector("point_csv")(write(tmp_path / "m.csv", METERS), **options)


@pytest.mark.parametrize("replace, row, column, fragment, secret", [
    (("350.5", "SECRET-350"), 2, "conso_kwh", "not a number", "SECRET-350"),
    (("350.5", "35,75"), 2, "conso_kwh", "decimal comma", "35,75"),
    (("2024-02", "fev. 2024"), 3, "mois", "YYYY-MM", "fev."),
    (("00002", "SECRET"), 3, "code_commune", "not a valid commune code", "SECRET"),
    (("700200;", "SECRET;"), 3, "x_l93", "not a number", "SECRET"),
    (("oui", "SECRET"), 2, "chauffage_elec", "not a boolean", "SECRET"),
    (("1 rue des Lilas", "1 rue; SECRET"), 2, None, "9 fields where the header has 8", "SECRET"),
])
def test_personal_values_never_appear_in_errors(tmp_path, write, check_error, replace, row,
                                                column, fragment, secret):
    path = write(tmp_path / "m.csv", METERS.replace(*replace))
    with pytest.raises(SourceError) as excinfo:
        get_connector("point_csv")(path, **OPTIONS)
    check_error(excinfo.value, file=path, row=row, column=column, contains=(fragment,),
                secrets=(secret, "01234567890123", "rue des Lilas"))


def test_lon_lat_declared_as_lambert93_is_a_wrong_crs(tmp_path, write, check_error):
    text = "id;lon;lat\nA;-1.15;46.16\nB;-1.14;46.17\n"
    with pytest.raises(SourceError) as excinfo:
        get_connector("point_csv")(write(tmp_path / "p.csv", text), x="lon", y="lat",
                                   crs="EPSG:2154")
    check_error(excinfo.value, row=2, column="lon", contains=("the declared CRS is wrong",),
                secrets=("46.16", "-1.15"))
    ok = get_connector("point_csv")(tmp_path / "p.csv", x="lon", y="lat", crs="EPSG:4326")
    assert ok["x"].between(370_000, 390_000).all()  # La Rochelle in Lambert-93


def test_declared_column_missing_from_the_file(tmp_path, write, check_error):
    with pytest.raises(SourceError) as excinfo:
        get_connector("point_csv")(write(tmp_path / "m.csv", METERS),
                                   columns={"numero_pdl": "text"})
    check_error(excinfo.value, row=1, column="numero_pdl", contains=("declared in the source card",))
