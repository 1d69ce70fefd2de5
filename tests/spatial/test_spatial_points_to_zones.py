"""Points to zones on a 10 x 10 grid of 100 m squares, answers worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.errors import CrsError
from pipelines.spatial._checks import SpatialInputError
from pipelines.spatial.points_to_zones import assign_points_to_zones, explain_points_to_zones

X0, Y0 = 700_000.0, 6_600_000.0  # Lambert-93, like the sample territory
CRS = "EPSG:2154"


def grid_zones() -> gpd.GeoDataFrame:
    # Zone Z{10 * row + col}: unpadded on purpose, so string order ("Z18" < "Z8")
    # differs from numeric order and the tie rule is really tested.
    cells = [(row, col) for row in range(10) for col in range(10)]
    return gpd.GeoDataFrame(
        {"code": [f"Z{10 * row + col}" for row, col in cells]},
        geometry=[shapely.box(X0 + 100 * col, Y0 + 100 * row, X0 + 100 * col + 100,
                              Y0 + 100 * row + 100) for row, col in cells],
        crs=CRS)


def points(xy, index=None, crs=CRS) -> pd.DataFrame:
    frame = pd.DataFrame(np.asarray(xy, dtype="float64").reshape(-1, 2), columns=["x", "y"],
                         index=index)
    frame["x"] += X0
    frame["y"] += Y0
    frame.attrs["crs"] = crs
    return frame


# (offset x, offset y) -> expected zone, worked out by hand.
CASES = {
    "interior": ((50, 50), "Z0"),
    "interior_row7_col2": ((250, 730), "Z72"),
    "edge_between_Z9_and_Z19": ((950, 100), "Z19"),
    "corner_of_Z8_Z9_Z18_Z19": ((900, 100), "Z18"),
    "corner_of_Z12_Z13_Z22_Z23": ((300, 200), "Z12"),
    "outer_edge_of_Z59": ((1000, 550), "Z59"),
    "outside_west": ((-0.001, 500), None),
    "outside_north": ((500, 1000.5), None),
    "missing_coordinate": ((np.nan, 500), None),
}


@pytest.mark.parametrize("method", ["auto", "index", "exact", "duckdb"])
def test_hand_worked_points(method):
    labels = list(CASES)[::-1]  # a non-default index, in another order than CASES
    frame = points([CASES[label][0] for label in labels], index=labels)
    result = assign_points_to_zones(frame, grid_zones(), zone_id="code", crs=CRS,
                                    method=method)
    assert result.zone_ids.index.tolist() == labels
    assert result.zone_ids.dtype == "str"
    got = {label: (None if pd.isna(value) else value) for label, value in result.zone_ids.items()}
    assert got == {label: expected for label, (_, expected) in CASES.items()}
    assert (result.matched, result.outside) == (6, 3)


@pytest.mark.parametrize("method", ["auto", "index", "exact", "duckdb"])
def test_swapped_axes_match_nothing(method):
    # ST_Point(y, x) is the classic silent failure: the counts must show it.
    frame = points([(50, 50), (250, 730), (950, 100)])
    swapped = frame.rename(columns={"x": "y", "y": "x"})
    kwargs = {"zone_id": "code", "crs": CRS, "method": method}
    assert assign_points_to_zones(frame, grid_zones(), **kwargs).matched == 3
    result = assign_points_to_zones(swapped, grid_zones(), **kwargs)
    assert (result.matched, result.outside) == (0, 3)


def test_empty_inputs():
    result = assign_points_to_zones(points([]), grid_zones(), zone_id="code", crs=CRS)
    assert (len(result.zone_ids), result.matched, result.outside) == (0, 0, 0)
    for method in ("index", "exact"):
        result = assign_points_to_zones(points([(50, 50)]), grid_zones().iloc[:0],
                                        zone_id="code", crs=CRS, method=method)
        assert result.zone_ids.isna().all() and result.outside == 1


def test_plan_is_a_spatial_join():
    plan = explain_points_to_zones(points([(50, 50)]), grid_zones(), zone_id="code", crs=CRS)
    assert "SPATIAL_JOIN" in plan
    for slow in ("NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "PIECEWISE_MERGE_JOIN",
                 "CROSS_PRODUCT", "HASH_JOIN"):
        assert slow not in plan


def test_points_crs_mismatch_is_an_error():
    with pytest.raises(CrsError, match="layer 'points' is in EPSG:4326"):
        assign_points_to_zones(points([(50, 50)], crs="EPSG:4326"), grid_zones(),
                               zone_id="code", crs=CRS)


def test_zones_without_crs_is_an_error():
    zones = grid_zones().set_crs(None, allow_override=True)
    with pytest.raises(CrsError, match="layer 'zones' has no CRS"):
        assign_points_to_zones(points([(50, 50)]), zones, zone_id="code", crs=CRS)


def test_unknown_method_is_refused():
    with pytest.raises(SpatialInputError, match="method must be one of 'auto', 'index', "):
        assign_points_to_zones(points([(50, 50)]), grid_zones(), zone_id="code", crs=CRS,
                               method="fast")


def test_invalid_zone_names_its_row():
    zones = grid_zones()
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    zones.loc[7, "geometry"] = bowtie
    with pytest.raises(SpatialInputError, match="row 7: invalid polygon"):
        assign_points_to_zones(points([(50, 50)]), zones, zone_id="code", crs=CRS)


@pytest.mark.parametrize("row", [7, 1_999, 2_100])
def test_invalid_zone_in_a_large_layer_names_its_row(row):
    # From 2,000 zones the layer is validated in two halves, on two threads.
    zones = gpd.GeoDataFrame({"code": [f"Z{i}" for i in range(2_500)]},
                             geometry=shapely.box(np.arange(2_500.0), 0, np.arange(2_500.0) + 1,
                                                  1), crs=CRS)
    zones.loc[row, "geometry"] = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(SpatialInputError, match=f"row {row}: invalid polygon"):
        assign_points_to_zones(points([(50, 50)]), zones, zone_id="code", crs=CRS)


def shapely_reference(frame: pd.DataFrame, zones: gpd.GeoDataFrame) -> list:
    """Independent answer: shapely 'intersects', lowest code among the hits."""
    geoms = np.asarray(zones.geometry.array)
    codes = zones["code"].to_numpy()
    answer = []
    for x, y in zip(frame["x"], frame["y"], strict=False):
        hits = codes[shapely.intersects_xy(geoms, x, y)]
        answer.append(min(hits) if len(hits) else None)
    return answer


# Coordinates on a 12.5 m lattice hit edges and corners often, plus free floats.
lattice = st.integers(-8, 88).map(lambda k: k * 12.5)
coordinate = st.one_of(lattice, st.floats(-50, 1050, allow_nan=False))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=40),
       st.sampled_from(["auto", "index", "exact", "duckdb"]))
def test_agrees_with_shapely(xy, method):
    frame = points(xy)
    zones = grid_zones()
    result = assign_points_to_zones(frame, zones, zone_id="code", crs=CRS, method=method)
    expected = shapely_reference(frame, zones)
    assert [None if pd.isna(v) else v for v in result.zone_ids] == expected
    assert result.matched == sum(v is not None for v in expected)
