"""Loud CRS checks: a layer with no CRS, or not the territory's, is an error."""

from __future__ import annotations

import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCrsError

from pipelines.errors import CrsError

__all__ = ["check_crs"]


def _describe(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else crs.name


def check_crs(frame: pd.DataFrame, expected, *, layer: str, role: str = "working CRS") -> CRS:
    """Check that a layer is in the expected CRS.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame or pandas.DataFrame
        A GeoDataFrame (its ``.crs``) or a frame of points whose CRS is declared in
        ``frame.attrs["crs"]``, as the connectors produce.
    expected : str or pyproj.CRS
        The territory's CRS, e.g. ``"EPSG:2154"``.
    layer : str
        Name of the layer, used in the error message.

    Returns
    -------
    pyproj.CRS
        The layer's CRS (equal to ``expected``).

    Raises
    ------
    CrsError
        If the layer declares no CRS, declares one pyproj cannot read, or one that is
        not equal to ``expected`` (pyproj's ``CRS.equals``, so ``"EPSG:2154"`` and the
        equivalent WKT are the same CRS).
    """
    wanted = CRS.from_user_input(expected)
    declared = getattr(frame, "crs", None) if hasattr(frame, "geometry") else None
    if declared is None:
        declared = frame.attrs.get("crs")
    if declared is None:
        raise CrsError(f"layer '{layer}' has no CRS; declare the CRS its coordinates are in with `crs:` in its "
                       f"source card or in the territory's `sources.{layer}.crs` (the territory's {role} is "
                       f"{_describe(wanted)}).")
    try:
        actual = CRS.from_user_input(declared)
    except PyprojCrsError as error:
        raise CrsError(f"layer '{layer}' declares a CRS that pyproj cannot read; fix "
                       f"`crs:` in its source card (e.g. {_describe(wanted)}).") from error
    if not actual.equals(wanted):
        raise CrsError(f"layer '{layer}' is in {_describe(actual)} but the territory's "
                       f"{role} is {_describe(wanted)}; check `crs:` in its source card and the territory's "
                       f"`{role.replace(' CRS', '_crs')}`, or reproject it (GeoDataFrame."
                       "to_crs, or pyproj with always_xy=True for x/y points) in its "
                       "connector or staging step.")
    return actual
