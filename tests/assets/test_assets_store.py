"""The Parquet store of record: atomic writes, CRS kept for points and zones."""

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pytest
from shapely.geometry import box

from pipelines.assets.store import read_frame, write_atomic


def test_points_keep_their_crs_and_codes_stay_text(tmp_path):
    points = pd.DataFrame({"code": ["01053", "2A004"], "x": [1.5, 2.5], "y": [3.0, 4.0]})
    points.attrs["crs"] = "EPSG:2154"
    back = read_frame(write_atomic(points, tmp_path / "p.parquet"))
    assert back.attrs["crs"] == "EPSG:2154"
    assert back["code"].tolist() == ["01053", "2A004"]
    assert back[["x", "y"]].to_numpy().tolist() == [[1.5, 3.0], [2.5, 4.0]]


def test_zones_come_back_as_geodataframe_with_crs(tmp_path):
    zones = gpd.GeoDataFrame({"code_iris": ["000010101"]}, geometry=[box(0, 0, 200, 200)], crs="EPSG:2154")
    back = read_frame(write_atomic(zones, tmp_path / "z.parquet"))
    assert isinstance(back, gpd.GeoDataFrame) and back.crs.to_epsg() == 2154
    assert back.geometry.area.tolist() == [40000.0]


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = write_atomic(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.parquet")
    before = path.read_bytes()
    unwritable = pd.DataFrame({"a": [object(), object()]})  # pyarrow cannot store plain objects
    with pytest.raises((TypeError, ValueError, pa.ArrowException)):
        write_atomic(unwritable, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
