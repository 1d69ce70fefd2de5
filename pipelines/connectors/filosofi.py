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

Tables per IRIS and per commune (:func:`read_filosofi_zones`) name their columns with
the 2-digit year of the income (``DISP_MED18``, ``MED19``): the year is dropped, so one
card reads every edition, and a commune table holding Paris, Lyon or Marseille at both
levels (commune and arrondissements) is refused unless ``arrondissements`` says which
level to keep.
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
from pipelines.connectors._zones import arrondissements_rule, keep_rows
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


_DISP = re.compile(r"^disp_(?P<name>[a-z0-9_]+?)(?P<yy>\d{2})$")
# Key figures per commune (cc_filosofi): MED19, TP6019, D119, PACT19 ... no prefix, no "_".
_KEY_FIGURE = re.compile(r"^(?P<name>[a-z][a-z0-9]*?)(?P<yy>\d{2})$")
_COUNTS = {"nbmenfisc": "households", "nbpersmenfisc": "persons"}
_TEXT_INDICATORS = {"disp_note"}
_ZONE_CODES = {"code_iris": ("iris", "code_iris"), "code_commune": ("codgeo", "code_commune")}


@connector("filosofi_zones")
def read_filosofi_zones(path, *, working_crs="EPSG:2154", encoding: str = "utf-8",
                        sep: str | None = None, decimal: str = ".", pad_codes: bool = False,
                        edition: int | None = None, arrondissements: str | None = None):
    """Read a Filosofi table per IRIS (``IRIS``) or per commune (``CODGEO``).

    Two layouts, whose columns carry the 2-digit year of the income (``18`` for 2018):

    - "revenus disponibles" per IRIS or commune: ``DISP_<indicator><yy>``, kept in
      lower case without the year (``DISP_MED18`` -> ``disp_med``, ``DISP_TP6018`` ->
      ``disp_tp60``, ``DISP_NOTE18`` -> ``disp_note``);
    - "chiffres clés" per commune (``cc_filosofi_<year>_COM``): ``<indicator><yy>``
      without prefix, mapped to the same names (``MED19`` -> ``disp_med``, ``TP6019``
      -> ``disp_tp60``, ``D119`` -> ``disp_d1``, ``TP60AGE119`` -> ``disp_tp60age1``).

    ``NBMENFISC<yy>`` (tax households) becomes ``households`` and ``NBPERSMENFISC<yy>``
    (people in tax households) ``persons``. Other columns (names, labels) are not read.
    The year is read from the header (every indicator must carry the same one) or
    chosen with ``edition``; it goes to ``attrs["year"]``. Empty fields (INSEE's
    secrecy) are NA; values masked with a token (``s``, ``nd``, ``ns``, ``so``, ``c``)
    are NA too and set the row's ``masque`` flag.

    Parameters
    ----------
    path : str or Path
        The ``;``-separated CSV (LF or CRLF line ends).
    working_crs : str
        Not used (no geometry).
    encoding, sep, decimal, pad_codes : optional
        As for the other CSV connectors.
    edition : int, optional
        Year of the income (``2018`` or ``18``). Only the columns of that year are read,
        and the file must have them; by default the year is detected from the header,
        and several years in one file are an error.
    arrondissements : {None, "drop", "only", "keep"}, default None
        Commune tables only: which level of Paris, Lyon and Marseille to keep when the
        table has a commune and its arrondissements (see
        :mod:`pipelines.connectors._zones`); by default such a table is refused, since
        summing it would count the city twice. Not used for IRIS tables.

    Returns
    -------
    pandas.DataFrame
        ``code_iris`` or ``code_commune`` (text), ``households`` and ``persons``
        (float64, when published), ``disp_*`` (float64, at least ``disp_med`` and
        ``disp_tp60``; ``disp_note`` as text), ``masque`` (bool). ``attrs``: ``year``,
        ``level`` (``"iris"`` or ``"commune"``), and for commune tables
        ``arrondissement_rows_dropped``.

    Raises
    ------
    SourceError
        No code column, no median or poverty-rate column, several years mixed, no
        column of the declared edition, two columns with one name, malformed code,
        non-numeric value, PLM commune and arrondissements both present without a rule.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    level, code_column = _zone_level(path, header.names)
    indicators, year = _indicator_columns(path, header.names, code_column, edition)
    table = read_csv(path, columns=[code_column, *indicators], encoding=encoding, header=header)
    kind = "iris" if level == "code_iris" else "commune"
    codes = parse_code(table, code_column, table.column(code_column), kind=kind, pad=pad_codes)
    out = {level: codes}
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
    if kind == "commune":
        frame = keep_rows(frame, arrondissements_rule(table, codes, arrondissements,
                                                      column=code_column))
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


def _indicator(key: str) -> tuple[str, str] | None:
    """Output name and 2-digit year of a published column key, or None."""
    match = _DISP.match(key)
    if match:
        return f"disp_{match['name']}", match["yy"]
    match = _KEY_FIGURE.match(key)
    if match:
        return _COUNTS.get(match["name"], f"disp_{match['name']}"), match["yy"]
    return None


def _edition_suffix(path, edition) -> str | None:
    if edition is None:
        return None
    try:
        year = int(edition)
    except (TypeError, ValueError):
        year = -1
    if not (0 <= year < 100 or 2000 <= year < 2100):
        raise SourceError(path, "`edition` is not a year.", column="edition",
                          fix="declare the year of the income, e.g. `edition: 2019`.")
    return f"{year % 100:02d}"


def _indicator_columns(path, names: list[str], code_column: str,
                       edition) -> tuple[dict[str, str], int]:
    """Published name -> output name for the indicators of one year, and that year."""
    wanted = _edition_suffix(path, edition)
    parsed = {name: _indicator(header_key(name)) for name in names if name != code_column}
    chosen = {name: item for name, item in parsed.items()
              if item is not None and wanted in (None, item[1])}
    years = sorted({year for _, year in chosen.values()})
    if len(years) > 1:
        raise SourceError(path, f"the columns carry several years ({', '.join(years)}).",
                          row=1, fix="keep the columns of one year only, or declare which one "
                                     "to read with `edition:` (e.g. `edition: 2019`).")
    found: dict[str, str] = {}
    for name, (output, _) in chosen.items():
        if output in found.values():
            raise SourceError(path, f"two columns give '{output}'.", row=1, column=name,
                              fix="keep one of them (a file has either DISP_ columns or the "
                                  "key figures' names, not both for one indicator).")
        found[name] = output
    example = wanted or "19"
    for needed in ("disp_med", "disp_tp60"):
        if needed not in found.values():
            short = needed.removeprefix("disp_").upper()
            where = f" for the edition {2000 + int(wanted)}" if wanted else ""
            raise SourceError(path, f"required column is missing{where} (DISP_{short}<yy> or "
                              f"{short}<yy>, e.g. DISP_{short}{example} or {short}{example}).",
                              row=1, column=needed.upper(),
                              fix="check that the file is a Filosofi table of disposable income "
                                  "per IRIS or commune" + (", and its edition." if wanted else "."))
    return found, 2000 + int(years[0])
