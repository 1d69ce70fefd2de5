"""check_crs: missing and mismatched CRSs are errors naming the layer and the fix."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from pipelines.errors import CrsError
from pipelines.spatial.crs import check_crs


def _zones(crs):
    return gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=crs)


def _points(crs):
    frame = pd.DataFrame({"x": [700_000.0], "y": [6_600_000.0]})
    if crs is not None:
        frame.attrs["crs"] = crs
    return frame


@pytest.mark.parametrize("frame", [_zones("EPSG:2154"), _points("EPSG:2154"),
                                   _points(CRS.from_epsg(2154).to_wkt()),
                                   _points(CRS.from_epsg(2154))])
def test_same_crs_in_any_spelling_passes(frame):
    assert check_crs(frame, "EPSG:2154", layer="iris").to_epsg() == 2154


@pytest.mark.parametrize("frame", [_zones(None), _points(None)])
def test_missing_crs_names_layer_and_fix(frame):
    with pytest.raises(CrsError) as caught:
        check_crs(frame, "EPSG:2154", layer="iris")
    message = str(caught.value)
    assert message.startswith("layer 'iris' has no CRS; declare the CRS its coordinates are in with `crs:` "
                              "in its source card or in the territory's `sources.iris.crs`")
    assert "the territory's working CRS is EPSG:2154" in message


@pytest.mark.parametrize("frame", [_zones("EPSG:4326"), _points("EPSG:4326")])
def test_other_crs_names_both_and_asks_to_reproject(frame):
    with pytest.raises(CrsError) as caught:
        check_crs(frame, "EPSG:2154", layer="dpe")
    assert str(caught.value).startswith(
        "layer 'dpe' is in EPSG:4326 but the territory's working CRS is EPSG:2154; "
        "check `crs:` in its source card and the territory's `working_crs`, or reproject it")


@pytest.mark.parametrize("frame", [_zones("EPSG:4326"), _points("EPSG:4326")])
def test_a_grid_layer_is_checked_against_the_grid_crs_and_says_so(frame):
    with pytest.raises(CrsError) as caught:
        check_crs(frame, "EPSG:3035", layer="filosofi_200m", role="grid CRS")
    assert "but the territory's grid CRS is EPSG:3035" in str(caught.value)
    assert "`grid_crs`" in str(caught.value) and "working" not in str(caught.value)


def test_unreadable_crs_is_a_crs_error():
    with pytest.raises(CrsError, match="layer 'dpe' declares a CRS that pyproj cannot read"):
        check_crs(_points("EPSG:not-a-code"), "EPSG:2154", layer="dpe")
