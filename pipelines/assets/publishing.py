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


def staging_dir(name: str) -> Path:
    return config.STATE_DIR / "staging" / name


def fresh_dir(path: Path) -> Path:
    """An empty folder at `path` (its previous content removed)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_table(frame: gpd.GeoDataFrame, folder: Path, stem: str) -> dict[str, str]:
    """Write one published table as CSV (no geometry), GeoParquet and GeoPackage."""
    frame.drop(columns="geometry").to_csv(folder / f"{stem}.csv", index=False, encoding="utf-8")
    frame.to_parquet(folder / f"{stem}.parquet", index=False)
    frame.to_file(folder / f"{stem}.gpkg", layer=stem, driver="GPKG")
    return {"csv": f"{stem}.csv", "parquet": f"{stem}.parquet", "gpkg": f"{stem}.gpkg"}


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_default), encoding="utf-8")


def _default(value):
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
