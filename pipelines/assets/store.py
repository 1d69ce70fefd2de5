"""The Parquet store of record (DESIGN.md decision 1).

Each asset is one (Geo)Parquet file, written to a temporary name in the same folder and
renamed into place, so a crash never leaves half a table and a rerun simply overwrites.
Point frames keep `attrs["crs"]` in the file's schema metadata.

The store holds staged private data and aggregates derived from personal data, so all of
it is owner-only whatever the umask: folders 0700 (tightened when an older run left
them 0755), files 0600 from their creation, before a byte is written.
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
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(folder: Path, root: Path | None = None) -> Path:
    """Make `folder` (and its missing parents) owner-only, mode 0700 whatever the umask.

    Parameters
    ----------
    folder : Path
        The folder a file is about to be written in.
    root : Path, optional
        The store's base folder: it and every folder between it and `folder` are set to
        0700 even if they exist (a store left 0755 by an older run is tightened). Without
        it, only the folders created here and `folder` itself are.
    """
    folder = Path(folder)
    chain = [folder, *folder.parents]
    inside = chain.index(Path(root)) + 1 if root is not None and Path(root) in chain else 1
    # Folders up to the root (or `folder` alone), then any missing parent above them.
    chain = chain[:inside] + [p for p in chain[inside:] if not p.exists()]
    for directory in reversed(chain):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
        if os.stat(directory).st_mode & 0o777 != DIR_MODE:
            os.chmod(directory, DIR_MODE)  # mkdir's mode is masked by the umask
    return folder


def _private_tmp(path: Path, root: Path | None) -> Path:
    """An empty temporary file beside `path`, mode 0600, in an owner-only folder."""
    private_dir(path.parent, root)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # exactly 0600: the umask may have removed the owner's bits
    finally:
        os.close(fd)
    return tmp


def _seal(tmp: Path, path: Path) -> None:
    """Rename the written temporary into place, owner-only (writers truncate the file
    and keep its mode; checked again in case one replaced it)."""
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


def write_atomic(frame: pd.DataFrame, path: Path, *, root: Path | None = None) -> Path:
    """Write `frame` to `path` as (Geo)Parquet through a temporary file and a rename.

    The file is 0600 and its folder 0700 (and every folder up to `root`, the store's
    base folder, when given): see :func:`private_dir`.
    """
    tmp = _private_tmp(path, root)
    try:
        zones = isinstance(frame, gpd.GeoDataFrame)
        if zones and frame._geometry_column_name in frame.columns:
            frame.to_parquet(tmp, index=False, row_group_size=ROW_GROUP_SIZE)
        else:  # (a GeoDataFrame without geometry: an absent zoning, or a step's skipped table)
            table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[_META_KEY] = json.dumps({"attrs": _jsonable(frame.attrs), "zones": zones}).encode()
            pq.write_table(table.replace_schema_metadata(meta), tmp, row_group_size=ROW_GROUP_SIZE)
        _seal(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json_atomic(data: dict, path: Path, *, root: Path | None = None) -> Path:
    """Write a summary (a step returning a dict) as JSON through a temporary file and a
    rename; owner-only like :func:`write_atomic`."""
    tmp = _private_tmp(path, root)
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, default=_json_default), encoding="utf-8")
        _seal(tmp, path)
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
    being the asset's partition; `base_dir` and everything under it is owner-only
    (folders 0700, files 0600)."""

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
            path = write_json_atomic(obj, self._path(context, ".json"), root=Path(self.base_dir))
        else:
            path = write_atomic(obj, self._path(context), root=Path(self.base_dir))
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
