"""Area-weighted interpolation: a hand-computed split and totals conserved on a grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.affinity import translate

from pipelines.errors import CrsError
from pipelines.spatial.interpolate import explain_interpolation, interpolate_area_weighted

X0, Y0 = 700_000.0, 6_600_000.0
CRS = "EPSG:2154"


def box(xmin, ymin, xmax, ymax):
    return shapely.box(X0 + xmin, Y0 + ymin, X0 + xmax, Y0 + ymax)


def test_hand_computed_split():
    source = gpd.GeoDataFrame({"people": [100.0, 40.0, 7.0]}, crs=CRS, geometry=[
        box(0, 0, 100, 100),      # 25 % in L, 75 % in R
        box(100, 0, 200, 100),    # half in R, half outside every target: all 40 to R
        box(300, 0, 400, 100)])   # outside every target: unassigned
    target = gpd.GeoDataFrame({"code": ["R", "L", "T"]}, crs=CRS, geometry=[
        box(25, -50, 150, 150), box(-50, -50, 25, 150),
        box(-100, 0, 0, 100)])    # T only touches the first cell along x = 0
    result = interpolate_area_weighted(source, target, columns=["people"], target_id="code",
                                       crs=CRS)
    assert result["code"].tolist() == ["L", "R", "T"]
    assert result["code"].dtype == "str"
    np.testing.assert_allclose(result["people"], [25.0, 115.0, 0.0], rtol=0, atol=1e-9)
    assert result.attrs["unassigned"] == {"people": 7.0}


def grid_source() -> gpd.GeoDataFrame:
    cells = [(row, col) for row in range(10) for col in range(10)]
    return gpd.GeoDataFrame({
        "people": [float(10 * row + col + 1) for row, col in cells],
        "households": [float((7 * row + 3 * col) % 11) for row, col in cells],
    }, geometry=[box(100 * col, 100 * row, 100 * col + 100, 100 * row + 100)
                 for row, col in cells], crs=CRS)


def irregular_targets() -> gpd.GeoDataFrame:
    # A and B share an edge; C is apart; none follows the cells and much is uncovered.
    shapes = {"A": [(130, 70), (480, 40), (520, 430), (90, 380)],
              "B": [(480, 40), (870, 120), (840, 510), (520, 430)],
              "C": [(300, 600), (750, 950), (150, 900)]}
    return gpd.GeoDataFrame({"iris": list(shapes)}, crs=CRS, geometry=[
        translate(shapely.Polygon(ring), X0, Y0) for ring in shapes.values()])


def shapely_reference(source, target, column):
    """Same rule computed independently with shapely, cell by cell."""
    totals = dict.fromkeys(target["iris"], 0.0)
    unassigned = 0.0
    for cell, value in zip(source.geometry, source[column], strict=False):
        areas = {code: cell.intersection(zone).area
                 for code, zone in zip(target["iris"], target.geometry, strict=False)}
        covered = sum(areas.values())
        if covered == 0:
            unassigned += value
        for code, area in areas.items():
            totals[code] += value * area / covered if covered else 0.0
    return totals, unassigned


def test_totals_conserved_on_irregular_targets():
    source, target = grid_source(), irregular_targets()
    result = interpolate_area_weighted(source, target, columns=["people", "households"],
                                       target_id="iris", crs=CRS)
    for column in ("people", "households"):
        inside = result[column].sum()
        unassigned = result.attrs["unassigned"][column]
        assert inside + unassigned == pytest.approx(source[column].sum(), abs=1e-6)
        expected, expected_unassigned = shapely_reference(source, target, column)
        np.testing.assert_allclose(result[column], [expected[c] for c in result["iris"]],
                                   rtol=1e-9)
        assert unassigned == pytest.approx(expected_unassigned, abs=1e-9)
    assert result.attrs["unassigned"]["people"] > 0  # the targets really leave cells out


def test_plan_is_a_spatial_join():
    plan = explain_interpolation(grid_source(), irregular_targets(), columns=["people"],
                                 target_id="iris", crs=CRS)
    assert "SPATIAL_JOIN" in plan
    for slow in ("NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "PIECEWISE_MERGE_JOIN",
                 "CROSS_PRODUCT", "HASH_JOIN"):
        assert slow not in plan


def test_crs_mismatch_is_an_error():
    source = grid_source().to_crs("EPSG:3035")
    with pytest.raises(CrsError, match="layer 'source' is in EPSG:3035"):
        interpolate_area_weighted(source, irregular_targets(), columns=["people"],
                                  target_id="iris", crs=CRS)
