"""Reading what the pipeline published: demonstrator.json files and their GeoParquet tables.

The site is built from ``outputs/`` only (docs/architecture.md, "Published outputs"):
``outputs/<demo_id>/demonstrator.json`` and the tables it lists. ``outputs/territory.json``
is optional; without it the territory is taken from the demonstrators.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from pipelines.errors import SourceError

REQUIRED_KEYS = ("id", "title", "message", "territory", "main_indicator", "indicators", "tables")
OPTIONAL_DEFAULTS = {
    "data_date": "", "generated_at": "", "headlines": [], "crossing": [], "sources": [],
    "privacy_note": "", "zone_name_columns": {}, "zone_id_columns": {}, "territory_values": {},
}
DEFAULT_ID_COLUMNS = {"iris": "code_iris", "commune": "code_commune"}
DEFAULT_NAME_COLUMNS = {"iris": "nom_iris", "commune": "nom_commune"}
DEMONSTRATOR_FILE = "demonstrator.json"
COMPARISON_FOLDER = "comparison"
"""``outputs/comparison/<demo_id>.html``: the pages comparing the territories (not a territory id)."""


@dataclass
class Demonstrator:
    """One published demonstrator: its metadata and its tables per zoning.

    Attributes
    ----------
    path : Path
        The demonstrator.json file.
    meta : dict
        Its content, with optional keys filled with empty defaults.
    tables : dict of str to GeoDataFrame
        Published GeoParquet tables keyed by zoning (``"iris"``, ``"commune"``).
    """

    path: Path
    meta: dict
    tables: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Identifier of the demonstrator (its folder name)."""
        return self.meta["id"]

    @property
    def folder(self) -> Path:
        """Folder holding demonstrator.json and the tables."""
        return self.path.parent

    def indicator(self, indicator_id: str) -> dict:
        """Registry entry of an indicator, or a minimal one naming it."""
        for entry in self.meta["indicators"]:
            if entry.get("id") == indicator_id:
                return entry
        return {"id": indicator_id, "title": indicator_id, "unit": None}

    def id_column(self, zoning: str) -> str:
        """Zone id column of a zoning's table."""
        return self.meta["zone_id_columns"].get(zoning, DEFAULT_ID_COLUMNS.get(zoning, "code"))

    def name_column(self, zoning: str) -> str:
        """Zone name column of a zoning's table (falls back to the id column)."""
        column = self.meta["zone_name_columns"].get(zoning, DEFAULT_NAME_COLUMNS.get(zoning))
        table = self.tables.get(zoning)
        if table is not None and column not in table.columns:
            return self.id_column(zoning)
        return column


def find_demonstrators(outputs_dir: Path) -> list[Path]:
    """Return the demonstrator.json files under ``outputs_dir``, sorted by folder; never
    those of a hidden folder (a publication's staging or backup left by a crashed run)."""
    return sorted(p for p in Path(outputs_dir).glob(f"*/{DEMONSTRATOR_FILE}") if not p.parent.name.startswith("."))


def read_demonstrator_meta(path: Path) -> dict:
    """Read and check one demonstrator.json.

    Parameters
    ----------
    path : Path
        ``outputs/<demo_id>/demonstrator.json``.

    Returns
    -------
    dict
        Its content with every optional key present.

    Raises
    ------
    SourceError
        When the file is not JSON or lacks a required key (named in the message).
    """
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"is not valid JSON (line {exc.lineno}).",
                          fix="rerun the demonstrator so that the file is rewritten.") from None
    for key in REQUIRED_KEYS:
        if key not in meta:
            raise SourceError(path, "a required field is missing.", column=key,
                              fix="see docs/architecture.md, 'Published outputs'.")
    for key, default in OPTIONAL_DEFAULTS.items():
        meta.setdefault(key, type(default)() if isinstance(default, (list, dict)) else default)
    if meta["main_indicator"] not in {i.get("id") for i in meta["indicators"]}:
        raise SourceError(path, "main_indicator is not one of the indicators listed.",
                          column="main_indicator", fix="add its entry to 'indicators'.")
    return meta


def read_tables(meta: dict, folder: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read the GeoParquet table of each zoning listed in ``meta["tables"]``.

    Raises
    ------
    SourceError
        When a listed table has no parquet file, or it has no CRS.
    """
    tables = {}
    for entry in meta["tables"]:
        name = entry.get("files", {}).get("parquet") or f"{entry['stem']}.parquet"
        path = Path(folder) / name
        if not path.exists():
            raise SourceError(path, "listed in demonstrator.json but missing.", column="tables",
                              fix="rerun the demonstrator, or remove the entry.")
        table = gpd.read_parquet(path)
        if table.crs is None:
            raise SourceError(path, "GeoParquet table without a CRS.",
                              fix="write it with its working CRS (EPSG:2154 on the mainland).")
        tables[entry["zoning"]] = table
    return tables


def load_demonstrators(outputs_dir: Path) -> list[Demonstrator]:
    """Load every demonstrator published under ``outputs_dir`` with its tables.

    Raises
    ------
    SourceError
        When there is none: the site would be empty.
    """
    paths = find_demonstrators(outputs_dir)
    if not paths:
        raise SourceError(outputs_dir, f"no */{DEMONSTRATOR_FILE} found.",
                          fix="run the demonstrators first (`make demo` or `datacites run`).")
    demos = []
    for path in paths:
        meta = read_demonstrator_meta(path)
        if meta.get("draft"):
            continue  # built and published for its authors, not shown to officials
        demos.append(Demonstrator(path=path, meta=meta, tables=read_tables(meta, path.parent)))
    if not demos:
        raise SourceError(outputs_dir, "every demonstrator published here is a draft (`draft: true`).",
                          fix="set `draft: false` in the defs.yaml of those to show, then run again.")
    ids = sorted({str(d.meta["territory"].get("id")) for d in demos})
    if len(ids) > 1:
        raise SourceError(outputs_dir, f"demonstrators of several territories ({', '.join(ids)}) in one folder: "
                          "a site shows one territory only.",
                          fix="publish each territory in outputs/<territory>/ (`datacites run --territory ID`).")
    return demos


def load_territory(outputs_dir: Path, demos: list[Demonstrator]) -> dict:
    """Describe the territory: ``outputs/territory.json`` if present, else the demonstrators'.

    Returns
    -------
    dict
        ``id``, ``name``, ``fictional``, ``data_dates`` (sorted, distinct),
        ``generated_at`` (latest) and ``communes`` (count, when known).
    """
    territory = dict(demos[0].meta["territory"])
    path = Path(outputs_dir) / "territory.json"
    if path.exists():
        declared = json.loads(path.read_text(encoding="utf-8"))
        if "id" in declared and "id" in territory and declared["id"] != territory["id"]:
            raise SourceError(path, f"territory '{declared['id']}' while the demonstrators here are of "
                              f"'{territory['id']}'.", fix="remove territory.json or publish the right territory here.")
        territory.update(declared)
    territory.setdefault("fictional", False)
    territory["fictional"] = bool(territory["fictional"]) or any(
        d.meta["territory"].get("fictional") for d in demos)
    territory["data_dates"] = sorted({str(d.meta["data_date"]) for d in demos if d.meta["data_date"]})
    territory["generated_at"] = max((d.meta["generated_at"] for d in demos), default="")
    territory["zone_counts"] = _zone_counts(demos)
    return territory


def _zone_counts(demos: list[Demonstrator]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for demo in demos:
        for zoning, table in demo.tables.items():
            counts[zoning] = max(counts.get(zoning, 0), len(table))
    return counts
