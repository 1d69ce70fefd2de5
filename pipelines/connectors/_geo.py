"""Reading zone layers (GeoPackage, shapefile, GeoJSON) with loud checks.

Decisions:

- **CRS.** A layer without a CRS needs ``crs:`` in the card; a layer whose CRS differs
  from the declared one is an error; a layer whose coordinates fall outside its CRS's
  area of use is an error (e.g. lon/lat written into a file labelled Lambert-93).
- **Reprojection.** A layer is reprojected to the territory's working CRS only when its
  features lie in that CRS's area of use (:func:`check_target_area`): Martinique
  communes projected to Lambert-93 come out 32 % too large, which no later check sees.
  Each overseas territory declares its own working CRS instead.
- **Invalid polygons** (self-intersections, bow ties ...) are repaired by default with
  ``shapely.make_valid`` keeping the polygonal parts: IGN and INSEE layers carry a few,
  and a pipeline that stops on each would be useless. The number repaired is in
  ``frame.attrs["repaired_geometries"]`` and a warning names the first features. A card
  may declare ``invalid_geometry: error`` to stop instead. A missing or empty geometry,
  a non-polygon, or a repair that leaves no area is always an error naming the feature.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from pipelines.connectors._crs import CRS_FIX, crs_label, outside_area, parse_crs, transformer
from pipelines.connectors._sensitive import library_cause
from pipelines.errors import SourceError

__all__ = ["read_layer", "check_layer_crs", "check_target_area", "check_polygons",
           "INVALID_GEOMETRY_CHOICES", "WORKING_CRS_FIX"]

INVALID_GEOMETRY_CHOICES = ("repair", "error")
_POLYGONAL = {"Polygon", "MultiPolygon"}


def _pick_layer(path: Path, layer: str | None, preferred: tuple[str, ...]) -> str | None:
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as error:  # pyogrio raises several GDAL error types
        raise SourceError(path, "the file cannot be opened as a GIS layer (GeoPackage, "
                          "shapefile, GeoJSON).", fix="check the file and its extension; "
                          "download it again if it is truncated.") from library_cause(error)
    if layer is not None:
        if layer not in names:
            raise SourceError(path, f"layer '{layer}' is not in the file.",
                              fix=f"declare one of its layers with `layer:`: {', '.join(names)}.")
        return layer
    if len(names) == 1:
        return names[0]
    match = next((name for want in preferred for name in names if name.lower() == want), None)
    if match is None:
        raise SourceError(path, "the file has several layers and none has the expected name.",
                          fix=f"declare the layer with `layer:`: {', '.join(names)}.")
    return match


def read_layer(path: str | Path, *, layer: str | None = None, preferred: tuple[str, ...] = (),
               encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a GIS file as published.

    Parameters
    ----------
    path : str or Path
        GeoPackage, shapefile, GeoJSON or any format GDAL reads.
    layer : str, optional
        Layer name; otherwise the only layer, or the first of ``preferred`` present.
    preferred : tuple of str
        Lower-case layer names to look for (``("commune",)`` for ADMIN EXPRESS).
    encoding : str, optional
        Attribute encoding for shapefiles without a ``.cpg``.

    Raises
    ------
    SourceError
        If the file is missing, unreadable or empty, or the layer is ambiguous.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(path, "the file does not exist.",
                          fix="check `file:` in the source card and the territory's data folder.")
    name = _pick_layer(path, layer, preferred)
    kwargs = {"encoding": encoding} if encoding else {}
    try:
        frame = gpd.read_file(path, layer=name, engine="pyogrio", **kwargs)
    except Exception:  # GDAL errors may quote attribute values
        raise SourceError(path, f"layer '{name}' cannot be read (GDAL's message is withheld).",
                          fix="check the file with ogrinfo, or declare `encoding:` for a "
                              "shapefile.") from None
    if frame.empty:
        raise SourceError(path, f"layer '{name}' is empty.",
                          fix="download the file again, or check the extraction filter.")
    frame.attrs["layer"] = name
    return frame


def check_layer_crs(path, frame: gpd.GeoDataFrame, declared=None) -> gpd.GeoDataFrame:
    """Set or check the layer's CRS against the card's ``crs:`` and the coordinates.

    Raises
    ------
    SourceError
        If the layer has no CRS and none is declared, if both exist and differ, or if
        the coordinates fall outside the CRS's area of use.
    """
    wanted = None if declared is None else parse_crs(path, declared)
    if frame.crs is None:
        if wanted is None:
            raise SourceError(path, "the layer has no CRS.", column="geometry", fix=CRS_FIX)
        frame = frame.set_crs(wanted)
    elif wanted is not None and not frame.crs.equals(wanted, ignore_axis_order=True):
        raise SourceError(path, f"the layer is in {crs_label(frame.crs)} but the source card "
                          f"declares {crs_label(wanted)}.", column="geometry",
                          fix="remove `crs:` from the card, or reproject the file.")
    outside = outside_area(*_centres(frame), frame.crs)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        wrong_crs = outside.sum() * 2 > len(frame)
        problem = ("the layer's CRS is wrong." if wrong_crs
                   else "this feature lies far away from the others.")
        raise SourceError(path, f"coordinates fall outside the area where "
                          f"{crs_label(frame.crs)} is used: {problem}", row=index + 1,
                          column="geometry", fix=CRS_FIX if wrong_crs else
                          "correct or remove the feature in a GIS.")
    return frame


WORKING_CRS_FIX = ("set the territory's `working_crs` to the CRS of the area the layer covers "
                   "(EPSG:2154 for mainland France and Corsica, EPSG:5490 for Martinique and "
                   "Guadeloupe, EPSG:2972 for Guyane, EPSG:2975 for La Réunion, EPSG:4471 for "
                   "Mayotte), or use a layer of the territory's own area.")


def _centres(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    bounds = frame.geometry.bounds.to_numpy()
    return (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2


def check_target_area(path, frame: gpd.GeoDataFrame, target: CRS) -> None:
    """Refuse to reproject features that lie outside the target CRS's area of use.

    The centre of each feature's bounds is projected to the target CRS and compared
    with the target's area of use (one degree of margin, see
    :func:`pipelines.connectors._crs.outside_area`); a point the projection cannot
    reach counts as outside.

    Raises
    ------
    SourceError
        Naming the file, the first feature outside, the layer's CRS, the target CRS and
        the fix (a working CRS made for the layer's area).
    """
    if frame.crs is None or frame.crs.equals(target, ignore_axis_order=True) or frame.empty:
        return  # a layer in the target CRS was checked against its own area already
    x, y = _centres(frame)
    known = np.isfinite(x) & np.isfinite(y)
    tx, ty = transformer(frame.crs.to_wkt(), target.to_wkt()).transform(x, y, errcheck=False)
    tx, ty = np.asarray(tx, dtype="float64"), np.asarray(ty, dtype="float64")
    unreachable = known & ~(np.isfinite(tx) & np.isfinite(ty))
    outside = unreachable | outside_area(tx, ty, target)
    if not outside.any():
        return
    index = int(np.flatnonzero(outside)[0])
    most = outside.sum() * 2 > len(frame)
    fix = WORKING_CRS_FIX
    if frame.crs.is_projected:
        fix += f" The layer's own CRS, {crs_label(frame.crs)}, may be that CRS."
    raise SourceError(path, f"{'the layer lies' if most else 'this feature lies'} outside the "
                      f"area where the working CRS {crs_label(target)} is used; reprojecting it "
                      f"from {crs_label(frame.crs)} would distort its areas and distances.",
                      row=index + 1, column="geometry",
                      fix=fix if most else "correct or remove the feature in a GIS, or " + fix)


def _feature(frame, index: int, id_column: str | None) -> str:
    label = f"feature {index + 1}"
    if id_column is not None and id_column in frame:
        label += f" ({id_column} {frame[id_column].iloc[index]})"
    return label


def _reason(geometry) -> str:
    # is_valid_reason appends the offending coordinates: keep the kind only.
    return re.sub(r"\s*\[.*\]$", "", shapely.is_valid_reason(geometry))


def check_polygons(path, frame: gpd.GeoDataFrame, *, id_column: str | None = None,
                   invalid_geometry: str = "repair") -> gpd.GeoDataFrame:
    """Check that every feature is a non-empty (Multi)Polygon; repair or refuse invalid ones.

    Parameters
    ----------
    id_column : str, optional
        Column whose value names the feature in messages (a public zone code).
    invalid_geometry : {"repair", "error"}
        What to do with invalid polygons (see the module docstring).

    Returns
    -------
    geopandas.GeoDataFrame
        With valid geometries and ``attrs["repaired_geometries"]``.
    """
    if invalid_geometry not in INVALID_GEOMETRY_CHOICES:
        raise SourceError(path, f"`invalid_geometry: {invalid_geometry}` is not an option.",
                          fix="use `invalid_geometry: repair` or `invalid_geometry: error`.")
    geometries = frame.geometry.array
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    _refuse_first(path, frame, missing, id_column, "has no geometry.")
    polygonal = np.isin(shapely.get_type_id(geometries), (3, 6))
    _refuse_first(path, frame, ~polygonal, id_column, "is not a polygon or multipolygon.")
    invalid = ~shapely.is_valid(geometries)
    if invalid.any() and invalid_geometry == "error":
        index = int(np.flatnonzero(invalid)[0])
        raise SourceError(path, f"{_feature(frame, index, id_column)} has an invalid geometry "
                          f"({_reason(geometries[index])}).", row=index + 1, column="geometry",
                          fix="repair it in a GIS, or declare `invalid_geometry: repair`.")
    frame = frame.copy()
    if invalid.any():
        frame.loc[invalid, frame.geometry.name] = _repair(geometries[invalid])
        empty = shapely.is_empty(frame.geometry.array)
        _refuse_first(path, frame, empty, id_column, "has an invalid geometry with no area left "
                      "once repaired.")
        shown = ", ".join(_feature(frame, int(i), id_column) for i in np.flatnonzero(invalid)[:5])
        warnings.warn(f"{path}: repaired {int(invalid.sum())} invalid geometries ({shown}"
                      f"{' ...' if invalid.sum() > 5 else ''}).", stacklevel=3)
    frame.attrs["repaired_geometries"] = int(invalid.sum())
    return frame


def _repair(geometries):
    repaired = shapely.make_valid(geometries, method="structure", keep_collapsed=False)
    polygons = [shapely.union_all(_polygon_parts(g)) for g in repaired]
    return np.array(polygons, dtype=object)


def _polygon_parts(geometry):
    if geometry.geom_type in _POLYGONAL:
        return [geometry]
    return [part for part in getattr(geometry, "geoms", []) if part.geom_type in _POLYGONAL]


def _refuse_first(path, frame, mask: np.ndarray, id_column: str | None, problem: str) -> None:
    if mask.any():
        index = int(np.flatnonzero(mask)[0])
        raise SourceError(path, f"{_feature(frame, index, id_column)} {problem}", row=index + 1,
                          column="geometry", fix="repair or remove the feature in a GIS.")
