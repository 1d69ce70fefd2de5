"""Checking the whole project at once: every source card, territory and demonstrator.

`check_project()` runs, file by file, the validation `datacites run` does when it loads
and reads (the cards' models, connectors and their options, CRSs, the steps and their
functions, the privacy rules of the graph) and collects every problem with its file,
line and field instead of stopping at the first. A demonstrator's module is parsed, never
imported, until every file is valid; then the Definitions are built as `run` builds them.

This package does not depend on Dagster (import-linter's second contract): the checks
that need it come in as arguments, e.g. from the command line::

    check_project(indicators=components.build.check_indicators,
                  build=assets.build.build_definitions)

The files a territory lacks are warnings, not problems: the definitions load without
them, and only the run that reads them fails. Messages name files, lines and fields,
never a value typed in a card (a private or personal card's values stay out of logs).
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import inspect
import re
import traceback
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from pipelines import config
from pipelines.catalogue.load import (
    CardError,
    YamlDocument,
    describe_error,
    load_source_card,
    load_territory,
    read_yaml,
    source_path,
    territory_card,
    territory_sources,
    validation_problems,
)
from pipelines.catalogue.models import Demonstrator, SourceCard, Territory
from pipelines.errors import ConfigError, DatacitesError, SourceError

COMPONENT_TYPE = "pipelines.components.Demonstrator"
# The source assets of a card, named as pipelines.assets.sources names them.
_SOURCE_ASSETS = ("raw", "staged", "aggregated", "anonymised")
IndicatorCheck = Callable[[Demonstrator, dict, Path], None]


@dataclass(frozen=True)
class Problem:
    """One problem of one file: where it is (line and field when known) and what to fix."""

    file: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class Report:
    """What `check_project` found: problems (definitions that fail), warnings (files a
    territory lacks, demonstrators a territory cannot run), the territories whose cards
    are valid and, when there is no problem, the Definitions `run` would load."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    definitions: Any = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class SourceFile:
    """A source as a territory sees it, the file it expects and that file's state."""

    card: SourceCard
    path: Path
    state: Literal["present", "missing", "absent"]


def check_project(*, indicators: IndicatorCheck | None = None, build: Callable[[], Any] | None = None) -> Report:
    """Every problem of `sources/*.yaml`, `sources/territories/*.yaml` and
    `demonstrators/*/defs.yaml` (with their modules and indicators.yaml), then, when there
    is none, those of `build()` (building the Definitions as `run` does).

    `indicators(demo, registry, folder)` is the loader's check of the names a defs.yaml
    gives against its indicators.yaml (`pipelines.components.build.check_indicators`),
    raising `ConfigError`; it runs for each demonstrator whose sources are all known.
    """
    report = Report()
    cards, names = _check_sources(report)
    territories: list[Territory] = []
    paths = sorted(config.TERRITORIES_DIR.glob("*.yaml"))
    for path in paths:
        territory = _check_territory(path, cards, names, report)
        if territory is not None:
            territories.append(territory)
            report.territories.append(territory.id)
    if not paths:
        report.problems.append(Problem(config.TERRITORIES_DIR, None, None,
                                       "no territory card. Fix: create one (docs/territories.md)"))
    for defs in sorted(config.DEMONSTRATORS_DIR.glob("*/defs.yaml")):
        demo = _check_demonstrator(defs, cards, names, report, indicators)
        for territory in territories if demo is not None else []:
            report.problems += _territory_charters(demo, defs, territory)
            lacking = demo.lacking(territory)
            if lacking:
                report.warnings.append(Problem(
                    config.TERRITORIES_DIR / f"{territory.id}.yaml", None, None,
                    f"demonstrator '{demo.id}' cannot run on this territory: it needs {lacking}, declared absent. "
                    "Fix: bring that data, or list it under `optional:` or `alternatives:` in its defs.yaml"))
    report.problems.sort(key=lambda p: (str(p.file), p.line or 0))
    if build is not None and report.ok:
        report.definitions = _build(build, report)
    return report


def _territory_charters(demo: Demonstrator, defs: Path, territory: Territory) -> list[Problem]:
    """The charter clauses `demo` breaks with the cards as `territory` sees them (its own
    charters), beyond those the default cards already break (reported on the demonstrator)."""
    from pipelines.catalogue.charters import charter_problems
    from pipelines.indicators import load_registry

    try:
        registry = load_registry(defs.parent / "indicators.yaml")
        own = charter_problems(demo, registry, territory_sources(territory), territory)
        default = set(charter_problems(demo, registry, territory_sources(territory.model_copy(update={"sources": {}}))))
    except DatacitesError:
        return []  # the card or registry problem itself is reported elsewhere
    where = config.TERRITORIES_DIR / f"{territory.id}.yaml"
    return [Problem(where, None, "charter", f"demonstrator '{demo.id}': {problem}") for problem in own
            if problem not in default]


def source_files(territory: Territory, cards: Mapping[str, SourceCard]) -> list[SourceFile]:
    """Each source of `territory` (`cards` as it sees them, see `territory_sources`), the
    path it expects and whether the file is there; raises `ConfigError` for a path outside
    sources/."""
    return [_source_file(territory, card) for card in cards.values()]


def _source_file(territory: Territory, card: SourceCard) -> SourceFile:
    path = source_path(card, territory)
    state = "absent" if territory.absent(card.id) else "present" if path.exists() else "missing"
    return SourceFile(card, path, state)


# --- source cards ---------------------------------------------------------------------------

def _check_sources(report: Report) -> tuple[dict[str, SourceCard], set[str]]:
    """(the valid cards by id, the ids of every card file, valid or not)."""
    cards: dict[str, SourceCard] = {}
    paths = sorted(config.SOURCES_DIR.glob("*.yaml"))
    for path in paths:
        try:
            card = load_source_card(path)
        except CardError as error:
            report.problems += _problems(error)
            continue
        document = read_yaml(path)
        for loc, message in connector_problems(card):
            report.problems.append(Problem(path, document.line(loc), _dotted(loc), message))
        cards[card.id] = card
    return cards, {path.stem for path in paths}


def connector_problems(card: SourceCard) -> list[tuple[tuple[str, ...], str]]:
    """What reading `card` would refuse before opening its file, as (field, message): an
    unknown `format:`, an option its reader does not take or of another type than the
    reader's annotation, a `crs:` pyproj does not know."""
    from pipelines.connectors import available_connectors, get_connector

    problems = [(loc, message) for loc, value in [(("crs",), card.crs), (("options", "crs"), card.options.get("crs"))]
                if isinstance(value, str) and (message := _crs_problem(value))]
    known = available_connectors()
    if card.format not in known:
        return problems + [(("format",), f"unknown connector{_suggest(card.format, known)} (known: {', '.join(known)})")]
    reader = inspect.unwrap(get_connector(card.format))
    parameters = inspect.signature(reader).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    allowed = sorted(p for p, spec in parameters.items() if spec.kind is spec.KEYWORD_ONLY and p != "working_crs")
    for option, value in card.options.items():
        loc = ("options", option)
        if option == "working_crs":
            problems.append((loc, "is the territory's (`working_crs:` of its card), not an option of the source"))
        elif option not in parameters or parameters[option].kind is not inspect.Parameter.KEYWORD_ONLY:
            if not accepts_any:
                problems.append((loc, f"not an option of connector '{card.format}'{_suggest(option, allowed)} "
                                      f"(it accepts: {', '.join(allowed) or 'none'})"))
        else:
            written = reader.__annotations__.get(option)
            expected = _reader_annotation(reader, written)
            if expected is not None and not _conforms(value, expected):
                problems.append((loc, f"must be {written} for connector '{card.format}', found {_kind(value)}"))
    return problems


def _crs_problem(value: str) -> str | None:
    from pipelines.connectors._crs import parse_crs

    try:
        parse_crs("", value)
    except SourceError as error:
        return f"{error.problem} Fix: {error.fix}"
    return None


def _reader_annotation(reader, written: Any) -> Any:
    """A reader's annotation as a type, None when it has none or it cannot be evaluated."""
    if written is None or not isinstance(written, str):
        return written
    try:
        return eval(written, reader.__globals__)  # the connectors' own annotations
    except Exception:
        return None


# --- territories ----------------------------------------------------------------------------

def _check_territory(path: Path, cards: dict[str, SourceCard], names: set[str], report: Report) -> Territory | None:
    """Its card, its overrides (each merged card checked as a source card is), its paths;
    the files it lacks go to the warnings. The territory when its definitions hold."""
    try:
        territory = load_territory(path.stem, path.parent)
    except CardError as error:
        report.problems += _problems(error)
        return None
    document = read_yaml(path)
    problems: list[Problem] = []
    for group in ("sources", "files"):
        for key in getattr(territory, group):
            if key not in names:
                problems.append(Problem(path, document.line([group, key]), f"{group}.{key}",
                                        f"overrides a source that has no card in sources/{_suggest(key, names)} "
                                        f"(known: {', '.join(sorted(names))})"))
    seen: dict[str, SourceCard] = {}
    for key, card in cards.items():
        try:
            merged = territory_card(territory, card)
        except ValidationError as exc:
            for error in exc.errors(include_input=False):
                loc = _override_loc(territory, key, error["loc"])
                problems.append(Problem(path, document.line(loc), _dotted(loc), describe_error(error)))
            continue
        own = set(connector_problems(card))  # reported with the card itself
        for loc, message in connector_problems(merged):
            if (loc, message) not in own:
                where = _override_loc(territory, key, loc)
                problems.append(Problem(path, document.line(where), _dotted(where), message))
        seen[key] = merged
    for key, merged in seen.items():
        loc = _override_loc(territory, key, ("file",))
        if document.line(loc, exact=True) is None:
            loc = ("data_dir",)
        try:
            file = _source_file(territory, merged)
        except ConfigError as error:
            problems.append(Problem(path, document.line(loc), _dotted(loc), str(error)))
            continue
        if file.state == "missing":
            report.warnings.append(Problem(path, document.line(loc), _dotted(loc),
                                           f"source '{key}' expects {file.path}, which does not exist"))
    report.problems += problems
    return None if problems else territory


def _override_loc(territory: Territory, key: str, loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Where a field of a merged card is written in the territory's card."""
    if tuple(loc[:1]) == ("file",) and key in territory.files:
        return ("files", key)
    return ("sources", key, *loc)


# --- demonstrators --------------------------------------------------------------------------

def _check_demonstrator(defs: Path, cards: dict[str, SourceCard], names: set[str], report: Report,
                        indicators: IndicatorCheck | None) -> Demonstrator | None:
    """Its defs.yaml (as Dagster renders it, against the project's model), its sources,
    indicators, module (parsed, not imported), steps and params. The card when valid."""
    problems = report.problems
    start = len(problems)
    try:
        document = read_yaml(defs)
    except CardError as error:
        problems += _problems(error)
        return None
    problems += [Problem(defs, p.line, p.field, p.message) for p in document.duplicates]
    data = document.data
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        problems.append(Problem(defs, document.line(["attributes"]), "attributes",
                                "expected `type: pipelines.components.Demonstrator` and an `attributes:` mapping"))
        return None
    if data.get("type") != COMPONENT_TYPE:
        problems.append(Problem(defs, document.line(["type"]), "type", f"must be {COMPONENT_TYPE}"))
    attributes = _rendered(attributes)
    module = attributes.get("module")
    # a file beside defs.yaml, as the model requires: parsed even when other attributes are wrong
    beside = isinstance(module, str) and module.endswith(".py") and Path(module).name == module
    module_path = defs.parent / module if beside else None
    tree = _parse_module(module_path, problems) if module_path is not None and module_path.is_file() else None
    try:
        demo = Demonstrator.model_validate(attributes)
    except ValidationError as exc:
        problems += [Problem(defs, p.line, p.field, p.message)
                     for p in validation_problems(exc, document.node, ("attributes",))]
        return None

    def problem(loc: Sequence[str | int], message: str) -> None:
        problems.append(Problem(defs, document.line(["attributes", *loc]), _dotted(["attributes", *loc]), message))

    if demo.id != defs.parent.name:
        problem(["id"], f"must equal the folder name '{defs.parent.name}'")
    named = [(["sources", i], s) for i, s in enumerate(demo.sources)] + [(["optional", s], s) for s in demo.optional]
    named += [(["alternatives", k, "sources", i], s) for k, a in demo.alternatives.items() for i, s in enumerate(a.sources)]
    unknown = [(loc, s) for loc, s in named if s not in names]
    for loc, source in unknown:
        problem(loc, "names a source that has no card in sources/"
                     + (_suggest(source, names) or ". Fix: add sources/<id>.yaml or correct the name"))
    registry = _registry(defs.parent / "indicators.yaml", problems)
    if registry is not None and indicators is not None and not unknown:
        _check_indicators(indicators, demo, registry, defs, document, problems)
    if module_path is None or not module_path.is_file():
        problem(["module"], f"names a file that is not in {defs.parent}")
    elif tree is not None:
        _check_steps(demo, tree, module_path, cards, names, problem, problems)
        _check_params(demo, tree, module_path, document, defs, problems)
    return demo if len(problems) == start else None


_TEMPLATE = re.compile(r"{{|{%|{#")


def _rendered(value: Any) -> Any:
    """A value of defs.yaml as Dagster hands it to the component: each string rendered by
    Jinja's native types, as Dagster's resolver does ("5" becomes 5, "01004" stays text).
    A template (`{{ env.X }}`) needs Dagster's scope: it stays as written."""
    from jinja2.nativetypes import NativeTemplate

    if isinstance(value, dict):
        return {k: _rendered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rendered(v) for v in value]
    if isinstance(value, str) and value and not _TEMPLATE.search(value):
        return NativeTemplate(value).render()
    return value


def _registry(path: Path, problems: list[Problem]) -> dict | None:
    """The demonstrator's indicators.yaml through the project's loader, or None."""
    from pipelines.indicators import load_registry

    if not path.is_file():
        problems.append(Problem(path, None, None, "no indicator registry; declare the demonstrator's indicators here"))
        return None
    try:
        document = read_yaml(path)
    except CardError as error:
        problems += _problems(error)
        return None
    problems += [Problem(path, p.line, p.field, p.message) for p in document.duplicates]
    try:
        return load_registry(path)
    except ConfigError as error:
        message = str(error).removeprefix(f"{path}: ")
        position = re.match(r"indicator #(\d+)", message)
        line = document.line([int(position.group(1)) - 1]) if position else None
        problems.append(Problem(path, line, None, message))
        return None


_INDICATOR_FIELDS = (("not declared in", "indicators"), ("must also be listed", "indicators"),
                     ("main indicator", "main_indicator"), ("alternatives.", "alternatives"),
                     ("'optional'", "optional"), ("sources", "sources"))


def _check_indicators(check: IndicatorCheck, demo: Demonstrator, registry: dict, defs: Path, document: YamlDocument,
                      problems: list[Problem]) -> None:
    """The loader's own check of the names in defs.yaml against indicators.yaml."""
    try:
        check(demo, registry, defs.parent)
    except ConfigError as error:
        prefix = f"{defs}: "
        if not str(error).startswith(prefix):
            return  # a broken source card, reported with that card
        message = str(error).removeprefix(prefix)
        name = next((f for key, f in _INDICATOR_FIELDS if key in message), None)
        loc = ["attributes", name] if name else []
        problems.append(Problem(defs, document.line(loc) if name else None, _dotted(loc) or None, message))


def _parse_module(path: Path, problems: list[Problem]) -> ast.Module | None:
    """The module's syntax tree, compiled but never run; a syntax error is a problem."""
    try:
        source = path.read_bytes()
        tree = ast.parse(source, filename=str(path))
        compile(tree, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        problems.append(Problem(path, error.lineno, None, f"syntax error: {error.msg}"))
        return None
    except ValueError as error:  # null bytes, undecodable source
        problems.append(Problem(path, None, None, f"cannot be read as Python source: {error}"))
        return None
    return tree


def _top_level(tree: ast.Module) -> tuple[dict[str, ast.FunctionDef | ast.AsyncFunctionDef], set[str]]:
    """(functions defined at the module's top level, every other name bound there)."""
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    others: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            others |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ClassDef):
            others.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            others |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            pending += [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", []),
                        *[s for h in getattr(node, "handlers", []) for s in h.body]]
    return functions, others


def _check_steps(demo: Demonstrator, tree: ast.Module, module: Path, cards: dict[str, SourceCard], names: set[str],
                 problem, problems: list[Problem]) -> None:
    """Each step's function (defined, its parameters the step's inputs, `*, ctx`) and its
    inputs (earlier steps or source assets, none personal or private), as the loader does."""
    functions, others = _top_level(tree)
    assets = _source_levels(cards)
    broken = {f"{prefix}_{name}" for prefix in _SOURCE_ASSETS for name in names - set(cards)}
    levels: dict[str, str] = {}
    steps = [(["steps", n], n, s) for n, s in demo.steps.items()] + ([(["summary"], "summary", demo.summary)]
                                                                     if demo.summary else [])
    for base, name, step in steps:
        fn = functions.get(step.function)
        if fn is None and step.function not in others:
            problem([*base, "function"], f"calls '{step.function}', which {module.name} does not define. "
                                         f"Fix: define it in {module.name} or correct 'function:'")
        elif fn is not None:
            _check_signature(fn, name, step.inputs, module, base, problem, problems)
        found = []
        for argument, ref in step.inputs.items():
            loc = [*base, "inputs", argument]
            if ref in demo.steps:
                if ref not in levels:
                    problem(loc, f"names the step '{ref}', which does not come before '{name}'. "
                                 "Fix: steps read only the steps above them; move it up")
                else:
                    found.append(levels[ref])
            elif ref in assets:
                found.append(assets[ref])
                source = ref.split("_", 1)[1]
                if assets[ref] == "personal":
                    problem(loc, f"reads the personal asset '{ref}', but only its anonymiser may: "
                                 f"read 'anonymised_{source}' instead")
                elif assets[ref] == "private":
                    problem(loc, f"reads the private asset '{ref}'; a published demonstrator may read only "
                                 f"public and aggregated assets: read 'aggregated_{source}' instead")
            elif ref not in broken:
                known = [*levels, *assets]
                problem(loc, f"'{ref}' is neither an earlier step nor a source asset (staged_<source>, "
                             "aggregated_<source>, anonymised_<source>)"
                             + (_suggest(ref, known) or ". Fix: name one of the steps above it or a source asset"))
        levels[name] = max(found, key=config.SENSITIVITY_LEVELS.index, default="public")


def _source_levels(cards: Mapping[str, SourceCard]) -> dict[str, str]:
    """The level of every source asset, as `pipelines.assets.sources.source_levels` tags
    them: raw and staged (none for a personal source), then the privacy aggregates."""
    levels = {}
    for card in cards.values():
        levels[f"raw_{card.id}"] = card.sensitivity
        if card.sensitivity != "personal":
            levels[f"staged_{card.id}"] = card.sensitivity
        if card.aggregation is not None:
            levels[f"{'anonymised' if card.sensitivity == 'personal' else 'aggregated'}_{card.id}"] = "aggregated"
    return levels


def _check_signature(fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str, inputs: Mapping[str, str], module: Path,
                     base: list, problem, problems: list[Problem]) -> None:
    """The step's inputs against the function's parameters, read from its definition."""
    args = fn.args
    positional = args.args
    required = {a.arg for a in positional[:len(positional) - len(args.defaults)]}
    required |= {a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True) if default is None}
    accepted = {a.arg for a in [*positional, *args.kwonlyargs]} - {"ctx"}
    if "ctx" not in {a.arg for a in args.kwonlyargs}:
        problems.append(Problem(module, fn.lineno, None, f"{fn.name}() (step '{name}') takes no keyword-only 'ctx'. "
                                                         "Fix: add '*, ctx' to its parameters"))
    unknown, missing = sorted(set(inputs) - accepted), sorted((required - {"ctx"}) - set(inputs))
    if unknown or missing:
        said = [f"input '{p}' is not a parameter of {fn.name}()" for p in unknown]
        said += [f"parameter '{p}' has no input" for p in missing]
        problem([*base, "inputs"], f"{'; '.join(said)} (its parameters: {', '.join(sorted(accepted)) or 'none'}; "
                                   f"{module.name} line {fn.lineno}). Fix: make the keys of 'inputs:' the function's "
                                   "parameter names")


def _check_params(demo: Demonstrator, tree: ast.Module, module: Path, document: YamlDocument, defs: Path,
                  problems: list[Problem]) -> None:
    """The params the module reads are declared, and of the type of the parameters of the
    module's own functions they are passed to (`years: int`), when annotated."""
    functions, _ = _top_level(tree)
    reported: set[str] = set()
    for reads, passes in (_params_uses(fn, functions) for fn in functions.values()):
        for param, line in reads:
            if param not in demo.params:
                problems.append(Problem(module, line, None, f"reads params['{param}'], which defs.yaml does not "
                                                            "declare. Fix: add it under `params:` or correct the name"))
        for param, line, callee, argument, annotation in passes:
            if param not in demo.params or param in reported:
                continue
            expected = _annotation(annotation)
            if expected is not None and not _conforms(demo.params[param], expected):
                reported.add(param)
                problems.append(Problem(defs, document.line(["attributes", "params", param]), f"attributes.params.{param}",
                                        f"must be {ast.unparse(annotation)}, found {_kind(demo.params[param])} "
                                        f"({module.name}:{line} passes it to {callee}() as '{argument}')"))


def _params_uses(fn: ast.FunctionDef | ast.AsyncFunctionDef, functions: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef]):
    """(params read as `ctx.params["x"]`: (name, line)), (params passed to a function of
    the module: (name, line, function, parameter, its annotation))."""
    aliases = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and _is_params(n.value, set())
               for t in n.targets if isinstance(t, ast.Name)}

    def read(node: ast.AST) -> str | None:
        if isinstance(node, ast.Subscript) and _is_params(node.value, aliases) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            return node.slice.value
        return None

    local = {t.id: read(n.value) for n in ast.walk(fn) if isinstance(n, ast.Assign) and read(n.value)
             for t in n.targets if isinstance(t, ast.Name)}
    reads = [(name, node.lineno) for node in ast.walk(fn) if (name := read(node))]
    passes = []
    for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)):
        callee = functions.get(call.func.id)
        if callee is None:
            continue
        parameters = [*callee.args.posonlyargs, *callee.args.args]
        given = [(parameters[i] if i < len(parameters) else None, a) for i, a in enumerate(call.args)]
        by_name = {a.arg: a for a in [*parameters, *callee.args.kwonlyargs]}
        given += [(by_name.get(k.arg), k.value) for k in call.keywords if k.arg]
        for parameter, value in given:
            name = read(value) or (local.get(value.id) if isinstance(value, ast.Name) else None)
            if parameter is not None and parameter.annotation is not None and name:
                passes.append((name, call.lineno, callee.name, parameter.arg, parameter.annotation))
    return reads, passes


def _is_params(node: ast.AST, aliases: set[str]) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "params") or (isinstance(node, ast.Name)
                                                                          and node.id in aliases)


_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict,
                          "tuple": tuple, "set": set, "frozenset": frozenset, "Any": Any, "object": object,
                          "Sequence": Sequence, "Mapping": Mapping}


def _annotation(node: ast.AST) -> Any:
    """An annotation of the module as a type, read from its syntax (never evaluated);
    None for anything but builtins, their generics, unions and Optional."""
    try:
        return _as_type(node)
    except (KeyError, TypeError, SyntaxError):
        return None


def _as_type(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and node.value is None:
        return type(None)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _as_type(ast.parse(node.value, mode="eval").body)
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _TYPES[node.id if isinstance(node, ast.Name) else node.attr]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return typing.Union[_as_type(node.left), _as_type(node.right)]
    if isinstance(node, ast.Subscript):
        name = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        args = tuple(_as_type(item) for item in items)
        if name == "Optional":
            return typing.Optional[args[0]]
        if name == "Union":
            return typing.Union[args]
        return _TYPES[name][args if len(args) > 1 else args[0]]
    raise TypeError("not a plain type")


def _conforms(value: Any, expected: Any) -> bool:
    """Whether a YAML value is of an annotated type (strict: "5" is no int; an int is a
    float; a date YAML parsed from an unquoted ISO date counts as its text)."""
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    try:
        TypeAdapter(expected).validate_python(value, strict=True)
    except ValidationError:
        return False
    except Exception:  # a type pydantic cannot check: not ours to refuse
        return True
    return True


# --- building the definitions ---------------------------------------------------------------

def _build(build: Callable[[], Any], report: Report):
    """The Definitions `run` loads; a failure becomes a problem naming its file."""
    try:
        return build()
    except Exception as exc:
        cause = _our_cause(exc)
        report.problems.append(_from_message(str(cause)) if cause is not None else _from_traceback(exc))
        return None


def _our_cause(exc: BaseException | None) -> DatacitesError | None:
    """Our error behind a wrapping one (the loader unwraps Dagster's the same way)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DatacitesError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _from_message(message: str) -> Problem:
    match = re.match(r"(/[^:\n]+?\.(?:yaml|py))(?::(\d+))?:\s(.*)", message, re.DOTALL)
    if match is None:
        return Problem(config.DEMONSTRATORS_DIR, None, None, message)
    return Problem(Path(match.group(1)), int(match.group(2)) if match.group(2) else None, None, match.group(3))


def _from_traceback(exc: BaseException) -> Problem:
    """An unexpected error (e.g. raised by a module when imported), at the innermost line
    of the project's files its traceback went through."""
    roots = [config.DEMONSTRATORS_DIR.resolve(), config.SOURCES_DIR.resolve()]
    located, chain, seen = None, exc, set()
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        for frame in traceback.extract_tb(chain.__traceback__):
            if any(Path(frame.filename).resolve().is_relative_to(root) for root in roots):
                located = (Path(frame.filename), frame.lineno, chain)
        chain = chain.__cause__ or chain.__context__
    if located is None:
        return Problem(config.DEMONSTRATORS_DIR, None, None, f"{type(exc).__name__}: {exc}")
    path, line, error = located
    return Problem(path, line, None, f"{type(error).__name__}: {error}")


# --- helpers --------------------------------------------------------------------------------

def _problems(error: CardError) -> list[Problem]:
    return [Problem(error.path, p.line, p.field, p.message) for p in error.problems]


def _dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def _suggest(word: str, known) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def _kind(value: Any) -> str:
    """The YAML kind of a value, never the value itself."""
    kinds = [(bool, "true/false"), (int, "an integer"), (float, "a number"), (str, "text"), (dt.date, "a date"),
             (list, "a list"), (dict, "a mapping"), (type(None), "nothing (null)")]
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)
