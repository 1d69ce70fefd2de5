"""Shared fixtures.

`realdata(name)` gives the folder of a real open-data extract in ../shared/realdata.
Under CI (CI=true) a missing folder is a failure, since CI always has it; elsewhere the
test is skipped with a visible reason (a user's clone has no ../shared).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT

REALDATA_DIR = Path(os.environ.get("DATACITES_REALDATA_DIR", PROJECT_ROOT.parent / "shared" / "realdata"))
REALTERRITORY_DIR = Path(os.environ.get("DATACITES_REALTERRITORY_DIR",
                                        PROJECT_ROOT.parent / "shared" / "realterritory"))


def _shared_path(folder: Path, name: str, what: str) -> Path:
    path = folder / name
    if path.exists():
        return path
    reason = f"{what} {path} is missing (../shared/{folder.name} is not beside this clone)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; CI must have it")
    pytest.skip(reason)


def _realdata_path(name: str) -> Path:
    return _shared_path(REALDATA_DIR, name, "real extract")


@pytest.fixture(scope="session")
def realdata():
    """Return a function mapping an extract's folder name to its path."""
    return _realdata_path


@pytest.fixture(scope="session")
def realterritory():
    """Return a function mapping a real territory's folder name (../shared/realterritory)
    to its path; under CI a missing folder fails, elsewhere the test is skipped."""
    return lambda name: _shared_path(REALTERRITORY_DIR, name, "real territory")


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory):
    """The sample territory generated and every demonstrator run once, in a scratch root.

    Returns a dict with ``root`` (the scratch project), ``env`` (its environment) and
    ``stdout`` (what `datacites demo` printed). Shared by every end-to-end test.
    """
    from tests_support import run_cli, scratch_project

    root = tmp_path_factory.mktemp("project")
    env = scratch_project(root)
    run_cli(["sample"], env, root)
    done = run_cli(["demo"], env, root)
    return {"root": root, "env": env, "stdout": done.stdout + done.stderr}
