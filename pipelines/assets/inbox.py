"""The inbox of each territory: drop a new file in `sources/inbox/<territory>/`.

A sensor per territory looks at its inbox. A file named as a source of that territory
expects (its card's `file`, or the territory's override) is read with the source's
connector and checks, as a run would; when it passes, it replaces the territory's file
in one rename and the sensor asks for a run of that source's reader only (automation
then updates what depends on it). A file that fails, or that no source expects, is
moved to `rejected/` beside a report naming the problem and the fix; it triggers
nothing. The report holds the project's own message only, which never quotes a private
or personal file (the connectors' rule), and the class of any other error, never its text.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines import config
from pipelines.fingerprints import sha256_of

REJECTED = "rejected"


@dataclass(frozen=True)
class InboxResult:
    """What the inbox did with one file: `accepted` (moved into place) or `rejected`."""

    name: str
    outcome: str
    source: str | None
    target: Path
    message: str = ""


def inbox_dir(territory_id: str) -> Path:
    return config.SOURCES_DIR / "inbox" / territory_id


def process_inbox(territory_id: str) -> list[InboxResult]:
    """Validate and move every file of the territory's inbox; what happened to each."""
    from pipelines.assets.sources import read_source
    from pipelines.catalogue import load_territory, source_path, territory_sources
    from pipelines.errors import DatacitesError

    folder = inbox_dir(territory_id)
    if not folder.is_dir():
        return []
    territory = load_territory(territory_id)
    cards = territory_sources(territory)
    expected = {source_path(card, territory).name: card for card in cards.values() if not territory.absent(card.id)}
    results = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        card = expected.get(path.name)
        if card is None:
            known = ", ".join(sorted(expected))
            results.append(_reject(path, None, f"no source of territory '{territory_id}' expects a file named "
                                               f"'{path.name}'. Fix: name it as its source expects ({known})"))
            continue
        target = source_path(card, territory)
        relative = os.path.relpath(path, config.SOURCES_DIR / territory.data_dir)
        try:
            read_source(card.model_copy(update={"file": relative}), territory)
        except DatacitesError as exc:
            message = str(exc).replace(str(path), f"{target.name} (inbox)")
            results.append(_reject(path, card.id, f"source '{card.id}': {message}"))
            continue
        except Exception as exc:  # a reader's own failure: its class only, never its text (it may quote the file)
            results.append(_reject(path, card.id, f"source '{card.id}': the file cannot be read as {card.format} "
                                                  f"({type(exc).__name__}). Fix: check its format and encoding"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = sha256_of(path)
        os.replace(path, target)  # one rename: a run reads the old file or the new one, never half
        results.append(InboxResult(path.name, "accepted", card.id, target, digest))
    return results


def _reject(path: Path, source: str | None, message: str) -> InboxResult:
    rejected = path.parent / REJECTED
    rejected.mkdir(exist_ok=True)
    target = rejected / path.name
    shutil.move(str(path), target)
    (rejected / f"{path.name}.report.txt").write_text(message + "\n", encoding="utf-8")
    return InboxResult(path.name, "rejected", source, target, message)


def inbox_sensor(territory_id: str, reader_keys: dict[str, list[dg.AssetKey]]) -> dg.SensorDefinition:
    """The sensor of one territory's inbox; `reader_keys` maps a source to the asset
    reading its file."""

    @dg.sensor(name=f"inbox_{territory_id}", minimum_interval_seconds=60, job_name="all_demonstrators",
               description=f"New files in sources/inbox/{territory_id}/: validated, moved into place, their "
                           "reader run; a malformed file is set aside with a report.",
               default_status=dg.DefaultSensorStatus.STOPPED)
    def _sensor(context: dg.SensorEvaluationContext):
        requests = []
        for result in process_inbox(territory_id):
            if result.outcome == "accepted" and result.source in reader_keys:
                requests.append(dg.RunRequest(run_key=f"{territory_id}:{result.source}:{result.message}",
                                              partition_key=territory_id,
                                              asset_selection=reader_keys[result.source]))
                context.log.info(f"{result.name}: accepted for source '{result.source}'")
            else:
                context.log.warning(f"{result.name}: rejected; see {result.target.parent}")
        return requests or dg.SkipReason(f"nothing new in sources/inbox/{territory_id}/")

    return _sensor
