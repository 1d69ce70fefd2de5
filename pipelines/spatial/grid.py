"""INSEE grid cell ids (``CRS3035RES200mN2625200E3462200``).

An id names a square cell by its CRS, its resolution in metres and the coordinates of
its lower-left corner (north first, then east), all integers. Mainland France uses
EPSG:3035 (LAEA Europe); each overseas département has its own grid CRS (EPSG:5490 in
Martinique and Guadeloupe, ...), which is why the CRS is read from the id rather than
assumed.

Public functions: :func:`grid_cell_ids`, :func:`parse_cell_ids`, :func:`cell_polygons`.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from pipelines.config import GRID_RESOLUTION_M
from pipelines.errors import DatacitesError

__all__ = ["GridIdError", "grid_cell_ids", "parse_cell_ids", "cell_polygons"]

_ID_PATTERN = r"^CRS(?P<epsg>\d+)RES(?P<resolution>\d+)mN(?P<north>\d+)E(?P<east>\d+)$"
_ID_FORM = "CRS<epsg>RES<resolution>mN<north>E<east> (e.g. CRS3035RES200mN2625200E3462200)"


class GridIdError(DatacitesError, ValueError):
    """A grid cell id, or a coordinate to turn into one, is malformed."""


@lru_cache(maxsize=32)
def _transformer(src_crs: str, dst_crs: str) -> Transformer:
    # Building a transformer costs milliseconds; pipelines call this per partition.
    return Transformer.from_crs(src_crs, dst_crs, always_xy=True)


def _epsg_code(crs) -> int:
    code = CRS.from_user_input(crs).to_epsg()
    if code is None:
        raise GridIdError(f"grid CRS {crs!s} has no EPSG code; INSEE grid ids need one "
                          "(EPSG:3035 for mainland France, EPSG:5490 for Martinique ...).")
    return code


def grid_cell_ids(x, y, *, src_crs, grid_crs="EPSG:3035",
                  resolution: int = GRID_RESOLUTION_M) -> np.ndarray:
    """Return the INSEE grid cell id of every point.

    Parameters
    ----------
    x, y : array-like of float
        Coordinates in ``src_crs`` (easting, northing: axis order is always x then y).
    src_crs : str or pyproj.CRS
        CRS of ``x`` and ``y``, e.g. ``"EPSG:2154"``.
    grid_crs : str or pyproj.CRS, default ``"EPSG:3035"``
        CRS of the grid; its EPSG code is written into the ids.
    resolution : int, default 200
        Cell side in metres.

    Returns
    -------
    numpy.ndarray of str (``numpy.dtypes.StringDType``)
        ``CRS{epsg}RES{resolution}mN{north}E{east}``, where north and east are the
        coordinates of the cell's lower-left corner (floor to the resolution). To make
        a pandas ``str`` column of millions of ids, pass ``ids.astype(object)``: pandas
        converts an object array five times faster than a StringDType one.

    Raises
    ------
    GridIdError
        If a coordinate is missing, not finite or south/west of the grid's origin (the
        message gives its position), or if ``grid_crs`` has no EPSG code.
    """
    xs = np.asarray(x, dtype="float64")
    ys = np.asarray(y, dtype="float64")
    epsg = _epsg_code(grid_crs)
    if not CRS.from_user_input(src_crs).equals(CRS.from_user_input(grid_crs)):
        xs, ys = _transformer(str(src_crs), str(grid_crs)).transform(xs, ys)
    finite = np.isfinite(xs) & np.isfinite(ys)
    if not finite.all():
        position = int(np.flatnonzero(~finite)[0])
        raise GridIdError(f"point at position {position} has a missing or non-finite "
                          f"coordinate (after reprojection to EPSG:{epsg}); drop or "
                          "geocode such points before assigning grid cells.")
    north = (np.floor(ys / resolution) * resolution).astype("int64")
    east = (np.floor(xs / resolution) * resolution).astype("int64")
    if len(north) and min(north.min(), east.min()) < 0:
        position = int(np.flatnonzero((north < 0) | (east < 0))[0])
        raise GridIdError(f"point at position {position} falls west or south of the origin "
                          f"of EPSG:{epsg}, where INSEE grid ids are not defined; check that "
                          "src_crs is the CRS the coordinates are really in.")
    return _format_ids(f"CRS{epsg}RES{int(resolution)}mN", north, east)


# Every 4-digit string, as bytes: formatting ids by table lookup is ~20x faster than
# Python's str() and ~10x faster than numpy's astype(str) at 10 million points.
_DIGITS4 = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode("ascii"),
                         dtype=np.uint8).reshape(10_000, 4)


def _digit_count(values: np.ndarray) -> np.ndarray:
    count = np.ones(values.shape, dtype=np.int8)
    power = 10
    while len(values) and values.max() >= power:
        count += values >= power
        power *= 10
    return count


def _write_digits(buf: np.ndarray, end: int, width: int, values: np.ndarray) -> None:
    # Fill buf[:, end - width:end] with the decimal digits of values, 4 at a time.
    rest = values.astype("uint64")
    while width > 0:
        size = min(4, width)
        table = np.ascontiguousarray(_DIGITS4[:, 4 - size:])
        buf[:, end - size:end] = np.take(table, rest % 10_000, axis=0)
        rest //= 10_000
        end -= size
        width -= size


def _format_ids(prefix: str, north: np.ndarray, east: np.ndarray) -> np.ndarray:
    # Rows are grouped by the number of digits of (north, east) so that each group is a
    # fixed-width byte matrix; in practice a territory is a single group.
    n_digits, e_digits = _digit_count(north), _digit_count(east)
    groups = {(int(a), int(b)) for a in np.unique(n_digits)
              for b in np.unique(e_digits[n_digits == a])}
    if len(groups) == 1:
        # Writing into a StringDType array through a mask costs more than the rest.
        (width_n, width_e), = groups
        return _format_group(prefix, width_n, width_e, north, east)
    out = np.empty(len(north), dtype=np.dtypes.StringDType())
    for width_n, width_e in groups:
        rows = (n_digits == width_n) & (e_digits == width_e)
        out[rows] = _format_group(prefix, width_n, width_e, north[rows], east[rows])
    return out


def _format_group(prefix: str, width_n: int, width_e: int, north: np.ndarray,
                  east: np.ndarray) -> np.ndarray:
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    length = len(head) + width_n + 1 + width_e
    buf = np.empty((len(north), length), dtype=np.uint8)
    buf[:, :len(head)] = head
    _write_digits(buf, len(head) + width_n, width_n, north)
    buf[:, len(head) + width_n] = ord("E")
    _write_digits(buf, length, width_e, east)
    return buf.view(f"S{length}").ravel().astype(np.dtypes.StringDType())


def parse_cell_ids(ids) -> pd.DataFrame:
    """Split INSEE grid cell ids into their parts.

    Parameters
    ----------
    ids : array-like of str
        Ids such as ``CRS3035RES200mN2625200E3462200``.

    Returns
    -------
    pandas.DataFrame
        Columns ``epsg``, ``resolution``, ``north``, ``east`` (int64), one row per id,
        with the index of ``ids`` when it is a Series.

    Raises
    ------
    GridIdError
        Naming the position (0-based row) of the first malformed id, or of the first id
        whose corner is not a multiple of its resolution. The value itself is not echoed.
    """
    series = ids if isinstance(ids, pd.Series) else pd.Series(np.asarray(ids, dtype=object))
    text = series.astype("str").where(series.notna())
    parts = text.str.extract(_ID_PATTERN)
    bad = parts.isna().any(axis=1).to_numpy()
    if bad.any():
        raise GridIdError(f"grid cell id at position {int(np.flatnonzero(bad)[0])} is not "
                          f"of the form {_ID_FORM}.")
    parts = parts.astype("int64")
    off_grid = ((parts["north"] % parts["resolution"] != 0)
                | (parts["east"] % parts["resolution"] != 0)).to_numpy()
    if off_grid.any():
        raise GridIdError(f"grid cell id at position {int(np.flatnonzero(off_grid)[0])} has a "
                          "corner that is not a multiple of its resolution; INSEE ids name "
                          "the lower-left corner of the cell.")
    return parts


def cell_polygons(ids) -> gpd.GeoSeries:
    """Return the square polygon of every INSEE grid cell id.

    Parameters
    ----------
    ids : array-like of str
        Grid cell ids, all in the same CRS.

    Returns
    -------
    geopandas.GeoSeries
        Squares ``[east, east + res] x [north, north + res]`` in the ids' CRS, with the
        index of ``ids`` when it is a Series.

    Raises
    ------
    GridIdError
        If an id is malformed, or the ids name more than one CRS.
    """
    parts = parse_cell_ids(ids)
    codes = parts["epsg"].unique()
    if len(codes) > 1:
        raise GridIdError(f"grid cell ids mix CRSs (EPSG {sorted(int(c) for c in codes)}); "
                          "split them by territory before building cell polygons.")
    crs = f"EPSG:{int(codes[0])}" if len(codes) else None
    east = parts["east"].to_numpy(dtype="float64")
    north = parts["north"].to_numpy(dtype="float64")
    size = parts["resolution"].to_numpy(dtype="float64")
    squares = shapely.box(east, north, east + size, north + size)
    return gpd.GeoSeries(squares, index=parts.index, crs=crs)
