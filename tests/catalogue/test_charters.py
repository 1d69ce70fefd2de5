"""Sharing charters: clauses validated on load, enforced when definitions load and when a
territory runs, and the licence of every output derived from what reaches it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import geopandas as gpd
import pytest

from pipelines import config
from pipelines.assets.bundle import manifest, write_bundle
from pipelines.assets.protected import protected_asset
from pipelines.assets.release import DemonstratorView
from pipelines.assets.sources import refuse_expired, staged_asset
from pipelines.catalogue import load_card, load_sources, load_territory, territory_sources
from pipelines.catalogue.charters import (
    CharterError,
    charter_problems,
    output_licence,
    reaching_sources,
    retention_problem,
    today,
)
from pipelines.catalogue.load import load_source_card
from pipelines.catalogue.models import Charter, SourceCard, Territory
from pipelines.components.loading import load_demonstrators
from pipelines.config import PACKAGE_DIR
from pipelines.errors import ConfigError
from tests_support import load_demonstrator

CLONE = PACKAGE_DIR.parent
BILATERAL = {"licence": {"bilateral": "Convention de partage de données fictive"}, "attribution": "Opérateur (fictif)",
             "purposes": ["energy_poverty"], "min_zoning": "iris", "until": "2030-12-31", "contact": "dpo@x.invalid"}


def source(id_: str, licence: str = "Licence Ouverte 2.0 (Etalab)", charter: dict | None = None,
           sensitivity: str = "public") -> SourceCard:
    """A hand-made card: only its licence, attribution and charter matter here."""
    return SourceCard.model_validate({
        "id": id_, "title": id_, "producer": "p", "sensitivity": sensitivity, "licence": licence,
        "attribution": f"credit {id_}", "date": "2024", "format": "csv", "file": f"{id_}.csv", "charter": charter})


# --- the licence of an output -------------------------------------------------------------

def test_odbl_with_licence_ouverte_gives_odbl_with_both_credits():
    licence, credits = output_licence([source("bus", "ODbL 1.0"), source("iris")])
    assert licence == "ODbL 1.0"
    assert credits == ["credit bus", "credit iris"]


def test_cc_by_with_licence_ouverte_gives_licence_ouverte_listing_every_attribution():
    cc = source("osm_like", charter=BILATERAL | {"licence": "CC-BY 4.0", "attribution": "Voisin — CC-BY"})
    assert output_licence([source("iris"), cc]) == ("Licence Ouverte 2.0 (Etalab)", ["credit iris", "Voisin — CC-BY"])


def test_a_bilateral_agreement_keeps_the_licence_unless_it_imposes_one():
    operator = source("op", "Convention", BILATERAL, "private")
    assert output_licence([source("iris"), operator])[0] == "Licence Ouverte 2.0 (Etalab)"
    imposing = source("op", "Convention", BILATERAL | {"output_licence": "CC-BY 4.0"}, "private")
    assert output_licence([source("iris"), imposing])[0] == "CC-BY 4.0"


def test_odbl_with_an_agreement_forbidding_share_alike_is_refused_naming_source_clause_and_output():
    operator = source("op", "Convention", BILATERAL | {"share_alike": False}, "private")
    with pytest.raises(CharterError) as info:
        output_licence([source("bus", "ODbL 1.0"), operator], output="mobility_access_iris")
    message = str(info.value)
    assert "source 'op'" in message and "share_alike" in message and "'mobility_access_iris'" in message
    assert "['bus']" in message


def test_odbl_with_an_agreement_imposing_another_licence_is_refused():
    operator = source("op", "Convention", BILATERAL | {"output_licence": "Licence Ouverte 2.0 (Etalab)"}, "private")
    with pytest.raises(CharterError, match=r"source 'op': clause output_licence .* in output 'x_commune'"):
        output_licence([source("bus", "ODbL 1.0"), operator], output="x_commune")


# --- the charter as a card writes it ------------------------------------------------------

def write_sources(tmp_path: Path, charter_line: str) -> Path:
    sources = tmp_path / "sources"
    (sources / "charters").mkdir(parents=True)
    text = (CLONE / "sources" / "operator_consumption.yaml").read_text(encoding="utf-8")
    start = text.index("charter:\n")
    end = text.index("date:", start)
    (sources / "operator_consumption.yaml").write_text(text[:start] + charter_line + "\n" + text[end:], encoding="utf-8")
    return sources


def test_a_charter_file_of_sources_charters_is_read_with_the_card(tmp_path):
    sources = write_sources(tmp_path, "charter: convention_energie.yaml")
    (sources / "charters" / "convention_energie.yaml").write_text(
        "licence: ODbL 1.0\nattribution: Régie (fictive)\npurposes: [energy_poverty]\nmin_zoning: commune\n"
        "retention_days: 365\ncontact: regie@x.invalid\n", encoding="utf-8")
    card = load_source_card(sources / "operator_consumption.yaml")
    assert card.charter == Charter(licence="ODbL 1.0", attribution="Régie (fictive)", purposes=["energy_poverty"],
                                   min_zoning="commune", retention_days=365, contact="regie@x.invalid")


@pytest.mark.parametrize("line", ["charter: ../operator_consumption.yaml", "charter: /etc/charter.yaml"])
def test_a_charter_path_leaving_the_project_is_refused(tmp_path, line):
    sources = write_sources(tmp_path, line)
    with pytest.raises(ConfigError, match=r"operator_consumption.yaml:\d+: field 'charter'.*relative path"):
        load_source_card(sources / "operator_consumption.yaml")


def test_a_missing_charter_file_names_the_card_the_field_and_the_folder(tmp_path):
    sources = write_sources(tmp_path, "charter: nowhere.yaml")
    with pytest.raises(ConfigError) as info:
        load_source_card(sources / "operator_consumption.yaml")
    assert "operator_consumption.yaml:" in str(info.value) and "field 'charter'" in str(info.value)
    assert "nowhere.yaml" in str(info.value) and "charters" in str(info.value)


def test_a_wrong_clause_names_the_charter_file_line_and_field(tmp_path):
    sources = write_sources(tmp_path, "charter: bad.yaml")
    (sources / "charters" / "bad.yaml").write_text(
        "licence: {bilateral: Convention}\nattribution: a\npurposes: [marketing]\nmin_zoning: grid\n"
        "until: 31/12/2030\ncontact: c\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_source_card(sources / "operator_consumption.yaml")
    message = str(info.value)
    assert f"{sources / 'charters' / 'bad.yaml'}:3: field 'purposes.0'" in message and "energy_poverty" in message
    assert "bad.yaml:4: field 'min_zoning'" in message and "'iris', 'commune' or 'territory'" in message
    assert "bad.yaml:5: field 'until'" in message and "YYYY-MM-DD" in message
    assert "marketing" not in message.split("purposes.0")[1].split(";")[0].split("(allowed")[0]


def test_a_charter_needs_a_retention():
    with pytest.raises(ValueError, match="until: YYYY-MM-DD.*retention_days"):
        Charter.model_validate({k: v for k, v in BILATERAL.items() if k != "until"})


def test_the_sample_operators_and_personal_sources_carry_a_bilateral_charter():
    cards = load_sources()
    for sid in ("operator_consumption", "carsharing_trips", "smart_meter", "travel_survey"):
        charter = cards[sid].charter
        assert charter.licence.bilateral.startswith("Convention de partage de données fictive")
        assert charter.min_zoning == "iris" and charter.until == dt.date(2030, 12, 31)
    assert all(cards[s].charter is None for s in ("filosofi_200m", "iris", "dpe"))


# --- enforced when definitions load --------------------------------------------------------

def copy_demonstrators(tmp_path: Path) -> Path:
    folder = tmp_path / "demonstrators"
    shutil.copytree(CLONE / "demonstrators", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_the_three_demonstrators_load_and_the_energy_grid_stays_public():
    demo, registry, _ = load_demonstrator("energy_precarity")
    cards = load_sources()
    assert reaching_sources(demo, registry, "grid") == ["filosofi_200m", "iris"]
    assert "operator_consumption" in reaching_sources(demo, registry, "iris")
    for name in ("energy_precarity", "housing_affordability", "mobility_access"):
        demo, registry, _ = load_demonstrator(name)
        assert charter_problems(demo, registry, cards) == []


def test_a_bilateral_source_reaching_the_200m_grid_is_refused_at_load(tmp_path):
    folder = copy_demonstrators(tmp_path)
    # `households` is published on the grid too: feeding it the operator's data brings
    # that data to 200 m cells, finer than its charter's IRIS.
    edit(folder / "energy_precarity" / "indicators.yaml", "sources: [filosofi_200m, iris]",
         "sources: [filosofi_200m, operator_consumption, iris]")
    with pytest.raises(ConfigError) as info:
        load_demonstrators(folder)
    message = str(info.value)
    assert str(folder / "energy_precarity" / "defs.yaml") in message
    assert "source 'operator_consumption': clause min_zoning: iris" in message
    assert "output 'energy_precarity_grid'" in message and "Fix:" in message
    assert "energy_precarity_iris" not in message  # IRIS is allowed


def test_a_demonstrator_purpose_outside_a_charter_is_refused_at_load(tmp_path):
    folder = copy_demonstrators(tmp_path)
    edit(folder / "energy_precarity" / "defs.yaml", "purpose: energy_poverty", "purpose: housing_policy")
    with pytest.raises(ConfigError) as info:
        load_demonstrators(folder)
    message = str(info.value)
    assert "source 'smart_meter': clause purposes of its charter allows ['energy_poverty']" in message
    assert "demonstrator 'energy_precarity''s purpose 'housing_policy'" in message
    # the operator's charter allows public_statistics and energy_poverty, not housing_policy either
    assert "source 'operator_consumption': clause purposes" in message


def test_a_private_source_without_a_charter_is_refused():
    demo, registry, _ = load_demonstrator("energy_precarity")
    cards = load_sources()
    cards["smart_meter"] = cards["smart_meter"].model_copy(update={"charter": None})
    problems = charter_problems(demo, registry, cards)
    assert len(problems) == 1 and "source 'smart_meter' (personal) has no charter" in problems[0]


# --- a territory's own charter, enforced when its release runs -----------------------------

STRICT = """id: strict_town
name: Ville stricte
data_dir: strict_town
sources:
  operator_consumption:
    charter:
      licence: {bilateral: "Convention communale fictive"}
      attribution: "Régie communale (fictive)"
      purposes: [energy_poverty]
      min_zoning: commune
      until: 2027-06-30
      contact: regie@x.invalid
"""


def test_a_territory_overrides_a_charter_and_its_release_refuses_the_finer_table(tmp_path):
    path = tmp_path / "strict_town.yaml"
    path.write_text(STRICT, encoding="utf-8")
    territory = load_card(path, Territory)
    cards = territory_sources(territory, load_sources())
    assert cards["operator_consumption"].charter.min_zoning == "commune"
    demo, registry, _ = load_demonstrator("energy_precarity")
    problems = charter_problems(demo, registry, cards, territory)
    assert len(problems) == 1
    assert "source 'operator_consumption': clause min_zoning: commune" in problems[0]
    assert "output 'energy_precarity_iris'" in problems[0]
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(CharterError, match="territory 'strict_town', demonstrator 'energy_precarity'"):
        write_bundle(demo, {}, DemonstratorView(demo, territory, cards, registry), {}, staging)
    assert list(staging.iterdir()) == []  # refused before anything is staged
    # Without the operator's data the same territory publishes per IRIS.
    absent = Territory.model_validate(territory.model_dump() | {"sources": {"operator_consumption": {"absent": True}}})
    assert charter_problems(demo, registry, territory_sources(absent, load_sources()), absent) == []


def test_a_territory_charter_file_is_read_from_sources_charters(tmp_path, monkeypatch):
    sources = tmp_path / "sources"
    (sources / "charters").mkdir(parents=True)
    (sources / "charters" / "regie.yaml").write_text(
        "licence: ODbL 1.0\nattribution: Régie (fictive)\npurposes: [energy_poverty]\nmin_zoning: iris\n"
        "until: 2029-01-01\ncontact: r@x.invalid\n", encoding="utf-8")
    monkeypatch.setattr(config, "SOURCES_DIR", sources)
    territory = Territory.model_validate({"id": "t", "name": "T", "data_dir": "t",
                                          "sources": {"operator_consumption": {"charter": "regie.yaml"}}})
    cards = territory_sources(territory, load_sources(CLONE / "sources"))
    assert cards["operator_consumption"].charter.licence == "ODbL 1.0"
    demo, registry, _ = load_demonstrator("energy_precarity")
    assert set(reaching_sources(demo, registry, "iris", territory)) >= {"operator_consumption", "dpe"}


# --- the licence in the manifests ---------------------------------------------------------

def test_each_manifest_takes_the_licence_of_the_sources_reaching_its_table():
    demo, registry, _ = load_demonstrator("energy_precarity")
    cards = load_sources()
    cards["dpe"] = cards["dpe"].model_copy(update={"licence": "ODbL 1.0"})  # as if the DPE were ODbL
    used = [cards[s] for s in demo.sources]
    empty = gpd.GeoDataFrame()
    grid = manifest(demo, "grid", "energy_precarity_grid", empty, used, registry,
                    reaching=reaching_sources(demo, registry, "grid"))
    iris = manifest(demo, "iris", "energy_precarity_iris", empty, used, registry,
                    reaching=reaching_sources(demo, registry, "iris"))
    assert grid["licence"] == "Licence Ouverte 2.0 (Etalab)"  # no DPE on the grid
    assert grid["licence_sources"] == ["iris", "filosofi_200m"]
    assert iris["licence"] == "ODbL 1.0"
    assert "Opérateur de distribution d'énergie (fictif), données agrégées" in iris["licence_attributions"]
    assert iris["source_licences"]["dpe"] == "ODbL 1.0" and set(iris["source_licences"]) == set(demo.sources)
    assert iris["attribution"] == "; ".join(card.attribution for card in used)


# --- retention, at run time -----------------------------------------------------------------

def test_today_comes_from_datacites_today(monkeypatch):
    monkeypatch.setenv("DATACITES_TODAY", "2031-01-01")
    assert today() == dt.date(2031, 1, 1)
    monkeypatch.setenv("DATACITES_TODAY", "01/01/2031")
    with pytest.raises(ConfigError, match="DATACITES_TODAY must be a date written YYYY-MM-DD"):
        today()


def test_retention_days_count_from_the_files_delivery(tmp_path):
    file = tmp_path / "data.csv"
    file.write_text("x\n", encoding="utf-8")
    delivered = dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone.utc).timestamp()
    os.utime(file, (delivered, delivered))
    card = source("op", "Convention", {k: v for k, v in BILATERAL.items() if k != "until"} | {"retention_days": 30},
                  "private")
    assert retention_problem(card, dt.date(2025, 3, 31), file) is None
    problem = retention_problem(card, dt.date(2025, 4, 1), file)
    assert problem == ("source 'op': clause retention_days: 30 of its charter ended on 2025-03-31 "
                       "(file delivered 2025-03-01, today is 2025-04-01)")


@pytest.fixture
def expired_store(tmp_path, monkeypatch):
    """A store holding what the sample derived from the operator and the meters, on the
    day after their charters end."""
    monkeypatch.setattr(config, "STORE_DIR", tmp_path / "store")
    monkeypatch.setenv("DATACITES_TODAY", "2031-01-01")
    folder = tmp_path / "store" / "sample"
    folder.mkdir(parents=True)
    names = ["staged_operator_consumption", "aggregated_operator_consumption", "anonymised_smart_meter",
             "staged_dpe", "energy_precarity/indicators_iris"]
    for name in names:
        (folder / f"{name}.parquet").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.parquet").write_bytes(b"PAR1")
    return folder


def test_an_expired_charter_refuses_the_run_and_deletes_the_derived_store_files(expired_store):
    cards = load_sources()
    territory = load_territory("sample")
    with pytest.raises(CharterError) as info:
        refuse_expired(cards["operator_consumption"], territory)
    message = str(info.value)
    assert message.startswith("source 'operator_consumption': clause until: 2030-12-31 of its charter has passed "
                              "(today is 2031-01-01)")
    assert "staged_operator_consumption.parquet" in message and "aggregated_operator_consumption.parquet" in message
    assert "Fix:" in message
    left = sorted(p.relative_to(expired_store).as_posix() for p in expired_store.rglob("*.parquet"))
    assert left == ["anonymised_smart_meter.parquet", "energy_precarity/indicators_iris.parquet", "staged_dpe.parquet"]


def test_the_staged_and_anonymised_assets_refuse_expired_data_before_reading_it(expired_store, monkeypatch):
    cards = load_sources()
    staged = staged_asset(cards["operator_consumption"])
    with pytest.raises(CharterError, match="source 'operator_consumption': clause until: 2030-12-31"):
        staged(dg.build_asset_context(partition_key="sample"), iris=gpd.GeoDataFrame(), commune=gpd.GeoDataFrame())
    anonymiser = protected_asset(cards["smart_meter"], cards)
    with pytest.raises(CharterError, match="source 'smart_meter': clause until: 2030-12-31"):
        anonymiser(dg.build_asset_context(partition_key="sample"), iris=gpd.GeoDataFrame())
    assert sorted(p.name for p in expired_store.glob("*.parquet")) == ["staged_dpe.parquet"]
    # The day the charters end, the data is still allowed.
    monkeypatch.setenv("DATACITES_TODAY", "2030-12-31")
    assert retention_problem(cards["smart_meter"], today()) is None
