"""The production instance for real: a PostgreSQL server started on loopback for this
module (Debian's package, `make servers`), two territories materialised with the
storage of deploy/dagster.yaml, their runs read back from the database."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT
from tests_support import run_cli

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_binaries(name: str) -> Path:
    """Folder of Debian's PostgreSQL binaries; fails under CI when missing, skips elsewhere."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed: `make servers` installs Debian's package")
        pytest.skip("PostgreSQL is not installed (run `make servers`)")
    return Path(found[-1]).parent


@pytest.fixture(scope="module")
def postgres():
    """A throwaway server: its own data folder, a free port on 127.0.0.1, stopped after."""
    import psycopg2

    bin_dir = server_binaries("initdb")
    folder = Path(tempfile.mkdtemp(prefix="datacites-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "datacites",
                    "-E", "UTF8", "--no-instructions"], check=True, capture_output=True, timeout=120)
    subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                    "-t", "60", "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}", "start"],
                   check=True, capture_output=True, timeout=120)
    try:
        connection = psycopg2.connect(host="127.0.0.1", port=port, user="datacites", dbname="postgres")
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE datacites")
        connection.close()
        yield {"DATACITES_PG_HOST": "127.0.0.1", "DATACITES_PG_PORT": str(port), "DATACITES_PG_USER": "datacites",
               "DATACITES_PG_PASSWORD": "", "DATACITES_PG_DB": "datacites", "DATACITES_MAX_RUNS": "4"}
    finally:
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_two_territories_run_with_postgres_storage_and_are_read_back(sample_project, postgres, tmp_path):
    import psycopg2

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {**sample_project["env"], **postgres, "DAGSTER_HOME": str(home)}
    root = sample_project["root"]
    run_cli(["run", "mobility_access", "-t", "sample", "-t", "overseas_sample", "--force"], env, root)
    assert not list(home.glob("**/*.db")), "SQLite files: the instance did not use PostgreSQL"

    # read back through Dagster, as the UI would, and straight from the database
    script = ("import dagster as dg\n"
              "with dg.DagsterInstance.get() as instance:\n"
              "    runs = instance.get_runs()\n"
              "    print(sorted((r.tags.get('dagster/partition'), r.status.value) for r in runs))\n"
              "    keys = instance.get_materialized_partitions(dg.AssetKey(['mobility_access', 'published']))\n"
              "    print(sorted(keys))\n")
    done = subprocess.run([str(Path(os.sys.executable)), "-c", script], env=env, cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    runs, published = done.stdout.strip().splitlines()[-2:]
    assert runs == "[('overseas_sample', 'SUCCESS'), ('sample', 'SUCCESS')]"
    assert published == "['overseas_sample', 'sample']"
    connection = psycopg2.connect(host="127.0.0.1", port=int(postgres["DATACITES_PG_PORT"]), user="datacites",
                                  dbname="datacites")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM runs WHERE status = 'SUCCESS'")
        assert cursor.fetchone()[0] == 2
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        assert cursor.fetchone()[0] >= 2 * 10
    connection.close()
