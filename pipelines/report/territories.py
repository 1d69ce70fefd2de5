"""Sites per territory: `outputs/<territory>/site/`, and `outputs/index.html` listing them.

A territory's site is built from `outputs/<territory>/` only, so it can never show a
table or a page of another territory; `build_site` also refuses a folder whose
demonstrators name different territories. A demonstrator folder left there by a
demonstrator that no longer exists in the project is removed before the site is built.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import config
from pipelines.report.data import DEMONSTRATOR_FILE

INDEX = "index.html"


@dataclass(frozen=True)
class TerritorySite:
    territory: str
    index: Path
    pages: int
    removed: list[str] = field(default_factory=list)


def remove_stale(folder: Path, demo_ids: list[str]) -> list[str]:
    """Delete the published folders of demonstrators that are not in `demo_ids`."""
    removed = []
    for path in sorted(folder.glob(f"*/{DEMONSTRATOR_FILE}")):
        name = path.parent.name
        if not name.startswith(".") and name != "site" and name not in demo_ids:
            shutil.rmtree(path.parent)
            removed.append(name)
    return removed


def publish_territory_site(territory_id: str, demo_ids: list[str], outputs: Path | None = None) -> TerritorySite:
    """Build, audit and swap in `outputs/<territory>/site`, then rewrite the top index."""
    from pipelines.privacy.publish import publish
    from pipelines.report.site import build_site

    outputs = Path(outputs or config.OUTPUTS_DIR)
    folder = outputs / territory_id
    removed = remove_stale(folder, demo_ids)
    built = []
    publish(lambda staging: built.append(build_site(folder, staging)), folder / "site")
    index = write_index(outputs)
    return TerritorySite(territory_id, index, len(built[0].pages), removed)


def territories(outputs: Path) -> list[dict]:
    """Every territory with a site under `outputs`: id, name, fictional, demonstrators."""
    found = []
    for site in sorted(outputs.glob(f"*/site/{INDEX}")):
        folder = site.parent.parent
        metas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(f"*/{DEMONSTRATOR_FILE}"))]
        shown = [m for m in metas if not m.get("draft")]
        if not shown:
            continue
        territory = shown[0]["territory"]
        found.append({"id": folder.name, "name": territory.get("name", folder.name),
                      "fictional": any(m["territory"].get("fictional") for m in shown),
                      "demonstrators": [m["title"] for m in shown]})
    return found


def write_index(outputs: Path) -> Path:
    """`outputs/index.html`: the territories published in this clone (French, offline)."""
    items = []
    for t in territories(outputs):
        note = " <em>(territoire fictif)</em>" if t["fictional"] and "fictif" not in t["name"].lower() else ""
        titles = ", ".join(html.escape(title) for title in t["demonstrators"])
        items.append(f'<li><a href="{html.escape(t["id"])}/site/{INDEX}">{html.escape(t["name"])}</a>{note}'
                     f"<br><small>{titles}</small></li>")
    body = "\n".join(items) or "<li>Aucun territoire publié pour l'instant.</li>"
    page = (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Territoires publiés – datacites</title>\n"
        "<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}li{margin:.75rem 0}a{font-size:1.15rem}</style>\n</head>\n<body>\n"
        "<main>\n<h1>Territoires publiés</h1>\n<p>Chaque territoire a son propre site, construit "
        "uniquement à partir de ses données.</p>\n"
        f"<ul>\n{body}\n</ul>\n</main>\n</body>\n</html>\n")
    outputs.mkdir(parents=True, exist_ok=True)
    target = outputs / INDEX
    tmp = outputs / f".{INDEX}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
