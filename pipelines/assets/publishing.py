"""Writing a demonstrator's bundle to its staging folder.

Nothing is written in place: the bundle is built in `.datacites/staging/<name>`, audited
by a blocking asset check, then handed to `pipelines.privacy.publish`, which audits it
again and swaps it into `outputs/` by a rename. If an audit fails, the staging folder is
left for inspection and what was published before stays byte-identical.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipelines import config


def staging_dir(territory: str, name: str) -> Path:
    """Where a release is staged; per territory, so two territories never share one."""
    return config.STATE_DIR / "staging" / territory / name


def fresh_dir(path: Path) -> Path:
    """An empty folder at `path` (its previous content removed)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


GPKG_DATE = "2000-01-01T00:00:00.000Z"


LICENCE_KEY = "datacites:licence"  # GeoParquet key-value metadata


def write_table(frame: gpd.GeoDataFrame, folder: Path, stem: str, licence: dict | None = None) -> dict[str, str]:
    """Write one published table as CSV (no geometry), GeoParquet and GeoPackage.

    `licence` ({"licence", "attribution", "sources"}) goes into every file that can hold
    it: GeoParquet key-value metadata (`datacites:licence`, JSON) and the GeoPackage
    layer's metadata (LICENCE, ATTRIBUTION, SOURCES); the CSV's is its manifest."""
    frame.drop(columns="geometry").to_csv(folder / f"{stem}.csv", index=False, encoding="utf-8")
    frame.to_parquet(folder / f"{stem}.parquet", index=False)
    if licence is not None:
        _parquet_licence(folder / f"{stem}.parquet", licence)
    # GDAL stamps a GeoPackage with the time of writing unless told a date: a fixed one
    # keeps identical tables byte-identical (the data's own dates are in the manifest).
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        metadata = None if licence is None else {
            "LICENCE": licence["licence"], "ATTRIBUTION": licence["attribution"],
            "SOURCES": ", ".join(licence["sources"])}
        frame.to_file(folder / f"{stem}.gpkg", layer=stem, driver="GPKG", engine="pyogrio", layer_metadata=metadata)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return {"csv": f"{stem}.csv", "parquet": f"{stem}.parquet", "gpkg": f"{stem}.gpkg"}


def _parquet_licence(path: Path, licence: dict) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = dict(table.schema.metadata or {})
    metadata[LICENCE_KEY.encode()] = json.dumps(licence, ensure_ascii=False, sort_keys=True).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(metadata), path)


def write_json(data: dict, path: Path) -> None:
    """Strict JSON (a browser's JSON.parse refuses NaN): missing numbers become null."""
    text = json.dumps(_no_nan(data), ensure_ascii=False, indent=2, default=_default, allow_nan=False)
    path.write_text(text, encoding="utf-8")


def _no_nan(value):
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _default(value):
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
