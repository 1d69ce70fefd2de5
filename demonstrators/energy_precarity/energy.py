"""Energy precarity: pure functions behind the demonstrator's assets.

Counts are computed per IRIS and summed upward (commune, territory); every share is
then derived from the summed counts by `derive`, so the three levels always agree.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.indicators.text import crossing_sentence, headline
from pipelines.spatial import assign_points_to_zones, interpolate_area_weighted

COUNTS = ["households", "low_income_households", "dpe_count", "fg_count", "pre1975_count",
          "predicted_mwh_sum", "predicted_count", "low_income_fg_households"]
OPERATOR = ["operator_delivery_points", "operator_consumption_mwh"]
IRIS_COLUMNS = ["code_iris", "nom_iris", "code_commune", "nom_commune"]


def households_by_iris(grid: gpd.GeoDataFrame, iris: gpd.GeoDataFrame, *, ctx) -> pd.DataFrame:
    """Households and low-income households per IRIS, from 200 m cells split by area."""
    cells = grid[["idcar_200m", "men", "men_pauv", "geometry"]].to_crs(ctx.territory.working_crs)
    result = interpolate_area_weighted(cells, iris[["code_iris", "geometry"]], columns=["men", "men_pauv"],
                                       target_id="code_iris", crs=ctx.territory.working_crs)
    result = result.rename(columns={"men": "households", "men_pauv": "low_income_households"})
    return iris[["code_iris"]].merge(result, on="code_iris", how="left").fillna(
        {"households": 0.0, "low_income_households": 0.0})


def dwellings_by_iris(dpe: pd.DataFrame, iris: gpd.GeoDataFrame, *, ctx) -> pd.DataFrame:
    """Diagnosed dwellings per IRIS: count, F/G, pre-1975, predicted consumption."""
    located = dpe[dpe["x"].notna() & dpe["y"].notna()]
    assignment = assign_points_to_zones(located, iris, zone_id="code_iris", crs=ctx.territory.working_crs)
    per_m2 = located["conso_ef_m2"] if "conso_ef_m2" in located else located["conso_ep_m2"]
    frame = pd.DataFrame({
        "code_iris": assignment.zone_ids.to_numpy(),
        "fg": located["etiquette_dpe"].isin(ctx.params["poor_labels"]).to_numpy(),
        "pre1975": located["avant_1975"].fillna(False).astype(bool).to_numpy(),
        "predicted_mwh": (per_m2 * located["surface_m2"] / 1000.0).to_numpy(),
    }).dropna(subset=["code_iris"])
    grouped = frame.groupby("code_iris").agg(
        dpe_count=("fg", "size"), fg_count=("fg", "sum"), pre1975_count=("pre1975", "sum"),
        predicted_mwh_sum=("predicted_mwh", "sum"), predicted_count=("predicted_mwh", "count"))
    result = iris[["code_iris"]].merge(grouped.reset_index(), on="code_iris", how="left").fillna(0)
    result.attrs["outside_points"] = int(assignment.outside)
    return result


def operator_by_zone(operator: pd.DataFrame, zoning: str, id_column: str) -> pd.DataFrame:
    """The protected operator aggregates of one zoning, renamed for the published table."""
    rows = operator[operator["zoning"] == zoning]
    hidden = rows["secret"].fillna("").astype(str).ne("")
    return pd.DataFrame({
        id_column: rows["zone_id"].to_numpy(),
        "operator_delivery_points": rows["units"].where(~hidden).to_numpy(dtype="float64"),
        "operator_consumption_mwh": rows["conso_totale_mwh"].where(~hidden).to_numpy(dtype="float64"),
        "secret_operator_delivery_points": rows["secret"].fillna("").astype(str).to_numpy(),
    })


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Shares and means from summed counts; an empty denominator gives a missing value."""
    out = frame.copy()

    def ratio(num, den):
        den = out[den].astype("float64")
        return (out[num].astype("float64") / den).where(den > 0)

    out["share_low_income"] = ratio("low_income_households", "households")
    out["share_fg"] = ratio("fg_count", "dpe_count")
    out["share_pre1975"] = ratio("pre1975_count", "dpe_count")
    out["share_households_low_income_fg"] = ratio("low_income_fg_households", "households")
    out["predicted_consumption_per_dwelling"] = ratio("predicted_mwh_sum", "predicted_count")
    if "operator_delivery_points" in out:
        out["operator_consumption_per_point"] = ratio("operator_consumption_mwh", "operator_delivery_points")
    return out


def _iris_counts(households: pd.DataFrame, dwellings: pd.DataFrame, iris: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    table = iris[IRIS_COLUMNS + ["geometry"]].merge(households, on="code_iris").merge(dwellings, on="code_iris")
    share_fg = (table["fg_count"] / table["dpe_count"]).where(table["dpe_count"] > 0, 0.0)
    # Assumption (stated in the registry): within an IRIS, low-income households live in
    # F/G dwellings in the same proportion as all diagnosed dwellings.
    table["low_income_fg_households"] = table["low_income_households"] * share_fg
    return table


def indicators_by_iris(households, dwellings, operator, iris, *, ctx) -> gpd.GeoDataFrame:
    """The published per-IRIS table."""
    table = _iris_counts(households, dwellings, iris)
    table = table.merge(operator_by_zone(operator, "iris", "code_iris"), on="code_iris", how="left")
    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=iris.crs)


def indicators_by_commune(households, dwellings, operator, communes, iris, *, ctx) -> gpd.GeoDataFrame:
    """The published per-commune table: IRIS counts summed, then shares derived."""
    counts = _iris_counts(households, dwellings, iris).groupby("code_commune")[COUNTS].sum().reset_index()
    table = communes[["code_commune", "nom_commune", "geometry"]].merge(counts, on="code_commune", how="inner")
    if (operator["zoning"] == "commune").any():
        table = table.merge(operator_by_zone(operator, "commune", "code_commune"), on="code_commune", how="left")
    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=communes.crs)


def territory_totals(iris_table: pd.DataFrame) -> pd.Series:
    """Territory-level values: counts summed over IRIS, shares derived from the sums.

    Operator figures are summed over published IRIS only, so suppressed cells stay hidden.
    """
    totals = iris_table[COUNTS].sum().to_frame().T
    published = iris_table.dropna(subset=["operator_delivery_points"]) if "operator_delivery_points" in iris_table else None
    if published is not None:
        totals["operator_delivery_points"] = published["operator_delivery_points"].sum()
        totals["operator_consumption_mwh"] = published["operator_consumption_mwh"].sum()
    return derive(totals).iloc[0]


def summarise(tables: dict[str, pd.DataFrame], ctx) -> dict:
    """Headline figures and what crossing the operator's data adds, for the report."""
    totals = territory_totals(tables["iris"])
    headlines = [headline(ctx.registry[i], float(totals[i])) for i in ctx.demonstrator.headlines]
    predicted = float(totals["predicted_consumption_per_dwelling"])
    measured = float(totals.get("operator_consumption_per_point", np.nan))
    crossing = [crossing_sentence(
        ctx.registry["operator_consumption_per_point"], public_only=predicted, with_shared=measured,
        label="Consommation par logement : prévue par les DPE (données publiques) et mesurée par l'opérateur")]
    values = {i: float(totals[i]) for i in ctx.demonstrator.indicators if i in totals and pd.notna(totals[i])}
    return {"headlines": headlines, "crossing": crossing, "territory_values": values}
