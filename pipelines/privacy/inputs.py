"""Validation of private and personal inputs, before anything is pseudonymised or aggregated.

A connector checks that a file can be read as declared (types, codes, the CRS's area of
use); this module checks that what it read is plausible for the source, so that a bad
file stops the run instead of publishing nonsense: a meter number swapped into the
consumption, ``inf`` or ``1e400`` kWh, the month ``2023-13``, a meter number saved as a
float (``...077.0``, a second household), the same readings twice, or a whole file in
another CRS than declared. The anonymiser (:func:`pipelines.assets.protected.protect`)
calls :func:`validate_input` on the connector's frame first, then, after the card's
``filter:`` and the assignment of zones, :func:`check_locations`.

The rules are declared in the source card, under ``aggregation:`` (pydantic models in
:mod:`pipelines.catalogue.models`: ``ColumnCheck``, ``Duplicates``, ``LocationCheck``)::

    aggregation:
      checks:                    # column of the connector's frame -> plausible values
        numero_compteur: {pattern: '^\\d{14}$', required: true}   # text identifiers: a regex
        mois: {month: true, required: true}                       # YYYY-MM, 01..12, not in the future
        conso_kwh: {min: 0, max: 26784}                           # numbers: a range
        x: {required: true}      # coordinates are `x`/`y`, whatever the file calls them
      duplicates: {key: [numero_compteur, mois], rule: drop_identical}
      location: {margin_m: 100, max_share: 0.01}                  # the default

Rules, in the order they run:

1. Every column named under ``checks:`` or ``duplicates.key`` must be in the frame.
2. Row by row (all rows of the file, before the card's ``filter:``):

   - ``required``: no empty value. The ``unit`` column and the ``identifiers`` are
     always required.
   - numbers (columns with ``min``/``max``, and always the ``values:`` and ``weight:``
     columns and the coordinates ``x``/``y``): a number, finite (``inf``, ``-inf`` and
     values too large for a float such as ``1e400`` are refused), and within
     ``[min, max]``. An empty field is a missing value and allowed unless ``required``;
     a field that holds text but was read as NaN (the word ``nan``) is refused: it is a
     computation gone wrong upstream, not a missing reading (checked on the file's text
     for the ``point_csv`` and ``travel_survey`` formats).
   - ``pattern``: the whole text matches the regular expression. A column read as a
     number is compared in its text form, so a meter number read as a float fails, and
     the message says it looks saved as a number (``.0``).
   - ``month``: ``YYYY-MM`` with a month 01 to 12, not after the current month.

   The first failing row is reported, with how many rows fail the same check; when
   several columns fail on that row, the message says the columns look swapped or
   shifted (a whole-column swap fails on every row in both columns).
3. ``duplicates``: rows sharing ``key``, by ``rule``: ``refuse`` (any stops the run),
   ``drop_identical`` (rows identical in every column are kept once; rows sharing the
   key with other values stop the run), ``keep_first`` (the first row of each key in
   file order), ``sum`` (merged into one row whose ``values:`` columns are added; the
   other columns must be equal). Removed rows are counted in :class:`InputReport`,
   shown in the asset's metadata: nothing changes a published figure silently.
4. ``location``: located rows that fall in no IRIS and lie farther than ``margin_m``
   from every IRIS may be at most ``max_share`` of the located rows (a wrong CRS, or
   another territory's file, puts them all outside; a few addresses just across the
   border are dropped by the anonymiser and counted). Sources placed by an IRIS code
   (no ``x``/``y``) are not checked here.

Errors are :class:`pipelines.errors.SourceError` naming the file the row comes from, the
row, the column as the file names it (``x_l93`` for ``x``) and the fix. The row is the
line number in that file, the header being line 1 (the numbering of the connectors: the
first data record is line 2, a record spanning several lines is named by its first
line). For the travel survey, a column of the persons file (household, home, age band,
household size) is located in the persons file, the others in the trips file. For other
formats, whose rows are not lines of one file (a connector that keeps one year), the
row is left out and the message gives the record number among those the connector
kept. A message never holds a value of the file, nor of its neighbours: only column
names, counts, and the card's bounds and patterns.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from pipelines.catalogue.models import Aggregation, ColumnCheck, SourceCard
from pipelines.errors import ConfigError, SourceError

__all__ = ["validate_input", "check_locations", "source_rows", "InputReport", "FrameRows", "CsvRows",
           "SurveyRows"]

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_SAVED_AS_NUMBER = r"^[+-]?\d+\.0*$|^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"
_SWAP_FIX = ("check that the file's header matches its data (the producer's column order, the separator), "
             "and that no value was pasted into the wrong column.")


@dataclass(frozen=True)
class InputReport:
    """What the validation did, in counts only (for the asset's metadata)."""

    source: str
    rows_in: int
    duplicate_rule: str | None = None
    duplicates_removed: int = 0
    rows_far_outside: int = 0

    def to_metadata(self) -> dict:
        meta = {"input_rows": self.rows_in, "input_rows_far_outside": self.rows_far_outside}
        if self.duplicate_rule is not None:
            meta |= {"duplicate_rule": self.duplicate_rule, "duplicate_rows_removed": self.duplicates_removed}
        return meta


# --- Where a row comes from -----------------------------------------------------------------

class FrameRows:
    """Rows that are not lines of one file: an in-memory frame, or a connector that selects
    rows. ``first_line`` (e.g. 2 for a CSV with a header and one line per record) turns a
    record position into a line; without it, errors give the record number in the text."""

    def __init__(self, label, *, first_line: int | None = None, columns: dict[str, str] | None = None):
        self.label = str(label)
        self.first_line = first_line
        self.columns = columns or {}

    def file_column(self, column: str) -> str:
        return self.columns.get(column, column)

    def where(self, position: int, column: str) -> tuple[str, int | None]:
        return self.label, None if self.first_line is None else position + self.first_line

    def raw(self, column: str) -> np.ndarray | None:
        """The file's text of `column`, one entry per record (None where unknown)."""
        return None

    def describe(self, position: int, column: str) -> str:
        label, line = self.where(position, column)
        return f"line {line}" if line is not None else f"record {position + 1} as the connector gave it"

    def error(self, problem: str, *, position: int, column: str, fix: str) -> SourceError:
        label, line = self.where(position, column)
        if line is None:
            problem = f"{problem} (record {position + 1} of the rows the connector kept; this format's rows are " \
                      "not lines of one file.)"
        return SourceError(label, problem, row=line, column=self.file_column(column), fix=fix)


class CsvRows(FrameRows):
    """Records of one CSV file, read by a connector one record per row (``point_csv``)."""

    def __init__(self, path, *, columns: dict[str, str], encoding: str = "utf-8", sep: str | None = None):
        super().__init__(path, columns=columns)
        self.path, self.encoding, self.sep = Path(path), encoding, sep
        self._tables: dict = {}

    def _table(self, file_column: str | None = None):
        from pipelines.connectors._csv import read_csv, read_header

        if file_column not in self._tables:
            header = read_header(self.path, encoding=self.encoding, sep=self.sep)
            name = file_column if file_column in header.names else header.names[0]
            self._tables[file_column] = read_csv(self.path, columns=[name], encoding=self.encoding, header=header)
        return self._tables[file_column]

    def where(self, position: int, column: str) -> tuple[str, int | None]:
        table = self._table(next(iter(self._tables), None))
        return table.header.label, table.line_of(position)

    def text(self, column: str):
        """The file's text of `column` (an Arrow string array), or None if the file lacks it."""
        name = self.file_column(column)
        table = self._table(name)
        return table.column(name) if name in table.table.column_names else None

    def raw(self, column: str) -> np.ndarray | None:
        text = self.text(column)
        return None if text is None else text.to_numpy(zero_copy_only=False)


class SurveyRows(FrameRows):
    """The travel survey's rows: one per trip of the trips file, carrying its person's
    household and home from the persons file (``pipelines.connectors.travel_survey``)."""

    PERSON_COLUMNS = frozenset({"id_menage", "tranche_age", "taille_menage", "x", "y"})

    def __init__(self, persons_path, trips_path, *, person_ids: pd.Series, encoding: str = "utf-8",
                 sep: str | None = None):
        super().__init__(persons_path)
        self.files = {"persons": CsvRows(persons_path, columns={}, encoding=encoding, sep=sep),
                      "trips": CsvRows(trips_path, columns={}, encoding=encoding, sep=sep)}
        self.person_ids = person_ids.reset_index(drop=True)
        self._names: dict[str, dict[str, str]] = {}
        self._person_rows: np.ndarray | None = None

    def _file(self, column: str) -> str:
        return "persons" if column in self.PERSON_COLUMNS else "trips"

    def _resolved(self, which: str) -> dict[str, str]:
        from pipelines.connectors import travel_survey
        from pipelines.connectors._columns import resolve_columns
        from pipelines.connectors._csv import read_header

        if which not in self._names:
            rows = self.files[which]
            header = read_header(rows.path, encoding=rows.encoding, sep=rows.sep)
            aliases = travel_survey._PERSONS if which == "persons" else travel_survey._TRIPS
            self._names[which] = resolve_columns(rows.path, header.names, aliases)
            rows.columns = self._names[which]
        return self._names[which]

    def file_column(self, column: str) -> str:
        return self._resolved(self._file(column)).get(column, column)

    def _persons_of(self, positions: np.ndarray) -> np.ndarray:
        if self._person_rows is None:
            from pipelines.connectors._values import as_text

            self._resolved("persons")
            ids = as_text(self.files["persons"].text("id_personne"))  # trimmed, as the connector reads them
            found = pc.index_in(as_text(self.person_ids), value_set=ids.combine_chunks())
            self._person_rows = np.asarray(found.to_numpy(zero_copy_only=False), dtype="float64")
        return self._person_rows[positions]

    def where(self, position: int, column: str) -> tuple[str, int | None]:
        which = self._file(column)
        self._resolved(which)
        if which == "trips":
            return self.files["trips"].where(position, column)
        person = self._persons_of(np.array([position]))[0]
        if np.isnan(person):
            return self.files["persons"].label, None
        return self.files["persons"].where(int(person), column)

    def raw(self, column: str) -> np.ndarray | None:
        which = self._file(column)
        self._resolved(which)
        text = self.files[which].raw(column) if column in self._names[which] else None
        if text is None or which == "trips":
            return text
        rows = self._persons_of(np.arange(len(self.person_ids)))
        out = np.full(len(rows), None, dtype=object)
        known = ~np.isnan(rows)
        out[known] = text[rows[known].astype("int64")]
        return out


def source_rows(card: SourceCard, path, frame: pd.DataFrame) -> FrameRows:
    """How to name the rows of `frame`, read from `path` by the card's connector."""
    options = card.options
    encoding, sep = options.get("encoding", "utf-8"), options.get("sep")
    if card.format == "point_csv":
        columns = {c: c for c in frame.columns}
        columns |= {axis: options[axis] for axis in ("x", "y") if options.get(axis)}
        return CsvRows(path, columns=columns, encoding=encoding, sep=sep)
    if card.format == "travel_survey" and "id_personne" in frame.columns:
        trips = Path(path).parent / options.get("trips", "travel_survey_trips.csv")
        return SurveyRows(path, trips, person_ids=frame["id_personne"], encoding=encoding, sep=sep)
    return FrameRows(path)


# --- Values -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Failure:
    column: str
    mask: np.ndarray
    problem: str
    fix: str


def validate_input(frame: pd.DataFrame, card: SourceCard, *, rows: FrameRows | None = None
                   ) -> tuple[pd.DataFrame, InputReport]:
    """Check a private or personal source's rows against its card; apply its duplicate rule.

    Parameters
    ----------
    frame : pandas.DataFrame
        The connector's output; its index labels are the records' positions in the file
        (the RangeIndex a connector returns).
    card : SourceCard
        The source's card (as the territory sees it), with an ``aggregation:`` section.
    rows : FrameRows, optional
        Where the rows come from (:func:`source_rows`); default the frame's own positions.

    Returns
    -------
    frame : pandas.DataFrame
        The rows kept (duplicates removed or merged by the card's rule), index labels kept.
    report : InputReport
        Counts only.

    Raises
    ------
    SourceError
        On the first implausible row (file, line, column, fix; never a value), on
        duplicates the rule refuses, or when the card names a column the frame lacks.
    """
    agg = _aggregation(card)
    rows = rows or FrameRows(card.id)
    _check_declared(frame, agg, rows)
    failures = [f for column, spec in _specs(frame, agg).items() for f in _column_failures(frame, column, spec, rows)]
    failures = [f for f in failures if f.mask.any()]
    if failures:
        raise _first_error(failures, frame, rows)
    kept, removed = _apply_duplicates(frame, agg, rows)
    return kept, InputReport(source=card.id, rows_in=len(frame), duplicates_removed=removed,
                             duplicate_rule=agg.duplicates.rule if agg.duplicates else None)


def _aggregation(card: SourceCard) -> Aggregation:
    if card.aggregation is None:
        raise ConfigError(f"source card '{card.id}' has no `aggregation:` section to validate its input against")
    return card.aggregation


def _check_declared(frame: pd.DataFrame, agg: Aggregation, rows: FrameRows) -> None:
    named = [*agg.checks, *(agg.duplicates.key if agg.duplicates else [])]
    missing = sorted({c for c in named if c not in frame.columns})
    if missing:
        raise SourceError(rows.label, f"the card's `aggregation.checks`/`duplicates` name columns {missing} that "
                          "the connector does not give.", fix="name the columns of the connector's output "
                          "(`x`/`y` for coordinates), or remove these entries from the card.")


def _specs(frame: pd.DataFrame, agg: Aggregation) -> dict[str, tuple[ColumnCheck, bool, bool]]:
    """Column -> (declared check, required, numeric), implicit rules folded in."""
    numeric = {*agg.values, *([agg.weight] if agg.weight else []), *(c for c in ("x", "y") if c in frame.columns)}
    required = {*agg.identifiers, agg.unit}
    specs = {}
    for column in dict.fromkeys([*agg.checks, agg.unit, *agg.identifiers, *sorted(numeric)]):
        if column not in frame.columns:
            continue  # the anonymiser names declared columns the source lacks
        spec = agg.checks.get(column, ColumnCheck())
        is_number = column in numeric or spec.min is not None or spec.max is not None
        specs[column] = (spec, spec.required or column in required, is_number)
    return specs


def _column_failures(frame, column: str, spec_flags, rows: FrameRows) -> list[_Failure]:
    spec, required, numeric = spec_flags
    series = frame[column]
    missing = series.isna().to_numpy()
    failures = []
    if numeric:
        failures += _number_failures(series, column, spec, missing, rows)
    if spec.pattern or spec.month:
        failures += _text_failures(series, column, spec, missing)
    if required:  # after the others: a literal `nan` is said as such, not as an empty field
        failures.append(_Failure(column, missing, "the value is empty.", "fill in the value, or remove the row."))
    return failures


def _as_numbers(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        return np.full(len(series), np.nan)
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _number_failures(series, column, spec: ColumnCheck, missing, rows: FrameRows) -> list[_Failure]:
    numbers = _as_numbers(series)
    with np.errstate(invalid="ignore"):
        failures = [
            _Failure(column, ~missing & np.isnan(numbers), "the value is not a number.",
                     "correct the value, or empty the field; declare the column as a number in the card."),
            _Failure(column, np.isinf(numbers), "the value is not a finite number (infinite, or too large to "
                     "be held as a number).", "correct the value at the producer's, or empty the field."),
            _literal_nan(column, missing, rows),
        ]
        if spec.min is not None:
            failures.append(_Failure(column, numbers < spec.min,
                                     f"the value is below the plausible minimum {_shown(spec.min)} declared in the card.",
                                     "correct the value, or the card's `checks:` if such values are real."))
        if spec.max is not None:
            failures.append(_Failure(
                column, np.isfinite(numbers) & (numbers > spec.max),
                f"the value is above the plausible maximum {_shown(spec.max)} declared in the card; a value this large "
                "is often another column's (an identifier, a coordinate) shifted into this one.",
                "correct the row (or the columns' order), or the card's `checks:` if such values are real."))
    return failures


def _shown(bound: float) -> str:
    """A bound of the card as written there (26784, not 26784.0 or 2.7e+04)."""
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def _literal_nan(column: str, missing: np.ndarray, rows: FrameRows) -> _Failure:
    """Fields holding text (the word `nan`) that the connector read as a missing value."""
    bad = np.zeros(len(missing), dtype=bool)
    if missing.any():
        text = rows.raw(column)
        if text is not None and len(text) == len(missing):
            where = np.flatnonzero(missing)
            bad[where] = [value is not None and str(value).strip() != "" for value in text[where]]
    return _Failure(column, bad, "the field holds text that reads as not-a-number, where a number or an empty field "
                    "is expected.",
                    "correct the value at the producer's, or empty the field if the value is missing.")


def _text(series: pd.Series) -> pd.Series:
    return series if pd.api.types.is_string_dtype(series) and series.dtype != object else series.astype("str")


def _text_failures(series, column, spec: ColumnCheck, missing) -> list[_Failure]:
    text = _text(series)
    if spec.month:
        written = text.str.fullmatch(MONTH_PATTERN).fillna(False).to_numpy(dtype=bool)
        future = written & (text > _current_month()).fillna(False).to_numpy(dtype=bool)
        return [_Failure(column, ~missing & ~written, "the value is not a month written YYYY-MM (month 01 to 12).",
                         "correct the value: a four-digit year, a hyphen, a two-digit month from 01 to 12."),
                _Failure(column, ~missing & future, "the month is after the current month.",
                         "correct the value (a reading cannot be dated in the future).")]
    matches = text.str.fullmatch(spec.pattern).fillna(False).to_numpy(dtype=bool)
    as_number = text.str.fullmatch(_SAVED_AS_NUMBER).fillna(False).to_numpy(dtype=bool)
    saved = ~missing & ~matches & as_number
    return [_Failure(column, saved, f"the identifier looks saved as a number (a decimal point or an exponent): it "
                                    f"does not match the format {spec.pattern} declared in the card, and may have "
                                    "lost leading zeros (it would count as another unit).",
                     "export the column as text from the producer's system (leading zeros kept, no '.0'), and "
                     "declare it as `text` in the card's options."),
            _Failure(column, ~missing & ~matches & ~saved,
                     f"the value does not match the format {spec.pattern} declared in the card.",
                     "correct the value, or the card's `checks:` pattern if the producer's format differs.")]


def _current_month() -> str:
    return _dt.date.today().strftime("%Y-%m")


def _first_error(failures: list[_Failure], frame: pd.DataFrame, rows: FrameRows) -> SourceError:
    first = min(int(np.flatnonzero(f.mask)[0]) for f in failures)
    here = [f for f in failures if f.mask[first]]
    failing = list(dict.fromkeys(f.column for f in here))
    chosen = here[0]
    count = int(np.logical_or.reduce([f.mask for f in failures if f.column == chosen.column]).sum())
    problem = f"{chosen.problem} {count} row{'s' if count > 1 else ''} of the file fail the checks of this column."
    fix = chosen.fix
    if len(failing) > 1:
        names = ", ".join(f"'{rows.file_column(c)}'" for c in failing)
        problem = f"several columns fail on this row ({names}): the columns look swapped or shifted. " \
                  f"First: {problem}"
        fix = _SWAP_FIX
    return rows.error(problem, position=int(frame.index[first]), column=chosen.column, fix=fix)


# --- Duplicates -------------------------------------------------------------------------------

def _apply_duplicates(frame: pd.DataFrame, agg: Aggregation, rows: FrameRows) -> tuple[pd.DataFrame, int]:
    spec = agg.duplicates
    if spec is None:
        return frame, 0
    repeated = frame.duplicated(spec.key, keep="first").to_numpy()
    if not repeated.any():
        return frame, 0
    if spec.rule == "keep_first":
        return frame[~repeated], int(repeated.sum())
    if spec.rule == "refuse":
        raise _duplicate_error(frame, spec.key, repeated, rows, "this row repeats the key", "refuse")
    if spec.rule == "drop_identical":
        identical = frame.duplicated(keep="first").to_numpy()
        kept = frame[~identical]
        conflict = kept.duplicated(spec.key, keep="first").to_numpy()
        if conflict.any():
            raise _duplicate_error(kept, spec.key, conflict, rows, "this row has the key", "drop_identical",
                                   other="but other values")
        return kept, int(identical.sum())
    return _sum_duplicates(frame, agg, repeated, rows)


def _sum_duplicates(frame, agg: Aggregation, repeated: np.ndarray, rows: FrameRows) -> tuple[pd.DataFrame, int]:
    key = agg.duplicates.key
    summed = [c for c in agg.values if c not in key]
    others = [c for c in frame.columns if c not in key and c not in summed]
    groups = frame.groupby(key, sort=False, dropna=False)
    if others:
        first = groups[others].transform("first")
        same = (frame[others] == first) | (frame[others].isna() & first.isna())
        differs = ~same.fillna(False).to_numpy(dtype=bool).all(axis=1)
        if differs.any():
            raise _duplicate_error(frame, key, differs, rows, "this row has the key", "sum",
                                   other=f"but other values outside the summed columns {summed}")
    out = frame[~repeated].copy()
    if summed:
        totals = groups[summed].transform("sum", min_count=1)
        out[summed] = totals[~repeated]
    return out, int(repeated.sum())


def _duplicate_error(frame, key, mask, rows: FrameRows, what: str, rule: str, other: str = "") -> SourceError:
    at = int(np.flatnonzero(mask)[0])
    group = frame.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    earlier = int(frame.index[int(np.flatnonzero(group == group[at])[0])])
    count = int(mask.sum())
    names = ", ".join(rows.file_column(c) for c in key)
    problem = (f"{what} ({names}) of {rows.describe(earlier, key[0])}{' ' + other if other else ''}; "
               f"{count} row{'s' if count > 1 else ''} of the file do so, and the card's duplicate rule is `{rule}`.")
    fixes = {"refuse": "remove the repeated rows from the file, or declare in the card how to merge them "
                       "(`duplicates.rule`: drop_identical, keep_first or sum).",
             "drop_identical": "keep one row per key in the file (the producer must say which reading is right), "
                               "or declare `keep_first` or `sum` in the card if that is the file's meaning."}
    fix = fixes.get(rule, "make the other columns of the rows to merge equal, or declare another rule.")
    return rows.error(problem, position=int(frame.index[at]), column=key[0], fix=fix)


# --- Locations --------------------------------------------------------------------------------

def check_locations(frame: pd.DataFrame, zones: pd.DataFrame, iris, card: SourceCard, *,
                    rows: FrameRows | None = None) -> int:
    """Refuse a file whose points lie outside the territory beyond the card's stated share.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with float ``x``/``y`` in the working CRS (frames without ``x`` pass).
    zones : pandas.DataFrame
        Zone of every row (:func:`pipelines.assets.protected.zone_ids`), aligned with `frame`.
    iris : geopandas.GeoDataFrame
        The territory's IRIS, in the working CRS.
    card : SourceCard
        Its ``aggregation.location`` gives the margin and the share allowed.
    rows : FrameRows, optional

    Returns
    -------
    int
        Located rows in no IRIS and farther than the margin from every one (dropped by the
        anonymiser, counted).

    Raises
    ------
    SourceError
        When those rows are more than ``max_share`` of the located rows.
    """
    import shapely

    if "x" not in frame.columns or zones.shape[1] == 0:
        return 0
    spec = _aggregation(card).location
    rows = rows or FrameRows(card.id)
    x, y = frame["x"].to_numpy(dtype="float64"), frame["y"].to_numpy(dtype="float64")
    located = np.isfinite(x) & np.isfinite(y)
    unplaced = np.flatnonzero(located & zones.isna().any(axis=1).to_numpy())
    if not len(unplaced):
        return 0
    tree = shapely.STRtree(np.asarray(iris.geometry.values))
    hits, _ = tree.query(shapely.points(x[unplaced], y[unplaced]), predicate="dwithin", distance=spec.margin_m)
    near = np.zeros(len(unplaced), dtype=bool)
    near[np.unique(hits)] = True
    far = unplaced[~near]
    total = int(located.sum())
    if len(far) > spec.max_share * total:
        problem = (f"{len(far)} of the {total} located rows ({len(far) / total:.1%}) lie more than "
                   f"{spec.margin_m:g} m from every IRIS of the territory, where the card allows "
                   f"{spec.max_share:.1%}; this is the first of them.")
        raise rows.error(problem, position=int(frame.index[far[0]]), column="x", fix=(
            "check that the file is this territory's and that the card's `crs:` is the CRS its coordinates are "
            "really in (a file in another CRS puts every point outside); cut a wider file to the territory's "
            "communes, or raise `aggregation.location` in the card if these points are expected."))
    return int(len(far))
