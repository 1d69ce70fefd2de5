"""Sensitivity is part of the graph: personal data has exactly one reader, its anonymiser."""

import dagster as dg
import pytest

from pipelines.assets.sensitivity import ROLE_TAG, TAG, check_graph, highest, inherited
from pipelines.errors import ConfigError


def spec(name, level, deps=(), role=None):
    tags = {TAG: level} | ({ROLE_TAG: role} if role else {})
    return dg.AssetSpec(name, deps=list(deps), tags=tags)


def test_levels_are_ordered_and_inherited():
    assert highest(["public", "private", "aggregated"]) == "private"
    assert highest([]) == "public"
    assert inherited(None, ["public", "personal"], "anonymiser") == "aggregated"
    assert inherited(None, ["private"], "suppressor") == "aggregated"
    # a suppressor cannot launder personal data: only the anonymiser lowers it
    assert inherited(None, ["personal"], "suppressor") == "personal"
    assert inherited(None, ["aggregated", "public"], None) == "aggregated"


def test_anonymiser_is_the_only_reader_of_a_personal_asset():
    graph = [spec("raw_meters", "personal"), spec("anonymised_meters", "aggregated", ["raw_meters"], "anonymiser"),
             spec("table", "aggregated", ["anonymised_meters"])]
    levels = check_graph(graph)
    assert levels[dg.AssetKey("table")] == "aggregated"


def test_other_reader_of_personal_asset_names_both_assets():
    graph = [spec("raw_meters", "personal"), spec("anonymised_meters", "aggregated", ["raw_meters"], "anonymiser"),
             spec("consumption_map", "personal", ["raw_meters"])]
    with pytest.raises(ConfigError) as info:
        check_graph(graph)
    message = str(info.value)
    assert "'consumption_map'" in message and "'raw_meters'" in message and "anonymis" in message


def test_lowering_without_privacy_role_is_refused():
    graph = [spec("staged_operator", "private"), spec("leaky", "aggregated", ["staged_operator"])]
    with pytest.raises(ConfigError, match="'leaky'.*'staged_operator'"):
        check_graph(graph)


def test_publisher_cannot_read_private_asset():
    graph = [spec("staged_operator", "private"), spec("release", "private", ["staged_operator"], "publisher")]
    with pytest.raises(ConfigError, match="only public\\s+and aggregated"):
        check_graph(graph)


def test_personal_asset_with_two_anonymisers_is_refused():
    graph = [spec("raw_meters", "personal"),
             spec("a1", "aggregated", ["raw_meters"], "anonymiser"),
             spec("a2", "aggregated", ["raw_meters"], "anonymiser")]
    with pytest.raises(ConfigError, match="several consumers \\(a1, a2\\)"):
        check_graph(graph)
