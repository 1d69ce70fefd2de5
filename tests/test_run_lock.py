"""One run per territory at a time: the second says who holds it since when."""

from __future__ import annotations

import subprocess
import time

import pytest

from pipelines import config
from pipelines.errors import DatacitesError
from pipelines.run import territory_lock
from tests_support import BIN


def test_a_second_run_of_a_territory_is_refused_and_the_lock_goes_with_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "STATE_DIR", tmp_path)
    with territory_lock("sample"):
        busy = pytest.raises(DatacitesError, match=r"a run is publishing territory 'sample' since \d{4}-\d\d-\d\d")
        with busy, territory_lock("sample"):
            pass
        with territory_lock("overseas_sample"):  # another territory runs beside it
            pass
    with territory_lock("sample"):  # released at the end of the run, its holder forgotten
        pass
    assert (tmp_path / "locks" / "sample.lock").read_text(encoding="utf-8") == ""


def held_by(lock, pid: int) -> bool:
    """Whether process `pid` holds the lock: it writes its pid once it has it (probing
    with flock would race the run itself)."""
    import json

    try:
        return json.loads(lock.read_text(encoding="utf-8") or "{}").get("pid") == pid
    except (FileNotFoundError, ValueError):
        return False


@pytest.mark.slow
def test_two_concurrent_runs_in_one_clone(sample_project):
    """The second run stops at once with the message, exit 2; the first one succeeds."""
    root, env = sample_project["root"], sample_project["env"]
    first = subprocess.Popen([str(BIN / "datacites"), "run", "energy_precarity", "--force"], env=env, cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = root / ".datacites" / "locks" / "sample.lock"
    while not held_by(lock, first.pid):  # the first run ending before it took the lock fails here
        assert first.poll() is None, "the first run ended without taking the lock"
        time.sleep(0.05)
    second = subprocess.run([str(BIN / "datacites"), "run", "energy_precarity", "--force"], env=env, cwd=root,
                            capture_output=True, text=True, timeout=300)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out[-2000:] + err[-2000:]
    assert second.returncode == 2, second.stdout[-2000:] + second.stderr[-2000:]
    assert "a run is publishing territory 'sample' since" in second.stderr and "Traceback" not in second.stderr
