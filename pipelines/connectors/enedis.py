"""Enedis open data "Consommation annuelle résidentielle par adresse", per address and year.

Enedis publishes, for each address with at least 10 residential delivery points, the
number of dwellings (``nombre_de_logements``, one delivery point each) and their total
electricity consumption in MWh, with the address's IRIS and commune codes and no
coordinates. Two forms of the ``;``-separated CSV are read alike:

- the portal's export, with the dataset's field names (``annee``, ``code_iris`` ...) or
  their labels (``Année``, ``Code IRIS``, ``Consommation annuelle totale de l'adresse
  (MWh)`` ...: names are matched by key, see :mod:`pipelines.connectors._columns`);
- a copy re-saved by pandas, with a leading unnamed index column (the header starts
  with ``;annee``) and integers written as floats (``54.0``, ``200046977.0``,
  ``69.0``). The index column is not read; a number with a zero fraction is read as
  the integer or code it stands for.

Decisions:

- **One year by default.** ``year: latest`` (default) keeps the most recent year in
  the file: Enedis publishes a year once it is complete, and a table of several years
  summed by IRIS would count each address once per year. ``year: 2021`` keeps that
  year (it must be in the file); ``year: all`` keeps every year, one row per address
  and year, for time series. The file's years are in ``attrs["years"]``.
- **Masked IRIS.** Enedis marks the addresses it could not place in an IRIS with a code
  such as ``69388xxxx`` and a ``nom_iris`` starting with ``Fictif``. Those rows are
  kept with ``code_iris`` NA and ``iris_masque`` true, and counted in
  ``attrs["masked_iris_rows"]``: they count in their commune's totals but must not be
  joined to an IRIS contour. Rows with an empty IRIS code are kept too (NA, not masked)
  and counted in ``attrs["rows_without_iris"]``.
- **Commune codes as published.** Enedis codes Paris, Lyon and Marseille by the
  commune (69123) even where the IRIS code names the arrondissement (69388...): aggregate
  by ``code_iris``, or map arrondissements with
  :data:`pipelines.connectors._zones.PLM_ARRONDISSEMENTS`.
- Street types and commune names are kept as published (``CRS`` and ``COURS``, ``LYON``
  and ``Lyon`` differ between years): group on codes, never on labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.connectors._columns import resolve_columns
from pipelines.connectors._csv import CsvTable, read_csv, read_header
from pipelines.connectors._values import as_text, parse_code, parse_float, parse_int
from pipelines.connectors.registry import connector
from pipelines.errors import ConfigError, SourceError

__all__ = ["read_enedis_consumption", "ENEDIS_COLUMNS"]

DWELLINGS = "nombre_de_logements"
TOTAL_MWH = "consommation_annuelle_totale_de_l_adresse_mwh"
_TEXT = ("nom_iris", "nom_commune", "adresse", "indice_de_repetition", "type_de_voie",
         "libelle_de_voie", "segment_de_client")
_AVERAGES = ("consommation_annuelle_moyenne_par_site_de_l_adresse_mwh",
             "consommation_annuelle_moyenne_de_la_commune_mwh")
ENEDIS_COLUMNS = ("annee", "code_iris", "nom_iris", "code_commune", "nom_commune", "adresse",
                  "numero_de_voie", "indice_de_repetition", "type_de_voie", "libelle_de_voie",
                  "segment_de_client", DWELLINGS, TOTAL_MWH, *_AVERAGES, "code_epci",
                  "code_departement", "code_region", "iris_masque")
_ALIASES = {name: (name,) for name in ENEDIS_COLUMNS if name != "iris_masque"}
_ALIASES["code_commune"] = ("code_commune", "code_insee_commune", "code_insee")
_REQUIRED = ("annee", "code_iris", "code_commune", DWELLINGS, TOTAL_MWH)
# Codes other than the commune's and the IRIS's: pattern and width once left-padded.
_OTHER_CODES = {"code_epci": (r"^\d{9}$", 9), "code_region": (r"^\d{2}$", 2)}
_FLOAT_INTEGER = r"^(\d+)\.0+$"


@connector("enedis_consumption")
def read_enedis_consumption(path, *, working_crs="EPSG:2154", year: int | str = "latest",
                            encoding: str = "utf-8", sep: str | None = None, decimal: str = ".",
                            pad_codes: bool = False,
                            source_columns: dict[str, str] | None = None, layout: str = "enedis") -> pd.DataFrame:
    """Read Enedis's yearly residential consumption per address.

    Parameters
    ----------
    path : str or Path
        The CSV, as exported by the Enedis portal or re-saved by pandas.
    working_crs : str
        Not used (no coordinates).
    year : int, "latest" or "all", default "latest"
        Which year to keep (see the module docstring).
    layout : {"enedis", "operator"}, default "enedis"
        ``operator`` gives the columns of the project's energy-operator card, so the
        file can stand for a territory's operator data: ``id_batiment`` (the address
        within its IRIS: the unit of the business-secrecy rules), ``annee``,
        ``code_iris``, ``code_commune``, ``nb_points_livraison`` and ``nb_logements``
        (both Enedis's dwellings: one residential delivery point each),
        ``conso_totale_mwh`` and ``segment`` (lower case). No coordinates: the
        aggregation takes the IRIS from ``code_iris``.
    encoding, sep, decimal, pad_codes, source_columns : optional
        As for the other CSV connectors (``sep`` is sniffed: ``;`` for Enedis files).

    Returns
    -------
    pandas.DataFrame
        One row per address and year, in file order: ``annee`` (int64), ``code_iris``
        (text, NA when masked or empty), ``nom_iris``, ``code_commune``, ``nom_commune``,
        ``adresse``, ``numero_de_voie`` (``Int64``), ``indice_de_repetition``,
        ``type_de_voie``, ``libelle_de_voie``, ``segment_de_client`` (text),
        ``nombre_de_logements`` (int64), the three consumptions in MWh (float64),
        ``code_epci``, ``code_departement``, ``code_region`` (text), ``iris_masque``
        (bool). Columns the file lacks (other than the required ones) are NA.
        ``attrs``: ``years``, ``year``, ``masked_iris_rows``, ``rows_without_iris``.

    Raises
    ------
    SourceError
        Missing required column (year, IRIS code, commune code, dwellings, total
        consumption), empty or malformed year, code, count or consumption, negative
        count or consumption, an address twice in one year, a year not in the file.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    names = resolve_columns(path, header.names, _ALIASES, required=_REQUIRED,
                            overrides=source_columns)
    table = read_csv(path, columns=sorted(set(names.values())), encoding=encoding, header=header)
    years = _years(table, names["annee"])
    keep, chosen = _select_year(table, names["annee"], years, year)
    code_iris, masked = _code_iris(table, names, pad_codes)
    out: dict[str, object] = {"annee": years, "code_iris": code_iris}
    for name in ENEDIS_COLUMNS[2:-1]:
        out[name] = _column(table, names, name, decimal, pad_codes)
    out["iris_masque"] = masked
    frame = pd.DataFrame(out)
    _check_unique_addresses(table, frame, names)
    frame = frame[keep].reset_index(drop=True)
    frame.attrs.update(years=sorted(set(years.tolist())), year=chosen,
                       masked_iris_rows=int(frame["iris_masque"].sum()),
                       rows_without_iris=int((frame["code_iris"].isna() & ~frame["iris_masque"]).sum()))
    if layout == "operator":
        return _as_operator(frame)
    if layout != "enedis":
        raise ConfigError(f"option layout of connector 'enedis_consumption' is {layout!r}; use 'enedis' or 'operator'")
    return frame


def _as_operator(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "id_batiment": frame["code_iris"].fillna("masque").astype("str") + " | " + frame["adresse"].astype("str"),
        "annee": frame["annee"], "code_iris": frame["code_iris"], "code_commune": frame["code_commune"],
        "nb_points_livraison": frame["nombre_de_logements"], "nb_logements": frame["nombre_de_logements"],
        "conso_totale_mwh": frame["consommation_annuelle_totale_de_l_adresse_mwh"],
        "segment": frame["segment_de_client"].astype("str").str.lower()})
    out.attrs.update(frame.attrs)
    return out


def _years(table: CsvTable, column: str) -> np.ndarray:
    years = parse_int(table, column, table.column(column))
    bad = (years.isna() | (years < 2000) | (years > 2100)).to_numpy(dtype=bool)
    if bad.any():
        raise table.error("the year is missing or is not a year of the 21st century.",
                          index=int(np.flatnonzero(bad)[0]), column=column,
                          fix="correct the value, or remove the row.")
    return years.to_numpy(dtype="int64")


def _select_year(table: CsvTable, column: str, years: np.ndarray, year) -> tuple[np.ndarray, object]:
    present = sorted(set(years.tolist()))
    if year == "all":
        return np.ones(len(years), dtype=bool), "all"
    if year == "latest":
        chosen = present[-1]
    else:
        try:
            chosen = int(year)
        except (TypeError, ValueError):
            raise SourceError(table.header.label, "`year` is not a year, `latest` or `all`.",
                              column="year", fix="declare e.g. `year: 2023`, `year: latest` "
                                                 "or `year: all`.") from None
    if chosen not in present:
        raise SourceError(table.header.label, f"the file has no row for the year {chosen}.",
                          column=column, fix=f"declare one of the years it has with `year:` "
                          f"({', '.join(map(str, present))}), or `year: latest`.")
    return years == chosen, chosen


def _code_iris(table: CsvTable, names: dict[str, str], pad: bool) -> tuple[pd.Series, np.ndarray]:
    column = names["code_iris"]
    text = as_text(table.column(column))
    placeholder = pc.and_(pc.equal(pc.utf8_length(text), 9),
                          pc.match_substring_regex(text, r"^[0-9AB]*[xX]+$"))
    masked = pc.fill_null(placeholder, False).to_numpy(zero_copy_only=False)
    if "nom_iris" in names:
        fictitious = pc.starts_with(pc.utf8_lower(as_text(table.column(names["nom_iris"]))), "fictif")
        masked = masked | pc.fill_null(fictitious, False).to_numpy(zero_copy_only=False)
    kept = pc.if_else(pa.array(masked), pa.scalar(None, pa.string()), text)
    codes = parse_code(table, column, kept, kind="iris", pad=pad, required=False)
    return codes, masked


def _column(table: CsvTable, names: dict[str, str], name: str, decimal: str, pad: bool):
    size = len(table)
    if name not in names:
        if name == "numero_de_voie":
            return pd.Series(pd.NA, index=range(size), dtype="Int64")
        return np.full(size, np.nan) if name in _AVERAGES else pd.Series(pd.NA, index=range(size), dtype="str")
    column = names[name]
    values = table.column(column)
    if name in _TEXT:
        return pd.Series(as_text(values).to_pandas(), dtype="str")
    if name == "numero_de_voie":
        return parse_int(table, column, values)
    if name == DWELLINGS:
        return _count(table, column, values)
    if name in (TOTAL_MWH, *_AVERAGES):
        return _consumption(table, column, values, decimal, required=name == TOTAL_MWH)
    text = pc.replace_substring_regex(as_text(values), _FLOAT_INTEGER, r"\1")
    if name == "code_commune":
        return parse_code(table, column, text, kind="commune", pad=pad)
    if name == "code_departement":
        return parse_code(table, column, text, kind="departement", pad=pad, required=False)
    return _other_code(table, column, text, *_OTHER_CODES[name], pad)


def _count(table: CsvTable, column: str, values) -> np.ndarray:
    counts = parse_int(table, column, values)
    bad = (counts.isna() | (counts < 0)).to_numpy(dtype=bool)
    if bad.any():
        raise table.error("the number of dwellings is missing or negative.",
                          index=int(np.flatnonzero(bad)[0]), column=column,
                          fix="correct the value, or remove the row.")
    return counts.to_numpy(dtype="int64")


def _consumption(table: CsvTable, column: str, values, decimal: str, *, required: bool) -> np.ndarray:
    mwh = parse_float(table, column, values, decimal=decimal)
    bad = (mwh < 0) | (np.isnan(mwh) if required else False)
    if np.any(bad):
        raise table.error("the consumption is missing or negative.",
                          index=int(np.flatnonzero(bad)[0]), column=column,
                          fix="correct the value, or remove the row.")
    return mwh


def _other_code(table: CsvTable, column: str, text: pa.ChunkedArray, pattern: str, width: int,
                pad: bool) -> pd.Series:
    if pad:
        numeric = pc.fill_null(pc.match_substring_regex(text, r"^\d+$"), False)
        text = pc.if_else(numeric, pc.utf8_lpad(text, width, "0"), text)
    bad = pc.invert(pc.fill_null(pc.match_substring_regex(text, pattern), True))
    bad = bad.to_numpy(zero_copy_only=False)
    if bad.any():
        raise table.error(f"value is not a code of {width} digits.",
                          index=int(np.flatnonzero(bad)[0]), column=column,
                          fix="export the column as text so codes keep their leading zeros, "
                              "or declare `pad_codes: true`.")
    return pd.Series(text.to_pandas(), dtype="str")


def _check_unique_addresses(table: CsvTable, frame: pd.DataFrame, names: dict[str, str]) -> None:
    """An address listed twice in one year and IRIS would count its dwellings twice.

    The IRIS is part of the key: Enedis lists one street number in two IRIS when its
    delivery points lie on both sides of a boundary (62 such pairs in Lyon 8e).
    """
    if "adresse" not in names:
        return
    keys = pd.DataFrame({"annee": frame["annee"], "code_commune": frame["code_commune"],
                         "iris": as_text(table.column(names["code_iris"])).to_pandas(),
                         "adresse": frame["adresse"]})
    duplicated = (keys.duplicated() & keys["adresse"].notna()).to_numpy()
    if duplicated.any():
        raise table.error("this address appears twice for the same year and IRIS.",
                          index=int(np.flatnonzero(duplicated)[0]), column=names["adresse"],
                          fix="remove the duplicated row: its dwellings would be counted twice.")
