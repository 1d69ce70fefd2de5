"""Assets built from `demonstrators/<name>/demonstrator.yaml` and the module beside it.

Each step of the YAML becomes an asset `<demonstrator>/<step>` that calls a pure function
of the demonstrator's module with its input frames. The steps that carry a `zoning` are
the tables to publish: they get asset checks derived from the indicator registry, then
a `release` asset writes them to a staging folder (blocked by the disclosure audit) and
`published` swaps the staging folder into `outputs/<name>/`.
"""


import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg

from pipelines.assets.sensitivity import TAG, highest
from pipelines.assets.sources import describe
from pipelines.catalogue import Demonstrator, SourceCard, Territory
from pipelines.errors import ConfigError
from pipelines.indicators import Indicator, load_registry


@dataclass(frozen=True)
class StepContext:
    """What a demonstrator's function may know besides its input frames."""

    demonstrator: Demonstrator
    territory: Territory
    sources: dict[str, SourceCard]
    registry: dict[str, Indicator] = field(default_factory=load_registry)

    @property
    def params(self) -> dict[str, Any]:
        return self.demonstrator.params


def step_context(demo: Demonstrator, territory: Territory, sources: dict[str, SourceCard]) -> StepContext:
    """The context of a demonstrator's functions; personal cards are left out of it, so
    that no step can locate a personal file behind its anonymiser's back."""
    check_indicators(demo)
    visible = {key: card for key, card in sources.items() if card.sensitivity != "personal"}
    return StepContext(demo, territory, visible)


def check_indicators(demo: Demonstrator) -> None:
    """Every indicator the YAML names must be declared in the registry."""
    registry = load_registry()
    named = [*demo.indicators, *demo.headlines, demo.main_indicator, *demo.protected]
    unknown = sorted({i for i in named if i not in registry})
    if unknown:
        raise ConfigError(f"demonstrators/{demo.id}/demonstrator.yaml: {unknown} not declared in "
                          "pipelines/indicators/definitions/*.yaml; declare them there or fix the name")
    missing = sorted({i for i in [*demo.headlines, demo.main_indicator, *demo.protected] if i not in demo.indicators})
    if missing:
        raise ConfigError(f"demonstrators/{demo.id}/demonstrator.yaml: {missing} must also be listed in 'indicators'")


def load_module(demo: Demonstrator, folder: Path) -> ModuleType:
    """Import the demonstrator's Python file under a name of its own."""
    path = folder / demo.module
    if not path.exists():
        raise ConfigError(f"{folder / 'demonstrator.yaml'}: field 'module' names {path.name}, which does not exist")
    spec = importlib.util.spec_from_file_location(f"datacites_demonstrators.{demo.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def step_key(demo: Demonstrator, name: str) -> dg.AssetKey:
    return dg.AssetKey([demo.id, name])


def resolve_input(demo: Demonstrator, ref: str, known: dict[dg.AssetKey, str], yaml_path: Path) -> dg.AssetKey:
    """The asset a step input names: an earlier step, or a source asset."""
    key = step_key(demo, ref) if ref in demo.steps else dg.AssetKey(ref)
    if key not in known:
        raise ConfigError(f"{yaml_path}: input '{ref}' is neither an earlier step nor a source asset "
                          f"(known source assets: {', '.join(sorted(k.to_user_string() for k in known if len(k.path) == 1))})")
    return key


def step_assets(demo: Demonstrator, folder: Path, territory: Territory, sources: dict[str, SourceCard],
                levels: dict[dg.AssetKey, str]) -> list[dg.AssetsDefinition]:
    """One asset per step, in the YAML's order; `levels` is extended with their sensitivity."""
    module = load_module(demo, folder)
    ctx = step_context(demo, territory, sources)
    built = []
    for name, step in demo.steps.items():
        fn = getattr(module, step.function, None)
        if fn is None:
            raise ConfigError(f"{folder / 'demonstrator.yaml'}: step '{name}' calls '{step.function}', "
                              f"which {demo.module} does not define")
        ins = {arg: resolve_input(demo, ref, levels, folder / "demonstrator.yaml") for arg, ref in step.inputs.items()}
        level = highest(levels[key] for key in ins.values())
        levels[step_key(demo, name)] = level
        built.append(_step_asset(demo, name, step, fn, ctx, ins, level))
    return built


def _step_asset(demo, name, step, fn, ctx, ins, level) -> dg.AssetsDefinition:
    @dg.asset(key=step_key(demo, name), ins={arg: dg.AssetIn(key) for arg, key in ins.items()},
              group_name=demo.id, kinds=set(step.kinds), tags={TAG: level}, description=step.description)
    def _step(context: dg.AssetExecutionContext, **frames):
        result = fn(**frames, ctx=ctx)
        context.add_output_metadata(describe(result, level))
        return result

    return _step
