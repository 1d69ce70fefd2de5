"""Assets built from source cards: raw files, staged frames and privacy aggregates.

- `raw_<id>`: the file as published (an external asset: Dagster observes, never copies it);
- `staged_<id>`: typed and validated by the format's connector, in the territory's CRS;
  personal sources have no staged asset, so that nothing can read them unprotected;
- `anonymised_<id>` (personal) and `aggregated_<id>` (private): per-zone aggregates with
  statistical secrecy applied; the only assets allowed to lower sensitivity.
"""


import inspect

import dagster as dg
import geopandas as gpd
import pandas as pd

from pipelines import config
from pipelines.assets.partitions import run_territory, territory_partitions
from pipelines.assets.sensitivity import TAG
from pipelines.catalogue import SourceCard, Territory, source_path
from pipelines.catalogue.models import DEFAULT_ZONINGS
from pipelines.connectors import get_connector, reading_sensitive_file
from pipelines.errors import DatacitesError, SourceError
from pipelines.spatial import check_crs

GROUP = "sources"
# Files whose values no message, log line or Dagster event may show.
SENSITIVE_LEVELS = ("private", "personal")


def raw_key(card: SourceCard) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{card.id}")


def staged_key(card: SourceCard) -> dg.AssetKey:
    return dg.AssetKey(f"staged_{card.id}")


def protected_key(card: SourceCard) -> dg.AssetKey:
    prefix = "anonymised" if card.sensitivity == "personal" else "aggregated"
    return dg.AssetKey(f"{prefix}_{card.id}")


def source_levels(sources: dict[str, SourceCard]) -> dict[dg.AssetKey, str]:
    """Sensitivity of every asset built from the cards: raw, staged, protected."""
    levels: dict[dg.AssetKey, str] = {}
    for card in sources.values():
        levels[raw_key(card)] = card.sensitivity
        if card.sensitivity != "personal":
            levels[staged_key(card)] = card.sensitivity
        if card.aggregation is not None:
            levels[protected_key(card)] = "aggregated"
    return levels


def read_source(card: SourceCard, territory: Territory) -> pd.DataFrame:
    """Read a source's file with its connector, check it against its card and the territory."""
    path = source_path(card, territory)
    reader = get_connector(card.format)
    options = dict(card.options)
    # The card's `crs:` is the CRS of a file that carries none; a connector that reads it
    # also refuses a file whose own CRS says otherwise.
    if card.crs and "crs" not in options and "crs" in inspect.signature(reader).parameters:
        options["crs"] = card.crs
    sensitive = card.sensitivity in SENSITIVE_LEVELS
    with reading_sensitive_file(sensitive):
        frame = _read(reader, path, card, options, territory.working_crs) if sensitive else reader(
            path, working_crs=territory.working_crs, **options)
    missing = [c for c in card.columns if c not in frame.columns]
    if missing:
        raise SourceError(path, f"the connector '{card.format}' gave no column {missing}, which the card "
                          f"sources/{card.id}.yaml declares", fix="check the file's edition or the card's columns")
    is_grid = territory.zonings.get("grid") == card.id
    if "geometry" in frame.columns or "crs" in frame.attrs:
        check_crs(frame, territory.grid_crs if is_grid else territory.working_crs, layer=card.id,
                  role="grid CRS" if is_grid else "working CRS")
    return restrict_to_communes(frame, card, territory, path)


def _read(reader, path, card: SourceCard, options: dict, working_crs: str) -> pd.DataFrame:
    """Read a private or personal file: an error never carries a library's exception, as
    its cause or context, since Dagster stores the whole chain and library messages quote
    rows, values or bytes."""
    try:
        return reader(path, working_crs=working_crs, **options)
    except DatacitesError as error:
        raise error from None  # ours name file, line, column and fix; what they arose from may quote values
    except Exception as error:
        raise SourceError(path, f"the connector '{card.format}' failed ({type(error).__name__}); its message is "
                          f"withheld, since the file is {card.sensitivity}.",
                          fix=f"check the file against the format '{card.format}' and the options of "
                              f"sources/{card.id}.yaml (header line, separator, quotes, encoding, column types)."
                          ) from None


def restrict_to_communes(frame: pd.DataFrame, card: SourceCard, territory: Territory, path) -> pd.DataFrame:
    """Keep the territory's communes in its zonings, when it lists them (a département-wide
    IRIS file serves a single EPCI); every listed commune must be there."""
    zoning_sources = {territory.zonings.get("iris"), territory.zonings.get("commune")}
    if not territory.communes or card.id not in zoning_sources:
        return frame
    wanted = {commune.code for commune in territory.communes}
    absent = sorted(wanted - set(frame["code_commune"]))
    if absent:
        raise SourceError(path, f"communes {absent} of territory '{territory.id}' are not in this file",
                          column="code_commune", fix="check the territory's commune codes or the file's vintage")
    return frame[frame["code_commune"].isin(wanted)].reset_index(drop=True)


def describe(frame: pd.DataFrame, sensitivity: str) -> dict:
    """Asset metadata: counts always, a preview only when nobody can be exposed by it."""
    meta: dict = {"rows": len(frame), "columns": ", ".join(map(str, frame.columns)),
                  "sensitivity": sensitivity}
    # Connectors and steps count what they set aside (rows without coordinates, points
    # outside every zone...) in attrs: counts only, shown so nothing is dropped silently.
    meta |= {f"attrs.{k}": v for k, v in frame.attrs.items() if isinstance(v, (int, float, str)) and k != "crs"}
    # Aggregated frames are previewed nowhere: before publication they still hold the
    # detailed secrecy reasons and columns outside the allow-list.
    if sensitivity == "public":
        preview = frame.drop(columns="geometry", errors="ignore").head(5).to_string(index=False)
        meta["preview"] = dg.MetadataValue.md(f"```\n{preview}\n```")
    return meta


def raw_spec(card: SourceCard) -> dg.AssetSpec:
    """The file as published; each territory (partition) has its own, named in its card."""
    return dg.AssetSpec(
        raw_key(card), description=f"{card.title}, file as published (per territory: its own file and credits).",
        group_name=GROUP, kinds={"file"}, tags={TAG: card.sensitivity}, partitions_def=territory_partitions(),
        metadata={"format": card.format, "default file": card.file, "refresh": card.refresh})


def absent_frame(card: SourceCard) -> pd.DataFrame:
    """What a staged asset holds for a territory that has no such data (an optional
    private or personal source it declares `absent: true`)."""
    frame = gpd.GeoDataFrame()  # a zoning's absent contours still type-check as zones
    frame.attrs["absent"] = card.id
    return frame


def check_extent(frame: pd.DataFrame, zones, card: SourceCard, territory: Territory) -> None:
    """A located layer must meet the territory's zones (its IRIS, or its communes when it
    has no IRIS): a file of another place is an error."""
    from pipelines.spatial.extent import meets

    if meets(frame, zones) is False:
        raise SourceError(source_path(card, territory), f"this layer does not meet territory '{territory.id}': its "
                          "extent lies wholly outside the territory's zones", fix=f"check that the file of source "
                          f"'{card.id}' is this territory's (sources.{card.id}.file in its card) and that its CRS is "
                          "declared right")


def refuse_expired(card: SourceCard, territory: Territory) -> None:
    """Refuse a source whose charter's retention has passed (`catalogue.charters`; today
    is `DATACITES_TODAY` when set), after deleting what the store derived from it for
    this territory (its staged, aggregated and anonymised files)."""
    from pipelines.catalogue.charters import CharterError, retention_problem, today

    problem = retention_problem(card, today(), source_path(card, territory))
    if problem is None:
        return
    folder = config.STORE_DIR / territory.id
    deleted = []
    for name in (f"staged_{card.id}", f"aggregated_{card.id}", f"anonymised_{card.id}"):
        for path in (folder / f"{name}.parquet", folder / f"{name}.json"):
            if path.exists():
                path.unlink()
                deleted.append(str(path))
    raise CharterError(f"{problem}: its data may no longer be used for territory '{territory.id}'; deleted from the "
                       f"store: {deleted or 'nothing (none was there)'}. Fix: renew the agreement and update the "
                       f"charter, or declare the source absent (sources.{card.id}.absent: true in the territory's "
                       "card) and delete its file")


def staged_asset(card: SourceCard) -> dg.AssetsDefinition:
    # Every other layer is checked against the IRIS, or the communes of a territory without IRIS.
    zoning = card.id == DEFAULT_ZONINGS["iris"]
    references = [] if zoning else ["iris"] + ([] if card.id == DEFAULT_ZONINGS["commune"] else ["commune"])
    ins = {z: dg.AssetIn(dg.AssetKey(f"staged_{DEFAULT_ZONINGS[z]}")) for z in references}

    @dg.asset(key=staged_key(card), deps=[raw_key(card)], ins=ins, group_name=GROUP, kinds={"pandas", "parquet"},
              tags={TAG: card.sensitivity}, partitions_def=territory_partitions(),
              description=f"{card.title}: typed, validated, in the territory's CRS"
                          + ("." if zoning else ", checked to meet the territory's IRIS."))
    def _staged(context: dg.AssetExecutionContext, **zones) -> pd.DataFrame:
        run = run_territory(context)
        if run.territory.absent(card.id):
            context.add_output_metadata({"absent": True, "rows": 0})
            return absent_frame(card)
        refuse_expired(run.sources[card.id], run.territory)
        frame = read_source(run.sources[card.id], run.territory)
        reference = next((zones[z] for z in references if not zones[z].empty), None)
        if reference is not None:
            check_extent(frame, reference, run.sources[card.id], run.territory)
        context.add_output_metadata(describe(frame, card.sensitivity) | {"path": str(source_path(
            run.sources[card.id], run.territory)), "producer": run.sources[card.id].producer})
        return frame

    return _staged
