"""The Parquet store of record (DESIGN.md decision 1).

Each asset is one (Geo)Parquet file, written to a temporary name in the same folder and
renamed into place, so a crash never leaves half a table and a rerun simply overwrites.
Point frames keep `attrs["crs"]` in the file's schema metadata.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import dagster as dg
import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import config

_META_KEY = b"datacites"
ROW_GROUP_SIZE = 250_000  # several row groups so DuckDB reads with every thread


def write_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` as (Geo)Parquet through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        zones = isinstance(frame, gpd.GeoDataFrame)
        if zones and frame._geometry_column_name in frame.columns:
            frame.to_parquet(tmp, index=False, row_group_size=ROW_GROUP_SIZE)
        else:  # (a GeoDataFrame without geometry: an absent zoning, or a step's skipped table)
            table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[_META_KEY] = json.dumps({"attrs": _jsonable(frame.attrs), "zones": zones}).encode()
            pq.write_table(table.replace_schema_metadata(meta), tmp, row_group_size=ROW_GROUP_SIZE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json_atomic(data: dict, path: Path) -> Path:
    """Write a summary (a step returning a dict) as JSON through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, default=_json_default), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _json_default(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"a summary may hold numbers, text, lists and mappings, not {type(value).__name__}")


def read_frame(path: Path) -> pd.DataFrame:
    """Read a file written by `write_atomic`, GeoDataFrame when it holds geometry."""
    schema_meta = pq.read_schema(path).metadata or {}
    if b"geo" in schema_meta:
        return gpd.read_parquet(path)
    frame = pq.read_table(path).to_pandas()
    if _META_KEY in schema_meta:
        meta = json.loads(schema_meta[_META_KEY])
        frame = gpd.GeoDataFrame(frame) if meta.get("zones") else frame
        frame.attrs.update(meta.get("attrs", {}))
    return frame


def _jsonable(attrs: dict) -> dict:
    return {k: v for k, v in attrs.items() if isinstance(v, (str, int, float, bool, list, dict))}


class ParquetStore(dg.ConfigurableIOManager):
    """Stores each asset as `<base_dir>/<territory>/<asset key>.parquet`, the territory
    being the asset's partition."""

    base_dir: str = str(config.STORE_DIR)

    def _path(self, context, suffix: str = ".parquet") -> Path:
        if not context.has_asset_partitions:
            raise ValueError(f"asset {context.asset_key.to_user_string()} has no territory partition; "
                             "run it for one territory (`datacites run --territory ID`)")
        return Path(self.base_dir) / context.asset_partition_key / ("/".join(context.asset_key.path) + suffix)

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if obj is None:
            return
        if isinstance(obj, dict):
            path = write_json_atomic(obj, self._path(context, ".json"))
        else:
            path = write_atomic(obj, self._path(context))
        context.add_output_metadata({"rows": len(obj), "store": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext):
        summary = self._path(context, ".json")
        if summary.exists():
            return json.loads(summary.read_text(encoding="utf-8"))
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{path}: asset {context.asset_key.to_user_string()} has not been "
                                    "materialised yet; run `datacites run` first")
        return read_frame(path)
