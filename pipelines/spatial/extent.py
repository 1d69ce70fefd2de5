"""Does a layer meet the territory? A file of another territory must not be crossed
silently (a 200 m grid of elsewhere gave 0 inhabitants in every zone, without a word)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

MARGIN_M = 1_000.0  # a layer may stop short of the zones (a GTFS of the core network)


def layer_bounds(frame: pd.DataFrame) -> tuple[tuple[float, float, float, float], str] | None:
    """(xmin, ymin, xmax, ymax) of a GeoDataFrame or an x/y points frame, with its CRS;
    None when it has no located row or no CRS."""
    if "geometry" in frame.columns and getattr(frame, "crs", None) is not None:
        geometry = frame.geometry[~frame.geometry.is_empty & frame.geometry.notna()]
        return (tuple(geometry.total_bounds), frame.crs.to_wkt()) if len(geometry) else None
    if {"x", "y"} <= set(frame.columns) and frame.attrs.get("crs"):
        x, y = frame["x"].to_numpy(dtype="float64"), frame["y"].to_numpy(dtype="float64")
        located = np.isfinite(x) & np.isfinite(y)
        if not located.any():
            return None
        bounds = (x[located].min(), y[located].min(), x[located].max(), y[located].max())
        return bounds, CRS.from_user_input(frame.attrs["crs"]).to_wkt()
    return None


def meets(frame: pd.DataFrame, zones, *, margin: float = MARGIN_M) -> bool | None:
    """Whether the layer's extent meets the zones' extent (grown by `margin`, in the
    zones' CRS units); None when it cannot be told (no coordinates or no CRS)."""
    found = layer_bounds(frame)
    if found is None or zones.crs is None or zones.empty:
        return None
    (xmin, ymin, xmax, ymax), wkt = found
    if not CRS.from_wkt(wkt).equals(zones.crs):
        xmin, ymin, xmax, ymax = Transformer.from_crs(CRS.from_wkt(wkt), zones.crs, always_xy=True).transform_bounds(
            xmin, ymin, xmax, ymax, densify_pts=21)
    zxmin, zymin, zxmax, zymax = zones.total_bounds
    return not (xmax < zxmin - margin or xmin > zxmax + margin or ymax < zymin - margin or ymin > zymax + margin)
