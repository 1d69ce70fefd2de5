"""What the anonymiser and the suppressors did, as counts only.

A report travels to Dagster metadata, logs and the privacy note of the report pages, so
it holds counts (rows read, zones, suppressed cells per reason) and rule thresholds,
never a value of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

from pipelines.privacy.rules import SuppressionRule, as_rule


@dataclass(frozen=True)
class AnonymisationReport:
    """Counts describing one protected source (or table).

    Attributes
    ----------
    source : str
        Source (or table) id.
    sensitivity : str
        ``"personal"`` (pseudonymised identifiers) or ``"private"`` (business data).
    rows_in, rows_outside : int
        Rows read, and rows dropped because they fall in no zone of the territory.
    pseudonymised, dropped : tuple of str
        Column names replaced by keyed pseudonyms, and dropped outright.
    rules : tuple of SuppressionRule
        Rules applied, with their thresholds.
    zones : dict
        Published cells per zoning (suppressed ones included).
    suppressed : dict
        Per zoning, suppressed cells per reason code.
    """

    source: str
    sensitivity: str
    rules: tuple[SuppressionRule, ...]
    zones: dict[str, int]
    suppressed: dict[str, dict[str, int]]
    rows_in: int = 0
    rows_outside: int = 0
    pseudonymised: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def cells(self) -> int:
        return sum(self.zones.values())

    @property
    def suppressed_cells(self) -> int:
        return sum(sum(by_reason.values()) for by_reason in self.suppressed.values())

    def by_reason(self) -> dict[str, int]:
        """Suppressed cells per reason, over all zonings."""
        totals: dict[str, int] = {}
        for by_reason in self.suppressed.values():
            for reason, n in by_reason.items():
                totals[reason] = totals.get(reason, 0) + n
        return totals

    def to_metadata(self) -> dict[str, Any]:
        """Flat counts for Dagster metadata (no value of the data)."""
        meta: dict[str, Any] = {"source": self.source, "sensitivity": self.sensitivity,
                                "rows_in": self.rows_in, "rows_outside_territory": self.rows_outside,
                                "cells": self.cells, "suppressed_cells": self.suppressed_cells,
                                "pseudonymised_columns": ", ".join(self.pseudonymised) or "none",
                                "dropped_columns": ", ".join(self.dropped) or "none",
                                "rules": "; ".join(_rule_text(r) for r in self.rules)}
        for reason, n in sorted(self.by_reason().items()):
            meta[f"suppressed[{reason}]"] = n
        return meta


def _rule_text(rule: SuppressionRule) -> str:
    text = f"{rule.kind} >= {rule.minimum}"
    return text + (f", dominance < {rule.max_share:.0%}" if rule.max_share else "")


def summarise_table(table: pd.DataFrame, *, source: str, rules: Iterable, sensitivity: str = "private",
                    zoning_column: str = "zoning", reason_column: str = "secret",
                    zoning: str | None = None) -> AnonymisationReport:
    """A report from an already protected table (long, or one zoning named by `zoning`).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of published cells with a reason column (NA or "" where published).
    source : str
        Source or table id for the note.
    rules : iterable
        Rules applied (see :func:`pipelines.privacy.rules.as_rule`).
    zoning : str, optional
        The zoning of every row, when the table has no `zoning_column`.
    """
    zonings = table[zoning_column] if zoning is None else pd.Series(zoning, index=table.index)
    reasons = table[reason_column].astype("str").where(table[reason_column].notna(), "")
    hidden = reasons.ne("")
    zones = zonings.value_counts(sort=False).astype(int).to_dict()
    suppressed: dict[str, dict[str, int]] = {}
    for (z, reason), n in pd.crosstab(zonings[hidden], reasons[hidden]).stack().items():
        if n:
            suppressed.setdefault(str(z), {})[str(reason)] = int(n)
    return AnonymisationReport(source=source, sensitivity=sensitivity, rules=tuple(as_rule(r) for r in rules),
                               zones={str(k): int(v) for k, v in zones.items()}, suppressed=suppressed)
