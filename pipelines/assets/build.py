"""Build the whole code location: sources from their cards, the demonstrator components
loaded by Dagster's loader, the site, with the privacy rules of the graph verified."""

from __future__ import annotations

import logging

import dagster as dg

from pipelines import config
from pipelines.assets.partitions import set_territories, territory_partitions
from pipelines.assets.protected import protected_asset
from pipelines.assets.release import site_asset
from pipelines.assets.sensitivity import check_graph
from pipelines.assets.sources import raw_spec, staged_asset
from pipelines.assets.store import ParquetStore
from pipelines.catalogue import load_sources, load_territory, territory_ids, territory_sources
from pipelines.errors import ConfigError
from pipelines.progress import progress_logger

log = logging.getLogger("datacites")


def source_assets() -> list:
    """Raw specs, staged assets (not for personal sources) and privacy aggregates."""
    sources = load_sources()
    built: list = []
    for card in sources.values():
        built.append(raw_spec(card))
        if card.sensitivity != "personal":
            built.append(staged_asset(card))
        if card.aggregation is not None:
            built.append(protected_asset(card, sources))
    return built


def check_territories() -> tuple[list[str], list[str]]:
    """(ids of the territory cards that load with their overrides applied, the problems
    of the others). A broken card leaves its territory out; it never stops the others."""
    ids = territory_ids()
    if not ids:
        raise ConfigError(f"{config.TERRITORIES_DIR}: no territory card. Fix: create one (docs/territories.md)")
    sources = load_sources()
    valid, problems = [], []
    for territory_id in ids:
        try:
            territory_sources(load_territory(territory_id), sources)
        except ConfigError as error:
            problems.append(str(error))
        else:
            valid.append(territory_id)
    if not valid:
        raise ConfigError("no territory card is valid: " + " | ".join(problems))
    return valid, problems


def demonstrator_ids(defs: dg.Definitions) -> list[str]:
    """Ids of the demonstrators whose `<id>/published` asset `defs` holds."""
    keys = [key for item in defs.assets or [] for key in getattr(item, "keys", [getattr(item, "key", None)])]
    return sorted(key.path[0] for key in keys if key is not None and len(key.path) == 2 and key.path[1] == "published")


def build_definitions() -> dg.Definitions:
    """The Definitions of the code location: every territory card is a partition of one
    graph; loads without the sample or any secret."""
    from pipelines.components.loading import load_demonstrators

    valid, problems = check_territories()
    for problem in problems:
        log.error("territory left out of the definitions: %s", problem)
    set_territories(valid)
    demonstrators = load_demonstrators()
    demos = demonstrator_ids(demonstrators)
    own = dg.Definitions(
        assets=source_assets() + ([site_asset(demos)] if demos else []),
        resources={"io_manager": ParquetStore(base_dir=str(config.STORE_DIR))},
        # the console (quiet unless asked) and the command line's progress display
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
        jobs=[dg.define_asset_job("all_demonstrators", selection=dg.AssetSelection.all(),
                                  partitions_def=territory_partitions(),
                                  description="Every source, demonstrator and the site, for one territory "
                                              "(a partition).")],
    )
    defs = with_automation(dg.Definitions.merge(own, demonstrators), load_sources())
    check_graph(defs.assets or [])
    return dg.Definitions.merge(defs, dg.Definitions(sensors=inbox_sensors(defs, valid)))


def inbox_sensors(defs: dg.Definitions, territories: list[str]) -> list[dg.SensorDefinition]:
    """One inbox sensor per territory (pipelines/assets/inbox.py), asking for the run of
    the assets that read the new file (automation updates the rest)."""
    from pipelines.assets.inbox import inbox_sensor
    from pipelines.assets.sources import raw_key

    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    readers = {card.id: sorted(graph.get(raw_key(card)).child_keys)
               for card in load_sources().values() if raw_key(card) in keys}
    return [inbox_sensor(t, readers) for t in territories]


# When each kind of refresh is looked for, in Europe/Paris: early morning, producers
# publish during office hours, so the files of the day before are there.
CRONS = {"daily": "0 5 * * *", "weekly": "0 5 * * 1", "monthly": "0 5 1 * *",
         "quarterly": "0 5 1 1,4,7,10 *", "yearly": "0 5 1 1 *"}
TIMEZONE = "Europe/Paris"


def automation_condition(spec: dg.AssetSpec, by_raw: dict[dg.AssetKey, str]) -> dg.AutomationCondition | None:
    """The reader of a raw file runs on its card's `refresh:` (whatever its other inputs
    do: a monthly GTFS does not wait for the yearly IRIS); everything else runs when
    what it reads has changed and every blocking check upstream has passed."""
    refreshes = {by_raw[dep.asset_key] for dep in spec.deps if dep.asset_key in by_raw}
    if refreshes:
        crons = [CRONS[r] for r in sorted(refreshes) if r in CRONS]
        if not crons:
            return None  # `refresh: never`: materialised by hand only
        tick = dg.AutomationCondition.cron_tick_passed(crons[0], cron_timezone=TIMEZONE)
        return (tick & ~dg.AutomationCondition.in_progress()).with_label(
            f"on the card's refresh ({crons[0]}, {TIMEZONE})")
    return dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()


def with_automation(defs: dg.Definitions, sources: dict) -> dg.Definitions:
    """Every materialisable asset with its automation condition (`automation_condition`)."""
    from pipelines.assets.sources import raw_key

    by_raw = {raw_key(card): card.refresh for card in sources.values()}
    external = set(by_raw)

    def automate(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key in external:
            return spec
        return spec.replace_attributes(automation_condition=automation_condition(spec, by_raw))

    return defs.map_asset_specs(func=automate)


def build_assets() -> tuple[list, list]:
    """Every asset and asset check, privacy rules verified."""
    defs = build_definitions()
    return list(defs.assets or []), list(defs.asset_checks or [])
