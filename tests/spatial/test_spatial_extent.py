"""A layer of another place is caught before it is crossed."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from pipelines.assets.sources import check_extent
from pipelines.catalogue import load_sources
from pipelines.catalogue.models import Territory
from pipelines.errors import SourceError
from pipelines.spatial.extent import meets

IRIS = gpd.GeoDataFrame({"code_iris": ["000010101"]}, geometry=[box(700_000, 6_600_000, 702_000, 6_602_000)],
                        crs="EPSG:2154")


def points(x, y, crs="EPSG:2154"):
    frame = pd.DataFrame({"x": x, "y": y})
    frame.attrs["crs"] = crs
    return frame


def test_points_inside_near_or_far_from_the_zones():
    assert meets(points([701_000.0], [6_601_000.0]), IRIS) is True
    assert meets(points([702_900.0], [6_601_000.0]), IRIS) is True      # 900 m off: within the 1 km margin
    assert meets(points([703_100.0], [6_601_000.0]), IRIS) is False     # 1.1 km off
    assert meets(points([float("nan")], [float("nan")]), IRIS) is None  # nothing located: cannot tell


def test_a_grid_in_another_crs_is_compared_in_the_zones_crs():
    here = gpd.GeoDataFrame(geometry=[box(701_000, 6_601_000, 701_200, 6_601_200)], crs="EPSG:2154").to_crs(3035)
    martinique = gpd.GeoDataFrame(geometry=[box(710_000, 1_610_000, 710_200, 1_610_200)], crs="EPSG:5490")
    assert meets(here, IRIS) is True
    assert meets(martinique, IRIS) is False


def test_the_error_names_the_source_the_territory_and_the_fix():
    territory = Territory(id="ville", name="Ville", data_dir="ville")
    grid = gpd.GeoDataFrame(geometry=[box(710_000, 1_610_000, 710_200, 1_610_200)], crs="EPSG:5490")
    with pytest.raises(SourceError) as info:
        check_extent(grid, IRIS, load_sources()["filosofi_200m"], territory)
    message = str(info.value)
    assert "filosofi_200m.gpkg" in message and "territory 'ville'" in message
    assert "sources.filosofi_200m.file" in message and "Fix:" in message
