"""Servers of the deployment tests, each started on a free loopback port in a temporary
folder and stopped after its module, even when a test fails. Debian's packages
(`make servers`): missing, a test fails under CI and is skipped elsewhere."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_server(what: str) -> None:
    """Fail under CI, skip elsewhere, with the reason and the fix."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed: `make servers` installs Debian's package")
    pytest.skip(f"{what} is not installed (run `make servers`)")


def server_binaries(name: str) -> Path:
    """Folder of Debian's PostgreSQL binaries; fails under CI when missing, skips elsewhere."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        missing_server("PostgreSQL")
    return Path(found[-1]).parent


@pytest.fixture(scope="module")
def postgres():
    """A throwaway server: its own data folder, a free port on 127.0.0.1, stopped after;
    the variables of deploy/dagster.yaml pointing at its empty database `datacites`."""
    import psycopg2

    bin_dir = server_binaries("initdb")
    folder = Path(tempfile.mkdtemp(prefix="datacites-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
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


@pytest.fixture(scope="module")
def redis_server():
    """Debian's redis-server on a free loopback port, nothing saved, stopped after; its URL."""
    import time

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        missing_server("Redis (redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="datacites-redis-"))
    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                   "no", "--dir", str(folder), "--daemonize", "no"], stdout=out, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
        client.close()
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
