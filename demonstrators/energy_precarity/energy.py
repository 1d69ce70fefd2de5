"""Energy precarity: pure functions behind the demonstrator's assets.

Counts are computed per IRIS and summed upward (commune, territory); every share is
then derived from the summed counts by `derive`, so the three levels always agree.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.api import (
    StepContext,
    assign_points_to_zones,
    crossing_sentence,
    headline,
    interpolate_area_weighted,
    protected_cells,
    protected_value,
)

COUNTS = ["households", "low_income_households", "dpe_count", "fg_count", "pre1975_count",
          "predicted_mwh_sum", "predicted_count", "low_income_fg_households"]
# Protected aggregates: published column -> (aggregate column, its role).
OPERATOR = {"operator_delivery_points": "units", "operator_consumption_mwh": "conso_totale_mwh",
            "operator_dwellings": "nb_logements"}
METERS = {"metered_households": "units", "metered_kwh": "conso_kwh"}
IRIS_COLUMNS = ["code_iris", "nom_iris", "code_commune", "nom_commune"]
# INSEE's own rule for its grid: cells of fewer than 11 households carry imputed values
# (`i_est_200 = 1`), which are not measurements and are not republished as such.
INSEE_CELL_HOUSEHOLDS = 11
IMPUTED = "valeurs imputées par l'INSEE (carreau de moins de 11 ménages), non reprises"


def households_by_iris(grid: gpd.GeoDataFrame, incomes: pd.DataFrame, iris: gpd.GeoDataFrame, *,
                       ctx: StepContext) -> pd.DataFrame:
    """Households and low-income households per IRIS, from 200 m cells split by area.

    A territory without the grid has no household counts: INSEE's poverty rate per IRIS
    (Filosofi, `disp_tp60`, empty where secret) then gives the share directly.
    """
    if not ctx.has("filosofi_200m"):
        return rates_only(iris, incomes, "code_iris")
    cells = grid[["idcar_200m", "men", "men_pauv", "geometry"]].to_crs(ctx.territory.working_crs)
    result = interpolate_area_weighted(cells, iris[["code_iris", "geometry"]], columns=["men", "men_pauv"],
                                       target_id="code_iris", crs=ctx.territory.working_crs)
    result = result.rename(columns={"men": "households", "men_pauv": "low_income_households"})
    return iris[["code_iris"]].merge(result, on="code_iris", how="left").fillna(
        {"households": 0.0, "low_income_households": 0.0})


def indicators_by_cell(grid: gpd.GeoDataFrame, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-cell table: INSEE's households and low-income households per 200 m cell.

    Public data already protected by INSEE, republished where INSEE measured them; a cell
    of fewer than 11 households is listed with empty values (and says why), so the table
    still lists every populated cell.
    """
    men = grid["men"].astype("float64")
    measured = men >= INSEE_CELL_HOUSEHOLDS
    if "i_est_200" in grid:
        measured &= grid["i_est_200"].fillna(0).astype("float64").eq(0)
    households = men.where(measured)
    low_income = grid["men_pauv"].astype("float64").where(measured)
    table = gpd.GeoDataFrame({
        "idcar_200m": grid["idcar_200m"].astype("str").to_numpy(),
        "households": households.to_numpy(), "low_income_households": low_income.to_numpy(),
        "share_low_income": (low_income / households).to_numpy(),
        "statut": np.where(measured, "", IMPUTED),
    }, geometry=grid.geometry.to_numpy(), crs=grid.crs)
    return table.sort_values("idcar_200m", ignore_index=True)


def rates_only(zones: pd.DataFrame, incomes: pd.DataFrame, zone_column: str) -> pd.DataFrame:
    """No counts, the poverty rate of each zone (percent in Filosofi, a share here)."""
    rates = incomes.set_index(zone_column)["disp_tp60"].astype("float64") / 100.0
    return pd.DataFrame({zone_column: zones[zone_column].to_numpy(), "households": np.nan,
                         "low_income_households": np.nan,
                         "share_low_income_rate": zones[zone_column].map(rates).to_numpy()})


def dwellings_by_iris(dpe: pd.DataFrame, iris: gpd.GeoDataFrame, *, ctx: StepContext) -> pd.DataFrame:
    """Diagnosed dwellings per IRIS: count, F/G, pre-1975, predicted consumption."""
    dwellings = dpe["type_batiment"].isin(ctx.params["dwelling_types"]) if "type_batiment" in dpe else True
    located = dpe[dpe["x"].notna() & dpe["y"].notna() & dwellings]
    assignment = assign_points_to_zones(located, iris, zone_id="code_iris", crs=ctx.territory.working_crs)
    per_m2 = located["conso_ef_m2"]  # final energy: what a meter measures (primary energy is not)
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
    # Figures of the protected aggregates: hidden wherever the cells they come from are.
    protected_value(out, "operator_consumption_per_dwelling", ratio("operator_consumption_mwh", "operator_dwellings"),
                    base=["operator_consumption_mwh", "operator_dwellings"])
    protected_value(out, "metered_consumption_per_household", ratio("metered_kwh", "metered_households") / 1000.0,
                    base=["metered_kwh", "metered_households"])
    protected_value(out, "consumption_ratio",
                    out["operator_consumption_per_dwelling"] / out["predicted_consumption_per_dwelling"],
                    base=["operator_consumption_per_dwelling"])
    if "share_low_income_rate" in out:
        # Without household counts (no grid): the same assumption as the counts', on shares.
        out["share_low_income"] = out["share_low_income_rate"]
        out["share_households_low_income_fg"] = out["share_low_income_rate"] * out["share_fg"]
    protected_value(out, "precarity_households_with_shared",
                    out["low_income_fg_households"] + out["hidden_precarity_households"],
                    base=["hidden_precarity_households"])
    return out


def _iris_counts(households, dwellings, operator, iris, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """IRIS counts from public data, plus the estimate that needs the operator's data."""
    table = iris[IRIS_COLUMNS + ["geometry"]].merge(households, on="code_iris").merge(dwellings, on="code_iris")
    share_fg = (table["fg_count"] / table["dpe_count"]).where(table["dpe_count"] > 0, 0.0)
    # Assumption (stated in the registry): within an IRIS, low-income households live in
    # F/G dwellings in the same proportion as all diagnosed dwellings.
    table["low_income_fg_households"] = table["low_income_households"] * share_fg
    table = table.merge(protected_cells(operator, "iris", "code_iris", OPERATOR), on="code_iris", how="left")
    real = table["operator_consumption_mwh"] / table["operator_dwellings"].where(table["operator_dwellings"] > 0)
    predicted = table["predicted_mwh_sum"] / table["predicted_count"].where(table["predicted_count"] > 0)
    restricted = (real / predicted) < ctx.params["restriction_ratio"]  # NA (secret) compares False
    # A hidden operator cell counts no restricted household: 0 says nothing of its figure.
    return protected_value(table, "hidden_precarity_households",
                           (table["low_income_households"] * (1 - share_fg)).where(restricted, 0.0),
                           base=["operator_consumption_mwh", "operator_dwellings"], hidden=0.0)


def indicators_by_iris(households, dwellings, operator, meters, iris, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-IRIS table."""
    table = _iris_counts(households, dwellings, operator, iris, ctx=ctx)
    table = table.merge(protected_cells(meters, "iris", "code_iris", METERS), on="code_iris", how="left")
    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=iris.crs)


def indicators_by_commune(households, dwellings, operator, meters, communes, iris, incomes, *,
                          ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-commune table: IRIS counts summed, then shares derived.

    Protected figures come from the anonymiser's own commune cells, whose secondary
    suppression already accounts for the published IRIS.
    """
    sums = COUNTS + ["hidden_precarity_households"]
    counts = _iris_counts(households, dwellings, operator, iris, ctx=ctx).groupby("code_commune")[sums].sum()
    table = communes[["code_commune", "nom_commune", "geometry"]].merge(counts.reset_index(), on="code_commune")
    for aggregates, columns in ((operator, OPERATOR), (meters, METERS)):
        table = table.merge(protected_cells(aggregates, "commune", "code_commune", columns), on="code_commune", how="left")
    if not ctx.has("filosofi_200m"):
        table = table.drop(columns="share_low_income_rate", errors="ignore").merge(
            rates_only(table, incomes, "code_commune")[["code_commune", "share_low_income_rate"]], on="code_commune")
    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=communes.crs)


def territory_totals(iris_table: pd.DataFrame, commune_table: pd.DataFrame | None = None) -> pd.Series:
    """Territory-level values: counts summed over IRIS, shares derived from the sums.

    Protected figures are summed over the communes when every commune is published (their
    sum is then no secret); otherwise over the published IRIS only, an underestimate that
    keeps hidden cells hidden.
    """
    totals = iris_table[COUNTS + ["hidden_precarity_households"]].sum().to_frame().T
    for columns in (OPERATOR, METERS):
        complete = commune_table is not None and commune_table[list(columns)].notna().all().all()
        source = commune_table if complete else iris_table.dropna(subset=list(columns))
        for column in columns:
            totals[column] = source[column].sum()
    return derive(totals).iloc[0]


def summarise(iris: pd.DataFrame, commune: pd.DataFrame, *, ctx: StepContext) -> dict:
    """Headline figures and what crossing the shared data adds, for the report."""
    totals = territory_totals(iris, commune)
    registry = ctx.registry
    # A share without its counts (no grid) has no territory value: no headline for it.
    headlines = [headline(registry[i], float(totals[i])) for i in ctx.demonstrator.headlines if pd.notna(totals[i])]
    crossing = [
        crossing_sentence(registry["precarity_households_with_shared"],
                          public_only=float(totals["low_income_fg_households"]),
                          with_shared=float(totals["precarity_households_with_shared"]),
                          label="Ménages pauvres en précarité énergétique : passoires thermiques seules (données "
                                "publiques), puis avec la restriction de chauffage révélée par l'opérateur"),
        crossing_sentence(registry["operator_consumption_per_dwelling"],
                          public_only=float(totals["predicted_consumption_per_dwelling"]),
                          with_shared=float(totals["operator_consumption_per_dwelling"]),
                          label="Consommation par logement : prévue par les DPE (données publiques) et mesurée "
                                "par l'opérateur (données privées agrégées)"),
    ]
    # A protected count summed over published cells only is not the territory's value, and
    # published beside the cells it would be taken for one: leave it out unless complete.
    partial = {c for c in ctx.demonstrator.protected if commune[c].isna().any()}
    values = {i: float(totals[i]) for i in ctx.demonstrator.indicators
              if i in totals and pd.notna(totals[i]) and i not in partial}
    return {"headlines": headlines, "crossing": crossing, "territory_values": values}
