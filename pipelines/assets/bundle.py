"""What a demonstrator publishes: tables in three formats, their manifests, a summary.

The manifests are the contract with the disclosure audit and the report
(docs/architecture.md, "Published outputs"): the allow-list of columns is declared by
the demonstrator's YAML and the registry, never read back from the frame itself.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd

from pipelines.assets.publishing import write_json, write_table
from pipelines.catalogue.charters import CharterError, charter_problems, output_licence, reaching_sources
from pipelines.config import MAX_DOMINANCE_SHARE, MIN_BUSINESS_UNITS, MIN_DELIVERY_POINTS, MIN_HOUSEHOLDS

ZONE_COLUMNS = {
    "iris": ("code_iris", "nom_iris"),
    "commune": ("code_commune", "nom_commune"),
    # INSEE 200 m cells have no name: the id says where the cell is (docs/architecture.md).
    "grid": ("idcar_200m", None),
}
PARENT = {"iris": "commune"}
# Zonings that cover the territory and count its units only; a grid does neither: its
# cells may stick out of the territory and count every household of the cell (the
# audit's overlap relations, pipelines/privacy/overlaps.py).
TILES_TERRITORY = {"iris": True, "commune": True, "grid": False}
RULES = {"households": MIN_HOUSEHOLDS, "delivery_points": MIN_DELIVERY_POINTS, "business": MIN_BUSINESS_UNITS}

SECRET = "secret"  # one code for every hidden cell: "n<10" would tell an attacker a bound


def allowed_columns(demo, zoning: str, registry, shown: set[str] | None = None,
                    counts: dict[str, str] | None = None) -> list[str]:
    """Columns a table of `demo` may hold: zone ids and names, the indicators the registry
    computes on this zoning (of those in `shown`, the ones the territory can compute),
    secrecy flags of its protected counts (`counts`, from the lineage audit; by default
    those the demonstrator declares)."""
    shown = set(demo.indicators) if shown is None else shown
    counts = protected_counts(demo, shown, zoning, registry) if counts is None else counts
    columns = [c for c in ZONE_COLUMNS[zoning] if c]
    if zoning in PARENT:
        columns += [c for c in ZONE_COLUMNS[PARENT[zoning]] if c]
    columns += [i for i in demo.indicators if zoning in registry[i].zonings and i in shown]
    # `statut` says why a value is missing when it is not secrecy (e.g. too few sales).
    columns += [f"secret_{c}" for c in counts] + ["statut", "geometry"]
    return list(dict.fromkeys(columns))


def protected_counts(demo, shown: set[str], zoning: str | None = None, registry=None) -> dict[str, str]:
    """The protected count columns published (not those of a source the territory lacks,
    nor, given a zoning and the registry, those the registry does not compute on it)."""
    return {column: rule for column, rule in demo.protected.items() if column in shown
            and (zoning is None or registry is None or column not in registry or zoning in registry[column].zonings)}


def public_columns(demo, zoning: str, registry, sources: list, shown: set[str], lineage: set[str] = frozenset(),
                   counts: dict[str, str] | None = None) -> list[str]:
    """Indicators of the table computed from public sources only (declared so, and no
    private or personal source in their lineage): no protection record needed (INSEE's
    grid, for one, is already protected by INSEE)."""
    public = {card.id for card in sources if card.sensitivity == "public"}
    counts = demo.protected if counts is None else counts
    return [i for i in demo.indicators if i in shown and zoning in registry[i].zonings
            and i not in counts and i not in lineage and set(registry[i].sources) <= public]


def thresholds(counts: dict[str, str], sources: list) -> dict:
    """The thresholds actually applied: the cards' own when stricter than the law's."""
    rules = [rule for card in sources if card.aggregation for rule in card.aggregation.rules]
    applied = {kind: max([RULES[kind], *(r.threshold for r in rules if r.kind == kind)])
               for kind in sorted(set(counts.values()))}
    if "business" in applied:
        applied["max_dominance"] = min([MAX_DOMINANCE_SHARE, *(r.dominance for r in rules if r.kind == "business")])
    return applied


def published(table: gpd.GeoDataFrame, demo, zoning: str, registry, shown: set[str] | None = None,
              counts: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """The allowed columns only, with every hidden cell's reason replaced by one code."""
    out = table[[c for c in allowed_columns(demo, zoning, registry, shown, counts) if c in table.columns]].copy()
    for column in {**demo.protected, **(counts or {})}:
        flag = f"secret_{column}"
        if flag in out:
            hidden = out[flag].fillna("").astype(str).ne("")
            out[flag] = hidden.map({True: SECRET, False: ""})
    return out


def manifest(demo, zoning: str, stem: str, table: gpd.GeoDataFrame, sources: list, registry,
             shown: set[str] | None = None, protection=None, *, reaching: list[str] | None = None) -> dict:
    """The sidecar the audit reads: zoning, units, count columns, rules, allow-list.

    `protection` (a `Protection` of the lineage audit) gives the count columns and the
    protection record of every column computed from private or personal data; without
    it, the counts the demonstrator declares. The table's licence is derived from the
    sources whose data reaches it (`reaching`, ids; default every source of `sources`),
    `catalogue.charters.output_licence`."""
    zone_id, zone_name = ZONE_COLUMNS[zoning]
    parent = PARENT.get(zoning)
    shown = set(demo.indicators) if shown is None else shown
    counts = protected_counts(demo, shown, zoning, registry) if protection is None else protection.counts[zoning]
    lineage = {} if protection is None else protection.columns.get(zoning, {})
    secret = {c: int(table[f"secret_{c}"].fillna("").astype(str).ne("").sum())
              for c in counts if f"secret_{c}" in table}
    licensed = [card for card in sources if reaching is None or card.id in reaching]
    licence, attributions = output_licence(licensed, output=stem)
    return {
        "table": stem, "demonstrator": demo.id, "zoning": zoning,
        "zone_id_column": zone_id, "zone_name_column": zone_name,
        "parent_zoning": parent, "parent_id_column": ZONE_COLUMNS[parent][0] if parent else None,
        "tiles_territory": TILES_TERRITORY.get(zoning, False),
        "count_columns": counts,
        "public_columns": public_columns(demo, zoning, registry, sources, shown, set(lineage), counts),
        # Columns with a private or personal source in their lineage, how each is protected.
        "protection": {column: {"sources": sorted(set(origin))} | protection.records[column].to_json()
                       for column, origin in sorted(lineage.items()) if column in protection.records}
        if protection is not None else {},
        "rule": thresholds(counts, sources),
        "allowed_columns": allowed_columns(demo, zoning, registry, shown, counts),
        "suppressed_cells": secret,
        "sources": [card.id for card in sources],
        "licence": licence,
        # The sources whose data reaches this table (its indicators'), which its licence
        # derives from, and the credits that licence requires.
        "licence_sources": [card.id for card in licensed],
        "licence_attributions": attributions,
        "source_licences": {card.id: card.licence for card in sources},
        "attribution": "; ".join(card.attribution for card in sources),
        "sensitivity": "aggregated",
        "rows": len(table),
    }


def write_bundle(demo, tables: dict[str, gpd.GeoDataFrame], ctx, summary: dict, folder: Path, protection=None) -> dict:
    """Write every table, its manifest and `demonstrator.json` into `folder`; the sources
    credited are those the territory brings (an absent optional source is not). The
    manifests' protected counts come from `protection` (the lineage audit) when given.

    The charters, as this territory sees them (its overrides), are checked first: a
    clause broken stops the release before anything is written (`CharterError`)."""
    problems = charter_problems(demo, ctx.registry, ctx.sources, ctx.territory)
    if problems:
        raise CharterError(f"territory '{ctx.territory.id}', demonstrator '{demo.id}': " + "; ".join(problems))
    sources = [ctx.sources[s] for s in demo.used_sources(ctx.territory)]
    shown = set(demo.available(ctx.registry, ctx.territory))
    listed = []
    for zoning, table in tables.items():
        stem = f"{demo.id}_{zoning}"
        counts = None if protection is None else protection.counts[zoning]
        sidecar = manifest(demo, zoning, stem, table, sources, ctx.registry, shown, protection,
                           reaching=reaching_sources(demo, ctx.registry, zoning, ctx.territory))
        licence = {"licence": sidecar["licence"], "attribution": "; ".join(sidecar["licence_attributions"]),
                   "sources": sidecar["licence_sources"]}
        files = write_table(published(table, demo, zoning, ctx.registry, shown, counts), folder, stem, licence)
        write_json(sidecar, folder / f"{stem}.manifest.json")
        listed.append({"zoning": zoning, "stem": stem, "files": files})
    document = demonstrator_document(demo, ctx, summary, sources, listed, shown)
    write_json(document, folder / "demonstrator.json")
    return document


def indicator_entry(indicator, territory, demo) -> dict:
    """An indicator as `demonstrator.json` lists it, crediting the sources actually used."""
    entry = indicator.model_dump()
    used = []
    for source in entry["sources"]:
        if territory.absent(source) and source in demo.alternatives:
            used += [s for s in demo.alternatives[source].sources if not territory.absent(s)]
        else:
            used.append(source)
    entry["sources"] = list(dict.fromkeys(used))
    return entry


def generated_at() -> str:
    """The day of publication (UTC midnight), or `SOURCE_DATE_EPOCH` when set (the
    reproducible-builds convention): the same inputs republished give the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat(timespec="seconds")
    return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).isoformat(timespec="seconds")


def main_indicator(demo, shown: set[str]) -> str:
    """The demonstrator's main indicator, or, for a territory that cannot compute it (no
    population grid, say), its first headline that it can."""
    candidates = [demo.main_indicator, *demo.headlines, *demo.indicators]
    return next((i for i in candidates if i in shown), demo.main_indicator)


def demonstrator_document(demo, ctx, summary: dict, sources: list, tables: list, shown: set[str]) -> dict:
    """`demonstrator.json`: everything the report shows besides the tables; a figure of
    an indicator the territory cannot compute (not in `shown`) is never shown, not even as "n/a"."""
    registry = ctx.registry
    return {
        "id": demo.id, "title": demo.title, "message": demo.message, "theme": demo.theme, "draft": demo.draft,
        "territory": {"id": ctx.territory.id, "name": ctx.territory.name, "fictional": ctx.territory.fictional},
        "data_date": max(card.date for card in sources),
        "generated_at": generated_at(),
        "main_indicator": main_indicator(demo, shown),
        "zone_id_columns": {z: ZONE_COLUMNS[z][0] for z in ZONE_COLUMNS},
        "zone_name_columns": {z: name for z, (_, name) in ZONE_COLUMNS.items() if name},
        "indicators": [indicator_entry(registry[i], ctx.territory, demo) for i in demo.indicators if i in shown],
        "headlines": [h for h in summary.get("headlines", []) if h.get("indicator") in shown],
        "territory_values": {k: v for k, v in summary.get("territory_values", {}).items() if k in shown},
        "crossing": [c for c in summary.get("crossing", []) if c.get("indicator") in shown],
        "sources": [{"id": c.id, "title": c.title, "producer": c.producer, "date": c.date, "licence": c.licence,
                     "attribution": c.attribution, "sensitivity": c.sensitivity, "url": c.url} for c in sources],
        "privacy_note": summary.get("privacy_note", ""),
        # What a reader must know of the files this territory brought (its card's caveats).
        "source_caveats": [{"id": c.id, "title": c.title, "caveats": list(c.caveats)} for c in sources if c.caveats],
        # Optional shared sources this territory does not bring, and what they would add.
        "missing_shared": [{"id": s, "title": ctx.sources[s].title, "adds": adds}
                           for s, adds in demo.optional.items() if ctx.territory.absent(s)],
        # Public sources this territory does not bring, replaced by others: what they would add.
        "missing_public": [{"id": s, "title": ctx.sources[s].title, "adds": a.adds}
                           for s, a in demo.alternatives.items() if ctx.territory.absent(s) and a.adds],
        "tables": tables,
    }
