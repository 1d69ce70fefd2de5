"""Protected statistics: figures of private or personal data that carry their protection.

A demonstrator computes every figure of a private or personal source through these
functions (re-exported by ``pipelines.api``). Each call records, for the column it
writes, what statistic it is: a protected ``count`` (the anonymiser's unit count of the
cell: households, delivery points, businesses), a ``cell`` statistic of the same cells
(a sum, mean, share or margin the anonymiser computed, hidden with its count), or a
``derived`` value computed from published protected columns and public data, hidden
wherever one of its bases is hidden or under its threshold.

The records are collected by the framework while it replays a demonstrator's steps
(:func:`recording`), and the release writes the manifests from them
(``pipelines.components.lineage``): a column whose lineage includes a private or personal
source and that no record covers blocks publication. Outside a recording the functions
compute the same values and record nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ProtectionRecord", "protected_cells", "protected_value", "recording"]

STATISTICS = ("count", "cell", "derived")


@dataclass(frozen=True)
class ProtectionRecord:
    """How one published column was protected.

    Attributes
    ----------
    column : str
        The column's name, as published.
    statistic : {"count", "cell", "derived"}
        A protected unit count, another statistic of the same protected cells, or a value
        derived from published protected columns.
    base : tuple of str
        The protected columns it is hidden with (empty for a count).
    sources : tuple of str
        The protected sources it comes from, when the framework tagged their aggregates
        (``attrs["datacites_source"]``, set by the lineage audit).
    """

    column: str
    statistic: str
    base: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"statistic": self.statistic, "base": list(self.base)}


_LEDGER: ContextVar[dict[str, ProtectionRecord] | None] = ContextVar("datacites_protection", default=None)


@contextmanager
def recording() -> Iterator[dict[str, ProtectionRecord]]:
    """Collect the records of every protected statistic computed inside the block."""
    ledger: dict[str, ProtectionRecord] = {}
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)


SOURCE_ATTR = "datacites_source"


def _record(column: str, statistic: str, base: Sequence[str] = (), sources: Sequence[str] = ()) -> None:
    ledger = _LEDGER.get()
    if ledger is None:
        return
    if not sources:  # a derived value comes from the sources of its bases
        sources = sorted({s for b in base if b in ledger for s in ledger[b].sources})
    # The first record of a column wins: a count stays a count when a later step joins it.
    ledger.setdefault(column, ProtectionRecord(column, statistic, tuple(base), tuple(sources)))


def protected_cells(aggregates: pd.DataFrame, zoning: str, id_column: str, columns: dict[str, str]) -> pd.DataFrame:
    """One zoning of protected aggregates, renamed; suppressed cells stay missing.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Long form as the anonymiser returns it: ``zoning``, ``zone_id``, ``secret`` (the
        reason a cell is hidden, missing when published) and the aggregated columns.
    zoning : str
        ``"iris"``, ``"commune"`` or ``"total"``.
    id_column : str
        Name of the zone id column in the result.
    columns : dict
        Published column -> aggregate column. The first is the protected count (recorded
        as a ``count``): its ``secret_<column>`` column carries the reason a cell is hidden
        ("" when shown). The others are statistics of the same cells (``cell`` records),
        hidden with it.

    Returns
    -------
    pandas.DataFrame
        ``id_column``, the published columns, ``secret_<count column>``.
    """
    rows = aggregates[aggregates["zoning"] == zoning]
    reason = rows["secret"].astype("str").where(rows["secret"].notna(), "")
    out = pd.DataFrame({id_column: rows["zone_id"].astype("str").to_numpy()})
    count = next(iter(columns))
    origin = [aggregates.attrs[SOURCE_ATTR]] if SOURCE_ATTR in aggregates.attrs else []
    for published, source in columns.items():
        out[published] = pd.to_numeric(rows[source]).astype("float64").where(reason.eq("")).to_numpy()
        _record(published, "count" if published == count else "cell", () if published == count else (count,), origin)
    out[f"secret_{count}"] = reason.to_numpy()
    return out


def protected_value(table: pd.DataFrame, column: str, values, *, base: Sequence[str],
                    hidden: float = np.nan) -> pd.DataFrame:
    """Write a value derived from protected columns, hidden wherever a base is hidden.

    Parameters
    ----------
    table : pandas.DataFrame
        The table being built; it holds every column of ``base``.
    column : str
        Name of the derived column (a mean, share, ratio, or a count that depends on a
        protected figure).
    values : array-like
        The derived values, aligned with ``table``'s rows.
    base : sequence of str
        The protected columns the value is computed from (``protected_cells`` outputs, or
        other derived columns). Where any of them is missing (a hidden cell, or a zone
        without any unit) the value is ``hidden``.
    hidden : float, default NaN
        What a cell holds where a base is missing: a missing value, or a constant that
        says nothing of the hidden figure (0 for "not counted").

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``column`` set (the same object, changed in place).

    Raises
    ------
    KeyError
        If a base column is not in ``table``.
    """
    if not base:
        raise ValueError(f"protected_value('{column}'): name the protected columns it is computed from in 'base'")
    missing = [b for b in base if b not in table.columns]
    if missing:
        raise KeyError(f"protected_value('{column}'): base columns {missing} are not in the table")
    known = table[list(base)].notna().all(axis=1).to_numpy()
    values = pd.Series(np.asarray(values, dtype="float64"), index=table.index)
    table[column] = values.where(known, hidden)
    _record(column, "derived", base)
    return table
