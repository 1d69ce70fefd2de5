"""A tiny published ``outputs/`` folder, as the pipeline writes it (docs/architecture.md).

Two demonstrators on six 1 km IRIS squares in Lambert-93 around (700 000, 6 600 000),
in two communes of three IRIS each (bottom row 00001, top row 00002). One IRIS value
of the energy demonstrator is suppressed (NA, flagged ``secret_share_fg``).
``territory.json`` is absent: the site derives the territory from the demonstrators.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

TERRITORY = {"id": "sample", "fictional": True,
             "name": "Communauté d'agglomération de Fictiville (territoire fictif)"}
IRIS_NAMES = ["Centre ancien", "Gare", "Les Tilleuls", "Bourg", "Le Moulin", "Champ fictif"]
COMMUNES = {"00001": "Fictiville", "00002": "Fictive-sur-Lac"}


def iris_frame() -> gpd.GeoDataFrame:
    """Six IRIS squares of 1 km, EPSG:2154, with their codes, names and commune."""
    rows = [(i, j) for j in range(2) for i in range(3)]
    communes = ["00001" if j == 0 else "00002" for _, j in rows]
    codes = [f"{c}{k:04d}" for k, c in enumerate(communes, start=1)]
    geoms = [box(700_000 + i * 1000, 6_600_000 + j * 1000, 701_000 + i * 1000, 6_601_000 + j * 1000)
             for i, j in rows]
    return gpd.GeoDataFrame({"code_iris": codes, "nom_iris": IRIS_NAMES, "code_commune": communes},
                            geometry=geoms, crs="EPSG:2154")


def commune_frame(iris: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The two communes as the union of their IRIS."""
    communes = iris.dissolve("code_commune").reset_index()[["code_commune", "geometry"]]
    communes["nom_commune"] = communes["code_commune"].map(COMMUNES)
    return communes


def write_table(folder: Path, stem: str, frame: gpd.GeoDataFrame) -> dict:
    """Write CSV, GeoPackage and GeoParquet of a table; return its ``files`` entry."""
    frame.to_parquet(folder / f"{stem}.parquet")
    frame.to_file(folder / f"{stem}.gpkg", driver="GPKG", layer=stem)
    frame.drop(columns="geometry").to_csv(folder / f"{stem}.csv", index=False)
    return {"csv": f"{stem}.csv", "gpkg": f"{stem}.gpkg", "parquet": f"{stem}.parquet"}


def _base_meta(demo_id: str, title: str, message: str) -> dict:
    return {"id": demo_id, "title": title, "message": message, "territory": TERRITORY,
            "data_date": "2024", "generated_at": "2026-11-28T17:00:00+00:00",
            "zone_name_columns": {"iris": "nom_iris", "commune": "nom_commune"},
            "zone_id_columns": {"iris": "code_iris", "commune": "code_commune"}}


def write_energy(outputs: Path) -> dict:
    """energy_precarity: IRIS and commune tables, one IRIS suppressed, with a crossing."""
    folder = outputs / "energy_precarity"
    folder.mkdir(parents=True)
    iris = iris_frame()
    iris["share_fg"] = [0.312, 0.184, np.nan, 0.097, 0.2345, 0.151]
    iris["secret_share_fg"] = [False, False, True, False, False, False]
    iris["low_income_fg_households"] = [412.0, 215.0, np.nan, 88.0, 301.0, 140.0]
    iris["households"] = [1500.0, 1320.0, 9.0, 1100.0, 1410.0, 1200.0]
    communes = commune_frame(iris)
    communes["share_fg"] = [0.2105, 0.1602]
    communes["low_income_fg_households"] = [640.0, 529.0]
    communes["households"] = [2829.0, 3710.0]
    meta = _base_meta("energy_precarity", "Précarité énergétique",
                      "Un ménage modeste sur cinq vit dans un logement classé F ou G, surtout dans le centre ancien de Fictiville.")
    meta.update({
        "main_indicator": "share_fg",
        "indicators": [
            {"id": "share_fg", "title": "Part des logements classés F ou G",
             "definition": "Part des logements diagnostiqués dont l'étiquette énergie est F ou G.",
             "unit": "%", "formula": "logements F ou G / logements diagnostiqués",
             "caveats": ["Les logements diagnostiqués ne sont pas tous les logements."],
             "zonings": ["iris", "commune"], "sources": ["dpe"], "kind": "share"},
            {"id": "low_income_fg_households", "title": "Ménages modestes en logement F ou G",
             "definition": "Estimation du nombre de ménages sous le seuil de pauvreté vivant dans un logement F ou G.",
             "unit": "ménages", "formula": "ménages pauvres × part F ou G",
             "caveats": ["Suppose l'indépendance entre revenu et étiquette dans une zone."],
             "zonings": ["iris", "commune"], "sources": ["dpe", "filosofi_200m"], "kind": "count"},
            {"id": "households", "title": "Ménages", "definition": "Nombre de ménages fiscaux.",
             "unit": "ménages", "formula": "somme des carreaux pondérée par la surface",
             "caveats": [], "zonings": ["iris", "commune"], "sources": ["filosofi_200m"],
             "kind": "count"}],
        "headlines": [
            {"indicator": "low_income_fg_households", "label": "Ménages modestes en logement F ou G",
             "value": 1169.0, "unit": "ménages", "explanation": "Estimation sur l'ensemble du territoire."},
            {"indicator": "share_fg", "label": "Logements classés F ou G", "value": 0.1831,
             "unit": "%", "explanation": "Parmi les logements ayant un diagnostic de performance énergétique."},
            {"indicator": "households", "label": "Ménages", "value": 6539.0, "unit": "ménages",
             "explanation": "Nombre de ménages fiscaux du territoire."}],
        "crossing": [{"indicator": "share_fg", "label": "Part des logements classés F ou G",
                      "public_only": 0.1831, "with_shared": 0.2215, "unit": "%",
                      "sentence": "Avec les consommations réelles du fournisseur d'énergie, la part des logements énergivores passe de 18,3 % à 22,2 %."}],
        "sources": [
            {"id": "dpe", "title": "DPE des logements existants", "producer": "ADEME", "date": "2024",
             "licence": "Licence Ouverte 2.0", "attribution": "ADEME, DPE logements existants (données fictives)",
             "sensitivity": "public"},
            {"id": "filosofi_200m", "title": "Filosofi carroyé 200 m", "producer": "INSEE", "date": "2019",
             "licence": "Licence Ouverte 2.0", "attribution": "INSEE, Filosofi 2019 (données fictives)",
             "sensitivity": "public"},
            {"id": "operator_consumption", "title": "Consommations du fournisseur", "producer": "Énergie Fictive SA",
             "date": "2024", "licence": "Convention de partage", "attribution": "Énergie Fictive SA",
             "sensitivity": "private"}],
        "privacy_note": "Les IRIS de moins de 11 ménages ne sont pas publiés.\n\nLes données du fournisseur ne sont publiées que pour les IRIS d'au moins 10 points de livraison.",
        "territory_values": {},
    })
    meta["tables"] = [
        {"zoning": "iris", "stem": "energy_precarity_iris",
         "files": write_table(folder, "energy_precarity_iris", iris)},
        {"zoning": "commune", "stem": "energy_precarity_commune",
         "files": write_table(folder, "energy_precarity_commune", communes)}]
    del meta["territory_values"]  # optional: the pipeline may omit it
    (folder / "demonstrator.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return meta


def write_mobility(outputs: Path) -> dict:
    """mobility_access: IRIS table only, minutes, no privacy note."""
    folder = outputs / "mobility_access"
    folder.mkdir(parents=True)
    iris = iris_frame()
    iris["minutes_to_stop"] = [3.5, 4.25, 12.0, 7.75, 18.5, 9.0]
    iris["share_near_stop"] = [0.92, 0.85, 0.41, 0.66, 0.22, 0.58]
    meta = _base_meta("mobility_access", "Accès aux transports en commun",
                      "Dans l'est du territoire, il faut plus de dix minutes à pied pour rejoindre un arrêt de bus.")
    meta.update({
        "main_indicator": "minutes_to_stop",
        "indicators": [
            {"id": "minutes_to_stop", "title": "Temps de marche jusqu'à l'arrêt le plus proche",
             "definition": "Temps moyen à pied jusqu'à l'arrêt desservi le plus proche.", "unit": "min",
             "formula": "distance / 4,5 km/h", "caveats": ["Distance à vol d'oiseau."],
             "zonings": ["iris"], "sources": ["gtfs_bus"], "kind": "mean"},
            {"id": "share_near_stop", "title": "Part des habitants à moins de 300 m d'un arrêt",
             "definition": "Part de la population à moins de 300 m d'un arrêt.", "unit": "%",
             "formula": "population à moins de 300 m / population", "caveats": [],
             "zonings": ["iris"], "sources": ["gtfs_bus"], "kind": "share"}],
        "headlines": [
            {"indicator": "share_near_stop", "label": "Habitants proches d'un arrêt", "value": 0.6112,
             "unit": "%", "explanation": "À moins de 300 m d'un arrêt de bus."},
            {"indicator": "minutes_to_stop", "label": "Temps de marche moyen", "value": 9.2,
             "unit": "min", "explanation": "Jusqu'à l'arrêt le plus proche."},
            {"indicator": "stops", "label": "Arrêts desservis", "value": 1234, "unit": "arrêts",
             "explanation": "Arrêts avec au moins un passage un jour ouvré."}],
        "crossing": [],
        "sources": [{"id": "gtfs_bus", "title": "Horaires du réseau de bus (GTFS)", "producer": "Réseau fictif",
                     "date": "2024", "licence": "ODbL", "attribution": "Réseau fictif", "sensitivity": "public"}],
        "privacy_note": "",
    })
    meta["tables"] = [{"zoning": "iris", "stem": "mobility_access_iris",
                       "files": write_table(folder, "mobility_access_iris", iris)}]
    (folder / "demonstrator.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return meta


def write_outputs(outputs: Path) -> dict[str, dict]:
    """Write both demonstrators under ``outputs``; return their metadata by id."""
    outputs.mkdir(parents=True, exist_ok=True)
    return {m["id"]: m for m in (write_energy(outputs), write_mobility(outputs))}


@pytest.fixture(scope="module")
def report_outputs(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """A published outputs folder (module-wide) and the demonstrator.json contents."""
    outputs = tmp_path_factory.mktemp("outputs")
    return outputs, write_outputs(outputs)


@pytest.fixture(scope="module", params=["fixture", "sample"])
def published_outputs(request, tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """Like `report_outputs`, and also what `datacites demo` published for the sample.

    ``sample`` reuses the session's end-to-end run, so the page tests in the browser
    also run on the real pages of every demonstrator.
    """
    if request.param == "fixture":
        outputs = tmp_path_factory.mktemp("outputs")
        return outputs, write_outputs(outputs)
    import json

    outputs = request.getfixturevalue("sample_project")["root"] / "outputs" / "sample"
    metas = {path.parent.name: json.loads(path.read_text(encoding="utf-8"))
             for path in sorted(outputs.glob("*/demonstrator.json"))}
    assert metas, "the sample run published no demonstrator"
    return outputs, metas


# --- two territories, for the comparison pages -----------------------------------------
#
# ``est`` (Ville de l'Est) publishes the energy and mobility demonstrators above as they
# are: energy has no ``territory_values``, so its whole-territory figures are its
# headlines (1 169 ménages, 18,31 %, 6 539 ménages), and its IRIS ``share_fg`` are
# 31,2 / 18,4 / secret / 9,7 / 23,45 / 15,1 %. ``ouest`` (Ville de l'Ouest) publishes
# energy only, with its own figures: ``territory_values`` share_fg 20,49 % and households
# 5 000, no value for the low-income households ("non publié"), IRIS ``share_fg``
# 25 / 10 / 40 / 5 / 20 / 30 %, data of 2023. Energy is compared (two territories),
# mobility is not (one).

EAST, WEST = "est", "ouest"
TERRITORY_NAMES = {EAST: "Ville de l'Est", WEST: "Ville de l'Ouest"}
WEST_SHARES = [0.25, 0.10, 0.40, 0.05, 0.20, 0.30]


def write_manifests(folder: Path) -> None:
    """The manifests the disclosure audit of a publication reads (no protected count here)."""
    for path in folder.glob("*/demonstrator.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        for table in meta["tables"]:
            columns = list(gpd.read_parquet(path.parent / f"{table['stem']}.parquet").columns)
            manifest = {"table": table["stem"], "zoning": table["zoning"], "count_columns": {}, "rule": {},
                        "zone_id_column": f"code_{table['zoning']}", "allowed_columns": columns}
            (path.parent / f"{table['stem']}.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def set_territory(folder: Path, territory_id: str, name: str) -> None:
    """Make every demonstrator of `folder` one of territory `territory_id` (not fictional)."""
    for path in folder.glob("*/demonstrator.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["territory"] = {"id": territory_id, "name": name, "fictional": False}
        path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def write_east(root: Path) -> Path:
    """``root/est``: energy and mobility, as published by the fixture."""
    folder = root / EAST
    folder.mkdir(parents=True)
    write_energy(folder)
    write_mobility(folder)
    set_territory(folder, EAST, TERRITORY_NAMES[EAST])
    write_manifests(folder)
    return folder


def write_west(root: Path, name: str = TERRITORY_NAMES[WEST]) -> Path:
    """``root/ouest``: energy only, with its own IRIS values and territory values."""
    folder = root / WEST
    folder.mkdir(parents=True)
    write_energy(folder)
    demo = folder / "energy_precarity"
    table = gpd.read_parquet(demo / "energy_precarity_iris.parquet")
    table["share_fg"] = WEST_SHARES
    table["secret_share_fg"] = False
    table["low_income_fg_households"] = [100.0, 50.0, 60.0, 20.0, 70.0, 80.0]
    table["households"] = [1000.0, 900.0, 800.0, 700.0, 800.0, 800.0]
    write_table(demo, "energy_precarity_iris", table)
    path = demo / "demonstrator.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["data_date"] = "2023"
    meta["territory_values"] = {"share_fg": 0.2049, "households": 5000.0}
    meta["headlines"] = [{"indicator": "share_fg", "label": "Logements classés F ou G", "value": 0.2049,
                          "unit": "%", "explanation": "Parmi les logements diagnostiqués."}]
    path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    set_territory(folder, WEST, name)
    write_manifests(folder)
    return folder


def publish_both(root: Path) -> Path:
    """Publish est, then ouest (est's site is built before ouest exists); return `root`."""
    from pipelines.report.territories import publish_territory_site

    write_east(root)
    write_west(root)
    publish_territory_site(EAST, ["energy_precarity", "mobility_access"], root)
    publish_territory_site(WEST, ["energy_precarity"], root)
    return root


@pytest.fixture(scope="module")
def two_territories(tmp_path_factory) -> Path:
    """An ``outputs/`` folder where est, then ouest, were published (sites, comparison, index)."""
    return publish_both(tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="session")
def kit():
    """The helpers above, for test modules (a conftest cannot be imported by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(EAST=EAST, WEST=WEST, publish_both=publish_both, write_east=write_east,
                           write_west=write_west, set_territory=set_territory)
