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


def _realdata_path(name: str) -> Path:
    path = REALDATA_DIR / name
    if path.exists():
        return path
    reason = f"real extract {path} is missing (../shared/realdata is not beside this clone)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; CI must have it")
    pytest.skip(reason)


@pytest.fixture
def realdata():
    """Return a function mapping an extract's folder name to its path."""
    return _realdata_path


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
