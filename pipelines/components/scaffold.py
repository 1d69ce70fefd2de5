"""Scaffolding a new demonstrator: `dg scaffold defs pipelines.components.Demonstrator NAME`
and `datacites new NAME` take this one code path, so a new demonstrator is valid from
its first line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg

from pipelines.errors import ConfigError

TEMPLATE_DIR = Path(__file__).parent / "template"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = "template_id"


def scaffold_demonstrator(folder: Path, name: str) -> Path:
    """Copy the template into `folder/name`; the name is checked before it becomes a
    path ("../x" must not escape the demonstrators' folder)."""
    if not NAME.fullmatch(name):
        raise ConfigError(f"demonstrator name '{name}': use lowercase letters, digits and _ "
                          "(for example energy_lyon)")
    target = Path(folder) / name
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} already exists; choose another name")
    shutil.copytree(TEMPLATE_DIR, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (target / "__init__.py").touch()
    defs = target / "defs.yaml"
    defs.write_text(defs.read_text(encoding="utf-8").replace(PLACEHOLDER, name), encoding="utf-8")
    return target


class DemonstratorScaffolder(dg.Scaffolder):
    """`dg scaffold defs pipelines.components.Demonstrator <name>`."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        target = Path(request.target_path)
        scaffold_demonstrator(target.parent, target.name)
