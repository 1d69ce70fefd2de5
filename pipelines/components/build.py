"""What one `Demonstrator` component builds: its steps, summary, checks, release and
publication, for the territory in scope."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import ValidationError

from pipelines.assets.release import audit_check, published_asset, release_asset, table_checks
from pipelines.assets.sensitivity import highest
from pipelines.assets.sources import source_levels
from pipelines.catalogue import Demonstrator, load_sources
from pipelines.catalogue.load import describe_validation
from pipelines.components.steps import step_assets, step_function
from pipelines.errors import ConfigError
from pipelines.indicators import load_registry


def demonstrator_card(attributes: dict, yaml_path: Path) -> Demonstrator:
    """The component's attributes validated as a demonstrator card; the id is the folder's."""
    try:
        card = Demonstrator.model_validate(attributes)
    except ValidationError as exc:
        raise ConfigError(f"{yaml_path}: attributes: {describe_validation(exc)}") from None
    if card.id != yaml_path.parent.name:
        raise ConfigError(f"{yaml_path}: attribute 'id' must equal the folder name '{yaml_path.parent.name}'")
    return card


def check_indicators(demo: Demonstrator, registry: dict, folder: Path) -> None:
    """Every indicator the demonstrator names is declared in its own indicators.yaml."""
    named = [*demo.indicators, *demo.headlines, demo.main_indicator, *demo.protected]
    unknown = sorted({i for i in named if i not in registry})
    if unknown:
        raise ConfigError(f"{folder / 'defs.yaml'}: {unknown} not declared in {folder / 'indicators.yaml'}; "
                          "declare them there or fix the name")
    missing = sorted({i for i in [*demo.headlines, demo.main_indicator, *demo.protected] if i not in demo.indicators})
    if missing:
        raise ConfigError(f"{folder / 'defs.yaml'}: {missing} must also be listed in 'indicators'")
    sources = load_sources()
    unknown_sources = sorted(set(demo.sources) - set(sources))
    if unknown_sources:
        raise ConfigError(f"{folder / 'defs.yaml'}: sources {unknown_sources} have no card in sources/; "
                          "add sources/<id>.yaml or fix the name")
    needs = sorted(set(registry[demo.main_indicator].sources) & set(demo.optional))
    if needs:
        raise ConfigError(f"{folder / 'defs.yaml'}: the main indicator '{demo.main_indicator}' needs the optional "
                          f"sources {needs}; choose one computed from public sources")
    for source, alternative in demo.alternatives.items():
        wrong = sorted(set(alternative.sources) - set(sources)) + sorted(set(alternative.indicators) - set(demo.indicators))
        if source not in demo.sources or wrong:
            raise ConfigError(f"{folder / 'defs.yaml'}: alternatives.{source}: the source must be one of 'sources' "
                              f"and its sources and indicators known ones (unknown: {wrong})")
    public = sorted(s for s in demo.optional if sources[s].sensitivity == "public")
    if public or set(demo.optional) - set(demo.sources):
        raise ConfigError(f"{folder / 'defs.yaml'}: 'optional' may list only private or personal sources of "
                          f"'sources' (public: {public}); a demonstrator runs on its public core")
    check_charters(demo, registry, folder, sources)


def check_charters(demo: Demonstrator, registry: dict, folder: Path, sources: dict | None = None) -> None:
    """The charters of the default source cards allow the demonstrator: its purpose, the
    zonings it publishes, the licences it combines (`catalogue.charters`). A territory's
    own charters (its overrides) are checked when its release runs, before anything is
    staged (`assets.bundle.write_bundle`)."""
    from pipelines.catalogue.charters import CharterError, charter_problems

    problems = charter_problems(demo, registry, sources if sources is not None else load_sources())
    if problems:
        raise CharterError(f"{folder / 'defs.yaml'}: " + "; ".join(problems))


def demonstrator_defs(demo: Demonstrator, context: dg.ComponentLoadContext) -> dg.Definitions:
    """Every asset and check of one demonstrator, for the territory in scope."""
    folder = Path(context.path)
    yaml_path = folder / "defs.yaml"
    registry = load_registry(folder / "indicators.yaml")
    check_indicators(demo, registry, folder)
    module_path = folder / demo.module
    if not module_path.is_file():
        raise ConfigError(f"{yaml_path}: attribute 'module' names {demo.module}, which is not in {folder}")
    module = context.load_defs_relative_python_module(module_path)
    sources = load_sources()
    levels = source_levels(sources)
    assets = step_assets(demo, module, registry, levels, yaml_path)
    level = highest(levels[k] for k in levels if k.path[0] == demo.id)
    steps = list(demo.steps.items()) + ([("summary", demo.summary)] if demo.summary else [])
    functions = {name: step_function(module, demo, name, step, yaml_path) for name, step in steps}
    assets += [release_asset(demo, sources, registry, level, functions), published_asset(demo)]
    checks = table_checks(demo, registry) + [audit_check(demo)]
    return dg.Definitions(assets=assets, asset_checks=checks)
