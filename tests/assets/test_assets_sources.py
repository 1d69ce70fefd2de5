"""Reading a source for a territory: the card's columns, the territory's communes."""

import geopandas as gpd
import pytest
from shapely.geometry import box

from pipelines.assets.sources import restrict_to_communes
from pipelines.catalogue import load_sources
from pipelines.catalogue.models import Territory
from pipelines.errors import SourceError


def zones():
    return gpd.GeoDataFrame({"code_iris": ["690010101", "690010102", "690020000"],
                             "code_commune": ["69001", "69001", "69002"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs="EPSG:2154")


def territory(codes):
    return Territory(id="t", name="T", data_dir="t", communes=[{"code": c, "name": c} for c in codes])


def test_listed_communes_restrict_the_zonings():
    card = load_sources()["iris"]
    kept = restrict_to_communes(zones(), card, territory(["69001"]), "iris.gpkg")
    assert kept["code_iris"].tolist() == ["690010101", "690010102"]
    assert restrict_to_communes(zones(), card, territory([]), "iris.gpkg")["code_iris"].tolist() == zones()["code_iris"].tolist()
    other = load_sources()["dpe"]  # only zoning sources are cut; points are cut by their zone
    assert len(restrict_to_communes(zones(), other, territory(["69001"]), "dpe.csv")) == 3


def test_a_listed_commune_missing_from_the_file_is_an_error():
    with pytest.raises(SourceError, match=r"iris.gpkg, column 'code_commune': communes \['69003'\]"):
        restrict_to_communes(zones(), load_sources()["iris"], territory(["69001", "69003"]), "iris.gpkg")


def test_only_public_frames_are_previewed_in_dagsters_storage():
    from pipelines.assets.sources import describe

    frame = zones().assign(secret_households=["n<11", "", "secondary"])
    assert "preview" in describe(frame, "public")
    for level in ("aggregated", "private", "personal"):  # counts and column names only
        meta = describe(frame, level)
        assert "preview" not in meta and meta["rows"] == 3 and "n<11" not in str(meta)
