"""Statistical-secrecy rules and primary suppression.

The thresholds are INSEE's and the law's floors (``pipelines.config``): at least 11
households per cell for household, tax and social data; at least 10 delivery points for
residential energy; at least 3 units, none holding 85 % or more of the total, for
business data. A source card may make a rule stricter, never laxer.

Reason codes (kept in the published table beside an empty value): ``n<11``, ``n<10``,
``n<3`` (or the raised threshold), ``dominance>=85%``, and ``secondary`` for cells
hidden by :mod:`pipelines.privacy.suppression` so that the others cannot be recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from pipelines import config
from pipelines.errors import PrivacyError

SECONDARY = "secondary"
COUNT_COLUMNS = {"households": "households", "delivery_points": "delivery_points", "business": "units"}
_FLOOR_NAMES = {"households": "MIN_HOUSEHOLDS", "delivery_points": "MIN_DELIVERY_POINTS",
                "business": "MIN_BUSINESS_UNITS"}


@dataclass(frozen=True)
class SuppressionRule:
    """One secrecy rule, with its threshold(s) already checked against the floors."""

    kind: str
    minimum: int
    max_share: float | None = None
    value_column: str | None = None
    unit_column: str | None = None

    @property
    def count_reason(self) -> str:
        return f"n<{self.minimum}"

    @property
    def dominance_reason(self) -> str:
        return f"dominance>={round(self.max_share * 100)}%"

    @property
    def count_column(self) -> str:
        return COUNT_COLUMNS[self.kind]


def floor(kind: str) -> int:
    """The legal minimum of a rule kind, read from ``config`` at call time."""
    if kind not in _FLOOR_NAMES:
        raise PrivacyError(f"unknown secrecy rule '{kind}'; expected one of {sorted(_FLOOR_NAMES)}")
    return int(getattr(config, _FLOOR_NAMES[kind]))


def make_rule(kind: str, *, minimum: int | None = None, max_share: float | None = None,
              value_column: str | None = None, unit_column: str | None = None) -> SuppressionRule:
    """Build a rule, refusing any threshold laxer than the law's.

    Parameters
    ----------
    kind : {"households", "delivery_points", "business"}
    minimum : int, optional
        Smallest publishable count; defaults to the floor, may only be raised.
    max_share : float, optional
        Business only: a cell where one unit holds this share of the total or more is
        suppressed; defaults to ``config.MAX_DOMINANCE_SHARE``, may only be lowered.
    value_column, unit_column : str, optional
        Business only: the value whose dominance is tested, and its contributors.

    Raises
    ------
    PrivacyError
        When a threshold is laxer than the floor, or the kind is unknown.
    """
    least = floor(kind)
    minimum = least if minimum is None else int(minimum)
    if minimum < least:
        raise PrivacyError(f"rule '{kind}': a minimum of {minimum} is below the legal floor of {least}; "
                           "a card may raise a threshold, never lower it.")
    if kind != "business":
        return SuppressionRule(kind, minimum)
    ceiling = float(config.MAX_DOMINANCE_SHARE)
    max_share = ceiling if max_share is None else float(max_share)
    if not 0 < max_share <= ceiling:
        raise PrivacyError(f"rule 'business': a dominance share of {max_share:.0%} is laxer than the "
                           f"floor of {ceiling:.0%}; a card may only make it stricter (smaller).")
    return SuppressionRule(kind, minimum, max_share, value_column, unit_column)


def as_rule(rule: Any) -> SuppressionRule:
    """Accept a kind name, a :class:`SuppressionRule`, a card mapping or a card model.

    Card mappings and models use the catalogue's field names: ``kind``, ``min_units``,
    ``max_dominance``, ``value_column``, ``unit_column``.
    """
    if isinstance(rule, SuppressionRule):
        return make_rule(rule.kind, minimum=rule.minimum, max_share=rule.max_share,
                         value_column=rule.value_column, unit_column=rule.unit_column)
    if isinstance(rule, str):
        return make_rule(rule)
    get = rule.get if isinstance(rule, Mapping) else (lambda name: getattr(rule, name, None))
    return make_rule(get("kind"), minimum=get("min_units"), max_share=get("max_dominance"),
                     value_column=get("value_column"), unit_column=get("unit_column"))


def primary_suppression(table: pd.DataFrame, *, rule: Any, count_column: str | None = None,
                        share_column: str = "max_unit_share") -> pd.Series:
    """Reason code of every cell the rule suppresses on its own (NA where publishable).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per cell.
    rule : str, SuppressionRule, mapping or card model
        See :func:`as_rule`.
    count_column : str, optional
        Column of counts; defaults to ``households``, ``delivery_points`` or ``units``
        according to the rule.
    share_column : str, default "max_unit_share"
        Business only: share of the cell's total held by its largest unit.

    Returns
    -------
    pandas.Series
        Same index as `table`, dtype ``str``: ``n<11``... or ``dominance>=85%``, NA where
        the cell may be published. A count below the threshold is reported before
        dominance. A count of zero is suppressed too: an empty cell is no less
        recomputable than a small one.

    Raises
    ------
    ValueError
        When a count is missing (a missing count cannot be judged publishable).
    """
    rule = as_rule(rule)
    column = count_column or rule.count_column
    counts = pd.to_numeric(table[column], errors="raise")
    if counts.isna().any():
        raise ValueError(f"column '{column}' has {int(counts.isna().sum())} missing counts; "
                         "fill them (0 for an empty cell) before applying the secrecy rule")
    reasons = pd.Series(np.nan, index=table.index, dtype="str")
    if rule.kind == "business":
        shares = pd.to_numeric(table[share_column]).fillna(0.0)
        reasons[shares >= rule.max_share] = rule.dominance_reason
    reasons[counts < rule.minimum] = rule.count_reason
    return reasons
