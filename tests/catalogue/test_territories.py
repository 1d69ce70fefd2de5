"""Territory cards: per-source overrides, paths kept inside the project, clear refusals."""

from __future__ import annotations

import pytest

from pipelines.catalogue import load_card, load_sources, territory_sources
from pipelines.catalogue.load import load_territory
from pipelines.catalogue.models import Territory
from pipelines.errors import ConfigError

REAL = """id: real_town
name: Ville réelle
working_crs: EPSG:2154
data_dir: real_town
files: {dpe: dpe_export.csv}
sources:
  gtfs_bus:
    file: feed.zip
    producer: Syndicat des mobilités de la Ville réelle
    attribution: "Syndicat des mobilités — offre théorique GTFS"
    licence: ODbL 1.0
    date: "2026"
    url: https://example.org/gtfs
    options: {day: "2026-03-02"}
  operator_consumption:
    absent: true
"""


def card(tmp_path, text: str, name: str = "real_town"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_card(path, Territory)


def test_overrides_replace_file_credits_and_options_of_the_card(tmp_path):
    territory = card(tmp_path, REAL)
    base = load_sources()
    cards = territory_sources(territory, base)
    gtfs = cards["gtfs_bus"]
    assert (gtfs.file, gtfs.producer, gtfs.licence, gtfs.date) == (
        "feed.zip", "Syndicat des mobilités de la Ville réelle", "ODbL 1.0", "2026")
    assert gtfs.attribution == "Syndicat des mobilités — offre théorique GTFS"
    assert gtfs.options == base["gtfs_bus"].options | {"day": "2026-03-02"}
    assert cards["dpe"].file == "dpe_export.csv" and cards["dpe"].producer == base["dpe"].producer
    assert "fictive" in base["gtfs_bus"].producer  # the shared card is left as it was
    assert territory.absent("operator_consumption") and not territory.absent("gtfs_bus")


def test_an_override_of_an_unknown_source_names_the_territory_and_the_known_ids(tmp_path):
    territory = card(tmp_path, REAL.replace("  gtfs_bus:", "  gtfs_buss:"))
    with pytest.raises(ConfigError) as info:
        territory_sources(territory)
    assert "real_town.yaml" in str(info.value) and "['gtfs_buss']" in str(info.value) and "gtfs_bus" in str(info.value)


def test_sensitivity_is_not_the_territorys_to_change(tmp_path):
    text = REAL.replace('options: {day: "2026-03-02"}', 'options: {day: "2026-03-02"}\n    sensitivity: public')
    with pytest.raises(ConfigError, match=r"sources\.gtfs_bus\.sensitivity"):
        card(tmp_path, text)


@pytest.mark.parametrize("field, value", [("data_dir", "../../elsewhere"), ("data_dir", "/etc"),
                                          ("files", "{dpe: ../../../../etc/passwd}"),
                                          ("sources", "{dpe: {file: /etc/passwd}}")])
def test_paths_from_the_card_stay_inside_the_project(tmp_path, field, value):
    text = f"id: bad\nname: Bad\ndata_dir: bad\n{field}: {value}\n" if field != "data_dir" else \
        f"id: bad\nname: Bad\ndata_dir: {value}\n"
    with pytest.raises(ConfigError, match="relative path inside the project"):
        card(tmp_path, text, "bad")


def test_zonings_cannot_be_pointed_at_another_source(tmp_path):
    with pytest.raises(ConfigError, match="override the file of that source"):
        card(tmp_path, "id: z\nname: Z\ndata_dir: z\nzonings: {iris: communes, commune: communes, "
                       "grid: filosofi_200m}\n", "z")


def test_codes_stay_text_with_leading_zeros_and_corsica(tmp_path):
    territory = card(tmp_path, "id: c\nname: C\ndata_dir: c\ncommunes:\n  - {code: '01004', name: Ambérieu}\n"
                               "  - {code: '2A004', name: Ajaccio}\n", "c")
    assert [c.code for c in territory.communes] == ["01004", "2A004"]
    with pytest.raises(ConfigError, match="communes"):
        card(tmp_path, "id: c\nname: C\ndata_dir: c\ncommunes:\n  - {code: 1004, name: Ambérieu}\n", "c")


def test_an_unknown_territory_says_how_to_create_it():
    with pytest.raises(ConfigError) as info:
        load_territory("nowhere_at_all")
    assert "docs/territories.md" in str(info.value) and "sample" in str(info.value)


def test_a_copied_card_keeping_another_id_is_refused(tmp_path, monkeypatch):
    from pipelines import config

    monkeypatch.setattr(config, "TERRITORIES_DIR", tmp_path)
    (tmp_path / "lyon.yaml").write_text("id: sample\nname: Lyon\ndata_dir: lyon\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'id' is 'sample' but must equal the file name 'lyon'"):
        load_territory("lyon", directory=tmp_path)


def absent(tmp_path, *sources):
    lines = "".join(f"\n  {s}: {{absent: true}}" for s in sources) or " {}"
    return card(tmp_path, f"id: t\nname: T\ndata_dir: t\nsources:{lines}\n", "t")


def test_what_a_territory_lacks_is_optional_replaced_or_fatal(tmp_path):
    from tests_support import load_demonstrator

    energy, registry, _ = load_demonstrator("energy_precarity")
    assert energy.lacking(absent(tmp_path, "dpe")) == ["dpe"]  # public, no stand-in: the run refuses
    assert energy.lacking(absent(tmp_path, "operator_consumption", "smart_meter")) == []  # optional
    no_grid = absent(tmp_path, "filosofi_200m")
    assert energy.lacking(no_grid) == []  # Filosofi per IRIS and per commune stand in
    assert energy.lacking(absent(tmp_path, "filosofi_200m", "filosofi_iris", "filosofi_commune")) == ["filosofi_200m"]
    shown = energy.available(registry, no_grid)
    assert {"share_low_income", "share_households_low_income_fg", "share_fg"} <= set(shown)
    assert not {"households", "low_income_households", "hidden_precarity_households"} & set(shown)
    used = energy.used_sources(no_grid)
    assert "filosofi_200m" not in used and used[-2:] == ["filosofi_iris", "filosofi_commune"]
    everything = energy.used_sources(absent(tmp_path))
    assert "filosofi_iris" not in everything  # a stand-in is credited only when it is used


@pytest.mark.parametrize("crs, problem", [("EPSG:99999", "not a CRS pyproj knows"),
                                          ("EPSG:4326", "projected CRS in metres")])
def test_the_territorys_crs_is_checked_when_the_card_loads(tmp_path, crs, problem):
    with pytest.raises(ConfigError, match=problem):
        card(tmp_path, f"id: t\nname: T\ndata_dir: t\nworking_crs: {crs}\n", "t")
