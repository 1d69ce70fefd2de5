"""Differencing across zonings that do not nest: 200 m grid cells against IRIS and communes.

The cells are real INSEE cells (EPSG:3035, in La Rochelle) in one row, published with
their squares; the IRIS are published in Lambert-93 (EPSG:2154), as the pipeline does,
so the audit reprojects before it intersects. Threshold 11 (households). Last, the
sample's energy demonstrator publishes its grid table, which the audit passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from pipelines.privacy.audit import audit_outputs
from pipelines.privacy.overlaps import overlap_relations
from pipelines.privacy.suppression import protect_hierarchy

DEMO = "energy_precarity"
E0, N0, SIDE = 3_462_200, 2_625_200, 200


def cell(col: int, row: int = 0) -> str:
    return f"CRS3035RES200mN{N0 + SIDE * row}E{E0 + SIDE * col}"


def square(col: int, row: int = 0):
    return box(E0 + SIDE * col, N0 + SIDE * row, E0 + SIDE * (col + 1), N0 + SIDE * (row + 1))


def strip(x0: float, x1: float, rows: int = 1):
    """A zone from x0 to x1 metres east of the first cell's corner, in EPSG:2154."""
    return gpd.GeoSeries([box(E0 + x0, N0, E0 + x1, N0 + SIDE * rows)], crs="EPSG:3035").to_crs("EPSG:2154").iloc[0]


def write(folder: Path, zoning: str, frame: pd.DataFrame, geometry, crs: str, **manifest) -> None:
    stem = folder / f"{DEMO}_{zoning}"
    frame.to_csv(stem.with_suffix(".csv"), index=False)
    gpd.GeoDataFrame(frame, geometry=list(geometry), crs=crs).to_parquet(stem.with_suffix(".parquet"), index=False)
    zone = {"grid": "idcar_200m", "iris": "code_iris", "commune": "code_commune"}[zoning]
    stem.with_name(stem.name + ".manifest.json").write_text(json.dumps({
        "table": stem.name, "demonstrator": DEMO, "zoning": zoning, "zone_id_column": zone,
        "parent_zoning": "commune" if zoning == "iris" else None,
        "parent_id_column": "code_commune" if zoning == "iris" else None,
        "count_columns": {"households": "households"}, "rule": {"households": 11},
        "allowed_columns": [*frame.columns, "geometry"]} | manifest), encoding="utf-8")


def counts(values: list[float | None]) -> dict:
    """``households`` and its reason: None is a hidden cell."""
    return {"households": [np.nan if v is None else v for v in values],
            "secret_households": ["secret" if v is None else "" for v in values]}


def grid(folder: Path, values: list[float | None], cols=None, **manifest) -> None:
    cols = list(range(len(values))) if cols is None else cols
    frame = pd.DataFrame({"idcar_200m": [cell(c) for c in cols], **counts(values)})
    write(folder, "grid", frame, [square(c) for c in cols], "EPSG:3035", **manifest)


def iris(folder: Path, zones: dict[str, tuple[float, float, float | None]]) -> None:
    """IRIS of commune 00001: code -> (x0, x1, households)."""
    frame = pd.DataFrame({"code_iris": list(zones), "code_commune": "00001",
                          **counts([v for _, _, v in zones.values()])})
    write(folder, "iris", frame, [strip(x0, x1) for x0, x1, _ in zones.values()], "EPSG:2154")


def found(folder: Path) -> set[tuple[str, str, str]]:
    return {(f.table, f.zone, f.rule) for f in audit_outputs(folder)}


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / DEMO
    path.mkdir()
    return path


# --- grid to IRIS: a hidden IRIS from the cells inside it ------------------------------------


def test_hidden_iris_is_the_sum_of_the_published_cells_inside_it(folder):
    # Both IRIS hidden (their sum alone would leave each in [1, 119]); A is exactly its
    # two cells, B its two.
    grid(folder, [15, 15, 40, 50])
    iris(folder, {"000010001": (0, 400, None), "000010002": (400, 800, None)})
    assert found(folder) == {(f"{DEMO}_iris", "000010001", "differencing"),
                             (f"{DEMO}_iris", "000010002", "differencing")}


def test_iris_minus_the_cells_inside_it_isolates_an_unlisted_cell(folder):
    # The grid leaves out a populated cell of 10 households (as INSEE's grid leaves out
    # cells under 11): the IRIS minus its listed cells gives it.
    grid(folder, [15, 15, 30], cols=[0, 1, 3])
    iris(folder, {"000010001": (0, 600, 40), "000010002": (600, 800, 30)})
    assert found(folder) == {(f"{DEMO}_iris", "000010001", "differencing")}


# --- IRIS to grid: a hidden cell from its IRIS minus the other cells --------------------------


def test_hidden_cell_is_its_iris_minus_the_other_cells_inside_it(folder):
    # One hidden cell in each IRIS: together they are only known to hold 30, but each
    # IRIS minus its published cell gives its own.
    grid(folder, [None, 15, None, 20])
    iris(folder, {"000010001": (0, 400, 25), "000010002": (400, 800, 40)})
    assert found(folder) == {(f"{DEMO}_grid", cell(0), "differencing"),
                             (f"{DEMO}_grid", cell(2), "differencing")}


def test_hidden_cells_in_a_hidden_iris_stay_hidden(folder):
    grid(folder, [None, None, 30, 20])
    iris(folder, {"000010001": (0, 400, None), "000010002": (400, 800, 50)})
    assert found(folder) == set()


# --- cells split between zones: bounds, not values ---------------------------------------------


def test_a_split_cell_bounds_the_iris_it_crosses_by_its_own_count(folder):
    # Cell 1 is cut in half by the boundary of A and B, both hidden: A lies in
    # [15, 15 + 12] and B in [20, 20 + 12], both at least one threshold wide.
    grid(folder, [15, 12, 20, 30])
    iris(folder, {"000010001": (0, 300, None), "000010002": (300, 600, None), "000010003": (600, 800, 30)})
    assert found(folder) == set()


def test_a_split_cell_whose_part_is_pinned_by_its_other_side(folder):
    # B is published: B minus cell 2 gives cell 1's part in B, hence its part in A (4
    # households, a small group) and A itself.
    grid(folder, [15, 12, 20, 30])
    iris(folder, {"000010001": (0, 300, None), "000010002": (300, 600, 28), "000010003": (600, 800, 30)})
    assert found(folder) == {(f"{DEMO}_iris", "000010001", "differencing"),
                             (f"{DEMO}_grid", cell(1), "differencing")}


def test_a_cell_across_the_territorys_edge_keeps_its_outside_part_unknown(folder):
    # Cell 0 lies half outside the territory: its 25 households are not all in A, so A
    # (hidden) lies in [15, 40].
    grid(folder, [25, 15, 30])
    iris(folder, {"000010001": (100, 400, None), "000010002": (400, 600, 30)})
    assert found(folder) == set()


def test_grid_counts_declared_within_the_territory_pin_the_edge_cell(folder):
    # The same cells counting only the territory's households (as the anonymiser's are):
    # cell 0 and cell 1 are then all of A.
    grid(folder, [25, 15, 30], counts_within_territory=True)
    iris(folder, {"000010001": (100, 400, None), "000010002": (400, 600, 30)})
    assert (f"{DEMO}_iris", "000010001", "differencing") in found(folder)


# --- grid to communes, and all three zonings ---------------------------------------------------


def test_grid_against_communes_in_both_directions(folder):
    # Two communes of two cells each, one hidden commune and one hidden cell.
    grid(folder, [15, None, 20, 25])
    frame = pd.DataFrame({"code_commune": ["00001", "00002"], **counts([27, None])})
    write(folder, "commune", frame, [strip(0, 400), strip(400, 800)], "EPSG:2154")
    assert found(folder) == {(f"{DEMO}_commune", "00002", "differencing"),
                             (f"{DEMO}_grid", cell(1), "differencing")}


def test_protected_grid_iris_and_communes_pass_together(folder):
    # Units drawn per IRIS x cell in two rows of four cells, two IRIS per commune (IRIS
    # boundaries cut cells); the suppressor protects the three zonings together, and the
    # audit of what it publishes finds nothing.
    pieces = {("000010001", 0): 30, ("000010001", 1): 4, ("000010002", 1): 9, ("000010002", 2): 14,
              ("000020001", 3): 25, ("000020001", 4): 3, ("000020002", 4): 2, ("000020002", 5): 40,
              ("000010001", 6): 12, ("000010002", 7): 7}
    cols = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 0, 7: 2}   # cell index -> column (6, 7 on row 1)
    rows = {6: 1, 7: 1}
    atoms = pd.DataFrame([{"iris": i, "commune": i[:5], "grid": f"g{g}", "households": 1}
                          for (i, g), n in pieces.items() for _ in range(n)])
    table = protect_hierarchy(atoms, levels=["iris", "commune"], count_column="households", threshold=11,
                              overlap="grid", include_total=False)
    hidden = table["secret"].ne("nan") & table["secret"].notna()
    assert hidden.any()   # the pattern is not trivial

    def rows_of(zoning):
        part = table[table["zoning"] == zoning]
        return part, part["households"].astype("float64").where(~hidden[part.index]).tolist()

    iris_x = {"000010001": (0, 300), "000010002": (300, 600), "000020001": (600, 900), "000020002": (900, 1200)}
    part, values = rows_of("iris")
    frame = pd.DataFrame({"code_iris": part["zone_id"].to_numpy(), "code_commune": part["parent_id"].to_numpy(),
                          "households": values, "secret_households": np.where(hidden[part.index], "secret", "")})
    write(folder, "iris", frame, [strip(*iris_x[z], rows=2) for z in frame["code_iris"]], "EPSG:2154")
    part, values = rows_of("commune")
    frame = pd.DataFrame({"code_commune": part["zone_id"].to_numpy(), "households": values,
                          "secret_households": np.where(hidden[part.index], "secret", "")})
    write(folder, "commune", frame, [strip(0, 600, 2), strip(600, 1200, 2)], "EPSG:2154")
    part, values = rows_of("grid")
    index = [int(z[1:]) for z in part["zone_id"]]
    # Cells 1 and 4 straddle two IRIS (cut at 300 and 900 m); every cell lies in the territory.
    squares = [square(cols[g], rows.get(g, 0)) for g in index]
    frame = pd.DataFrame({"idcar_200m": [cell(cols[g], rows.get(g, 0)) for g in index], "households": values,
                          "secret_households": np.where(hidden[part.index], "secret", "")})
    write(folder, "grid", frame, squares, "EPSG:3035", counts_within_territory=True)
    assert found(folder) == set()


# --- geometry the audit reads -----------------------------------------------------------------


def test_a_grid_without_geometry_is_placed_by_its_cell_ids(folder):
    grid(folder, [15, 15, 40, 50])
    (folder / f"{DEMO}_grid.parquet").unlink()   # the CSV alone: the ids name the squares
    iris(folder, {"000010001": (0, 400, None), "000010002": (400, 800, None)})
    assert found(folder) == {(f"{DEMO}_iris", "000010001", "differencing"),
                             (f"{DEMO}_iris", "000010002", "differencing")}


def test_zones_without_geometry_beside_a_grid_cannot_be_audited(folder):
    grid(folder, [15, 15, 40, 50])
    iris(folder, {"000010001": (0, 400, None), "000010002": (400, 800, None)})
    (folder / f"{DEMO}_iris.parquet").unlink()
    assert (f"{DEMO}_iris", "", "zoning_geometry") in found(folder)


# --- the relations themselves ----------------------------------------------------------------


def test_relations_of_whole_split_and_outside_cells():
    cells = gpd.GeoSeries([square(0), square(1), square(2)], index=["g|a", "g|b", "g|c"], crs="EPSG:3035")
    zones = gpd.GeoSeries([strip(100, 300), strip(300, 600)], index=["i|A", "i|B"], crs="EPSG:2154")
    overlap = overlap_relations(cells, zones, first_tiles=False, second_tiles=True)
    relations = {r.total: set(r.parts) for r in overlap.relations}
    # a: half outside; b: split between A and B; c: wholly in B.
    assert relations == {"g|a": {"g|a&i|A", "g|a&~second"}, "g|b": {"g|b&i|A", "g|b&i|B"},
                         "i|A": {"g|a&i|A", "g|b&i|A"}, "i|B": {"g|b&i|B", "g|c"}}
    assert overlap.pieces["g|a&~second"] == ("g|a", None)


# --- the sample's grid table ------------------------------------------------------------------


def test_the_grid_step_republishes_only_the_cells_insee_measured():
    from pipelines.api import cell_polygons
    from pipelines.catalogue import load_territory
    from tests_support import load_demonstrator, step_context

    card, registry, module = load_demonstrator("energy_precarity")
    ids = pd.Series([cell(1), cell(0), cell(2)])
    cells = gpd.GeoDataFrame({"idcar_200m": ids, "men": [40.0, 3.4, 11.0], "men_pauv": [10.0, 1.2, 2.0],
                              "i_est_200": [0.0, 1.0, 0.0]}, geometry=cell_polygons(ids).array, crs="EPSG:3035")
    table = module.indicators_by_cell(cells, ctx=step_context(card, registry, load_territory("sample")))
    assert table["idcar_200m"].tolist() == [cell(0), cell(1), cell(2)]
    assert table["households"].tolist()[1:] == [40.0, 11.0] and np.isnan(table["households"][0])
    assert table["share_low_income"].tolist()[1:] == pytest.approx([0.25, 2 / 11])
    assert table["statut"].ne("").tolist() == [True, False, False]
    assert table.crs == "EPSG:3035"


@pytest.fixture(scope="module")
def energy_outputs(tmp_path_factory) -> Path:
    from tests_support import run_cli, scratch_project

    root = tmp_path_factory.mktemp("grid_sample")
    env = scratch_project(root)
    run_cli(["sample"], env, root)
    run_cli(["run", "energy_precarity"], env, root)
    return root / "outputs" / "sample"


@pytest.mark.slow
def test_the_sample_publishes_a_grid_table_that_passes_the_audit(energy_outputs):
    folder = energy_outputs / DEMO
    for ext in ("csv", "parquet", "gpkg", "manifest.json"):
        assert (folder / f"{DEMO}_grid.{ext}").stat().st_size > 0
    manifest = json.loads((folder / f"{DEMO}_grid.manifest.json").read_text(encoding="utf-8"))
    assert manifest["zoning"] == "grid" and manifest["zone_id_column"] == "idcar_200m"
    assert manifest["zone_name_column"] is None and manifest["parent_zoning"] is None
    assert manifest["tiles_territory"] is False and manifest["count_columns"] == {}
    assert set(manifest["public_columns"]) == {"households", "low_income_households", "share_low_income"}
    table = gpd.read_parquet(folder / f"{DEMO}_grid.parquet")
    assert table.crs == "EPSG:3035" and table["idcar_200m"].str.match(r"^CRS3035RES200mN\d+E\d+$").all()
    assert table["idcar_200m"].is_unique and len(table) == manifest["rows"]
    published = table["households"].dropna()
    assert len(published) > 0 and (published >= 11).all()   # INSEE's measured cells only
    document = json.loads((folder / "demonstrator.json").read_text(encoding="utf-8"))
    assert "grid" in {t["zoning"] for t in document["tables"]}
    assert audit_outputs(folder) == []
    # The site offers it as a download beside the others, its manifest with it; the map
    # stays on the IRIS.
    downloads = energy_outputs / "site" / "downloads" / DEMO
    assert {f"{DEMO}_grid.{ext}" for ext in ("csv", "gpkg", "parquet", "manifest.json")} <= {
        p.name for p in downloads.iterdir()}
    assert audit_outputs(energy_outputs / "site") == []
