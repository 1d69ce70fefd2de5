"""DVF: raw DGFiP yearly file and Etalab geo-dvf; one row per local, mutations counted once."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from pipelines.connectors import get_connector
from pipelines.connectors.dvf import DVF_COLUMNS, mutations
from pipelines.errors import SourceError

RAW_HEADER = [
    "Identifiant de document", "Reference document", "1 Articles CGI", "2 Articles CGI",
    "3 Articles CGI", "4 Articles CGI", "5 Articles CGI", "No disposition", "Date mutation",
    "Nature mutation", "Valeur fonciere", "No voie", "B/T/Q", "Type de voie", "Code voie", "Voie",
    "Code postal", "Commune", "Code departement", "Code commune", "Prefixe de section", "Section",
    "No plan", "No Volume", "1er lot", "Surface Carrez du 1er lot", "2eme lot",
    "Surface Carrez du 2eme lot", "3eme lot", "Surface Carrez du 3eme lot", "4eme lot",
    "Surface Carrez du 4eme lot", "5eme lot", "Surface Carrez du 5eme lot", "Nombre de lots",
    "Code type local", "Type local", "Identifiant local", "Surface reelle bati",
    "Nombre pieces principales", "Nature culture", "Nature culture speciale", "Surface terrain"]


def raw_line(**values) -> str:
    fields = {"No disposition": "000001", "Nature mutation": "Vente", **values}
    return "|".join(fields.get(name, "") for name in RAW_HEADER)


# Four mutations by hand: A (a flat and its outbuilding), B (a house on a parcel with two
# land uses, hence two lines for one house), C in Corsica, D in Guadeloupe.
RAW_LINES = [
    raw_line(**{"Date mutation": "03/01/2023", "Valeur fonciere": "185000,00",
                "Code postal": "1000", "Commune": "BOURG-EN-BRESSE", "Code departement": "1",
                "Code commune": "53", "Section": "AB", "No plan": "12", "1er lot": "5",
                "Nombre de lots": "1", "Code type local": "2", "Type local": "Appartement",
                "Surface reelle bati": "45", "Nombre pieces principales": "2"}),
    raw_line(**{"Date mutation": "03/01/2023", "Valeur fonciere": "185000,00",
                "Code departement": "1", "Code commune": "53", "Section": "AB", "No plan": "12",
                "1er lot": "12", "Nombre de lots": "1", "Code type local": "3",
                "Type local": "Dépendance", "Nombre pieces principales": "0"}),
    raw_line(**{"Date mutation": "05/01/2023", "Valeur fonciere": "250000,00",
                "Code departement": "1", "Code commune": "53", "Section": "AC", "No plan": "7",
                "Nombre de lots": "0", "Code type local": "1", "Type local": "Maison",
                "Surface reelle bati": "110", "Nombre pieces principales": "5",
                "Nature culture": "S", "Surface terrain": "500"}),
    raw_line(**{"Date mutation": "05/01/2023", "Valeur fonciere": "250000,00",
                "Code departement": "1", "Code commune": "53", "Section": "AC", "No plan": "7",
                "Nombre de lots": "0", "Code type local": "1", "Type local": "Maison",
                "Surface reelle bati": "110", "Nombre pieces principales": "5",
                "Nature culture": "J", "Surface terrain": "200"}),
    raw_line(**{"Date mutation": "06/01/2023", "Valeur fonciere": "300000,00",
                "Code departement": "2A", "Code commune": "4", "Prefixe de section": "1",
                "Section": "B", "No plan": "1234", "Nombre de lots": "1", "Code type local": "2",
                "Type local": "Appartement", "Surface reelle bati": "70",
                "Nombre pieces principales": "3"}),
    raw_line(**{"Date mutation": "07/01/2023", "Valeur fonciere": "99000,50",
                "Code departement": "971", "Code commune": "1", "Section": "AB", "No plan": "3",
                "Nombre de lots": "0", "Code type local": "1", "Type local": "Maison",
                "Surface reelle bati": "80", "Nombre pieces principales": "4"}),
]


def write_raw(tmp_path, write, lines=RAW_LINES, encoding="utf-8"):
    text = "|".join(RAW_HEADER) + "\n" + "\n".join(lines) + "\n"
    return write(tmp_path / "valeursfoncieres-2023.txt", text, encoding=encoding)


def test_raw_file_codes_values_and_parcels(tmp_path, write):
    frame = get_connector("dvf")(write_raw(tmp_path, write), working_crs="EPSG:2154")
    assert tuple(frame.columns) == DVF_COLUMNS and len(frame) == 6
    assert frame["code_commune"].tolist() == ["01053"] * 4 + ["2A004", "97101"]
    assert frame["code_departement"].tolist() == ["01"] * 4 + ["2A", "971"]
    assert frame["id_parcelle"].tolist()[0] == "01053000AB0012"
    assert frame["id_parcelle"].tolist()[4] == "2A0040010B1234"
    assert frame["valeur_fonciere"].tolist()[-1] == 99000.5
    assert frame["date_mutation"].iloc[0] == pd.Timestamp("2023-01-03")
    assert frame["x"].isna().all() and frame.attrs["layout"] == "raw"
    assert frame["id_mutation"].nunique() == 4


def test_raw_mutations_count_each_price_and_house_once(tmp_path, write):
    table = mutations(get_connector("dvf")(write_raw(tmp_path, write)))
    assert len(table) == 4
    assert table["valeur_fonciere"].sum() == pytest.approx(185000 + 250000 + 300000 + 99000.5)
    house = table.set_index("code_commune").loc["01053"].iloc[1]
    assert house["nb_lignes"] == 2 and house["nb_maisons"] == 1
    assert house["surface_reelle_bati"] == 110.0  # not 220: one house on two land uses
    flat = table.set_index("code_commune").loc["01053"].iloc[0]
    assert (flat["nb_appartements"], flat["nb_dependances"], flat["surface_reelle_bati"]) == (1, 1, 45.0)


def test_raw_latin1_file_needs_its_encoding_declared(tmp_path, write, check_error):
    path = write_raw(tmp_path, write, encoding="latin-1")
    with pytest.raises(SourceError) as excinfo:
        get_connector("dvf")(path)
    check_error(excinfo.value, file=path, row=3, contains=("encoding: latin-1",))
    frame = get_connector("dvf")(path, encoding="latin-1")
    assert frame["type_local"].iloc[1] == "Dépendance"


def test_raw_malformed_date_is_located(tmp_path, write, check_error):
    lines = list(RAW_LINES)
    lines[2] = lines[2].replace("05/01/2023", "2023-01-05")
    with pytest.raises(SourceError) as excinfo:
        get_connector("dvf")(write_raw(tmp_path, write, lines))
    check_error(excinfo.value, row=4, column="Date mutation", contains=("DD/MM/YYYY",))


def test_real_geodvf_merignac(realdata):
    path = realdata("dvf_geodvf") / "dvf_merignac_parcel_33281000BO0529_2020_2024.csv"
    frame = get_connector("dvf")(path, working_crs="EPSG:2154")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(frame) == len(rows) == 40 and frame.attrs["layout"] == "geo-dvf"
    assert frame["code_commune"].dtype == "str" and set(frame["code_commune"]) == {"33281"}
    price = {row["id_mutation"]: float(row["valeur_fonciere"]) for row in rows}
    table = mutations(frame)
    assert len(table) == len(price) == 21
    assert table["valeur_fonciere"].sum() == pytest.approx(sum(price.values()))
    flats = sum(float(r["surface_reelle_bati"]) for r in rows if r["code_type_local"] == "2")
    assert table["surface_reelle_bati"].sum() == pytest.approx(flats)
    # One parcel in Mérignac (Gironde), Lambert-93 around x = 412 000, y = 6 424 000.
    assert frame["x"].round().unique().tolist() == [412445.0]
    assert frame["y"].round().unique().tolist() == [6424005.0]


def test_geodvf_identical_lines_are_kept_once(tmp_path, realdata, write):
    source = realdata("dvf_geodvf") / "dvf_merignac_parcel_33281000BO0529_2020_2024.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    path = write(tmp_path / "dup.csv", "\n".join([*lines, lines[1]]) + "\n")
    frame = get_connector("dvf")(path)
    assert len(frame) == 40 and frame.attrs["duplicate_rows"] == 1
