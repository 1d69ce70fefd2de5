"""Run the whole job in process, with a persistent Dagster home under .datacites/."""

from __future__ import annotations

import os

import dagster as dg

from pipelines import config


def dagster_home() -> str:
    """The Dagster home of this clone (event storage lives there, never under outputs/)."""
    home = os.environ.setdefault("DAGSTER_HOME", str(config.DAGSTER_HOME_DIR))
    os.makedirs(home, exist_ok=True)
    settings = os.path.join(home, "dagster.yaml")
    if not os.path.exists(settings):
        # Default SQLite storage in this folder; say so, to silence Dagster's warning.
        with open(settings, "w", encoding="utf-8") as handle:
            handle.write("# SQLite storages in this folder (Dagster's default); see Dagster's docs for PostgreSQL.\n"
                         "telemetry:\n  enabled: false  # no network beyond the package registries\n")
    return home


def root_cause(error) -> str:
    """The innermost error message of a Dagster failure: the one a person can act on."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "unknown error"


def selection(defs: dg.Definitions, demonstrators: list[str] | None) -> list[dg.AssetKey] | None:
    """The assets of some demonstrators, what they read, and the site; None for all."""
    if not demonstrators:
        return None
    from pipelines.assets.build import demonstrator_ids
    from pipelines.errors import ConfigError

    known = demonstrator_ids(defs)
    unknown = sorted(set(demonstrators) - set(known))
    if unknown:
        raise ConfigError(f"no demonstrator {unknown} in demonstrators/ (known: {', '.join(known)})")
    graph = defs.resolve_asset_graph()
    chosen = dg.AssetSelection.groups(*demonstrators).upstream() | dg.AssetSelection.assets("site")
    return sorted(chosen.resolve(graph))


def run_all(territory: str | None = None, *, demonstrators: list[str] | None = None,
            log_level: str = "CRITICAL") -> dg.ExecuteInProcessResult:
    """Materialise the territory's assets (all, or those of some demonstrators and the
    site); failures are printed, not raised."""
    from pipelines.assets.build import build_definitions
    from pipelines.catalogue import load_territory, territory_sources

    dagster_home()
    territory = territory or config.DEFAULT_TERRITORY
    territory_sources(load_territory(territory))  # its own error, not "no such partition"
    defs = build_definitions()
    job = defs.resolve_job_def("all_demonstrators")
    keys = selection(defs, demonstrators)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, partition_key=territory, asset_selection=keys,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            evaluation = event.event_specific_data
            details = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
            print(f"CHECK FAILED {evaluation.asset_key.to_user_string()}: {evaluation.check_name}: "
                  f"{details.get('problems') or details.get('report') or ''}")
        if event.event_type_value == "STEP_FAILURE":
            print(f"FAILED {event.step_key}: {root_cause(event.step_failure_data.error)}")
    print(f"run {'succeeded' if result.success else 'FAILED'}: {result.run_id}")
    return result
