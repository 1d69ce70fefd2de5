"""Template demonstrator: the share of F/G dwellings per IRIS and per commune.

Functions are pure: frames in, frames out; `ctx` gives the territory, the params and
the indicator registry. Import only from `pipelines.api`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from pipelines.api import StepContext, assign_points_to_zones, headline


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["share_fg"] = (out["fg_count"] / out["dpe_count"]).where(out["dpe_count"] > 0)
    return out


def by_iris(dpe: pd.DataFrame, iris: gpd.GeoDataFrame, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """DPE counted per IRIS, with the share rated F or G."""
    located = dpe.dropna(subset=["x", "y"])
    zones = assign_points_to_zones(located, iris, zone_id="code_iris", crs=ctx.territory.working_crs).zone_ids
    counts = pd.DataFrame({"code_iris": zones.to_numpy(), "fg": located["etiquette_dpe"].isin(["F", "G"]).to_numpy()})
    counts = counts.dropna().groupby("code_iris").agg(dpe_count=("fg", "size"), fg_count=("fg", "sum")).reset_index()
    table = iris.merge(counts, on="code_iris", how="left").fillna({"dpe_count": 0, "fg_count": 0})
    return gpd.GeoDataFrame(_shares(table), geometry="geometry", crs=iris.crs)


def by_commune(table: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """IRIS counts summed per commune."""
    sums = table.groupby("code_commune")[["dpe_count", "fg_count"]].sum().reset_index()
    merged = communes[["code_commune", "nom_commune", "geometry"]].merge(sums, on="code_commune")
    return gpd.GeoDataFrame(_shares(merged), geometry="geometry", crs=communes.crs)


def summarise(commune: gpd.GeoDataFrame, *, ctx: StepContext) -> dict:
    """Headline figures for the whole territory, from the commune counts."""
    totals = commune[["dpe_count", "fg_count"]].sum().to_frame().T
    values = _shares(totals).iloc[0]
    return {"headlines": [headline(ctx.registry[i], float(values[i])) for i in ctx.demonstrator.headlines]}
