"""aggregate_points on a handful of points whose totals are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.spatial._checks import SpatialInputError
from pipelines.spatial.aggregate import aggregate_points


def frame():
    points = pd.DataFrame({
        "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "y": [1.0] * 6,
        "kwh": [100.0, 300.0, np.nan, 50.0, 10.0, 7.0],
        "poor": pd.array([True, False, None, True, True, False], dtype="boolean"),
    }, index=[10, 11, 12, 13, 14, 15])
    zones = pd.Series(["B", "B", "B", "A", None, "A"], index=points.index, dtype="str")
    return points, zones


def test_counts_sums_means_shares_by_hand():
    points, zones = frame()
    result = aggregate_points(points, zones, zone_id_name="code_iris", sums=["kwh"],
                              means=["kwh"], shares={"share_poor": "poor"})
    expected = pd.DataFrame({
        "code_iris": pd.Series(["A", "B"], dtype="str"),
        "points": [2, 3],
        "kwh_sum": [57.0, 400.0],           # the NaN in B is ignored
        "kwh_mean": [28.5, 200.0],          # (100 + 300) / 2 known values
        "share_poor": [0.5, 0.5],           # A: 1 of 2; B: 1 of 2 known
    })
    pd.testing.assert_frame_equal(result, expected, check_dtype=False)
    assert result["code_iris"].dtype == "str"


def test_point_outside_every_zone_is_left_out():
    points, zones = frame()
    result = aggregate_points(points, zones, zone_id_name="zone")
    assert result["points"].sum() == 5


def test_misaligned_zone_ids_are_refused():
    points, zones = frame()
    with pytest.raises(SpatialInputError, match="not aligned"):
        aggregate_points(points, zones.reset_index(drop=True), zone_id_name="zone")


def test_non_boolean_share_column_is_refused():
    points, zones = frame()
    with pytest.raises(SpatialInputError, match="column 'kwh' must be boolean"):
        aggregate_points(points, zones, zone_id_name="zone", shares={"s": "kwh"})
