"""Assign points to the zones containing them.

Three engines give the same answers: shapely's exact test against the zones whose box
holds each point (``_exact``), a raster index that resolves most points by lookup and
tests only those near a boundary (``zone_index``), and DuckDB's spatial join. The DuckDB
join (``_joins.JOIN_SQL``) is written so that DuckDB plans a ``SPATIAL_JOIN`` (an
R-tree over the zones): a bare ``ST_Intersects`` in an INNER join, with no ``= true``, no
OR and no AND'ed equality, each of which silently falls back to a nested loop or a hash
join plus filter (DESIGN.md, "Known traps"). :func:`explain_points_to_zones` returns the
plan so that tests can assert it.

Points on a boundary shared by several zones go to the zone with the lowest id in
string order: ``ST_Intersects`` and ``shapely.intersects_xy`` match every zone the point
touches and the smallest rank wins. Ranks are computed in Python, so the order is
Python's (code points).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.spatial._checks import SpatialInputError, check_points, check_zones
from pipelines.spatial._exact import ZoneBins, lowest_zone
from pipelines.spatial._joins import JOIN_SQL, best_zone, load_points, load_zones
from pipelines.spatial.crs import check_crs
from pipelines.spatial.engine import connect
from pipelines.spatial.zone_index import index_best_zone

__all__ = ["PointAssignment", "assign_points_to_zones", "explain_points_to_zones"]

log = logging.getLogger(__name__)

_CHECK_ASIDE_FROM = 2_000  # zones


@dataclass(frozen=True)
class PointAssignment:
    """Result of :func:`assign_points_to_zones`.

    Attributes
    ----------
    zone_ids : pandas.Series
        Zone id of each point (``str`` dtype), aligned with the points' index; missing
        for points outside every zone.
    matched : int
        Number of points inside a zone.
    outside : int
        Number of points outside every zone (including points with missing coordinates).
    """

    zone_ids: pd.Series
    matched: int
    outside: int


def _coordinates(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (points["x"].to_numpy(dtype="float64", na_value=np.nan),
            points["y"].to_numpy(dtype="float64", na_value=np.nan))


def _checked(points, zones, zone_id, crs) -> None:
    check_crs(points, crs, layer="points")
    check_crs(zones, crs, layer="zones")
    check_points(points, layer="points")
    check_zones(zones, zone_id, layer="zones")


def _check_zones_aside(pool, zones, zone_id) -> list:
    """Start validating the zones in two halves on ``pool``; see ``_zones_checked``."""
    # Validating 50,000 zones costs about as much as assigning 100,000 points, and
    # shapely releases the GIL: it runs beside the assignment.
    if len(zones) < _CHECK_ASIDE_FROM:
        check_zones(zones, zone_id, layer="zones")
        return []
    halves = (zones.iloc[:len(zones) // 2], zones.iloc[len(zones) // 2:])
    return [pool.submit(check_zones, half, zone_id, layer="zones") for half in halves]


def _zones_checked(pending, zones, zone_id) -> None:
    """Wait for the validation; on a failure, check the whole layer again so that the
    message names the row in the layer, not in its half."""
    if any(future.exception() for future in pending):
        check_zones(zones, zone_id, layer="zones")


def explain_points_to_zones(points: pd.DataFrame, zones: gpd.GeoDataFrame, *, zone_id: str,
                            crs) -> str:
    """Return DuckDB's physical plan for the join of :func:`assign_points_to_zones`.

    Parameters are those of :func:`assign_points_to_zones`.

    Returns
    -------
    str
        The ``EXPLAIN`` text; it must contain ``SPATIAL_JOIN``.
    """
    _checked(points, zones, zone_id, crs)
    with connect() as con:
        load_zones(con, zones, zone_id)
        load_points(con, *_coordinates(points))
        return "\n".join(row[1] for row in con.execute("EXPLAIN " + JOIN_SQL).fetchall())


# Measured in benchmarks/RESULTS.md: below a few million points, testing every point
# exactly against the zones whose box holds it costs less than building the raster.
INDEX_FROM_POINTS = 3_000_000
METHODS = ("auto", "index", "exact", "duckdb")


def _zone_ranks(zones: gpd.GeoDataFrame, zone_id: str):
    """Sorted distinct ids and each row's rank among them (string order, as DuckDB's)."""
    return np.unique(zones[zone_id].astype("str").to_numpy(dtype=object),
                     return_inverse=True)


def _best_zone(points, zones, zone_id, method, threads):
    """Lowest rank per point (``len(codes)`` for none) and the sorted distinct ids."""
    x, y = _coordinates(points)
    if method == "duckdb":
        with connect(threads=threads) as con:
            codes = load_zones(con, zones, zone_id)
            return best_zone(con, x, y, len(codes)), codes
    codes, ranks = _zone_ranks(zones, zone_id)
    geoms = np.asarray(zones.geometry.array)
    if method == "index":
        return index_best_zone(geoms, ranks, x, y, len(codes), threads=threads or 2), codes
    return lowest_zone(ZoneBins.build(geoms, ranks), x, y, len(codes),
                       threads=threads or 2), codes


def _as_str_series(best, codes, index, name) -> pd.Series:
    # Through Arrow: a dictionary take is ~10x faster than building 10 million
    # Python strings and converting them to the "str" dtype.
    missing = best == len(codes)
    values = pa.DictionaryArray.from_arrays(
        pa.array(best, mask=missing), pa.array(codes.tolist(), type=pa.large_string()))
    strings = values.cast(pa.large_string()).to_pandas().array  # the "str" dtype
    return pd.Series(strings, index=index, name=name)


def assign_points_to_zones(points: pd.DataFrame, zones: gpd.GeoDataFrame, *, zone_id: str,
                           crs, method: str = "auto",
                           threads: int | None = None) -> PointAssignment:
    """Give each point the id of the zone that contains it.

    Parameters
    ----------
    points : pandas.DataFrame
        Float columns ``x``, ``y`` in ``crs``, declared in ``points.attrs["crs"]``.
    zones : geopandas.GeoDataFrame
        Valid (Multi)Polygons in ``crs`` with a non-missing id column ``zone_id``.
    zone_id : str
        Name of the zone id column (text codes; other types are converted to text).
    crs : str or pyproj.CRS
        The territory's working CRS; both layers must be in it.
    method : {"auto", "index", "exact", "duckdb"}, default "auto"
        ``"exact"``: every point is tested by shapely against the zones whose bounding
        box holds it (``_exact``). ``"index"``: a raster index over the zones
        (``zone_index``) resolves the points far from any boundary by lookup and tests
        only the others. ``"duckdb"``: DuckDB's spatial join. Same answers;
        ``"auto"`` takes the index from ``INDEX_FROM_POINTS`` points on and the exact
        test below (benchmarks/RESULTS.md).
    threads : int, optional
        Threads (default: 2 for shapely's tests, one per core for DuckDB).

    Returns
    -------
    PointAssignment
        ``zone_ids`` aligned with ``points.index``; a point on a boundary or vertex
        shared by several zones gets the lowest of their ids (string order); a point
        outside every zone, or with a missing coordinate, gets a missing id and is
        counted in ``outside``.

    Raises
    ------
    CrsError
        If either layer has no CRS or not ``crs``.
    SpatialInputError
        If a layer is not shaped as the contract says (see ``_checks``).
    """
    check_crs(points, crs, layer="points")
    check_crs(zones, crs, layer="zones")
    check_points(points, layer="points")
    if method not in METHODS:
        raise SpatialInputError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                                f"not {method!r}.")
    if method == "auto":
        method = "index" if len(points) >= INDEX_FROM_POINTS else "exact"
    with ThreadPoolExecutor(2) as pool:
        pending = _check_zones_aside(pool, zones, zone_id)
        try:
            best, codes = _best_zone(points, zones, zone_id, method, threads)
        finally:  # an invalid layer is reported as such, whatever the engine made of it
            _zones_checked(pending, zones, zone_id)
    matched = int((best < len(codes)).sum())
    zone_ids = _as_str_series(best, codes, points.index, zone_id)
    if matched < len(points):
        log.info("%d of %d points fall outside every zone", len(points) - matched, len(points))
    return PointAssignment(zone_ids=zone_ids, matched=matched, outside=len(points) - matched)
