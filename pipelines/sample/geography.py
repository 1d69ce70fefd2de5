"""IGN contours (IRIS, communes), the territory card and the fictional-data notice."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml

from . import writers as w
from .filosofi import GridCounts
from .grid import Cells
from .names import TERRITORY_NAME, departement_of
from .territory import DATA_YEAR, GRID_CRS, WORKING_CRS, Landscape
from .zoning import Zoning

NOTICE = """\
DONNÉES ENTIÈREMENT FICTIVES
============================

Ce dossier a été produit par le générateur d'échantillon de datacites
(`datacites sample`). Le territoire « Communauté d'agglomération de Fictiville »,
ses communes (codes commençant par des numéros de département qui n'existent pas :
00, 96...), ses IRIS, ses habitants, ses logements, ses ventes, ses lignes de bus,
ses compteurs et ses personnes sont inventés. Toute ressemblance avec un lieu ou une
personne réels serait fortuite. Les fichiers reprennent seulement le FORMAT des
sources officielles (IGN, INSEE, ADEME, DGFiP/Etalab, GTFS, RPLS, LOVAC) pour que
les mêmes connecteurs lisent l'échantillon et les vraies données. N'en tirez aucune
conclusion sur un territoire réel.

ENTIRELY FICTIONAL DATA
=======================

This folder was produced by datacites' sample generator (`datacites sample`). The
territory "Communauté d'agglomération de Fictiville", its communes (codes start with
département numbers that do not exist: 00, 96...), IRIS, inhabitants, dwellings,
sales, bus lines, meters and persons are made up. Any resemblance to a real place or
person is coincidental. The files only copy the FORMAT of the official sources (IGN,
INSEE, ADEME, DGFiP/Etalab, GTFS, RPLS, LOVAC) so that the same connectors read the
sample and real data. Draw no conclusion about any real territory from them.

Paramètres / parameters: scale={scale}, seed={seed}, data_year={year}
"""


def write_iris(out_dir: Path, land: Landscape, zoning: Zoning) -> np.ndarray:
    """Write ``contours_iris.gpkg`` (layer ``contours_iris``); return the IRIS polygons."""
    polygons = zoning.polygons(land)
    frame = gpd.GeoDataFrame({
        "INSEE_COM": zoning.commune_code[zoning.iris_commune].astype(str),
        "NOM_COM": zoning.commune_name[zoning.iris_commune].astype(str),
        "IRIS": zoning.iris_id.astype(str),
        "CODE_IRIS": zoning.iris_code.astype(str),
        "NOM_IRIS": zoning.iris_name.astype(str),
        "TYP_IRIS": zoning.iris_type.astype(str),
    }, geometry=polygons, crs=WORKING_CRS)
    w.write_gpkg(frame, out_dir / "contours_iris.gpkg", layer="contours_iris", multi=True,
                 description="Contours IRIS FICTIFS (territoire fictif de Fictiville, datacites)")
    return polygons


def commune_population(cells: Cells, counts: GridCounts, n_communes: int) -> np.ndarray:
    """Inhabitants of each commune (cells counted where their centre lies)."""
    return np.rint(np.bincount(cells.commune, counts["ind"], minlength=n_communes)).astype(np.int64)


def write_communes(out_dir: Path, zoning: Zoning, iris_polygons: np.ndarray, population: np.ndarray) -> None:
    """Write ``communes.gpkg`` (layer ``commune``, ADMIN EXPRESS columns)."""
    frame = gpd.GeoDataFrame({
        "INSEE_COM": zoning.commune_code.astype(str),
        "NOM": zoning.commune_name.astype(str),
        "POPULATION": population,
        "INSEE_DEP": [departement_of(c) for c in zoning.commune_code],
    }, geometry=zoning.commune_polygons(iris_polygons), crs=WORKING_CRS)
    w.write_gpkg(frame, out_dir / "communes.gpkg", layer="commune", multi=True,
                 description="Communes FICTIVES (territoire fictif de Fictiville, datacites)")


def territory_card(zoning: Zoning, scale: float, seed: int) -> dict:
    """The territory's card as written to ``territory.yaml``."""
    return {
        "id": "sample",
        "name": TERRITORY_NAME,
        "fictional": True,
        "working_crs": WORKING_CRS,
        "grid_crs": GRID_CRS,
        "communes": [{"code": str(c), "name": str(n)} for c, n in zip(zoning.commune_code, zoning.commune_name, strict=False)],
        "scale": int(scale) if float(scale).is_integer() else float(scale),
        "seed": int(seed),
        "data_year": DATA_YEAR,
    }


def write_card_and_notice(out_dir: Path, zoning: Zoning, scale: float, seed: int) -> None:
    """Write ``territory.yaml`` and ``LISEZMOI_FICTIF.txt``."""
    card = territory_card(zoning, scale, seed)
    text = yaml.safe_dump(card, allow_unicode=True, sort_keys=False, width=120)
    w.write_text(out_dir / "territory.yaml", "# Territoire FICTIF généré par datacites (voir LISEZMOI_FICTIF.txt)\n" + text)
    w.write_text(out_dir / "LISEZMOI_FICTIF.txt", NOTICE.format(scale=card["scale"], seed=seed, year=DATA_YEAR))
