"""Aggregate assigned points per zone: counts, sums, means and shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from pipelines.spatial._checks import SpatialInputError

__all__ = ["aggregate_points"]


def _check_columns(points: pd.DataFrame, sums, means, shares) -> None:
    for column in [*sums, *means, *shares.values()]:
        if column not in points.columns:
            raise SpatialInputError(f"layer 'points' has no column '{column}' to aggregate.")
    for column in [*sums, *means]:
        if not pd.api.types.is_numeric_dtype(points[column]):
            raise SpatialInputError(f"layer 'points', column '{column}' is not numeric.")
    for column in shares.values():
        values = points[column].dropna()
        if not values.isin([True, False]).all():
            raise SpatialInputError(f"layer 'points', column '{column}' must be boolean to "
                                    "compute a share.")


def aggregate_points(points: pd.DataFrame, zone_ids: pd.Series, *, zone_id_name: str,
                     counts: str | None = "points", sums: Sequence[str] = (),
                     means: Sequence[str] = (),
                     shares: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Summarise points per zone.

    Parameters
    ----------
    points : pandas.DataFrame
        The points, with the columns to aggregate.
    zone_ids : pandas.Series
        Zone of each point, aligned with ``points.index`` (``PointAssignment.zone_ids``);
        points with a missing zone are left out.
    zone_id_name : str
        Name of the zone id column of the result.
    counts : str or None, default ``"points"``
        Name of the column counting points per zone; ``None`` for no count.
    sums, means : sequence of str
        Numeric columns summed (``<column>_sum``) or averaged (``<column>_mean``); missing
        values are ignored; a zone whose values are all missing gets a missing mean and a
        zero sum.
    shares : mapping of str to str, optional
        ``{result column: boolean column}``: share of the zone's points, among those with
        a non-missing value, for which the column is true (between 0 and 1).

    Returns
    -------
    pandas.DataFrame
        One row per zone holding at least one point, sorted by zone id; zones with no
        point are absent (join to the zoning and fill counts with 0 when needed). Counts
        are the raw counts: apply the disclosure rules before publishing.
    """
    shares = dict(shares or {})
    _check_columns(points, sums, means, shares)
    if not zone_ids.index.equals(points.index):
        raise SpatialInputError("zone_ids is not aligned with the points' index; pass "
                                "PointAssignment.zone_ids for these same points.")
    zone = zone_ids.astype("str")
    inside = zone.notna().to_numpy()
    rows, zone = points.loc[inside], zone[inside]
    parts = {}
    if counts is not None:
        parts[counts] = zone.groupby(zone, sort=True).size()
    for column in sums:
        parts[f"{column}_sum"] = rows[column].groupby(zone).sum(min_count=0)
    for column in means:
        parts[f"{column}_mean"] = rows[column].groupby(zone).mean()
    for name, column in shares.items():
        # Vectorised share: true values over known values, so missing ones are ignored.
        known = rows[column].notna()
        hits = rows[column].where(known, False).astype(bool)
        parts[name] = hits.groupby(zone).sum() / known.groupby(zone).sum()
    result = pd.DataFrame(parts, index=pd.Index(sorted(zone.unique()), dtype="str"))
    return result.rename_axis(zone_id_name).reset_index()
