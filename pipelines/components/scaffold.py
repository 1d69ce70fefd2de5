"""Scaffolding a new demonstrator: `dg scaffold defs pipelines.components.Demonstrator NAME`
and `datacites new NAME` take this one code path, so a new demonstrator is valid from
its first line."""

from __future__ import annotations

import json
import keyword
import re
import shutil
from pathlib import Path

import dagster as dg
import yaml

from pipelines.errors import ConfigError

TEMPLATE_DIR = Path(__file__).parent / "template"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = "template_id"


# Names a demonstrator cannot take: Python keywords and builtins' modules (its folder is
# imported as a package), and the asset groups and folders of the framework.
RESERVED = set(keyword.kwlist) | {"site", "report", "sources", "comparison", "template", "test", "tests",
                                  "pipelines", "demonstrators", "dagster"}


def check_name(folder: Path, name: str) -> Path:
    """The folder a new demonstrator `name` gets; the name is checked before it becomes a
    path ("../x" must not escape the demonstrators' folder)."""
    if not NAME.fullmatch(name) or len(name) > 48:
        raise ConfigError(f"demonstrator name '{name}': use lowercase letters, digits and _, starting with a letter, "
                          "at most 48 characters (for example energy_lyon)")
    if name in RESERVED:
        raise ConfigError(f"demonstrator name '{name}' is reserved (a Python keyword or a name of the framework); "
                          "choose another, for example energy_lyon")
    root = Path(folder).resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise ConfigError(f"demonstrator name '{name}' would leave {root}; choose a plain name")
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} already exists; choose another name")
    return target


def scaffold_demonstrator(folder: Path, name: str) -> Path:
    """Copy the template into `folder/name`."""
    target = check_name(folder, name)
    shutil.copytree(TEMPLATE_DIR, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (target / "__init__.py").touch()
    defs = target / "defs.yaml"
    defs.write_text(defs.read_text(encoding="utf-8").replace(PLACEHOLDER, name), encoding="utf-8")
    return target


def clone_demonstrator(folder: Path, source: str, name: str, *, territory=None) -> Path:
    """Copy demonstrator `source` to `folder/name`: its id, title and the paths naming its
    folder renamed, `draft: true` (off the officials' site until changed); the copy is
    loaded as Dagster will load it, and removed again if it does not load."""
    from pipelines.components.build import demonstrator_card

    origin = Path(folder) / source
    known = sorted(p.parent.name for p in Path(folder).glob("*/defs.yaml"))
    if not NAME.fullmatch(source) or not (origin / "defs.yaml").is_file():
        raise ConfigError(f"--from '{source}': no such demonstrator in {folder} (known: {', '.join(known)}, "
                          "or _template)")
    target = check_name(folder, name)
    defs_text = (origin / "defs.yaml").read_text(encoding="utf-8")
    attributes = yaml.safe_load(defs_text).get("attributes", {})
    shutil.copytree(origin, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    try:
        for path in target.rglob("*"):
            if path.suffix in (".yaml", ".py", ".md") and path.is_file():
                text = path.read_text(encoding="utf-8").replace(f"demonstrators/{source}/", f"demonstrators/{name}/")
                path.write_text(text, encoding="utf-8")
        defs = target / "defs.yaml"
        text = defs.read_text(encoding="utf-8")
        text, ids = re.subn(rf"(?m)^(\s+)id: {re.escape(source)}\s*$", rf"\g<1>id: {name}", text, count=1)
        title = str(attributes.get("title", source))
        renamed = json.dumps(f"{title} (copie {name})", ensure_ascii=False)
        text = re.sub(r"(?m)^(\s+)title: .*$", lambda m: f"{m.group(1)}title: {renamed}", text, count=1)
        text = re.sub(r"(?m)^\s+draft: .*\n", "", text)
        text = re.sub(r"(?m)^(\s+)id: (.*)$", r"\g<0>\n\g<1>draft: true  # built, not on the officials' site", text,
                      count=1)
        if not ids:
            raise ConfigError(f"{origin / 'defs.yaml'}: no `id: {source}` line to rename")
        defs.write_text(text, encoding="utf-8")
        card = demonstrator_card(yaml.safe_load(text)["attributes"], defs)
        if territory is not None and card.lacking(territory):
            raise ConfigError(f"territory '{territory.id}' lacks {card.lacking(territory)}, which '{source}' needs; "
                              "bring that data or choose another demonstrator")
        from pipelines.components.loading import load_demonstrators

        load_demonstrators(Path(folder))  # the copy loads as Dagster loads it, or it goes
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


class DemonstratorScaffolder(dg.Scaffolder):
    """`dg scaffold defs pipelines.components.Demonstrator <name>`."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        target = Path(request.target_path)
        scaffold_demonstrator(target.parent, target.name)
