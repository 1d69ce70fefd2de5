"""Housing stock: RPLS social housing per building, LOVAC vacancy per commune.

**RPLS** (répertoire des logements locatifs des bailleurs sociaux, geolocated extract):
``DEPCOM`` -> ``code_commune``, ``NBLOG`` / ``NBLSPLS`` / ``nb_logements`` ->
``nb_logements``, ``X``/``Y`` (Lambert-93 in mainland France; declare ``crs:`` overseas)
-> ``x``/``y`` in the working CRS. Rows without coordinates are kept (NaN) and counted.

**LOVAC** (private dwellings vacant per commune, CEREMA/DGFiP): every column is named
with the 2-digit year of its vintage, and vintages may differ between columns
(``CODGEO_25``, ``pp_vacant_25``, ``pp_total_24``). Suffixes are dropped
(``code_commune``, ``pp_vacant``, ``pp_total`` ...) and the years kept in
``attrs["years"]``. Counts the producer masks for secrecy (``s``) become NA, and the
row's ``masque`` flag says so.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipelines.connectors._columns import header_key, resolve_columns
from pipelines.connectors._csv import read_csv, read_header
from pipelines.connectors._points import points_frame, project_points
from pipelines.connectors._sensitive import shown_column
from pipelines.connectors._values import mask_tokens, parse_code, parse_float, parse_int
from pipelines.connectors.registry import connector
from pipelines.errors import SourceError

__all__ = ["read_rpls", "read_lovac", "LOVAC_MASKS"]

_RPLS = {"code_commune": ("depcom", "code_commune", "codgeo", "com"),
         "nb_logements": ("nblog", "nblspls", "nb_logements", "nb_log", "nblogts"),
         "x": ("x", "x_l93", "coordx"), "y": ("y", "y_l93", "coordy")}
LOVAC_MASKS = ("s", "secret", "nd")
_YEAR_SUFFIX = re.compile(r"^(?P<name>.+?)_(?P<year>\d{2})$")


@connector("rpls")
def read_rpls(path, *, working_crs="EPSG:2154", encoding: str = "utf-8", sep: str | None = None,
              decimal: str = ".", crs: str = "EPSG:2154", pad_codes: bool = False,
              source_columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Read RPLS social housing per building.

    Parameters
    ----------
    path : str or Path
        The CSV extract.
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y``.
    encoding, sep, decimal, pad_codes, source_columns : optional
        As for the other CSV connectors.
    crs : str, default ``"EPSG:2154"``
        CRS of ``X``/``Y``.

    Returns
    -------
    pandas.DataFrame
        Points frame: ``code_commune`` (text), ``nb_logements`` (``Int64``), ``x``, ``y``.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    names = resolve_columns(path, header.names, _RPLS, overrides=source_columns,
                            required=("code_commune", "nb_logements", "x", "y"))
    table = read_csv(path, columns=sorted(set(names.values())), encoding=encoding, header=header)
    codes = parse_code(table, names["code_commune"], table.column(names["code_commune"]),
                       pad=pad_codes)
    dwellings = parse_int(table, names["nb_logements"], table.column(names["nb_logements"]))
    negative = (dwellings < 0).fillna(False).to_numpy()
    if negative.any():
        raise table.error("number of dwellings is negative.", column=names["nb_logements"],
                          index=int(np.flatnonzero(negative)[0]), fix="correct the value.")
    x = parse_float(table, names["x"], table.column(names["x"]), decimal=decimal)
    y = parse_float(table, names["y"], table.column(names["y"]), decimal=decimal)
    x, y = project_points(table, x, y, source_crs=crs, working_crs=working_crs,
                          x_column=names["x"], path=path)
    return points_frame({"code_commune": codes, "nb_logements": dwellings}, x, y, working_crs)


@connector("lovac")
def read_lovac(path, *, working_crs="EPSG:2154", encoding: str = "utf-8", sep: str | None = None,
               pad_codes: bool = False) -> pd.DataFrame:
    """Read LOVAC vacancy counts per commune.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    working_crs : str
        Not used (no geometry).
    encoding, sep, pad_codes : optional
        As for the other CSV connectors.

    Returns
    -------
    pandas.DataFrame
        ``code_commune``, ``nom_commune`` (when published), every ``pp_*`` count without
        its year (``Int64``, NA when masked), ``masque`` (bool); ``attrs["years"]`` maps
        each column to its vintage.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    plain, years = _strip_years(path, header.names)
    resolve_columns(path, list(plain), {"codgeo": ("codgeo",), "pp_vacant": ("pp_vacant",),
                                        "pp_total": ("pp_total",)},
                    required=("codgeo", "pp_vacant", "pp_total"))
    counts = [name for name in plain if name.startswith("pp_")]
    read = [plain[name] for name in ("codgeo", "libgeo", *counts) if name in plain]
    table = read_csv(path, columns=read, encoding=encoding, header=header)
    out: dict[str, object] = {"code_commune": parse_code(
        table, plain["codgeo"], table.column(plain["codgeo"]), pad=pad_codes)}
    if "libgeo" in plain:
        out["nom_commune"] = pd.Series(table.column(plain["libgeo"]).to_pandas(), dtype="str")
    masked_any = np.zeros(len(table), dtype=bool)
    for name in counts:
        text, masked = mask_tokens(table.column(plain[name]), LOVAC_MASKS)
        out[name] = parse_int(table, plain[name], text)
        masked_any |= masked
    frame = pd.DataFrame(out)
    frame["masque"] = masked_any
    frame.attrs["years"] = {("code_commune" if k == "codgeo" else k): v for k, v in years.items()}
    return frame


def _strip_years(path, names: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Key without its year suffix -> published name, and key -> year."""
    plain: dict[str, str] = {}
    years: dict[str, int] = {}
    for name in names:
        match = _YEAR_SUFFIX.match(header_key(name))
        key = match.group("name") if match else header_key(name)
        if key in plain:
            raise SourceError(path, "two columns have the same name once their year is dropped.", row=1,
                              column=shown_column(name, ()), fix="keep one vintage of each column.")
        plain[key] = name
        if match:
            years[key] = 2000 + int(match.group("year"))
    return plain, years
