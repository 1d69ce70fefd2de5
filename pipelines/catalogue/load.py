"""Loading the YAML cards, with errors that name the file, the line, the field and what is allowed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pipelines import config
from pipelines.catalogue.models import Charter, SourceCard, Territory
from pipelines.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class Located(NamedTuple):
    """One problem of a YAML file: its line (1-based) and field when known, and what is wrong."""

    line: int | None
    field: str | None
    message: str


class CardError(ConfigError):
    """Every problem of one YAML file, each with its line and field; a `ConfigError`."""

    def __init__(self, path: Path, problems: Sequence[Located]):
        self.path = Path(path)
        self.problems = list(problems)
        super().__init__("; ".join(_where(self.path, p) for p in self.problems))


def _where(path: Path, problem: Located) -> str:
    if problem.field is not None:
        at = f"{path}:{problem.line}" if problem.line else f"{path}"
        # "field 'id' must equal ...", "field 'sensitivity': Input should be ..."
        joint = " " if problem.message.startswith(("is ", "must ")) else ": "
        return f"{at}: field '{problem.field}'{joint}{problem.message}"
    return f"{path}{f' line {problem.line}' if problem.line else ''}: {problem.message}"


class CardLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that records every key given twice in one mapping (PyYAML keeps the
    last silently); :func:`read_yaml` refuses the file when there is any."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[Located] = []

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in first:
                    self.duplicates.append(Located(line, None, f"key '{key}' appears twice (first at line {first[key]}); "
                                                               "keep one"))
                else:
                    first[key] = line
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data, its node tree (for lines) and its duplicate keys."""

    path: Path
    data: Any
    node: yaml.Node | None
    duplicates: list[Located] = field(default_factory=list)

    def line(self, loc: Sequence[str | int], *, exact: bool = False) -> int | None:
        return field_line(self.node, loc, exact=exact)


def read_yaml(path: Path) -> YamlDocument:
    """Read a UTF-8 YAML file with :class:`CardLoader`; a file that cannot be decoded or
    parsed raises `CardError` with its line (duplicate keys are returned, not raised)."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise CardError(path, [Located(line, None, "not UTF-8 (saved as latin-1?); save it as UTF-8")]) from None
    loader = CardLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CardError(path, [Located(mark.line + 1 if mark else None, None,
                                       "not valid YAML; check indentation and quotes")]) from None
    finally:
        loader.dispose()
    return YamlDocument(Path(path), data, node, loader.duplicates)


def field_line(node: yaml.Node | None, loc: Sequence[str | int], *, exact: bool = False) -> int | None:
    """The line (1-based) of the field at `loc` (a pydantic error's `loc`) in a YAML node
    tree: the line of its key, or of the deepest part of `loc` the file holds (None
    instead when `exact`)."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            matches = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)]
            if not matches:
                return None if exact else line
            key, node = matches[-1]  # the last one wins, as in PyYAML
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return None if exact else line
    return line


def _describe(error: dict) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"field '{field}': {describe_error(error)}"


def describe_error(error: dict) -> str:
    """One pydantic error's message, with the allowed values when pydantic gives them."""
    allowed = error.get("ctx", {}).get("expected")
    return error["msg"] + (f" (allowed: {allowed})" if allowed else "")


def validation_problems(exc: ValidationError, node: yaml.Node | None = None,
                        prefix: Sequence[str | int] = ()) -> list[Located]:
    """Every problem of a validation error, by field and line, without the values typed;
    `prefix` is where the validated mapping sits in the file (e.g. `attributes`)."""
    problems = []
    for error in exc.errors(include_input=False):
        loc = (*prefix, *error["loc"])
        field = ".".join(str(part) for part in loc) or None
        problems.append(Located(field_line(node, loc) if field else None, field, describe_error(error)))
    return problems


def load_card(path: Path, model: type[M]) -> M:
    """Read one YAML file into `model`; never echo the file's values in the error.

    Raises `CardError` (a `ConfigError`) listing every problem with `path:line`: a file
    not in UTF-8, invalid YAML, keys given twice, and each field the model refuses.
    """
    return _load(path, model)[0]


def _load(path: Path, model: type[M]) -> tuple[M, YamlDocument]:
    document = read_yaml(path)
    problems = list(document.duplicates)
    if not isinstance(document.data, dict):
        raise CardError(path, [*problems, Located(None, None, "expected a mapping of fields, found "
                                                              f"{type(document.data).__name__}")])
    try:
        card = model.model_validate(document.data)
    except ValidationError as exc:
        raise CardError(path, problems + validation_problems(exc, document.node)) from None
    if problems:
        raise CardError(path, problems)
    return card, document


def describe_validation(exc: ValidationError) -> str:
    """Every problem of a validation error, by field, without the values typed."""
    return "; ".join(_describe(e) for e in exc.errors(include_input=False))


def load_source_card(path: Path) -> SourceCard:
    """One source card `sources/<id>.yaml`; its id must match the file name. A charter
    named by file (`charter: <name>.yaml`) is read from `sources/charters/` beside it."""
    card, document = _load(path, SourceCard)
    if card.id != path.stem:
        raise CardError(path, [Located(document.line(["id"]), "id", f"must equal the file name '{path.stem}'")])
    if isinstance(card.charter, str):
        charter = load_charter(card.charter, path.parent, path, document.line(["charter"]))
        card = card.model_copy(update={"charter": charter})
    return card


CHARTERS = "charters"


def load_charter(name: str, sources_dir: Path, named_in: Path, line: int | None = None) -> Charter:
    """The charter file `sources/charters/<name>` that a card (`named_in`) names; never a
    file outside that folder, even through a symbolic link."""
    folder = (Path(sources_dir) / CHARTERS).resolve()
    path = Path(sources_dir) / CHARTERS / name
    if not path.resolve().is_relative_to(folder) or not path.is_file():
        raise CardError(named_in, [Located(line, "charter", f"names '{name}', which is not a file of {folder}; "
                                                            "write the charter there or give its clauses inline")])
    return load_card(path, Charter)


def load_sources(directory: Path | None = None) -> dict[str, SourceCard]:
    """Every source card `sources/*.yaml`, by id; the id must match the file name."""
    directory = directory or config.SOURCES_DIR
    cards: dict[str, SourceCard] = {}
    for path in sorted(directory.glob("*.yaml")):
        card = load_source_card(path)
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
    territory, document = _load(path, Territory)
    if territory.id != path.stem:
        # The id names its store, staging and outputs: a copied card keeping another id
        # would publish into that territory's folders.
        raise CardError(path, [Located(document.line(["id"]), "id",
                                       f"is '{territory.id}' but must equal the file name '{path.stem}'")])
    return territory


def territory_ids(directory: Path | None = None) -> list[str]:
    """Ids of every territory card `sources/territories/*.yaml`, sorted."""
    directory = directory or config.TERRITORIES_DIR
    return sorted(path.stem for path in directory.glob("*.yaml"))


def territory_card(territory: Territory, card: SourceCard) -> SourceCard:
    """One source card as `territory` sees it: its override applied (raises the
    `ValidationError` of the merged card)."""
    override = territory.override(card.id)
    changes = override.model_dump(exclude_none=True, exclude={"absent", "options"})
    if override.format is not None and override.format != card.format:
        changes["options"] = dict(override.options or {})  # the card's are for its own format
    elif override.options is not None:
        changes["options"] = card.options | override.options
    if override.crs is not None and "crs" in card.options:
        changes.setdefault("options", dict(card.options))["crs"] = override.crs
    if isinstance(override.charter, str):
        changes["charter"] = load_charter(override.charter, config.SOURCES_DIR,
                                          config.TERRITORIES_DIR / f"{territory.id}.yaml").model_dump()
    return SourceCard.model_validate(card.model_dump() | changes)


def territory_sources(territory: Territory, sources: dict[str, SourceCard] | None = None) -> dict[str, SourceCard]:
    """The source cards as `territory` sees them: its overrides applied and validated."""
    sources = load_sources() if sources is None else sources
    unknown = sorted((set(territory.sources) | set(territory.files)) - set(sources))
    if unknown:
        raise ConfigError(f"{config.TERRITORIES_DIR / (territory.id + '.yaml')}: overrides of {unknown}, which have "
                          f"no card in sources/. Fix: correct the id (known: {', '.join(sorted(sources))})")
    cards = {}
    for key, card in sources.items():
        try:
            cards[key] = territory_card(territory, card)
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
