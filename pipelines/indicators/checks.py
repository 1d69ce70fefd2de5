"""Pure checks of indicator tables, used by the Dagster asset checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.indicators.registry import Indicator


def check_ranges(table: pd.DataFrame, indicators: list[Indicator]) -> list[str]:
    """Problems with an indicator table: empty, missing columns, values out of range.

    Missing values are allowed (suppressed or not significant), but not in every row;
    infinite ones are not.
    """
    if table.empty:
        return ["the table is empty"]
    problems = []
    for indicator in indicators:
        if indicator.id not in table.columns:
            problems.append(f"column '{indicator.id}' is missing")
            continue
        values = pd.to_numeric(table[indicator.id], errors="coerce").astype("float64")
        if values.isna().all():
            flags = table.get(f"secret_{indicator.id}")
            if flags is None or not flags.fillna("").astype(str).ne("").any():
                # no zone is flagged secret: a failed join or an empty source
                problems.append(f"'{indicator.id}': no value at all")
            continue
        low, high = indicator.bounds()
        bad = np.isinf(values) | (values < low) | ((values > high) if high is not None else False)
        if bad.any():
            problems.append(f"'{indicator.id}': {int(bad.sum())} value(s) outside [{low}, {high if high is not None else '∞'}]")
    return problems


def check_totals(fine: pd.DataFrame, coarse: pd.DataFrame, indicators: list[Indicator],
                 *, rel_tol: float = 1e-6) -> list[str]:
    """Counts summed over the fine zoning must equal their sum over the coarse one.

    Columns with a suppressed cell on either side are skipped: their totals differ on
    purpose, and the disclosure audit is what checks them.
    """
    problems = []
    for indicator in indicators:
        if indicator.kind != "count" or indicator.id not in fine or indicator.id not in coarse:
            continue
        a, b = fine[indicator.id], coarse[indicator.id]
        if a.isna().any() or b.isna().any():
            continue
        total_a, total_b = float(a.sum()), float(b.sum())
        if abs(total_a - total_b) > rel_tol * max(abs(total_a), abs(total_b), 1.0):
            problems.append(f"'{indicator.id}': total {total_a:.6g} over the fine zoning but {total_b:.6g} over the coarse one")
    return problems
