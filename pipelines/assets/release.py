"""Per-demonstrator release (staged, audited) and publication, and the site."""


import dagster as dg

from pipelines import config
from pipelines.assets.bundle import write_bundle
from pipelines.assets.demonstrators import StepContext, step_key
from pipelines.assets.publishing import fresh_dir, staging_dir, swap_into_place
from pipelines.assets.sensitivity import ROLE_TAG, TAG
from pipelines.indicators.checks import check_ranges, check_totals


def table_keys(demo) -> dict[str, dg.AssetKey]:
    return {step.zoning: step_key(demo, name) for name, step in demo.steps.items() if step.zoning}


def table_checks(demo, ctx: StepContext) -> list[dg.AssetChecksDefinition]:
    """Range checks on every published table, and totals conserved between zonings."""
    indicators = [ctx.registry[i] for i in demo.indicators]
    keys = table_keys(demo)
    checks = [_range_check(key, indicators) for key in keys.values()]
    if "iris" in keys and "commune" in keys:
        checks.append(_totals_check(keys["commune"], keys["iris"], indicators))
    return checks


def _range_check(key: dg.AssetKey, indicators) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key, name="indicators_in_range", blocking=True,
                    description="Non-empty; shares within [0, 1]; counts and means non-negative and finite.")
    def _check(table) -> dg.AssetCheckResult:
        problems = check_ranges(table, indicators)
        return dg.AssetCheckResult(passed=not problems, metadata={"rows": len(table), "problems": "; ".join(problems) or "none"})

    return _check


def _totals_check(coarse: dg.AssetKey, fine: dg.AssetKey, indicators) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=coarse, name="totals_conserved", blocking=True,
                    additional_ins={"fine": dg.AssetIn(fine)},
                    description="Counts summed over IRIS equal their sum over communes (to 1e-6).")
    def _check(table, fine) -> dg.AssetCheckResult:
        problems = check_totals(fine, table, indicators)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": "; ".join(problems) or "none"})

    return _check


def release_asset(demo, module, ctx: StepContext, level: str) -> dg.AssetsDefinition:
    keys = table_keys(demo)

    @dg.asset(key=[demo.id, "release"], ins={z: dg.AssetIn(k) for z, k in keys.items()}, group_name=demo.id,
              kinds={"csv", "geopackage", "parquet"}, tags={TAG: level, ROLE_TAG: "publisher"},
              description=f"{demo.title}: tables, manifests and summary staged for the disclosure audit.")
    def _release(context: dg.AssetExecutionContext, **tables) -> None:
        folder = fresh_dir(staging_dir(demo.id))
        summary = module.summarise(tables, ctx) if hasattr(module, "summarise") else {}
        document = write_bundle(demo, tables, ctx, summary, folder)
        context.add_output_metadata({"staging": dg.MetadataValue.path(str(folder)),
                                     "tables": len(document["tables"]), "headlines": len(document["headlines"])})

    return _release


def audit_check(demo) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey([demo.id, "release"]), name="disclosure_audit", blocking=True,
                    description="Thresholds, differencing between zonings, allow-lists and identifiers; "
                                "nothing is published when it fails.")
    def _check() -> dg.AssetCheckResult:
        from pipelines.privacy import audit_outputs

        findings = audit_outputs(staging_dir(demo.id))
        return dg.AssetCheckResult(passed=not findings, metadata={
            "findings": len(findings), "report": "\n".join(str(f) for f in findings[:50]) or "none"})

    return _check


def published_asset(demo) -> dg.AssetsDefinition:
    @dg.asset(key=[demo.id, "published"], deps=[dg.AssetKey([demo.id, "release"])], group_name=demo.id,
              kinds={"folder"}, tags={TAG: "aggregated", ROLE_TAG: "publisher"},
              description=f"{demo.title}: the audited release, swapped into outputs/ in one rename.")
    def _published(context: dg.AssetExecutionContext) -> None:
        target = config.OUTPUTS_DIR / demo.id
        swap_into_place(staging_dir(demo.id), target)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(target))})

    return _published


def site_asset(demos) -> dg.AssetsDefinition:
    @dg.asset(key="site", deps=[dg.AssetKey([d.id, "published"]) for d in demos], group_name="report",
              kinds={"html"}, tags={TAG: "aggregated", ROLE_TAG: "publisher"},
              description="Static offline site for officials, audited then swapped into outputs/site.")
    def _site(context: dg.AssetExecutionContext) -> None:
        from pipelines.privacy import audit_outputs
        from pipelines.report import build_site

        folder = fresh_dir(staging_dir("site"))
        summary = build_site(config.OUTPUTS_DIR, folder)
        findings = audit_outputs(folder)
        if findings:
            raise dg.Failure(description="the site was not published: the disclosure audit found "
                             f"{len(findings)} problem(s)", metadata={"report": "\n".join(map(str, findings[:50]))})
        swap_into_place(folder, config.SITE_DIR)
        context.add_output_metadata({"index": dg.MetadataValue.path(str(config.SITE_DIR / "index.html")),
                                     "pages": len(summary.pages), "bytes": summary.size_bytes})

    return _site
