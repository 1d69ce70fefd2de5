"""Identical tables give identical files: nothing of the time of writing in them."""

from __future__ import annotations

import hashlib
import sqlite3

import geopandas as gpd
from shapely.geometry import box

from pipelines.assets.publishing import GPKG_DATE, write_table

LICENCE = {"licence": "ODbL 1.0", "attribution": "Régie (fictive); INSEE, Filosofi 2019", "sources": ["operator", "filosofi"]}


def test_a_table_written_twice_gives_the_same_bytes_in_every_format(tmp_path, monkeypatch):
    frame = gpd.GeoDataFrame({"code_iris": ["000010001", "000010002"], "share": [0.25, None]},
                             geometry=[box(700000, 6600000, 701000, 6601000), box(701000, 6600000, 702000, 6601000)],
                             crs="EPSG:2154")
    digests = []
    for run, clock in enumerate((1_700_000_000.0, 1_800_000_000.0)):
        monkeypatch.setattr("time.time", lambda clock=clock: clock)  # another moment of writing
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        write_table(frame, folder, "t", LICENCE)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())})
    assert digests[0] == digests[1] and set(digests[0]) == {"t.csv", "t.gpkg", "t.parquet"}
    with sqlite3.connect(tmp_path / "run0" / "t.gpkg") as db:
        assert db.execute("SELECT last_change FROM gpkg_contents").fetchone()[0] == GPKG_DATE


def test_geoparquet_and_geopackage_carry_the_tables_licence(tmp_path):
    import json

    import pyarrow.parquet as pq
    import pyogrio

    frame = gpd.GeoDataFrame({"code_iris": ["000010001"], "share": [0.25]},
                             geometry=[box(700000, 6600000, 701000, 6601000)], crs="EPSG:2154")
    write_table(frame, tmp_path, "t", LICENCE)
    metadata = pq.read_schema(tmp_path / "t.parquet").metadata
    assert json.loads(metadata[b"datacites:licence"]) == LICENCE
    assert b"geo" in metadata  # still GeoParquet
    assert gpd.read_parquet(tmp_path / "t.parquet").crs == "EPSG:2154"
    layer = pyogrio.read_info(tmp_path / "t.gpkg", layer="t")["layer_metadata"]
    assert layer == {"LICENCE": "ODbL 1.0", "ATTRIBUTION": "Régie (fictive); INSEE, Filosofi 2019",
                     "SOURCES": "operator, filosofi"}
