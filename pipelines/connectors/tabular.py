"""Generic CSV of points or rows, declared column by column by its source card.

Used for private and personal files that have no official format (an energy operator's
consumption per building, car-sharing trips, smart-meter readings, a travel survey).
The card declares each column's type, and, for points, the coordinate columns and CRS::

    format: point_csv
    options:
      columns: {numero_compteur: text, mois: month, conso_kwh: float}
      x: x_l93
      y: y_l93
      crs: EPSG:2154
      codes: {code_commune: commune}

Every value is read as text first, so codes keep their zeros; then each declared column
is converted. Errors name the file, line and column, and never the value: these files
can be personal, and parser messages that quote a row are rephrased. A private or
personal file must have its columns declared (see :mod:`._sensitive`).
"""

from __future__ import annotations

import pandas as pd

from pipelines.connectors._columns import require_exact
from pipelines.connectors._csv import CsvTable, read_csv, read_header
from pipelines.connectors._points import points_frame, project_points
from pipelines.connectors._sensitive import is_sensitive
from pipelines.connectors._values import (
    CODE_PATTERNS,
    as_text,
    parse_bool,
    parse_code,
    parse_date,
    parse_float,
    parse_int,
    parse_month,
)
from pipelines.connectors.registry import connector
from pipelines.errors import ConfigError

__all__ = ["read_point_csv", "COLUMN_TYPES"]

COLUMN_TYPES = ("text", "int", "float", "date", "month", "bool")


@connector("point_csv")
def read_point_csv(path, *, working_crs="EPSG:2154", columns: dict[str, str] | None = None,
                   x: str | None = None, y: str | None = None, crs: str | None = None,
                   codes: dict[str, str] | None = None, encoding: str = "utf-8",
                   sep: str | None = None, decimal: str = ".",
                   date_format: str = "%Y-%m-%d") -> pd.DataFrame:
    """Read a CSV whose columns are declared by its source card.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y``.
    columns : dict, optional
        Column name -> type (``text``, ``int``, ``float``, ``date``, ``month``, ``bool``);
        default every column as text.
    x, y : str, optional
        Coordinate columns; both or neither. They become float64 ``x``/``y``.
    crs : str, optional
        CRS of the coordinates; required with ``x``/``y``.
    codes : dict, optional
        Text column -> code kind to validate (``commune``, ``iris``, ``departement``).
    encoding, sep, decimal, date_format : optional
        UTF-8, separator sniffed from the header, decimal point, ISO dates.

    Returns
    -------
    pandas.DataFrame
        The declared columns with their types, then ``x``, ``y`` in the working CRS with
        ``attrs["crs"]`` when coordinates are declared.

    Raises
    ------
    ConfigError
        Unknown type or code kind, ``x`` without ``y``, coordinates without ``crs``.
    SourceError
        Missing column, bad value (named by line and column, never echoed), and the
        common CSV problems (encoding, separator, empty file, duplicated header).
    """
    _check_options(path, columns, x, y, crs, codes)
    coordinates = [c for c in (x, y) if c is not None]
    header = read_header(path, encoding=encoding, sep=sep, expected=[*(columns or {}), *coordinates])
    declared = dict(columns) if columns else {name: "text" for name in header.names}
    wanted = [*declared, *[c for c in coordinates if c not in declared]]
    require_exact(path, header.names, wanted)
    table = read_csv(path, columns=wanted, encoding=encoding, header=header)
    out = {name: _typed(table, name, kind, decimal, date_format, (codes or {}).get(name))
           for name, kind in declared.items() if name not in coordinates}
    if not coordinates:
        return pd.DataFrame(out)
    xs = parse_float(table, x, table.column(x), decimal=decimal)
    ys = parse_float(table, y, table.column(y), decimal=decimal)
    xs, ys = project_points(table, xs, ys, source_crs=crs, working_crs=working_crs,
                            x_column=x, path=path)
    return points_frame(out, xs, ys, working_crs)


def _check_options(path, columns, x, y, crs, codes) -> None:
    unknown = sorted({kind for kind in (columns or {}).values()} - set(COLUMN_TYPES))
    if unknown:
        raise ConfigError(f"{path}: column type(s) {', '.join(unknown)} unknown to point_csv; "
                          f"use {', '.join(COLUMN_TYPES)}.")
    if (x is None) != (y is None):
        raise ConfigError(f"{path}: declare both `x:` and `y:` coordinate columns, or neither.")
    if not columns and is_sensitive():
        # Without declared names the header line would name the output columns, and a
        # file that lost it would put a data row into column names, metadata and errors.
        raise ConfigError(f"{path}: a private or personal file's columns must be declared in its source "
                          "card (`options: columns: {name: type}`).")
    if x is not None and crs is None:
        raise ConfigError(f"{path}: declare the CRS of `x`/`y` with `crs:` (e.g. EPSG:2154).")
    bad_kinds = sorted(set((codes or {}).values()) - set(CODE_PATTERNS))
    if bad_kinds:
        raise ConfigError(f"{path}: code kind(s) {', '.join(bad_kinds)} unknown; use "
                          f"{', '.join(CODE_PATTERNS)}.")


def _typed(table: CsvTable, name: str, kind: str, decimal: str, date_format: str,
           code: str | None):
    values = table.column(name)
    if code is not None:
        return parse_code(table, name, values, kind=code, required=False)
    if kind == "int":
        return parse_int(table, name, values)
    if kind == "float":
        return parse_float(table, name, values, decimal=decimal)
    if kind == "date":
        return parse_date(table, name, values, fmt=date_format)
    if kind == "month":
        return parse_month(table, name, values)
    if kind == "bool":
        return parse_bool(table, name, values)
    return pd.Series(as_text(values).to_pandas(), dtype="str")
