"""Input checks shared by the crossing operations (private to the package).

Messages name the layer, the row position and the column, never the value: a zoning
may come from a private source.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines.errors import DatacitesError

_AREAL = ("Polygon", "MultiPolygon")


class SpatialInputError(DatacitesError, ValueError):
    """A layer given to a crossing operation is not shaped as the contract says."""


def _first(mask) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def check_points(points: pd.DataFrame, *, layer: str) -> None:
    """Require float ``x`` and ``y`` columns (architecture.md, "Points")."""
    for column in ("x", "y"):
        if column not in points.columns:
            raise SpatialInputError(f"layer '{layer}' has no column '{column}'; points are "
                                    "frames with float x/y columns in the working CRS.")
        if not pd.api.types.is_numeric_dtype(points[column]):
            raise SpatialInputError(f"layer '{layer}', column '{column}' is not numeric; "
                                    "convert the coordinates to float in the connector.")


def check_zones(zones: gpd.GeoDataFrame, id_column: str | None, *, layer: str) -> None:
    """Require a GeoDataFrame of valid (Multi)Polygons and, if named, a complete id column."""
    if not isinstance(zones, gpd.GeoDataFrame):
        raise SpatialInputError(f"layer '{layer}' must be a GeoDataFrame of polygons.")
    if id_column is not None and id_column not in zones.columns:
        raise SpatialInputError(f"layer '{layer}' has no column '{id_column}'; pass the "
                                "name of its zone id column.")
    if id_column is not None and zones[id_column].isna().any():
        raise SpatialInputError(f"layer '{layer}', row {_first(zones[id_column].isna())}, "
                                f"column '{id_column}': missing zone id.")
    geoms = zones.geometry.array
    kinds = shapely.get_type_id(np.asarray(geoms))
    areal = np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    if not areal.all():
        raise SpatialInputError(f"layer '{layer}', row {_first(~areal)}: geometry is missing "
                                f"or not one of {_AREAL}.")
    valid = shapely.is_valid(np.asarray(geoms))
    if not valid.all():
        raise SpatialInputError(f"layer '{layer}', row {_first(~valid)}: invalid polygon; "
                                "repair it (shapely.make_valid) when staging the layer.")
