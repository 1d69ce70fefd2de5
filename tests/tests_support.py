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


def load_demonstrator(name: str):
    """A demonstrator of the clone as its component declares it: (card, registry, module)."""
    import importlib

    import yaml

    from pipelines.components.build import demonstrator_card
    from pipelines.indicators import load_registry

    folder = Path(__file__).resolve().parent.parent / "demonstrators" / name
    attributes = yaml.safe_load((folder / "defs.yaml").read_text(encoding="utf-8"))["attributes"]
    card = demonstrator_card(attributes, folder / "defs.yaml")
    module = importlib.import_module(f"demonstrators.{name}.{Path(card.module).stem}")
    return card, load_registry(folder / "indicators.yaml"), module


def step_context(card, registry, territory, **params):
    """The context a step of `card` receives, with `params` overriding its own."""
    from pipelines.catalogue import StepContext, load_sources

    return StepContext.build(card.model_copy(update={"params": card.params | params}), territory, load_sources(), registry)


def require_browser() -> Path:
    """Path of Chromium; fail under CI, skip elsewhere, when it or Playwright is missing."""
    import pytest

    from pipelines.report.browser import find_chromium

    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[test]')"
    chromium = find_chromium()
    if reason is None and chromium is None:
        reason = "no Chromium at /usr/bin/chromium (apt-get install chromium, or set DATACITES_CHROMIUM)"
    if reason is None:
        return chromium
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests need a Chromium: {reason}")
    pytest.skip(reason)
