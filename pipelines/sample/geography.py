"""IGN contours (IRIS, communes), the territory card and the fictional-data notice."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml

from . import writers as w
from .filosofi import GridCounts
from .grid import Cells
from .names import departement_of
from .profiles import MAINLAND, SampleProfile
from .territory import DATA_YEAR, Landscape
from .zoning import Zoning

NOTICE = MAINLAND.notice  # each profile carries its own (SampleProfile.notice)


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
    }, geometry=polygons, crs=land.profile.working_crs)
    w.write_gpkg(frame, out_dir / "contours_iris.gpkg", layer="contours_iris", multi=True,
                 description=f"Contours IRIS FICTIFS (territoire fictif {land.profile.of_place}, datacites)")
    return polygons


def commune_population(cells: Cells, counts: GridCounts, n_communes: int) -> np.ndarray:
    """Inhabitants of each commune (cells counted where their centre lies)."""
    return np.rint(np.bincount(cells.commune, counts["ind"], minlength=n_communes)).astype(np.int64)


def write_communes(out_dir: Path, zoning: Zoning, iris_polygons: np.ndarray, population: np.ndarray,
                   profile: SampleProfile) -> None:
    """Write ``communes.gpkg`` (layer ``commune``, ADMIN EXPRESS columns)."""
    frame = gpd.GeoDataFrame({
        "INSEE_COM": zoning.commune_code.astype(str),
        "NOM": zoning.commune_name.astype(str),
        "POPULATION": population,
        "INSEE_DEP": [departement_of(c) for c in zoning.commune_code],
    }, geometry=zoning.commune_polygons(iris_polygons), crs=profile.working_crs)
    w.write_gpkg(frame, out_dir / "communes.gpkg", layer="commune", multi=True,
                 description=f"Communes FICTIVES (territoire fictif {profile.of_place}, datacites)")


def territory_card(zoning: Zoning, scale: float, seed: int, profile: SampleProfile) -> dict:
    """The territory's card as written to ``territory.yaml`` (the profile's id and CRSs)."""
    return {
        "id": profile.territory_id,
        "name": profile.name,
        "fictional": True,
        "working_crs": profile.working_crs,
        "grid_crs": profile.grid_crs,
        "communes": [{"code": str(c), "name": str(n)} for c, n in zip(zoning.commune_code, zoning.commune_name, strict=False)],
        "scale": int(scale) if float(scale).is_integer() else float(scale),
        "seed": int(seed),
        "data_year": DATA_YEAR,
    }


def write_card_and_notice(out_dir: Path, zoning: Zoning, scale: float, seed: int,
                          profile: SampleProfile) -> None:
    """Write ``territory.yaml`` and ``LISEZMOI_FICTIF.txt``."""
    card = territory_card(zoning, scale, seed, profile)
    text = yaml.safe_dump(card, allow_unicode=True, sort_keys=False, width=120)
    w.write_text(out_dir / "territory.yaml", "# Territoire FICTIF généré par datacites (voir LISEZMOI_FICTIF.txt)\n" + text)
    w.write_text(out_dir / "LISEZMOI_FICTIF.txt", profile.notice.format(scale=card["scale"], seed=seed, year=DATA_YEAR))
