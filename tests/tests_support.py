"""Helpers shared by the end-to-end tests (imported by conftest and test modules)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
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


LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@dataclass
class OpenPage:
    """A page left open after loading, and what happened while it loaded.

    ``errors`` and ``failed`` are frozen once the charts are drawn: later tests drive the
    page (axe-core fetches the stylesheets with an XHR, which file:// refuses), and
    what they cause is not the page's doing.
    """

    page: object
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    loading: bool = True


def offline_context(browser, viewport: dict, blocked: list[str]):
    """A browser context with no network: every non-local request is recorded in `blocked`."""
    def only_local(route):
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport=viewport)
    context.set_offline(True)
    context.route("**/*", only_local)
    return context


def open_page(context, path: Path) -> OpenPage:
    """Open `path` from the file system, wait for its charts, record errors and failures."""
    from pipelines.report.browser import wait_for_charts

    page = context.new_page()
    state = OpenPage(page)

    def record(target: list, text: str) -> None:
        if state.loading:
            target.append(text)

    page.on("console", lambda m: record(state.errors, m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: record(state.errors, str(exc)))
    page.on("requestfailed", lambda r: record(state.failed, f"{r.url} ({r.failure})"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    try:
        wait_for_charts(page, timeout_ms=15_000)
    except Exception as exc:  # reported by the tests, not as a fixture error
        state.errors.append(f"charts not drawn: {exc}")
    page.wait_for_timeout(200)  # let a late request or error surface
    state.loading = False
    return state
