"""Loading the YAML cards, with errors that name the file, the field and what is allowed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pipelines import config
from pipelines.catalogue.models import SourceCard, Territory
from pipelines.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _describe(error: dict) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    allowed = error.get("ctx", {}).get("expected")
    text = f"field '{field}': {error['msg']}"
    return text + (f" (allowed: {allowed})" if allowed else "")


def load_card(path: Path, model: type[M]) -> M:
    """Read one YAML file into `model`; never echo the file's values in the error."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML; check indentation and quotes") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fields, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation(exc)}") from None


def describe_validation(exc: ValidationError) -> str:
    """Every problem of a validation error, by field, without the values typed."""
    return "; ".join(_describe(e) for e in exc.errors(include_input=False))


def load_sources(directory: Path | None = None) -> dict[str, SourceCard]:
    """Every source card `sources/*.yaml`, by id; the id must match the file name."""
    directory = directory or config.SOURCES_DIR
    cards: dict[str, SourceCard] = {}
    for path in sorted(directory.glob("*.yaml")):
        card = load_card(path, SourceCard)
        if card.id != path.stem:
            raise ConfigError(f"{path}: field 'id' must equal the file name '{path.stem}'")
        cards[card.id] = card
    return cards


def load_territory(territory_id: str | None = None, directory: Path | None = None) -> Territory:
    """The territory `sources/territories/<id>.yaml`."""
    territory_id = territory_id or config.DEFAULT_TERRITORY
    directory = directory or config.TERRITORIES_DIR
    path = directory / f"{territory_id}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise ConfigError(f"{path}: no such territory (known: {known}). Fix: create that card (see "
                          "docs/territories.md), or choose a known one with --territory")
    territory = load_card(path, Territory)
    if territory.id != path.stem:
        # The id names its store, staging and outputs: a copied card keeping another id
        # would publish into that territory's folders.
        raise ConfigError(f"{path}: field 'id' is '{territory.id}' but must equal the file name '{path.stem}'")
    return territory


def territory_ids(directory: Path | None = None) -> list[str]:
    """Ids of every territory card `sources/territories/*.yaml`, sorted."""
    directory = directory or config.TERRITORIES_DIR
    return sorted(path.stem for path in directory.glob("*.yaml"))


def territory_sources(territory: Territory, sources: dict[str, SourceCard] | None = None) -> dict[str, SourceCard]:
    """The source cards as `territory` sees them: its overrides applied and validated."""
    sources = load_sources() if sources is None else sources
    unknown = sorted((set(territory.sources) | set(territory.files)) - set(sources))
    if unknown:
        raise ConfigError(f"{config.TERRITORIES_DIR / (territory.id + '.yaml')}: overrides of {unknown}, which have "
                          f"no card in sources/. Fix: correct the id (known: {', '.join(sorted(sources))})")
    cards = {}
    for key, card in sources.items():
        override = territory.override(key)
        changes = override.model_dump(exclude_none=True, exclude={"absent", "options"})
        if override.format is not None and override.format != card.format:
            changes["options"] = dict(override.options or {})  # the card's are for its own format
        elif override.options is not None:
            changes["options"] = card.options | override.options
        if override.crs is not None and "crs" in card.options:
            changes.setdefault("options", dict(card.options))["crs"] = override.crs
        try:
            cards[key] = SourceCard.model_validate(card.model_dump() | changes)
        except ValidationError as exc:
            raise ConfigError(f"{config.TERRITORIES_DIR / (territory.id + '.yaml')}: sources.{key}: "
                              f"{describe_validation(exc)}") from None
    return cards


def source_path(card: SourceCard, territory: Territory) -> Path:
    """Where the territory keeps the file of `card` (the card as the territory sees it:
    see `territory_sources`); never outside sources/."""
    name = territory.files.get(card.id, card.file)
    # Checked on the path as written (the cards refuse '..' and absolute paths): a data
    # folder the user links into sources/ on purpose stays usable.
    root = Path(os.path.normpath(config.SOURCES_DIR.absolute()))
    path = Path(os.path.normpath(root / territory.data_dir / name))
    if not path.is_relative_to(root):
        raise ConfigError(f"source '{card.id}' of territory '{territory.id}': its file is outside {root}. "
                          "Fix: keep data_dir and file relative to sources/")
    return path
