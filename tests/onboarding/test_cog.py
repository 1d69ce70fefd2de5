"""Territory cards written from the official geography (COG 2026, real and hand-written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pyproj import CRS

from pipelines.catalogue import load_card, load_territory, territory_sources
from pipelines.catalogue.models import Territory
from pipelines.config import PROJECT_ROOT, SOURCES_DIR
from pipelines.errors import ConfigError
from pipelines.onboarding import load_cog, territory_card, write_territory_card

RENNES = "243500139"
LYON_METROPOLE = "200046977"
LYON_ARRONDISSEMENTS = [f"6938{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def folder(realdata) -> Path:
    return realdata("cog2026")


@pytest.fixture(scope="module")
def cog(folder):
    return load_cog(folder)


@pytest.fixture(scope="module")
def raw(folder) -> dict[str, list[dict]]:
    """The JSON files as published, read independently of the code under test."""
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("communes", "epci")}


def card(cog, **kw) -> dict:
    return yaml.safe_load(territory_card(cog, "test_territory", **kw))


def codes(data: dict) -> list[str]:
    return [c["code"] for c in data["communes"]]


def members(raw, siren: str) -> list[str]:
    return [m["code"] for m in next(e for e in raw["epci"] if e["code"] == siren)["membres"]]


def current_names(raw) -> dict[str, str]:
    return {c["code"]: c["nom"] for c in raw["communes"] if c["type"] in ("commune-actuelle", "arrondissement-municipal")}


# --- real COG 2026 -----------------------------------------------------------------------


def test_an_epci_card_lists_exactly_its_members_with_their_current_names(cog, raw):
    data = card(cog, epci=RENNES)
    assert codes(data) == sorted(members(raw, RENNES))
    assert len(data["communes"]) == 43  # counted in epci.json: Rennes Métropole has 43 members in 2026
    names = current_names(raw)
    assert all(c["name"] == names[c["code"]] for c in data["communes"])
    assert {c["code"]: c["name"] for c in data["communes"]}["35238"] == "Rennes"
    assert (data["id"], data["name"], data["fictional"], data["data_dir"]) == (
        "test_territory", "Rennes Métropole", False, "test_territory")
    assert (data["working_crs"], data["grid_crs"]) == ("EPSG:2154", "EPSG:3035")


def test_lyon_is_one_commune_by_default_and_its_arrondissements_on_request(cog, raw):
    expected = sorted(members(raw, LYON_METROPOLE))
    assert "69123" in expected and len(expected) == 58
    default = card(cog, epci=LYON_METROPOLE)
    assert codes(default) == expected
    split = card(cog, epci=LYON_METROPOLE, arrondissements=True)
    assert codes(split) == sorted([c for c in expected if c != "69123"] + LYON_ARRONDISSEMENTS)
    assert len(split["communes"]) == 66
    text = territory_card(cog, "lyon", epci=LYON_METROPOLE, arrondissements=True)
    assert "69123 (Lyon) by arrondissement municipal" in text and "--arrondissements" in text
    assert "69123 (Lyon) as one commune" in territory_card(cog, "lyon", epci=LYON_METROPOLE)
    assert "Paris, Lyon and Marseille" not in territory_card(cog, "rennes", epci=RENNES)


def test_an_arrondissement_given_by_code_is_listed_as_such_like_the_lyon_8e_card(cog):
    lyon_8e = yaml.safe_load((PROJECT_ROOT / "tests" / "territories" / "lyon_8e.yaml").read_text(encoding="utf-8"))
    data = card(cog, communes=["69388"])
    assert data["communes"] == lyon_8e["communes"]
    assert data["name"] == "Lyon 8e Arrondissement"
    # One arrondissement given puts every city of the card at that level.
    mixed = card(cog, communes=["69388", "13055"])
    assert codes(mixed) == sorted([f"132{i:02d}" for i in range(1, 17)] + ["69388"])


def test_a_city_listed_with_one_of_its_arrondissements_is_refused(cog):
    with pytest.raises(ConfigError) as info:
        territory_card(cog, "lyon", communes=["69123", "69388"])
    assert "69388" in str(info.value) and "69123" in str(info.value) and "never both" in str(info.value)


def test_a_martinique_epci_takes_the_crs_of_the_french_antilles(cog, raw):
    siren = next(e["code"] for e in raw["epci"] if e["nom"] == "CA du Centre de la Martinique")
    data = card(cog, epci=siren)
    assert codes(data) == sorted(members(raw, siren)) and all(c.startswith("972") for c in codes(data))
    assert (data["working_crs"], data["grid_crs"]) == ("EPSG:5490", "EPSG:5490")
    assert "Martinique" in CRS.from_user_input(data["working_crs"]).area_of_use.name


@pytest.mark.parametrize(("departement", "working_area", "grid_area"), [
    ("35", "mainland and Corsica", "Europe"),
    ("2A", "mainland and Corsica", "Europe"),
    ("971", "Guadeloupe", "Guadeloupe"),
    ("972", "Martinique", "Martinique"),
    ("973", "French Guiana", "French Guiana"),
    ("974", "Reunion", "Reunion"),
    ("976", "Mayotte", "Mayotte"),
])
def test_the_crss_are_those_of_the_departement(cog, raw, departement, working_area, grid_area):
    code = next(c["code"] for c in raw["communes"]
                if c["type"] == "commune-actuelle" and c["departement"] == departement)
    data = card(cog, communes=[code])
    working, grid = CRS.from_user_input(data["working_crs"]), CRS.from_user_input(data["grid_crs"])
    assert working_area in working.area_of_use.name and grid_area in grid.area_of_use.name
    assert working.is_projected and working.axis_info[0].unit_name == "metre"


def test_communes_of_different_crss_and_collectivites_d_outre_mer_are_refused(cog):
    with pytest.raises(ConfigError, match=r"different CRSs.*35.*972"):
        territory_card(cog, "mixed", communes=["35238", "97209"])
    with pytest.raises(ConfigError, match=r"97502 is in 975 \(Saint-Pierre-et-Miquelon\).*no CRS"):
        territory_card(cog, "spm", communes=["97502"])


def test_an_unknown_code_is_named_with_close_current_codes(cog, raw):
    names = current_names(raw)
    assert "35999" not in names
    with pytest.raises(ConfigError) as info:
        territory_card(cog, "x", communes=["35238", "35999"])
    message = str(info.value)
    assert "'35999'" in message and "Did you mean" in message
    suggested = [word for word in message.replace(",", " ").split() if word[:2] == "35" and word in names]
    assert suggested, message
    with pytest.raises(ConfigError, match=r"69123 \(Lyon\)"):  # a name typed instead of a code
        territory_card(cog, "x", communes=["Lyon"])


def test_a_delegated_commune_or_former_code_names_the_commune_that_absorbed_it(cog, raw):
    names = current_names(raw)
    delegated = next(c for c in raw["communes"] if c["type"] == "commune-deleguee" and c["code"] not in names)
    with pytest.raises(ConfigError) as info:
        territory_card(cog, "x", communes=[delegated["code"]])
    assert delegated["code"] in str(info.value) and "déléguée" in str(info.value)
    assert f"list {delegated['chefLieu']} instead" in str(info.value)
    with pytest.raises(ConfigError, match=r"69232 is a former code of 69123 \(Lyon\)"):  # in Lyon's anciensCodes
        territory_card(cog, "x", communes=["69232"])


def test_an_unknown_epci_and_a_wrong_choice_of_arguments_are_refused(cog):
    with pytest.raises(ConfigError, match="'243500138'.*epci.json"):
        territory_card(cog, "x", epci="243500138")
    for kw in ({}, {"epci": RENNES, "communes": ["35238"]}):
        with pytest.raises(ConfigError, match="exactly one"):
            territory_card(cog, "x", **kw)
    with pytest.raises(ConfigError, match="no commune given"):
        territory_card(cog, "x", communes=[])


def test_default_and_given_names(cog):
    assert card(cog, communes=["35238", "35001", "35024"])["name"] == "Territoire de Rennes et 2 autres communes"
    assert card(cog, communes=["80829", "35238"])["name"] == "Territoire d'Y et 1 autre commune"
    assert card(cog, communes=["35238"], name="Ville de Rennes")["name"] == "Ville de Rennes"


def test_codes_stay_text_with_leading_zeros_and_corsican_letters(cog, raw):
    corsica = sorted(c["code"] for c in raw["communes"]
                     if c["type"] == "commune-actuelle" and c["departement"] == "2A")
    text = territory_card(cog, "corse", communes=corsica + ["2B033"])
    data = yaml.safe_load(text)
    assert codes(data) == sorted(corsica + ["2B033"]) and all(isinstance(c, str) for c in codes(data))
    leading = card(cog, communes=["01001", "01004"])
    assert codes(leading) == ["01001", "01004"]
    assert leading["communes"][0]["name"] == "L'Abergement-Clémenciat"
    assert '{code: "01001", name: "L\'Abergement-Clémenciat"}' in territory_card(cog, "x", communes=["01001"])


def test_every_source_card_appears_public_ones_expected_the_others_absent(cog):
    cards = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(SOURCES_DIR.glob("*.yaml"))]
    text = territory_card(cog, "rennes", epci=RENNES)
    sources = yaml.safe_load(text)["sources"]
    optional = {c["id"] for c in cards if c["sensitivity"] in ("private", "personal")}
    assert optional and sources == {key: {"absent": True} for key in optional}
    for c in cards:
        if c["sensitivity"] == "public":
            assert f"  # {c['id']}: expected in sources/rennes/{c['file']}\n" in text


# --- writing the card --------------------------------------------------------------------


def test_the_written_card_loads_with_the_projects_loader(folder, tmp_path, raw):
    path = write_territory_card(folder, tmp_path, "lyon_metropole", epci=LYON_METROPOLE, arrondissements=True)
    assert path == tmp_path / "lyon_metropole.yaml"
    territory = load_card(path, Territory)
    assert territory == load_territory("lyon_metropole", tmp_path)
    assert [c.code for c in territory.communes][-9:] == LYON_ARRONDISSEMENTS
    assert territory.absent("smart_meter") and not territory.absent("iris")
    assert territory_sources(territory)["iris"].file == "contours_iris.gpkg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lyon_metropole.yaml"]  # no temporary file left


def test_an_existing_card_is_never_replaced(folder, tmp_path):
    path = tmp_path / "rennes.yaml"
    path.write_text("mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists; choose another id or delete it"):
        write_territory_card(folder, tmp_path, "rennes", epci=RENNES)
    assert path.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("hostile", ["../x", "a/b", "", "Con", "con", "9abc", "x y", "x.yaml", "é", "_x",
                                     "comparison", "lyon\n"])
def test_hostile_ids_are_refused_and_nothing_is_written(folder, tmp_path, hostile):
    territories = tmp_path / "territories"
    with pytest.raises(ConfigError, match="territory id"):
        write_territory_card(folder, territories, hostile, communes=["35238"])
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a file beside it


# --- hand-written COG files: layout and error paths --------------------------------------


def tiny_cog(folder: Path, **files: object) -> Path:
    """A COG folder of 3 communes, Lyon with 2 arrondissements, a delegated commune, 1 EPCI."""
    data = {
        "communes": [
            {"code": "35001", "nom": "Acigné", "type": "commune-actuelle", "departement": "35"},
            {"code": "35238", "nom": "Rennes", "type": "commune-actuelle", "departement": "35",
             "anciensCodes": ["35900"]},
            {"code": "35002", "nom": "Ancienne", "type": "commune-deleguee", "departement": "35", "chefLieu": "35001"},
            {"code": "69123", "nom": "Lyon", "type": "commune-actuelle", "departement": "69"},
            {"code": "69381", "nom": "Lyon 1er", "type": "arrondissement-municipal", "departement": "69",
             "commune": "69123"},
            {"code": "69382", "nom": "Lyon 2e", "type": "arrondissement-municipal", "departement": "69",
             "commune": "69123"},
        ],
        "epci": [{"code": "200000001", "nom": "CA de Test", "membres": [{"code": "35238"}, {"code": "35001"}]}],
        "departements": [{"code": "35", "nom": "Ille-et-Vilaine"}, {"code": "69", "nom": "Rhône"}],
    } | files
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        if content is not None:
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / f"{name}.json").write_text(text, encoding="utf-8")
    return folder


def test_a_tiny_cog_is_read_with_its_arrondissements_and_former_codes(tmp_path):
    cog = load_cog(tiny_cog(tmp_path / "cog"))
    assert sorted(cog.communes) == ["35001", "35238", "69123", "69381", "69382"]
    assert cog.communes["69123"].arrondissements == ("69381", "69382")
    assert cog.communes["69382"].parent == "69123"
    assert (cog.former["35002"].successor, cog.former["35900"].successor) == ("35001", "35238")
    assert cog.epcis["200000001"].members == ("35238", "35001")
    assert cog.departements == {"35": "Ille-et-Vilaine", "69": "Rhône"}
    data = yaml.safe_load(territory_card(cog, "test", epci="200000001", sources_dir=tmp_path / "none"))
    assert data["communes"] == [{"code": "35001", "name": "Acigné"}, {"code": "35238", "name": "Rennes"}]
    assert data["sources"] == {}
    assert codes(yaml.safe_load(territory_card(cog, "t", communes=["69123"], arrondissements=True))) == [
        "69381", "69382"]
    with pytest.raises(ConfigError, match=r"35002 \(Ancienne\) is a commune déléguée of 35001 \(Acigné\)"):
        territory_card(cog, "t", communes=["35002"])


def test_a_missing_folder_or_file_is_named_with_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere: no such folder.*@etalab/decoupage-administratif"):
        load_cog(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"epci\.json: missing.*npm pack"):
        load_cog(tiny_cog(tmp_path / "cog", epci=None))


@pytest.mark.parametrize(("files", "problem"), [
    ({"communes": '[{"code": "35001",'}, r"communes\.json: not valid UTF-8 JSON \(line 1\)"),
    ({"departements": {"35": "Ille-et-Vilaine"}}, r"departements\.json: expected a list of objects, found dict"),
    ({"communes": [{"code": 35001, "nom": "Acigné", "type": "commune-actuelle", "departement": "35"}]},
     r"communes\.json: entry 0: field 'code' is missing or not text"),
    ({"communes": [{"code": "35001", "nom": "Acigné", "type": "commune-nouvelle", "departement": "35"}]},
     r"communes\.json: entry 0: unknown type"),
    ({"epci": [{"code": "200000001", "nom": "CA", "membres": [{"code": "35999"}]}]},
     r"epci\.json: EPCI 200000001 lists \['35999'\].*different vintages"),
    ({"epci": [{"code": "200000001", "nom": "CA", "membres": "35001"}]}, r"epci\.json: entry 0: field 'membres'"),
])
def test_a_file_of_another_layout_is_named(tmp_path, files, problem):
    with pytest.raises(ConfigError, match=problem):
        load_cog(tiny_cog(tmp_path / "cog", **files))


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    folder = tiny_cog(tmp_path / "cog")
    (folder / "communes.json").write_bytes('[{"nom": "Acign\u00e9"}]'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"communes\.json: not valid UTF-8 JSON"):
        load_cog(folder)


def test_the_command_line_writes_the_card_of_a_real_epci(realdata, tmp_path):
    """`datacites territory new` on Rennes Métropole: the card's communes are the EPCI's
    members as epci.json lists them; a second time it refuses to overwrite."""
    import json
    import os
    import shutil
    import subprocess

    from pipelines.catalogue.load import load_card
    from pipelines.catalogue.models import Territory
    from pipelines.config import PROJECT_ROOT
    from tests_support import BIN

    cog = realdata("cog2026")
    members = next(e for e in json.loads((cog / "epci.json").read_text(encoding="utf-8"))
                   if e["code"] == "243500139")["membres"]
    sources = tmp_path / "sources"
    shutil.copytree(PROJECT_ROOT / "sources", sources, ignore=shutil.ignore_patterns("sample*", "cache", "*_sample"))
    env = {**os.environ, "DATACITES_SOURCES_DIR": str(sources)}
    args = [str(BIN / "datacites"), "territory", "new", "rennes", "--epci", "243500139", "--cog", str(cog)]
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    card = load_card(sources / "territories" / "rennes.yaml", Territory)
    assert sorted(c.code for c in card.communes) == sorted(m["code"] for m in members)
    assert card.working_crs == "EPSG:2154" and not card.fictional
    again = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
