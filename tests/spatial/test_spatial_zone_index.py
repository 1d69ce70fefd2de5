"""The raster index and the exact test give exactly the answers of a brute-force check.

The reference is independent of both engines: every point against every zone with
``shapely.intersects_xy`` (boundary included), keeping the lowest rank. Zones include
the awkward cases: a hole, an island zone inside it, a zone overlapping others, a
multi-part zone, two rows sharing one id; points sit on vertices, on edge midpoints, on
a lattice that hits edges and corners, and anywhere.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.spatial import _exact, _joins, zone_index
from pipelines.spatial.engine import connect
from pipelines.spatial.points_to_zones import assign_points_to_zones

X0, Y0 = 700_000.0, 6_600_000.0
CRS = "EPSG:2154"


def voronoi_zones(seeds) -> gpd.GeoDataFrame:
    """Irregular zones: a Voronoi tiling with a hole in the first cell holding an island
    zone, a disc overlapping several cells, a two-part zone, and the second and last
    cells sharing one id."""
    rect = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints([(X0 + a, Y0 + b) for a, b in seeds]), extend_to=rect))
    cells = shapely.intersection(cells, rect)
    cells = list(cells[shapely.get_type_id(cells) == 3])
    codes = [f"Z{i}" for i in range(len(cells))]
    hole = shapely.buffer(shapely.centroid(cells[0]), 3.0, quad_segs=2)
    if hole.within(cells[0]):
        cells[0] = cells[0].difference(hole)
        cells.append(shapely.buffer(shapely.centroid(hole), 1.5, quad_segs=2))  # island
        codes.append("I")
    cells.append(shapely.buffer(shapely.Point(X0 + 500, Y0 + 500), 180, quad_segs=3))
    codes.append("O")  # overlaps its neighbours: "O" < "Z..." wins inside it
    cells.append(shapely.MultiPolygon([shapely.box(X0 - 40, Y0 - 40, X0 - 10, Y0 - 10),
                                       shapely.box(X0 + 1010, Y0 + 1010, X0 + 1040,
                                                   Y0 + 1040)]))
    codes.append("M")
    if len(codes) > 4:
        codes[-4] = codes[1]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=CRS)


def probe_points(zones, free_xy) -> pd.DataFrame:
    # Every vertex and edge midpoint (on or within rounding of a boundary), plus free points.
    coords = shapely.get_coordinates(zones.geometry.boundary.values)
    midpoints = (coords[:-1] + coords[1:]) / 2
    free = np.asarray(free_xy, dtype="float64").reshape(-1, 2) + (X0, Y0)
    xy = np.concatenate([coords, midpoints, free, [[np.nan, Y0 + 5]]])
    frame = pd.DataFrame(xy, columns=["x", "y"])
    frame.attrs["crs"] = CRS
    return frame


def ranked(zones):
    codes, ranks = np.unique(zones["code"].to_numpy(dtype=object), return_inverse=True)
    return np.asarray(zones.geometry.array), ranks, len(codes)


def brute_force(geoms, ranks, n_zones, x, y) -> np.ndarray:
    """Every point against every zone; the lowest rank among the zones it touches."""
    hits = shapely.intersects_xy(geoms[:, None], x[None, :], y[None, :])
    return np.where(hits, ranks[:, None], n_zones).min(axis=0, initial=n_zones)


lattice = st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda t: (25 * t[0], 25 * t[1]))
free = st.one_of(st.floats(-60, 1060, allow_nan=False),
                 st.integers(-4, 84).map(lambda k: k * 12.5))


@settings(max_examples=40, deadline=None)
@given(st.sets(lattice, min_size=3, max_size=25),
       st.lists(st.tuples(free, free), max_size=80),
       st.sampled_from([None, 3.0, 7.0, 25.0, 100.0, 400.0]))
def test_index_and_exact_agree_with_brute_force(seeds, free_xy, cell_size):
    zones = voronoi_zones(sorted(seeds))
    frame = probe_points(zones, free_xy)
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    geoms, ranks, n_zones = ranked(zones)
    expected = brute_force(geoms, ranks, n_zones, x, y)
    indexed = zone_index.index_best_zone(geoms, ranks, x, y, n_zones, cell_size=cell_size)
    exact = _exact.lowest_zone(_exact.ZoneBins.build(geoms, ranks), x, y, n_zones)
    np.testing.assert_array_equal(indexed, expected)
    np.testing.assert_array_equal(exact, expected)
    assert not shapely.is_prepared(geoms).any()  # the caller's zones are left as they came


@settings(max_examples=10, deadline=None)
@given(st.sets(lattice, min_size=3, max_size=25), st.lists(st.tuples(free, free),
                                                           max_size=40))
def test_index_agrees_with_duckdb_join(seeds, free_xy):
    zones = voronoi_zones(sorted(seeds))
    frame = probe_points(zones, free_xy)
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    geoms, ranks, n_zones = ranked(zones)
    with connect() as con:
        _joins.load_zones(con, zones, "code")
        plain = _joins.best_zone(con, x, y, n_zones)
    np.testing.assert_array_equal(
        zone_index.index_best_zone(geoms, ranks, x, y, n_zones), plain)


def test_public_function_agrees_and_resolves_most_points_by_lookup(monkeypatch):
    rng = np.random.default_rng(3)
    zones = voronoi_zones(rng.uniform(0, 1000, (40, 2)).round(1))
    frame = probe_points(zones, rng.uniform(-50, 1050, (20_000, 2)))
    tested = []
    real_lowest_zone = zone_index.lowest_zone

    def recording_lowest_zone(bins, x, y, n_zones, **kwargs):
        tested.append(len(x))
        return real_lowest_zone(bins, x, y, n_zones, **kwargs)

    monkeypatch.setattr(zone_index, "lowest_zone", recording_lowest_zone)
    kwargs = {"zone_id": "code", "crs": CRS}
    results = {method: assign_points_to_zones(frame, zones, method=method, **kwargs)
               for method in ("index", "exact", "duckdb")}
    for method in ("exact", "duckdb"):
        pd.testing.assert_series_equal(results["index"].zone_ids, results[method].zone_ids)
        assert results["index"].matched == results[method].matched
    assert results["index"].outside > 0  # the frame really has points off the zoning
    assert sum(tested) < 0.35 * len(frame)  # the rest were resolved by the raster


def test_long_edges_are_marked_in_every_cell_they_cross():
    # One 1 km square against 10 m cells: each edge crosses 100 cells; a point just
    # inside and just outside the middle of each edge must be told apart.
    zones = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + 1000,
                                                                    Y0 + 1000)], crs=CRS)
    offsets = np.array([-1e-6, 1e-6, 0.0])
    x = np.concatenate([X0 + 500 + 0 * offsets, X0 + offsets, X0 + 1000 + offsets])
    y = np.concatenate([Y0 + 1000 + offsets, Y0 + 500 + 0 * offsets, Y0 + 500 + 0 * offsets])
    geoms, ranks, n_zones = ranked(zones)
    got = zone_index.index_best_zone(geoms, ranks, x, y, n_zones, cell_size=10.0)
    np.testing.assert_array_equal(got, [0, 1, 0, 1, 0, 0, 0, 1, 0])
