"""Primary and secondary suppression on hand-made data, expected cells worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines import config
from pipelines.errors import PrivacyError
from pipelines.privacy.bounds import InconsistentRelations, Relation, attacker_bounds
from pipelines.privacy.rules import make_rule, primary_suppression
from pipelines.privacy.suppression import protect_hierarchy, secondary_suppression


def hidden(table: pd.DataFrame) -> dict[tuple[str, str], str]:
    rows = table[table["secret"].notna()]
    return {(z, i): r for z, i, r in zip(rows["zoning"], rows["zone_id"], rows["secret"], strict=False)}


# --- primary ---------------------------------------------------------------------------


def test_household_rule_suppresses_below_eleven_including_empty_cells():
    table = pd.DataFrame({"households": [0, 10, 11, 250]})
    reasons = primary_suppression(table, rule="households")
    assert reasons.tolist()[:2] == ["n<11", "n<11"] and reasons[2:].isna().all()


def test_delivery_point_rule_uses_ten():
    table = pd.DataFrame({"delivery_points": [9, 10]})
    assert primary_suppression(table, rule="delivery_points").isna().tolist() == [False, True]


def test_business_rule_counts_units_and_dominance_90_percent_consumer():
    # IRIS 3: one consumer holds 90 % of the total, however many units there are.
    table = pd.DataFrame({"units": [2, 40, 40, 3], "max_unit_share": [0.5, 0.30, 0.90, 0.85]})
    reasons = primary_suppression(table, rule="business")
    assert reasons.tolist()[:1] == ["n<3"] and pd.isna(reasons[1])
    assert reasons[2] == "dominance>=85%" and reasons[3] == "dominance>=85%"


def test_a_card_may_raise_a_threshold_never_lower_it():
    table = pd.DataFrame({"households": [12, 20]})
    assert primary_suppression(table, rule={"kind": "households", "min_units": 15}).tolist()[0] == "n<15"
    with pytest.raises(PrivacyError, match="below the legal floor of 11"):
        make_rule("households", minimum=5)
    with pytest.raises(PrivacyError, match="laxer"):
        make_rule("business", max_share=0.95)
    assert make_rule("business", max_share=0.8).dominance_reason == "dominance>=80%"


def test_thresholds_are_read_from_config_at_call_time(monkeypatch):
    monkeypatch.setattr(config, "MIN_HOUSEHOLDS", 20)
    assert make_rule("households").minimum == 20


def test_missing_count_is_an_error_not_a_published_cell():
    with pytest.raises(ValueError, match="missing counts"):
        primary_suppression(pd.DataFrame({"households": [np.nan, 30]}), rule="households")


# --- secondary, hierarchy ----------------------------------------------------------------


COMMUNES = pd.DataFrame({"iris": ["A", "B", "D", "E", "F"], "commune": ["C1", "C1", "C1", "C2", "C2"],
                         "households": [5, 30, 20, 50, 40]})


def test_commune_total_with_one_suppressed_iris_hides_the_smallest_sibling():
    # C1 = A + B + D = 55 is published: A (5) alone hidden would be 55 - 30 - 20. Hiding
    # D (20), the smallest sibling, leaves A and D anywhere in [1, 24] (each, listed,
    # holds at least one household): 23 >= 11.
    table = protect_hierarchy(COMMUNES, levels=["iris", "commune"], count_column="households", threshold=11)
    assert hidden(table) == {("iris", "A"): "n<11", ("iris", "D"): "secondary"}
    assert table.loc[table["zone_id"] == "A", "households"].isna().all()
    assert table.loc[table["zoning"] == "commune", "households"].tolist() == [55, 90]
    assert table.loc[table["zoning"] == "total", "households"].tolist() == [145]


def test_without_the_complement_the_hidden_iris_is_recomputed_exactly():
    values = pd.Series({"A": 5.0, "B": 30.0, "D": 20.0, "C1": 55.0})
    bounds = attacker_bounds(values, ["A"], [Relation("C1", ("A", "B", "D"))])
    assert bounds.loc["A"].tolist() == [5.0, 5.0]


def test_listed_hidden_cells_hold_at_least_one_unit():
    # Two hidden IRIS of 1 unit under a published commune total of 2: with >= 0 each lies
    # in [0, 2]; knowing that both exist (listed rows), each is exactly 1.
    values = pd.Series({"a": 1.0, "b": 1.0, "C": 2.0})
    relations = [Relation("C", ("a", "b"))]
    assert attacker_bounds(values, ["a", "b"], relations).values.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert attacker_bounds(values, ["a", "b"], relations, lower=0).values.tolist() == [[0.0, 2.0], [0.0, 2.0]]
    # A never-published piece (value unknown to the caller: NA) may not exist: >= 0.
    pieces = pd.Series({"p": np.nan, "q": np.nan, "C": 2.0})
    assert attacker_bounds(pieces, ["p", "q"], [Relation("C", ("p", "q"))]).loc["p"].tolist() == [0.0, 2.0]


def stations(*zones: tuple[str, str, int]) -> pd.DataFrame:
    """One row per station: (commune, IRIS, number of stations)."""
    return pd.DataFrame([{"iris": iris, "commune": commune, "units": 1}
                         for commune, iris, n in zones for _ in range(n)])


# The disclosure a reviewer confirmed (business rule, at least 3 units): commune C1 (22
# stations, in IRIS A1 = 10 and A2 = 12) and the territory total (25) published; IRIS B1
# (1 station, the whole of commune C2) and D1, D2 (1 each, commune C3 = 2) hidden.
LEAK = stations(("C1", "A1", 10), ("C1", "A2", 12), ("C2", "B1", 1), ("C3", "D1", 1), ("C3", "D2", 1))


def test_leaking_example_is_solved_exactly_when_existence_is_known():
    # C2 + C3 = 25 - 22 = 3 = B1 + D1 + D2, each >= 1: all three are 1. The old model
    # (>= 0) left each in [0, 3], as wide as the threshold, and judged it safe.
    values = pd.Series({"A1": 10.0, "A2": 12.0, "B1": 1.0, "D1": 1.0, "D2": 1.0, "C1": 22.0, "C2": 1.0,
                        "C3": 2.0, "T": 25.0})
    relations = [Relation("C1", ("A1", "A2")), Relation("C2", ("B1",)), Relation("C3", ("D1", "D2")),
                 Relation("T", ("C1", "C2", "C3"))]
    hidden_cells = ["B1", "D1", "D2", "C2", "C3"]
    bounds = attacker_bounds(values, hidden_cells, relations)
    assert (bounds["upper"] - bounds["lower"]).tolist() == [0.0] * 5
    old = attacker_bounds(values, hidden_cells, relations, lower=0)
    assert old.loc["B1"].tolist() == [0.0, 3.0]


def test_leaking_example_hides_the_big_commune_with_its_smaller_iris_not_the_total():
    # Primary: B1, D1, D2, C2 (1) and C3 (2) have fewer than 3 stations. B1 is the first
    # unsafe cell; its candidate, behind the hidden C2, is C1 (22): the territory total
    # (25) is the headline figure, never a complement while another cell can do (it used
    # to be hidden here; tau-Argus's attacker, who bounds every cell by the true total,
    # is not stopped by hiding it anyway). C1 alone does not help (C1 = A1 + A2, both
    # published); C1 with its smaller IRIS A1 (10, pair of total 32, before A2's 34) does:
    # C1 = A1 + 12 and 25 = C1 + C2 + C3 give A1 + B1 + D1 + D2 = 13, each >= 1, so each
    # lies in [1, 10], C1 in [13, 22], C2 = B1 in [1, 10], C3 = D1 + D2 in [2, 11]:
    # all at least 3 wide.
    table = protect_hierarchy(LEAK, levels=["iris", "commune"], count_column="units", threshold=3)
    assert hidden(table) == {("iris", "B1"): "n<3", ("iris", "D1"): "n<3", ("iris", "D2"): "n<3",
                             ("commune", "C2"): "n<3", ("commune", "C3"): "n<3",
                             ("commune", "C1"): "secondary", ("iris", "A1"): "secondary"}
    assert table.loc[table["zoning"] == "total", "units"].tolist() == [25]
    values = pd.Series({"A1": 10.0, "A2": 12.0, "B1": 1.0, "D1": 1.0, "D2": 1.0, "C1": 22.0, "C2": 1.0,
                        "C3": 2.0, "T": 25.0})
    relations = [Relation("C1", ("A1", "A2")), Relation("C2", ("B1",)), Relation("C3", ("D1", "D2")),
                 Relation("T", ("C1", "C2", "C3"))]
    bounds = attacker_bounds(values, ["A1", "B1", "D1", "D2", "C1", "C2", "C3"], relations)
    assert bounds.to_dict("index") == {
        "A1": {"lower": 1.0, "upper": 10.0}, "B1": {"lower": 1.0, "upper": 10.0},
        "D1": {"lower": 1.0, "upper": 10.0}, "D2": {"lower": 1.0, "upper": 10.0},
        "C1": {"lower": 13.0, "upper": 22.0}, "C2": {"lower": 1.0, "upper": 10.0},
        "C3": {"lower": 2.0, "upper": 11.0}}


def test_leaking_example_with_hidden_iris_in_the_big_commune_hides_that_commune():
    # As in the sample: C1's 22 stations lie in 11 IRIS of 2 stations, all hidden (n<3).
    # Then hiding C1 (22, the smallest candidate behind C2) is enough: C1 >= 11 (eleven
    # hidden IRIS of at least 1), so C2 + C3 = 25 - C1 lies in [3, 14], B1 in [1, 12], D1
    # and D2 in [1, 12]; each IRIS of C1 lies in [1, 12]. The total stays published.
    big = stations(*[("C1", f"A{i:02d}", 2) for i in range(11)], ("C2", "B1", 1), ("C3", "D1", 1), ("C3", "D2", 1))
    table = protect_hierarchy(big, levels=["iris", "commune"], count_column="units", threshold=3)
    expected = {("iris", f"A{i:02d}"): "n<3" for i in range(11)}
    expected |= {("iris", "B1"): "n<3", ("iris", "D1"): "n<3", ("iris", "D2"): "n<3", ("commune", "C2"): "n<3",
                 ("commune", "C3"): "n<3", ("commune", "C1"): "secondary"}
    assert hidden(table) == expected
    assert table.loc[table["zoning"] == "total", "units"].tolist() == [25]


def test_two_hidden_iris_of_one_unit_under_a_published_commune_total_of_two():
    # a = b = 1 hidden, their commune C = 2 published (T = C + D, D = 40, T = 42): both
    # pinned. C is the only candidate, and hiding it alone is not enough (C = T - D = 2):
    # it is hidden anyway (it widens most), then the search climbs behind it: D (40) is
    # the smallest candidate there, and hiding it leaves C in [2, 41], a in [1, 40].
    cells = _cells({"a": 1, "b": 1, "C": 2, "D": 40, "T": 42}, {"a": "n<3", "b": "n<3"})
    relations = [Relation("C", ("a", "b")), Relation("T", ("C", "D"))]
    reasons = secondary_suppression(cells, relations, threshold=3)
    assert reasons[["a", "b", "C", "D"]].tolist() == ["n<3", "n<3", "secondary", "secondary"]
    assert pd.isna(reasons["T"])


def test_two_hidden_iris_adding_up_to_exactly_the_threshold_climb_the_hierarchy():
    # Commune C1 = 11 households published (at the threshold), made of hidden IRIS a (5)
    # and b (6). Old model: each in [0, 11], safe. Knowing each holds at least 1: [1, 10],
    # 9 < 11. C1 is the only candidate and not enough (C1 = T - C2), nor with its only
    # neighbour C2 (70, pinned by its published IRIS c + d): C1 is hidden (it widens
    # most), and the search climbs behind it. The territory total T (81) used to be the
    # next complement; it is now kept (the headline figure), so the sibling C2 goes, with
    # its smaller IRIS c (30): C1 = a + b, C2 = c + 40 and C1 + C2 = 81 give
    # a + b + c = 41, each >= 1: a, b, c in [1, 39], C1 in [2, 40], C2 in [41, 79].
    atoms = pd.DataFrame({"iris": ["a"] * 5 + ["b"] * 6 + ["c"] * 30 + ["d"] * 40,
                          "commune": ["C1"] * 11 + ["C2"] * 70, "households": 1})
    table = protect_hierarchy(atoms, levels=["iris", "commune"], count_column="households", threshold=11)
    assert hidden(table) == {("iris", "a"): "n<11", ("iris", "b"): "n<11", ("commune", "C1"): "secondary",
                             ("commune", "C2"): "secondary", ("iris", "c"): "secondary"}
    assert table.loc[table["zoning"] == "total", "households"].tolist() == [81]
    values = pd.Series({"a": 5.0, "b": 6.0, "c": 30.0, "d": 40.0, "C1": 11.0, "C2": 70.0, "T": 81.0})
    relations = [Relation("C1", ("a", "b")), Relation("C2", ("c", "d")), Relation("T", ("C1", "C2"))]
    bounds = attacker_bounds(values, ["a", "b", "c", "C1", "C2"], relations)
    assert bounds.values.tolist() == [[1.0, 39.0], [1.0, 39.0], [1.0, 39.0], [2.0, 40.0], [41.0, 79.0]]


def test_a_lower_bound_above_the_true_value_is_refused():
    cells = _cells({"A": 5, "B": 30, "C": 35}, {"A": "n<11"}).assign(lower=[6.0, np.nan, np.nan])
    with pytest.raises(ValueError, match="lower bound"):
        secondary_suppression(cells, [Relation("C", ("A", "B"))], threshold=11)


def _cells(values: dict, hidden_reasons: dict) -> pd.DataFrame:
    return pd.DataFrame({"value": pd.Series(values, dtype="float64"),
                         "reason": pd.Series({k: hidden_reasons.get(k, np.nan) for k in values}, dtype="str")})


def test_no_complement_when_two_hidden_cells_are_already_safe():
    # A (5) and B (8) hidden under C = 43: A + B = 13 and each holds at least 1, so each
    # lies anywhere in [1, 12]: 11 >= 11.
    cells = _cells({"A": 5, "B": 8, "D": 30, "C": 43}, {"A": "n<11", "B": "n<11"})
    reasons = secondary_suppression(cells, [Relation("C", ("A", "B", "D"))], threshold=11)
    assert reasons[["A", "B"]].tolist() == ["n<11", "n<11"]
    assert reasons[["D", "C"]].isna().all()


def test_two_hidden_cells_too_close_to_their_total_need_a_third():
    # A (3) + B (4) = C - D = 7 < 11: both are confined to [1, 6]; D must go too.
    cells = _cells({"A": 3, "B": 4, "D": 30, "C": 37}, {"A": "n<11", "B": "n<11"})
    reasons = secondary_suppression(cells, [Relation("C", ("A", "B", "D"))], threshold=11)
    assert reasons["D"] == "secondary" and pd.isna(reasons["C"])


def test_small_commune_beside_a_big_one_hides_the_sibling_and_its_smaller_iris_not_the_total():
    # C2 holds one IRIS F (8): both are primary. The territory total minus C1 would give
    # C2. This used to hide the total (the cheapest single complement); the total is now
    # kept, so the sibling C1 goes, and since C1 is the sum of its published IRIS, with
    # its smaller IRIS A (30): C1 = A + 40 and C1 + C2 = 78 give A + F = 38, each >= 1:
    # A and F (so C2) in [1, 37], C1 in [41, 77].
    atoms = pd.DataFrame({"iris": ["A", "B", "F"], "commune": ["C1", "C1", "C2"], "households": [30, 40, 8]})
    table = protect_hierarchy(atoms, levels=["iris", "commune"], count_column="households", threshold=11)
    assert hidden(table) == {("iris", "F"): "n<11", ("commune", "C2"): "n<11", ("commune", "C1"): "secondary",
                             ("iris", "A"): "secondary"}
    assert table.loc[table["zoning"] == "total", "households"].tolist() == [78]
    values = pd.Series({"A": 30.0, "B": 40.0, "F": 8.0, "C1": 70.0, "C2": 8.0, "T": 78.0})
    relations = [Relation("C1", ("A", "B")), Relation("C2", ("F",)), Relation("T", ("C1", "C2"))]
    bounds = attacker_bounds(values, ["A", "F", "C1", "C2"], relations)
    assert bounds.values.tolist() == [[1.0, 37.0], [1.0, 37.0], [41.0, 77.0], [1.0, 37.0]]


# --- the territory total is published (the headline figure) -------------------------------


def iris_atoms(counts: dict[str, list[int]]) -> pd.DataFrame:
    """One row per household: commune code -> households of its IRIS (IRIS code = commune + 4 digits)."""
    return pd.DataFrame([{"iris": f"{commune}{k + 1:04d}", "commune": commune, "households": 1}
                         for commune, sizes in counts.items() for k, n in enumerate(sizes) for _ in range(n)])


def hand_relations(counts: dict[str, list[int]]) -> tuple[pd.Series, list[Relation]]:
    """True values and relations, keyed (zoning, zone_id) as in `hidden`, written here."""
    values, relations = {}, []
    for commune, sizes in counts.items():
        iris = [("iris", f"{commune}{k + 1:04d}") for k in range(len(sizes))]
        values |= dict(zip(iris, map(float, sizes), strict=True)) | {("commune", commune): float(sum(sizes))}
        relations.append(Relation(("commune", commune), tuple(iris)))
    values[("total", "total")] = float(sum(map(sum, counts.values())))
    relations.append(Relation(("total", "total"), tuple(("commune", c) for c in counts)))
    return pd.Series(values.values(), index=pd.Index(list(values), tupleize_cols=False)), relations


def test_small_commune_of_two_has_its_sibling_hidden_and_the_total_published():
    # Worked by hand. Commune 00001: IRIS of 4 and 3 households (7: it and its IRIS are
    # primary); commune 00002: IRIS of 30, 25 and 40 (95); total 102. The total is kept,
    # so the complement is the other commune, 00002; alone it is pinned by its IRIS
    # (95 = 30 + 25 + 40), so with its smallest IRIS, 25 (pair of total 120, before 30's
    # 125). The attacker then has x + y = X, Y = 70 + z, X + Y = 102, each hidden cell
    # >= 1 (x = 4, y = 3, z = 25): x + y + z = 32, so x, y, z in [1, 30], X in [2, 31],
    # Y in [71, 100]: 29 wide each, at least 11.
    counts = {"00001": [4, 3], "00002": [30, 25, 40]}
    table = protect_hierarchy(iris_atoms(counts), levels=["iris", "commune"], count_column="households",
                              threshold=11)
    assert hidden(table) == {("iris", "000010001"): "n<11", ("iris", "000010002"): "n<11",
                             ("commune", "00001"): "n<11", ("commune", "00002"): "secondary",
                             ("iris", "000020002"): "secondary"}
    assert table.loc[table["zoning"] == "total", "households"].tolist() == [102]
    values, relations = hand_relations(counts)
    bounds = attacker_bounds(values, list(hidden(table)), relations)
    assert bounds.to_dict("index") == {
        ("iris", "000010001"): {"lower": 1.0, "upper": 30.0}, ("iris", "000010002"): {"lower": 1.0, "upper": 30.0},
        ("commune", "00001"): {"lower": 2.0, "upper": 31.0}, ("commune", "00002"): {"lower": 71.0, "upper": 100.0},
        ("iris", "000020002"): {"lower": 1.0, "upper": 30.0}}
    assert ((bounds["upper"] - bounds["lower"]) >= 11).all()


def test_small_commune_of_two_communes_without_iris_hides_the_other_commune():
    # The same territory at the commune level only: X = 7 (primary) and Y = 95 under the
    # published total 102. Y is the complement: X + Y = 102, both >= 1, each in [1, 101].
    atoms = pd.DataFrame({"commune": ["00001"] * 7 + ["00002"] * 95, "households": 1})
    table = protect_hierarchy(atoms, levels=["commune"], count_column="households", threshold=11)
    assert hidden(table) == {("commune", "00001"): "n<11", ("commune", "00002"): "secondary"}
    assert table.loc[table["zoning"] == "total", "households"].tolist() == [102]
    values = pd.Series({"X": 7.0, "Y": 95.0, "T": 102.0})
    bounds = attacker_bounds(values, ["X", "Y"], [Relation("T", ("X", "Y"))])
    assert bounds.values.tolist() == [[1.0, 101.0], [1.0, 101.0]]


def test_territory_below_the_threshold_hides_everything_as_primary():
    # 9 households in all (IRIS 4 + 2 in 00001, 3 in 00002): every cell, the total too,
    # has fewer than 11 and is hidden for that reason; no complement is needed, since
    # nothing published bounds any of them from above: each is only known to be at least
    # its number of hidden listed parts (1 per IRIS, 2 for 00001, 3 for the total).
    counts = {"00001": [4, 2], "00002": [3]}
    table = protect_hierarchy(iris_atoms(counts), levels=["iris", "commune"], count_column="households",
                              threshold=11)
    assert hidden(table) == {**{("iris", i): "n<11" for i in ("000010001", "000010002", "000020001")},
                             ("commune", "00001"): "n<11", ("commune", "00002"): "n<11",
                             ("total", "total"): "n<11"}
    assert table["households"].isna().all()
    values, relations = hand_relations(counts)
    bounds = attacker_bounds(values, list(hidden(table)), relations)
    assert bounds["lower"].to_dict() == {("iris", "000010001"): 1.0, ("iris", "000010002"): 1.0,
                                         ("iris", "000020001"): 1.0, ("commune", "00001"): 2.0,
                                         ("commune", "00002"): 1.0, ("total", "total"): 3.0}
    assert np.isinf(bounds["upper"]).all()


def test_kept_total_is_hidden_as_a_last_resort_when_nothing_else_protects():
    # One commune of 12 households in IRIS of 5 and 7 (primary): the commune is the
    # territory (12 = 12), so with the total published each IRIS would lie in [1, 11],
    # 10 < 11 wide. The commune goes first (the only candidate other than the total),
    # which changes nothing (it equals the total); then the total, the only cell left.
    # Nothing then bounds the IRIS from above.
    table = protect_hierarchy(iris_atoms({"00001": [5, 7]}), levels=["iris", "commune"],
                              count_column="households", threshold=11)
    assert hidden(table) == {("iris", "000010001"): "n<11", ("iris", "000010002"): "n<11",
                             ("commune", "00001"): "secondary", ("total", "total"): "secondary"}


def test_keep_column_chooses_which_cells_are_complements_of_last_resort():
    # A (5) hidden under C = A + B + D (5 + 30 + 20). Without `keep`, D (20, the smallest
    # sibling) is the complement; kept, B (30) goes instead: A and B in [1, 34].
    cells = _cells({"A": 5, "B": 30, "D": 20, "C": 55}, {"A": "n<11"})
    relations = [Relation("C", ("A", "B", "D"))]
    assert secondary_suppression(cells, relations, threshold=11)["D"] == "secondary"
    reasons = secondary_suppression(cells.assign(keep=[False, False, True, False]), relations, threshold=11)
    assert reasons[["A", "B"]].tolist() == ["n<11", "secondary"] and reasons[["D", "C"]].isna().all()


# --- secondary, overlapping zonings -------------------------------------------------------


# IRIS A = 100 households: 95 in grid cell g1 (wholly inside A) and 5 in g2; g2 also
# holds 40 households of IRIS B, whose other 60 are in g3. Every published cell has more
# than 11 households, yet A - g1 = 5 households isolated in the sliver of A inside g2.
OVERLAP = pd.DataFrame({"iris": ["A", "A", "B", "B"], "grid": ["g1", "g2", "g2", "g3"],
                        "commune": ["C", "C", "C", "C"], "households": [95, 5, 40, 60]})


def test_grid_iris_difference_isolating_five_households_is_detected():
    values = pd.Series({"A": 100.0, "B": 100.0, "g1": 95.0, "g2": 45.0, "g3": 60.0,
                        "A.g1": np.nan, "A.g2": np.nan, "B.g2": np.nan, "B.g3": np.nan})
    relations = [Relation("A", ("A.g1", "A.g2")), Relation("B", ("B.g2", "B.g3")),
                 Relation("g1", ("A.g1",)), Relation("g2", ("A.g2", "B.g2")), Relation("g3", ("B.g3",))]
    bounds = attacker_bounds(values, ["A.g1", "A.g2", "B.g2", "B.g3"], relations)
    assert bounds.loc["A.g2"].tolist() == [5.0, 5.0]


def test_grid_iris_overlap_hides_the_two_grid_cells_around_the_sliver():
    # Hand-worked: the sliver A∩g2 is pinned by two chains (A - g1, and g2 - (B - g3)).
    # No single cell breaks both; the cheapest pair that does is g2 (45) + g1 (95):
    # then A∩g2 (a piece, which may not exist: >= 0) lies in [0, 99] (g1, listed, holds at
    # least 1) and the hidden g1, g2 in [1, 100] and [40, 139].
    table = protect_hierarchy(OVERLAP, levels=["iris", "commune"], overlap="grid",
                              count_column="households", threshold=11)
    assert hidden(table) == {("grid", "g1"): "secondary", ("grid", "g2"): "secondary"}
    assert "piece" not in set(table["zoning"])


def test_inconsistent_totals_are_reported_not_silently_protected():
    cells = _cells({"A": 5, "B": 30, "C": 50}, {"A": "n<11"})
    with pytest.raises(InconsistentRelations):
        secondary_suppression(cells, [Relation("C", ("A", "B"))], threshold=11)


def test_zonings_that_are_not_nested_are_refused():
    atoms = pd.DataFrame({"iris": ["A", "A"], "commune": ["C1", "C2"], "households": [20, 20]})
    with pytest.raises(ValueError, match="not nested"):
        protect_hierarchy(atoms, levels=["iris", "commune"], count_column="households", threshold=11)


def test_result_does_not_depend_on_row_order():
    shuffled = COMMUNES.sample(frac=1, random_state=3)
    a = protect_hierarchy(COMMUNES, levels=["iris", "commune"], count_column="households", threshold=11)
    b = protect_hierarchy(shuffled, levels=["iris", "commune"], count_column="households", threshold=11)
    assert hidden(a) == hidden(b)
