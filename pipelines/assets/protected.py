"""The anonymiser (personal sources) and the business-data suppressor (private sources).

Both turn a sensitive source into per-zone aggregates with statistical secrecy applied
(primary and secondary suppression over IRIS, communes and the territory total), and are
the only assets allowed to lower sensitivity to `aggregated`. A personal file is read
inside the anonymiser itself: there is no staged copy of it in the store.
"""


from dataclasses import replace

import dagster as dg
import geopandas as gpd
import pandas as pd

from pipelines.assets.partitions import run_territory, territory_partitions
from pipelines.assets.sensitivity import ROLE_TAG, TAG
from pipelines.assets.sources import GROUP, protected_key, raw_key, read_source, refuse_expired, staged_key
from pipelines.catalogue import SourceCard, Territory, source_path
from pipelines.catalogue.models import DEFAULT_ZONINGS
from pipelines.errors import ConfigError, DatacitesError, PrivacyError
from pipelines.spatial import assign_points_to_zones


def zone_ids(points: pd.DataFrame, iris: gpd.GeoDataFrame, zonings: list[str], crs: str) -> pd.DataFrame:
    """Zone of every point in each zoning, finest first (IRIS, then its commune).

    A source published by IRIS code without coordinates (Enedis per address) is placed
    by that code; a code that is not one of the territory's IRIS (masked, elsewhere)
    places the row nowhere, as a point outside every zone.
    """
    if "x" not in points.columns and "code_iris" in points.columns:
        iris_ids = points["code_iris"].where(points["code_iris"].isin(set(iris["code_iris"])))
    else:
        iris_ids = assign_points_to_zones(points, iris, zone_id="code_iris", crs=crs).zone_ids
    commune_of = iris.set_index("code_iris")["code_commune"]
    columns = {"iris": iris_ids, "commune": iris_ids.map(commune_of)}
    return pd.DataFrame({z: columns[z] for z in ("iris", "commune") if z in zonings}, index=points.index)


def protect(frame: pd.DataFrame, card: SourceCard, iris: gpd.GeoDataFrame, territory: Territory, *, path=None):
    """Validate, aggregate and protect one sensitive source; returns (aggregates, report, inputs).

    The input is checked against the card (`pipelines.privacy.inputs`: plausible values,
    duplicates, points inside the territory) before anything is pseudonymised; `path` is
    the source's file, named in errors (default: the territory's file of the card)."""
    from pipelines.connectors import reading_sensitive_file
    from pipelines.privacy.anonymise import anonymise
    from pipelines.privacy.inputs import check_locations, source_rows, validate_input
    from pipelines.privacy.keys import resolve_key

    agg = card.aggregation
    # Index labels are the records' positions in the file, kept through the filters below
    # so that errors name the file's line.
    frame = frame.reset_index(drop=True)
    with reading_sensitive_file():  # the validation may re-read the file: never quote it
        rows = source_rows(card, path if path is not None else source_path(card, territory), frame)
        frame, checked = validate_input(frame, card, rows=rows)
    for column, keep in agg.filter.items():
        # Compared as text: a YAML `2023` and a CSV "2023" must match whatever the types.
        frame = frame[frame[column].astype("str").isin([str(value) for value in keep])]
        if frame.empty:
            raise ConfigError(f"source card '{card.id}': aggregation.filter on '{column}' keeps no row; "
                              "check the values listed there against the file")
    # The per-clone sample key only where every commune is fictional (the card's, and the
    # territory's zones: sample.yaml lists none).
    codes = [*(c.code for c in territory.communes), *iris["code_commune"].astype("str")]
    key = resolve_key(fictional=territory.fictional, codes=codes) if agg.identifiers else None
    zones = zone_ids(frame, iris, agg.zonings, territory.working_crs)
    far = check_locations(frame, zones, iris, card, rows=rows)
    table, report = anonymise(frame, key=key, id_columns=agg.identifiers, drop_columns=agg.drop, zone_ids=zones,
                              unit_column=agg.unit, value_columns=agg.values, rule=list(agg.rules),
                              weight_column=agg.weight, shares=agg.shares, source=card.id)
    return table, report, replace(checked, rows_far_outside=far)


def absent_aggregates(card: SourceCard) -> pd.DataFrame:
    """The aggregates of a source the territory does not have: no zone, the columns the
    anonymiser would give, so that a demonstrator's code reads it like any other."""
    agg = card.aggregation
    shares = [f"share_{column}_{category}" for column, categories in agg.shares.items() for category in categories]
    columns = ["zoning", "zone_id", "parent_id", "units", *agg.values, *shares, "secret"]
    frame = pd.DataFrame({column: pd.Series(dtype="object" if column in ("zoning", "zone_id", "parent_id", "secret")
                                            else "float64") for column in columns})
    frame.attrs["absent"] = card.id
    return frame


def protected_asset(card: SourceCard, sources: dict[str, SourceCard]) -> dg.AssetsDefinition:
    """`anonymised_<id>` for a personal source, `aggregated_<id>` for a private one."""
    personal = card.sensitivity == "personal"
    decorate = dg.asset(
        key=protected_key(card), deps=[raw_key(card)] if personal else [], group_name=GROUP,
        ins={"iris": dg.AssetIn(staged_key(sources[DEFAULT_ZONINGS["iris"]]))}
        | ({} if personal else {"frame": dg.AssetIn(staged_key(card))}),
        kinds={"pandas", "parquet"}, tags={TAG: "aggregated", ROLE_TAG: "anonymiser" if personal else "suppressor"},
        partitions_def=territory_partitions(),
        description=f"{card.title}: {'anonymised' if personal else 'business-data secrecy applied'}, "
                    "per zone, small cells suppressed.")

    def finish(context, read, iris: gpd.GeoDataFrame) -> pd.DataFrame:
        run = run_territory(context)
        if run.territory.absent(card.id):
            context.add_output_metadata({"absent": True, "rows": 0})
            return absent_aggregates(card)
        own = run.sources[card.id]
        refuse_expired(own, run.territory)  # before a row is read or aggregated
        try:
            table, report, checked = protect(read(own, run.territory), own, iris, run.territory)
        except DatacitesError:
            raise  # ours never carry values
        except Exception as exc:
            # Library errors quote the offending value (an address, a meter number).
            raise PrivacyError(f"source '{card.id}': aggregation failed ({type(exc).__name__}); values are not "
                               "shown. Check the card's aggregation columns and their types.") from None
        context.add_output_metadata(report.to_metadata() | checked.to_metadata() | {"rows": len(table)})
        return table

    if personal:
        @decorate
        def _anonymised(context: dg.AssetExecutionContext, iris: gpd.GeoDataFrame) -> pd.DataFrame:
            return finish(context, read_source, iris)

        return _anonymised

    @decorate
    def _aggregated(context: dg.AssetExecutionContext, iris: gpd.GeoDataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        return finish(context, lambda own, territory: frame, iris)

    return _aggregated
