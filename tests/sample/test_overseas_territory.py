"""The overseas sample read the way the pipeline reads a territory: its card in
sources/territories/, its overrides applied to the source cards, each file read by
``read_source`` (the connector, then the check against the territory's CRSs)."""

from __future__ import annotations

import pytest

from pipelines import config
from pipelines.catalogue import load_sources, load_territory
from pipelines.catalogue.load import territory_sources
from pipelines.sample import OVERSEAS, generate_sample


@pytest.fixture(scope="module")
def territory():
    return load_territory(OVERSEAS.territory_id, directory=config.TERRITORIES_DIR)


def test_overseas_card_declares_martinique_crs(territory):
    assert (territory.id, territory.fictional, territory.data_dir) == ("overseas_sample", True, "overseas_sample")
    assert territory.working_crs == territory.grid_crs == "EPSG:5490"
    assert territory.name == OVERSEAS.name


def test_every_source_reads_through_the_pipeline_in_epsg5490(territory, tmp_path, monkeypatch):
    from pipelines.assets.sources import read_source  # imports Dagster: only here

    cards = territory_sources(territory, load_sources())
    summary = generate_sample(tmp_path / territory.data_dir, scale=0.3, profile=OVERSEAS)
    monkeypatch.setattr(config, "SOURCES_DIR", tmp_path)
    crs = {}
    for key, card in cards.items():
        frame = read_source(card, territory)
        crs[key] = frame.crs.to_string() if hasattr(frame, "crs") else frame.attrs.get("crs")
    tables = {"filosofi_iris", "filosofi_commune", "lovac"}  # no coordinates
    assert {k: v for k, v in crs.items() if k not in tables} == dict.fromkeys(set(cards) - tables, "EPSG:5490")
    assert summary.profile == "overseas"
