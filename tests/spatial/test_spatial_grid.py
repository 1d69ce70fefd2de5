"""INSEE grid ids: known cells in La Rochelle and Martinique, checked through pyproj."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from pipelines.errors import DatacitesError
from pipelines.spatial.grid import GridIdError, cell_polygons, grid_cell_ids, parse_cell_ids

LA_ROCHELLE = "CRS3035RES200mN2625200E3462200"
MARTINIQUE = "CRS5490RES200mN1592600E728800"


def test_la_rochelle_point_in_lambert93_lands_in_its_cell():
    # The cell centre, moved to Lambert-93 independently, must come back to the cell.
    to_l93 = Transformer.from_crs("EPSG:3035", "EPSG:2154", always_xy=True)
    x, y = to_l93.transform(3462200 + 100, 2625200 + 100)
    assert 370_000 < x < 390_000 and 6_560_000 < y < 6_580_000  # La Rochelle in L93
    ids = grid_cell_ids([x], [y], src_crs="EPSG:2154")
    assert list(ids) == [LA_ROCHELLE]


def test_martinique_uses_its_own_grid_crs_and_lon_lat_order():
    to_wgs84 = Transformer.from_crs("EPSG:5490", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(728800 + 150, 1592600 + 50)
    assert -62 < lon < -60 and 14 < lat < 15  # x is the longitude: always_xy
    ids = grid_cell_ids([lon], [lat], src_crs="EPSG:4326", grid_crs="EPSG:5490")
    assert list(ids) == [MARTINIQUE]


def test_ids_floor_to_the_lower_left_corner():
    x = [3462200.0, 3462399.999, 3462199.999, 999_999.0]
    y = [2625200.0, 2625399.999, 2625200.0, 1_000_000.5]
    ids = grid_cell_ids(x, y, src_crs="EPSG:3035")
    assert list(ids) == [LA_ROCHELLE, LA_ROCHELLE, "CRS3035RES200mN2625200E3462000",
                         "CRS3035RES200mN1000000E999800"]


def test_other_resolution():
    ids = grid_cell_ids([3462250.0], [2625999.0], src_crs="EPSG:3035", resolution=1000)
    assert list(ids) == ["CRS3035RES1000mN2625000E3462000"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 9e6), st.floats(0, 9e6)), min_size=1, max_size=30))
def test_ids_match_python_formatting(coords):
    # Mixed digit counts (e.g. E999800 and E1000000) in one call exercise every group.
    x, y = np.array(coords).T
    expected = [f"CRS3035RES200mN{int(b // 200) * 200}E{int(a // 200) * 200}" for a, b in coords]
    assert list(grid_cell_ids(x, y, src_crs="EPSG:3035")) == expected


def test_missing_coordinate_names_its_position():
    with pytest.raises(GridIdError, match="position 2"):
        grid_cell_ids([1.0, 2.0, np.nan], [1.0, 2.0, 3.0], src_crs="EPSG:3035")


def test_empty_input_gives_empty_ids():
    assert len(grid_cell_ids([], [], src_crs="EPSG:3035")) == 0


def test_parse_cell_ids_keeps_the_index():
    parts = parse_cell_ids(pd.Series([LA_ROCHELLE, MARTINIQUE], index=[10, 20]))
    assert parts.to_dict("index") == {
        10: {"epsg": 3035, "resolution": 200, "north": 2625200, "east": 3462200},
        20: {"epsg": 5490, "resolution": 200, "north": 1592600, "east": 728800}}


@pytest.mark.parametrize("bad", ["CRS3035RES200mN2625400", "crs3035res200mN1E2", None,
                                 " CRS3035RES200mN2625400E3462200"])
def test_parse_cell_ids_names_the_bad_position_not_the_value(bad):
    with pytest.raises(DatacitesError) as caught:
        parse_cell_ids([LA_ROCHELLE, bad])
    assert "position 1" in str(caught.value)
    assert str(bad).strip() not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_parse_cell_ids_rejects_corner_off_the_grid():
    with pytest.raises(GridIdError, match="position 0.*lower-left"):
        parse_cell_ids(["CRS3035RES200mN2625250E3462200"])


def test_cell_polygons_are_the_squares_above_and_right_of_the_corner():
    cells = cell_polygons([MARTINIQUE])
    assert cells.crs.to_epsg() == 5490
    assert tuple(cells.total_bounds) == (728800, 1592600, 729000, 1592800)
    assert cells.area.iloc[0] == 40_000


def test_cell_polygons_contain_the_points_they_came_from():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(3.4e6, 3.5e6, 200), rng.uniform(2.6e6, 2.7e6, 200)
    cells = cell_polygons(grid_cell_ids(x, y, src_crs="EPSG:3035"))
    assert shapely.contains_xy(cells.values, x, y).all()


def test_cell_polygons_refuse_mixed_crs():
    with pytest.raises(GridIdError, match="mix CRSs"):
        cell_polygons([LA_ROCHELLE, MARTINIQUE])
