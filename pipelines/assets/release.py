"""Per-demonstrator release (staged, audited) and publication, and the site."""

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from pipelines.assets.bundle import PARENT, ZONE_COLUMNS, allowed_columns, write_bundle
from pipelines.assets.partitions import outputs_dir, run_territory, territory_partitions
from pipelines.assets.publishing import fresh_dir, staging_dir
from pipelines.assets.sensitivity import ROLE_TAG, TAG
from pipelines.assets.sources import protected_key
from pipelines.catalogue import Demonstrator, SourceCard, Territory, load_territory
from pipelines.catalogue.context import StepContext, lacks_zoning
from pipelines.components.lineage import Lineage
from pipelines.indicators.checks import check_ranges, check_totals


@dataclass(frozen=True)
class DemonstratorView:
    """The framework's view of a demonstrator: every card it names, personal ones included
    (the manifests list their licences), which a demonstrator's own code never receives."""

    demonstrator: Demonstrator
    territory: Territory
    sources: Mapping[str, SourceCard]
    registry: Mapping[str, Any]


def table_keys(demo) -> dict[str, dg.AssetKey]:
    return {zoning: dg.AssetKey([demo.id, name]) for zoning, name in demo.published_steps().items()}


def table_checks(demo, registry: Mapping[str, Any]) -> list[dg.AssetChecksDefinition]:
    """Range checks on every published table, and totals conserved between zonings."""
    indicators = [registry[i] for i in demo.indicators]
    keys = table_keys(demo)
    checks = [_range_check(key, zoning, [i for i in indicators if zoning in i.zonings], demo, registry)
              for zoning, key in keys.items()]
    if "iris" in keys and "commune" in keys:
        checks.append(_totals_check(keys["commune"], keys["iris"], indicators, demo, registry))
    return checks


def computable(demo, registry, indicators: list, context) -> list:
    """The indicators a territory can compute (see `Demonstrator.available`)."""
    shown = set(demo.available(registry, load_territory(context.partition_key)))
    return [i for i in indicators if i.id in shown]


def _range_check(key: dg.AssetKey, zoning: str, indicators, demo, registry) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key, name="indicators_in_range", blocking=True, partitions_def=territory_partitions(),
                    description="Non-empty; shares within [0, 1]; counts and means non-negative and finite.")
    def _check(context: dg.AssetCheckExecutionContext, table) -> dg.AssetCheckResult:
        if lacks_zoning(load_territory(context.partition_key), zoning):
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0, "problems": f"no {zoning} zoning: not published"})
        problems = check_ranges(table, computable(demo, registry, indicators, context))
        return dg.AssetCheckResult(passed=not problems, metadata={"rows": len(table), "problems": "; ".join(problems) or "none"})

    return _check


def _totals_check(coarse: dg.AssetKey, fine: dg.AssetKey, indicators, demo, registry) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=coarse, name="totals_conserved", blocking=True, partitions_def=territory_partitions(),
                    additional_ins={"fine": dg.AssetIn(fine)},
                    description="Counts summed over IRIS equal their sum over communes (to 1e-6).")
    def _check(context: dg.AssetCheckExecutionContext, table, fine) -> dg.AssetCheckResult:
        if lacks_zoning(load_territory(context.partition_key), "iris"):
            return dg.AssetCheckResult(passed=True, metadata={"problems": "no IRIS zoning: communes only"})
        problems = check_totals(fine, table, computable(demo, registry, indicators, context))
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": "; ".join(problems) or "none"})

    return _check


def protected_sources(demo, sources: Mapping[str, SourceCard]) -> dict[str, SourceCard]:
    """The demonstrator's personal and private sources, by the input name of their aggregates."""
    cards = [sources[s] for s in demo.sources if sources[s].aggregation is not None]  # alternatives are public
    return {f"protected_{card.id}": card for card in cards}


def privacy_text(protected: dict, aggregates: dict, zonings, territory: Territory) -> str:
    """The note officials read: which rules applied, how many cells were hidden and why
    (for the protected sources the territory has)."""
    from pipelines.privacy import privacy_note, summarise_table

    reports = []
    protected = {name: card for name, card in protected.items() if not territory.absent(card.id)}
    for name, card in protected.items():
        table = aggregates[name]
        reports.append(summarise_table(table[table["zoning"].isin(list(zonings))], source=card.id,
                                       rules=card.aggregation.rules, sensitivity=card.sensitivity))
    return privacy_note(*reports, titles={card.id: card.title for card in protected.values()})


def release_inputs(demo, protected: dict[str, SourceCard]) -> tuple[dict[str, dg.AssetIn], dict[str, str]]:
    """One input per asset the release reads: its tables, the protected aggregates, the
    summary, and everything a step reads (the lineage audit replays the steps).
    Returns the inputs and, per reference (zoning, protected name, step or source asset
    as `defs.yaml` names it), the input's name."""
    keys: dict[dg.AssetKey, str] = {}
    names: dict[str, str] = {}

    def add(ref: str, key: dg.AssetKey) -> None:
        names[ref] = keys.setdefault(key, f"in_{len(keys)}")

    for zoning, key in table_keys(demo).items():
        add(f"table:{zoning}", key)
    for name, card in protected.items():
        add(name, protected_key(card))
    steps = list(demo.steps.values()) + ([demo.summary] if demo.summary else [])
    for step in steps:
        for ref in step.inputs.values():
            add(ref, dg.AssetKey([demo.id, ref]) if ref in demo.steps else dg.AssetKey(ref))
    if demo.summary is not None:
        add("summary", dg.AssetKey([demo.id, "summary"]))
    for name in demo.steps:
        add(name, dg.AssetKey([demo.id, name]))
    return {name: dg.AssetIn(key) for key, name in keys.items()}, names


def protection_of(demo, view: DemonstratorView, functions: Mapping[str, Callable], frames: dict, protected: dict,
                  tables: dict) -> Lineage:
    """The lineage audit of a release (`components.lineage`): refuses it with every
    problem found, or returns the protection the manifests are written from."""
    from pipelines.components.lineage import Release, derive_lineage, public_texts, refuse, text_findings

    shown = set(demo.available(view.registry, view.territory))
    ctx = StepContext.build(demo, view.territory, view.sources, view.registry)
    roots = {protected_key(card).to_user_string(): card for card in protected.values()
             if protected_key(card).to_user_string() in frames}
    steps = {zoning: name for zoning, name in demo.published_steps().items() if zoning in tables}
    release = Release(demo, functions, frames, ctx, roots, steps,
                      lambda zoning: allowed_columns(demo, zoning, view.registry, shown, {}), shown)
    lineage = derive_lineage(release)
    lineage.counts = {z: lineage.count_columns(z, view.sources, demo.protected) for z in tables}
    texts = public_texts(frames, {ref for ref in frames if ref not in roots and ref.startswith("staged_")})
    for zoning, table in tables.items():
        structural = {c for c in ZONE_COLUMNS[zoning] if c} | ({c for c in ZONE_COLUMNS[PARENT[zoning]] if c}
                                                              if zoning in PARENT else set())
        lineage.findings += text_findings(table, f"{demo.id}_{zoning}", allowed_columns(
            demo, zoning, view.registry, shown, lineage.counts[zoning]), demo.vocabulary, texts, structural)
    refuse(lineage.findings, demo, view.territory.id)
    return lineage


def release_asset(demo, sources: Mapping[str, SourceCard], registry: Mapping[str, Any],
                  level: str, functions: Mapping[str, Callable]) -> dg.AssetsDefinition:
    keys = table_keys(demo)
    protected = protected_sources(demo, sources)
    ins, names = release_inputs(demo, protected)

    @dg.asset(key=[demo.id, "release"], ins=ins, group_name=demo.id,
              kinds={"csv", "geopackage", "parquet"}, tags={TAG: level, ROLE_TAG: "publisher"},
              partitions_def=territory_partitions(),
              description=f"{demo.title}: tables, manifests and summary staged for the disclosure audit, "
                          "once the lineage audit has found every private or personal figure protected.")
    def _release(context: dg.AssetExecutionContext, **inputs) -> None:
        run = run_territory(context)
        view = DemonstratorView(demo, run.territory, run.sources, registry)
        tables = {z: inputs[names[f"table:{z}"]] for z in keys if not lacks_zoning(run.territory, z)}
        aggregates = {name: inputs[names[name]] for name in protected}
        frames = {ref: inputs[name] for ref, name in names.items() if ":" not in ref and ref not in protected}
        protection = protection_of(demo, view, functions, frames, protected, tables)
        folder = fresh_dir(staging_dir(run.territory.id, demo.id))
        summary = dict(inputs[names["summary"]] or {}) if "summary" in names else {}
        summary["privacy_note"] = privacy_text(protected, aggregates, tables, run.territory)
        document = write_bundle(demo, tables, view, summary, folder, protection)
        context.add_output_metadata({"staging": dg.MetadataValue.path(str(folder)),
                                     "tables": len(document["tables"]), "headlines": len(document["headlines"]),
                                     "protected columns": sum(len(c) for c in protection.columns.values())})

    return _release


def audit_check(demo) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey([demo.id, "release"]), name="disclosure_audit", blocking=True,
                    partitions_def=territory_partitions(),
                    description="Thresholds, differencing between zonings, allow-lists and identifiers; "
                                "nothing is published when it fails.")
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        from pipelines.privacy import audit_outputs

        findings = audit_outputs(staging_dir(context.partition_key, demo.id))
        return dg.AssetCheckResult(passed=not findings, metadata={
            "findings": len(findings), "report": "\n".join(str(f) for f in findings[:50]) or "none"})

    return _check


def published_asset(demo) -> dg.AssetsDefinition:
    @dg.asset(key=[demo.id, "published"], deps=[dg.AssetKey([demo.id, "release"])], group_name=demo.id,
              kinds={"folder"}, tags={TAG: "aggregated", ROLE_TAG: "publisher"}, partitions_def=territory_partitions(),
              description=f"{demo.title}: the audited release, swapped into outputs/<territory>/ in one rename.")
    def _published(context: dg.AssetExecutionContext) -> None:
        from pipelines.privacy.publish import publish

        territory = context.partition_key
        staged = staging_dir(territory, demo.id)
        # publish() copies the audited release beside the target, audits it once more
        # (cheap, and the files could have changed since the check) and swaps it in.
        result = publish(lambda folder: shutil.copytree(staged, folder, dirs_exist_ok=True),
                         outputs_dir(territory) / demo.id)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(result.target)), "files": result.files})

    return _published


def site_asset(demo_ids: list[str]) -> dg.AssetsDefinition:
    @dg.asset(key="site", deps=[dg.AssetKey([d, "published"]) for d in demo_ids], group_name="report",
              kinds={"html"}, tags={TAG: "aggregated", ROLE_TAG: "publisher"}, partitions_def=territory_partitions(),
              description="Static offline site of one territory for officials, audited then swapped into "
                          "outputs/<territory>/site; outputs/index.html lists the territories.")
    def _site(context: dg.AssetExecutionContext) -> None:
        from pipelines.report.territories import publish_territory_site

        built = publish_territory_site(context.partition_key, demo_ids)
        context.add_output_metadata({"index": dg.MetadataValue.path(str(built.index)), "pages": built.pages,
                                     "removed": ", ".join(built.removed) or "none"})

    return _site
