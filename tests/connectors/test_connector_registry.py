"""The registry finds every format by name and refuses unknown names and options."""

from __future__ import annotations

import pytest

from pipelines.connectors import available_connectors, connector, get_connector, registry
from pipelines.errors import ConfigError

EXPECTED = {"communes", "dpe", "dvf", "enedis_consumption", "filosofi_grid", "filosofi_zones", "gtfs", "iris",
            "lovac", "point_csv", "rpls", "travel_survey"}


def test_every_format_is_registered_by_importing_the_package_modules():
    assert set(available_connectors()) == EXPECTED


def test_unknown_name_lists_the_known_connectors():
    with pytest.raises(ConfigError) as excinfo:
        get_connector("dpe_v3")
    message = str(excinfo.value)
    assert "unknown connector 'dpe_v3'" in message
    for name in EXPECTED:
        assert name in message


def test_unknown_option_lists_the_accepted_ones(tmp_path):
    reader = get_connector("lovac")
    with pytest.raises(ConfigError) as excinfo:
        reader(tmp_path / "x.csv", working_crs="EPSG:2154", separator=";")
    assert "separator" in str(excinfo.value)
    assert "sep" in str(excinfo.value) and "encoding" in str(excinfo.value)


def test_a_name_registered_twice_by_different_readers_is_refused():
    def first(path, *, working_crs="EPSG:2154"):
        return path

    def second(path, *, working_crs="EPSG:2154"):
        return path

    try:
        connector("_test_twice")(first)
        with pytest.raises(ConfigError, match="registered twice"):
            connector("_test_twice")(second)
    finally:
        registry._READERS.pop("_test_twice", None)


def test_get_connector_returns_a_reader_that_passes_options_through(tmp_path, write):
    path = write(tmp_path / "lovac.csv", "CODGEO_25;pp_vacant_25;pp_total_24\n01001;12;340\n")
    frame = get_connector("lovac")(path, working_crs="EPSG:2154", sep=";")
    assert frame["code_commune"].tolist() == ["01001"]
