"""Shared reading of zone layers and zone tables: columns by alias, codes as text, valid
polygons, and the rule for Paris, Lyon and Marseille.

**Paris, Lyon and Marseille (PLM)** are communes divided into *arrondissements
municipaux* that have INSEE codes of their own (:data:`PLM_ARRONDISSEMENTS`). INSEE
tables per commune (Filosofi, COG) list both levels: the commune 69123 *and* 69381 to
69389, so summing their rows counts Lyon twice; IRIS codes start with the arrondissement
(69388...), while other producers (Enedis, the COG 2018 contours) use the commune. A
connector reading commune codes takes the option ``arrondissements`` (see
:func:`arrondissements_rule`):

- not set (default): a file holding a PLM commune *and* any of its arrondissements is
  refused, asking to choose; a file holding only one of the two levels is read as is;
- ``drop``: keep the communes (75056, 69123, 13055), remove their arrondissements;
- ``only``: keep the arrondissements, remove the communes;
- ``keep``: keep both levels (for look-ups; such a table must never be summed).

``drop`` and ``only`` refuse a file in which the level they keep is missing for a city
whose other level is there: they would otherwise remove the city without a trace.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.connectors._columns import resolve_columns
from pipelines.connectors._crs import parse_crs
from pipelines.connectors._geo import check_layer_crs, check_polygons, check_target_area, read_layer
from pipelines.connectors._values import FrameLocator, parse_code
from pipelines.errors import SourceError

__all__ = ["ZoneLayer", "open_zone_layer", "finish_zones", "check_unique", "require_consistent",
           "PLM_ARRONDISSEMENTS", "PLM_NAMES", "ARRONDISSEMENTS_CHOICES", "arrondissements_rule", "keep_rows"]

#: The communes with arrondissements municipaux and their arrondissements' INSEE codes,
#: as the Code officiel géographique lists them (checked against COG 2026 in the tests):
#: Paris 75056 -> 75101 to 75120, Lyon 69123 -> 69381 to 69389, Marseille 13055 -> 13201
#: to 13216. (Paris's "Paris Centre" groups 1 to 4 for elections only; the four codes stay.)
PLM_ARRONDISSEMENTS: dict[str, tuple[str, ...]] = {
    "75056": tuple(f"751{n:02d}" for n in range(1, 21)),
    "69123": tuple(f"6938{n}" for n in range(1, 10)),
    "13055": tuple(f"132{n:02d}" for n in range(1, 17)),
}
PLM_NAMES = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}
ARRONDISSEMENTS_CHOICES = ("drop", "only", "keep")
_CHOOSE = ("declare in the source card's options `arrondissements: drop` (keep the communes "
           "75056, 69123, 13055 and remove their arrondissements), `arrondissements: only` "
           "(keep the arrondissements, remove the communes) or `arrondissements: keep` (keep "
           "both levels; never sum such a table).")


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
    """Attach geometries, check CRS and polygons, reproject to the working CRS.

    A layer whose features lie outside the working CRS's area of use is refused rather
    than reprojected (see :func:`pipelines.connectors._geo.check_target_area`).
    """
    zones = gpd.GeoDataFrame(columns, geometry=layer.frame.geometry.array,
                             crs=layer.frame.crs)
    zones = check_layer_crs(layer.path, zones, crs)
    zones = check_polygons(layer.path, zones, id_column=id_column,
                           invalid_geometry=invalid_geometry)
    repaired = zones.attrs.get("repaired_geometries", 0)
    target = parse_crs(layer.path, working_crs, what="the working CRS")
    check_target_area(layer.path, zones, target)
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


def arrondissements_rule(locator, codes: pd.Series, rule: str | None, *, column: str
                         ) -> np.ndarray:
    """Apply the Paris/Lyon/Marseille rule (module docstring) to commune codes.

    Parameters
    ----------
    locator : Locator
        Names the file and rows in errors (a CSV table or a layer's locator).
    codes : pandas.Series
        Commune codes as text, one per row, already checked.
    rule : {None, "drop", "only", "keep"}
        The ``arrondissements`` option.
    column : str
        Published name of the code column, for errors.

    Returns
    -------
    numpy.ndarray of bool
        The rows to keep.

    Raises
    ------
    SourceError
        If ``rule`` is unknown; if it is not set and a PLM commune and its
        arrondissements are both present; if ``drop`` or ``only`` would remove a city
        whose kept level is missing.
    """
    if rule is not None and rule not in ARRONDISSEMENTS_CHOICES:
        raise locator.error(f"`arrondissements: {rule}` is not an option.", column=column,
                            fix="declare `arrondissements: drop`, `only` or `keep`, or remove it.")
    values = codes.to_numpy(dtype=object)
    keep = np.ones(len(values), dtype=bool)
    for commune, children in PLM_ARRONDISSEMENTS.items():
        is_commune, is_child = values == commune, np.isin(values, children)
        if rule == "keep" or not (is_commune.any() or is_child.any()):
            continue
        city = f"{PLM_NAMES[commune]} ({commune}, arrondissements {children[0]} to {children[-1]})"
        if rule is None:
            if is_commune.any() and is_child.any():
                raise locator.error(f"{city} is here both as the commune and as its "
                                    "arrondissements: summing the rows would count it twice.",
                                    index=int(np.flatnonzero(is_child)[0]), column=column,
                                    fix=_CHOOSE)
            continue
        kept, removed = (is_commune, is_child) if rule == "drop" else (is_child, is_commune)
        if removed.any() and not kept.any():
            level = "the commune" if rule == "drop" else "any of its arrondissements"
            raise locator.error(f"{city}: `arrondissements: {rule}` would remove the city, since "
                                f"the file has no row for {level}.",
                                index=int(np.flatnonzero(removed)[0]), column=column,
                                fix="choose the other `arrondissements:` option, or use a "
                                    "file with both levels.")
        keep &= ~removed
    return keep


def keep_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows :func:`arrondissements_rule` kept, attrs preserved, with the count dropped."""
    dropped = int((~keep).sum())
    if dropped:
        kept = frame[keep].reset_index(drop=True)
        kept.attrs.update(frame.attrs)
        frame = kept
    frame.attrs["arrondissement_rows_dropped"] = dropped
    return frame
