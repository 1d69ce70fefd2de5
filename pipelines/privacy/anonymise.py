"""The anonymiser: a personal (or private) source in, protected per-zone aggregates out.

Nothing but aggregates leaves :func:`anonymise`: the result is built column by column
from sums over zones, so a column of the input (a meter number, an address, coordinates,
the pseudonyms themselves) cannot slip through by being forgotten in a drop list.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from pipelines.errors import PrivacyError
from pipelines.privacy.pseudonymise import check_key, pseudonymise
from pipelines.privacy.report import AnonymisationReport
from pipelines.privacy.rules import SuppressionRule, as_rule
from pipelines.privacy.suppression import (
    TOTAL,
    HierarchyCells,
    hierarchy_cells,
    hierarchy_table,
    secondary_suppression,
)

UNITS = "units"
_ROWS, _CONTRIBUTORS, _LARGEST = "_rows", "_contributors", "_largest"


def anonymise(frame: pd.DataFrame, *, key: bytes | None, id_columns: Sequence[str],
              drop_columns: Sequence[str], zone_ids: pd.Series | pd.DataFrame, unit_column: str,
              value_columns: Mapping[str, str] | Sequence[str], rule: Any,
              weight_column: str | None = None, overlap: str | None = None, include_total: bool = True,
              shares: Mapping[str, Sequence[str]] | None = None, source: str = "",
              reason_column: str = "secret") -> tuple[pd.DataFrame, AnonymisationReport]:
    """Pseudonymise, generalise to zones, aggregate and suppress.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of the source (e.g. monthly meter readings).
    key : bytes or None
        Pseudonymisation key (:func:`pipelines.privacy.keys.resolve_key`); required when
        `id_columns` is not empty.
    id_columns : sequence of str
        Direct identifiers. The unit column, if among them, is replaced by keyed pseudonyms
        (used only to count distinct units); the others are never read.
    drop_columns : sequence of str
        Other columns not to publish (addresses, coordinates); listed for the report, and
        checked to exist.
    zone_ids : pandas.Series or pandas.DataFrame
        Zone of each row, aligned with `frame` (same index), computed by the spatial
        engine. A DataFrame holds one column per zoning: nested zonings finest first
        (``iris``, ``commune``) plus, optionally, the `overlap` column. Rows with a missing
        zone lie outside the territory and are dropped (and counted).
    unit_column : str
        Column identifying units (meter, respondent, building), counted distinct.
    value_columns : mapping or sequence of str
        Columns to aggregate: ``{"conso_kwh": "sum"}``; ``"mean"`` gives the sum divided
        by the zone's units (per household, per delivery point). A sequence means sums.
    rule : rule or sequence of rules
        Secrecy rules (kind names, :class:`SuppressionRule`, card mappings or models).
    weight_column : str, optional
        Units carried by each row (delivery points of a building) instead of one per
        unit; a unit's weight is the largest on its rows (rows repeat it over months).
    overlap : str, optional
        Column of `zone_ids` holding a second zoning of the same population crossing the
        finest one (200 m grid cells).
    include_total : bool, default True
        Also protect and return the territory total (zoning ``"total"``).
    shares : mapping, optional
        ``{"mode": ["voiture", "bus"]}``: share of rows in each category, per zone.
    source : str
        Source id, for the report.
    reason_column : str, default "secret"

    Returns
    -------
    aggregates : pandas.DataFrame
        One row per zone per zoning: ``zoning``, ``zone_id``, ``parent_id``, ``units``,
        the value and share columns, and `reason_column` (``n<11``, ``dominance>=85%``,
        ``secondary``; NA where published). Suppressed rows keep their zone with empty values.
        The reasons stay detailed here (the privacy note counts them); the published
        tables show one uniform code, since the attacker model
        (:mod:`pipelines.privacy.bounds`) assumes the primary reason is not visible. Every
        listed hidden row holds at least one unit; a zone whose units all weigh 0 is
        shown empty without a reason.
    report : AnonymisationReport
        Counts only.

    Raises
    ------
    PrivacyError
        Missing key, a lowered threshold, or units located in several zones.
    """
    rules = [as_rule(r) for r in (rule if isinstance(rule, (list, tuple)) else [rule])]
    values = _value_spec(value_columns)
    shares = {c: list(cats) for c, cats in (shares or {}).items()}
    zones = _zone_frame(frame, zone_ids)
    _check_columns(frame, [*id_columns, *drop_columns, unit_column, *values, *shares,
                           *([weight_column] if weight_column else [])])
    dominance = _dominance_column(rules, unit_column, values)
    units = _unit_ids(frame, key, id_columns, unit_column)
    inside = zones.notna().all(axis=1).to_numpy()
    per_unit = _per_unit(frame[inside], units[inside], zones[inside], weight_column, values, shares, dominance)
    levels = [c for c in zones.columns if c != overlap]
    built = hierarchy_cells(per_unit, levels=levels, overlap=overlap, include_total=include_total,
                            columns=[c for c in per_unit.columns if c not in zones.columns])
    reasons = _primary(built.cells, per_unit, rules, [*zones.columns], dominance, include_total)
    # A zone without any unit (units of weight 0 only) is shown empty without a reason,
    # like a zone absent from the source: the attacker tells it apart from a hidden one.
    reasons[(built.cells[UNITS] == 0).to_numpy()] = np.nan
    reasons = _secondary(built, reasons, rules, weight_column, dominance)
    table = _output(built.cells, reasons, values, shares, reason_column)
    pseudonymised = tuple(c for c in id_columns if c == unit_column)
    report = AnonymisationReport(
        source=source, sensitivity="personal" if id_columns else "private", rules=tuple(rules),
        zones={str(k): int(v) for k, v in table["zoning"].value_counts(sort=False).items()},
        suppressed=_suppressed(table, reason_column), rows_in=len(frame), rows_outside=int((~inside).sum()),
        pseudonymised=pseudonymised, dropped=tuple(c for c in [*id_columns, *drop_columns] if c not in pseudonymised))
    return table, report


def _value_spec(value_columns) -> dict[str, str]:
    spec = dict(value_columns) if isinstance(value_columns, Mapping) else {c: "sum" for c in value_columns}
    for column, how in spec.items():
        if how not in ("sum", "mean"):
            raise ValueError(f"value column '{column}': aggregation '{how}' is not one of sum, mean")
    return spec


def _zone_frame(frame: pd.DataFrame, zone_ids) -> pd.DataFrame:
    zones = zone_ids.to_frame(zone_ids.name or "zone") if isinstance(zone_ids, pd.Series) else zone_ids
    if not zones.index.equals(frame.index):
        raise ValueError("zone_ids must be aligned with the frame (same index, same order)")
    # Zone ids are codes: text, whatever the spatial engine returned.
    return zones.apply(lambda s: s.astype("str").where(s.notna()))


def _check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are declared but absent from the source")


def _dominance_column(rules: Sequence[SuppressionRule], unit_column: str, values: Mapping) -> str | None:
    business = [r for r in rules if r.kind == "business"]
    if not business:
        return None
    rule = business[0]
    if rule.unit_column not in (None, unit_column):
        raise ValueError(f"business rule: contributors '{rule.unit_column}' must be the aggregation unit "
                         f"'{unit_column}'")
    column = rule.value_column or next(iter(values), None)
    if column is None:
        raise ValueError("business rule: name the value_column whose dominance is tested")
    return column


def _unit_ids(frame: pd.DataFrame, key, id_columns: Sequence[str], unit_column: str) -> pd.Series:
    if id_columns and key is None:
        raise PrivacyError(f"source with direct identifiers {list(id_columns)} needs a pseudonymisation key; "
                           "set DATACITES_PSEUDONYMISATION_KEY (see pipelines.privacy.keys.resolve_key)")
    if unit_column in id_columns:
        return pseudonymise(frame[unit_column], key)
    if id_columns:
        check_key(key)   # a personal source stops without a usable key, even if unused here
    return frame[unit_column]


def _per_unit(frame, units, zones, weight_column, values, shares, dominance) -> pd.DataFrame:
    """One row per unit: its zones and additive columns (sums over its rows)."""
    if units.isna().any():
        raise PrivacyError(f"{int(units.isna().sum())} rows have no unit identifier; they cannot be "
                           "counted as distinct units. Fix the source or filter these rows out.")
    work = zones.copy()
    work["_unit"] = units.to_numpy()
    work["_weight"] = _weights(frame, weight_column)
    for column in dict.fromkeys([*values, *([dominance] if dominance else [])]):
        work[f"_v_{column}"] = pd.to_numeric(frame[column]).to_numpy(dtype="float64")
    for column, categories in shares.items():
        for category in categories:
            work[f"_s_{column}_{category}"] = (frame[column].astype("str") == str(category)).to_numpy(dtype="float64")
    grouped = work.groupby("_unit", sort=True)
    spread = grouped[list(zones.columns)].nunique(dropna=False)
    if (spread > 1).any().any():
        worst = spread.columns[(spread > 1).any()][0]
        raise PrivacyError(f"{int((spread[worst] > 1).sum())} units have rows in more than one zone of "
                           f"'{worst}'; counts would not add up. Locate each unit once (its home, its meter).")
    sums = grouped[[c for c in work.columns if c.startswith(("_v_", "_s_"))]].sum()
    out = grouped[list(zones.columns)].first()
    out[UNITS] = grouped["_weight"].max()
    out[_CONTRIBUTORS] = 1.0
    out[_ROWS] = grouped.size().astype("float64")
    if shares:
        # Sums of squares per unit, additive over units: the variance of a share of rows
        # with the unit (a household and its trips) as the cluster (see `_output`).
        out["_nn"] = out[_ROWS] ** 2
        for column in [c for c in sums.columns if c.startswith("_s_")]:
            sums[f"_yy{column}"] = sums[column] ** 2
            sums[f"_yn{column}"] = sums[column] * out[_ROWS]
    return pd.concat([out, sums], axis=1).reset_index(drop=True)


def _weights(frame: pd.DataFrame, weight_column: str | None):
    if not weight_column:
        return 1.0
    weights = pd.to_numeric(frame[weight_column], errors="coerce")
    bad = weights.isna() | (weights < 0)
    if bad.any():
        # A missing weight would give a cell no count, and a cell with no count escapes the rule.
        raise ValueError(f"column '{weight_column}': {int(bad.sum())} rows have a missing or negative "
                         "number of units; fix or filter them before aggregating")
    return weights.to_numpy(dtype="float64")


def _primary(cells: pd.DataFrame, per_unit: pd.DataFrame, rules, zonings, dominance, include_total) -> pd.Series:
    reasons = pd.Series(np.nan, index=cells.index, dtype="str")
    published = ~cells["internal"].to_numpy(dtype=bool)
    for rule in rules:
        counts = cells[_CONTRIBUTORS if rule.kind == "business" else UNITS]
        reasons[published & reasons.isna().to_numpy() & (counts < rule.minimum).to_numpy()] = rule.count_reason
    for rule in (r for r in rules if r.kind == "business"):
        largest = _largest_unit(cells, per_unit, zonings, f"_v_{dominance}", include_total)
        total = cells[f"_v_{dominance}"].to_numpy(dtype="float64")
        share = np.divide(largest, total, out=np.zeros_like(total), where=total > 0)
        reasons[published & reasons.isna().to_numpy() & (share >= rule.max_share)] = rule.dominance_reason
    return reasons


def _largest_unit(cells, per_unit, zonings, column, include_total) -> np.ndarray:
    """Value of the largest contributor of every cell (a max does not add up: per zoning)."""
    largest = pd.Series(0.0, index=cells.index)
    for zoning in zonings:
        by_zone = per_unit.groupby(zoning)[column].max()
        rows = cells["zoning"] == zoning
        largest[rows] = by_zone.reindex(cells.loc[rows, "zone_id"]).fillna(0.0).to_numpy()
    if include_total:
        largest[cells["zoning"] == TOTAL] = per_unit[column].max() if len(per_unit) else 0.0
    return largest.to_numpy()


def _secondary(built: HierarchyCells, reasons: pd.Series, rules, weight_column, dominance) -> pd.Series:
    """Protect the published count, then the business value of dominated cells."""
    cells = built.cells
    on_units = [r.minimum for r in rules if r.kind != "business" or weight_column is None]
    if on_units:
        frame = pd.DataFrame({"value": cells[UNITS], "reason": reasons, "internal": cells["internal"]})
        reasons = secondary_suppression(frame, built.relations, threshold=max(on_units))
    for rule in (r for r in rules if r.kind == "business"):
        # p%-style protection: nobody, not even a co-contributor, may bound a business
        # cell's total closer than (1 - max_share) of it, so the largest contributor's value
        # stays uncertain by at least that much.
        value = cells[f"_v_{dominance}"].to_numpy(dtype="float64")
        business = reasons.isin([rule.count_reason, rule.dominance_reason]).to_numpy()
        frame = pd.DataFrame({"value": value, "reason": reasons, "internal": cells["internal"],
                              "protection": np.where(business, (1 - rule.max_share) * value, 0.0)},
                             index=cells.index)
        reasons = secondary_suppression(frame, built.relations, threshold=0.0, integral=False)
    return reasons


def _output(cells: pd.DataFrame, reasons: pd.Series, values: Mapping[str, str],
            shares: Mapping[str, list], reason_column: str) -> pd.DataFrame:
    squares = [f"_{q}_s_{c}_{k}" for c, cats in shares.items() for k in cats for q in ("yy", "yn")]
    additive = [UNITS, _ROWS, *[f"_v_{c}" for c in values],
                *[f"_s_{c}_{k}" for c, cats in shares.items() for k in cats], *(squares + ["_nn"] if shares else [])]
    table = hierarchy_table(cells, reasons, additive, reason_column)
    units = table[UNITS].astype("Float64")
    for column, how in values.items():
        total = table.pop(f"_v_{column}").astype("Float64")
        table[column] = total if how == "sum" else (total / units).where(units > 0)
    rows = table.pop(_ROWS).astype("Float64")
    nn = table.pop("_nn").astype("Float64") if shares else None
    for column, categories in shares.items():
        for category in categories:
            name = f"{column}_{category}"
            share = table.pop(f"_s_{name}").astype("Float64") / rows
            table[f"share_{name}"] = share
            table[f"se_share_{name}"] = share_standard_error(
                share, rows, units, table.pop(f"_yy_s_{name}").astype("Float64"),
                table.pop(f"_yn_s_{name}").astype("Float64"), nn)
    return table[[c for c in table.columns if c != reason_column] + [reason_column]]


def share_standard_error(share, rows, units, yy, yn, nn):
    """Standard error of a share of rows (trips) with units (households) as clusters.

    The share is the ratio p = Σy / Σn of a unit's rows in the category (y) to its rows
    (n). Its linearised variance, the units drawn at random, is
    H / (H - 1) · Σ (y - p n)² / (Σn)², with H units and Σ(y - p n)² = Σy² - 2pΣyn + p²Σn²
    from sums that add up over units. Missing below 2 units.
    """
    spread = (yy - 2 * share * yn + share * share * nn).clip(lower=0)
    variance = units / (units - 1) * spread / (rows * rows)
    return variance.where(units > 1).pow(0.5).astype("Float64")


def _suppressed(table: pd.DataFrame, reason_column: str) -> dict[str, dict[str, int]]:
    hidden = table[table[reason_column].notna()]
    counts = hidden.groupby(["zoning", reason_column]).size()
    out: dict[str, dict[str, int]] = {}
    for (zoning, reason), n in counts.items():
        out.setdefault(str(zoning), {})[str(reason)] = int(n)
    return out
