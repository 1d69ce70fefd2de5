"""Properties over random microdata and random zonings, checked by an independent LP.

Units are drawn with an IRIS (nested in communes) and, optionally, a 200 m grid cell
crossing the IRIS, under the household rule (threshold 11) or the business rule
(threshold 3, with many zones of 1 or 2 units). After protection, (1) no published cell
is below the threshold and (2) for every hidden cell, and every never-published IRIS x
grid piece of 1 to threshold - 1 units, the attacker's interval is at least one
threshold wide; (3) the territory total, the headline figure, is hidden only when it is
below the threshold or when hiding every other cell still leaves one unsafe. The
attacker knows that every listed hidden cell exists, so holds at least 1 unit; pieces,
never published, are only known to be >= 0. The attacker's LP below is written from
scratch (dense matrices, one variable per unknown), not with the project's bounds module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from pipelines.privacy.suppression import protect_hierarchy

THRESHOLD = 11
RULES = {11: 30, 3: 5}   # threshold -> largest number of units drawn per IRIS x grid piece


@st.composite
def microdata(draw):
    threshold = draw(st.sampled_from(sorted(RULES)))
    n_communes = draw(st.integers(1, 3))
    n_grid = draw(st.integers(0, 4))
    rows = []
    for c in range(n_communes):
        for i in range(draw(st.integers(1, 4))):
            iris = f"0000{c}{i:04d}"
            grids = sorted(draw(st.sets(st.integers(0, n_grid - 1), min_size=1, max_size=2))) if n_grid else [0]
            for g in grids:
                size = draw(st.integers(0, RULES[threshold]))
                rows += [{"iris": iris, "commune": f"0000{c}", "grid": f"g{g}"}] * size
    frame = pd.DataFrame(rows, columns=["iris", "commune", "grid"])
    frame["households"] = 1
    return frame, n_grid > 0, threshold


def attacker_intervals(table: pd.DataFrame, micro: pd.DataFrame, overlap: bool) -> dict:
    """min/max of every unknown over solutions of the published relations.

    A hidden cell of the table is listed, so exists: at least 1. A piece may not exist: >= 0.
    """
    value = {(z, i): v for z, i, v in zip(table["zoning"], table["zone_id"], table["households"], strict=False)}
    unknown = [k for k, v in value.items() if pd.isna(v)]
    pieces = micro.groupby(["iris", "grid"]).size() if overlap else pd.Series(dtype=int)
    unknown += [("piece", f"{i}|{g}") for i, g in pieces.index]
    index = {k: n for n, k in enumerate(unknown)}
    lower = [(0, None) if key[0] == "piece" else (1, None) for key in unknown]
    equations = []   # (list of (sign, key)) meaning sum(sign * x) = 0
    iris_commune = micro.groupby("iris")["commune"].first()
    for commune, members in iris_commune.groupby(iris_commune):
        equations.append([(1, ("commune", commune))] + [(-1, ("iris", i)) for i in members.index])
    equations.append([(1, ("total", "total"))] + [(-1, ("commune", c)) for c in iris_commune.unique()])
    if overlap:
        for iris, group in pieces.groupby(level=0):
            equations.append([(1, ("iris", iris))] + [(-1, ("piece", f"{i}|{g}")) for i, g in group.index])
        for grid, group in pieces.groupby(level=1):
            equations.append([(1, ("grid", grid))] + [(-1, ("piece", f"{i}|{g}")) for i, g in group.index])
    a = np.zeros((len(equations), len(unknown)))
    b = np.zeros(len(equations))
    for row, terms in enumerate(equations):
        for sign, key in terms:
            if key in index:
                a[row, index[key]] += sign
            else:
                b[row] -= sign * float(value[key])
    out = {}
    for key, n in index.items():
        c = np.zeros(len(unknown))
        c[n] = 1
        low = linprog(c, A_eq=a, b_eq=b, bounds=lower, method="highs")
        high = linprog(-c, A_eq=a, b_eq=b, bounds=lower, method="highs")
        assert low.status == 0, "the published table contradicts its own relations"
        out[key] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return out, pieces


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(microdata())
def test_no_small_published_cell_and_no_hidden_cell_solvable(case):
    micro, overlap, threshold = case
    if micro.empty:
        return
    table = protect_hierarchy(micro, levels=["iris", "commune"], overlap="grid" if overlap else None,
                              count_column="households", threshold=threshold)
    published = table["households"].dropna()
    assert (published >= threshold).all()
    truth = {("iris", k): v for k, v in micro.groupby("iris").size().items()}
    truth |= {("commune", k): v for k, v in micro.groupby("commune").size().items()}
    truth |= {("grid", k): v for k, v in micro.groupby("grid").size().items()} | {("total", "total"): len(micro)}
    for z, i, v in zip(table["zoning"], table["zone_id"], table["households"], strict=False):
        assert pd.isna(v) or v == truth[(z, i)]          # published values are the true ones
    intervals, pieces = attacker_intervals(table, micro, overlap)
    for key, (low, high) in intervals.items():
        if key[0] == "piece":
            size = pieces[tuple(key[1].split("|"))]
            if not 0 < size < threshold:
                continue
        assert high - low >= threshold - 1e-6, f"{key} confined to an interval narrower than {threshold}"
    total = table[table["zoning"] == "total"].iloc[0]
    if pd.isna(total["households"]) and len(micro) >= threshold:
        assert no_safe_pattern_publishes_the_total(table, micro, overlap, threshold, truth)


def no_safe_pattern_publishes_the_total(table, micro, overlap, threshold, truth) -> bool:
    """Whether the pattern hiding every cell but the total is unsafe.

    That pattern gives every cell the widest interval a pattern publishing the total can
    give. Its hidden cells of at least `threshold` units that the attacker solves exactly
    could as well be published (that tells nothing new). If what is left is safe (every
    other hidden cell, and every piece of 1 to threshold - 1 units, at least one
    threshold wide), it is a safe pattern that publishes the total: hiding the total was
    needless.
    """
    most = table.copy()
    most["households"] = most["households"].where(most["zoning"] == "total", pd.NA)
    most.loc[most["zoning"] == "total", "households"] = len(micro)
    intervals, pieces = attacker_intervals(most, micro, overlap)
    for key, (low, high) in intervals.items():
        size = pieces[tuple(key[1].split("|"))] if key[0] == "piece" else truth[key]
        small = 0 < size < threshold
        if key[0] == "piece" and not small:
            continue
        if high - low < threshold - 1e-6 and (small or high - low > 1e-6):
            return True
    return False


@st.composite
def published_pattern(draw):
    """IRIS counts within communes, an arbitrary set of hidden cells (protected or not),
    and maybe the territory total published in demonstrator.json.

    Household rule (11, counts 11 to 60) or business rule (3, counts 1 to 8: many hidden
    cells of 1 or 2 units, where knowing that they exist matters most). A cell below the
    threshold is always hidden, so that only differencing can be found.
    """
    threshold, low, high = draw(st.sampled_from([(11, 11, 60), (3, 1, 8)]))
    rows = []
    for c in range(draw(st.integers(1, 3))):
        for i in range(draw(st.integers(1, 4))):
            value = draw(st.integers(low, high))
            rows.append({"code_iris": f"0000{c}{i:04d}", "code_commune": f"0000{c}",
                         "households": value, "hidden": value < threshold or draw(st.booleans())})
    iris = pd.DataFrame(rows)
    communes = iris.groupby("code_commune", as_index=False)["households"].sum()
    communes["hidden"] = [v < threshold or draw(st.booleans()) for v in communes["households"]]
    total = int(communes["households"].sum())
    publish_total = total >= threshold and draw(st.booleans())
    return iris, communes, threshold, (total if publish_total else None), draw(st.booleans())


def independent_narrow_cells(iris: pd.DataFrame, communes: pd.DataFrame, threshold: int,
                             total: int | None) -> set[tuple[str, str]]:
    """Hidden cells an attacker confines to less than `threshold`, each hidden cell >= 1."""
    unknown = [("iris", z) for z in iris.loc[iris["hidden"], "code_iris"]]
    unknown += [("commune", z) for z in communes.loc[communes["hidden"], "code_commune"]]
    if not unknown:
        return set()
    index = {k: n for n, k in enumerate(unknown)}
    equations = []
    for commune in communes.itertuples():
        terms = [(1, ("commune", commune.code_commune), commune.households)]
        terms += [(-1, ("iris", r.code_iris), r.households)
                  for r in iris[iris["code_commune"] == commune.code_commune].itertuples()]
        equations.append(terms)
    if total is not None:
        equations.append([(1, ("total", "total"), total)]
                         + [(-1, ("commune", r.code_commune), r.households) for r in communes.itertuples()])
    a = np.zeros((len(equations), len(unknown)))
    b = np.zeros(len(equations))
    for row, terms in enumerate(equations):
        for sign, key, value in terms:
            if key in index:
                a[row, index[key]] += sign
            else:
                b[row] -= sign * value
    narrow = set()
    for key, n in index.items():
        c = np.zeros(len(unknown))
        c[n] = 1
        low = linprog(c, A_eq=a, b_eq=b, bounds=(1, None), method="highs").fun
        high = linprog(-c, A_eq=a, b_eq=b, bounds=(1, None), method="highs")
        if high.status != 3 and -high.fun - low < threshold - 1e-6:
            narrow.add(key)
    return narrow


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(published_pattern())
def test_audit_flags_exactly_the_hidden_cells_an_independent_attack_narrows(case):
    import json
    import tempfile
    from pathlib import Path

    from pipelines.privacy.audit import audit_outputs

    iris, communes, threshold, total, with_reasons = case
    kind = "households" if threshold == 11 else "business"
    with tempfile.TemporaryDirectory() as folder:
        for zoning, frame, zone in (("iris", iris, "code_iris"), ("commune", communes, "code_commune")):
            shown = frame.assign(households=frame["households"].where(~frame["hidden"]))
            if with_reasons:   # one uniform code; without a reason column every empty cell is hidden
                shown["secret_households"] = np.where(shown["hidden"], "secret", "")
            shown = shown.drop(columns="hidden")
            shown.to_csv(Path(folder) / f"demo_{zoning}.csv", index=False)
            (Path(folder) / f"demo_{zoning}.manifest.json").write_text(json.dumps({
                "demonstrator": "demo", "zoning": zoning, "zone_id_column": zone,
                "parent_zoning": "commune" if zoning == "iris" else None,
                "parent_id_column": "code_commune" if zoning == "iris" else None,
                "count_columns": {"households": kind}, "rule": {kind: threshold},
                "allowed_columns": list(shown.columns)}))
        if total is not None:
            (Path(folder) / "demonstrator.json").write_text(json.dumps({"territory_values": {"households": total}}))
        findings = audit_outputs(folder)
    found = {(f.table.removeprefix("demo_"), f.zone) for f in findings if f.rule == "differencing"}
    assert found == independent_narrow_cells(iris, communes, threshold, total)
    assert not [f for f in findings if f.rule != "differencing"]
