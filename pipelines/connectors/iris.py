"""IRIS contours: IGN CONTOURS-IRIS (GeoPackage or shapefile) or a GeoJSON with IRIS codes.

Accepted columns (any case, accents ignored):

========================  ==========================================================
output                    published names
========================  ==========================================================
``code_iris``             ``CODE_IRIS`` / ``code_iris`` (9 characters), ``DCOMIRIS``,
                          ``id`` (data.grandlyon.com); or ``INSEE_COM`` + ``IRIS``
``nom_iris``              ``NOM_IRIS`` / ``nom_iris``, ``libiris``
``code_commune``          ``INSEE_COM``, ``code_insee``, ``com``, ``depcom``; otherwise
                          the first 5 characters of the IRIS code
``nom_commune``           ``NOM_COM``, ``nom_commune``, ``libcom``
``type_iris``             ``TYP_IRIS``, ``type_iris`` (H, A, D or Z)
========================  ==========================================================

The data.grandlyon.com GeoJSON (IRIS code in ``id``, commune in ``com``/``libcom``, name
in ``libiris``, legacy ``crs`` member naming CRS84) is read by these aliases alone.
"""

from __future__ import annotations

import pandas as pd

from pipelines.connectors._values import parse_code
from pipelines.connectors._zones import check_unique, finish_zones, open_zone_layer, require_consistent
from pipelines.connectors.registry import connector

__all__ = ["read_iris", "IRIS_COLUMNS"]

IRIS_COLUMNS = ("code_iris", "nom_iris", "code_commune", "nom_commune", "type_iris")
_ALIASES = {
    "code_iris": ("code_iris", "dcomiris", "codeiris", "id_iris", "id"),
    "iris": ("iris",),
    "nom_iris": ("nom_iris", "libiris", "lib_iris"),
    "code_commune": ("insee_com", "code_insee", "code_commune", "com", "depcom", "codgeo"),
    "nom_commune": ("nom_com", "nom_commune", "libcom", "lib_com"),
    "type_iris": ("typ_iris", "type_iris"),
}
_TYPES = {"H", "A", "D", "Z"}


@connector("iris")
def read_iris(path, *, working_crs="EPSG:2154", layer: str | None = None, crs: str | None = None,
              encoding: str | None = None, pad_codes: bool = False,
              invalid_geometry: str = "repair",
              source_columns: dict[str, str] | None = None):
    """Read IRIS contours.

    Parameters
    ----------
    path : str or Path
        GeoPackage (layer ``contours_iris`` or the only layer), shapefile or GeoJSON.
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output.
    layer, crs, encoding : optional
        Layer name; CRS for a file without one; attribute encoding of a shapefile.
    pad_codes : bool, default False
        Left-pad codes stored as numbers (otherwise an error).
    invalid_geometry : {"repair", "error"}, default "repair"
        See :mod:`pipelines.connectors._geo`.
    source_columns : dict, optional
        Output name -> published name, for columns the aliases miss.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code_iris``, ``nom_iris``, ``code_commune``, ``nom_commune``, ``type_iris``
        (text, NA when not published), ``geometry`` in ``working_crs``.

    Raises
    ------
    SourceError
        Missing code column, malformed or duplicated code, IRIS code not starting with its
        commune code, unknown IRIS type, CRS missing or wrong, layer outside the area of
        use of ``working_crs`` (refused rather than reprojected: declare the territory's
        own working CRS), bad geometry.
    """
    zones = open_zone_layer(path, _ALIASES, required=(), layer=layer,
                            preferred=("contours_iris", "iris"), encoding=encoding,
                            source_columns=source_columns)
    code_iris = _code_iris(zones, pad_codes)
    check_unique(zones, code_iris, "code_iris")
    if zones.has("code_commune"):
        code_commune = zones.code("code_commune", "commune", pad=pad_codes)
        require_consistent(zones, code_iris, code_commune, "code_iris")
    else:
        code_commune = code_iris.str.slice(0, 5)
    columns = {"code_iris": code_iris, "nom_iris": zones.text("nom_iris"),
               "code_commune": code_commune, "nom_commune": zones.text("nom_commune"),
               "type_iris": _type_iris(zones)}
    return finish_zones(zones, columns, id_column="code_iris", crs=crs, working_crs=working_crs,
                        invalid_geometry=invalid_geometry)


def _code_iris(zones, pad: bool) -> pd.Series:
    if zones.has("code_iris"):
        return zones.code("code_iris", "iris", pad=pad)
    if zones.has("iris") and zones.has("code_commune"):
        # Old IGN layers also carry the 4-digit IRIS number beside the commune code.
        commune = zones.code("code_commune", "commune", pad=pad)
        number = zones.text("iris")
        built = commune + (number.str.zfill(4) if pad else number)
        return parse_code(zones.locator, zones.columns["iris"], built, kind="iris")
    raise zones.locator.error("required column is missing (accepted names: "
                              f"{', '.join(_ALIASES['code_iris'])}, or INSEE_COM and IRIS).",
                              column="code_iris",
                              fix="map it with `source_columns: {code_iris: <published name>}`.")


def _type_iris(zones) -> pd.Series:
    types = zones.text("type_iris").str.upper()
    unknown = (~types.isin(_TYPES) & types.notna()).to_numpy()
    if unknown.any():
        raise zones.locator.error("IRIS type is not one of H, A, D, Z.",
                                  index=int(unknown.nonzero()[0][0]),
                                  column=zones.columns["type_iris"],
                                  fix="correct the value or drop the column with `source_columns`.")
    return types
