"""Pydantic models of the YAML cards people write: sources, territories, demonstrators.

Validation errors are raised with `hide_input_in_errors` so that a value typed in a card
(or, worse, pasted from a personal file) is never echoed into a log.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.config import (
    COMMUNE_CODE_PATTERN,
    MAX_DOMINANCE_SHARE,
    MIN_BUSINESS_UNITS,
    MIN_DELIVERY_POINTS,
    MIN_HOUSEHOLDS,
)

Sensitivity = Literal["public", "private", "personal"]
ColumnType = Literal["text", "int", "float", "date", "month", "bool", "geometry"]
Zoning = Literal["grid", "iris", "commune"]
# A step's zoning: a published table's, or `territory` for figures of the whole territory
# (one row, read by the summary, never published as a table).
StepZoning = Literal["grid", "iris", "commune", "territory"]
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
DEFAULT_ZONINGS = {"iris": "iris", "commune": "communes", "grid": "filosofi_200m"}
_FLOORS = {"households": MIN_HOUSEHOLDS, "delivery_points": MIN_DELIVERY_POINTS,
           "business": MIN_BUSINESS_UNITS}


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)


class PrivacyRule(_Card):
    """Statistical-secrecy rule of a source: thresholds may only be raised."""

    kind: Literal["households", "delivery_points", "business"]
    min_units: int | None = None
    max_dominance: float | None = None
    unit_column: str | None = None
    value_column: str | None = None

    @model_validator(mode="after")
    def _only_upward(self) -> "PrivacyRule":
        # The law's and INSEE's thresholds are floors: a card may be stricter, never laxer.
        floor = _FLOORS[self.kind]
        if self.min_units is not None and self.min_units < floor:
            raise ValueError(f"min_units for '{self.kind}' may not be below {floor}; raise it or remove it")
        if self.max_dominance is not None and self.max_dominance > MAX_DOMINANCE_SHARE:
            raise ValueError(f"max_dominance may not exceed {MAX_DOMINANCE_SHARE}; lower it or remove it")
        return self

    @property
    def threshold(self) -> int:
        return self.min_units or _FLOORS[self.kind]

    @property
    def dominance(self) -> float:
        return self.max_dominance or MAX_DOMINANCE_SHARE


class ColumnCheck(_Card):
    """Plausible values of one column of a private or personal source, checked on the
    connector's frame before anything is pseudonymised or aggregated
    (:mod:`pipelines.privacy.inputs`). Numbers take `min`/`max`; text takes `pattern`
    or `month`."""

    min: float | None = Field(default=None, description="smallest plausible value (numbers)")
    max: float | None = Field(default=None, description="largest plausible value (numbers): it catches a meter "
                                                        "number or a coordinate swapped into a quantity")
    pattern: str | None = Field(default=None, description="regular expression the whole text must match, e.g. "
                                                          "'^\\d{14}$' for a meter number")
    month: bool = Field(default=False, description="a month written YYYY-MM (01 to 12), not after the current month")
    required: bool = Field(default=False, description="no empty value")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error:
                raise ValueError("is not a valid regular expression") from None
        return pattern

    @model_validator(mode="after")
    def _one_kind(self) -> "ColumnCheck":
        numeric = self.min is not None or self.max is not None
        if numeric and (self.pattern or self.month):
            raise ValueError("`min`/`max` are for numbers, `pattern`/`month` for text: keep one kind")
        if self.pattern and self.month:
            raise ValueError("give `pattern` or `month: true`, not both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is above `max`")
        return self


class Duplicates(_Card):
    """Rows sharing `key` (the same meter and month): what to do with them.

    `refuse`: any two such rows stop the run. `drop_identical`: rows identical in every
    column are kept once (a file exported twice), rows sharing the key with other values
    stop the run. `keep_first`: the first row of each key in file order is kept.
    `sum`: the rows of a key are merged into one whose `values:` columns are added; their
    other columns must be equal, else the run stops. Rows removed are counted in the
    asset's metadata."""

    key: list[str] = Field(min_length=1, description="columns identifying one row, e.g. [numero_compteur, mois]")
    rule: Literal["refuse", "drop_identical", "keep_first", "sum"] = "refuse"


class LocationCheck(_Card):
    """Points must lie in the territory: those farther than `margin_m` from every IRIS
    may be at most `max_share` of the located rows (a wrong CRS or another territory's
    file puts them all outside); the few allowed are dropped by the anonymiser and counted."""

    margin_m: float = Field(default=100.0, ge=0, description="metres around the territory's IRIS still inside")
    max_share: float = Field(default=0.01, ge=0, le=1, description="largest share of located rows farther out")


class Aggregation(_Card):
    """How a personal source is anonymised, or a private one aggregated, before publication.

    Personal sources must name their direct identifiers (pseudonymised with a keyed HMAC,
    used only inside the anonymiser); private business sources may leave them empty.
    `checks`, `duplicates` and `location` are validated on the input before anything else
    (:mod:`pipelines.privacy.inputs`, where the schema is described).
    """

    identifiers: list[str] = Field(default_factory=list, description="direct identifiers, pseudonymised with a keyed HMAC")
    drop: list[str] = Field(default_factory=list, description="columns dropped outright (names, addresses)")
    method: Literal["hmac-sha256"] = Field(
        default="hmac-sha256", description="the only method accepted: an unkeyed hash of a 14-digit number can be enumerated")
    unit: str = Field(description="column identifying units (counted distinct), e.g. the meter")
    weight: str | None = Field(default=None,
                               description="column holding units per row (e.g. delivery points) instead of one per row")
    zonings: list[Literal["iris", "commune"]] = Field(
        default_factory=lambda: ["iris", "commune"], description="nested zonings the aggregates are published on")
    values: dict[str, Literal["sum", "mean"]] = Field(default_factory=dict)
    filter: dict[str, list[Any]] = Field(default_factory=dict, description="keep rows whose column is in the list")
    shares: dict[str, list[str]] = Field(default_factory=dict, description="column -> categories")
    rules: list[PrivacyRule] = Field(min_length=1)
    checks: dict[str, ColumnCheck] = Field(
        default_factory=dict, description="column of the connector's frame -> plausible values (x, y: coordinates)")
    duplicates: Duplicates | None = Field(default=None, description="rows sharing a key, and the rule for them")
    location: LocationCheck = Field(default_factory=LocationCheck,
                                    description="share of points allowed outside the territory")

    @model_validator(mode="after")
    def _identifiers_are_never_aggregated(self) -> "Aggregation":
        # Summing or filtering on an address or a meter number would push raw personal
        # values through pandas, whose errors quote them.
        protected = set(self.identifiers) | set(self.drop)
        used = {*self.values, *self.shares, *self.filter, *([self.weight] if self.weight else [])}
        clash = sorted(protected & used)
        if clash:
            raise ValueError(f"columns {clash} are identifiers or dropped columns and cannot be aggregated, "
                             "filtered or used as weights; remove them from values/shares/filter/weight")
        if self.unit in self.drop:
            raise ValueError(f"the unit column '{self.unit}' cannot also be dropped")
        return self

    @model_validator(mode="after")
    def _numbers_are_checked_as_numbers(self) -> "Aggregation":
        texts = sorted(c for c in [*self.values, *([self.weight] if self.weight else [])]
                       if c in self.checks and (self.checks[c].pattern or self.checks[c].month))
        if texts:
            raise ValueError(f"columns {texts} are aggregated as numbers: check them with `min`/`max`, "
                             "not `pattern`/`month`")
        return self


class Cut(_Card):
    """How `datacites fetch` keeps only a territory's part of a national file (docs/fetch.md):
    the rows of a CSV whose `column`, or the GeoJSON features whose `property`, holds one
    of the territory's codes, compared as text."""

    column: str | None = Field(default=None, description="CSV column of the code (case ignored, a _YY vintage suffix too)")
    property: str | None = Field(default=None, description="GeoJSON feature property of the code")
    by: Literal["commune", "iris", "departement"] = Field(
        default="commune", description="commune: the code (or one of the 5-character codes it concatenates) is a "
                                       "commune of the territory; iris: its first 5 characters are; departement: "
                                       "its first 2 characters (3 for 97x) are a département of the territory")

    @model_validator(mode="after")
    def _one_key(self) -> "Cut":
        if (self.column is None) == (self.property is None):
            raise ValueError("give exactly one of `column` (CSV) or `property` (GeoJSON)")
        return self


DOWNLOAD_PLACEHOLDERS = ("commune", "departement", "year")


def url_placeholders(url: str) -> set[str]:
    """Names of the `{...}` placeholders of a download address (ValueError if unbalanced)."""
    return {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}


class Download(_Card):
    """Where `datacites fetch` downloads a public source and how it cuts it to a territory.

    Every field is optional: in a territory's `sources.<id>.download` the fields given
    replace the card's (a new `url` drops the card's `sha256`)."""

    url: str | None = Field(default=None, description="stable address; {commune}, {departement}, {year} make one "
                                                      "request per value, the results concatenated")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="of a fixed file, checked")
    cut: Cut | Literal["none"] | None = Field(default=None, description="`none`: the file is already the territory's")
    member: str | None = Field(default=None, description="file(s) to read inside a zip archive (glob, case ignored)")
    years: list[str] | None = Field(default=None, description="values of {year}; default the card's date")
    file: str | None = Field(default=None, description="name written when the download's format differs from the "
                                                       "card's file (a territory's `file` override wins)")
    _file_inside = field_validator("file")(classmethod(lambda cls, v: relative_path(v)))

    @field_validator("url")
    @classmethod
    def _http_template(cls, url: str | None) -> str | None:
        if url is None:
            return url
        if not url.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// address")
        try:
            names = url_placeholders(url)
        except ValueError:
            raise ValueError("has an unbalanced '{' or '}'; write a literal brace as '{{' or '}}'") from None
        unknown = sorted(names - set(DOWNLOAD_PLACEHOLDERS))
        if unknown:
            raise ValueError(f"placeholders {unknown} are unknown (allowed: {list(DOWNLOAD_PLACEHOLDERS)})")
        return url

    @model_validator(mode="after")
    def _fixed_file_for_checksum_or_raw_copy(self) -> "Download":
        templated = self.url is not None and bool(url_placeholders(self.url))
        if templated and self.sha256:
            raise ValueError("`sha256` is for one fixed file; remove it or the placeholders of `url`")
        if templated and self.cut == "none":
            raise ValueError("`cut: none` keeps one file as it is; several requests need a `column` or `property` cut")
        return self


# Purposes a charter may allow and a demonstrator declares (docs/architecture.md, "Charters").
Purpose = Literal["energy_poverty", "mobility_planning", "housing_policy", "public_statistics", "research"]
PURPOSES: tuple[str, ...] = Purpose.__args__
OpenLicence = Literal["Licence Ouverte 2.0 (Etalab)", "ODbL 1.0", "CC-BY 4.0"]
OPEN_LICENCES: tuple[str, ...] = OpenLicence.__args__
# Zonings from finest to coarsest: a charter's `min_zoning` allows it and every coarser one.
ZONING_ORDER = {"grid": 0, "iris": 1, "commune": 2, "territory": 3}


class Bilateral(_Card):
    """A named agreement between the local authority and the data's holder."""

    bilateral: str = Field(min_length=1, description="name of the agreement, e.g. 'Convention de partage de données'")


class Charter(_Card):
    """The terms under which a local authority brings an operator's or a neighbour's data
    into a demonstrator: who may use it, for what, at which aggregation, for how long,
    and under which licence results may be published (pipelines/catalogue/charters.py)."""

    licence: OpenLicence | Bilateral = Field(
        description="one of " + ", ".join(repr(x) for x in OpenLicence.__args__)
                    + ", or a named agreement {bilateral: '<name>'}")
    attribution: str = Field(min_length=1, description="credit every output built from it must carry")
    purposes: list[Purpose] = Field(min_length=1, description="what a demonstrator using it may be for")
    min_zoning: Literal["iris", "commune", "territory"] = Field(
        description="finest published zoning allowed (grid < iris < commune < territory)")
    until: dt.date | None = Field(default=None, description="last day the data may be used (YYYY-MM-DD)")
    retention_days: int | None = Field(default=None, ge=1, description="days the data may be kept, counted from "
                                                                       "the day its file was delivered (modified)")
    contact: str = Field(min_length=1, description="who answers for the agreement at the data's holder")
    output_licence: OpenLicence | None = Field(
        default=None, description="bilateral agreements: the licence it imposes on published results")
    share_alike: bool = Field(default=True, description="false: the agreement forbids publishing results from its "
                                                        "data under a share-alike licence (ODbL)")

    @field_validator("until", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be a date written YYYY-MM-DD, e.g. 2030-12-31")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> "Charter":
        if self.until is None and self.retention_days is None:
            raise ValueError("give the retention: `until: YYYY-MM-DD` or `retention_days: N`")
        if self.until is not None and self.retention_days is not None:
            raise ValueError("give `until` or `retention_days`, not both")
        if isinstance(self.licence, str) and (self.output_licence is not None or not self.share_alike):
            raise ValueError("`output_licence` and `share_alike` are clauses of a bilateral agreement; an open "
                             "licence already says how results are published: remove them")
        return self


def charter_file(value: str) -> str:
    """A charter named by file: a `.yaml` inside sources/charters/."""
    relative_path(value)
    if not value.endswith((".yaml", ".yml")):
        raise ValueError("must name a .yaml file of sources/charters/ (e.g. convention_operateur.yaml), or be a "
                         "mapping of the charter's clauses")
    return value


class SourceCard(_Card):
    """A source's card: who publishes it, how sensitive it is, how to read it."""

    id: str = Field(pattern=IDENTIFIER)
    title: str
    producer: str
    sensitivity: Sensitivity
    licence: str
    attribution: str
    url: str | None = None
    date: str = Field(description="vintage of the data, e.g. 2024")
    refresh: Literal["yearly", "quarterly", "monthly", "weekly", "daily", "never"] = "yearly"
    format: str = Field(description="connector name, see `datacites sources`")
    file: str = Field(description="file name inside the territory's data folder")
    _file_inside = field_validator("file")(classmethod(lambda cls, v: relative_path(v)))
    crs: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, ColumnType] = Field(default_factory=dict)
    theme: Literal["reference", "energy", "mobility", "housing"] = "reference"
    aggregation: Aggregation | None = None
    caveats: list[str] = Field(default_factory=list, description="in French: what a reader of the figures must "
                                                                 "know of this file, shown on the pages using it")
    download: Download | None = Field(default=None, description="public sources: how `datacites fetch` brings it")
    charter: Charter | str | None = Field(
        default=None, description="terms of use: the clauses, or a .yaml file of sources/charters/ holding them "
                                  "(resolved when the card loads); optional for public sources")

    @field_validator("charter")
    @classmethod
    def _charter_file(cls, value: Any) -> Any:
        return charter_file(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sensitive_sources_are_aggregated(self) -> "SourceCard":
        if self.sensitivity == "personal" and (self.aggregation is None or not self.aggregation.identifiers):
            raise ValueError("a personal source needs an `aggregation:` section naming its `identifiers`")
        return self

    @field_validator("columns")
    @classmethod
    def _codes_are_text(cls, columns: dict[str, str]) -> dict[str, str]:
        for name, kind in columns.items():
            if name.startswith(("code", "insee", "iris", "idcar", "numero")) and kind != "text":
                raise ValueError(f"column '{name}' holds a code and must be declared as text")
        return columns


class Commune(_Card):
    code: str = Field(pattern=COMMUNE_CODE_PATTERN)
    name: str


def relative_path(value: str | None) -> str | None:
    """A path from YAML must stay inside the project's folder it is relative to."""
    if value is None:
        return value
    parts = value.replace("\\", "/").split("/")
    if not value or value.startswith("/") or ":" in value or ".." in parts:
        raise ValueError("must be a relative path inside the project's folder, without '..', '/' first or a drive")
    return value


class SourceOverride(_Card):
    """What a territory changes in a source card: its own file, reading options and
    credits (real data is credited to its real producer), or that it has no such data."""

    file: str | None = Field(default=None, description="file inside the territory's data folder")
    format: str | None = Field(default=None, description="another official format of the same data (its connector)")
    options: dict[str, Any] | None = Field(
        default=None, description="reading options, merged over the card's (replacing them when `format` changes)")
    crs: str | None = None
    title: str | None = None
    producer: str | None = None
    attribution: str | None = None
    licence: str | None = None
    date: str | None = None
    url: str | None = None
    download: Download | None = Field(default=None, description="fields replacing the card's `download:`")
    caveats: list[str] | None = Field(default=None, description="in French: what a reader must know of this "
                                                               "territory's file (replaces the card's)")
    charter: Charter | str | None = Field(default=None, description="this territory's own charter with the data's "
                                                                    "holder (replaces the card's)")
    absent: bool = Field(default=False, description="the territory has no such data (only for optional sources)")

    _file_inside = field_validator("file")(classmethod(lambda cls, v: relative_path(v)))
    _charter_file = field_validator("charter")(classmethod(lambda cls, v: charter_file(v) if isinstance(v, str) else v))


class Territory(_Card):
    """A territory as data: its communes, CRSs, where its source files are and what it
    changes in the source cards (see docs/territories.md)."""

    id: str = Field(pattern=IDENTIFIER)
    name: str
    fictional: bool = False
    working_crs: str = "EPSG:2154"
    grid_crs: str = "EPSG:3035"
    data_dir: str = Field(description="folder of the source files, relative to sources/")
    files: dict[str, str] = Field(default_factory=dict, description="per-source file overrides (short form)")
    sources: dict[str, SourceOverride] = Field(default_factory=dict, description="per-source overrides")
    communes: list[Commune] = Field(default_factory=list, description="empty = every commune of the zoning source")
    zonings: dict[Zoning, str] = Field(
        default_factory=lambda: dict(DEFAULT_ZONINGS),
        description="zoning -> id of the source that holds its zones (fixed: override that source's file instead)")

    _data_dir_inside = field_validator("data_dir")(classmethod(lambda cls, v: relative_path(v)))

    @field_validator("working_crs", "grid_crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(value)
        except CRSError:
            raise ValueError("is not a CRS pyproj knows; write it as EPSG:<code> (EPSG:2154 on the mainland, "
                             "EPSG:5490 in Martinique and Guadeloupe)") from None
        if not crs.is_projected:
            raise ValueError("must be a projected CRS in metres (distances and areas are measured in it)")
        return value

    @field_validator("files")
    @classmethod
    def _relative_files(cls, files: dict[str, str]) -> dict[str, str]:
        for name in files.values():
            relative_path(name)
        return files

    @model_validator(mode="after")
    def _zonings_are_the_graphs(self) -> "Territory":
        # Every territory is a partition of one asset graph, whose zones come from these
        # sources: a territory brings its own zones by overriding their files.
        if self.zonings != DEFAULT_ZONINGS:
            raise ValueError(f"zonings must stay {DEFAULT_ZONINGS}; to use other zones, override the file "
                             "of that source under `sources:` (docs/territories.md)")
        clash = sorted(set(self.files) & {k for k, o in self.sources.items() if o.file})
        if clash:
            raise ValueError(f"the file of {clash} is set both in `files:` and in `sources:`; keep one")
        return self

    def override(self, source_id: str) -> SourceOverride:
        """The territory's override of one source (its `files:` entry folded in)."""
        found = self.sources.get(source_id, SourceOverride())
        if source_id in self.files:
            found = found.model_copy(update={"file": self.files[source_id]})
        return found

    def absent(self, source_id: str) -> bool:
        return self.override(source_id).absent


class Step(_Card):
    """One asset of a demonstrator: a pure function of other assets."""

    function: str = Field(pattern=r"^[a-z_][a-z0-9_]*$", description="function of the demonstrator's module")
    inputs: dict[str, str] = Field(description="argument -> asset (a source asset such as staged_dpe, or another step)")
    description: str = Field(description="one line, shown in the Dagster UI")
    zoning: StepZoning | None = Field(
        default=None, description="set on the tables to publish, one per zoning; `territory` for whole-territory figures")
    kinds: list[str] = Field(default_factory=lambda: ["duckdb", "pandas"])


class Alternative(_Card):
    """Public sources that stand in for a source a territory does not have, and the
    indicators the demonstrator can still compute from them."""

    sources: list[str] = Field(min_length=1, description="ids of the public sources used instead")
    indicators: list[str] = Field(min_length=1, description="indicators computable from them")
    adds: str | None = Field(default=None, description="in French: what the missing source itself would add, "
                                                       "said on the page of a territory without it")


class Demonstrator(_Card):
    """A demonstrator: the sources it crosses and the indicators it publishes.

    Declared in `demonstrators/<id>/defs.yaml` (the `attributes:` of a
    `pipelines.components.Demonstrator` component), validated here.
    """

    id: str = Field(pattern=IDENTIFIER)
    title: str
    theme: Literal["energy", "mobility", "housing"]
    message: str = Field(description="the main message, one French sentence")
    module: str = Field(pattern=r"^[a-z_][a-z0-9_]*\.py$", description="Python file beside defs.yaml with the pure functions")
    purpose: Purpose = Field(default="public_statistics",
                             description="what it is for; every source's charter must allow it (one of "
                                         f"{', '.join(Purpose.__args__)}; default public_statistics, the narrowest)")
    sources: list[str]
    optional: dict[str, str] = Field(
        default_factory=dict, description="private or personal sources it can do without -> what they add (French)")
    draft: bool = Field(default=False, description="built and published, but not shown on the officials' site")
    alternatives: dict[str, Alternative] = Field(
        default_factory=dict, description="source -> public sources standing in for it when a territory lacks it")
    main_indicator: str
    indicators: list[str]
    headlines: list[str] = Field(default_factory=list, description="3 to 5 indicators shown in large type")
    protected: dict[str, Literal["households", "delivery_points", "business"]] = Field(
        default_factory=dict, description="count columns under a secrecy rule -> the rule")
    params: dict[str, Any] = Field(default_factory=dict)
    vocabulary: dict[str, list[str]] = Field(
        default_factory=dict, description="free-text column -> the texts it may hold (the lineage audit refuses others)")
    steps: dict[str, Step]
    summary: Step | None = Field(
        default=None, description="step returning headlines, crossing and territory values for the report")

    @model_validator(mode="after")
    def _one_table_per_zoning(self) -> "Demonstrator":
        zonings = [step.zoning for step in self.steps.values() if step.zoning not in (None, "territory")]
        if not zonings or len(zonings) != len(set(zonings)):
            raise ValueError("steps must publish at least one table, and at most one per zoning (field 'zoning')")
        if self.summary is not None and self.summary.zoning is not None:
            raise ValueError("the summary is not a table: remove its 'zoning'")
        if "summary" in self.steps:
            raise ValueError("'summary' is the name of the summary step: rename the step")
        return self

    def used_sources(self, territory: "Territory") -> list[str]:
        """The sources a territory's run of this demonstrator reads and credits: those it
        has, and the alternatives of those it lacks."""
        used = [s for s in self.sources if not territory.absent(s)]
        for missing, alternative in self.alternatives.items():
            if territory.absent(missing):
                used += [s for s in alternative.sources if not territory.absent(s) and s not in used]
        return used

    def available(self, registry: dict, territory: "Territory") -> list[str]:
        """The indicators a territory can compute: none needing a source it lacks, unless
        an alternative it has stands in for that source and lists the indicator."""
        def stands_in(source: str, indicator: str) -> bool:
            alternative = self.alternatives.get(source)
            return (alternative is not None and indicator in alternative.indicators
                    and any(not territory.absent(s) for s in alternative.sources))

        return [i for i in self.indicators
                if all(stands_in(s, i) for s in registry[i].sources if territory.absent(s))]

    def lacking(self, territory: "Territory") -> list[str]:
        """Sources the territory lacks that this demonstrator can neither do without nor replace."""
        replaced = {s for s, a in self.alternatives.items() if any(not territory.absent(x) for x in a.sources)}
        return sorted(s for s in self.sources if territory.absent(s) and s not in self.optional and s not in replaced)

    def published_steps(self) -> dict[str, str]:
        """Published zoning -> name of the step that computes its table."""
        return {step.zoning: name for name, step in self.steps.items() if step.zoning not in (None, "territory")}
