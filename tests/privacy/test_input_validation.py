"""Validation of personal and private inputs before anonymising (pipelines.privacy.inputs).

Small files are written by hand with known answers: each defect of the issue (a meter
number swapped into the consumption, inf, nan, negative and 1e400 kWh, the month 2023-13,
a meter written as a float, duplicated readings, coordinates in another CRS) is refused
with a message naming the file, its line (header = line 1) and the column, and holding
no value of the row or of its neighbours. The generated sample passes.
"""

from __future__ import annotations

import csv
import re
import secrets

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from pyproj import Transformer
from shapely.geometry import box

from pipelines import config
from pipelines.assets.protected import protect
from pipelines.catalogue import load_sources, load_territory, territory_sources
from pipelines.catalogue.models import Aggregation, ColumnCheck, Territory
from pipelines.connectors import get_connector
from pipelines.errors import SourceError
from pipelines.privacy.inputs import FrameRows, source_rows, validate_input

CARDS = load_sources(config.PROJECT_ROOT / "sources")
METER = CARDS["smart_meter"]
HEADER = ["numero_compteur", "adresse", "x_l93", "y_l93", "mois", "conso_kwh"]
TERRITORY = Territory(id="t", name="T", data_dir="t", fictional=True)
# Four 2 km IRIS around Lille in Lambert-93 (where EPSG:3857 coordinates also pass the
# connector's area-of-use test: only the territory can tell them apart).
X0, Y0 = 700_000.0, 7_056_000.0
IRIS = gpd.GeoDataFrame(
    {"code_iris": ["000010001", "000010002", "000020001", "000020002"],
     "code_commune": ["00001", "00001", "00002", "00002"]},
    geometry=[box(X0 + i * 2000, Y0 + j * 2000, X0 + (i + 1) * 2000, Y0 + (j + 1) * 2000)
              for i, j in ((0, 0), (1, 0), (0, 1), (1, 1))], crs="EPSG:2154")


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv(config.PSEUDONYMISATION_KEY_ENV, secrets.token_hex(32))


def readings(households: int = 60, months: int = 12) -> list[dict]:
    """`households` meters spread over the four IRIS, `months` readings each."""
    rows = []
    for h in range(households):
        meter = f"{(h * 7_919_000_003 + 1_234_567_891) % 10**14:014d}"  # leading zeros kept
        x, y = X0 + 150.5 + (h % 4) % 2 * 2000 + h * 13.1, Y0 + 250.5 + (h % 4) // 2 * 2000 + h * 7.3
        for m in range(1, months + 1):
            rows.append({"numero_compteur": meter, "adresse": f"{h + 1} allée des Tilleuls 00100 Fictiville",
                         "x_l93": f"{x:.1f}", "y_l93": f"{y:.1f}", "mois": f"2023-{m:02d}",
                         "conso_kwh": f"{100 + h * 3 + m * 1.5:.1f}"})
    return rows


def write(path, rows, header=HEADER):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read(path, card=METER):
    return get_connector(card.format)(path, working_crs="EPSG:2154", **card.options)


def run(path, card=METER):
    return protect(read(path, card), card, IRIS, TERRITORY, path=path)


def validate(path, card=METER):
    frame = read(path, card)
    return validate_input(frame, card, rows=source_rows(card, path, frame))


def values_near(rows, index) -> set[str]:
    """Every value of a row and of its neighbours, as written in the file."""
    return {v for r in rows[max(index - 1, 0):index + 2] for v in r.values()}


def assert_names_no_value(error: SourceError, path, line, column, values):
    """The message names the file, line and column, and holds none of `values`: a value
    with a blank (an address) as a substring, any other of 2 characters or more as a word
    (one-character values such as a household size of 2 would match the counts)."""
    text = str(error)
    assert error.path == str(path) and error.row == line and error.column == column
    assert f"row {line}" in text and f"column '{column}'" in text and "Fix:" in text
    body = text.replace(error.path, "")
    words = set(re.split(r"[\s,;:()'`\[\]]+|\.(?=\s|$)", body))
    leaked = [v for v in values if v and ((" " in v and v in body) or (len(v) >= 2 and v in words))]
    assert not leaked, f"{len(leaked)} values of the file in the message"


# --- A clean file, and each defect of the issue ---------------------------------------------

def test_a_clean_file_passes_unchanged(tmp_path):
    path = write(tmp_path / "meters.csv", readings())
    table, report, checked = run(path)
    assert checked.rows_in == 720 and checked.duplicates_removed == 0 and checked.rows_far_outside == 0
    assert report.rows_outside == 0
    by_zone = table.set_index(["zoning", "zone_id"])
    assert by_zone.loc[("total", "total"), "units"] == 60
    expected = sum(100 + h * 3 + m * 1.5 for h in range(60) for m in range(1, 13))
    assert by_zone.loc[("total", "total"), "conso_kwh"] == pytest.approx(expected)


def test_an_empty_consumption_is_a_missing_reading_not_an_error(tmp_path):
    rows = readings()
    rows[5]["conso_kwh"] = ""
    frame, report = validate(write(tmp_path / "meters.csv", rows))
    assert len(frame) == 720 and frame["conso_kwh"].isna().sum() == 1


DEFECTS = {
    # name: (column, new value, words the message must hold)
    "infinite": ("conso_kwh", "inf", "not a finite number"),
    "minus infinite": ("conso_kwh", "-inf", "not a finite number"),
    "too large for a float": ("conso_kwh", "1e400", "not a finite number"),
    "literal nan": ("conso_kwh", "nan", "not a finite number"),
    "literal NaN": ("conso_kwh", " NaN", "not a finite number"),
    "negative": ("conso_kwh", "-250.5", "below the plausible minimum 0"),
    "meter number in the consumption": ("conso_kwh", "12345678901077", "above the plausible maximum 26784"),
    "month 13": ("mois", "2023-13", "not a month written YYYY-MM"),
    "month in the future": ("mois", "2999-01", "after the current month"),
    "meter written as a float": ("numero_compteur", "12345678901077.0", "saved as a number"),
    "meter that lost its leading zero": ("numero_compteur", "1234567891001", "does not match the format"),
    "meter with a letter": ("numero_compteur", "1234567890107A", "does not match the format"),
    "empty meter": ("numero_compteur", "", "empty"),
    "empty month": ("mois", "", "empty"),
}


@pytest.mark.parametrize("name", DEFECTS)
def test_each_defect_is_refused_naming_file_line_column_and_no_value(tmp_path, name):
    column, value, words = DEFECTS[name]
    rows = readings()
    index = 37
    original = dict(rows[index])
    rows[index][column] = value
    path = write(tmp_path / "meters.csv", rows)
    with pytest.raises(SourceError) as raised:
        run(path)
    assert words in str(raised.value)
    if words != "not a finite number":  # those the connector itself refuses, naming the row
        assert "1 row of the file fail the checks of this column" in str(raised.value)
    # data record 37 (0-based) is line 39: the header is line 1
    assert_names_no_value(raised.value, path, index + 2, column,
                          values_near(rows, index) | set(original.values()) | {value})


def test_a_meter_number_swapped_with_the_consumption_on_one_row_names_both_columns(tmp_path):
    rows = readings()
    index = 100
    rows[index]["numero_compteur"], rows[index]["conso_kwh"] = rows[index]["conso_kwh"], rows[index]["numero_compteur"]
    path = write(tmp_path / "meters.csv", rows)
    with pytest.raises(SourceError) as raised:
        run(path)
    text = str(raised.value)
    assert "swapped or shifted" in text and "'numero_compteur'" in text and "'conso_kwh'" in text
    assert_names_no_value(raised.value, path, index + 2, "numero_compteur", values_near(rows, index))


def test_a_header_with_two_columns_swapped_fails_on_the_first_line(tmp_path):
    rows = readings()
    header = ["conso_kwh", "adresse", "x_l93", "y_l93", "mois", "numero_compteur"]  # data unchanged
    path = tmp_path / "meters.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(",".join(header) + "\n")
        for r in rows:
            handle.write(",".join(r[c] for c in HEADER) + "\n")
    with pytest.raises(SourceError) as raised:
        run(path)
    text = str(raised.value)
    assert "swapped or shifted" in text and "720 rows of the file fail" in text
    assert_names_no_value(raised.value, path, 2, "numero_compteur", values_near(rows, 0))


def test_the_mean_of_a_swapped_row_never_reaches_the_aggregates(tmp_path):
    # The issue: mean x count gave back the meter number's first 8 digits.
    rows = readings()
    rows[3]["conso_kwh"] = rows[3]["numero_compteur"]
    with pytest.raises(SourceError, match="above the plausible maximum"):
        run(write(tmp_path / "meters.csv", rows))


def test_a_line_number_counts_a_quoted_newline_as_part_of_its_record(tmp_path):
    rows = readings(households=2)
    rows[0]["adresse"] = "Bâtiment B\nrésidence des Fictifs"  # record 0 spans lines 2 and 3
    rows[4]["conso_kwh"] = "-3"
    path = write(tmp_path / "meters.csv", rows)
    with pytest.raises(SourceError) as raised:
        validate(path)
    assert raised.value.row == 4 + 3


# --- Duplicates ------------------------------------------------------------------------------

def test_500_duplicated_readings_do_not_change_the_published_figures(tmp_path):
    rows = readings()
    clean, _, _ = run(write(tmp_path / "clean.csv", rows))
    picks = np.random.default_rng(11).choice(720, size=500, replace=False)
    doubled = rows + [dict(rows[i]) for i in picks]  # 500 readings exported twice
    table, _, checked = run(write(tmp_path / "doubled.csv", doubled))
    assert checked.duplicates_removed == 500 and checked.rows_in == 1220
    assert checked.to_metadata()["duplicate_rows_removed"] == 500
    pd.testing.assert_frame_equal(table, clean)


def test_two_different_readings_for_the_same_meter_and_month_stop_the_run(tmp_path):
    rows = readings()
    repeat = dict(rows[10], conso_kwh="999.5")
    rows.insert(500, repeat)
    path = write(tmp_path / "meters.csv", rows)
    with pytest.raises(SourceError) as raised:
        run(path)
    text = str(raised.value)
    assert "numero_compteur, mois" in text and "of line 12" in text and "`drop_identical`" in text
    assert_names_no_value(raised.value, path, 502, "numero_compteur", values_near(rows, 500) | values_near(rows, 10))


def card_with(card, **aggregation):
    """The card with fields of its `aggregation:` replaced, validated again."""
    data = card.model_dump()
    data["aggregation"] |= aggregation
    return type(card).model_validate(data)


def test_rule_refuse_stops_on_an_exact_repeat(tmp_path):
    rows = readings()
    rows.append(dict(rows[0]))
    card = card_with(METER, duplicates={"key": ["numero_compteur", "mois"], "rule": "refuse"})
    path = write(tmp_path / "meters.csv", rows)
    with pytest.raises(SourceError) as raised:
        validate(path, card)
    assert "of line 2" in str(raised.value) and "`refuse`" in str(raised.value)
    assert_names_no_value(raised.value, path, 722, "numero_compteur", values_near(rows, 720))


def frame_rule(rule):
    card = card_with(METER, duplicates={"key": ["numero_compteur", "mois"], "rule": rule})
    frame = pd.DataFrame({"numero_compteur": ["00000000000001", "00000000000001", "00000000000002",
                                              "00000000000001"],
                          "adresse": ["a", "a", "b", "a"], "x": [1.0, 1.0, 2.0, 1.0], "y": [1.0, 1.0, 2.0, 1.0],
                          "mois": ["2023-01", "2023-02", "2023-01", "2023-01"],
                          "conso_kwh": [10.0, 20.0, 30.0, 5.0]})
    return frame, card


def test_rule_keep_first_keeps_the_first_row_of_each_key():
    frame, card = frame_rule("keep_first")
    kept, report = validate_input(frame, card)
    assert kept.index.tolist() == [0, 1, 2] and kept["conso_kwh"].tolist() == [10.0, 20.0, 30.0]
    assert report.duplicates_removed == 1


def test_rule_sum_adds_the_values_of_rows_sharing_the_key():
    frame, card = frame_rule("sum")
    kept, report = validate_input(frame, card)
    assert kept.index.tolist() == [0, 1, 2] and kept["conso_kwh"].tolist() == [15.0, 20.0, 30.0]
    assert report.duplicates_removed == 1
    frame.loc[3, "adresse"] = "elsewhere"  # a merged row must agree outside the summed columns
    with pytest.raises(SourceError, match="other values outside the summed columns") as raised:
        validate_input(frame, card, rows=FrameRows("meters.csv", first_line=2))
    assert raised.value.row == 5 and "elsewhere" not in str(raised.value)


# --- Coordinates inside the territory -------------------------------------------------------

def test_coordinates_in_another_crs_than_declared_are_refused_with_their_count(tmp_path):
    rows = readings()
    to_3857 = Transformer.from_crs("EPSG:2154", "EPSG:3857", always_xy=True)
    for r in rows:
        x, y = to_3857.transform(float(r["x_l93"]), float(r["y_l93"]))
        r["x_l93"], r["y_l93"] = f"{x:.1f}", f"{y:.1f}"
    path = write(tmp_path / "meters.csv", rows)
    frame = read(path)  # the connector's area-of-use test cannot see it: still in France
    assert len(frame) == 720 and frame["x"].notna().all()
    with pytest.raises(SourceError) as raised:
        run(path)
    text = str(raised.value)
    assert "720 of the 720 located rows (100.0%)" in text and "`crs:`" in text
    assert_names_no_value(raised.value, path, 2, "x_l93", values_near(rows, 0))


def test_a_few_points_outside_are_dropped_and_counted_and_a_border_margin_is_inside(tmp_path):
    rows = readings(households=60, months=12)  # 720 rows; 1 % allowed is 7 rows
    for r in rows[:6]:  # half a household's year 30 km away
        r["x_l93"] = f"{X0 - 30_000:.1f}"
    for r in rows[12:24]:  # one home 40 m outside the territory's edge
        r["x_l93"], r["y_l93"] = f"{X0 - 40:.1f}", f"{Y0 + 500:.1f}"
    table, report, checked = run(write(tmp_path / "meters.csv", rows))
    assert checked.rows_far_outside == 6 and report.rows_outside == 18
    rows[6]["x_l93"] = rows[7]["x_l93"] = f"{X0 - 30_000:.1f}"  # 8 of 720 > 1 %
    path = write(tmp_path / "more.csv", rows)
    with pytest.raises(SourceError, match="8 of the 720 located rows") as raised:
        run(path)
    assert_names_no_value(raised.value, path, 2, "x_l93", values_near(rows, 0))


def test_coordinates_must_be_finite_and_present(tmp_path):
    rows = readings()
    rows[9]["y_l93"] = "inf"
    path = write(tmp_path / "meters.csv", rows)
    with pytest.raises(SourceError, match="not a finite number") as raised:
        run(path)
    assert_names_no_value(raised.value, path, 11, "y_l93", values_near(rows, 9))
    rows[9]["y_l93"] = rows[9]["x_l93"] = ""
    with pytest.raises(SourceError, match="empty") as raised:
        run(write(path, rows))
    assert raised.value.row == 11 and raised.value.column == "x_l93"


# --- Private sources and the survey: rows located in their own file -------------------------

def test_private_operator_rows_are_checked_before_the_filter(tmp_path):
    card = CARDS["operator_consumption"]
    header = ["id_batiment", "annee", "code_commune", "x_l93", "y_l93", "nb_points_livraison", "nb_logements",
              "conso_totale_mwh", "segment"]
    rows = [{"id_batiment": f"BAT{i:010d}", "annee": str(2022 + i % 2), "code_commune": "00001",
             "x_l93": f"{X0 + 100 + i * 37.5:.1f}", "y_l93": f"{Y0 + 300.5:.1f}", "nb_points_livraison": "2",
             "nb_logements": "2", "conso_totale_mwh": f"{10 + i * 0.7:.1f}", "segment": "residentiel"}
            for i in range(40)]
    path = write(tmp_path / "operator.csv", rows, header)
    table, _, checked = run(path, card)
    # 20 residential buildings of 2023 with 2 delivery points each
    assert checked.rows_in == 40 and table.set_index("zoning").loc["total", "units"] == 40
    rows[4]["annee"] = "2022"  # a 2022 row, filtered out later, holding a conso from another column
    rows[4]["conso_totale_mwh"] = "7056300.5"
    with pytest.raises(SourceError, match="above the plausible maximum 1000000 ") as raised:
        run(write(path, rows, header), card)
    assert_names_no_value(raised.value, path, 6, "conso_totale_mwh", values_near(rows, 4))


def test_carsharing_station_written_as_a_number_and_a_month_13(tmp_path):
    card = CARDS["carsharing_trips"]
    header = ["station_id", "x_l93", "y_l93", "mois", "nb_trajets"]
    rows = [{"station_id": f"AP{s:04d}", "x_l93": f"{X0 + 500.5 + s * 300:.1f}", "y_l93": f"{Y0 + 700.5:.1f}",
             "mois": f"2023-{m:02d}", "nb_trajets": str(10 + s + m)} for s in range(5) for m in range(1, 13)]
    path = write(tmp_path / "trips.csv", rows, header)
    assert len(validate(path, card)[0]) == 60
    rows[14]["mois"] = "2023-13"  # refused by the connector itself (`mois: month`), alike
    with pytest.raises(SourceError, match="YYYY-MM") as raised:
        validate(write(path, rows, header), card)
    assert_names_no_value(raised.value, path, 16, "mois", values_near(rows, 14))
    rows[14]["mois"] = "2023-03"
    rows[30]["station_id"] = "2.0"
    with pytest.raises(SourceError, match="saved as a number") as raised:
        validate(write(path, rows, header), card)
    assert_names_no_value(raised.value, path, 32, "station_id", values_near(rows, 30))


def survey_files(tmp_path, persons_rows, trips_rows):
    persons = write(tmp_path / "travel_survey_persons.csv", persons_rows,
                    ["id_personne", "id_menage", "x_domicile_l93", "y_domicile_l93", "tranche_age", "taille_menage"])
    write(tmp_path / "travel_survey_trips.csv", trips_rows,
          ["id_personne", "id_deplacement", "mode", "motif", "distance_km"])
    return persons


def survey(n_households=6):
    persons, trips = [], []
    for h in range(n_households):
        for p in range(2):
            pid = f"M{h + 1:07d}{p + 1:02d}"
            persons.append({"id_personne": pid, "id_menage": f"M{h + 1:07d}", "x_domicile_l93": str(700_433 + h * 211),
                            "y_domicile_l93": str(7_056_377 + h * 157), "tranche_age": "35-49", "taille_menage": "2"})
            trips += [{"id_personne": pid, "id_deplacement": str(t + 1), "mode": "marche", "motif": "achats",
                       "distance_km": f"{1.3 + h * 0.1 + t * 0.01:.2f}"} for t in range(3)]
    return persons, trips


def test_a_persons_file_value_is_located_in_the_persons_file(tmp_path):
    card = CARDS["travel_survey"]
    persons, trips = survey()
    path = survey_files(tmp_path, persons, trips)
    assert len(validate(path, card)[0]) == 36
    persons[7]["taille_menage"] = "99"  # household 4's second person; her trips are records 21 to 23
    path = survey_files(tmp_path, persons, trips)
    with pytest.raises(SourceError) as raised:
        validate(path, card)
    assert "above the plausible maximum 20" in str(raised.value)
    assert_names_no_value(raised.value, path, 9, "taille_menage", values_near(persons, 7))


def test_a_trips_file_value_is_located_in_the_trips_file(tmp_path):
    card = CARDS["travel_survey"]
    persons, trips = survey()
    trips[20]["distance_km"] = "nan"
    path = survey_files(tmp_path, persons, trips)
    with pytest.raises(SourceError) as raised:
        validate(path, card)
    assert "not a finite number" in str(raised.value)  # the connector refuses it now, naming the row
    assert_names_no_value(raised.value, tmp_path / "travel_survey_trips.csv", 22, "distance_km",
                          values_near(trips, 20) | values_near(persons, 6))


def test_a_household_id_saved_as_a_number_is_refused(tmp_path):
    card = CARDS["travel_survey"]
    persons, trips = survey()
    for person in persons[4:6]:
        person["id_menage"] = "1203.0"
    path = survey_files(tmp_path, persons, trips)
    with pytest.raises(SourceError, match="saved as a number") as raised:
        validate(path, card)
    assert_names_no_value(raised.value, path, 6, "id_menage", values_near(persons, 4))


# --- The card's schema -----------------------------------------------------------------------

def test_the_card_schema_refuses_contradictory_checks():
    for bad in ({"min": 5, "max": 1}, {"min": 0, "pattern": "^a$"}, {"pattern": "^(a$"},
                {"month": True, "pattern": "^a$"}, {"maximum": 3}):
        with pytest.raises(ValidationError):
            ColumnCheck.model_validate(bad)
    with pytest.raises(ValidationError, match="aggregated as numbers"):
        Aggregation(unit="m", values={"kwh": "sum"}, rules=[{"kind": "households"}], checks={"kwh": {"month": True}})
    with pytest.raises(ValidationError):
        Aggregation(unit="m", rules=[{"kind": "households"}], duplicates={"key": [], "rule": "refuse"})
    with pytest.raises(ValidationError):
        Aggregation(unit="m", rules=[{"kind": "households"}], location={"max_share": 2})


def test_a_check_on_a_column_the_connector_does_not_give_is_an_error():
    card = card_with(METER, checks={"conso": {"min": 0}})
    frame = pd.DataFrame({"numero_compteur": ["00000000000001"], "mois": ["2023-01"], "conso_kwh": [1.0]})
    with pytest.raises(SourceError, match=r"name columns \['conso'\]"):
        validate_input(frame, card)


# --- The generated sample passes ---------------------------------------------------------------

@pytest.mark.parametrize("territory_id, profile", [("sample", "mainland"), ("overseas_sample", "overseas")])
def test_the_generated_sample_passes_every_check(tmp_path, monkeypatch, territory_id, profile):
    from pipelines.assets.sources import read_source
    from pipelines.sample import generate_sample

    territory = load_territory(territory_id)
    sources = territory_sources(territory, CARDS)
    generate_sample(tmp_path / territory.data_dir, scale=0.5, profile=profile)
    monkeypatch.setattr(config, "SOURCES_DIR", tmp_path)
    iris = read_source(sources["iris"], territory)
    for source in ("smart_meter", "operator_consumption", "carsharing_trips", "travel_survey"):
        card = sources[source]
        frame = read_source(card, territory)
        table, report, checked = protect(frame, card, iris, territory)
        assert checked.rows_in == len(frame) > 0 and checked.duplicates_removed == 0, source
        assert checked.rows_far_outside == 0 and report.rows_outside == 0, source
        assert "total" in set(table["zoning"]), source  # aggregates built (small cells may all be hidden)
        assert np.isfinite(table.select_dtypes("number").to_numpy(dtype=float, na_value=0)).all(), source
