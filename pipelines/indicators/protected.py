"""Protected aggregates (anonymiser and business suppressor output) as published columns."""

from __future__ import annotations

import pandas as pd


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
        Published column -> aggregate column. The first is the protected count: its
        ``secret_<column>`` column carries the reason a cell is hidden ("" when shown).
    """
    rows = aggregates[aggregates["zoning"] == zoning]
    reason = rows["secret"].astype("str").where(rows["secret"].notna(), "")
    out = pd.DataFrame({id_column: rows["zone_id"].astype("str").to_numpy()})
    for published, source in columns.items():
        out[published] = pd.to_numeric(rows[source]).astype("float64").where(reason.eq("")).to_numpy()
    out[f"secret_{next(iter(columns))}"] = reason.to_numpy()
    return out
