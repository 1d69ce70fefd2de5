"""ADEME energy performance diagnoses (DPE) of dwellings, three layouts.

Columns are matched by key (lower case, accents and punctuation folded, see
:mod:`pipelines.connectors._columns`), so one table serves all layouts. For each output,
the 2021-method API name (snake_case), the 2021-method historical export label and the
pre-July-2021 dataset name:

- ``numero_dpe``: ``numero_dpe`` or ``n_dpe``; ``N°DPE``; ``numero_dpe``
- ``etiquette_dpe``: ``etiquette_dpe``; ``Etiquette_DPE``; ``classe_consommation_energie``
- ``conso_ep_m2``: ``conso_5_usages_par_m2_ep``; ``Conso_5_usages_par_m²_é_primaire``;
  ``consommation_energie``
- ``surface_m2``: ``surface_habitable_logement``; ``Surface_habitable_logement``;
  ``surface_thermique_lot``
- ``annee_construction``, ``periode_construction``, ``type_batiment``: same names, with
  accents in the historical export (``Année_construction`` ...); the pre-2021 dataset
  only has the year
- ``date_etablissement``: ``date_etablissement_dpe``; ``Date_établissement_DPE``
- ``code_commune``: ``code_insee_ban``; ``Code_INSEE_(BAN)``; ``code_insee_commune_actualise``
- ``identifiant_ban``: ``identifiant_ban``; ``Identifiant__BAN``; --
- ``x``, ``y``: ``coordonnee_cartographique_x_ban``/``_y_ban`` and
  ``Coordonnée_cartographique_X_(BAN)``/``Y`` (CRS from ``crs``, default Lambert-93);
  otherwise ``longitude``/``latitude`` (WGS84); otherwise ``coordonnee_x``/``_y``
  (CRS from ``crs``).

Decisions:

- A diagnosis replaced by a later one (``numero_dpe_remplace`` of another row) is
  dropped, so that a re-diagnosed dwelling counts once (``attrs["replaced_rows"]``).
- Rows without coordinates (not geocoded by the BAN) are kept with NaN ``x``/``y`` and
  counted in ``attrs["rows_without_coordinates"]``: they still count per commune code.
- ``etiquette_dpe`` must be A to G; ``N``/``NC`` (old DPE without a label) and empty
  fields become NA, counted in ``attrs["rows_without_label"]``.
- ``avant_1975`` (before the first thermal regulation) comes from the construction year
  when given, else from the period (``avant 1948`` and ``1948-1974`` are true, later
  periods false), else NA; the "logements neufs" dataset has neither column: declare
  ``dataset: neufs`` and it is false for every row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from pipelines.connectors._columns import header_key, resolve_columns
from pipelines.connectors._csv import CsvTable, read_csv, read_header
from pipelines.connectors._points import points_frame, project_points
from pipelines.connectors._values import as_text, mask_tokens, parse_code, parse_date, parse_float, parse_int
from pipelines.connectors.registry import connector

__all__ = ["read_dpe", "DPE_COLUMNS", "before_1975"]

DPE_COLUMNS = ("numero_dpe", "etiquette_dpe", "conso_ep_m2", "conso_ef_m2", "surface_m2", "annee_construction",
               "periode_construction", "avant_1975", "type_batiment", "date_etablissement",
               "code_commune", "identifiant_ban", "x", "y")
_ALIASES = {
    "numero_dpe": ("numero_dpe", "n_dpe"),
    "etiquette_dpe": ("etiquette_dpe", "classe_consommation_energie"),
    "conso_ep_m2": ("conso_5_usages_par_m2_ep", "conso_5_usages_par_m2_e_primaire",
                    "consommation_energie"),
    "conso_ef_m2": ("conso_5_usages_par_m2_ef", "conso_5_usages_m2_e_finale", "conso_5_usages_par_m2_e_finale"),
    "surface_m2": ("surface_habitable_logement", "surface_thermique_lot", "surface_habitable"),
    "annee_construction": ("annee_construction",),
    "periode_construction": ("periode_construction",),
    "type_batiment": ("type_batiment",),
    "date_etablissement": ("date_etablissement_dpe",),
    "code_commune": ("code_insee_ban", "code_insee_commune_actualise", "code_insee_commune"),
    "identifiant_ban": ("identifiant_ban",),
    "numero_dpe_remplace": ("numero_dpe_remplace", "n_dpe_remplace"),
    "ban_x": ("coordonnee_cartographique_x_ban",), "ban_y": ("coordonnee_cartographique_y_ban",),
    "longitude": ("longitude",), "latitude": ("latitude",),
    "old_x": ("coordonnee_x",), "old_y": ("coordonnee_y",),
}
_COORDINATES = (("ban_x", "ban_y", None), ("longitude", "latitude", "EPSG:4326"),
                ("old_x", "old_y", None))
_LABELS = r"^[A-G]$"
_NO_LABEL = ("n", "nc")


@connector("dpe")
def read_dpe(path, *, working_crs="EPSG:2154", encoding: str = "utf-8", sep: str | None = None,
             decimal: str = ".", crs: str = "EPSG:2154", pad_codes: bool = False,
             dataset: str | None = None, source_columns: dict[str, str] | None = None):
    """Read a DPE CSV export (2021 method API or historical export, or pre-2021 dataset).

    Parameters
    ----------
    path : str or Path
        The CSV file as downloaded.
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y``.
    encoding, sep, decimal : optional
        UTF-8 (a BOM is skipped), separator sniffed from the header, decimal point.
    crs : str, default ``"EPSG:2154"``
        CRS of the projected BAN coordinates (overseas files use their local CRS).
    pad_codes : bool, default False
        Left-pad commune codes that lost their leading zeros (otherwise an error).
    dataset : {"existants", "neufs"}, optional
        ``neufs`` marks every dwelling as built after 1975.
    source_columns : dict, optional
        Output name -> published name, for columns the aliases miss.

    Returns
    -------
    pandas.DataFrame
        Points frame with :data:`DPE_COLUMNS`; ``attrs``: ``crs``, ``layout``,
        ``rows_without_coordinates``, ``rows_without_label``.

    Raises
    ------
    SourceError
        As every CSV connector, plus: label not A-G, malformed commune code, coordinates
        outside their CRS's area.
    """
    header = read_header(path, encoding=encoding, sep=sep)
    names = resolve_columns(path, header.names, _ALIASES, overrides=source_columns,
                            required=("numero_dpe", "etiquette_dpe"))
    x_key, y_key, coordinates_crs = _coordinate_columns(path, header.names, names)
    table = read_csv(path, columns=sorted(set(names.values())), encoding=encoding, header=header)
    labels, no_label = _labels(table, names["etiquette_dpe"])
    columns = {"numero_dpe": _text(table, names, "numero_dpe"), "etiquette_dpe": labels,
               **_measures(table, names, decimal), **_construction(table, names, dataset),
               "type_batiment": _text(table, names, "type_batiment"),
               "date_etablissement": _date(table, names),
               "code_commune": _codes(table, names, pad_codes),
               "identifiant_ban": _text(table, names, "identifiant_ban")}
    x = parse_float(table, names[x_key], table.column(names[x_key]), decimal=decimal)
    y = parse_float(table, names[y_key], table.column(names[y_key]), decimal=decimal)
    x, y = project_points(table, x, y, source_crs=coordinates_crs or crs,
                          working_crs=working_crs, x_column=names[x_key], path=path)
    layout = "pre2021" if header_key(names["etiquette_dpe"]) != "etiquette_dpe" else "2021"
    frame = points_frame(columns, x, y, working_crs, layout=layout, rows_without_label=no_label)
    return drop_replaced(frame, _text(table, names, "numero_dpe_remplace"))


def drop_replaced(frame: pd.DataFrame, replaced: pd.Series) -> pd.DataFrame:
    """Drop the diagnoses that a later one replaces (ADEME's ``numero_dpe_remplace``).

    A dwelling re-diagnosed after a correction appears twice in the dataset; counting both
    would count it twice. The number of rows dropped is kept in ``attrs``.
    """
    superseded = set(replaced.dropna()) - {""}
    gone = frame["numero_dpe"].isin(superseded).to_numpy()
    out = frame[~gone].reset_index(drop=True)
    out.attrs = dict(frame.attrs) | {"replaced_rows": int(gone.sum())}
    return out


def _coordinate_columns(path, header: list[str], names: dict[str, str]):
    for x_key, y_key, crs in _COORDINATES:
        if x_key in names and y_key in names:
            return x_key, y_key, crs
    accepted = {"coordonnee_cartographique_x_ban": (*_ALIASES["ban_x"], "longitude", "coordonnee_x")}
    resolve_columns(path, header, accepted, required=("coordonnee_cartographique_x_ban",))
    raise AssertionError("unreachable: resolve_columns raises on a missing column")


def _empty(table: CsvTable, dtype: str) -> pd.Series:
    return pd.Series(pd.NA, index=range(len(table)), dtype=dtype)


def _text(table: CsvTable, names: dict[str, str], output: str) -> pd.Series:
    if output not in names:
        return _empty(table, "str")
    return pd.Series(as_text(table.column(names[output])).to_pandas(), dtype="str")


def _labels(table: CsvTable, column: str) -> tuple[pd.Series, int]:
    text, _ = mask_tokens(pc.utf8_upper(as_text(table.column(column))), _NO_LABEL)
    ok = pc.fill_null(pc.match_substring_regex(text, _LABELS), True)
    bad = pc.invert(ok).to_numpy(zero_copy_only=False)
    if bad.any():
        raise table.error("energy label is not one of A to G.", index=int(np.flatnonzero(bad)[0]),
                          column=column, fix="correct the value or empty the field.")
    return pd.Series(text.to_pandas(), dtype="str"), int(text.null_count)


def _measures(table: CsvTable, names: dict[str, str], decimal: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for output in ("conso_ep_m2", "conso_ef_m2", "surface_m2"):
        if output in names:
            column = names[output]
            out[output] = parse_float(table, column, table.column(column), decimal=decimal)
        else:
            out[output] = np.full(len(table), np.nan)
    return out


def _construction(table: CsvTable, names: dict[str, str], dataset: str | None) -> dict:
    year = (parse_int(table, names["annee_construction"], table.column(names["annee_construction"]))
            if "annee_construction" in names else _empty(table, "Int64"))
    period = _text(table, names, "periode_construction")
    if dataset == "neufs":
        before = pd.Series(False, index=range(len(table)), dtype="boolean")
    elif dataset in (None, "existants"):
        before = before_1975(year, period)
    else:
        raise table.error(f"`dataset: {dataset}` is not an option.",
                          fix="use `dataset: existants` or `dataset: neufs`.")
    return {"annee_construction": year, "periode_construction": period, "avant_1975": before}


def before_1975(year: pd.Series, period: pd.Series) -> pd.Series:
    """Whether a dwelling predates 1975, from its year, else its construction period."""
    # A handful of distinct periods: decide each once, then look them up (-1 = empty).
    codes, periods = pd.factorize(period)
    decided = pd.array([_period_before_1975(p) for p in periods] + [None], dtype="boolean")
    from_period = pd.Series(decided[codes], index=period.index)
    from_year = (year < 1975).astype("boolean")
    return from_year.fillna(from_period)


def _period_before_1975(period: str):
    years = [int(y) for y in re.findall(r"\d{4}", period)]
    if not years:
        return None
    lowered = period.lower()
    if lowered.startswith("avant"):
        return True if years[0] <= 1975 else None
    if lowered.startswith(("après", "apres", "depuis")):
        return False if years[0] >= 1974 else None
    if years[-1] < 1975:
        return True
    return False if years[0] >= 1975 else None


def _date(table: CsvTable, names: dict[str, str]) -> pd.Series:
    if "date_etablissement" not in names:
        return _empty(table, "datetime64[s]")
    column = names["date_etablissement"]
    return parse_date(table, column, table.column(column))


def _codes(table: CsvTable, names: dict[str, str], pad: bool) -> pd.Series:
    if "code_commune" not in names:
        return _empty(table, "str")
    column = names["code_commune"]
    return parse_code(table, column, table.column(column), kind="commune", pad=pad,
                      required=False)
