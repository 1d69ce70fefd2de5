"""The Celery executor for real: Debian's Redis as broker and result backend on a loopback
port, two `dagster-celery` workers (one task at a time each), the PostgreSQL instance of
deploy/dagster.yaml shared by the runs and the workers, and one run per territory (a
territory is a partition: one run materialises one) launched at the same time.

What proves the steps ran on the workers: each worker writes, before it runs a step, an
engine event naming itself ("Celery worker": w1@host) in the run's event log, read back
from PostgreSQL; Celery's own log of each worker counts the tasks it ran. The published
tables are then compared with those of the in-process run of `sample_project`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT
from tests_support import BIN

pytestmark = pytest.mark.slow

TERRITORIES = ("sample", "overseas_sample")
WORKERS = ("w1", "w2")
RUN_CONFIG = PROJECT_ROOT / "deploy" / "celery" / "run_config.yaml"

# One run of the mobility demonstrator (and what it reads) for one territory, on the
# executor of pipelines.deploy:celery_defs; prints what the event log says of it.
DRIVER = """
import json, resource, sys
import dagster as dg, yaml
from dagster._core.definitions.reconstruct import ReconstructableRepository
from pipelines.deploy import celery_defs
from pipelines.run import selection

territory, run_config = sys.argv[1], yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
keys = [key for key in selection(celery_defs, ["mobility_access"]) if key != dg.AssetKey("site")]
job = ReconstructableRepository.for_module("pipelines.deploy", "celery_defs").get_reconstructable_job(
    "all_demonstrators")
with dg.DagsterInstance.get() as instance:
    result = dg.execute_job(job, instance=instance, run_config=run_config, asset_selection=keys,
                            tags={"dagster/partition": territory}, raise_on_error=False)
    workers, succeeded, failed = {}, [], {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "ENGINE_EVENT" and "Celery worker" in event.event_specific_data.metadata:
            workers[event.step_key] = event.event_specific_data.metadata["Celery worker"].value
        if event.event_type_value == "STEP_SUCCESS":
            succeeded.append(event.step_key)
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:  # a step's failure, or a worker's (its task raised)
            failed[event.step_key or event.event_type_value] = error.to_string()[-1500:]
    run, stats = instance.get_run_by_id(result.run_id), instance.get_run_stats(result.run_id)
    print(json.dumps({"territory": territory, "status": run.status.value, "partition": run.tags["dagster/partition"],
                      "workers": workers, "succeeded": succeeded, "failed": failed,
                      "seconds": stats.end_time - stats.start_time,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _wait(what: str, ready, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Wait until `ready()`; fail with the log when the process dies or never gets there."""
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group this test started (a worker and its pool), then SIGKILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        one = todo.pop()
        try:
            children = [int(c) for c in Path(f"/proc/{one}/task/{one}/children").read_text().split()]
        except OSError:
            children = []
        found += children
        todo += children
    return found


def _peak_rss_mb(pid: int) -> float:
    """Largest VmHWM (peak resident memory) of the process and its descendants, in MB."""
    peaks = []
    for one in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if found:
            peaks.append(int(found.group(1)) / 1024)
    return max(peaks, default=0.0)


@pytest.fixture(scope="module")
def celery_workers(sample_project, postgres, redis_server, tmp_path_factory):
    """Two workers (`dagster-celery worker start`, concurrency 1 each) sharing the Dagster
    instance (PostgreSQL), the code and a state folder of their own: the store starts
    empty, so every step of the runs executes; the sample's pseudonymisation key is the
    in-process run's, so that the published tables can be compared."""
    scratch = tmp_path_factory.mktemp("celery")
    home, state, outputs = scratch / "dagster_home", scratch / "state", scratch / "outputs"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    state.mkdir(mode=0o700)
    root = sample_project["root"]
    shutil.copy2(root / ".datacites" / "pseudonymisation.key", state / "pseudonymisation.key")
    env = {**sample_project["env"], **postgres, "DAGSTER_HOME": str(home), "DATACITES_STATE_DIR": str(state),
           "DATACITES_OUTPUTS_DIR": str(outputs), "DATACITES_CELERY_BROKER": f"{redis_server}/0",
           "DATACITES_CELERY_BACKEND": f"{redis_server}/1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    # the tables of the instance, once, before anyone uses it (as a deployment does)
    subprocess.run([str(BIN / "dagster"), "instance", "migrate"], env=env, cwd=root, check=True, capture_output=True,
                   timeout=300)
    workers, logs = {}, {}
    try:
        for name in WORKERS:
            logs[name] = scratch / f"{name}.log"
            with open(logs[name], "wb") as out:
                workers[name] = subprocess.Popen(
                    [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(RUN_CONFIG),
                     "-n", name, "--", "-c", "1"],
                    env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        for name in WORKERS:
            _wait(f"worker {name}", lambda n=name: re.search(rf"{n}@\S+ ready\.", logs[n].read_text(errors="replace")),
                  workers[name], logs[name])
        yield {"env": env, "root": root, "outputs": outputs, "workers": workers, "logs": logs}
    finally:
        for process in workers.values():
            _stop(process)


def test_two_territories_run_their_steps_on_two_celery_workers(celery_workers, sample_project):
    env, root = celery_workers["env"], celery_workers["root"]
    started = time.monotonic()
    runs = [subprocess.Popen([sys.executable, "-c", DRIVER, territory, str(RUN_CONFIG)], env=env, cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for territory in TERRITORIES]
    try:
        finished = [run.communicate(timeout=600) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:  # a run left waiting on the workers: end it with the test
                run.kill()
                run.wait(timeout=30)
    seconds = time.monotonic() - started
    reports = {}
    for run, (out, err) in zip(runs, finished, strict=True):
        assert run.returncode == 0, err[-4000:]
        report = json.loads(out.strip().splitlines()[-1])
        reports[report["territory"]] = report

    for territory in TERRITORIES:
        report = reports[territory]
        assert (report["status"], report["partition"], report["failed"]) == ("SUCCESS", territory, {}), report
        # every step that ran was taken by a Celery worker, which said so in the event log
        assert report["succeeded"] and set(report["succeeded"]) <= set(report["workers"]), report
        assert "mobility_access__published" in report["succeeded"]
    hosts = [host for report in reports.values() for host in report["workers"].values()]
    assert {host.split("@")[0] for host in hosts} == set(WORKERS), hosts
    # Celery's side: each worker's log counts the tasks it ran, as many as the event log says
    done = {name: len(re.findall(r"Task execute_plan\[[^\]]+\] succeeded", log.read_text(errors="replace")))
            for name, log in celery_workers["logs"].items()}
    assert done == {name: sum(h.split("@")[0] == name for h in hosts) for name in WORKERS}, done

    # the same published tables as the in-process run (sample_project's `datacites demo`)
    for territory in TERRITORIES:
        ours = celery_workers["outputs"] / territory / "mobility_access"
        theirs = sample_project["root"] / "outputs" / territory / "mobility_access"
        tables = sorted(p.name for p in theirs.glob("*.csv"))
        assert tables == ["mobility_access_commune.csv", "mobility_access_iris.csv"]
        for name in tables:
            assert (ours / name).read_bytes() == (theirs / name).read_bytes(), f"{territory}/{name} differs"

    peaks = {name: _peak_rss_mb(process.pid) for name, process in celery_workers["workers"].items()}
    # figures for docs/deploy.md (never asserted on)
    runs_seconds = ", ".join(f"{t} {r['seconds']:.1f} s" for t, r in reports.items())
    runs_memory = ", ".join(f"{t} {r['peak_mb']:.0f} MB" for t, r in reports.items())
    workers_memory = ", ".join(f"{n} {mb:.0f} MB" for n, mb in peaks.items())
    print(f"\ncelery: {len(hosts)} steps of {len(TERRITORIES)} runs in {seconds:.1f} s ({runs_seconds}), "
          f"tasks per worker {done}, peak RSS per worker {workers_memory}, per run process {runs_memory}")
