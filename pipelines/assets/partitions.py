"""Territories as Dagster partitions: one asset graph, one partition per territory card.

Every asset is partitioned by territory; what an asset reads and writes for a partition
(its source files, credits, store, staging and published folders) comes from that
territory's card, resolved when the asset runs, so a card edited between two runs is
taken as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines import config
from pipelines.catalogue import SourceCard, Territory, load_territory, territory_ids, territory_sources

_VALID: list[str] | None = None  # set by build_definitions: the cards that load


def set_territories(ids: list[str]) -> None:
    """The territories the definitions being built are partitioned by."""
    global _VALID
    _VALID = list(ids)


def territory_partitions() -> dg.StaticPartitionsDefinition:
    """One partition per valid `sources/territories/<id>.yaml`."""
    return dg.StaticPartitionsDefinition(_VALID if _VALID is not None else territory_ids())


@dataclass(frozen=True)
class RunTerritory:
    """The territory a run materialises, with the source cards as it sees them."""

    territory: Territory
    sources: dict[str, SourceCard]


def run_territory(context) -> RunTerritory:
    """The territory of the partition an asset or check is running for."""
    territory = load_territory(context.partition_key)
    return RunTerritory(territory, territory_sources(territory))


def outputs_dir(territory_id: str) -> Path:
    """Where a territory's demonstrators and site are published: outputs/<territory>/."""
    return config.OUTPUTS_DIR / territory_id
