"""Enedis yearly residential consumption per address: the real Lyon 8e file, the portal form."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from pipelines.connectors import get_connector
from pipelines.errors import ConfigError, SourceError

FILE = "consommation-annuelle-residentielle-par-adresse-69008.csv"
DWELLINGS = "nombre_de_logements"
TOTAL = "consommation_annuelle_totale_de_l_adresse_mwh"


@pytest.fixture
def lyon(realterritory):
    path = realterritory("lyon_8e") / FILE
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    return path, rows


def read(path, **options):
    return get_connector("enedis_consumption")(path, **options)


def test_real_file_all_years(lyon):
    path, rows = lyon
    frame = read(path, year="all")
    assert len(frame) == len(rows) == 9312
    expected_per_year = Counter(int(row["annee"]) for row in rows)
    assert frame.groupby("annee").size().to_dict() == dict(expected_per_year)
    assert dict(expected_per_year) == {2018: 1685, 2019: 1716, 2020: 1718, 2021: 1740,
                                       2022: 1215, 2023: 1238}  # as the README says
    dwellings = sum(int(row[DWELLINGS]) for row in rows)
    mwh = sum(float(row[TOTAL]) for row in rows)
    assert frame[DWELLINGS].sum() == dwellings == 222_438
    assert frame[TOTAL].sum() == pytest.approx(mwh) and mwh == pytest.approx(579_518.29)
    assert frame.attrs["years"] == [2018, 2019, 2020, 2021, 2022, 2023]
    assert frame.attrs["year"] == "all"


def test_real_file_types_and_float_written_integers(lyon):
    path, rows = lyon
    frame = read(path, year="all")
    assert str(frame["annee"].dtype) == "int64" and str(frame[DWELLINGS].dtype) == "int64"
    assert str(frame[TOTAL].dtype) == "float64"
    for column in ("code_iris", "code_commune", "code_epci", "code_departement", "segment_de_client"):
        assert str(frame[column].dtype) == "str", column
    assert "" not in frame.columns and "column_1" not in frame.columns  # pandas' index column
    assert (frame["code_commune"] == "69123").all()
    assert (frame["segment_de_client"] == "RESIDENTIEL").all()
    assert set(frame["code_epci"]) == {"200046977"}
    assert set(frame["code_departement"]) == {"69"} and set(frame["code_region"]) == {"84"}
    # numero_de_voie is published as 54.0: an integer once read.
    assert frame["numero_de_voie"].tolist() == [int(float(row["numero_de_voie"])) for row in rows]
    assert frame.loc[0, "adresse"] == rows[0]["adresse"]


def test_real_file_keeps_masked_iris_rows(lyon):
    path, rows = lyon
    masked = [i for i, row in enumerate(rows) if row["code_iris"].endswith("xxxx")]
    assert len(masked) == 8
    assert all(rows[i]["nom_iris"].startswith("Fictif") for i in masked)
    frame = read(path, year="all")
    assert frame.attrs["masked_iris_rows"] == 8 and frame.attrs["rows_without_iris"] == 0
    assert sorted(frame.index[frame["iris_masque"]]) == masked
    assert frame.loc[masked, "code_iris"].isna().all()
    assert frame.loc[masked, DWELLINGS].sum() == sum(int(rows[i][DWELLINGS]) for i in masked)
    others = frame.drop(index=masked)
    assert others["code_iris"].str.fullmatch(r"69388\d{4}").all()
    assert others["code_iris"].nunique() == 27


def test_real_file_default_is_the_latest_year(lyon):
    path, rows = lyon
    frame = read(path)
    latest = max(int(row["annee"]) for row in rows)
    in_latest = [row for row in rows if int(row["annee"]) == latest]
    assert frame.attrs["year"] == latest == 2023
    assert len(frame) == len(in_latest) == 1238
    assert frame[DWELLINGS].sum() == sum(int(row[DWELLINGS]) for row in in_latest)
    assert frame.attrs["masked_iris_rows"] == sum(row["code_iris"].endswith("xxxx") for row in in_latest)
    only_2018 = read(path, year=2018)
    assert len(only_2018) == 1685 and set(only_2018["annee"]) == {2018}


PORTAL = ("Année;Code IRIS;Nom IRIS;Numéro de voie;Indice de répétition;Type de voie;"
          "Libellé de voie;Code Commune;Nom Commune;Segment de client;Nombre de logements;"
          "Consommation annuelle totale de l'adresse (MWh);"
          "Consommation annuelle moyenne par site de l'adresse (MWh);"
          "Consommation annuelle moyenne de la commune (MWh);Adresse;Code EPCI;"
          "Code Département;Code Région\n"
          "2023;173000101;Vieux Port;12;;RUE;DU PALAIS;17300;La Rochelle;RESIDENTIEL;24;"
          "60.5;2.521;2.7;12 RUE DU PALAIS;241700434;17;75\n"
          "2023;17300xxxx;Fictif - La Rochelle;3;B;QUAI;DUPERRE;17300;La Rochelle;RESIDENTIEL;"
          "11;20.25;1.841;2.7;3 B QUAI DUPERRE;241700434;17;75\n"
          "2022;173000101;Vieux Port;12;;RUE;DU PALAIS;17300;La Rochelle;RESIDENTIEL;23;"
          "58;2.522;2.8;12 RUE DU PALAIS;241700434;17;75\n")


def test_portal_form_with_labels_and_integer_codes(tmp_path, write):
    frame = read(write(tmp_path / "enedis.csv", PORTAL), year="all")
    assert frame["code_iris"].isna().tolist() == [False, True, False]
    assert frame["iris_masque"].tolist() == [False, True, False]
    assert frame[DWELLINGS].tolist() == [24, 11, 23]
    assert frame[TOTAL].tolist() == [60.5, 20.25, 58.0]
    assert frame["numero_de_voie"].tolist() == [12, 3, 12]
    assert frame["code_epci"].tolist() == ["241700434"] * 3
    assert frame["indice_de_repetition"].isna().tolist() == [True, False, True]
    latest = read(write(tmp_path / "enedis.csv", PORTAL))
    assert latest["annee"].tolist() == [2023, 2023] and latest.attrs["masked_iris_rows"] == 1


def test_minimal_file_gives_na_for_optional_columns(tmp_path, write):
    text = ("annee;code_iris;code_commune;nombre_de_logements;"
            "consommation_annuelle_totale_de_l_adresse_mwh\n2023;173000101;17300;10;25.5\n")
    frame = read(write(tmp_path / "e.csv", text))
    assert frame["adresse"].isna().all() and frame["numero_de_voie"].isna().all()
    assert frame["segment_de_client"].isna().all()
    assert frame[DWELLINGS].tolist() == [10]


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("Code IRIS", "17300-101", "not a valid iris code"),
    ("Nombre de logements", "-3", "missing or negative"),
    ("Nombre de logements", "12.5", "not a whole number"),
    ("Consommation annuelle totale de l'adresse (MWh)", "", "missing or negative"),
    ("Consommation annuelle totale de l'adresse (MWh)", "58,5", "decimal comma"),
    ("Année", "23", "not a year"),
    ("Code Commune", "1730A", "not a valid commune code"),
])
def test_bad_values_name_row_and_column_without_the_value(tmp_path, write, check_error, column,
                                                          value, problem):
    lines = PORTAL.splitlines()
    header = lines[0].split(";")
    fields = lines[3].split(";")
    fields[header.index(column)] = value
    text = "\n".join([*lines[:3], ";".join(fields)]) + "\n"
    path = write(tmp_path / "e.csv", text)
    with pytest.raises(SourceError) as excinfo:
        read(path, year="all")
    secrets = (value,) if len(value) > 2 else ()
    check_error(excinfo.value, file=path, row=4, column=column, contains=(problem,),
                secrets=secrets)


def test_same_address_twice_in_one_year_and_iris_is_refused(tmp_path, write, check_error):
    lines = PORTAL.splitlines()
    text = "\n".join([*lines, lines[1]]) + "\n"
    with pytest.raises(SourceError) as excinfo:
        read(write(tmp_path / "e.csv", text), year="all")
    check_error(excinfo.value, row=5, column="Adresse", contains=("appears twice",),
                secrets=("PALAIS",))


def test_year_option(tmp_path, write, check_error):
    path = write(tmp_path / "e.csv", PORTAL)
    assert read(path, year=2022)["annee"].tolist() == [2022]
    assert read(path, year="2022")["annee"].tolist() == [2022]
    with pytest.raises(SourceError) as excinfo:
        read(path, year=2019)
    check_error(excinfo.value, column="Année", contains=("no row for the year 2019", "2022, 2023"))
    with pytest.raises(SourceError) as excinfo:
        read(path, year="recent")
    check_error(excinfo.value, column="year", contains=("`year: latest`",))


def test_missing_required_column(tmp_path, write, check_error):
    text = PORTAL.replace("Nombre de logements", "Nb")
    with pytest.raises(SourceError) as excinfo:
        read(write(tmp_path / "e.csv", text))
    check_error(excinfo.value, row=1, column=DWELLINGS, contains=("required column is missing",))


def test_resaved_form_with_index_column_and_lost_zeros(tmp_path, write, check_error):
    text = (";annee;code_iris;nom_iris;numero_de_voie;code_commune;nombre_de_logements;"
            "consommation_annuelle_totale_de_l_adresse_mwh;code_epci;code_departement;code_region\n"
            "7;2023;010530101;Centre;5.0;01053;12;30.0;200071751.0;1.0;84.0\n")
    path = write(tmp_path / "e.csv", text)
    with pytest.raises(SourceError) as excinfo:
        read(path)
    check_error(excinfo.value, row=2, column="code_departement",
                contains=("stored as a number", "pad_codes: true"))
    frame = read(path, pad_codes=True)
    assert frame[["code_departement", "code_region", "code_epci"]].iloc[0].tolist() == [
        "01", "84", "200071751"]
    assert frame["numero_de_voie"].tolist() == [5] and frame["code_iris"].tolist() == ["010530101"]


def test_the_operator_layout_stands_for_the_operator_card(lyon):
    path, rows = lyon
    frame = get_connector("enedis_consumption")(path, layout="operator")
    assert list(frame.columns) == ["id_batiment", "annee", "code_iris", "code_commune", "nb_points_livraison",
                                   "nb_logements", "conso_totale_mwh", "segment"]
    assert set(frame["annee"]) == {2023} and set(frame["segment"]) == {"residentiel"}
    assert frame["nb_points_livraison"].equals(frame["nb_logements"]) and frame["id_batiment"].is_unique
    raw = [r for r in rows if r["annee"] == "2023"]
    assert len(frame) == len(raw) == 1238
    assert frame["nb_logements"].sum() == sum(int(float(r[DWELLINGS])) for r in raw)
    assert frame["conso_totale_mwh"].sum() == pytest.approx(sum(float(r[TOTAL]) for r in raw))
    assert frame.attrs["masked_iris_rows"] == int(frame["code_iris"].isna().sum())
    with pytest.raises(ConfigError, match="layout"):
        get_connector("enedis_consumption")(path, layout="enedis2")
