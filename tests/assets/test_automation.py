"""Automation from the cards: each raw file's reader on its card's `refresh:` (Europe/
Paris), everything downstream when what it reads changed, per territory."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.assets.build import CRONS, build_definitions
from pipelines.catalogue import load_sources

PARIS = ZoneInfo("Europe/Paris")
K = dg.AssetKey


@pytest.fixture(scope="module")
def defs():
    return build_definitions()


def test_the_readers_of_raw_files_follow_their_cards_refresh(defs):
    graph = defs.resolve_asset_graph()
    for card in load_sources().values():
        key = K(f"staged_{card.id}") if card.sensitivity != "personal" else K(f"anonymised_{card.id}")
        if key not in graph.get_all_asset_keys():
            continue
        condition = graph.get(key).automation_condition
        if card.refresh == "never":
            assert condition is None, card.id
        else:
            assert condition.get_label() == f"on the card's refresh ({CRONS[card.refresh]}, Europe/Paris)", card.id


def test_the_first_of_the_month_refreshes_the_monthly_sources_of_every_territory(defs):
    """1 December 05:00 Paris: the monthly cards (DPE, GTFS, smart meters, car-sharing)
    are due in both territories; the yearly ones (IRIS) are not."""
    with dg.DagsterInstance.ephemeral() as instance:
        before = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   evaluation_time=dt.datetime(2026, 11, 30, 23, 0, tzinfo=PARIS))
        assert before.total_requested == 0
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor,
                                                  evaluation_time=dt.datetime(2026, 12, 1, 5, 1, tzinfo=PARIS))
        monthly = [c.id for c in load_sources().values() if c.refresh == "monthly"]
        assert after.total_requested == 2 * len(monthly)
        for key in ("staged_dpe", "staged_gtfs_bus"):
            assert set(after.get_requested_partitions(K(key))) == {"sample", "overseas_sample"}
        assert not after.get_requested_partitions(K("staged_iris"))


def test_a_new_file_of_one_territory_updates_only_what_reads_it_there(defs):
    energy = dg.AssetSelection.groups("energy_precarity")
    with dg.DagsterInstance.ephemeral() as instance:
        for key in ("staged_iris", "staged_dpe"):
            instance.report_runless_asset_event(dg.AssetMaterialization(K(key), partition="sample"))
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=energy,
                                                  evaluation_time=dt.datetime(2026, 12, 2, 10, 0, tzinfo=PARIS))
        instance.report_runless_asset_event(dg.AssetMaterialization(K("staged_dpe"), partition="sample"))
        second = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=energy,
                                                   cursor=first.cursor,
                                                   evaluation_time=dt.datetime(2026, 12, 2, 10, 1, tzinfo=PARIS))
        assert set(second.get_requested_partitions(K(["energy_precarity", "dwellings"]))) == {"sample"}
        # the households read the grid and Filosofi, not the DPE: not requested
        assert not second.get_requested_partitions(K(["energy_precarity", "households"]))
