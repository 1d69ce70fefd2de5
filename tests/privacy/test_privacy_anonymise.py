"""The anonymiser: aggregates only, distinct units, secrecy applied, counts-only report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PrivacyError
from pipelines.privacy.anonymise import anonymise
from pipelines.privacy.pseudonymise import pseudonymise

KEY = bytes.fromhex("5c1f0e9a3b7d2486e1f09c3a5b7d2e4f8a6c1b3d5e7f9a0c2e4b6d8f1a3c5e7b")  # fixed, random
# IRIS 000010001: 30 households, 000010002: 5, 000010003: 20 (commune 00001);
# 000020001: 50 (commune 00002). Twelve monthly readings per household.
SIZES = {"000010001": 30, "000010002": 5, "000010003": 20, "000020001": 50}


def readings() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    meter = 14_000_000_000_000
    for iris, n in SIZES.items():
        for _ in range(n):
            meter += 7
            for month in range(1, 13):
                rows.append({"numero_compteur": str(meter), "adresse": f"{meter % 97} rue du Fictif",
                             "x_l93": 700_000 + meter % 1000 + 0.5, "y_l93": 6_600_000.25, "mois": f"2024-{month:02d}",
                             "conso_kwh": 100.0, "iris": iris})
    frame = pd.DataFrame(rows)
    zones = pd.DataFrame({"iris": frame.pop("iris")}, index=frame.index)
    zones["commune"] = zones["iris"].str[:5]
    return frame, zones


def run(frame, zones, **overrides):
    options = dict(key=KEY, id_columns=["numero_compteur"], drop_columns=["adresse", "x_l93", "y_l93"],
                   zone_ids=zones, unit_column="numero_compteur", value_columns={"conso_kwh": "sum"},
                   rule="households", source="smart_meter")
    return anonymise(frame, **(options | overrides))


def test_output_holds_aggregates_only_no_identifier_pseudonym_or_coordinate():
    frame, zones = readings()
    table, _ = run(frame, zones)
    assert list(table.columns) == ["zoning", "zone_id", "parent_id", "units", "conso_kwh", "secret"]
    text = {str(v) for v in table.to_numpy().ravel()}
    pseudonyms = set(pseudonymise(frame["numero_compteur"], KEY))
    assert not text & set(frame["numero_compteur"])
    assert not text & pseudonyms
    assert not text & set(frame["adresse"]) and not text & set(frame["x_l93"].astype(str))
    assert not any(len(v) == 64 and set(v) <= set("0123456789abcdef") for v in text)


def test_households_are_counted_once_across_their_months():
    frame, zones = readings()
    table, _ = run(frame, zones)
    by_zone = table.set_index(["zoning", "zone_id"])["units"]
    assert by_zone[("iris", "000010001")] == 30 and by_zone[("commune", "00002")] == 50
    assert by_zone[("total", "total")] == 105
    assert table.set_index(["zoning", "zone_id"]).loc[("iris", "000010001"), "conso_kwh"] == 30 * 12 * 100.0


def test_small_iris_and_its_complement_are_empty_rows_with_a_reason():
    frame, zones = readings()
    table, report = run(frame, zones)
    secret = table.set_index(["zoning", "zone_id"])["secret"].dropna().to_dict()
    assert secret == {("iris", "000010002"): "n<11", ("iris", "000010003"): "secondary"}
    hidden = table[table["secret"].notna()]
    assert hidden[["units", "conso_kwh"]].isna().all().all()
    assert report.suppressed == {"iris": {"n<11": 1, "secondary": 1}}


def test_report_holds_counts_never_values():
    frame, zones = readings()
    zones.iloc[:12] = np.nan  # one household outside the territory
    _, report = run(frame, zones)
    meta = report.to_metadata()
    assert meta["rows_in"] == len(frame) and meta["rows_outside_territory"] == 12
    assert meta["pseudonymised_columns"] == "numero_compteur"
    assert meta["dropped_columns"] == "adresse, x_l93, y_l93"
    assert all(isinstance(v, (int, str)) for v in meta.values())
    assert not any(m in str(meta) for m in frame["numero_compteur"])


def test_mean_is_per_unit():
    frame, zones = readings()
    table, _ = run(frame, zones, value_columns={"conso_kwh": "mean"})
    assert table.set_index(["zoning", "zone_id"]).loc[("commune", "00002"), "conso_kwh"] == 1200.0


def test_personal_source_without_key_stops():
    frame, zones = readings()
    with pytest.raises(PrivacyError, match="DATACITES_PSEUDONYMISATION_KEY"):
        run(frame, zones, key=None)


def test_unkeyed_method_cannot_be_smuggled_through_a_short_key():
    frame, zones = readings()
    with pytest.raises(PrivacyError):
        run(frame, zones, key=b"abc")


def test_unit_located_in_two_zones_is_refused_without_naming_it():
    frame, zones = readings()
    zones.iloc[0, 0], zones.iloc[0, 1] = "000020001", "00002"
    with pytest.raises(PrivacyError) as error:
        run(frame, zones)
    assert "1 units" in str(error.value) and frame["numero_compteur"][0] not in str(error.value)


def test_zone_ids_must_be_aligned_with_the_frame():
    frame, zones = readings()
    with pytest.raises(ValueError, match="aligned"):
        run(frame, zones.iloc[::-1])


def operator() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Residential buildings, 5 delivery points each. IRIS X1: one building consumes 900
    # MWh of its 1,000 (90 %); X2: ten of 100; X3: eight of 50; commune C2: ten of 100.
    buildings = ([("X1", 900.0)] + [("X1", 100 / 9)] * 9 + [("X2", 100.0)] * 10 + [("X3", 50.0)] * 8
                 + [("Y1", 100.0)] * 10)
    frame = pd.DataFrame({"id_batiment": [f"B{i:03d}" for i in range(len(buildings))],
                          "x_l93": np.arange(len(buildings)) * 10.5, "y_l93": 6.6e6,
                          "nb_points_livraison": 5, "conso_totale_mwh": [c for _, c in buildings]})
    zones = pd.DataFrame({"iris": [z for z, _ in buildings]}, index=frame.index)
    zones["commune"] = zones["iris"].map({"X1": "C1", "X2": "C1", "X3": "C1", "Y1": "C2"})
    return frame, zones


def test_large_consumer_holding_90_percent_of_an_iris_is_suppressed_with_a_complement():
    # X1 is dominated (90 % >= 85 %). Its delivery points (50) would be C1 - X2 - X3, so
    # the smallest sibling X3 (40 points) is hidden too; then X1's consumption is only
    # known to lie in [0, 1,400] MWh, far wider than 15 % of it.
    frame, zones = operator()
    table, report = anonymise(
        frame, key=None, id_columns=[], drop_columns=["x_l93", "y_l93"], zone_ids=zones,
        unit_column="id_batiment", weight_column="nb_points_livraison", value_columns={"conso_totale_mwh": "sum"},
        rule=[{"kind": "delivery_points"}, {"kind": "business", "value_column": "conso_totale_mwh"}],
        source="operator_consumption")
    secret = table.set_index(["zoning", "zone_id"])["secret"].dropna().to_dict()
    assert secret == {("iris", "X1"): "dominance>=85%", ("iris", "X3"): "secondary"}
    assert table.set_index(["zoning", "zone_id"]).loc[("iris", "X2"), "units"] == 50
    assert report.sensitivity == "private" and "id_batiment" not in table.columns


def test_shares_of_rows_per_category_for_a_travel_survey():
    persons = pd.DataFrame({"respondent": [f"R{i}" for i in range(24) for _ in range(2)],
                            "mode": ["voiture", "bus"] * 24})
    zones = pd.Series(["Z1"] * 48, name="iris", index=persons.index)
    table, _ = anonymise(persons, key=KEY, id_columns=["respondent"], drop_columns=[], zone_ids=zones,
                         unit_column="respondent", value_columns=[], rule="households",
                         shares={"mode": ["voiture", "bus"]}, include_total=False)
    assert table["units"].tolist() == [24]
    assert table["share_mode_voiture"].tolist() == [0.5]


def test_leaking_example_is_protected_by_the_anonymiser():
    # The confirmed disclosure (business rule, at least 3 stations): commune C1 (IRIS A1 =
    # 10 and A2 = 12 stations) and the territory total (25) were published; B1 (1 station,
    # all of C2), D1 and D2 (1 each, C3 = 2) hidden. Knowing that every listed hidden IRIS
    # holds at least one station, C2 + C3 = 25 - 22 = 3 pins all three to 1. C1 alone
    # cannot help (the sum of published IRIS). This used to hide the territory total; the
    # total is now kept (the headline figure, see pipelines.privacy.suppression), so the
    # anonymiser hides C1 with its smaller IRIS A1 (10): A1 + B1 + D1 + D2 = 25 - 12 = 13,
    # each >= 1, so each lies in [1, 10] (worked out in test_privacy_suppression).
    spec = [("C1", "A1", 10), ("C1", "A2", 12), ("C2", "B1", 1), ("C3", "D1", 1), ("C3", "D2", 1)]
    rows = [{"station": f"S{n:02d}", "iris": iris, "commune": commune, "nb_trajets": 100.0}
            for n, (commune, iris, _) in enumerate((c, i, k) for c, i, size in spec for k in range(size))]
    frame = pd.DataFrame(rows)
    zones = frame[["iris", "commune"]]
    table, report = anonymise(frame.drop(columns=["iris", "commune"]), key=None, id_columns=[], drop_columns=[],
                              zone_ids=zones, unit_column="station", value_columns={"nb_trajets": "sum"},
                              rule=[{"kind": "business", "value_column": "nb_trajets"}], source="carsharing")
    secret = table.set_index(["zoning", "zone_id"])["secret"].dropna().to_dict()
    assert secret == {("iris", "B1"): "n<3", ("iris", "D1"): "n<3", ("iris", "D2"): "n<3",
                      ("commune", "C2"): "n<3", ("commune", "C3"): "n<3", ("commune", "C1"): "secondary",
                      ("iris", "A1"): "secondary"}
    # The internal reason stays detailed, for the privacy note.
    assert report.suppressed == {"iris": {"n<3": 3, "secondary": 1}, "commune": {"n<3": 2, "secondary": 1}}
    assert table.set_index(["zoning", "zone_id"]).loc[("total", "total"), "units"] == 25


def test_a_share_carries_its_standard_error_with_households_as_clusters():
    """Worked by hand: households with (car trips, trips) = (2, 2), (0, 3), (1, 1) give
    p = 3/6 = 0.5; Σ(y - p n)² = 1² + 1.5² + 0.5² = 3.5; variance = 3/2 · 3.5 / 36.
    Trips counted as independent would give sqrt(0.25 / 6) = 0.204 instead of 0.382:
    the cluster is what matters."""
    from pipelines.privacy.anonymise import share_standard_error

    f = lambda v: pd.Series([v], dtype="Float64")  # noqa: E731
    # Σy² = 4 + 0 + 1, Σyn = 4 + 0 + 1, Σn² = 4 + 9 + 1
    se = share_standard_error(f(0.5), f(6.0), f(3.0), f(5.0), f(5.0), f(14.0))
    assert float(se.iloc[0]) == pytest.approx(np.sqrt(1.5 * 3.5 / 36))
    assert pd.isna(share_standard_error(f(0.5), f(2.0), f(1.0), f(1.0), f(2.0), f(4.0)).iloc[0])  # one household


def test_the_anonymisers_standard_errors_match_a_per_household_computation():
    rng = np.random.default_rng(7)
    rows = [(f"h{h}", "A" if h < 25 else "B", rng.choice(["car", "bus", "walk"]))
            for h in range(40) for _ in range(rng.integers(1, 8))]
    frame = pd.DataFrame(rows, columns=["hh", "zone", "mode"])
    table, _ = anonymise(frame, key=None, id_columns=[], drop_columns=[], zone_ids=frame["zone"].rename("iris"),
                         unit_column="hh", value_columns={}, rule="households", shares={"mode": ["car"]})
    got = table.set_index("zone_id")
    for zone, rows_of in frame.groupby("zone"):
        per = rows_of.groupby("hh")["mode"].agg(y=lambda m: float((m == "car").sum()), n="size")
        share = per["y"].sum() / per["n"].sum()
        expected = np.sqrt(len(per) / (len(per) - 1) * ((per["y"] - share * per["n"]) ** 2).sum() / per["n"].sum() ** 2)
        assert float(got.loc[zone, "share_mode_car"]) == pytest.approx(share)
        assert float(got.loc[zone, "se_share_mode_car"]) == pytest.approx(expected, rel=1e-12)
