"""Run the whole job in process, with a persistent Dagster home under .datacites/."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

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


def _chain(error) -> list:
    chain = []
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or getattr(error, "context", None)
    return chain


def root_cause(error, *, personal: bool = False) -> str:
    """What a person can act on: the project's own message (file, row, column, fix), then
    the library's innermost cause after it; only the innermost when the project raised
    nothing. A step reading personal data gives the cause's class, never its text."""
    from pipelines.errors import DatacitesError

    ours = _own_errors(DatacitesError)
    chain = _chain(error)
    if not chain:
        return "unknown error"
    own = next((e for e in chain if e.cls_name in ours), None)
    innermost = chain[-1]
    if own is None:
        return f"{innermost.cls_name}: {_text(innermost)}" if not personal else innermost.cls_name
    text = _text(own)
    if innermost is not own and innermost.cls_name not in ours:
        cause = innermost.cls_name if personal else f"{innermost.cls_name}: {_text(innermost)[:300]}"
        text += f" (cause: {cause})"
    return text


def _text(error) -> str:
    """An error's message without the "module.Class: " Dagster puts before it."""
    text = error.message.strip()
    head, sep, rest = text.partition(": ")
    return rest.strip() if sep and head.split(".")[-1] == error.cls_name else text


def _own_errors(base: type) -> set[str]:
    names, todo = set(), [base]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


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
    return sorted(k for k in chosen.resolve(graph) if k in graph.materializable_asset_keys)


@contextlib.contextmanager
def territory_lock(territory: str) -> Iterator[None]:
    """One run per territory at a time in a clone: a second one stops at once, saying
    which run holds the territory since when (it would share its staging folders). The
    lock is the kernel's (flock): a killed run leaves no lock behind."""
    import fcntl
    import json
    from datetime import datetime

    from pipelines.errors import DatacitesError

    folder = config.STATE_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{territory}.lock"
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole run)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                holder = json.loads(handle.read() or "{}")
            except ValueError:
                holder = {}
            raise DatacitesError(
                f"a run is publishing territory '{territory}' since {holder.get('since', 'a moment')} "
                f"(process {holder.get('pid', '?')}); wait for it to end, or stop it, then run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "since": datetime.now().strftime("%Y-%m-%d %H:%M:%S")}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()  # no stale holder for the next one to read
    finally:
        handle.close()  # releases the lock


def run_all(territory: str | None = None, *, demonstrators: list[str] | None = None,
            log_level: str = "CRITICAL", force: bool = False) -> dg.ExecuteInProcessResult | None:
    """Materialise the territory's assets (all, or those of some demonstrators and the
    site); failures are printed, not raised."""
    from pipelines.assets.build import build_definitions
    from pipelines.catalogue import load_territory, territory_sources

    dagster_home()
    territory = territory or config.DEFAULT_TERRITORY
    territory_sources(load_territory(territory))  # its own error, not "no such partition"
    defs = build_definitions()
    job = defs.resolve_job_def("all_demonstrators")
    from pipelines import fingerprints

    keys = selection(defs, demonstrators)
    wanted = keys if keys is not None else [k for k in defs.resolve_asset_graph().materializable_asset_keys]
    current = fingerprints.fingerprints(defs, territory)
    todo = sorted(fingerprints.changed(wanted, current, territory)) if not force else sorted(wanted)
    if not todo:
        print(f"nothing changed for territory '{territory}' since its last run: nothing to materialise "
              "(--force runs everything again)")
        return None
    keys = todo
    with territory_lock(territory), dg.DagsterInstance.get() as instance:
        from pipelines.privacy.publish import clean_leftovers

        clean_leftovers(config.OUTPUTS_DIR / territory)  # a killed run's, now that none runs here
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, partition_key=territory, asset_selection=keys,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}, "progress": {}}})
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    fingerprints.record(territory, current, materialised)
    personal = {key.to_python_identifier() for key, level in _levels(defs).items() if level in ("personal", "private")}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            evaluation = event.event_specific_data
            details = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
            print(f"CHECK FAILED {evaluation.asset_key.to_user_string()}: {evaluation.check_name}: "
                  f"{details.get('problems') or details.get('report') or ''}")
        if event.event_type_value == "STEP_FAILURE":
            print(f"FAILED {event.step_key}: "
                  f"{root_cause(event.step_failure_data.error, personal=event.step_key in personal)}")
    print(f"run {'succeeded' if result.success else 'FAILED'} for territory '{territory}': {result.run_id}")
    return result


def _levels(defs: dg.Definitions) -> dict[dg.AssetKey, str]:
    """Sensitivity tag of every asset (a step failing on a personal one shows no library text)."""
    from pipelines.assets.sensitivity import TAG

    levels = {}
    for assets in defs.assets or []:
        for key in getattr(assets, "keys", []):
            tags = assets.tags_by_key.get(key, {}) if hasattr(assets, "tags_by_key") else {}
            levels[key] = tags.get(TAG, "")
    return levels
