"""Run the whole job in process, with a persistent Dagster home under .datacites/."""

from __future__ import annotations

import os

import dagster as dg

from pipelines import config


def dagster_home() -> str:
    """The Dagster home of this clone (event storage lives there, never under outputs/)."""
    home = os.environ.setdefault("DAGSTER_HOME", str(config.DAGSTER_HOME_DIR))
    os.makedirs(home, exist_ok=True)
    return home


def run_all(territory: str | None = None, *, log_level: str = "WARNING") -> dg.ExecuteInProcessResult:
    """Materialise every asset of the territory; failures are printed, not raised."""
    from pipelines.assets.build import build_definitions

    dagster_home()
    defs = build_definitions(territory)
    job = defs.resolve_job_def("all_demonstrators")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            print(f"FAILED {event.step_key}: {error.message.strip() if error else ''}")
    print(f"run {'succeeded' if result.success else 'FAILED'}: {result.run_id}")
    return result
