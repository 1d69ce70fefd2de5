"""DuckDB connections with the spatial extension loaded from its wheel, offline.

The extension is never downloaded (DESIGN.md, decision 2): CI and many local-authority
networks cannot reach DuckDB's extension server. The ``duckdb-extension-spatial`` wheel
ships the binary for exactly one DuckDB version, so both must be pinned together.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.errors import DatacitesError

__all__ = ["SpatialExtensionError", "spatial_extension_path", "connect"]

_PACKAGE = "duckdb_extension_spatial"


class SpatialExtensionError(DatacitesError):
    """The offline DuckDB spatial extension cannot be found or loaded."""


def _install_hint() -> str:
    return f"pip install duckdb-extension-spatial=={duckdb.__version__}"


def spatial_extension_path() -> Path:
    """Return the path of the spatial extension matching the installed DuckDB.

    Returns
    -------
    pathlib.Path
        ``<site-packages>/duckdb_extension_spatial/extensions/v<duckdb version>/
        spatial.duckdb_extension``.

    Raises
    ------
    SpatialExtensionError
        If the package is not installed, or holds no binary for this DuckDB version;
        the message gives the pip command that fixes it.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SpatialExtensionError(f"the package duckdb-extension-spatial is not installed; "
                                    f"run `{_install_hint()}` (same version as duckdb).")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.is_file():
        shipped = sorted(p.name for p in (root / "extensions").glob("v*"))
        raise SpatialExtensionError(f"duckdb-extension-spatial has no binary for duckdb "
                                    f"{duckdb.__version__} (it ships {shipped or 'none'}); "
                                    f"run `{_install_hint()}`: both must carry the same "
                                    "version.")
    return path


def connect(database: str | Path = ":memory:", *, threads: int | None = None,
            read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection with the spatial extension loaded offline.

    Parameters
    ----------
    database : str or pathlib.Path, default ``":memory:"``
        Database file, or ``":memory:"``. Parquet is the storage of record, so most
        steps use an in-memory database and read Parquet files.
    threads : int, optional
        Worker threads; DuckDB's default (one per core) when omitted.
    read_only : bool, default False
        Open the database file read-only.

    Returns
    -------
    duckdb.DuckDBPyConnection
        With automatic extension install/load disabled, so nothing is ever fetched.

    Raises
    ------
    SpatialExtensionError
        If the extension file is missing or DuckDB refuses to load it.
    """
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if threads is not None:
        config["threads"] = int(threads)
    path = spatial_extension_path()
    con = _connect(str(database), read_only=read_only, config=config)
    # LOAD takes no bind parameter; the path is ours (site-packages), quoted as a literal.
    literal = "'" + str(path).replace("'", "''") + "'"
    try:
        con.execute(f"LOAD {literal}")
    except duckdb.Error as error:
        con.close()
        raise SpatialExtensionError(f"DuckDB {duckdb.__version__} could not load the spatial "
                                    f"extension at {path}; reinstall it with "
                                    f"`{_install_hint()}`.") from error
    # Long joins would otherwise draw a progress bar on the terminal of a pipeline run.
    con.execute("SET enable_progress_bar = false")
    if external_access_locked():
        # Inside a demonstrator's step: frames registered by our functions only, no file.
        con.execute("SET enable_external_access = false")
    return con


_connect = duckdb.connect  # ours, whatever a step guard does to the module's attribute
_STEP = threading.local()


def external_access_locked() -> bool:
    """Whether this thread runs a demonstrator's step (see components/guard.py)."""
    return getattr(_STEP, "locked", False)


@contextmanager
def lock_external_access() -> Iterator[None]:
    """Connections opened by `connect` in this thread read no file until the block ends."""
    _STEP.locked = True
    try:
        yield
    finally:
        _STEP.locked = False
