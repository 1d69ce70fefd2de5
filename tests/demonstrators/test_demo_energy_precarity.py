"""Energy demonstrator: pure functions on tiny inline frames with hand-computed answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from pipelines.api import protected_cells
from pipelines.catalogue import load_territory
from tests_support import load_demonstrator, step_context

CRS = "EPSG:2154"


@pytest.fixture(scope="module")
def energy():
    card, registry, module = load_demonstrator("energy_precarity")
    return module, step_context(card, registry, load_territory("sample"))


def iris():
    return gpd.GeoDataFrame({"code_iris": ["000010101", "000010102"], "nom_iris": ["A", "B"],
                             "code_commune": ["00001", "00001"], "nom_commune": ["C", "C"]},
                            geometry=[box(700_000, 6_600_000, 700_500, 6_600_500),
                                      box(700_500, 6_600_000, 701_000, 6_600_500)], crs=CRS)


def aggregates(rows):
    """Protected aggregates as the anonymiser returns them (long form)."""
    return pd.DataFrame(rows, columns=["zoning", "zone_id", "units", "conso_totale_mwh", "nb_logements", "secret"])


def test_protected_cells_stay_hidden_with_their_reason(energy):
    module, _ = energy
    table = aggregates([("iris", "000010101", 12, 60.0, 10, None), ("iris", "000010102", None, None, None, "n<10"),
                        ("commune", "00001", 20, 90.0, 16, None)])
    shown = protected_cells(table, "iris", "code_iris", module.OPERATOR)
    assert shown["operator_delivery_points"].tolist()[0] == 12.0 and np.isnan(shown["operator_delivery_points"][1])
    assert shown["secret_operator_delivery_points"].tolist() == ["", "n<10"]
    assert shown["code_iris"].tolist() == ["000010101", "000010102"]


def test_iris_counts_estimate_low_income_households_in_fg_and_hidden_precarity(energy):
    module, ctx = energy
    households = pd.DataFrame({"code_iris": ["000010101", "000010102"], "households": [400.0, 300.0],
                               "low_income_households": [100.0, 30.0]})
    dwellings = pd.DataFrame({"code_iris": ["000010101", "000010102"], "dpe_count": [10, 4], "fg_count": [2, 1],
                              "pre1975_count": [5, 0], "predicted_mwh_sum": [80.0, 40.0], "predicted_count": [10, 4]})
    operator = aggregates([("iris", "000010101", 12, 50.0, 10, None), ("iris", "000010102", None, None, None, "n<10")])
    table = module._iris_counts(households, dwellings, operator, iris(), ctx=ctx).set_index("code_iris")
    # A: share F/G 2/10; 100 low-income x 0.2 = 20. Real 50/10 = 5 MWh against 80/10 = 8
    # predicted: ratio 0.625 < 0.85, so the 100 x (1 - 0.2) = 80 others are in restriction.
    assert table.loc["000010101", "low_income_fg_households"] == pytest.approx(20.0)
    assert table.loc["000010101", "hidden_precarity_households"] == pytest.approx(80.0)
    # B: the operator's cell is secret, so nothing is inferred from it.
    assert table.loc["000010102", "low_income_fg_households"] == pytest.approx(7.5)
    assert table.loc["000010102", "hidden_precarity_households"] == 0.0
    derived = module.derive(table.reset_index().assign(metered_households=np.nan, metered_kwh=np.nan)).set_index("code_iris")
    assert derived.loc["000010101", "share_households_low_income_fg"] == pytest.approx(20 / 400)
    assert derived.loc["000010101", "consumption_ratio"] == pytest.approx(5 / 8)
    assert derived.loc["000010101", "precarity_households_with_shared"] == pytest.approx(100.0)
    assert np.isnan(derived.loc["000010102", "consumption_ratio"])


def test_derive_leaves_shares_of_empty_zones_missing(energy):
    module, _ = energy
    counts = pd.DataFrame({c: [0.0] for c in module.COUNTS + ["hidden_precarity_households"]}
                          | {c: [np.nan] for c in list(module.OPERATOR) + list(module.METERS)})
    out = module.derive(counts).iloc[0]
    assert np.isnan(out["share_fg"]) and np.isnan(out["share_low_income"]) and np.isnan(out["consumption_ratio"])


def test_territory_totals_use_published_protected_cells_only(energy):
    module, _ = energy
    base = {c: [1.0, 1.0] for c in module.COUNTS + ["hidden_precarity_households"]}
    table = pd.DataFrame(base | {"operator_delivery_points": [12.0, np.nan], "operator_consumption_mwh": [50.0, np.nan],
                                 "operator_dwellings": [10.0, np.nan], "metered_households": [20.0, 15.0],
                                 "metered_kwh": [40_000.0, 30_000.0]})
    totals = module.territory_totals(table)
    assert totals["households"] == 2.0
    assert totals["operator_delivery_points"] == 12.0  # the hidden IRIS adds nothing
    assert totals["operator_consumption_per_dwelling"] == pytest.approx(5.0)
    assert totals["metered_consumption_per_household"] == pytest.approx(70_000 / 35 / 1000)


def test_territory_totals_use_communes_when_none_is_hidden(energy):
    module, _ = energy
    base = {c: [1.0, 1.0] for c in module.COUNTS + ["hidden_precarity_households"]}
    iris_table = pd.DataFrame(base | {"operator_delivery_points": [12.0, np.nan], "operator_consumption_mwh": [50.0, np.nan],
                                      "operator_dwellings": [10.0, np.nan], "metered_households": [20.0, np.nan],
                                      "metered_kwh": [40_000.0, np.nan]})
    communes = pd.DataFrame({"operator_delivery_points": [30.0], "operator_consumption_mwh": [90.0],
                             "operator_dwellings": [18.0], "metered_households": [40.0], "metered_kwh": [np.nan]})
    totals = module.territory_totals(iris_table, communes)
    assert totals["operator_delivery_points"] == 30.0  # every commune published: their sum
    assert totals["metered_households"] == 20.0  # a commune value hidden: published IRIS only
