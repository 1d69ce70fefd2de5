"""The raster index path gives exactly the answers of the plain DuckDB join."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.spatial import _joins, zone_index
from pipelines.spatial.engine import connect
from pipelines.spatial.points_to_zones import assign_points_to_zones

X0, Y0 = 700_000.0, 6_600_000.0
CRS = "EPSG:2154"


def voronoi_zones(seeds) -> gpd.GeoDataFrame:
    """Irregular zones: a Voronoi tiling with a hole in the first cell and the second
    and last cells sharing one id (a MultiPolygon-like zone split over two rows)."""
    rect = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints([(X0 + a, Y0 + b) for a, b in seeds]), extend_to=rect))
    cells = shapely.intersection(cells, rect)
    cells = cells[shapely.get_type_id(cells) == 3]
    hole = shapely.buffer(shapely.centroid(cells[0]), 3.0, quad_segs=2)
    if hole.within(cells[0]):
        cells[0] = cells[0].difference(hole)
    codes = [f"Z{i}" for i in range(len(cells))]
    if len(codes) > 2:
        codes[-1] = codes[1]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=CRS)


def probe_points(zones, free_xy) -> pd.DataFrame:
    # Every vertex and edge midpoint (on or within rounding of a boundary), plus free points.
    coords = shapely.get_coordinates(zones.geometry.boundary.values)
    midpoints = (coords[:-1] + coords[1:]) / 2
    free = np.asarray(free_xy, dtype="float64").reshape(-1, 2) + (X0, Y0)
    xy = np.concatenate([coords, midpoints, free])
    frame = pd.DataFrame(xy, columns=["x", "y"])
    frame.attrs["crs"] = CRS
    return frame


lattice = st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda t: (25 * t[0], 25 * t[1]))
free = st.floats(-30, 1030, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(st.sets(lattice, min_size=3, max_size=25),
       st.lists(st.tuples(free, free), max_size=60),
       st.sampled_from([None, 7.0, 25.0, 100.0]))
def test_index_agrees_with_plain_join(seeds, free_xy, cell_size):
    zones = voronoi_zones(sorted(seeds))
    frame = probe_points(zones, free_xy)
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    with connect() as con:
        n_zones = len(_joins.load_zones(con, zones, "code"))
        plain = _joins.best_zone(con, x, y, n_zones)
        indexed = zone_index.index_best_zone(con, np.asarray(zones.geometry.array), x, y,
                                             n_zones, cell_size=cell_size)
    np.testing.assert_array_equal(indexed, plain)


def test_public_function_agrees_and_resolves_most_points_by_lookup(monkeypatch):
    rng = np.random.default_rng(3)
    zones = voronoi_zones(rng.uniform(0, 1000, (40, 2)).round(1))
    frame = probe_points(zones, rng.uniform(-50, 1050, (20_000, 2)))
    sent = []
    real_best_zone = zone_index.best_zone

    def recording_best_zone(con, x, y, n_zones):
        sent.append(len(x))
        return real_best_zone(con, x, y, n_zones)

    monkeypatch.setattr(zone_index, "best_zone", recording_best_zone)
    kwargs = {"zone_id": "code", "crs": CRS}
    indexed = assign_points_to_zones(frame, zones, method="index", **kwargs)
    plain = assign_points_to_zones(frame, zones, method="duckdb", **kwargs)
    pd.testing.assert_series_equal(indexed.zone_ids, plain.zone_ids)
    assert (indexed.matched, indexed.outside) == (plain.matched, plain.outside)
    assert plain.outside > 0  # the frame really has points off the zoning
    assert sum(sent) < 0.35 * len(frame)  # the rest were resolved by the raster
