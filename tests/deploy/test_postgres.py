"""The production instance for real: a PostgreSQL server started on loopback for this
module (Debian's package, `make servers`; the `postgres` fixture of conftest.py), two
territories materialised with the storage of deploy/dagster.yaml, their runs read back
from the database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT
from tests_support import run_cli

pytestmark = pytest.mark.slow


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
