"""Source cards, territories and demonstrators load, and bad cards say what to fix."""

import pytest

from pipelines.catalogue import load_card, load_sources, load_territory
from pipelines.catalogue.models import SourceCard
from pipelines.errors import ConfigError

GOOD = """
id: meters
title: Relevés
producer: Gestionnaire
sensitivity: {sensitivity}
licence: aucune diffusion
attribution: x
date: "2024"
format: point_csv
file: meters.csv
aggregation:
  identifiers: [numero_compteur]
  unit: numero_compteur
  rules: [{rules}]
"""


def write(tmp_path, text, name="meters.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_project_cards_load():
    cards = load_sources()
    assert {"iris", "filosofi_200m", "dpe", "operator_consumption", "smart_meter"} <= set(cards)
    assert cards["smart_meter"].sensitivity == "personal"
    assert cards["operator_consumption"].aggregation.rules[0].threshold == 10
    territory = load_territory("sample")
    assert territory.fictional and territory.working_crs == "EPSG:2154" and territory.grid_crs == "EPSG:3035"
    from pipelines.assets.build import demonstrator_ids
    from pipelines.components.loading import load_demonstrators

    assert demonstrator_ids(load_demonstrators()) == ["energy_precarity", "housing_affordability", "mobility_access"]


def test_invalid_sensitivity_names_file_field_and_allowed_values(tmp_path):
    path = write(tmp_path, GOOD.format(sensitivity="secret-medical-123", rules="{kind: households}"))
    with pytest.raises(ConfigError) as info:
        load_card(path, SourceCard)
    message = str(info.value)
    assert str(path) in message and "'sensitivity'" in message
    assert "'public', 'private' or 'personal'" in message
    assert "secret-medical-123" not in message  # input values are never echoed


def test_thresholds_may_only_be_raised(tmp_path):
    card = GOOD.format(sensitivity="personal", rules="{kind: households, min_units: 20}")
    raised = load_card(write(tmp_path, card), SourceCard)
    assert raised.aggregation.rules[0].threshold == 20
    with pytest.raises(ConfigError, match="may not be below 11"):
        load_card(write(tmp_path, GOOD.format(sensitivity="personal", rules="{kind: households, min_units: 5}")), SourceCard)
    with pytest.raises(ConfigError, match="may not exceed 0.85"):
        load_card(write(tmp_path, GOOD.format(sensitivity="personal", rules="{kind: business, max_dominance: 0.95}")), SourceCard)


def test_personal_source_without_identifiers_is_refused(tmp_path):
    text = GOOD.format(sensitivity="personal", rules="{kind: households}")
    text = text.replace("identifiers: [numero_compteur]", "identifiers: []")
    with pytest.raises(ConfigError, match="personal source needs"):
        load_card(write(tmp_path, text), SourceCard)


def test_code_columns_must_be_text(tmp_path):
    text = GOOD.format(sensitivity="personal", rules="{kind: households}") + "columns: {code_commune: int}\n"
    with pytest.raises(ConfigError, match="'code_commune' holds a code"):
        load_card(write(tmp_path, text), SourceCard)


def test_broken_yaml_names_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"meters.yaml line \d+: not valid YAML"):
        load_card(write(tmp_path, "id: [unclosed\n  title: x\n"), SourceCard)


def test_unknown_territory_lists_known_ones():
    with pytest.raises(ConfigError, match="known: .*sample"):
        load_territory("atlantis")


def test_identifiers_cannot_be_aggregated_or_filtered(tmp_path):
    text = GOOD.format(sensitivity="personal", rules="{kind: households}") + ""
    text = text.replace("  unit: numero_compteur\n", "  unit: numero_compteur\n  drop: [adresse]\n  values: {adresse: sum}\n")
    with pytest.raises(ConfigError, match=r"\['adresse'\] are identifiers or dropped columns"):
        load_card(write(tmp_path, text), SourceCard)


def test_grid_zoning_is_not_accepted_for_aggregates(tmp_path):
    text = GOOD.format(sensitivity="personal", rules="{kind: households}").replace(
        "  unit: numero_compteur\n", "  unit: numero_compteur\n  zonings: [grid]\n")
    with pytest.raises(ConfigError, match="'aggregation.zonings.0'"):
        load_card(write(tmp_path, text), SourceCard)
