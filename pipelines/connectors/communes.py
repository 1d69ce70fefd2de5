"""Commune contours: IGN ADMIN EXPRESS layer ``commune``, or a GeoJSON with INSEE codes.

Accepted columns (any case, accents ignored): ``code_commune`` from ``INSEE_COM``,
``code_insee``, ``code`` (france-geojson), ``codgeo``, ``insee``; ``nom_commune`` from
``NOM``, ``NOM_COM``, ``nom_commune``, ``libelle``, ``libgeo``; ``population`` from
``POPULATION``, ``pop``, ``pmun`` (nullable: the GeoJSON conversions drop it).

Paris, Lyon and Marseille: a layer holding both a commune and its arrondissements
municipaux (overlapping polygons) is refused unless the option ``arrondissements`` says
which level to keep (see :mod:`pipelines.connectors._zones`). A layer outside the area
of use of the working CRS is refused, not reprojected (Martinique in Lambert-93 would be
32 % too large): declare the territory's own working CRS.
"""

from __future__ import annotations

import pandas as pd

from pipelines.connectors._values import parse_int
from pipelines.connectors._zones import arrondissements_rule, check_unique, finish_zones, keep_rows, open_zone_layer
from pipelines.connectors.registry import connector

__all__ = ["read_communes", "COMMUNE_COLUMNS"]

COMMUNE_COLUMNS = ("code_commune", "nom_commune", "population")
_ALIASES = {
    "code_commune": ("insee_com", "code_insee", "code", "codgeo", "insee", "code_commune"),
    "nom_commune": ("nom", "nom_com", "nom_commune", "libelle", "libgeo"),
    "population": ("population", "pop", "pmun"),
}


@connector("communes")
def read_communes(path, *, working_crs="EPSG:2154", layer: str | None = None,
                  crs: str | None = None, encoding: str | None = None, pad_codes: bool = False,
                  invalid_geometry: str = "repair",
                  source_columns: dict[str, str] | None = None,
                  arrondissements: str | None = None, dissolve: bool = False):
    """Read commune contours.

    Parameters
    ----------
    path : str or Path
        ADMIN EXPRESS GeoPackage (layer ``commune``) or shapefile, or a GeoJSON.
    working_crs, layer, crs, encoding, pad_codes, invalid_geometry, source_columns
        As in :func:`pipelines.connectors.iris.read_iris`.
    arrondissements : {None, "drop", "only", "keep"}, default None
        Which level of Paris, Lyon and Marseille to keep when the layer has both the
        commune and its arrondissements; by default such a layer is refused.
    dissolve : bool, default False
        Merge the features that share a commune code into one (e.g. communes built from
        an IRIS layer, where no commune contour is published, as for Lyon's
        arrondissements): their names must agree, their populations are summed.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code_commune``, ``nom_commune`` (text), ``population`` (``Int64``, NA when not
        published), ``geometry`` in ``working_crs``.

    Raises
    ------
    SourceError
        Missing code column, malformed or duplicated code, population not a whole
        number, CRS missing or wrong, layer outside the working CRS's area, bad
        geometry, PLM commune and arrondissements both present without a rule.
    """
    zones = open_zone_layer(path, _ALIASES, required=("code_commune",), layer=layer,
                            preferred=("commune",), encoding=encoding,
                            source_columns=source_columns)
    codes = zones.code("code_commune", "commune", pad=pad_codes)
    if not dissolve:
        check_unique(zones, codes, "code_commune")
    keep = arrondissements_rule(zones.locator, codes, arrondissements,
                                column=zones.columns["code_commune"])
    columns = {"code_commune": codes, "nom_commune": zones.text("nom_commune"),
               "population": _population(zones)}
    communes = finish_zones(zones, columns, id_column="code_commune", crs=crs,
                            working_crs=working_crs, invalid_geometry=invalid_geometry)
    communes = keep_rows(communes, keep)
    return _dissolved(communes, zones) if dissolve else communes


def _dissolved(communes, zones):
    """One feature per commune code; names must agree (a code named twice is a mistake)."""
    names = communes.groupby("code_commune")["nom_commune"].nunique(dropna=True)
    if (names > 1).any():
        raise zones.locator.error(f"features of commune {names[names > 1].index[0]} carry different names, so "
                                  "they cannot be dissolved into one commune.", index=0,
                                  column=zones.columns.get("nom_commune", "nom_commune"),
                                  fix="check the code column, or give each commune one name.")
    merged = communes.dissolve(by="code_commune", aggfunc={"nom_commune": "first",
                                                           "population": lambda s: s.sum(min_count=1)})
    merged["population"] = merged["population"].astype("Int64")
    return merged.reset_index()[["code_commune", "nom_commune", "population", "geometry"]]


def _population(zones) -> pd.Series:
    if not zones.has("population"):
        return pd.Series(pd.NA, index=range(len(zones.frame)), dtype="Int64")
    return parse_int(zones.locator, zones.columns["population"], zones.values("population"))
