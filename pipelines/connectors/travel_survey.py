"""Household travel survey: a persons file and a trips file, read as one row per trip.

Travel surveys (EMC² by Cerema, the local "enquêtes ménages déplacements", or an
authority's own survey) are published to partners as several files linked by ids: the
persons interviewed, with their household and home location, and the trips each made.
The anonymiser needs both at once (the trip's mode, the household as the unit counted,
the home as the place generalised to zones), so this connector reads the persons file
named by the card (``file:``) and the trips file beside it (option ``trips:``), checks
that they fit together, and returns one row per trip carrying its person's household and
home.

Decisions:

- **Persons without trips** are not rows of the result (they made no trip to count);
  they are counted in ``attrs["persons_without_trips"]``. The anonymiser therefore counts
  households with at least one trip, fewer than the households interviewed: its
  threshold test is stricter, never laxer.
- **One home per household.** Members of a household share its home; a household whose
  members are located at different places is an error (its trips would be counted in
  two zones).
- ``nb_deplacements`` is 1 on every row, so that the anonymiser's sum gives the number of
  trips per zone, next to its shares of rows per mode.
- Errors name the file, line and column, never a value: these files are personal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from pipelines.connectors._columns import resolve_columns
from pipelines.connectors._csv import CsvTable, read_csv, read_header
from pipelines.connectors._points import points_frame, project_points
from pipelines.connectors._values import as_text, parse_float
from pipelines.connectors.registry import connector

__all__ = ["read_travel_survey"]

_PERSONS = {"id_personne": ("id_personne", "id_pers", "ident_pers"),
            "id_menage": ("id_menage", "id_men", "ident_men"),
            "x": ("x_domicile_l93", "x_domicile", "x_l93", "x"),
            "y": ("y_domicile_l93", "y_domicile", "y_l93", "y"),
            "tranche_age": ("tranche_age",), "taille_menage": ("taille_menage",)}
_TRIPS = {"id_personne": ("id_personne", "id_pers", "ident_pers"),
          "id_deplacement": ("id_deplacement", "id_depl", "num_depl"),
          "mode": ("mode", "mode_principal"), "motif": ("motif", "motif_destination"),
          "distance_km": ("distance_km",)}
OUTPUT_COLUMNS = ("id_personne", "id_menage", "tranche_age", "taille_menage", "id_deplacement",
                  "mode", "motif", "distance_km", "nb_deplacements", "x", "y")


@connector("travel_survey")
def read_travel_survey(path, *, working_crs="EPSG:2154", trips: str = "travel_survey_trips.csv",
                       crs: str = "EPSG:2154", encoding: str = "utf-8", sep: str | None = None,
                       decimal: str = ".") -> pd.DataFrame:
    """Read a travel survey's persons and trips files as one row per trip.

    Parameters
    ----------
    path : str or Path
        The persons file (one row per person: ``id_personne``, ``id_menage``, home
        coordinates ``x_domicile_l93``/``y_domicile_l93``, optionally ``tranche_age``,
        ``taille_menage``).
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y``.
    trips : str, default ``"travel_survey_trips.csv"``
        The trips file (``id_personne``, ``id_deplacement``, ``mode``, optionally
        ``motif``, ``distance_km``), relative to the persons file's folder.
    crs : str, default ``"EPSG:2154"``
        CRS of the home coordinates.
    encoding, sep, decimal : optional
        As for the other CSV connectors (UTF-8, separator sniffed, decimal point).

    Returns
    -------
    pandas.DataFrame
        :data:`OUTPUT_COLUMNS` (ids, age band, mode and motif as text; ``distance_km``
        float64; ``taille_menage`` Int64; ``nb_deplacements`` int64, always 1; ``x``,
        ``y`` the home in the working CRS). ``attrs``: ``crs``, ``persons``, ``trips``,
        ``persons_without_trips``.

    Raises
    ------
    SourceError
        Missing file or column, empty or duplicated person id, a household located at
        two places, a trip of an unknown person, a trip without a mode or listed twice,
        malformed numbers or coordinates outside the declared CRS.
    """
    persons_path = Path(path)
    trips_path = persons_path.parent / trips
    persons, px, py = _persons(persons_path, encoding, sep, decimal, crs, working_crs)
    table, located = _trips(trips_path, encoding, sep, decimal)
    person = _person_rows(table, persons["id_personne"], *located)
    out = {name: table[name] for name in ("id_deplacement", "mode", "motif", "distance_km")}
    rows = {name: persons[name].take(person).reset_index(drop=True)
            for name in ("id_personne", "id_menage", "tranche_age", "taille_menage")}
    frame = points_frame({**rows, **out, "nb_deplacements": np.ones(len(person), dtype="int64")},
                         px[person], py[person], working_crs)
    frame = frame[list(OUTPUT_COLUMNS)]
    frame.attrs.update(persons=len(persons), trips=len(frame),
                       persons_without_trips=int(len(persons) - len(np.unique(person))))
    return frame


def _names(aliases: dict[str, tuple[str, ...]]) -> set[str]:
    return {name for names in aliases.values() for name in names}


def _text(table: CsvTable, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=range(len(table)), dtype="str")
    return pd.Series(as_text(table.column(column)).to_pandas(), dtype="str")


def _required_text(table: CsvTable, names: dict[str, str], output: str, what: str) -> pd.Series:
    values = _text(table, names[output])
    empty = values.isna().to_numpy()
    if empty.any():
        raise table.error(f"{what} is empty.", index=int(np.flatnonzero(empty)[0]),
                          column=names[output], fix="fill in the field or remove the row.")
    return values


def _persons(path: Path, encoding, sep, decimal, crs, working_crs):
    header = read_header(path, encoding=encoding, sep=sep, expected=_names(_PERSONS))
    names = resolve_columns(path, header.names, _PERSONS, required=("id_personne", "id_menage", "x", "y"))
    table = read_csv(path, columns=sorted(set(names.values())), encoding=encoding, header=header)
    ids = _required_text(table, names, "id_personne", "person id")
    twice = ids.duplicated().to_numpy()
    if twice.any():
        raise table.error("this person id is listed twice.", index=int(np.flatnonzero(twice)[0]),
                          column=names["id_personne"], fix="keep one row per person.")
    households = _required_text(table, names, "id_menage", "household id")
    x = parse_float(table, names["x"], table.column(names["x"]), decimal=decimal)
    y = parse_float(table, names["y"], table.column(names["y"]), decimal=decimal)
    x, y = project_points(table, x, y, source_crs=crs, working_crs=working_crs,
                          x_column=names["x"], path=path)
    _check_one_home(table, households, x, y, names["x"])
    size = names.get("taille_menage")
    sizes = (pd.Series(pd.array(parse_float(table, size, table.column(size)), dtype="Float64")).round()
             .astype("Int64") if size else pd.Series(pd.NA, index=range(len(table)), dtype="Int64"))
    persons = pd.DataFrame({"id_personne": ids, "id_menage": households,
                            "tranche_age": _text(table, names.get("tranche_age")), "taille_menage": sizes})
    return persons, np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")


def _check_one_home(table: CsvTable, households: pd.Series, x: np.ndarray, y: np.ndarray, column: str) -> None:
    homes = pd.DataFrame({"h": households.to_numpy(), "x": x, "y": y})
    # "first" skips missing values: a member without coordinates is compared with a
    # located one, and an unlocated household stays unlocated (NaN on both sides).
    first = homes.groupby("h", sort=False)[["x", "y"]].transform("first").to_numpy()
    here = homes[["x", "y"]].to_numpy()
    moved = ~((first == here) | (np.isnan(first) & np.isnan(here))).all(axis=1)
    if moved.any():
        raise table.error("a member of this household lives elsewhere than the others.",
                          index=int(np.flatnonzero(moved)[0]), column=column,
                          fix="give every member of a household the household's home coordinates.")


def _trips(path: Path, encoding, sep, decimal) -> tuple[pd.DataFrame, tuple[CsvTable, str]]:
    header = read_header(path, encoding=encoding, sep=sep, expected=_names(_TRIPS))
    names = resolve_columns(path, header.names, _TRIPS, required=("id_personne", "id_deplacement", "mode"))
    table = read_csv(path, columns=sorted(set(names.values())), encoding=encoding, header=header)
    frame = pd.DataFrame({
        "id_personne": _required_text(table, names, "id_personne", "person id"),
        "id_deplacement": _required_text(table, names, "id_deplacement", "trip id"),
        "mode": _required_text(table, names, "mode", "mode"),
        "motif": _text(table, names.get("motif")),
        "distance_km": (parse_float(table, names["distance_km"], table.column(names["distance_km"]), decimal=decimal)
                        if "distance_km" in names else np.full(len(table), np.nan)),
    })
    twice = frame.duplicated(["id_personne", "id_deplacement"]).to_numpy()
    if twice.any():
        raise table.error("this trip is listed twice for the same person.", index=int(np.flatnonzero(twice)[0]),
                          column=names["id_deplacement"], fix="keep one row per trip.")
    return frame, (table, names["id_personne"])


def _person_rows(trips: pd.DataFrame, person_ids: pd.Series, table: CsvTable, column: str) -> np.ndarray:
    """Row of each trip's person in the persons file; a trip of an unknown person is an error."""
    found = pc.index_in(as_text(trips["id_personne"]), value_set=as_text(person_ids))
    unknown = pc.is_null(found).to_numpy(zero_copy_only=False)
    if unknown.any():
        raise table.error("refers to a person that the persons file does not list.",
                          index=int(np.flatnonzero(unknown)[0]), column=column,
                          fix="use the survey's files of the same delivery, or remove the trip.")
    return found.to_numpy(zero_copy_only=False).astype("int64")
