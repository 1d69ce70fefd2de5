"""Sites per territory: `outputs/<territory>/site/`, the comparison pages, and `outputs/index.html`.

A territory's site is built from `outputs/<territory>/` only, so it can never show a
table or a page of another territory; `build_site` also refuses a folder whose
demonstrators name different territories. A demonstrator folder left there by a
demonstrator that no longer exists in the project is removed before the site is built.

Comparison pages (`outputs/comparison/<demo>.html`, :mod:`pipelines.report.comparison`)
and the links to them follow one rule, applied to the folders found under `outputs/`
when a territory's site is published: a territory takes part in the comparison of a
demonstrator when its site shows it; a page exists when two territories or more take
part; a demonstrator page links to "Comparer avec les autres territoires" exactly when
that page exists. `publish_territory_site` keeps every page in step with the rule:

1. the site of the territory is built with the links the comparisons will have once
   it is published (it counts itself as showing its non-draft demonstrators);
2. the comparison pages are rebuilt from every territory's published files (audited,
   swapped in; removed when nothing is compared any more);
3. the site of any other territory whose links no longer match (the second territory
   of a demonstrator was just published, or the last but one left) is rebuilt from its
   own published folder, through the same audited swap;
4. `outputs/index.html` is rewritten, with the territories and the comparison pages.

So after publishing territory A, then B, every page of both links correctly, whatever
the order. Publications of several territories in parallel (Dagster partitions) take
turns on a lock file, `outputs/.publication.lock`, so that they never swap the same
folder at once.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import shutil
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import config
from pipelines.errors import ConfigError
from pipelines.report.data import COMPARISON_FOLDER, DEMONSTRATOR_FILE, find_demonstrators

log = logging.getLogger(__name__)

INDEX = "index.html"
LOCK_FILE = ".publication.lock"
MAX_ROUNDS = 3


@dataclass(frozen=True)
class TerritorySite:
    """What :func:`publish_territory_site` did.

    Attributes
    ----------
    territory : str
        The territory published.
    index : Path
        `outputs/index.html`.
    pages : int
        Pages of the territory's site.
    removed : list of str
        Demonstrator folders removed (no longer in the project).
    comparisons : list of Path
        The comparison pages published now (every demonstrator compared).
    rebuilt : list of str
        Other territories whose site was rebuilt to keep its comparison links in step.
    warnings : list of str
        Problems that did not stop this territory's publication (another territory's
        site that could not be rebuilt).
    """

    territory: str
    index: Path
    pages: int
    removed: list[str] = field(default_factory=list)
    comparisons: list[Path] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def stale(folder: Path, demo_ids: list[str]) -> list[Path]:
    """Published folders of demonstrators that are not in `demo_ids`."""
    return [path.parent for path in sorted(folder.glob(f"*/{DEMONSTRATOR_FILE}"))
            if not path.parent.name.startswith(".") and path.parent.name != "site"
            and path.parent.name not in demo_ids]


@contextlib.contextmanager
def set_aside_stale(folder: Path, demo_ids: list[str]) -> Iterator[list[str]]:
    """Move stale demonstrators out of the site's way; delete them only if the block
    succeeds (a failed build or audit leaves what was published as it was)."""
    moved = [(path, path.with_name(f".{path.name}.stale-{uuid.uuid4().hex}")) for path in stale(folder, demo_ids)]
    for path, aside in moved:
        path.rename(aside)
    try:
        yield [path.name for path, _ in moved]
    except BaseException:
        for path, aside in moved:
            aside.rename(path)
        raise
    for _, aside in moved:
        shutil.rmtree(aside, ignore_errors=True)


def publish_territory_site(territory_id: str, demo_ids: list[str], outputs: Path | None = None) -> TerritorySite:
    """Build, audit and swap in `outputs/<territory>/site`, the comparison pages, then the top index.

    See the module's docstring for the order and the rule that keeps the links right.
    """
    from pipelines.report.comparison import comparison_plan, published_demonstrators

    outputs = Path(outputs or config.OUTPUTS_DIR)
    if territory_id == COMPARISON_FOLDER:
        raise ConfigError(f"territory id '{territory_id}': outputs/{COMPARISON_FOLDER}/ holds the pages comparing "
                          "territories. Fix: rename the territory's card (sources/territories/<id>.yaml) and its id.")
    folder = outputs / territory_id
    with publication_lock(outputs), set_aside_stale(folder, demo_ids) as removed:
        compared = comparison_plan(outputs, shown={territory_id: published_demonstrators(folder)})
        pages = _publish_site(folder, set(compared))
        comparisons, rebuilt, warnings = sync_comparisons(outputs)
        index = write_index(outputs)
    for warning in warnings:
        log.warning(warning)
    return TerritorySite(territory_id, index, pages, removed, comparisons, rebuilt, warnings)


def _publish_site(folder: Path, comparisons: Collection[str]) -> int:
    from pipelines.privacy.publish import publish
    from pipelines.report.site import build_site

    built = []
    publish(lambda staging: built.append(build_site(folder, staging, comparisons=comparisons)), folder / "site")
    return len(built[0].pages)


@contextlib.contextmanager
def publication_lock(outputs: Path) -> Iterator[None]:
    """Hold `outputs/.publication.lock` (one publication of sites and comparisons at a time).

    Without `fcntl` (Windows) nothing is locked: run the territories one after another.
    """
    outputs.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(outputs / LOCK_FILE, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def links_out_of_date(folder: Path, compared: Collection[str]) -> list[str]:
    """Demonstrator pages of a territory's site whose comparison link disagrees with `compared`."""
    from pipelines.report.comparison import site_demonstrators
    from pipelines.report.site import comparison_links

    site = folder / "site"
    shown = site_demonstrators(folder)
    hrefs = comparison_links(folder, site, shown, set(shown))
    wrong = []
    for demo_id in shown:
        linked = f'href="{html.escape(hrefs[demo_id])}"' in (site / f"{demo_id}.html").read_text(encoding="utf-8")
        if linked != (demo_id in compared):
            wrong.append(demo_id)
    return wrong


def sync_comparisons(outputs: Path) -> tuple[list[Path], list[str], list[str]]:
    """Rebuild the comparison pages, then every site whose links to them are out of date.

    A rebuilt site shows what its territory has published now, which may change who
    takes part in a comparison: the pages are then built again (at most `MAX_ROUNDS`).

    Returns
    -------
    tuple
        The comparison pages, the territories whose site was rebuilt, and warnings.
    """
    from pipelines.report.comparison import build_comparisons, comparison_plan, territory_folders

    rebuilt: list[str] = []
    warnings: list[str] = []
    failed: set[str] = set()
    pages: list[Path] = []
    for _ in range(MAX_ROUNDS):
        plan = comparison_plan(outputs)
        pages = build_comparisons(outputs)
        stale = [f for f in territory_folders(outputs) if f.name not in failed
                 and (f / "site" / INDEX).is_file() and links_out_of_date(f, plan)]
        for folder in stale:
            try:
                _publish_site(folder, set(plan))
                rebuilt.append(folder.name)
            except Exception as error:  # another territory's problem must not block this one
                failed.add(folder.name)
                warnings.append(f"{folder / 'site'}: not rebuilt, its links to the comparison pages may be out of "
                                f"date ({type(error).__name__}: {error}). Fix: `datacites report --territory "
                                f"{folder.name}`.")
        if not stale or comparison_plan(outputs) == plan:
            break
    return pages, sorted(set(rebuilt)), warnings


def territories(outputs: Path) -> list[dict]:
    """Every territory with a site under `outputs`: id, name, fictional, demonstrators."""
    found = []
    for site in sorted(outputs.glob(f"*/site/{INDEX}")):
        folder = site.parent.parent
        metas = [json.loads(p.read_text(encoding="utf-8")) for p in find_demonstrators(folder)
                 if p.parent.name != "site"]
        shown = [m for m in metas if not m.get("draft")]
        if not shown:
            continue
        territory = shown[0]["territory"]
        found.append({"id": folder.name, "name": territory.get("name", folder.name),
                      "fictional": any(m["territory"].get("fictional") for m in shown),
                      "demonstrators": [m["title"] for m in shown]})
    return found


def comparisons(outputs: Path) -> list[dict]:
    """Every comparison page published under `outputs`: id, title, href, territories' names."""
    from pipelines.report.comparison import comparison_plan

    found = []
    for demo_id, territory_ids in comparison_plan(outputs).items():
        if not (outputs / COMPARISON_FOLDER / f"{demo_id}.html").is_file():
            continue
        metas = [json.loads((outputs / t / demo_id / DEMONSTRATOR_FILE).read_text(encoding="utf-8"))
                 for t in territory_ids]
        found.append({"id": demo_id, "title": metas[0].get("title", demo_id),
                      "href": f"{COMPARISON_FOLDER}/{demo_id}.html",
                      "territories": [m.get("territory", {}).get("name", t) for m, t in zip(metas, territory_ids,
                                                                                           strict=True)]})
    return found


def _comparison_section(outputs: Path) -> str:
    items = [f'<li><a href="{html.escape(c["href"])}">{html.escape(c["title"])}</a><br>'
             f'<small>{html.escape(" · ".join(c["territories"]))}</small></li>' for c in comparisons(outputs)]
    if not items:
        return ""
    return ("<h2>Comparer les territoires</h2>\n<p>Pour chaque thème publié par plusieurs territoires, une page "
            "met leurs chiffres côte à côte.</p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n")


def write_index(outputs: Path) -> Path:
    """`outputs/index.html`: the territories published in this clone and the pages comparing them."""
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
        f"<ul>\n{body}\n</ul>\n{_comparison_section(outputs)}</main>\n</body>\n</html>\n")
    outputs.mkdir(parents=True, exist_ok=True)
    target = outputs / INDEX
    tmp = outputs / f".{INDEX}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
