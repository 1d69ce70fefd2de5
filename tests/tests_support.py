"""Helpers shared by the end-to-end tests (imported by conftest and test modules)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.config import PROJECT_ROOT

BIN = Path(sys.executable).parent


def scratch_project(root: Path) -> dict[str, str]:
    """A scratch project root: the cards copied, demonstrators linked; its environment."""
    (root / "sources").mkdir(parents=True)
    for card in (PROJECT_ROOT / "sources").glob("*.yaml"):
        shutil.copy(card, root / "sources" / card.name)
    shutil.copytree(PROJECT_ROOT / "sources" / "territories", root / "sources" / "territories")
    (root / "demonstrators").symlink_to(PROJECT_ROOT / "demonstrators")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATACITES_", "DAGSTER_"))}
    env |= {"DATACITES_ROOT": str(root), "DAGSTER_HOME": str(root / ".datacites" / "dagster")}
    return env


def run_cli(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Run `datacites ARGS` as a user would; fail the test with its output on error."""
    done = subprocess.run([str(BIN / "datacites"), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"datacites {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done
