"""CRS checks shared by point and zone connectors.

A declared CRS is checked against the coordinates: points or layers that fall outside
the CRS's area of use (plus a margin of one degree) mean the CRS is wrong, e.g. lon/lat
values declared as Lambert-93. The check is done in the source CRS's own units, on the
area of use projected once, so it costs a few comparisons per point.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCrsError

from pipelines.errors import SourceError

__all__ = ["parse_crs", "crs_label", "area_bounds", "outside_area", "transformer",
           "CRS_FIX"]

CRS_FIX = ("declare the CRS the coordinates are really in with `crs:` in the source card "
           "(EPSG:4326 for longitude/latitude, EPSG:2154 for Lambert-93, EPSG:5490 for "
           "Martinique and Guadeloupe ...), and check that x and y are not swapped.")
_MARGIN_DEGREES = 1.0


def parse_crs(path, crs, *, what: str = "the declared CRS") -> CRS:
    """Return a pyproj CRS, or raise a SourceError naming the file."""
    try:
        return CRS.from_user_input(crs)
    except (PyprojCrsError, TypeError) as error:
        raise SourceError(path, f"{what} is not a CRS pyproj can read.",
                          fix="write it as `EPSG:<code>`, e.g. EPSG:2154.") from error


def crs_label(crs: CRS) -> str:
    """``EPSG:<code>`` when the CRS has one, else its name."""
    code = crs.to_epsg()
    if code is not None:
        return f"EPSG:{code}"
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.name


@lru_cache(maxsize=64)
def transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


@lru_cache(maxsize=64)
def area_bounds(crs_wkt: str) -> tuple[float, float, float, float] | None:
    """Bounds (xmin, ymin, xmax, ymax) of the CRS's area of use, in the CRS's units."""
    crs = CRS.from_wkt(crs_wkt)
    area = crs.area_of_use
    if area is None:
        return None
    west, south = max(area.west - _MARGIN_DEGREES, -180), max(area.south - _MARGIN_DEGREES, -90)
    east, north = min(area.east + _MARGIN_DEGREES, 180), min(area.north + _MARGIN_DEGREES, 90)
    if crs.is_geographic:
        return west, south, east, north
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return to_crs.transform_bounds(west, south, east, north, densify_pts=41)


def outside_area(x: np.ndarray, y: np.ndarray, crs: CRS) -> np.ndarray:
    """Boolean mask of finite points outside the CRS's area of use (with margin)."""
    bounds = area_bounds(crs.to_wkt())
    if bounds is None:
        return np.zeros(len(x), dtype=bool)
    xmin, ymin, xmax, ymax = bounds
    finite = np.isfinite(x) & np.isfinite(y)
    with np.errstate(invalid="ignore"):
        inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    return finite & ~inside
