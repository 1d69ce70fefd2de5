"""Build the whole code location: sources from their cards, the demonstrator components
loaded by Dagster's loader, the site, with the privacy rules of the graph verified."""

from __future__ import annotations

import dagster as dg

from pipelines import config
from pipelines.assets.protected import protected_asset
from pipelines.assets.release import site_asset
from pipelines.assets.sensitivity import check_graph
from pipelines.assets.sources import raw_spec, staged_asset
from pipelines.assets.store import ParquetStore
from pipelines.catalogue import load_sources, load_territory


def source_assets(territory_id: str) -> list:
    """Raw specs, staged assets (not for personal sources) and privacy aggregates."""
    territory = load_territory(territory_id)
    sources = load_sources()
    built: list = []
    for card in sources.values():
        built.append(raw_spec(card, territory))
        if card.sensitivity != "personal":
            built.append(staged_asset(card, territory))
        if card.aggregation is not None:
            built.append(protected_asset(card, territory, sources))
    return built


def demonstrator_ids(defs: dg.Definitions) -> list[str]:
    """Ids of the demonstrators whose `<id>/published` asset `defs` holds."""
    keys = [key for item in defs.assets or [] for key in getattr(item, "keys", [getattr(item, "key", None)])]
    return sorted(key.path[0] for key in keys if key is not None and len(key.path) == 2 and key.path[1] == "published")


def load_demonstrators_of(territory_id: str) -> dg.Definitions:
    """The demonstrator components of the configured folder, built for `territory_id`."""
    from pipelines.components.loading import load_demonstrators
    from pipelines.components.scope import territory_scope

    with territory_scope(territory_id):
        return load_demonstrators()


def build_definitions(territory_id: str | None = None) -> dg.Definitions:
    """The Definitions of the code location; loads without the sample or any secret."""
    territory = territory_id or config.DEFAULT_TERRITORY
    demonstrators = load_demonstrators_of(territory)
    demos = demonstrator_ids(demonstrators)
    own = dg.Definitions(
        assets=source_assets(territory) + ([site_asset(demos)] if demos else []),
        resources={"io_manager": ParquetStore(base_dir=str(config.STORE_DIR), territory=territory)},
        jobs=[dg.define_asset_job("all_demonstrators", selection=dg.AssetSelection.all(),
                                  description="Every source, demonstrator and the site, for one territory.")],
    )
    defs = dg.Definitions.merge(own, demonstrators)
    check_graph(defs.assets or [])
    return defs


def build_assets(territory_id: str | None = None) -> tuple[list, list]:
    """Every asset and asset check of the territory, privacy rules verified."""
    defs = build_definitions(territory_id)
    return list(defs.assets or []), list(defs.asset_checks or [])
