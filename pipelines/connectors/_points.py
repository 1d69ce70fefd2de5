"""Turning parsed coordinates into the project's points frame.

Points are a pandas DataFrame with float64 ``x``/``y`` in the working CRS and
``frame.attrs["crs"]``; never WKB. Rows whose coordinates are empty are kept with NaN
``x``/``y`` and counted in ``frame.attrs["rows_without_coordinates"]`` (a row without
coordinates still counts per commune code); spatial steps must drop them before joins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.connectors._crs import CRS_FIX, crs_label, outside_area, parse_crs, transformer
from pipelines.connectors._values import Locator

__all__ = ["project_points", "points_frame"]


def project_points(locator: Locator, x: np.ndarray, y: np.ndarray, *, source_crs, working_crs,
                   x_column: str, path) -> tuple[np.ndarray, np.ndarray]:
    """Check coordinates against their declared CRS and reproject them.

    Parameters
    ----------
    locator : Locator
        Locates rows for error messages.
    x, y : numpy.ndarray of float64
        Coordinates as published (NaN where empty).
    source_crs, working_crs : str or pyproj.CRS
        CRS the coordinates are in, and the territory's working CRS.
    x_column : str
        Column named in errors.
    path : str or Path
        The file, for errors about the declared CRS.

    Returns
    -------
    (x, y) in the working CRS.

    Raises
    ------
    SourceError
        If most points fall outside the declared CRS's area of use (wrong CRS), or if
        some do (wrong row), or if only one of x and y is given on a row.
    """
    source = parse_crs(path, source_crs)
    target = parse_crs(path, working_crs, what="the working CRS")
    half = np.isnan(x) != np.isnan(y)
    if half.any():
        raise locator.error("only one of the two coordinates is given.",
                            index=int(np.flatnonzero(half)[0]), column=x_column,
                            fix="fill in both coordinates or leave both empty.")
    outside = outside_area(x, y, source)
    if outside.any():
        _raise_outside(locator, outside, x, source, x_column)
    if source.equals(target):
        return x, y
    return transformer(source.to_wkt(), target.to_wkt()).transform(x, y)


def _raise_outside(locator: Locator, outside: np.ndarray, x: np.ndarray, source, x_column: str):
    index = int(np.flatnonzero(outside)[0])
    located = np.isfinite(x).sum()
    if outside.sum() * 2 > located:
        raise locator.error(f"most coordinates fall outside the area where {crs_label(source)} "
                            "is used: the declared CRS is wrong.", index=index, column=x_column,
                            fix=CRS_FIX)
    raise locator.error(f"coordinates fall outside the area where {crs_label(source)} is used.",
                        index=index, column=x_column,
                        fix="correct or empty the coordinates of this row.")


def points_frame(columns: dict[str, object], x: np.ndarray, y: np.ndarray, working_crs,
                 **attrs) -> pd.DataFrame:
    """Assemble a points frame: the given columns, then ``x``, ``y``, with its attrs."""
    frame = pd.DataFrame({**{name: _series(v) for name, v in columns.items()},
                          "x": np.asarray(x, dtype="float64"),
                          "y": np.asarray(y, dtype="float64")})
    frame.attrs["crs"] = crs_label(parse_crs("(working CRS)", working_crs))
    frame.attrs["rows_without_coordinates"] = int(np.isnan(frame["x"].to_numpy()).sum())
    frame.attrs.update(attrs)
    return frame


def _series(values) -> pd.Series | np.ndarray:
    return values.reset_index(drop=True) if isinstance(values, pd.Series) else values
