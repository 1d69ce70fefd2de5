"""The spatial extension loads from its wheel, with nothing downloaded or installed."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.spatial import engine
from pipelines.spatial.engine import SpatialExtensionError, connect, spatial_extension_path


def test_extension_path_is_the_wheel_binary_for_this_duckdb():
    path = spatial_extension_path()
    assert path.is_file()
    assert path.parent.name == f"v{duckdb.__version__}"
    assert path.parent.parent.parent.name == "duckdb_extension_spatial"


def test_spatial_query_with_autoinstall_off_and_empty_extension_directory(tmp_path,
                                                                          monkeypatch):
    # An empty extension directory proves nothing was installed there before or fetched.
    real_connect = duckdb.connect

    def connect_with_empty_directory(database, read_only=False, config=None):
        config = dict(config or {}, extension_directory=str(tmp_path))
        return real_connect(database, read_only=read_only, config=config)

    monkeypatch.setattr(engine, "_connect", connect_with_empty_directory)
    monkeypatch.setenv("HOME", str(tmp_path))
    with connect(threads=1) as con:
        settings = con.execute(
            "SELECT current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions'), "
            "current_setting('extension_directory'), current_setting('threads')").fetchone()
        area = con.execute("SELECT ST_Area(ST_GeomFromText("
                           "'POLYGON((0 0, 200 0, 200 200, 0 200, 0 0))'))").fetchone()[0]
    assert settings == (False, False, str(tmp_path), 1)
    assert area == 40_000
    assert list(tmp_path.iterdir()) == []


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(engine.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SpatialExtensionError,
                       match=rf"pip install duckdb-extension-spatial=={duckdb.__version__}"):
        spatial_extension_path()


def test_version_mismatch_says_what_to_install(monkeypatch):
    monkeypatch.setattr(engine.duckdb, "__version__", "9.9.9")
    with pytest.raises(SpatialExtensionError) as caught:
        spatial_extension_path()
    message = str(caught.value)
    assert "no binary for duckdb 9.9.9" in message
    assert "pip install duckdb-extension-spatial==9.9.9" in message
