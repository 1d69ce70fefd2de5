"""What to protect, derived from lineage instead of taken from the demonstrator's word.

Before a release is written, the framework replays the demonstrator's steps that read
a protected input (the anonymiser's or the business suppressor's aggregates), in
process, on the stored inputs:

1. once as they are, recording every protected statistic
   (:mod:`pipelines.privacy.statistics`) the steps compute;
2. once per protected source with every value of its aggregates perturbed: the columns
   of the published tables and the figures of the summary that change have that source
   in their lineage. Each such column must carry a protection record, and each such
   figure must belong to an indicator that does;
3. once with only the *hidden* cells of every protected source perturbed: nothing that
   is published may change. A figure that moves reads a value the suppression hid.

Free-text columns must take their values from the demonstrator's declared
``vocabulary`` or from a text column of its public inputs. The protection records give
the manifests their count columns and units (``bundle.write_bundle``).

Perturbation finds the dependencies the replayed inputs exercise: a figure that depends
on a protected value only beyond a threshold that no perturbation crosses is missed. The
perturbations multiply values by 1.2 to 2 (counts gain 3 to 30 units), which crosses
the usual ratio thresholds of a demonstrator's parameters.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.catalogue import Demonstrator, SourceCard
from pipelines.catalogue.context import StepContext, lacks_zoning
from pipelines.components.guard import no_file_access
from pipelines.errors import PrivacyError
from pipelines.privacy.statistics import SOURCE_ATTR, ProtectionRecord, recording

SEED = 20_261_208
RTOL = 1e-9
TEXT_SEPARATOR = " ; "  # a `statut` may join several reasons
NUMBER = "{n}"  # in a vocabulary text: any whole number (a count of sales, a threshold)


@dataclass
class Lineage:
    """What the replays found for one demonstrator and territory."""

    records: dict[str, ProtectionRecord] = field(default_factory=dict)
    # published table (zoning) -> column -> ids of the protected sources in its lineage
    columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # figure of demonstrator.json (path) -> (its indicator, ids of the protected sources in its lineage)
    figures: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    # published table (zoning) -> protected count column -> its unit (set by the release)
    counts: dict[str, dict[str, str]] = field(default_factory=dict)

    def count_columns(self, zoning: str, cards: Mapping[str, SourceCard], declared: Mapping[str, str]) -> dict[str, str]:
        """Protected counts of a table with their unit: the demonstrator's declaration
        when it gives one, else the first secrecy rule of the source they come from."""
        counts = {}
        for column, sources in self.columns.get(zoning, {}).items():
            record = self.records.get(column)
            if record is not None and record.statistic == "count":
                counts[column] = declared.get(column) or cards[sources[0]].aggregation.rules[0].kind
        return dict(sorted(counts.items()))


def _ordered_steps(demo: Demonstrator) -> list[tuple[str, object]]:
    return list(demo.steps.items()) + ([("summary", demo.summary)] if demo.summary else [])


def replay(demo: Demonstrator, functions: Mapping[str, Callable], frames: Mapping[str, object], ctx: StepContext,
           overrides: Mapping[str, object]) -> dict[str, object]:
    """Rerun, in order, every step that reads an overridden input or a rerun step.

    Steps run under the same file guard as in a run; a skipped zoning gives an empty frame.
    """
    values = {**frames, **overrides}
    rerun: dict[str, object] = {}
    for name, step in _ordered_steps(demo):
        if not any(ref in overrides or ref in rerun for ref in step.inputs.values()):
            continue
        if lacks_zoning(ctx.territory, step.zoning):
            result = gpd.GeoDataFrame()
        else:
            args = {arg: rerun.get(ref, values[ref]) for arg, ref in step.inputs.items()}
            with no_file_access(f"demonstrators/{demo.id}/{Path(inspect.getsourcefile(functions[name]) or '?').name}"):
                result = functions[name](**args, ctx=ctx)
        rerun[name] = result
    return rerun


def perturbed(frame: pd.DataFrame, rng: np.random.Generator, *, hidden_only: bool) -> pd.DataFrame:
    """A copy of protected aggregates with their numbers changed: counts gain 3 to 30
    units, shares shrink, other values grow. With `hidden_only`, only the hidden cells
    change, and the values the anonymiser blanked there are filled in: code that reads a
    hidden cell then publishes something that moves."""
    out = frame.copy()
    rows = np.ones(len(out), dtype=bool)
    secret = out["secret"] if "secret" in out else pd.Series("", index=out.index)
    hidden = (secret.notna() & secret.astype("str").ne("")).to_numpy()
    if hidden_only:
        rows = hidden
    if "secret" in out and hidden.any():
        # The reasons themselves are protected (they narrow what a hidden cell holds):
        # published code may tell hidden from shown, never one reason from another.
        tokens = np.array([f"reason-{i}" for i in rng.integers(0, 1_000_000, len(out))], dtype=object)
        out["secret"] = pd.Series(np.where(hidden, tokens, secret.astype("object")), index=out.index).where(
            secret.notna(), None)
    for column in out.columns:
        series = out[column]
        if column in ("zoning", "zone_id", "parent_id", "secret") or not pd.api.types.is_numeric_dtype(series):
            continue
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[np.isfinite(values)]
        if column == "units" or (len(finite) and np.all(finite == np.round(finite)) and np.all(finite >= 0)):
            blank, change = 0.0, lambda v: v + rng.integers(3, 31, len(v))  # counts
        elif len(finite) and finite.min() >= 0 and finite.max() <= 1:
            blank, change = 0.5, lambda v: v * rng.uniform(0.5, 0.9, len(v))  # shares
        else:
            blank, change = 10.0, lambda v: v * rng.uniform(1.2, 2.0, len(v)) + rng.uniform(0.5, 3.0, len(v))
        start = np.where(np.isnan(values), blank, values) if hidden_only else values
        out[column] = np.where(rows, change(start), values)
    return out


def _cells_differ(a: pd.Series, b: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        x, y = a.to_numpy("float64", na_value=np.nan), b.to_numpy("float64", na_value=np.nan)
        same = (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=RTOL, atol=0.0, equal_nan=True)
        return ~same
    x, y = a.astype("object").where(a.notna(), None), b.astype("object").where(b.notna(), None)
    return np.array([u != v for u, v in zip(x, y, strict=True)], dtype=bool)


def changed_cells(base: pd.DataFrame, other: pd.DataFrame, columns: list[str]) -> dict[str, np.ndarray]:
    """Per column, which rows differ (every row when the two tables are not alike)."""
    out = {}
    for column in columns:
        if column == "geometry" or column not in base:
            continue
        if column not in other or len(base) != len(other):
            out[column] = np.ones(len(base), dtype=bool)
        else:
            out[column] = _cells_differ(base[column].reset_index(drop=True), other[column].reset_index(drop=True))
    return out


def leaves(value, path=()) -> dict[tuple, object]:
    """Every number and text of a JSON-like summary, by its path."""
    if isinstance(value, Mapping):
        return {k: v for key, item in value.items() for k, v in leaves(item, (*path, key)).items()}
    if isinstance(value, (list, tuple)):
        return {k: v for i, item in enumerate(value) for k, v in leaves(item, (*path, i)).items()}
    return {path: value}


def _leaf_differs(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return not (np.isnan(a) and np.isnan(b)) and not np.isclose(a, b, rtol=RTOL, atol=0.0)
    return a != b


def changed_leaves(base: dict, other: dict) -> list[tuple]:
    left, right = leaves(base), leaves(other)
    return [path for path in left if path not in right or _leaf_differs(left[path], right[path])]


def published_summary(summary: Mapping | None, shown: set[str]) -> dict:
    """The parts of a summary that reach `demonstrator.json` (see `bundle.demonstrator_document`)."""
    summary = summary or {}
    return {"headlines": [h for h in summary.get("headlines", []) if h.get("indicator") in shown],
            "territory_values": {k: v for k, v in summary.get("territory_values", {}).items() if k in shown},
            "crossing": [c for c in summary.get("crossing", []) if c.get("indicator") in shown]}


def indicator_of(summary: dict, path: tuple) -> str | None:
    """The indicators a figure of the summary belongs to: its entry's `indicator`, and
    the protected columns its entry says it is computed from (`based_on`), joined by "+"."""
    if path[0] == "territory_values":
        return str(path[1])
    entry = summary[path[0]][path[1]]
    return "+".join([str(entry.get("indicator") or ""), *map(str, entry.get("based_on") or [])])


def _figure_protected(lineage: Lineage, indicator: str, sources: set[str]) -> bool:
    """A figure is covered when its indicator carries a protection record, or when every
    protected source of its lineage is in the lineage of a protected column it names."""
    own, *based_on = indicator.split("+")
    if own in lineage.records:
        return True
    covered = {s for zoning in lineage.columns.values() for column, origin in zoning.items()
               if column in based_on and column in lineage.records for s in origin}
    return bool(based_on) and sources <= covered


def describe_path(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


@dataclass(frozen=True)
class Release:
    """What the lineage audit of one release needs."""

    demo: Demonstrator
    functions: Mapping[str, Callable]        # step name -> its function
    frames: Mapping[str, object]             # input ref (source asset or step) -> stored value
    ctx: StepContext
    roots: Mapping[str, SourceCard]          # protected input ref -> its source card
    tables: Mapping[str, str]                # zoning -> name of the step publishing it
    published_columns: Callable[[str], list[str]]
    shown: set[str]


def derive_lineage(release: Release) -> Lineage:
    """Replay the steps (see the module's docstring) and list what must be protected.

    Three replays when every figure is covered: as is, every protected source perturbed
    at once (the records tell each column's sources), only the hidden cells perturbed.
    When something is not covered, one replay per source names the source in the finding.
    """
    lineage = Lineage()
    if not release.roots:
        return lineage
    roots = {ref: _tagged(release.frames[ref], card.id) for ref, card in release.roots.items()}
    with recording() as ledger:
        base = replay(release.demo, release.functions, release.frames, release.ctx, roots)
    lineage.records = dict(ledger)
    _recorded(lineage, release, base)
    rng = np.random.default_rng(SEED)
    everything = {ref: perturbed(frame, rng, hidden_only=False) for ref, frame in roots.items()}
    _attribute(lineage, release, base, _replay(release, everything), None)
    if len(roots) > 1 and _uncovered(lineage):
        lineage.columns, lineage.figures = {}, {}
        _recorded(lineage, release, base)
        for ref, card in release.roots.items():
            _attribute(lineage, release, base, _replay(release, roots | {ref: everything[ref]}), card.id)
    hidden = {ref: perturbed(frame, rng, hidden_only=True) for ref, frame in roots.items()}
    _hidden_leaks(lineage, release, base, _replay(release, hidden))
    _unprotected(lineage, release, base)
    return lineage


def _recorded(lineage: Lineage, release: Release, base: dict) -> None:
    """A recorded column is in its sources' lineage even where no value moves (a column
    hidden in every cell still publishes its secrecy flags)."""
    for zoning, step in release.tables.items():
        table = base.get(step, release.frames.get(step))
        if not isinstance(table, pd.DataFrame):
            continue
        for column in release.published_columns(zoning):
            record = lineage.records.get(column)
            if column in table and record is not None and record.sources:
                _add(lineage.columns.setdefault(zoning, {}).setdefault(column, []), record.sources)


def _add(sources: list[str], more) -> None:
    sources.extend(s for s in more if s not in sources)


def _tagged(frame, source: str):
    frame = frame.copy()
    frame.attrs[SOURCE_ATTR] = source
    return frame


def _replay(release: Release, overrides: Mapping[str, object]) -> dict[str, object]:
    return replay(release.demo, release.functions, release.frames, release.ctx, overrides)


def _uncovered(lineage: Lineage) -> bool:
    columns = any(c not in lineage.records for table in lineage.columns.values() for c in table)
    return columns or any(not _figure_protected(lineage, i, set(s)) for i, s in lineage.figures.values())


def _attribute(lineage: Lineage, release: Release, base: dict, moved: dict, source: str | None) -> None:
    """Note what moved; `source` None: every source moved, each column's record names them."""
    everyone = [card.id for card in release.roots.values()]

    def origin(column: str) -> list[str]:
        if source is not None:
            return [source]
        record = lineage.records.get(column)
        return list(record.sources) if record is not None and record.sources else everyone

    for zoning, step in release.tables.items():
        if step not in base:
            continue
        changes = changed_cells(base[step], moved[step], release.published_columns(zoning))
        for column, rows in changes.items():
            if rows.any():
                _add(lineage.columns.setdefault(zoning, {}).setdefault(column, []), origin(column))
    if "summary" in base:
        summary = published_summary(base["summary"], release.shown)
        for path in changed_leaves(summary, published_summary(moved["summary"], release.shown)):
            indicator = indicator_of(summary, path) or ""
            entry = lineage.figures.setdefault(describe_path(path), (indicator, []))
            _add(entry[1], origin(indicator.split("+")[0]))


def _hidden_leaks(lineage: Lineage, release: Release, base: dict, moved: dict) -> None:
    stem = release.demo.id
    for zoning, step in release.tables.items():
        if step not in base:
            continue
        for column, rows in changed_cells(base[step], moved[step], release.published_columns(zoning)).items():
            # `secret_<count>` flags are published as one code (`bundle.published`)
            if rows.any() and not column.startswith("secret_"):
                lineage.findings.append(
                    f"table {stem}_{zoning}, column '{column}': {int(rows.sum())} published cell(s) change when only "
                    "the hidden cells of a protected source change: the demonstrator reads values the suppression "
                    "hid. Fix: build it from pipelines.api.protected_cells (hidden cells stay missing) and "
                    "protected_value, never from the aggregates' own columns")
    if "summary" in base:
        summary = published_summary(base["summary"], release.shown)
        for path in changed_leaves(summary, published_summary(moved["summary"], release.shown)):
            lineage.findings.append(
                f"demonstrator.json, {describe_path(path)}: changes when only the hidden cells of a protected "
                "source change: the summary reads values the suppression hid. Fix: compute it from the "
                "published tables' protected columns (complete totals only)")


def _unprotected(lineage: Lineage, release: Release, base: dict) -> None:
    stem = release.demo.id
    for zoning, columns in lineage.columns.items():
        table = base[release.tables[zoning]]
        for column, sources in columns.items():
            text = not pd.api.types.is_numeric_dtype(table[column])  # free text: see `text_findings`
            if column not in lineage.records and not column.startswith("secret_") and not text:
                lineage.findings.append(
                    f"table {stem}_{zoning}, column '{column}': computed from {', '.join(sorted(set(sources)))} "
                    "(private or personal) but carries no protection record. Fix: produce it with "
                    "pipelines.api.protected_cells or protected_value (naming the protected columns it is "
                    "computed from), or leave it out of the table")
    for path, (indicator, sources) in lineage.figures.items():
        if not _figure_protected(lineage, indicator, set(sources)):
            own, *based_on = indicator.split("+")
            said = f" (said to be based on {', '.join(based_on)})" if based_on else ""
            lineage.findings.append(
                f"demonstrator.json, {path}: computed from {', '.join(sorted(set(sources)))} (private or personal), "
                f"but its indicator '{own or '?'}'{said} carries no protection record in any table. Fix: publish "
                "it only as a protected statistic (pipelines.api.protected_cells / protected_value), or name the "
                "protected columns it is computed from in its entry's `based_on`")


def text_findings(table: pd.DataFrame, stem: str, columns: list[str], vocabulary: Mapping[str, list[str]],
                  public_texts: set[str], structural: set[str]) -> list[str]:
    """Free-text columns must hold declared words or public text (zone names, say)."""
    findings = []
    for column in columns:
        if column in structural or column.startswith("secret_") or column == "geometry" or column not in table:
            continue
        series = table[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        words = vocabulary.get(column, [])
        allowed = {w for w in words if NUMBER not in w} | public_texts | {""}
        templates = [re.compile(re.escape(w).replace(re.escape(NUMBER), r"\d{1,9}")) for w in words if NUMBER in w]
        values = {str(v) for v in series.dropna().unique()}
        unknown = [v for v in values if not all(part in allowed or any(t.fullmatch(part) for t in templates)
                                                for part in v.split(TEXT_SEPARATOR))]
        if unknown:
            findings.append(
                f"table {stem}, column '{column}': free text in {len(unknown)} distinct value(s) that are neither "
                "in the demonstrator's declared vocabulary nor a public column's text (values are not shown). "
                f"Fix: declare the texts it may hold under `vocabulary: {{{column}: [...]}}` in defs.yaml "
                f"('{NUMBER}' stands for a whole number), or drop it")
    return findings


def public_texts(frames: Mapping[str, object], public_refs: set[str]) -> set[str]:
    """Every text value of the public inputs' text columns (zone names, labels...)."""
    texts: set[str] = set()
    for ref in public_refs:
        frame = frames.get(ref)
        if not isinstance(frame, pd.DataFrame):
            continue
        for column in frame.columns:
            if column != "geometry" and (frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column])):
                texts |= {str(v) for v in frame[column].dropna().unique()[:100_000]}
    return texts


def refuse(findings: list[str], demo: Demonstrator, territory: str) -> None:
    if findings:
        listed = "\n".join(f"  - {f}" for f in findings)
        raise PrivacyError(f"demonstrator '{demo.id}', territory '{territory}': nothing is published, because "
                           f"{len(findings)} problem(s) of protection were found:\n{listed}")
