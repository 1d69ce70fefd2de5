"""DVF property sales: the raw DGFiP yearly file and Etalab's geolocated geo-dvf.

**Granularity.** Both files have one line per disposition, parcel and local (a flat, a
house, an outbuilding) or land use, and repeat the mutation's price on each line. The
connector keeps that granularity (one row per local, or per land parcel, of a mutation)
and drops lines identical in every output column; :func:`mutations` gives one row per
mutation, with its price counted once.

**Raw DGFiP file** (``valeursfoncieres-YYYY.txt``): ``|``-separated, French headers,
decimal comma, dates ``DD/MM/YYYY``, no coordinates (``x``/``y`` are NaN), and codes
published without their leading zeros: ``Code departement`` ``1`` and ``Code commune``
``53`` mean ``01053``. Restoring them is the format's documented rule (Etalab applies it
to build geo-dvf), not a guess: department padded to 2 characters, commune to 3, or to
2 after an overseas department (``971`` + ``01``). ``id_parcelle`` is rebuilt the same
way (commune + section prefix on 3 + section on 2 + plan number on 4). Older years are
latin-1: declare ``encoding: latin-1``.

**Mutation key of the raw file.** The raw file has no mutation id. As Etalab does for
geo-dvf, consecutive lines with the same date, price and commune form one mutation, and
``id_mutation`` is ``<year>-<sequence>``. Section and plan number are deliberately not
part of the key: a sale often spans several parcels, and keying by parcel would count
its price once per parcel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.connectors._columns import header_key, resolve_columns
from pipelines.connectors._csv import CsvTable, read_csv, read_header
from pipelines.connectors._points import points_frame, project_points
from pipelines.connectors._values import as_text, parse_code, parse_date, parse_float, parse_int
from pipelines.connectors.registry import connector

__all__ = ["read_dvf", "mutations", "DVF_COLUMNS"]

DVF_COLUMNS = ("id_mutation", "date_mutation", "numero_disposition", "nature_mutation",
               "valeur_fonciere", "code_departement", "code_commune", "id_parcelle",
               "lot1_numero", "nombre_lots", "code_type_local", "type_local",
               "surface_reelle_bati", "nombre_pieces_principales", "code_nature_culture",
               "surface_terrain", "x", "y")
_COMMON = {
    "date_mutation": ("date_mutation",), "nature_mutation": ("nature_mutation",),
    "valeur_fonciere": ("valeur_fonciere",), "code_departement": ("code_departement",),
    "code_commune": ("code_commune",), "code_type_local": ("code_type_local",),
    "type_local": ("type_local",), "surface_reelle_bati": ("surface_reelle_bati",),
    "nombre_pieces_principales": ("nombre_pieces_principales",),
    "surface_terrain": ("surface_terrain",),
}
_GEO = {**_COMMON, "id_mutation": ("id_mutation",), "numero_disposition": ("numero_disposition",),
        "id_parcelle": ("id_parcelle",), "lot1_numero": ("lot1_numero",),
        "nombre_lots": ("nombre_lots",), "code_nature_culture": ("code_nature_culture",),
        "longitude": ("longitude",), "latitude": ("latitude",)}
_RAW = {**_COMMON, "numero_disposition": ("no_disposition",), "lot1_numero": ("1er_lot",),
        "nombre_lots": ("nombre_de_lots",), "code_nature_culture": ("nature_culture",),
        "prefixe_section": ("prefixe_de_section",), "section": ("section",),
        "no_plan": ("no_plan",)}
_GEO_REQUIRED = ("id_mutation", "date_mutation", "valeur_fonciere", "code_commune",
                 "longitude", "latitude")
_RAW_REQUIRED = ("date_mutation", "valeur_fonciere", "code_departement", "code_commune",
                 "section", "no_plan")
_TEXT = ("numero_disposition", "nature_mutation", "lot1_numero", "code_type_local",
         "type_local", "code_nature_culture")


@connector("dvf")
def read_dvf(path, *, working_crs="EPSG:2154", encoding: str = "utf-8", sep: str | None = None,
             pad_codes: bool = False, source_columns: dict[str, str] | None = None):
    """Read a DVF file, raw DGFiP (``|``-separated) or Etalab geo-dvf (CSV).

    Parameters
    ----------
    path : str or Path
        The file as downloaded (uncompressed).
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y`` (geo-dvf's longitude/latitude are WGS84).
    encoding, sep : optional
        Declare ``encoding: latin-1`` for older raw files; the separator is sniffed.
    pad_codes : bool, default False
        geo-dvf only: left-pad commune codes that lost their zeros (otherwise an error).
    source_columns : dict, optional
        Output name -> published name.

    Returns
    -------
    pandas.DataFrame
        Points frame with :data:`DVF_COLUMNS`; ``attrs``: ``crs``, ``layout`` (``raw`` or
        ``geo-dvf``), ``duplicate_rows`` dropped, ``rows_without_coordinates``.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    raw = "id_mutation" not in {header_key(name) for name in header.names}
    aliases, required = (_RAW, _RAW_REQUIRED) if raw else (_GEO, _GEO_REQUIRED)
    names = resolve_columns(path, header.names, aliases, required=required,
                            overrides=source_columns)
    table = read_csv(path, columns=sorted(set(names.values())), encoding=encoding, header=header)
    columns = _raw_columns(table, names) if raw else _geo_columns(table, names, pad_codes)
    x, y = _coordinates(table, names, working_crs, path)
    frame = points_frame({name: columns[name] for name in DVF_COLUMNS[:-2]}, x, y, working_crs)
    duplicated = frame.duplicated().to_numpy()
    frame = frame.loc[~duplicated].reset_index(drop=True)
    frame.attrs.update(layout="raw" if raw else "geo-dvf", duplicate_rows=int(duplicated.sum()),
                       rows_without_coordinates=int(frame["x"].isna().sum()))
    return frame


def _measures(table: CsvTable, names: dict[str, str], decimal: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for output in ("valeur_fonciere", "surface_reelle_bati", "surface_terrain"):
        out[output] = (parse_float(table, names[output], table.column(names[output]),
                                   decimal=decimal)
                       if output in names else np.full(len(table), np.nan))
    for output in ("nombre_pieces_principales", "nombre_lots"):
        column = names.get(output)
        out[output] = (parse_int(table, column, table.column(column)) if column
                       else _missing(table, "Int64"))
    for output in _TEXT:
        out[output] = _text(table, names[output]) if output in names else _missing(table, "str")
    return out


def _missing(table: CsvTable, dtype: str) -> pd.Series:
    return pd.Series(pd.NA, index=range(len(table)), dtype=dtype)


def _geo_columns(table: CsvTable, names: dict[str, str], pad: bool) -> dict[str, object]:
    out = _measures(table, names, ".")
    commune = names["code_commune"]
    out["code_commune"] = parse_code(table, commune, table.column(commune), pad=pad)
    out["code_departement"] = out["code_commune"].str.slice(0, 2).where(
        ~out["code_commune"].str.startswith("97"), out["code_commune"].str.slice(0, 3))
    out["id_mutation"] = _text(table, names["id_mutation"])
    out["id_parcelle"] = (_text(table, names["id_parcelle"]) if "id_parcelle" in names
                          else _missing(table, "str"))
    out["date_mutation"] = parse_date(table, names["date_mutation"],
                                      table.column(names["date_mutation"]))
    return out


def _text(table: CsvTable, column: str) -> pd.Series:
    return pd.Series(as_text(table.column(column)).to_pandas(), dtype="str")


def _raw_columns(table: CsvTable, names: dict[str, str]) -> dict[str, object]:
    out = _measures(table, names, ",")
    out["date_mutation"] = parse_date(table, names["date_mutation"],
                                      table.column(names["date_mutation"]), fmt="%d/%m/%Y")
    department, commune = _raw_codes(table, names)
    out["code_departement"], out["code_commune"] = department, commune
    out["id_parcelle"] = _raw_parcel(table, names, commune)
    out["id_mutation"] = _raw_mutation_ids(out["date_mutation"], out["valeur_fonciere"], commune)
    return out


def _raw_codes(table: CsvTable, names: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    department = as_text(table.column(names["code_departement"]))
    overseas = pc.fill_null(pc.starts_with(department, "97"), False)
    department = pc.if_else(overseas, department, pc.utf8_lpad(department, 2, "0"))
    commune = as_text(table.column(names["code_commune"]))
    commune = pc.if_else(overseas, pc.utf8_lpad(commune, 2, "0"), pc.utf8_lpad(commune, 3, "0"))
    department_codes = parse_code(table, names["code_departement"], department, kind="departement")
    commune_codes = parse_code(table, names["code_commune"], pc.binary_join_element_wise(
        department, commune, ""), kind="commune")
    return department_codes, commune_codes


def _raw_parcel(table: CsvTable, names: dict[str, str], commune: pd.Series) -> pd.Series:
    def padded(output: str, width: int, default: str):
        if output not in names:
            return pa.chunked_array([pa.array([default] * len(table))])
        text = pc.fill_null(as_text(table.column(names[output])), default)
        return pc.utf8_lpad(text, width, "0")

    parts = [pa.chunked_array([pa.array(commune.to_numpy(dtype=object), pa.string())]),
             padded("prefixe_section", 3, "000"), padded("section", 2, "0"),
             padded("no_plan", 4, "0")]
    return pd.Series(pc.binary_join_element_wise(*parts, "").to_pandas(), dtype="str")


def _raw_mutation_ids(dates: pd.Series, values: np.ndarray, communes: pd.Series) -> pd.Series:
    keys = [dates.to_numpy().astype("int64"), np.nan_to_num(values, nan=-1.0),
            pd.factorize(communes)[0]]
    starts = np.zeros(len(dates), dtype=bool)
    starts[0] = True
    for key in keys:
        starts[1:] |= key[1:] != key[:-1]
    sequence = pa.array(np.cumsum(starts)).cast(pa.string())
    years = pc.fill_null(pa.array(dates.dt.year.to_numpy(dtype="float64"), from_pandas=True)
                         .cast(pa.int64()).cast(pa.string()), "0000")
    return pd.Series(pc.binary_join_element_wise(years, sequence, "-").to_pandas(), dtype="str")


def _coordinates(table: CsvTable, names: dict[str, str], working_crs, path):
    if "longitude" not in names:
        empty = np.full(len(table), np.nan)
        return empty, empty.copy()
    x = parse_float(table, names["longitude"], table.column(names["longitude"]))
    y = parse_float(table, names["latitude"], table.column(names["latitude"]))
    return project_points(table, x, y, source_crs="EPSG:4326", working_crs=working_crs,
                          x_column=names["longitude"], path=path)


def mutations(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per mutation, its price counted once.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`read_dvf`.

    Returns
    -------
    pandas.DataFrame
        ``id_mutation``, ``date_mutation``, ``nature_mutation``, ``valeur_fonciere`` (the
        first line's: DVF repeats it on every line), ``code_commune``, ``nb_lignes``,
        ``nb_maisons``, ``nb_appartements``, ``nb_dependances``, ``nb_locaux_activite``
        (``code_type_local`` 1 to 4) and ``surface_reelle_bati`` (houses and flats), all
        over *distinct* locals (a local is repeated on one line per land use of its
        parcel), ``x``, ``y`` (mean of its located lines); sorted by ``id_mutation``.
    """
    grouped = frame.groupby("id_mutation", sort=True)
    first = grouped[["date_mutation", "nature_mutation", "valeur_fonciere", "code_commune"]].first()
    lines = grouped.size().rename("nb_lignes")
    located = grouped[["x", "y"]].mean()
    result = pd.concat([first, lines, _locals(frame), located], axis=1)
    counts = ["nb_maisons", "nb_appartements", "nb_dependances", "nb_locaux_activite"]
    result[counts] = result[counts].fillna(0).astype("int64")
    result = result.reset_index()
    result.attrs.update(frame.attrs)
    return result


def _locals(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["id_mutation", "id_parcelle", "lot1_numero", "code_type_local",
            "surface_reelle_bati", "nombre_pieces_principales"]
    found = frame[frame["code_type_local"].notna()].drop_duplicates(subset=keys)
    kinds = found["code_type_local"]
    per_local = pd.DataFrame({
        "id_mutation": found["id_mutation"],
        "nb_maisons": (kinds == "1").astype("int64"),
        "nb_appartements": (kinds == "2").astype("int64"),
        "nb_dependances": (kinds == "3").astype("int64"),
        "nb_locaux_activite": (kinds == "4").astype("int64"),
        "surface_reelle_bati": found["surface_reelle_bati"].where(kinds.isin(["1", "2"]))})
    grouped = per_local.groupby("id_mutation")
    summed = grouped[["nb_maisons", "nb_appartements", "nb_dependances", "nb_locaux_activite"]].sum()
    return summed.assign(surface_reelle_bati=grouped["surface_reelle_bati"].sum(min_count=1))
