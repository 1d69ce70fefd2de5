"""The disclosure audit: everything about to be published, checked before it is.

:func:`audit_outputs` reads a folder of outputs (a demonstrator's tables with their
manifests, or the static site) and returns findings; an empty list means it may be
published. It checks, from the files alone:

- every table file (``.csv``, ``.parquet``, ``.gpkg``) has its ``<table>.manifest.json``,
  the manifest's thresholds are not below the law's, and its columns are all in the
  manifest's ``allowed_columns`` (plus the geometry column and a GeoPackage's ``fid``);
- every count column respects its threshold (a suppressed cell is empty: fine);
- the figures of ``demonstrator.json`` (beside the tables) that publish a count column
  for the whole territory, ``territory_values[<column>]`` and any ``headlines[]`` entry
  whose ``indicator`` is that column, respect its threshold, agree with each other, and
  are the published value of the territory total in the differencing below;
- differencing recovers no group: within one demonstrator, tables sharing a count column
  are one population; a child zoning adds up to its ``parent_zoning`` (via
  ``parent_id_column``), and the top zonings add up to the territory total (published by
  ``demonstrator.json``, or unknown when it is not and there are several top zonings).
  The attacker model is :mod:`pipelines.privacy.bounds`'s: a cell with an empty value and
  a reason (any non-empty text in ``secret_<column>``, or ``secret``; the text itself is
  never read, so one uniform code or detailed codes are audited alike) is
  hidden and exists, so holds at least 1 unit; an empty value without a reason is a zone
  without any unit, known to be 0 (in a table without a ``secret_<column>`` column every
  empty cell counts as hidden). Every suppressed cell must keep an attacker's interval at
  least one threshold wide, and a parent total minus all its published children must not
  isolate a group below the threshold. Child tables are assumed to list every populated
  child zone, as the anonymiser's output does; the audit then credits the attacker with
  exact knowledge of unlisted zones, which can only make it stricter. Zonings that do
  not nest (200 m grid cells against IRIS and communes) are differenced from the tables'
  own geometries (GeoParquet or GeoPackage; a grid's cells from their INSEE ids): every
  zone is the sum of its never-published pieces in the other zoning, a piece known only
  to be >= 0 (:mod:`pipelines.privacy.overlaps` states what is assumed of split cells).
  A piece the attacker confines to less than one threshold while it could hold 1 to
  ``threshold - 1`` units is a finding on the grid table, as is a hidden cell of either
  zoning; a grid tied this way to the zonings that tile the territory is not also
  counted as adding up to the territory total (its cells may stick out of it);
- no value anywhere looks like a direct identifier (:mod:`pipelines.privacy.identifiers`):
  in tables, GeoPackage and GeoParquet metadata, HTML pages with their embedded JSON
  (including Plotly's base64 arrays), scripts and file names; no coordinate column holds
  more distinct values than the table has zones (individual locations).

Findings name the file or table, the zone and the rule, never the protected value.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import importlib.util
import json
import re
import sqlite3
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines import config
from pipelines.privacy.bounds import (
    EXISTING,
    AttackerModel,
    InconsistentRelations,
    Relation,
    incidence_matrix,
    narrow_cells,
)
from pipelines.privacy.identifiers import LABELS, find_identifiers, line_of, numeric_identifiers, redact
from pipelines.privacy.overlaps import overlap_relations
from pipelines.privacy.rules import floor

TABLE_SUFFIXES = (".csv", ".parquet", ".gpkg")
# `outputs/<territory>/catalogue/` (`datacites catalogue`) describes the tables: its CSV is
# the SCDL list of datasets, not a table of figures. Still scanned for identifiers.
CATALOGUE_DIR = "catalogue"
MANIFEST_SUFFIX = ".manifest.json"
TEXT_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".json", ".geojson", ".txt", ".md", ".svg", ".xml",
                 ".css", ".yaml", ".yml", ".tsv", ".csv"}
COORDINATE_NAME = re.compile(r"^(x|y|lat|lon|lng|long|latitude|longitude)$|^(x|y|lat|lon)_|_(x|y|lat|lon|lng)$"
                             r"|coord", re.IGNORECASE)
COUNT_RULES = ("households", "delivery_points", "business")
DOCUMENT_NAME = "demonstrator.json"
REASON_PREFIX = "secret_"
TOTAL_ZONE = "total"
UNKNOWN_TOTAL = "@total"
_BDATA = re.compile(r'"dtype"\s*:\s*"(?P<dtype>[uif][1248])"\s*,\s*"bdata"\s*:\s*"(?P<data>[A-Za-z0-9+/=]*)"'
                    r'|"bdata"\s*:\s*"(?P<data2>[A-Za-z0-9+/=]*)"\s*,\s*"dtype"\s*:\s*"(?P<dtype2>[uif][1248])"')


@dataclass(frozen=True)
class Finding:
    """One problem: where (table or file, zone) and which rule; never the value."""

    table: str
    zone: str
    rule: str
    message: str

    def __post_init__(self) -> None:
        # Last line of defence: a zone id or a name that is itself an identifier is masked.
        for name in ("table", "zone", "message"):
            object.__setattr__(self, name, redact(str(getattr(self, name))))

    def __str__(self) -> str:
        return f"{self.table} | zone {self.zone or '-'} | {self.rule} | {self.message}"


@dataclass
class _Table:
    """A published table: its manifest and the frame read from each of its files."""

    name: str
    manifest: dict
    frames: dict[str, pd.DataFrame]
    implicit: dict[str, set[str]]
    folder: Path | None = None
    paths: dict[str, Path] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _Document:
    """A ``demonstrator.json``: its label (path under the audited folder) and content."""

    label: str
    content: dict


def audit_outputs(path: str | Path) -> list[Finding]:
    """Audit every file under `path`; an empty list means it may be published.

    Parameters
    ----------
    path : str or Path
        A folder of outputs (or a single file).

    Returns
    -------
    list of Finding
        Sorted by table, zone and rule.

    Raises
    ------
    FileNotFoundError
        When `path` does not exist.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"nothing to audit: {root} does not exist")
    files = sorted(p for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file())
    base = root.parent if root.is_file() else root
    findings: list[Finding] = []
    for file in files:
        findings += _name_findings(file, base)
    tables = _load_tables(files, base, findings)
    documents = _load_documents(files, base, findings)
    for table in tables:
        findings += _table_findings(table)
    findings += _differencing_findings(tables, documents)
    for file in files:
        if file.suffix.lower() in TEXT_SUFFIXES and not _is_vendored(file):
            findings += _text_findings(file, base)
    return sorted(set(findings), key=lambda f: (f.table, f.zone, f.rule, f.message))


def _rel(file: Path, base: Path) -> str:
    """The file's path relative to the audited folder, identifiers in it masked."""
    try:
        name = file.relative_to(base).as_posix()
    except ValueError:
        name = file.as_posix()
    return redact(name)


def _name_findings(file: Path, base: Path) -> list[Finding]:
    try:
        name = file.relative_to(base).as_posix()
    except ValueError:
        name = file.as_posix()
    return [Finding(redact(name), "", f"identifier:{kind}", f"the file name contains {LABELS[kind]} "
                    "(masked here); rename the file") for kind in sorted({k for k, _ in find_identifiers(name)})]


# --- reading tables -----------------------------------------------------------------


def _load_tables(files: list[Path], base: Path, findings: list[Finding]) -> list[_Table]:
    groups: dict[Path, list[Path]] = {}
    for file in files:
        if file.suffix.lower() in TABLE_SUFFIXES and file.parent.name != CATALOGUE_DIR:
            groups.setdefault(file.with_suffix(""), []).append(file)
    tables = []
    for stem, members in sorted(groups.items()):
        manifest_path = stem.with_name(stem.name + MANIFEST_SUFFIX)
        name = _rel(stem, base)
        manifest = _read_manifest(manifest_path, name, members, base, findings)
        if manifest is None:
            continue
        table = _Table(name, manifest, {}, {}, stem.parent)
        for file in members:
            _read_into(table, file, base, findings)
        tables.append(table)
    return tables


def _load_documents(files: list[Path], base: Path, findings: list[Finding]) -> dict[Path, _Document]:
    """Every ``demonstrator.json``, by folder (its figures are checked with the tables beside it)."""
    documents = {}
    for file in files:
        if file.name != DOCUMENT_NAME:
            continue
        label = _rel(file, base)
        try:
            content = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            findings.append(Finding(label, "", "unreadable", "is not valid JSON; the figures it publishes "
                                    "cannot be audited"))
            continue
        if isinstance(content, dict):
            documents[file.parent] = _Document(label, content)
    return documents


def _read_manifest(path: Path, name: str, members: list[Path], base: Path, findings: list) -> dict | None:
    if not path.exists():
        findings += [Finding(_rel(f, base), "", "manifest", f"table file without its manifest {path.name}; "
                             "every published table needs one (docs/architecture.md)") for f in members]
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        findings.append(Finding(name, "", "manifest", f"{path.name} is not valid JSON"))
        return None
    missing = [k for k in ("zone_id_column", "count_columns", "rule", "allowed_columns") if k not in manifest]
    if missing:
        findings.append(Finding(name, "", "manifest", f"{path.name} lacks {missing}"))
        return None
    return manifest


def _read_into(table: _Table, file: Path, base: Path, findings: list[Finding]) -> None:
    label = _rel(file, base)
    table.paths[label] = file
    try:
        if file.suffix.lower() == ".csv":
            table.frames[label], table.implicit[label] = _read_csv(file), set()
        elif file.suffix.lower() == ".parquet":
            table.frames[label], table.implicit[label] = _read_parquet(file, label, findings)
        else:
            table.frames[label], table.implicit[label] = _read_gpkg(file, label, findings)
    except Exception as error:  # an unreadable file cannot be vouched for
        findings.append(Finding(label, "", "unreadable", f"cannot be read ({type(error).__name__}); "
                                "a file the audit cannot read is not published"))


def _read_csv(file: Path) -> pd.DataFrame:
    # Everything as text: codes keep their zeros and nothing is guessed.
    return pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


def _read_parquet(file: Path, label: str, findings: list[Finding]) -> tuple[pd.DataFrame, set[str]]:
    import pyarrow.parquet as pq

    arrow = pq.read_table(file)
    metadata = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
                for k, v in (arrow.schema.metadata or {}).items()}
    implicit: set[str] = set()
    if "geo" in metadata:
        geo = json.loads(metadata["geo"])
        implicit |= set(geo.get("columns", {})) | {geo.get("primary_column", "geometry")}
    findings += _scan_text("\n".join(metadata.values()), label, "", "GeoParquet metadata")
    frame = arrow.drop_columns([c for c in implicit if c in arrow.column_names]).to_pandas()
    return frame, implicit


def _read_gpkg(file: Path, label: str, findings: list[Finding]) -> tuple[pd.DataFrame, set[str]]:
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as connection:
        names = [r[0] for r in connection.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type IN ('features', 'attributes') ORDER BY table_name")]
        geometry = {r[0] for r in connection.execute("SELECT column_name FROM gpkg_geometry_columns")}
        findings += _scan_sqlite(connection, label)
        frames = [pd.read_sql_query(f'SELECT * FROM "{n}"', connection) for n in names if '"' not in n]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    implicit = geometry | {"fid"}
    return frame.drop(columns=[c for c in implicit if c in frame.columns]), implicit


def _scan_sqlite(connection: sqlite3.Connection, label: str) -> list[Finding]:
    """Identifiers in every text or integer value of a GeoPackage, metadata tables included."""
    findings = []
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in tables:
        if name.startswith(("rtree_", "sqlite_")) or '"' in name:
            continue  # spatial index boxes and SQLite's own bookkeeping: numbers only
        rows = connection.execute(f'SELECT * FROM "{name}"').fetchall()
        texts = [v for row in rows for v in row if isinstance(v, str)]
        numbers = [v for row in rows for v in row if isinstance(v, (int, float)) and not isinstance(v, bool)]
        where = "GeoPackage metadata" if name.startswith("gpkg_") else f"layer '{name}'"
        findings += _scan_text("\n".join(texts), label, "", where)
        findings += [Finding(label, "", f"identifier:{k}", f"{where} holds {LABELS[k]} as a number")
                     for k in sorted(numeric_identifiers(numbers))]
    return findings


# --- per-table checks ---------------------------------------------------------------


def _count_columns(manifest: dict) -> list[tuple[str, str]]:
    """``(column, rule kind)`` pairs; manifests may map column -> kind or kind -> column."""
    pairs = []
    for key, value in (manifest.get("count_columns") or {}).items():
        pairs.append((key, value) if value in COUNT_RULES else (value, key))
    return pairs


def _table_findings(table: _Table) -> list[Finding]:
    findings = _rule_findings(table)
    for label, frame in table.frames.items():
        findings += _column_findings(table, label, frame)
        findings += _threshold_findings(table, label, frame)
        findings += _coordinate_findings(table, label, frame)
        if not label.endswith(".csv"):  # CSV files are scanned as text, with line numbers
            findings += _frame_identifier_findings(label, frame)
    return findings


def _rule_findings(table: _Table) -> list[Finding]:
    findings = []
    rules = table.manifest.get("rule") or {}
    for column, kind in _count_columns(table.manifest):
        if kind not in COUNT_RULES:
            findings.append(Finding(table.name, "", "manifest", f"count column '{column}' has an unknown rule '{kind}'"))
        elif kind not in rules:
            findings.append(Finding(table.name, "", "manifest", f"no threshold for rule '{kind}' of column '{column}'"))
        elif float(rules[kind]) < floor(kind):
            findings.append(Finding(table.name, "", "threshold_lowered",
                                    f"rule '{kind}' is set below the legal floor of {floor(kind)}"))
    return findings


def _column_findings(table: _Table, label: str, frame: pd.DataFrame) -> list[Finding]:
    allowed = set(table.manifest.get("allowed_columns") or []) | table.implicit.get(label, set())
    return [Finding(label, "", "allowed_columns", f"column '{c}' is not in the manifest's allowed_columns")
            for c in frame.columns if c not in allowed]


def _zone_ids(table: _Table, frame: pd.DataFrame) -> pd.Series:
    column = table.manifest["zone_id_column"]
    if column in frame.columns:
        return frame[column].astype("str")
    return pd.Series([f"row {i + 1}" for i in range(len(frame))], index=frame.index)


def _threshold(table: _Table, kind: str) -> float:
    rules = table.manifest.get("rule") or {}
    return max(float(rules.get(kind, 0) or 0), float(floor(kind)))


def _threshold_findings(table: _Table, label: str, frame: pd.DataFrame) -> list[Finding]:
    findings = []
    zones = _zone_ids(table, frame)
    for column, kind in _count_columns(table.manifest):
        if kind not in COUNT_RULES:
            continue
        if column not in frame.columns:
            findings.append(Finding(label, "", "manifest", f"count column '{column}' named by the manifest is absent"))
            continue
        threshold = _threshold(table, kind)
        values = pd.to_numeric(frame[column], errors="coerce")
        for zone in zones[values.notna() & (values < threshold)]:
            findings.append(Finding(label, zone, "threshold", f"'{column}' is published below the {kind} "
                                    f"threshold ({threshold:g}) in zone {zone}; suppress the cell"))
    return findings


def _coordinate_findings(table: _Table, label: str, frame: pd.DataFrame) -> list[Finding]:
    findings = []
    zones = _zone_ids(table, frame).nunique()
    for column in frame.columns:
        if not COORDINATE_NAME.search(str(column)):
            continue
        values = pd.to_numeric(frame[column], errors="coerce").dropna()
        if values.nunique() > zones:
            findings.append(Finding(label, "", "coordinates", f"column '{column}' holds more distinct "
                                        f"coordinates ({values.nunique()}) than the table has zones ({zones}): "
                                        "individual locations"))
    return findings


def _frame_identifier_findings(label: str, frame: pd.DataFrame) -> list[Finding]:
    findings = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            kinds = numeric_identifiers(pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64",
                                                                                         na_value=np.nan))
            findings += [Finding(label, "", f"identifier:{k}", f"column '{column}' holds {LABELS[k]}") for k in kinds]
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            text = "\n".join(str(v) for v in series.dropna().unique() if not isinstance(v, (bytes, bytearray)))
            kinds = {k for k, _ in find_identifiers(text)}
            findings += [Finding(label, "", f"identifier:{k}", f"column '{column}' holds {LABELS[k]}") for k in kinds]
    return findings


# --- differencing between zonings and levels ------------------------------------------


def _published_counts(table: _Table, column: str) -> pd.Series | None:
    """The values of `column` per zone, merged over the table's files.

    NA marks a hidden cell (an empty value with a reason, or any empty value when the
    table has no reason column); an empty value without a reason is a zone without any
    unit, returned as 0 (what the attacker knows of it). Only whether a reason is given
    is read, never its text.
    """
    merged, hidden = None, set()
    for frame in table.frames.values():
        if column not in frame.columns or table.manifest["zone_id_column"] not in frame.columns:
            continue
        zones = _zone_ids(table, frame).to_numpy()
        values = pd.Series(pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64"), index=zones)
        reason_column = _reason_column(frame, column)
        given = (np.ones(len(frame), dtype=bool) if reason_column is None
                 else frame[reason_column].fillna("").astype("str").str.strip().ne("").to_numpy())
        hidden |= set(zones[values.isna().to_numpy() & given])
        values = values[~values.index.duplicated()]
        # A value shown in any one of the formats is published.
        merged = values if merged is None else merged.combine_first(values)
    if merged is None:
        return None
    # Empty in every file, and without a reason in all of them: a zone without any unit.
    known_empty = merged.isna().to_numpy() & ~merged.index.isin(list(hidden))
    return merged.mask(known_empty, 0.0)


def _reason_column(frame: pd.DataFrame, column: str) -> str | None:
    """The column giving why a cell of `column` is hidden (``secret_<column>``), if any."""
    for name in (f"{REASON_PREFIX}{column}", "secret"):
        if name in frame.columns:
            return name
    return None


def _format_findings(table: _Table, column: str) -> list[Finding]:
    shown = []
    for frame in table.frames.values():
        if column in frame.columns and table.manifest["zone_id_column"] in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            flags = pd.Series(values.notna().to_numpy(), index=_zone_ids(table, frame).to_numpy())
            shown.append(flags[~flags.index.duplicated()])
    findings = []
    for other in shown[1:]:
        both = shown[0].index.intersection(other.index)
        differ = both[shown[0].reindex(both).to_numpy() != other.reindex(both).to_numpy()]
        findings += [Finding(table.name, str(z), "formats_disagree", f"'{column}' is suppressed in one file "
                             "of the table and published in another") for z in differ]
    return findings


def _differencing_findings(tables: list[_Table],
                           documents: dict[Path, _Document] | None = None) -> list[Finding]:
    populations: dict[tuple, list[tuple[_Table, str]]] = {}
    for table in tables:
        demo = table.manifest.get("demonstrator") or str(Path(table.name).parent)
        for column, kind in _count_columns(table.manifest):
            if kind in COUNT_RULES:
                populations.setdefault((demo, column, kind), []).append((table, column))
    findings = []
    for (_demo, column, kind), members in sorted(populations.items(), key=lambda item: item[0]):
        for table, _ in members:
            findings += _format_findings(table, column)
        threshold = max(_threshold(t, kind) for t, _ in members)
        member_tables = [t for t, _ in members]
        total, total_findings = _published_total(member_tables, documents or {}, column, kind, threshold)
        findings += total_findings
        findings += _population_findings(member_tables, column, kind, threshold, total)
    return findings


def _published_total(tables: list[_Table], documents: dict[Path, _Document], column: str, kind: str,
                     threshold: float) -> tuple[tuple[str, float] | None, list[Finding]]:
    """The territory total of `column` published by the ``demonstrator.json`` beside the tables.

    Returns ``(label, value)`` of the first figure (None when none is published) and the
    findings on the figures: below the threshold, not a number, or disagreeing.
    """
    figures, findings = [], []
    for folder in sorted({t.folder for t in tables if t.folder is not None}):
        document = documents.get(folder)
        if document is None:
            continue
        for field, raw in _document_figures(document.content, column):
            if raw is None or isinstance(raw, bool):
                continue
            try:
                value = float(raw)
            except (TypeError, ValueError):
                findings.append(Finding(document.label, TOTAL_ZONE, "unreadable", f"'{field}' is not a number; "
                                        "a figure the audit cannot read is not published"))
                continue
            if np.isnan(value):
                continue
            if value < threshold:
                findings.append(Finding(document.label, TOTAL_ZONE, "threshold", f"'{column}' is published for "
                                        f"the whole territory ({field}) below the {kind} threshold "
                                        f"({threshold:g}); do not publish it"))
            figures.append((document.label, field, value))
    if not figures:
        return None, findings
    label, first_field, first = figures[0]
    for other_label, field, value in figures[1:]:
        if abs(value - first) > 1e-6 * max(1.0, abs(first)):
            findings.append(Finding(other_label, TOTAL_ZONE, "inconsistent_totals", f"'{field}' and "
                                    f"'{first_field}' of {label} publish different territory totals of "
                                    f"'{column}'; differencing cannot be audited"))
    return (label, first), findings


def _document_figures(content: dict, column: str) -> list[tuple[str, object]]:
    """``(field, value)`` of every figure of `column` for the whole territory in a document."""
    figures = []
    values = content.get("territory_values")
    if isinstance(values, dict) and column in values:
        figures.append((f"territory_values.{column}", values[column]))
    for i, headline in enumerate(content.get("headlines") or []):
        if isinstance(headline, dict) and headline.get("indicator") == column and "value" in headline:
            figures.append((f"headlines[{i}]", headline["value"]))
    return figures


@dataclass
class _System:
    """What an attacker writes down for one population: cells (table|zone, pieces), their
    published values (NaN = unknown), who owns each, the relations, and which are pieces."""

    values: pd.Series
    owners: dict[str, tuple[str, str]]
    relations: list[Relation]
    pieces: dict[str, str] = dataclasses.field(default_factory=dict)   # piece -> where it lies, for messages
    findings: list[Finding] = dataclasses.field(default_factory=list)


def _population_findings(tables: list[_Table], column: str, kind: str, threshold: float,
                         total: tuple[str, float] | None = None) -> list[Finding]:
    system = _population_relations(tables, column, total)
    if system is None:
        return []
    findings, kept = list(system.findings), []
    for relation in system.relations:
        members = [relation.total, *relation.parts]
        if system.values[members].notna().all():
            findings += _residual_findings(relation, system.values, system.owners, column, kind, threshold)
        else:
            kept.append(relation)
    if not kept:
        return findings   # a hidden cell in no relation is bounded by nothing
    return findings + _bounds_findings(system, kept, column, kind, threshold)


def _population_relations(tables: list[_Table], column: str, total: tuple[str, float] | None = None
                          ) -> _System | None:
    """Cells (table|zone), their published values (NaN = hidden) and additivity relations.

    With a published `total` (``(label, value)`` from ``demonstrator.json``), every top
    zoning adds up to it, even a single one; without, several top zonings add up to one
    unknown total (``@total``). Zonings that do not nest are tied by their pieces
    (:func:`_overlap_system`); a grid tied so to a zoning that tiles the territory is not a
    top zoning.
    """
    series, owners = [], {}
    by_zoning = {t.manifest.get("zoning"): t for t in tables}
    counted = []
    for table in tables:
        counts = _published_counts(table, column)
        if counts is None:
            continue
        counted.append(table)
        ids = [f"{table.name}|{z}" for z in counts.index]
        owners.update({i: (table.name, str(z)) for i, z in zip(ids, counts.index, strict=False)})
        series.append(pd.Series(counts.to_numpy(), index=ids))
    if not series:
        return None
    system = _System(pd.concat(series), owners, [])
    values = system.values
    roots = []
    for table in tables:
        parent = by_zoning.get(table.manifest.get("parent_zoning"))
        if parent is None or parent is table:
            roots.append(table)
            continue
        system.relations += _parent_relations(table, parent, values)
    tied = _overlap_system(system, counted, by_zoning)
    roots = [r for r in roots if r.name not in tied]
    values = system.values
    if total is not None or len(roots) > 1:
        # Top zonings add up to the territory total: published (a territory value of the
        # demonstrator), or else an unknown cell that still ties them (commune totals
        # against grid totals).
        if total is not None:
            label, value = total
            total_id = f"{label}|{TOTAL_ZONE}"
            values[total_id] = value
            system.owners[total_id] = (label, TOTAL_ZONE)
        else:
            total_id = UNKNOWN_TOTAL
            values[total_id] = np.nan
            system.owners[total_id] = ("", "")
        for root in roots:
            parts = tuple(i for i in values.index if system.owners[i][0] == root.name and i not in system.pieces)
            if parts:
                system.relations.append(Relation(total_id, parts))
    return system


def _ancestors(table: _Table, by_zoning: dict) -> set:
    """Zonings `table` nests in, through ``parent_zoning`` (IRIS: commune)."""
    seen, zoning = set(), table.manifest.get("parent_zoning")
    while zoning is not None and zoning not in seen and zoning in by_zoning:
        seen.add(zoning)
        zoning = by_zoning[zoning].manifest.get("parent_zoning")
    return seen


def _tiles(table: _Table) -> bool:
    """Whether the zoning covers the territory and counts only its units (not a grid)."""
    declared = table.manifest.get("tiles_territory")
    return bool(declared) if declared is not None else table.manifest.get("zoning") != "grid"


def _within(table: _Table) -> bool:
    """Whether the table counts the territory's units only (a grid's whole-cell counts do not)."""
    declared = table.manifest.get("counts_within_territory")
    return bool(declared) if declared is not None else _tiles(table)


def _overlap_system(system: _System, tables: list[_Table], by_zoning: dict) -> set[str]:
    """Add the relations between every two zonings that do not nest; return the names of
    the tables tied so to a zoning that tiles the territory (no longer top zonings)."""
    tied: set[str] = set()
    geometries: dict[str, gpd.GeoSeries | None] = {}
    for i, first in enumerate(tables):
        for second in tables[i + 1:]:
            if (first.manifest.get("zoning") in _ancestors(second, by_zoning)
                    or second.manifest.get("zoning") in _ancestors(first, by_zoning)):
                continue   # nested: tied by their parent ids
            shapes = []
            for table in (first, second):
                if table.name not in geometries:
                    geometries[table.name] = _zone_geometries(table, system.values.index)
                shapes.append(geometries[table.name])
            if any(s is None for s in shapes):
                lacking = next(t for t, s in zip((first, second), shapes, strict=True) if s is None)
                system.findings.append(Finding(lacking.name, "", "zoning_geometry", "publishes a count also "
                                               f"published by {(second if lacking is first else first).name}, "
                                               "a zoning it does not nest in, without the geometry of its "
                                               "zones (GeoParquet or GeoPackage); differencing between them "
                                               "cannot be audited"))
                continue
            try:
                overlap = overlap_relations(shapes[0], shapes[1], first_tiles=_tiles(first),
                                            second_tiles=_tiles(second), first_within=_within(first),
                                            second_within=_within(second), first_name=first.name,
                                            second_name=second.name)
            except ValueError as error:
                system.findings.append(Finding(first.name, "", "zoning_geometry", f"overlaps with {second.name} "
                                               f"cannot be computed ({error}); differencing cannot be audited"))
                continue
            _add_pieces(system, overlap, first, second)
            system.relations += overlap.relations
            if overlap.relations:
                tied |= {a.name for a, b in ((first, second), (second, first)) if not _tiles(a) and _tiles(b)}
    return tied


def _add_pieces(system: _System, overlap, first: _Table, second: _Table) -> None:
    """Pieces as unknown cells, owned by the zone of the grid (the zoning that does not tile)."""
    pieces = {}
    for piece, (a, b) in overlap.pieces.items():
        zone_a = system.owners[a][1] if a else None
        zone_b = system.owners[b][1] if b else None
        if a is None:
            system.owners[piece] = (second.name, zone_b)
            system.pieces[piece] = f"outside the zones of {first.name}"
        elif b is None:
            system.owners[piece] = (first.name, zone_a)
            system.pieces[piece] = f"outside the zones of {second.name}"
        elif _tiles(first) and not _tiles(second):
            system.owners[piece] = (second.name, zone_b)
            system.pieces[piece] = f"within zone {zone_a} of {first.name}"
        else:
            system.owners[piece] = (first.name, zone_a)
            system.pieces[piece] = f"within zone {zone_b} of {second.name}"
        pieces[piece] = np.nan
    system.values = pd.concat([system.values, pd.Series(pieces, dtype="float64")])


def _zone_geometries(table: _Table, cells: pd.Index) -> gpd.GeoSeries | None:
    """The table's zones as polygons indexed by cell id (``table|zone``), from its
    GeoParquet or GeoPackage; for a grid without either, the squares its INSEE ids name."""
    zone_column = table.manifest["zone_id_column"]
    for path in sorted(table.paths.values(), key=lambda path: path.suffix.lower() != ".parquet"):
        suffix = path.suffix.lower()
        if suffix not in (".parquet", ".gpkg"):
            continue
        try:
            frame = gpd.read_parquet(path) if suffix == ".parquet" else gpd.read_file(path)
        except Exception:  # unreadable, or no geometry: reported by the reader, try the other file
            continue
        if zone_column not in frame.columns or frame.geometry.isna().all():
            continue
        ids = f"{table.name}|" + frame[zone_column].astype("str")
        shapes = gpd.GeoSeries(frame.geometry.to_numpy(), index=ids.to_numpy(), crs=frame.crs)
        return shapes[~shapes.index.duplicated()].loc[lambda s: s.index.isin(cells)]
    ids = next((f[zone_column] for f in table.frames.values() if zone_column in f.columns), None)
    if ids is None:
        return None
    try:
        from pipelines.spatial.grid import cell_polygons

        shapes = cell_polygons(ids.astype("str").reset_index(drop=True))
    except ValueError:   # not INSEE cell ids
        return None
    shapes.index = f"{table.name}|" + ids.astype("str").to_numpy()
    return shapes[~shapes.index.duplicated()].loc[lambda s: s.index.isin(cells)]


def _parent_relations(child: _Table, parent: _Table, values: pd.Series) -> list[Relation]:
    link = child.manifest.get("parent_id_column")
    frame = next((f for f in child.frames.values() if link in f.columns), None)
    if frame is None:
        return []
    pairs = pd.DataFrame({"zone": _zone_ids(child, frame).to_numpy(), "parent": frame[link].astype("str").to_numpy()})
    relations = []
    for parent_zone, group in pairs.drop_duplicates("zone").groupby("parent", sort=True):
        total = f"{parent.name}|{parent_zone}"
        if total in values.index:
            relations.append(Relation(total, tuple(f"{child.name}|{z}" for z in group["zone"])))
    return relations


def _residual_findings(relation, values, owners, column, kind, threshold) -> list[Finding]:
    residual = values[relation.total] - values[list(relation.parts)].sum()
    table, zone = owners[relation.total]
    tolerance = 1e-6 * max(1.0, abs(values[relation.total]))
    if residual < -tolerance:
        return [Finding(table, zone, "inconsistent_totals", f"'{column}' of zone {zone} is smaller than the sum "
                        "of its published children; differencing cannot be audited")]
    if tolerance < residual < threshold:
        return [Finding(table, zone, "differencing", f"'{column}' of zone {zone} minus its published children "
                        f"isolates a group below the {kind} threshold ({threshold:g}); suppress cells so "
                        "that the difference cannot be computed")]
    return []


def _bounds_findings(system: _System, relations, column, kind, threshold) -> list[Finding]:
    values, owners = system.values, system.owners
    cells = values.index
    matrix = incidence_matrix(cells, relations)
    unknown = values.isna().to_numpy()
    known = values.dropna()
    integral = bool(np.allclose(known, known.round())) if len(known) else True
    piece = cells.isin(list(system.pieces))
    # A listed hidden cell exists: at least 1 unit. A piece may hold nobody: >= 0. The
    # unknown total's existence is not in question, but its parts already bound it.
    lower = np.where(unknown & (cells != UNKNOWN_TOTAL) & ~piece, EXISTING, 0.0)
    model = AttackerModel(matrix, values.to_numpy(dtype="float64"), unknown, integral=integral, lower=lower)
    if model.bad_rows:
        table, zone = owners[relations[model.bad_rows[0]].total]
        return [_inconsistent_finding(table, zone, column)]
    targets = np.flatnonzero(unknown & (cells != UNKNOWN_TOTAL))
    try:
        narrow = narrow_cells(model, targets, np.full(len(targets), float(threshold)))
        findings = []
        for j in targets[narrow]:
            if not piece[j]:
                findings.append(_hidden_finding(cells[j], owners, column, kind, threshold))
            elif _small_piece(model, j, threshold):
                findings.append(_piece_finding(cells[j], system, column, kind, threshold))
    except InconsistentRelations:
        table, zone = owners[relations[0].total]
        return [_inconsistent_finding(table, zone, column)]
    return findings


def _small_piece(model: AttackerModel, j: int, threshold: float) -> bool:
    """Whether a piece confined to less than one threshold may hold 1 to threshold - 1
    units (one known to be empty, or to hold at least the threshold, exposes nobody)."""
    low, high = model.bounds(j)
    return high > (0.5 if model.integral else 1e-9) and low < threshold


def _piece_finding(piece: str, system: _System, column: str, kind: str, threshold: float) -> Finding:
    table, zone = system.owners[piece]
    return Finding(table, zone, "differencing", f"the part of zone {zone} {system.pieces[piece]} can be "
                   f"confined to less than the {kind} threshold ({threshold:g}) of '{column}' from the published "
                   "zonings that overlap it, while it may hold a small group; hide complementary cells of "
                   "either zoning (secondary suppression across zonings)")


def _inconsistent_finding(table: str, zone: str, column: str) -> Finding:
    return Finding(table, zone, "inconsistent_totals", f"'{column}' does not add up between zonings and the "
                   "territory total, knowing that every listed hidden cell holds at least one unit (published "
                   "children exceed a total, or leave less than one unit per hidden cell); differencing "
                   "cannot be audited")


def _hidden_finding(cell: str, owners, column: str, kind: str, threshold: float) -> Finding:
    table, zone = owners[cell]
    return Finding(table, zone, "differencing", f"the suppressed '{column}' of zone {zone} can be recomputed "
                   f"to within less than the {kind} threshold ({threshold:g}) from published totals of other "
                   "zonings or levels; hide complementary cells (secondary suppression)")


# --- pages, scripts, data files -------------------------------------------------------


def _text_findings(file: Path, base: Path) -> list[Finding]:
    label = _rel(file, base)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [Finding(label, "", "unreadable", "is not UTF-8 text; it cannot be audited")]
    plotly_js = _vendored_plotly()
    if plotly_js and len(text) > len(plotly_js[1]) and plotly_js[1] in text:
        text = text.replace(plotly_js[1], "")   # Plotly's library inlined in a page: no data
    what = "table" if file.suffix.lower() in (".csv", ".tsv") else "text"
    findings = _scan_text(text, label, what, "")
    findings += _bdata_findings(text, label)
    return findings


def _scan_text(text: str, label: str, what: str, where: str) -> list[Finding]:
    seen: dict[str, int] = {}
    for kind, offset in find_identifiers(text):
        seen.setdefault(kind, line_of(text, offset))
    place = where or ("line {line}" if what != "table" else "row {row}")
    return [Finding(label, "", f"identifier:{kind}",
                    f"{place.format(line=line, row=line - 1)} holds {LABELS[kind]}"
                    + ("" if what == "table" or where else " (page text, script or embedded data)"))
            for kind, line in seen.items()]


def _bdata_findings(text: str, label: str) -> list[Finding]:
    """Numbers hidden in Plotly's base64 typed arrays (``{"dtype": "f8", "bdata": ...}``)."""
    kinds: dict[str, int] = {}
    for match in _BDATA.finditer(text):
        dtype = match.group("dtype") or match.group("dtype2")
        data = match.group("data") or match.group("data2") or ""
        try:
            array = np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype).newbyteorder("<"))
        except (ValueError, TypeError):
            continue
        for kind in numeric_identifiers(array.astype("float64")):
            kinds.setdefault(kind, line_of(text, match.start()))
    return [Finding(label, "", f"identifier:{k}", f"line {line} holds {LABELS[k]} in a chart's encoded data")
            for k, line in kinds.items()]


@lru_cache(maxsize=1)
def _vendored_plotly() -> tuple[str, str] | None:
    """(sha256, text) of the plotly.js bundle shipped by the pinned plotly package."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "package_data" / "plotly.min.js"
    if not path.exists():
        return None
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), data.decode("utf-8")


def _is_vendored(file: Path) -> bool:
    # Third-party code shipped by a pinned package holds no data of ours; matched by exact
    # content, so an edited copy is scanned like any other file.
    vendored = _vendored_plotly()
    if vendored is None or file.stat().st_size != len(vendored[1].encode("utf-8")):
        return False
    return hashlib.sha256(file.read_bytes()).hexdigest() == vendored[0]


# --- command line -----------------------------------------------------------------------


def audit_parts(path: Path) -> list[Path]:
    """What to audit apart: the outputs of several territories (outputs/) are audited
    territory by territory (differencing across territories means nothing), with the
    files at the top (the index of territories) on their own; any other folder whole."""
    tables = [any(path.glob(pattern)) for pattern in ("*.manifest.json", "*/*.manifest.json", "*/*/*.manifest.json")]
    if path.is_dir() and tables == [False, False, True]:
        return sorted(p for p in path.iterdir() if not p.name.startswith("."))
    return [path]


def main_audit(argv: list[str] | None = None) -> int:
    """``datacites audit [PATH]``: print findings, exit 1 on any, 0 when clean.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``audit``; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 when nothing was found, 1 on findings, 2 when the folder does not exist.
    """
    parser = argparse.ArgumentParser(prog="datacites audit", description="Disclosure audit of a folder of outputs.")
    parser.add_argument("path", nargs="?", default=None, help=f"folder to audit (default: {config.OUTPUTS_DIR})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path = Path(args.path) if args.path else Path(config.OUTPUTS_DIR)
    try:
        findings = [f for part in audit_parts(path) for f in audit_outputs(part)]
    except FileNotFoundError as error:
        print(f"datacites audit: {error}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    files = sum(1 for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    if findings:
        print(f"{len(findings)} finding(s) in {path} ({files} files audited): nothing here may be published.")
        return 1
    print(f"audit passed: {files} files in {path}, no finding.")
    return 0
