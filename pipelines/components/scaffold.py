"""Scaffolding a new demonstrator: `dg scaffold defs pipelines.components.Demonstrator NAME`
and `datacites new NAME` take this one code path, so a new demonstrator is valid from
its first line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import dagster as dg
import yaml

from pipelines.commons.names import NAME, check_name
from pipelines.errors import ConfigError

TEMPLATE_DIR = Path(__file__).parent / "template"
PLACEHOLDER = "template_id"


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
        defs = target / "defs.yaml"
        text = rename_copy(target, source, name, attributes, origin / "defs.yaml")
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


def rename_copy(target: Path, source: str, name: str, attributes: dict, origin_defs: Path) -> str:
    """Rename the copy of demonstrator `source` in `target` to `name`: the paths naming its
    folder, its id, its title ("(copie NAME)") and `draft: true`; the new defs.yaml's text."""
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
        raise ConfigError(f"{origin_defs}: no `id: {source}` line to rename")
    defs.write_text(text, encoding="utf-8")
    return text


class DemonstratorScaffolder(dg.Scaffolder):
    """`dg scaffold defs pipelines.components.Demonstrator <name>`."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        target = Path(request.target_path)
        scaffold_demonstrator(target.parent, target.name)
