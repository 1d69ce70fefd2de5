"""The officials' static site: ``build_site(outputs_dir, site_dir)``.

Layout of what is written (``site_dir`` is ``outputs/site`` in the pipeline)::

    index.html                 the territory and its demonstrators, each with a key figure
    <demo_id>.html             one page per demonstrator
    assets/plotly.min.js       Plotly's JavaScript, shipped once, from the plotly package
    assets/geo-assets.js       an empty world topology, so geo charts make no CDN request
    assets/charts.js           draws the charts from the JSON embedded in each page
    assets/site.css            screen and A4 print styles
    downloads/<demo_id>/       the published tables (CSV, GeoPackage, GeoParquet) and
                               demonstrator.json

The downloads are copied into the site (hard links when the file system allows, else
copies) rather than linked as ``../<demo_id>/...``, so that the site folder alone can be
zipped, e-mailed or put on a web server and every link still resolves. The site is
built in a temporary folder beside ``site_dir`` and swapped in at the end, so a failed
build never leaves half a site. Pages embed their data: a browser cannot ``fetch()``
files from ``file://``, and no page loads anything from the network.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import plotly.offline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipelines.report.data import COMPARISON_FOLDER, Demonstrator, load_demonstrators, load_territory
from pipelines.report.formatting import format_fr, format_size_fr, load_texts
from pipelines.report.pages import demonstrator_context, headline_items

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
ASSETS = "assets"
DOWNLOADS = "downloads"
DOWNLOAD_FORMATS = ("csv", "gpkg", "parquet")


@dataclass(frozen=True)
class SiteSummary:
    """What :func:`build_site` wrote.

    Attributes
    ----------
    site_dir : Path
        Root of the site.
    pages : tuple of Path
        The HTML pages, home page first.
    demonstrators : tuple of str
        Ids of the demonstrators with a page.
    size_bytes : int
        Total size of the site's files.
    build_seconds : float
        Wall-clock time of the build.
    warnings : tuple of str
        Problems that did not stop the build (a listed download that is missing).
    """

    site_dir: Path
    pages: tuple[Path, ...]
    demonstrators: tuple[str, ...]
    size_bytes: int
    build_seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def index(self) -> Path:
        """The home page, ``index.html``."""
        return self.site_dir / "index.html"


def make_environment() -> Environment:
    """Jinja2 environment of the site's templates (HTML autoescaped, undefined is an error)."""
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def write_assets(site_dir: Path) -> None:
    """Write Plotly's JavaScript once and copy the static files into ``site_dir/assets``."""
    assets = site_dir / ASSETS
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    for path in STATIC_DIR.iterdir():
        if path.is_file():
            shutil.copyfile(path, assets / path.name)


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)


def publish_downloads(demo: Demonstrator, site_dir: Path, texts: dict,
                      warnings: list[str]) -> list[dict]:
    """Copy a demonstrator's tables into ``site_dir/downloads/<id>/`` and describe the links.

    Returns
    -------
    list of dict
        One group per zoning (``label``, ``files``: ``label``, ``name``, ``href``,
        ``size``), then one for demonstrator.json.
    """
    target_dir = site_dir / DOWNLOADS / demo.id
    units = texts["size_units"]
    groups = []

    def entry(path: Path, fmt: str) -> dict:
        _link_or_copy(path, target_dir / path.name)
        return {"label": texts["formats"].get(fmt, fmt), "name": path.name,
                "href": f"{DOWNLOADS}/{demo.id}/{path.name}",
                "size": format_size_fr(path.stat().st_size, units)}

    for table in demo.meta["tables"]:
        files = []
        for fmt in DOWNLOAD_FORMATS:
            name = table.get("files", {}).get(fmt)
            if name and (demo.folder / name).exists():
                files.append(entry(demo.folder / name, fmt))
            elif name:
                warnings.append(f"{demo.folder / name}: listed in {demo.path} but missing; not offered.")
        # The manifest travels with its table: it holds the licence and secrecy rules, and
        # the disclosure audit refuses a table published without it.
        manifest = demo.folder / f"{table.get('stem', '')}.manifest.json"
        if manifest.exists():
            files.append(entry(manifest, "manifest"))
        nouns = texts["zonings"].get(table["zoning"], {"one": table["zoning"]})
        groups.append({"label": texts["demo"]["download_zoning"].format(zoning=nouns["one"]),
                       "files": files})
    groups.append({"label": texts["demo"]["download_metadata"], "files": [entry(demo.path, "json")]})
    return groups


def format_date_fr(value: str, months: list[str]) -> str:
    """``"2026-11-28T17:00:00+00:00"`` -> ``"28 novembre 2026"`` (unparsable: unchanged)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{moment.day} {months[moment.month - 1]} {moment.year}"


def home_context(demos: list[Demonstrator], territory: dict, texts: dict) -> dict:
    """Template variables of the home page: one card per demonstrator with a key figure."""
    cards = []
    for demo in demos:
        headlines = headline_items(demo)
        cards.append({"title": demo.meta["title"], "message": demo.meta["message"],
                      "href": f"{demo.id}.html", "data_date": demo.meta["data_date"],
                      "key_figure": headlines[0] if headlines else None})
    facts = []
    for zoning in ("commune", "iris"):
        count = territory["zone_counts"].get(zoning)
        if count:
            facts.append(f"{format_fr(count)} {texts['zonings'][zoning]['many']}")
    return {"cards": cards, "territory_facts": facts}


def _render(env: Environment, template: str, path: Path, **context) -> Path:
    path.write_text(env.get_template(template).render(**context), encoding="utf-8")
    return path


def _swap_into_place(built: Path, site_dir: Path) -> None:
    """Replace ``site_dir`` by the freshly built folder, keeping the old one until then."""
    old = None
    if site_dir.exists():
        old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
        site_dir.rename(old)
    built.rename(site_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def folder_size(folder: Path) -> int:
    """Total size in bytes of the files under ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def comparison_links(outputs_dir: Path, site_dir: Path, demo_ids: Iterable[str],
                     comparisons: Collection[str] | None = None) -> dict[str, str]:
    """Relative link from each demonstrator page to its comparison page, when there is one.

    Parameters
    ----------
    outputs_dir : Path
        ``outputs/<territory>``; the comparison pages are in ``outputs/comparison/``.
    site_dir : Path
        Folder the pages are written to (``outputs/<territory>/site``, or its staging
        folder beside it: the link is the same).
    demo_ids : iterable of str
        The demonstrators shown.
    comparisons : collection of str, optional
        Demonstrators that have (or are about to have) a comparison page; by default
        those whose ``outputs/comparison/<demo>.html`` exists now.

    Returns
    -------
    dict
        Demonstrator id -> href (``../../comparison/<demo>.html``).
    """
    folder = Path(outputs_dir).absolute().parent / COMPARISON_FOLDER
    links = {}
    for demo_id in demo_ids:
        page = folder / f"{demo_id}.html"
        if (demo_id in comparisons) if comparisons is not None else page.is_file():
            links[demo_id] = Path(os.path.relpath(page, Path(site_dir).absolute())).as_posix()
    return links


def build_site(outputs_dir: Path, site_dir: Path, *, lang: str = "fr",
               comparisons: Collection[str] | None = None) -> SiteSummary:
    """Build the static, offline site for officials from the published outputs.

    Parameters
    ----------
    outputs_dir : Path
        Folder holding ``<demo_id>/demonstrator.json`` and the tables it lists, and
        optionally ``territory.json``.
    site_dir : Path
        Folder to write (replaced as a whole; usually ``outputs/site``).
    lang : str
        Language of the texts (``pipelines/report/locales/<lang>.yaml``).
    comparisons : collection of str, optional
        Demonstrators whose page links to ``outputs/comparison/<demo>.html``; by default
        those whose comparison page exists when the site is built (see
        :mod:`pipelines.report.territories` for who keeps them in step).

    Returns
    -------
    SiteSummary
        Pages written, size and build time.

    Raises
    ------
    SourceError
        When no demonstrator is published, or a demonstrator.json or table is invalid.
    """
    start = time.perf_counter()
    outputs_dir, site_dir = Path(outputs_dir), Path(site_dir)
    texts = load_texts(lang)
    demos = load_demonstrators(outputs_dir)
    territory = load_territory(outputs_dir, demos)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.build-", dir=site_dir.parent))
    build_dir.chmod(0o755)  # mkdtemp's 0700 would hide the site from a web server
    warnings: list[str] = []
    try:
        links = comparison_links(outputs_dir, site_dir, [d.id for d in demos], comparisons)
        pages = _write_pages(demos, territory, texts, build_dir, warnings, links)
        write_assets(build_dir)
        _swap_into_place(build_dir, site_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    for warning in warnings:
        log.warning(warning)
    return SiteSummary(site_dir=site_dir, pages=tuple(site_dir / p.name for p in pages),
                       demonstrators=tuple(d.id for d in demos), size_bytes=folder_size(site_dir),
                       build_seconds=time.perf_counter() - start, warnings=tuple(warnings))


def _write_pages(demos: list[Demonstrator], territory: dict, texts: dict, build_dir: Path,
                 warnings: list[str], links: dict[str, str]) -> list[Path]:
    env = make_environment()
    common = {"t": texts, "territory": territory,
              "nav": [{"id": d.id, "title": d.meta["title"], "href": f"{d.id}.html"} for d in demos],
              "generated_at_text": format_date_fr(territory["generated_at"], texts["months"])}
    pages = [_render(env, "index.html", build_dir / "index.html", current="index",
                     **common, **home_context(demos, territory, texts))]
    for demo in demos:
        downloads = publish_downloads(demo, build_dir, texts, warnings)
        context = demonstrator_context(demo, territory, texts, downloads)
        pages.append(_render(env, "demonstrator.html", build_dir / f"{demo.id}.html",
                             current=demo.id, compare_href=links.get(demo.id), **common, **context))
    return pages
