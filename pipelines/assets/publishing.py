"""Writing a demonstrator's bundle to a staging folder, and swapping it into outputs/.

Nothing is written in place: the bundle is built in `.datacites/staging/<name>`, audited,
then renamed over the published folder. If the audit fails, the staging folder is left
for inspection and what was published before stays byte-identical.
"""

from __future__ import annotations

import json
import os
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


def swap_into_place(staging: Path, target: Path) -> None:
    """Replace `target` with `staging` by renames.

    Between the two renames the target is briefly absent; a crash there leaves
    `<target>.previous`, which the next run restores before anything else.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = target.with_name(target.name + ".previous")
    recover(target)
    if target.exists():
        os.replace(target, backup)
    try:
        shutil.move(str(staging), str(target))
    except BaseException:
        if backup.exists() and not target.exists():
            os.replace(backup, target)
        raise
    if backup.exists():
        shutil.rmtree(backup)


def recover(target: Path) -> None:
    """Restore `target` from a backup left by a crash in the middle of a swap."""
    backup = target.with_name(target.name + ".previous")
    if backup.exists():
        if target.exists():
            shutil.rmtree(backup)
        else:
            os.replace(backup, target)


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
