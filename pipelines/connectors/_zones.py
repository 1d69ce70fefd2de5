"""Shared reading of zone layers: columns by alias, codes as text, valid polygons."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.connectors._columns import resolve_columns
from pipelines.connectors._crs import parse_crs
from pipelines.connectors._geo import check_layer_crs, check_polygons, read_layer
from pipelines.connectors._values import FrameLocator, parse_code
from pipelines.errors import SourceError

__all__ = ["ZoneLayer", "open_zone_layer", "finish_zones", "check_unique"]


class ZoneLayer:
    """A layer as published, with its columns mapped to output names."""

    def __init__(self, path: Path, frame: gpd.GeoDataFrame, columns: dict[str, str]):
        self.path = path
        self.frame = frame
        self.columns = columns
        self.locator = FrameLocator(path)

    def has(self, output: str) -> bool:
        return output in self.columns

    def values(self, output: str) -> pd.Series:
        return self.frame[self.columns[output]].reset_index(drop=True)

    def code(self, output: str, kind: str, *, pad: bool) -> pd.Series:
        return parse_code(self.locator, self.columns[output], self.values(output), kind=kind,
                          pad=pad)

    def text(self, output: str) -> pd.Series:
        if not self.has(output):
            return pd.Series(pd.NA, index=range(len(self.frame)), dtype="str")
        return self.values(output).astype("str").str.strip()


def open_zone_layer(path, aliases: dict[str, tuple[str, ...]], *, required: tuple[str, ...],
                    layer: str | None, preferred: tuple[str, ...], encoding: str | None,
                    source_columns: dict[str, str] | None) -> ZoneLayer:
    """Read a layer and map its columns; see :func:`_columns.resolve_columns`."""
    path = Path(path)
    frame = read_layer(path, layer=layer, preferred=preferred, encoding=encoding)
    header = [c for c in frame.columns if c != frame.geometry.name]
    columns = resolve_columns(path, header, aliases, required=required,
                              overrides=source_columns, row=None)
    return ZoneLayer(path, frame.reset_index(drop=True), columns)


def check_unique(layer: ZoneLayer, codes: pd.Series, column: str) -> None:
    """Zone codes are keys: a duplicate would count a zone twice."""
    duplicated = codes.duplicated().to_numpy()
    if duplicated.any():
        index = int(np.flatnonzero(duplicated)[0])
        raise layer.locator.error("this code appears on two features.", index=index,
                                  column=layer.columns.get(column, column),
                                  fix="dissolve the features that share the code, or remove "
                                      "the duplicate.")


def finish_zones(layer: ZoneLayer, columns: dict[str, pd.Series], *, id_column: str, crs,
                 working_crs, invalid_geometry: str) -> gpd.GeoDataFrame:
    """Attach geometries, check CRS and polygons, reproject to the working CRS."""
    zones = gpd.GeoDataFrame(columns, geometry=layer.frame.geometry.array,
                             crs=layer.frame.crs)
    zones = check_layer_crs(layer.path, zones, crs)
    zones = check_polygons(layer.path, zones, id_column=id_column,
                           invalid_geometry=invalid_geometry)
    repaired = zones.attrs.get("repaired_geometries", 0)
    target = parse_crs(layer.path, working_crs, what="the working CRS")
    zones = zones.to_crs(target)
    zones.attrs.update(layer=layer.frame.attrs.get("layer"), repaired_geometries=repaired)
    return zones


def require_consistent(layer: ZoneLayer, child: pd.Series, parent: pd.Series, column: str) -> None:
    """An IRIS code starts with its commune code."""
    mismatch = (child.str.slice(0, 5) != parent).to_numpy()
    if mismatch.any():
        raise SourceError(layer.path, "the IRIS code does not start with the commune code of "
                          "the same feature.", row=int(np.flatnonzero(mismatch)[0]) + 1,
                          column=layer.columns.get(column, column),
                          fix="check the layer's columns (`source_columns:`).")
