"""Housing — affordability and pressure: pure functions behind the demonstrator's assets.

- **Prices** (DVF): one row per mutation (:func:`pipelines.api.dvf_mutations`, so
  a sale spread over several lots or parcels counts once), kept when it is a "Vente" of
  exactly one dwelling (a flat or a house; outbuildings allowed, no business premises)
  over the last ``years`` years of the file. Medians are computed per zone from the sales
  themselves, never from the medians of smaller zones; a zone with fewer than
  ``min_sales`` sales publishes no median, and its ``statut`` says why.
- **Years of income**: median price per m² × ``surface_m2`` / median disposable income
  per consumption unit (``DISP_MED`` of INSEE's Filosofi file of the IRIS or commune:
  a median cannot be rebuilt from the 200 m grid's sums).
- **Social housing**: RPLS dwellings located in the zone / main residences (the grid's
  ``log_*`` columns, split by area like the energy demonstrator's households).
- **Vacancy** (LOVAC): per commune only, as the file is published; counts the producer
  masked stay empty.

Territory-wide medians cannot be derived from the published tables either: the
``territory`` step computes them from the sales, and the summary reads that step.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.api import (
    StepContext,
    assign_points_to_zones,
    dvf_mutations,
    format_fr,
    headline,
    interpolate_area_weighted,
)

IRIS_COLUMNS = ["code_iris", "nom_iris", "code_commune", "nom_commune"]
DWELLING_COLUMNS = ["log_av45", "log_45_70", "log_70_90", "log_ap90", "log_inc"]
KINDS = {"flats": "appartement", "houses": "maison", "dwellings": "logement"}
STOCK = ["dwellings", "social_dwellings"]
LOVAC = {"pp_total": "private_dwellings", "pp_vacant": "vacant_dwellings", "pp_vacant_plus_2ans": "long_term_vacant"}
STATUT = "statut"


# --- sales ------------------------------------------------------------------------------


def dwelling_sales(dvf: pd.DataFrame, iris: gpd.GeoDataFrame, *, ctx: StepContext) -> pd.DataFrame:
    """Sales of one dwelling, one row per mutation, with price per m², IRIS and commune."""
    sales = select_sales(dvf_mutations(dvf), natures=ctx.params["natures"], years=ctx.params["years"])
    sales = sales[sales["x"].notna() & sales["y"].notna()].reset_index(drop=True)
    sales.attrs["crs"] = dvf.attrs.get("crs", ctx.territory.working_crs)
    assignment = assign_points_to_zones(sales, iris, zone_id="code_iris", crs=ctx.territory.working_crs)
    sales["code_iris"] = assignment.zone_ids.to_numpy()
    sales = sales.dropna(subset=["code_iris"])
    commune_of = iris.set_index("code_iris")["code_commune"]
    sales["code_commune"] = sales["code_iris"].map(commune_of).astype("str")
    result = sales[["id_mutation", "date_mutation", "type", "valeur_fonciere", "surface_m2", "price_m2",
                    "code_iris", "code_commune"]].reset_index(drop=True)
    result.attrs.update(outside=int(assignment.outside), first_year=sales.attrs.get("first_year"),
                        last_year=sales.attrs.get("last_year"))
    return result


def select_sales(frame: pd.DataFrame, *, natures, years: int) -> pd.DataFrame:
    """Mutations kept for prices: `natures`, one dwelling, positive price and surface,
    the last `years` calendar years present; `type` is ``appartement`` or ``maison``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per mutation, as :func:`pipelines.connectors.dvf.mutations` returns.
    """
    year = frame["date_mutation"].dt.year
    if year.isna().all():
        raise ValueError("DVF holds no dated mutation: no sale to compute prices from; check the DVF source file.")
    last = int(year.max())
    one = (frame["nb_maisons"] + frame["nb_appartements"] == 1) & (frame["nb_locaux_activite"] == 0)
    priced = (frame["valeur_fonciere"] > 0) & (frame["surface_reelle_bati"] > 0)
    kept = frame[frame["nature_mutation"].isin(list(natures)) & one & priced & (year > last - years)].copy()
    kept["type"] = np.where(kept["nb_maisons"] == 1, "maison", "appartement")
    kept["surface_m2"] = kept["surface_reelle_bati"].astype("float64")
    kept["price_m2"] = kept["valeur_fonciere"].astype("float64") / kept["surface_m2"]
    kept.attrs.update(first_year=last - years + 1, last_year=last)
    return kept


def price_medians(sales: pd.DataFrame, zone_column: str, zones: pd.Series, min_sales: int) -> pd.DataFrame:
    """Sales and median price per m² per zone and kind; medians over too few sales are NA.

    Returns one row per zone of `zones` with ``sales_<kind>``, ``median_price_m2_<kind>``
    (kind ``flats``, ``houses``, ``dwellings``) and a ``statut`` text for the NA medians.
    """
    out = pd.DataFrame({zone_column: zones.astype("str").to_numpy()})
    notes = pd.Series("", index=out.index, dtype="str")
    for kind, label in KINDS.items():
        rows = sales if kind == "dwellings" else sales[sales["type"] == label]
        grouped = rows.groupby(zone_column)["price_m2"].agg(["size", "median"])
        count = grouped["size"].reindex(out[zone_column]).fillna(0).to_numpy(dtype="float64")
        median = grouped["median"].reindex(out[zone_column]).to_numpy(dtype="float64")
        small = count < min_sales
        out[f"sales_{kind}"] = count.astype("int64")
        out[f"median_price_m2_{kind}"] = np.where(small, np.nan, median)
        reason = [f"prix des {label}s non significatif ({int(n)} vente{'s' if n > 1 else ''}, moins de {min_sales})"
                  for n in count]
        notes = _append(notes, pd.Series(np.where(small, reason, ""), index=out.index, dtype="str"))
    out[STATUT] = notes
    return out


def _append(notes: pd.Series, more: pd.Series) -> pd.Series:
    """Join two columns of reasons with « ; », skipping empty ones."""
    both = notes.ne("") & more.ne("")
    return (notes + np.where(both, " ; ", "") + more).astype("str")


def territory_medians(sales: pd.DataFrame, min_sales: int) -> dict[str, float]:
    """Median price per m² of each kind over the whole territory (NA below `min_sales`)."""
    out = {}
    for kind, label in KINDS.items():
        prices = sales["price_m2"] if kind == "dwellings" else sales.loc[sales["type"] == label, "price_m2"]
        out[f"median_price_m2_{kind}"] = float(prices.median()) if len(prices) >= min_sales else np.nan
        out[f"sales_{kind}"] = float(len(prices))
    return out


# --- stock ------------------------------------------------------------------------------


def stock_by_iris(grid: gpd.GeoDataFrame, rpls: pd.DataFrame, iris: gpd.GeoDataFrame, *, ctx: StepContext) -> pd.DataFrame:
    """Main residences (grid, by area) and social dwellings (RPLS, by location) per IRIS."""
    crs = ctx.territory.working_crs
    cells = gpd.GeoDataFrame({"dwellings": grid[DWELLING_COLUMNS].fillna(0.0).sum(axis=1).to_numpy()},
                             geometry=grid.geometry.to_crs(crs).to_numpy(), crs=crs)
    dwellings = interpolate_area_weighted(cells, iris[["code_iris", "geometry"]], columns=["dwellings"],
                                          target_id="code_iris", crs=crs)
    located = rpls[rpls["x"].notna() & rpls["y"].notna()]
    zones = assign_points_to_zones(located, iris, zone_id="code_iris", crs=crs).zone_ids
    social = (pd.DataFrame({"code_iris": zones.to_numpy(), "social_dwellings": located["nb_logements"].to_numpy(dtype="float64")})
              .dropna(subset=["code_iris"]).groupby("code_iris")["social_dwellings"].sum())
    table = iris[["code_iris"]].merge(dwellings, on="code_iris", how="left")
    table["social_dwellings"] = table["code_iris"].map(social).fillna(0.0).to_numpy(dtype="float64")
    table["dwellings"] = table["dwellings"].fillna(0.0)
    table.attrs["rpls_without_coordinates"] = int(len(rpls) - len(located))
    return table


# --- published tables -------------------------------------------------------------------


def derive(frame: pd.DataFrame, surface_m2: float) -> pd.DataFrame:
    """Years of income, social share and vacancy rates, with their reasons when empty."""
    out = frame.copy()
    income = out["median_income"].astype("float64")
    out["years_income_70m2"] = (out["median_price_m2_dwellings"] * surface_m2 / income).where(income > 0)
    dwellings = out["dwellings"].astype("float64")
    share = (out["social_dwellings"] / dwellings).where(dwellings > 0)
    over = share > 1
    out["share_social_housing"] = share.where(~over)
    out[STATUT] = _append(out[STATUT], pd.Series(np.where(
        over, "part de logements sociaux non significative (plus de logements sociaux que de résidences "
              "principales estimées)", ""), index=out.index, dtype="str"))
    private = out["private_dwellings"].astype("float64")
    out["vacancy_rate"] = (out["vacant_dwellings"] / private).where(private > 0)
    out["long_term_vacancy_rate"] = (out["long_term_vacant"] / private).where(private > 0)
    return out


def _incomes(incomes: pd.DataFrame, zone_column: str, zones: pd.Series) -> pd.DataFrame:
    income = incomes.set_index(zone_column)["disp_med"].astype("float64").reindex(zones.astype("str"))
    reason = np.where(income.isna(), "revenu médian non diffusé par l'INSEE (secret statistique)", "")
    return pd.DataFrame({zone_column: zones.astype("str").to_numpy(), "median_income": income.to_numpy(),
                         "_income_statut": reason})


def _assemble(zones: gpd.GeoDataFrame, zone_column: str, counts: pd.DataFrame, sales: pd.DataFrame,
              incomes: pd.DataFrame, ctx) -> pd.DataFrame:
    min_sales = ctx.params["min_sales"]
    table = zones.merge(counts, on=zone_column, how="left")
    table = table.merge(price_medians(sales, zone_column, zones[zone_column], min_sales), on=zone_column)
    table = table.merge(_incomes(incomes, zone_column, zones[zone_column]), on=zone_column)
    table[STATUT] = _append(table[STATUT], table.pop("_income_statut"))
    return table


def indicators_by_iris(sales, stock, incomes, iris, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-IRIS table (vacancy is known per commune only: empty here)."""
    table = _assemble(iris[IRIS_COLUMNS + ["geometry"]], "code_iris", stock, sales, incomes, ctx)
    for column in LOVAC.values():
        table[column] = np.nan
    return gpd.GeoDataFrame(derive(table, ctx.params["surface_m2"]), geometry="geometry", crs=iris.crs)


def lovac_by_commune(vacancy: pd.DataFrame, communes: pd.Series) -> pd.DataFrame:
    """LOVAC counts of the territory's communes; masked counts stay empty, with a reason."""
    rows = vacancy.set_index("code_commune").reindex(communes.astype("str"))
    out = pd.DataFrame({"code_commune": communes.astype("str").to_numpy()})
    for source, column in LOVAC.items():
        out[column] = pd.to_numeric(rows[source]).astype("float64").to_numpy()
    masked = rows["masque"].fillna(False).astype(bool).to_numpy()
    missing = rows["pp_total"].isna().to_numpy() & ~masked
    out["_lovac_statut"] = np.select(
        [masked, missing], ["LOVAC : nombres inférieurs à 11 masqués par le producteur (secret statistique)",
                            "commune absente du fichier LOVAC"], "")
    return out


def indicators_by_commune(sales, stock, incomes, vacancy, iris, communes, *, ctx: StepContext) -> gpd.GeoDataFrame:
    """The published per-commune table: IRIS counts summed, medians from the commune's own sales."""
    counts = stock.merge(iris[["code_iris", "code_commune"]], on="code_iris").groupby("code_commune")[STOCK].sum()
    table = _assemble(communes[["code_commune", "nom_commune", "geometry"]], "code_commune",
                      counts.reset_index(), sales, incomes, ctx)
    table = table.merge(lovac_by_commune(vacancy, table["code_commune"]), on="code_commune")
    table[STATUT] = _append(table[STATUT], table.pop("_lovac_statut"))
    return gpd.GeoDataFrame(derive(table, ctx.params["surface_m2"]), geometry="geometry", crs=communes.crs)


def territory_figures(sales: pd.DataFrame, *, ctx: StepContext) -> pd.DataFrame:
    """Figures of the whole territory that no published table gives: the medians over
    all its sales (medians do not add up) and the years the sales cover."""
    row = territory_medians(sales, ctx.params["min_sales"])
    return pd.DataFrame([row | {"first_year": sales.attrs.get("first_year"), "last_year": sales.attrs.get("last_year")}])


# --- summary for the report -------------------------------------------------------------


def territory_values(iris_table: pd.DataFrame, commune_table: pd.DataFrame, territory: pd.DataFrame) -> dict[str, float]:
    """Territory-wide values: sums of counts, medians over all sales, rates over the
    communes whose LOVAC counts are published. No years of income: INSEE's IRIS and
    commune files cannot give the territory's median income (medians do not add up)."""
    values = {c: float(iris_table[c].sum()) for c in STOCK}
    values["share_social_housing"] = values["social_dwellings"] / values["dwellings"] if values["dwellings"] else np.nan
    for kind in KINDS:
        values[f"sales_{kind}"] = float(territory[f"sales_{kind}"].iloc[0])
        values[f"median_price_m2_{kind}"] = float(territory[f"median_price_m2_{kind}"].iloc[0])
    known = commune_table.dropna(subset=["private_dwellings", "vacant_dwellings"])
    for column in ("private_dwellings", "vacant_dwellings"):
        values[column] = float(known[column].sum())
    values["vacancy_rate"] = values["vacant_dwellings"] / values["private_dwellings"] if values["private_dwellings"] else np.nan
    long_term = known.dropna(subset=["long_term_vacant"])
    private = long_term["private_dwellings"].sum()
    values["long_term_vacancy_rate"] = float(long_term["long_term_vacant"].sum() / private) if private else np.nan
    return values


def crossing(commune_table: pd.DataFrame) -> dict:
    """What LOVAC adds to the public household data: the private stock nobody lives in."""
    known = commune_table.dropna(subset=["private_dwellings", "vacant_dwellings"])
    public = float((known["dwellings"] - known["social_dwellings"]).clip(lower=0).sum())
    lovac = float(known["private_dwellings"].sum())
    vacant = float(known["vacant_dwellings"].sum())
    long_term = float(known["long_term_vacant"].sum())
    rate = vacant / lovac if lovac else np.nan
    sentence = (
        f"Les données publiques sur les ménages (carreaux Filosofi, moins les logements sociaux du RPLS) ne voient "
        f"que les logements habités à l'année : {format_fr(public, 'logements')} privés dans les "
        f"{len(known)} communes où LOVAC est diffusé. Le fichier LOVAC, tiré des fichiers fiscaux de la DGFiP, en "
        f"recense {format_fr(lovac, 'logements')}, dont {format_fr(vacant, 'logements')} vacants "
        f"({format_fr(rate, '%')}) et {format_fr(long_term, 'logements')} vides depuis plus de deux ans : "
        "un parc à remobiliser que les données sur les ménages ne montrent pas.")
    return {"indicator": "private_dwellings",
            "label": "Logements du parc privé : habités selon les données publiques, recensés par LOVAC",
            "public_only": public, "with_shared": lovac, "unit": "logements", "sentence": sentence,
            "vacant_dwellings": vacant, "long_term_vacant": long_term}


def summarise(iris: pd.DataFrame, commune: pd.DataFrame, territory: pd.DataFrame, *, ctx: StepContext) -> dict:
    """Headline figures and what the LOVAC file adds to public household data."""
    values = territory_values(iris, commune, territory)
    period = f"{int(territory['first_year'].iloc[0])}-{int(territory['last_year'].iloc[0])}"
    lovac_communes = int(commune.dropna(subset=["private_dwellings", "vacant_dwellings"]).shape[0])
    scopes = {
        "vacancy_rate": f"Valeur pour les {lovac_communes} communes dont LOVAC diffuse les nombres.",
        "long_term_vacancy_rate": f"Valeur pour les {lovac_communes} communes dont LOVAC diffuse les nombres.",
    }
    for kind in KINDS:
        sales = format_fr(values[f"sales_{kind}"], "ventes")
        scopes[f"median_price_m2_{kind}"] = f"Médiane des {sales} du territoire, {period}."
    headlines = []
    for indicator in ctx.demonstrator.headlines:
        item = headline(ctx.registry[indicator], values[indicator])
        if indicator in scopes:
            item["explanation"] = _scope(item["explanation"], scopes[indicator])
        headlines.append(item)
    kept = {k: float(v) for k, v in values.items() if k in ctx.demonstrator.indicators and pd.notna(v)}
    return {"headlines": headlines, "crossing": [crossing(commune)], "territory_values": kept}


def _scope(explanation: str, scope: str) -> str:
    """Say which zones or sales a headline covers, in place of "the whole territory"."""
    whole = "Valeur pour l'ensemble du territoire."
    return explanation.replace(whole, scope) if whole in explanation else f"{explanation} {scope}"
