"""INSEE Filosofi: the 200 m grid (CSV and GeoPackage) and the IRIS/commune tables.

Grid editions differ in spelling only, and are read by one mapping to lower case:

=====================  =======================  ==================================
2015                   2017                     2019 and later
=====================  =======================  ==================================
``IdINSPIRE``          ``Idcar_200m``           ``idcar_200m``
``Id_carr1km``         ``Idcar_1km``            ``idcar_1km``
``Id_carr_n``          ``Idcar_nat``            ``idcar_nat``
``I_est_cr``           ``I_est_200``            ``i_est_200``
``Depcom``             ``lcog_geo``             ``lcog_geo``
``Men_pauv``, ``Ind``  ``Men_pauv``, ``Ind``    ``men_pauv``, ``ind``
=====================  =======================  ==================================

Cells stay in the grid CRS named by their ids (``CRS3035RES200m...`` for mainland
France, ``CRS5490RES200m...`` for Martinique ...): the caller interpolates cells to zones
in the grid CRS, so reprojecting squares here would only distort them. The geometry is
always rebuilt from the id (the id defines the cell); a published geometry whose
lower-left corner is not the id's is an error. Counts are float64: INSEE imputes
fractional counts for statistical secrecy (``i_est_200 = 1``).
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import shapely

from pipelines.connectors._columns import header_key, resolve_columns
from pipelines.connectors._csv import read_csv, read_header
from pipelines.connectors._geo import read_layer
from pipelines.connectors._values import FrameLocator, Locator, as_text, mask_tokens, parse_code, parse_float
from pipelines.connectors.registry import connector
from pipelines.errors import SourceError
from pipelines.spatial.grid import cell_polygons

__all__ = ["read_filosofi_grid", "read_filosofi_zones", "MASKED"]

_RENAMES = {"idinspire": "idcar_200m", "id_carr1km": "idcar_1km", "id_carr_n": "idcar_nat",
            "i_est_cr": "i_est_200", "depcom": "lcog_geo"}
_ID_PATTERNS = {"idcar_200m": r"^CRS\d+RES200mN\d*[02468]00E\d*[02468]00$",
                "idcar_1km": r"^CRS\d+RES1000mN\d*000E\d*000$",
                "idcar_nat": r"^CRS\d+RES\d+mN\d+E\d+$"}
_TEXT = {"lcog_geo": r"^(\d{5}|2[AB]\d{3})+$", "groupe": r"^\d+$", "id_car2010": None}
_GRID_LAYERS = ("carreaux_200m_met", "carreaux_200m_mart", "carreaux_200m_guad",
                "carreaux_200m_reun", "carreaux_200m_guy", "carreaux_200m_myt")
MASKED = ("s", "nd", "ns", "so", "c")


@connector("filosofi_grid")
def read_filosofi_grid(path, *, working_crs="EPSG:2154", layer: str | None = None,
                       encoding: str = "utf-8", sep: str | None = None, decimal: str = "."):
    """Read a Filosofi 200 m grid file (2015, 2017, 2019 ... editions).

    Parameters
    ----------
    path : str or Path
        The official CSV (``.csv``) or GeoPackage / shapefile.
    working_crs : str
        Not used: cells stay in the grid CRS of their ids (see the module docstring).
    layer : str, optional
        Layer of a GeoPackage, default the only one or ``carreaux_200m_*``.
    encoding, sep, decimal : optional
        CSV encoding (UTF-8), separator (sniffed) and decimal mark (``.``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``idcar_200m`` then every published column in lower case (ids and ``lcog_geo``,
        ``groupe`` as text; flags and counts as float64), ``geometry``: the 200 m squares
        in the grid CRS (``attrs["grid_crs"]``).

    Raises
    ------
    SourceError
        Missing id column, malformed id, ids of several CRSs, column named twice once
        normalised, non-numeric count, geometry not matching its id.
    """
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt"):
        header = read_header(path, encoding=encoding, sep=sep)
        _grid_names(path, header.names)  # fail on a missing id before reading everything
        table = read_csv(path, encoding=encoding, header=header)
        locator, published, column = table, None, table.column
        names = _grid_names(path, header.names)
    else:
        published = read_layer(path, layer=layer, preferred=_GRID_LAYERS)
        locator, column = FrameLocator(path), published.__getitem__
        names = _grid_names(path, [c for c in published.columns if c != published.geometry.name])
    columns = {out: _grid_column(locator, name, out, column(name), decimal)
               for name, out in names.items()}
    cells = _cells(locator, names, columns)
    if published is not None:
        _check_published_geometry(locator, published, cells)
    return cells


def _grid_names(path: Path, names: list[str]) -> dict[str, str]:
    """Published name -> normalised lower-case name; the cell id must be there."""
    mapping: dict[str, str] = {}
    for name in names:
        out = _RENAMES.get(header_key(name), header_key(name))
        if out in mapping.values():
            raise SourceError(path, f"two columns normalise to '{out}'.", row=1, column=name,
                              fix="remove one of them.")
        mapping[name] = out
    if "idcar_200m" not in mapping.values():
        resolve_columns(path, names, {"idcar_200m": ("idcar_200m", "idinspire")},
                        required=("idcar_200m",))
    ordered = sorted(mapping.items(), key=lambda item: item[1] != "idcar_200m")
    return dict(ordered)


def _grid_column(locator: Locator, name: str, out: str, values, decimal: str):
    if out in _ID_PATTERNS:
        return _checked_text(locator, name, values, _ID_PATTERNS[out], out == "idcar_200m",
                             "is not an INSEE grid cell id of this resolution.")
    if out in _TEXT:
        return _checked_text(locator, name, values, _TEXT[out], False,
                             "is not as INSEE publishes it (digits, commune codes).")
    if isinstance(values, pd.Series) and pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype="float64")
    return parse_float(locator, name, values, decimal=decimal)


def _checked_text(locator: Locator, name: str, values, pattern: str | None, required: bool,
                  problem: str) -> pd.Series:
    text = as_text(values)
    if required and text.null_count:
        index = int(np.flatnonzero(pc.is_null(text).to_numpy(zero_copy_only=False))[0])
        raise locator.error("the cell id is missing.", index=index, column=name,
                            fix="remove the row or restore its id.")
    if pattern is not None:
        ok = pc.fill_null(pc.match_substring_regex(text, pattern), True)
        bad = pc.invert(ok).to_numpy(zero_copy_only=False)
        if bad.any():
            raise locator.error(f"value {problem}", index=int(np.flatnonzero(bad)[0]),
                                column=name, fix="restore the value as published by INSEE.")
    return pd.Series(text.to_pandas(), dtype="str")


def _cells(locator: Locator, names: dict[str, str], columns: dict) -> gpd.GeoDataFrame:
    ids = columns["idcar_200m"]
    prefix = pc.struct_field(pc.extract_regex(as_text(ids), r"^CRS(?P<epsg>\d+)RES"), [0])
    epsg = prefix.to_numpy(zero_copy_only=False)
    mixed = epsg != epsg[0]
    if mixed.any():
        id_column = next(name for name, out in names.items() if out == "idcar_200m")
        raise locator.error("cell ids name several CRSs (mainland and overseas cells mixed).",
                            index=int(np.flatnonzero(mixed)[0]), column=id_column,
                            fix="split the file by territory (one grid CRS per territory).")
    geometry = cell_polygons(ids)
    cells = gpd.GeoDataFrame(columns, geometry=geometry.array, crs=geometry.crs)
    cells.attrs["grid_crs"] = f"EPSG:{int(epsg[0])}"  # the ids' CRS, as cell_polygons set it
    return cells


def _check_published_geometry(locator: Locator, published: gpd.GeoDataFrame,
                              cells: gpd.GeoDataFrame) -> None:
    if published.crs is not None and not published.crs.equals(cells.crs):
        raise locator.error(f"the layer's CRS is not {cells.attrs['grid_crs']}, the CRS named "
                            "by its cell ids.", column="geometry",
                            fix="use the file as published by INSEE (do not reproject it).")
    corners = shapely.bounds(published.geometry.array)[:, :2]
    expected = shapely.bounds(cells.geometry.array)[:, :2]
    wrong = ~np.isnan(corners[:, 0]) & (np.abs(corners - expected).max(axis=1) > 0.5)
    if wrong.any():
        raise locator.error("the geometry is not the square named by the cell id.",
                            index=int(np.flatnonzero(wrong)[0]), column="geometry",
                            fix="use the file as published by INSEE.")


_DISP = re.compile(r"^disp_([a-z0-9_]+?)(\d{2})$")
_TEXT_INDICATORS = {"disp_note"}
_ZONE_CODES = {"code_iris": ("iris", "code_iris"), "code_commune": ("codgeo", "code_commune")}


@connector("filosofi_zones")
def read_filosofi_zones(path, *, working_crs="EPSG:2154", encoding: str = "utf-8",
                        sep: str | None = None, decimal: str = ".", pad_codes: bool = False):
    """Read a Filosofi table per IRIS (``IRIS``) or per commune (``CODGEO``).

    Every ``DISP_<indicator><yy>`` column is kept without its year suffix, in lower case:
    ``DISP_MED19`` -> ``disp_med``, ``DISP_TP6019`` -> ``disp_tp60``; the year goes to
    ``attrs["year"]``. Values masked by INSEE (``s``, ``nd``, ``ns``, ``so``, ``c``)
    become NA and the row's ``masque`` flag is set.

    Parameters
    ----------
    path : str or Path
        The ``;``-separated CSV.
    working_crs : str
        Not used (no geometry).
    encoding, sep, decimal, pad_codes : optional
        As for the other CSV connectors.

    Returns
    -------
    pandas.DataFrame
        ``code_iris`` or ``code_commune`` (text), ``disp_*`` (float64, at least
        ``disp_med`` and ``disp_tp60``), ``masque`` (bool).

    Raises
    ------
    SourceError
        No code column, no ``DISP_MED``/``DISP_TP60`` column, several years mixed,
        malformed code, non-numeric value.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    level, code_column = _zone_level(path, header.names)
    indicators, year = _disp_columns(path, header.names)
    table = read_csv(path, columns=[code_column, *indicators], encoding=encoding, header=header)
    kind = "iris" if level == "code_iris" else "commune"
    out = {level: parse_code(table, code_column, table.column(code_column), kind=kind,
                             pad=pad_codes)}
    masked_any = np.zeros(len(table), dtype=bool)
    for name, short in indicators.items():
        if short in _TEXT_INDICATORS:  # a quality note, not a number
            out[short] = pd.Series(as_text(table.column(name)).to_pandas(), dtype="str")
            continue
        text, masked = mask_tokens(table.column(name), MASKED)
        out[short] = parse_float(table, name, text, decimal=decimal)
        masked_any |= masked
    frame = pd.DataFrame(out)
    frame["masque"] = masked_any
    frame.attrs.update(year=year, level=kind)
    return frame


def _zone_level(path, names: list[str]) -> tuple[str, str]:
    keys = {header_key(name): name for name in names}
    for level, accepted in _ZONE_CODES.items():
        for key in accepted:
            if key in keys:
                return level, keys[key]
    raise SourceError(path, "required column is missing (IRIS for IRIS tables, CODGEO for "
                      "commune tables).", row=1, column="IRIS/CODGEO",
                      fix="check that the file is a Filosofi table per IRIS or per commune.")


def _disp_columns(path, names: list[str]) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    years: set[str] = set()
    for name in names:
        match = _DISP.match(header_key(name))
        if match:
            found[name] = f"disp_{match.group(1)}"
            years.add(match.group(2))
    for needed in ("disp_med", "disp_tp60"):
        if needed not in found.values():
            raise SourceError(path, f"required column is missing ({needed.upper()}<yy>, e.g. "
                              f"{needed.upper()}19).", row=1, column=needed.upper(),
                              fix="check that the file is a Filosofi 'revenus disponibles' table.")
    if len(years) > 1:
        raise SourceError(path, f"DISP_ columns carry several years ({', '.join(sorted(years))}).",
                          row=1, fix="keep the columns of one year only.")
    return found, 2000 + int(years.pop())
