"""The Parquet store is owner-only (folders 0700, files 0600) whatever the umask: it holds
staged private data and aggregates derived from personal data."""

import os
import stat

import dagster as dg
import pandas as pd
import pytest

from pipelines.assets.store import ParquetStore, private_dir, write_atomic, write_json_atomic


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o000, 0o002], ids=["umask022", "umask000", "umask002"])
def loose_umask(request):
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def private_frame() -> pd.DataFrame:
    frame = pd.DataFrame({"id_batiment": ["B1", "B2"], "x_l93": [700_100.0, 700_300.0],
                          "y_l93": [6_600_100.0, 6_600_200.0], "conso_totale_mwh": [120.5, 98.0]})
    frame.attrs["crs"] = "EPSG:2154"
    return frame


def test_parquet_and_json_files_are_0600_in_0700_folders(tmp_path, loose_umask):
    root = tmp_path / "store"
    table = write_atomic(private_frame(), root / "sample" / "staged" / "operator_consumption.parquet", root=root)
    summary = write_json_atomic({"headlines": [1, 2]}, root / "sample" / "energy" / "summary.json", root=root)
    assert mode(table) == 0o600 and mode(summary) == 0o600
    for folder in (root, root / "sample", root / "sample" / "staged", root / "sample" / "energy"):
        assert mode(folder) == 0o700, folder
    assert not [p.name for p in table.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_older_world_readable_store_is_tightened(tmp_path):
    root = tmp_path / "store"
    folder = root / "sample" / "staged"
    folder.mkdir(parents=True)
    for directory in (root, root / "sample", folder):
        directory.chmod(0o755)
    old = folder / "operator_consumption.parquet"
    old.write_bytes(b"stale")
    old.chmod(0o644)
    write_atomic(private_frame(), old, root=root)
    assert mode(old) == 0o600
    assert {mode(d) for d in (root, root / "sample", folder)} == {0o700}


def test_a_restrictive_umask_still_lets_the_owner_write(tmp_path):
    previous = os.umask(0o277)  # would give r-------- files and r-x------ folders
    try:
        path = write_atomic(private_frame(), tmp_path / "store" / "t" / "a.parquet", root=tmp_path / "store")
    finally:
        os.umask(previous)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert pd.read_parquet(path)["id_batiment"].tolist() == ["B1", "B2"]


def test_without_a_root_only_created_folders_and_the_file_folder_are_touched(tmp_path, loose_umask):
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o755)
    private_dir(outside / "a" / "b")
    assert mode(outside) == 0o755
    assert mode(outside / "a") == 0o700 and mode(outside / "a" / "b") == 0o700


def test_the_io_manager_writes_owner_only_files(tmp_path, loose_umask):
    root = tmp_path / "state" / "store"
    territories = dg.StaticPartitionsDefinition(["sample"])

    @dg.asset(key=["staged", "operator_consumption"], partitions_def=territories)
    def staged() -> pd.DataFrame:
        return private_frame()

    @dg.asset(key=["energy", "summary"], partitions_def=territories)
    def summary() -> dict:
        return {"headlines": {"n": 3}}

    result = dg.materialize([staged, summary], partition_key="sample",
                            resources={"io_manager": ParquetStore(base_dir=str(root))})
    assert result.success
    files = [p for p in root.rglob("*") if p.is_file()]
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    assert {p.name for p in files} == {"operator_consumption.parquet", "summary.json"}
    assert {mode(p) for p in files} == {0o600}
    assert {mode(p) for p in folders} == {0o700}
    assert mode(root.parent) == 0o700  # created for the store
