"""Build the whole code location from the cards: sources, demonstrators, checks, site."""

from __future__ import annotations

import dagster as dg

from pipelines import config
from pipelines.assets.demonstrators import StepContext, load_module, step_assets
from pipelines.assets.protected import protected_asset
from pipelines.assets.release import audit_check, published_asset, release_asset, site_asset, table_checks
from pipelines.assets.sensitivity import check_graph, highest
from pipelines.assets.sources import protected_key, raw_key, raw_spec, staged_asset, staged_key
from pipelines.assets.store import ParquetStore
from pipelines.catalogue import load_demonstrators, load_sources, load_territory


def source_assets(sources, territory, levels) -> list:
    """Raw specs, staged assets (not for personal sources) and privacy aggregates."""
    built: list = []
    for card in sources.values():
        built.append(raw_spec(card, territory))
        levels[raw_key(card)] = card.sensitivity
        if card.sensitivity != "personal":
            built.append(staged_asset(card, territory))
            levels[staged_key(card)] = card.sensitivity
        if card.aggregation is not None:
            built.append(protected_asset(card, territory, sources))
            levels[protected_key(card)] = "aggregated"
    return built


def build_assets(territory_id: str | None = None) -> tuple[list, list]:
    """Every asset and asset check of the territory, privacy rules verified."""
    territory = load_territory(territory_id)
    sources = load_sources()
    levels: dict = {}
    assets = source_assets(sources, territory, levels)
    checks: list = []
    demos = load_demonstrators()
    for demo, folder in demos.values():
        ctx = StepContext(demo, territory, sources)  # the framework's view: every card
        assets += step_assets(demo, folder, territory, sources, levels)
        level = highest(levels[k] for k in levels if k.path[0] == demo.id)
        assets += [release_asset(demo, load_module(demo, folder), ctx, level), published_asset(demo, territory.id)]
        checks += table_checks(demo, ctx) + [audit_check(demo, territory.id)]
    if demos:
        assets.append(site_asset([d for d, _ in demos.values()]))
    check_graph(assets)
    return assets, checks


def build_definitions(territory_id: str | None = None) -> dg.Definitions:
    """The Definitions of the code location; loads without the sample or any secret."""
    territory = territory_id or config.DEFAULT_TERRITORY
    assets, checks = build_assets(territory)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        resources={"io_manager": ParquetStore(base_dir=str(config.STORE_DIR), territory=territory)},
        jobs=[dg.define_asset_job("all_demonstrators", selection=dg.AssetSelection.all(),
                                  description="Every source, demonstrator and the site, for one territory.")],
    )

