"""Mobility — access to public transport: pure functions behind the demonstrator's assets.

Access is measured cell by cell: each inhabited 200 m cell of the Filosofi grid is
"served" when the centre of its square lies within ``distance_m`` (straight line, in
the territory's working CRS) of a stop with at least ``min_departures`` departures on
the day counted, and "far" when no stop with any departure that day lies within
``far_distance_m``. Its inhabitants are then split across IRIS by area, like the energy
demonstrator's households, and summed upward; shares are derived from the sums.

Nearest-stop distances use a KD-tree (:func:`nearest_distances`), not a DuckDB join:
the question is a nearest-neighbour query, which a KD-tree answers exactly for every
cell in one pass, whatever the distance, so one query serves every threshold (400 m to
a frequent stop, 1 km to any stop) and gives the distance itself. An ``ST_DWithin``
join, which DuckDB plans as a ``SPATIAL_JOIN`` (tests/demonstrators/
test_demo_mobility_access.py checks both agree), returns every (cell, stop) pair within
one radius and needs a join and a GROUP BY per threshold. Both are fast: on a 2-core
machine, 200,000 cells and 20,000 random stops take 0.10 s with the tree, 0.14 s with
the DuckDB join (400 m) and 0.15 s for the minimum distance within 1 km; the tree takes
1.6 s for 2.3 million cells (inhabited mainland France) and 100,000 stops.

The survey and the car-sharing operator arrive already protected (``anonymised_*``,
``aggregated_*``): per-zone aggregates with their suppressed cells empty and a reason.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pipelines.api import (
    StepContext,
    assign_points_to_zones,
    check_crs,
    format_fr,
    headline,
    interpolate_area_weighted,
    protected_cells,
    protected_value,
)

IRIS_COLUMNS = ["code_iris", "nom_iris", "code_commune", "nom_commune"]
ACCESS = ["population", "population_served", "population_far_from_stops"]
SURVEY = ["survey_households", "survey_trips", "share_trips_car", "share_trips_public_transport"]
CARSHARING = ["carsharing_stations", "carsharing_trips"]


# --- stops and cells --------------------------------------------------------------------
# The day counted is the GTFS card's option `day` (the feed's typical weekday when
# unset): the staged feed already holds the departures of that day per stop.


def nearest_distances(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Straight-line distance from each point to the nearest target (KD-tree, exact).

    Parameters
    ----------
    points, targets : numpy.ndarray of shape (n, 2) and (m, 2)
        Coordinates in one projected CRS (metres).

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        ``inf`` for every point when there is no target.
    """
    points = np.asarray(points, dtype="float64").reshape(-1, 2)
    targets = np.asarray(targets, dtype="float64").reshape(-1, 2)
    if len(targets) == 0:
        return np.full(len(points), np.inf)
    distances, _ = cKDTree(targets).query(points, k=1)
    return distances


def cell_access(grid: gpd.GeoDataFrame, stops: pd.DataFrame, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """Every inhabited cell: distances from its centre to the nearest frequent and any stop.

    The centre is the centre of the INSEE square in the grid CRS, projected to the
    working CRS where distances are measured; the cell's polygon is projected too, for
    the area split that follows.
    """
    crs = ctx.territory.working_crs
    check_crs(stops, crs, layer="stops")
    params = ctx.params
    if grid.empty:  # a territory without the 200 m grid: no inhabitants to place
        cells = gpd.GeoDataFrame({"idcar_200m": pd.Series(dtype="str")}, geometry=[], crs=crs)
        cells.attrs["day"] = stops.attrs.get("day")
        return cells
    centres = grid.geometry.centroid.to_crs(crs)
    xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    departures = stops["departures"].to_numpy()
    located = stops[["x", "y"]].notna().all(axis=1).to_numpy()
    frequent = nearest_distances(xy, stops.loc[located & (departures >= params["min_departures"]), ["x", "y"]].to_numpy())
    running = nearest_distances(xy, stops.loc[located & (departures >= 1), ["x", "y"]].to_numpy())
    cells = gpd.GeoDataFrame({
        "idcar_200m": grid["idcar_200m"].to_numpy(),
        "ind": grid["ind"].to_numpy(dtype="float64"),
        "distance_frequent_m": frequent, "distance_any_m": running,
        "served": frequent <= params["distance_m"], "far": running > params["far_distance_m"],
    }, geometry=grid.geometry.to_crs(crs).to_numpy(), crs=crs)
    cells.attrs["day"] = stops.attrs.get("day")
    return cells


def access_by_zone(cells: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, zone_id: str, crs: str) -> pd.DataFrame:
    """Inhabitants, inhabitants served and far from any stop per zone, split by area;
    missing values for every zone when the territory has no population grid."""
    if cells.empty or "ind" not in cells:
        return pd.DataFrame({zone_id: zones[zone_id].to_numpy(), **{c: np.nan for c in ACCESS}})
    ind = cells["ind"].fillna(0.0)
    source = gpd.GeoDataFrame({"population": ind, "population_served": ind.where(cells["served"], 0.0),
                               "population_far_from_stops": ind.where(cells["far"], 0.0)},
                              geometry=cells.geometry, crs=cells.crs)
    result = interpolate_area_weighted(source, zones[[zone_id, "geometry"]], columns=ACCESS,
                                       target_id=zone_id, crs=crs)
    return zones[[zone_id]].merge(result, on=zone_id, how="left").fillna({c: 0.0 for c in ACCESS})


def access_by_iris(cells: gpd.GeoDataFrame, iris: gpd.GeoDataFrame, *, ctx: StepContext) -> pd.DataFrame:
    """Inhabitants, inhabitants served and far from any stop per IRIS, split by area
    (nothing for a territory without IRIS: its communes take the cells directly)."""
    if iris.empty:
        return pd.DataFrame({"code_iris": pd.Series(dtype="str"), **{c: pd.Series(dtype="float64") for c in ACCESS}})
    table = access_by_zone(cells, iris, "code_iris", ctx.territory.working_crs)
    table.attrs["day"] = cells.attrs.get("day")
    return table


def service_by_zone(stops: pd.DataFrame, zones: gpd.GeoDataFrame, zone_id: str, *, ctx: StepContext) -> pd.DataFrame:
    """Per zone: the frequent stops it holds and the share of its area within
    ``distance_m`` (straight line) of one of them. Needs no population: a territory
    without the 200 m grid still has these."""
    crs = ctx.territory.working_crs
    params = ctx.params
    located = stops[["x", "y"]].notna().all(axis=1) & (stops["departures"] >= params["min_departures"])
    frequent = stops.loc[located, ["x", "y"]].astype("float64")
    frequent.attrs["crs"] = crs
    assigned = assign_points_to_zones(frequent, zones, zone_id=zone_id, crs=crs).zone_ids
    counts = pd.Series(assigned).value_counts()
    reach = gpd.GeoSeries(gpd.points_from_xy(frequent["x"], frequent["y"]), crs=crs).buffer(
        params["distance_m"], quad_segs=32).union_all() if len(frequent) else None
    areas = zones.geometry.area.to_numpy()
    served = zones.geometry.intersection(reach).area.to_numpy() if reach is not None else np.zeros(len(zones))
    return pd.DataFrame({zone_id: zones[zone_id].to_numpy(),
                         "frequent_stops": zones[zone_id].map(counts).fillna(0).astype("float64").to_numpy(),
                         # (an IRIS wholly served can come out a few 1e-16 above 1 in floating point)
                         "share_area_served": np.where(areas > 0, np.minimum(served / np.where(areas > 0, areas, 1), 1.0),
                                                       np.nan)})


# --- protected aggregates ---------------------------------------------------------------


Z95 = 1.959963984540054  # two-sided 95 % normal quantile
MARGINS = {"share_trips_car": "margin_trips_car", "share_trips_public_transport": "margin_trips_public_transport"}
UNRELIABLE = "part des déplacements peu fiable : marge d'erreur supérieure au seuil de fiabilité"


def survey_by_zone(survey: pd.DataFrame, zoning: str, id_column: str, modes: dict) -> pd.DataFrame:
    """The anonymised survey's aggregates of one zoning, named as published, with the
    95 % margin of error of each share (the anonymiser's standard error, households as
    clusters: trips of one household are not independent)."""
    columns = {"survey_households": "units", "survey_trips": "nb_deplacements",
               "share_trips_car": f"share_mode_{modes['car']}",
               "share_trips_public_transport": f"share_mode_{modes['public_transport']}"}
    for share, margin in MARGINS.items():
        if f"se_{columns[share]}" in survey.columns:
            columns[margin] = f"se_{columns[share]}"
    cells = protected_cells(survey, zoning, id_column, columns)
    for margin in MARGINS.values():
        cells[margin] = cells[margin] * Z95 if margin in cells else np.nan
    return cells


def reliability(table: pd.DataFrame, max_margin: float) -> pd.Series:
    """`statut`: says where a survey share is unreliable (its margin above `max_margin`);
    the share stays published, flagged, with its margin beside it."""
    wide = pd.concat([table[m] > max_margin for m in MARGINS.values() if m in table], axis=1).any(axis=1)
    return pd.Series(np.where(wide, UNRELIABLE, ""), index=table.index, dtype="str")


def carsharing_by_zone(carsharing: pd.DataFrame, zoning: str, id_column: str) -> pd.DataFrame:
    """The car-sharing operator's protected aggregates of one zoning, named as published."""
    return protected_cells(carsharing, zoning, id_column, {"carsharing_stations": "units",
                                                           "carsharing_trips": "nb_trajets"})


def _with_protected(table: pd.DataFrame, survey: pd.DataFrame, carsharing: pd.DataFrame, zoning: str,
                    id_column: str, ctx: StepContext) -> pd.DataFrame:
    """Join both protected sources; a zone absent from them has no respondent or station.

    Such a zone publishes no count (a count below the threshold, even 0, is never
    published) and no share, but 0 car-sharing trips: no station, no trip. A territory
    without the operator's data publishes no car-sharing figure at all.
    """
    table = table.merge(survey_by_zone(survey, zoning, id_column, ctx.params["survey_modes"]), on=id_column, how="left")
    table = table.merge(carsharing_by_zone(carsharing, zoning, id_column), on=id_column, how="left")
    if ctx.has("carsharing_trips"):
        absent = table["secret_carsharing_stations"].isna()
        table.loc[absent, "carsharing_trips"] = 0.0
    for column in ("secret_survey_households", "secret_carsharing_stations"):
        table[column] = table[column].fillna("").astype("str")
    table["statut"] = reliability(table, ctx.params["max_margin"])
    return table


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Shares and rates from summed counts; an empty denominator gives a missing value."""
    out = frame.copy()
    population = out["population"].astype("float64")
    out["share_population_served"] = (out["population_served"] / population).where(population > 0)
    out["share_population_far"] = (out["population_far_from_stops"] / population).where(population > 0)
    if "carsharing_trips" in out:
        protected_value(out, "carsharing_trips_per_1000", (out["carsharing_trips"] / population * 1000).where(population > 0),
                        base=["carsharing_trips"])
    return out


# --- published tables -------------------------------------------------------------------


def indicators_by_iris(access, survey, carsharing, iris, stops, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-IRIS table."""
    table = iris[IRIS_COLUMNS + ["geometry"]].merge(access, on="code_iris")
    table = table.merge(service_by_zone(stops, iris, "code_iris", ctx=ctx), on="code_iris", how="left")
    table = _with_protected(table, survey, carsharing, "iris", "code_iris", ctx)
    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=iris.crs)


def indicators_by_commune(access, survey, carsharing, iris, communes, cells, stops, *,
                          ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-commune table: IRIS counts summed (a territory without IRIS
    splits the cells over its communes directly), protected aggregates joined."""
    if ctx.has("iris"):
        counts = access.merge(iris[["code_iris", "code_commune"]], on="code_iris").groupby("code_commune")[ACCESS].sum()
        counts = counts.reset_index()
    else:
        counts = access_by_zone(cells, communes, "code_commune", ctx.territory.working_crs)
    table = communes[["code_commune", "nom_commune", "geometry"]].merge(counts, on="code_commune")
    table = table.merge(service_by_zone(stops, communes, "code_commune", ctx=ctx), on="code_commune", how="left")
    table = _with_protected(table, survey, carsharing, "commune", "code_commune", ctx)
    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=communes.crs)


def territory_figures(carsharing: pd.DataFrame, stops: pd.DataFrame, *, ctx: StepContext) -> pd.DataFrame:
    """Figures of the whole territory that no published table gives: the car-sharing
    operator's own protected total, and the day the departures were counted."""
    totals = carsharing_by_zone(carsharing, "total", "zone").drop(columns="zone")
    row = {column: float(totals[column].iloc[0]) if len(totals) else np.nan for column in CARSHARING}
    # What the GTFS connector left out (school and on-demand routes by default), for the page.
    excluded = ", ".join(str(t) for t in stops.attrs.get("excluded_route_types") or [])
    return pd.DataFrame([row | {"day": stops.attrs.get("day"), "excluded_route_types": excluded,
                                "excluded_departures": int(stops.attrs.get("excluded_departures") or 0)}])


# --- summary for the report -------------------------------------------------------------


def territory_values(iris_table: pd.DataFrame, territory: pd.DataFrame,
                     commune_table: pd.DataFrame | None = None) -> pd.Series:
    """Territory-wide values: access summed over IRIS (over communes for a territory
    without IRIS); survey over its published IRIS; car-sharing from the operator's
    protected territory total; frequent stops counted, and the area near them over the
    whole area."""
    zones = commune_table if iris_table.empty and commune_table is not None else iris_table
    values = zones[ACCESS].sum(min_count=1)
    if "frequent_stops" in zones:
        values["frequent_stops"] = zones["frequent_stops"].sum()
        area = zones.geometry.area if hasattr(zones, "geometry") else None
        if area is not None and area.sum() > 0:
            values["share_area_served"] = float((zones["share_area_served"] * area).sum() / area.sum())
    if iris_table.empty:
        iris_table = pd.DataFrame(columns=[*SURVEY, "share_trips_car"])
    published = iris_table.dropna(subset=["survey_trips", "share_trips_car"])
    trips = published["survey_trips"].sum()
    # the count is published for the territory only when no IRIS is hidden: a partial sum
    # beside the published cells would read as the total and mislead differencing checks
    complete = iris_table["survey_households"].notna().all()
    values["survey_households"] = published["survey_households"].sum() if complete else np.nan
    values["survey_trips"] = trips
    for share in ("share_trips_car", "share_trips_public_transport"):
        values[share] = (published[share] * published["survey_trips"]).sum() / trips if trips > 0 else np.nan
        # IRIS samples are independent: the territory's variance is Σ w² var, w = trips share.
        margin = MARGINS[share]
        if margin in published and trips > 0:
            weights = published["survey_trips"] / trips
            values[margin] = float(np.sqrt(((weights * published[margin]) ** 2).sum()))
    for column in CARSHARING:
        values[column] = float(territory[column].iloc[0])
    return derive(values.to_frame().T).iloc[0]


def group_car_shares(iris_table: pd.DataFrame, threshold: float) -> dict:
    """Car share of trips in well- and poorly-served IRIS (published survey cells only)."""
    published = iris_table.dropna(subset=["survey_trips", "share_trips_car", "share_population_served"])
    well = published["share_population_served"] >= threshold
    out = {}
    for name, rows in (("well", published[well]), ("poor", published[~well])):
        trips = rows["survey_trips"].sum()
        out[name] = float((rows["share_trips_car"] * rows["survey_trips"]).sum() / trips) if trips > 0 else np.nan
        out[f"{name}_iris"] = len(rows)
    return out


def crossing(iris_table: pd.DataFrame, values: pd.Series, ctx) -> dict:
    """What the survey adds to the public access figures: where poor service means car use."""
    threshold = ctx.params["well_served_share"]
    shares = group_car_shares(iris_table, threshold)
    poorly = iris_table[iris_table["share_population_served"] < threshold]
    car_bound = poorly[poorly["share_trips_car"] > values["share_trips_car"]]
    public, shared = float(poorly["population"].sum()), float(car_bound["population"].sum())
    def pct(value: float) -> str:
        return format_fr(value, "%")

    sentence = (
        f"Les données publiques seules (réseau de bus et carreaux de l'INSEE) désignent {len(poorly)} IRIS où moins "
        f"de {format_fr(threshold, '%', decimals=0)} des habitants vivent près d'un arrêt fréquent, "
        f"soit {format_fr(public, 'habitants')}. "
        f"L'enquête déplacements anonymisée y mesure {pct(shares['poor'])} de déplacements en voiture, contre "
        f"{pct(shares['well'])} dans les IRIS bien desservis. Dans {len(car_bound)} de ces IRIS "
        f"({format_fr(shared, 'habitants')}), la voiture dépasse la moyenne du territoire "
        f"({pct(values['share_trips_car'])}) : c'est là qu'une meilleure desserte changerait le plus les habitudes.")
    return {"indicator": "population", "label": "Habitants des IRIS mal desservis où agir en priorité",
            "public_only": public, "with_shared": shared, "unit": "habitants", "sentence": sentence,
            "car_share_well_served": shares["well"], "car_share_poorly_served": shares["poor"],
            "iris_poorly_served": len(poorly), "iris_car_dependent": len(car_bound),
            # the protected columns its figures are computed from (the lineage audit checks it)
            "based_on": ["share_trips_car"]}


def summarise(iris: pd.DataFrame, commune: pd.DataFrame, territory: pd.DataFrame, *, ctx: StepContext) -> dict:
    """Headline figures and what crossing the survey adds (the framework adds the privacy note)."""
    values = territory_values(iris, territory, commune)
    headlines = [headline(ctx.registry[i], float(values[i])) for i in ctx.demonstrator.headlines
                 if i in values and pd.notna(values[i])]
    day = territory["day"].iloc[0]
    for item in headlines:
        if item["indicator"] in SURVEY:
            item["explanation"] = _scope(item["explanation"], "Valeur pour l'ensemble des IRIS où l'enquête est publiée.")
            margin = values.get(MARGINS.get(item["indicator"], ""), np.nan)
            if pd.notna(margin):
                item["explanation"] += (f" Marge d'erreur à 95 % : ± {format_fr(margin * 100, 'points')} "
                                        "(enquête par sondage).")
        elif item["indicator"] in ("share_population_served", "population_far_from_stops", "share_area_served") and day:
            item["explanation"] += f" Jour compté : {_french_date(day)}." + _left_out(territory)
    kept = {i: float(values[i]) for i in ctx.demonstrator.indicators if i in values and pd.notna(values[i])}
    shared = [crossing(iris, values, ctx)] if ctx.has("travel_survey") else []
    return {"headlines": headlines, "crossing": shared,
            "territory_values": kept}


def _left_out(territory: pd.DataFrame) -> str:
    """The sentence saying which bus services are not counted as regular departures."""
    if "excluded_route_types" not in territory or not territory["excluded_route_types"].iloc[0]:
        return ""
    departures = int(territory["excluded_departures"].iloc[0])
    count = f" ({format_fr(departures, 'départs')} ce jour-là)" if departures else ""
    return f" Les services scolaires et à la demande ne sont pas comptés{count}."


def _scope(explanation: str, scope: str) -> str:
    """Say which zones a headline covers, in place of "the whole territory" when present."""
    whole = "Valeur pour l'ensemble du territoire."
    return explanation.replace(whole, scope) if whole in explanation else f"{explanation} {scope}"


def _french_date(iso: str) -> str:
    """``2023-01-02`` -> ``lundi 2 janvier 2023``."""
    day = dt.date.fromisoformat(str(iso))
    weekdays = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre"]
    return f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]} {day.year}"
