"""The catalogue of what a territory has published: DCAT-AP 3.0 (JSON-LD, Turtle) and the
SCDL "catalogue" CSV of schema.data.gouv.fr, written by `datacites catalogue`.

Read from the published folders only (``outputs/<territory>/<demonstrator>/``: each
``demonstrator.json``, each table's ``.manifest.json`` and its files), never from the store.

The model (choices of this first version):

- one ``dcat:Dataset`` per published table (a demonstrator at one zoning, e.g.
  ``energy_precarity_iris``), with one ``dcat:Distribution`` per file format (CSV,
  GeoParquet, GeoPackage): media type (IANA), format (EU file-type vocabulary), byte size,
  SHA-256 checksum, licence (an IRI, from the manifest's ``licence``) and the attributions as
  ``dct:rights``; the manifest is the dataset's ``foaf:page``. A table is the unit a
  harvester shows and licenses, and tables of one demonstrator may differ in sources and
  licence;
- the publisher is the territory (a ``foaf:Organization``, ADMS type "local authority");
- spatial coverage: the territory (``dct:Location`` with its outline as a WKT
  ``locn:geometry`` in CRS84, its ``dcat:bbox`` and ``dcat:centroid``), computed from the
  commune table of a published folder; for a real territory also each commune by its INSEE
  COG IRI (``http://id.insee.fr/geo/commune/<code>``), for a fictional one the outline only;
- temporal coverage: from the oldest to the newest date of the sources reaching the table;
- provenance: ``prov:wasDerivedFrom`` each source (a ``prov:Entity`` with its title,
  producer, date, licence or terms, page), and the indicators of the table as
  ``skos:Concept`` (title, definition, formula as ``skos:note``) under ``dct:subject``;
- disclosure control as DQV: one ``dqv:QualityMeasurement`` per threshold of the rule
  (minimum units per cell) and per column's hidden cells, and the privacy note as a
  ``dqv:QualityAnnotation``.

Every node is named by an IRI under the base URL (no blank nodes), and triples are written
in sorted order: the same published folder and base URL give the same bytes. The base URL
defaults to the folder's ``file://`` address; a local authority passes the address where
the folder is served (``datacites catalogue --base-url``).

The SHACL shapes (``shapes/dcat_ap_core.ttl``) are the project's own encoding of the
mandatory DCAT-AP 3.0 constraints, not the official shapes file (not available offline).
The SCDL CSV uses the column names of the SCDL "catalogue" schema (0.1.x) as the project
knows them; it is not validated against the published schema file (not available offline).
No Dagster here; rdflib, pyshacl and geopandas are imported when used.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

SHAPES = Path(__file__).resolve().parent / "shapes" / "dcat_ap_core.ttl"
CATALOGUE_DIR = "catalogue"

# Published file formats: (suffix, IANA media type, EU file-type code, label).
FORMATS = {
    "csv": ("text/csv", "CSV", "CSV"),
    "parquet": ("application/vnd.apache.parquet", "PARQUET", "GeoParquet"),
    "gpkg": ("application/geopackage+sqlite3", "GPKG", "GeoPackage"),
}
IANA = "http://www.iana.org/assignments/media-types/"
EU = "http://publications.europa.eu/resource/authority/"
# The three licences an output may carry (pipelines.catalogue.models.OPEN_LICENCES).
LICENCE_IRIS = {
    "Licence Ouverte 2.0 (Etalab)": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "ODbL 1.0": "http://opendatacommons.org/licenses/odbl/1-0/",
    "CC-BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
}
# A demonstrator's theme -> EU data theme, SCDL theme.
THEMES = {"energy": ("ENER", "Énergie"), "mobility": ("TRAN", "Transports"), "housing": ("SOCI", "Logement")}
ZONINGS = {"iris": "IRIS", "commune": "commune", "grid": "carreau de 200 m", "territory": "territoire"}
# SCDL "catalogue" (schema.data.gouv.fr, scdl/catalogue 0.1.x): every column is required.
SCDL_COLUMNS = ("COLL_NOM", "COLL_SIRET", "ID", "TITRE", "DESCRIPTION", "THEME", "PRODUCTEUR_NOM",
                "PRODUCTEUR_SIRET", "COUV_SPAT_MAILLE", "COUV_SPAT_NOM", "COUV_TEMP_DEBUT", "COUV_TEMP_FIN",
                "DATE_PUBL", "FREQ_MAJ", "DATE_MAJ", "MOTS_CLES", "LICENCE", "NOMBRE_RESSOURCES",
                "FORMAT_RESSOURCES", "URL")


class CatalogueError(ValueError):
    """Nothing published in the folder, or a published file the catalogue cannot read."""


@dataclass(frozen=True)
class Distribution:
    path: Path  # relative to the territory's folder
    fmt: str
    byte_size: int
    sha256: str


@dataclass(frozen=True)
class Table:
    """One published table, as the harvester's view shows it."""

    stem: str
    demonstrator: str
    zoning: str
    title: str
    licence: str
    distributions: tuple[Distribution, ...]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _published(territory_outputs: Path) -> list[tuple[Path, dict]]:
    found = []
    for doc in sorted(territory_outputs.glob("*/demonstrator.json")):
        try:
            found.append((doc.parent, json.loads(doc.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as error:
            raise CatalogueError(f"{doc}: cannot be read ({error})") from error
    if not found:
        raise CatalogueError(f"nothing is published in {territory_outputs} (no <demonstrator>/demonstrator.json); "
                             "Fix: datacites run -t <territory>")
    return found


def tables(territory_outputs: Path) -> list[Table]:
    """Every published table of the folder, with its files' sizes and SHA-256."""
    found = []
    for folder, doc in _published(territory_outputs):
        for table in doc.get("tables", []):
            stem = table["stem"]
            manifest = _manifest(folder, stem)
            files = []
            for fmt, name in sorted(table.get("files", {}).items(), key=lambda item: list(FORMATS).index(item[0])
                                    if item[0] in FORMATS else len(FORMATS)):
                path = folder / name
                if fmt not in FORMATS or not path.is_file():
                    continue
                files.append(Distribution(path.relative_to(territory_outputs), fmt, path.stat().st_size,
                                          _sha256(path)))
            found.append(Table(stem, doc["id"], table["zoning"], _title(doc, table["zoning"]),
                               manifest.get("licence", ""), tuple(files)))
    return found


def _manifest(folder: Path, stem: str) -> dict:
    path = folder / f"{stem}.manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CatalogueError(f"{path}: cannot be read ({error})") from error


def _title(doc: dict, zoning: str) -> str:
    return f"{doc['title']} — par {ZONINGS.get(zoning, zoning)} — {doc['territory']['name']}"


def _period(dates: list[str]) -> tuple[str, str] | None:
    """(start, end) as ISO dates from source dates written YYYY, YYYY-MM or YYYY-MM-DD."""
    starts, ends = [], []
    for value in dates:
        value = str(value or "").strip()
        if re.fullmatch(r"\d{4}", value):
            starts.append(f"{value}-01-01")
            ends.append(f"{value}-12-31")
        elif re.fullmatch(r"\d{4}-\d{2}", value):
            import calendar

            year, month = map(int, value.split("-"))
            starts.append(f"{value}-01")
            ends.append(f"{value}-{calendar.monthrange(year, month)[1]:02d}")
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            starts.append(value)
            ends.append(value)
    return (min(starts), max(ends)) if starts else None


def _territory_shape(territory_outputs: Path) -> tuple[list[tuple[str, str]], dict[str, str] | None]:
    """The communes (code, name) and the territory's outline, bbox and centroid as WKT in
    CRS84 (rounded to 1e-6 degree, simplified to about 10 m), from a published commune table."""
    candidates = sorted(territory_outputs.glob("*/*_commune.parquet")) or sorted(
        territory_outputs.glob("*/*_commune.gpkg"))
    if not candidates:
        return [], None
    import geopandas as gpd
    import shapely

    path = candidates[0]
    frame = gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)
    communes = []
    if "code_commune" in frame.columns:
        names = frame["nom_commune"] if "nom_commune" in frame.columns else frame["code_commune"]
        communes = sorted({(str(code), str(name)) for code, name in zip(frame["code_commune"], names, strict=True)})
    if frame.crs is None or frame.geometry.isna().all():
        return communes, None
    outline = shapely.union_all(frame.to_crs("OGC:CRS84").geometry.values)
    outline = shapely.set_precision(outline.simplify(1e-4, preserve_topology=True), 1e-6)

    def wkt(geometry) -> str:
        return shapely.to_wkt(geometry, rounding_precision=6, trim=True)

    return communes, {"geometry": wkt(outline), "bbox": wkt(shapely.box(*outline.bounds)),
                      "centroid": wkt(shapely.set_precision(outline.centroid, 1e-6))}


def build_catalogue(territory_outputs: Path, base_url: str | None = None):
    """The DCAT-AP graph (rdflib.Graph) of every table published in `territory_outputs`
    (``outputs/<territory>``). Raises CatalogueError when nothing is published there."""
    from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, SKOS

    territory_outputs = Path(territory_outputs)
    published = _published(territory_outputs)
    base = base_url or territory_outputs.resolve().as_uri()
    base = base if base.endswith("/") else base + "/"
    here = Namespace(base + f"{CATALOGUE_DIR}/#")
    SPDX = Namespace("http://spdx.org/rdf/terms#")
    LOCN = Namespace("http://www.w3.org/ns/locn#")
    GSP = Namespace("http://www.opengis.net/ont/geosparql#")
    DQV = Namespace("http://www.w3.org/ns/dqv#")
    OA = Namespace("http://www.w3.org/ns/oa#")
    ADMS_TYPE = Namespace("http://purl.org/adms/publishertype/")

    g = Graph()
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("prov", PROV), ("skos", SKOS),
                              ("spdx", SPDX), ("locn", LOCN), ("gsp", GSP), ("dqv", DQV), ("oa", OA),
                              ("here", here)):
        g.bind(prefix, namespace)

    def fr(text: str) -> Literal:
        return Literal(text, lang="fr")

    def when(value: str) -> Literal:
        return Literal(value, datatype=XSD.dateTime if "T" in value else XSD.date)

    territory = published[0][1]["territory"]
    catalogue, publisher, place = here["catalogue"], here["publisher"], here["territory"]
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, RDF.type, FOAF.Organization))
    g.add((publisher, FOAF.name, fr(territory["name"])))
    g.add((publisher, DCTERMS.type, ADMS_TYPE.LocalAuthority))

    communes, shape = _territory_shape(territory_outputs)
    g.add((place, RDF.type, DCTERMS.Location))
    g.add((place, SKOS.prefLabel, fr(territory["name"])))
    if shape:
        g.add((place, LOCN.geometry, Literal(shape["geometry"], datatype=GSP.wktLiteral)))
        g.add((place, DCAT.bbox, Literal(shape["bbox"], datatype=GSP.wktLiteral)))
        g.add((place, DCAT.centroid, Literal(shape["centroid"], datatype=GSP.wktLiteral)))
    commune_nodes = []
    if not territory.get("fictional", False):
        for code, name in communes:
            node = URIRef(f"http://id.insee.fr/geo/commune/{code}")
            g.add((node, RDF.type, DCTERMS.Location))
            g.add((node, SKOS.prefLabel, fr(name)))
            g.add((node, DCTERMS.identifier, Literal(code)))
            commune_nodes.append(node)

    g.add((catalogue, RDF.type, DCAT.Catalog))
    g.add((catalogue, DCTERMS.title, fr(f"Données publiées — {territory['name']}")))
    g.add((catalogue, DCTERMS.description, fr(
        "Tableaux agrégés publiés par les démonstrateurs datacites pour ce territoire : indicateurs par zone "
        "croisant données publiques, privées et personnelles anonymisées, sous secret statistique.")))
    g.add((catalogue, DCTERMS.publisher, publisher))
    g.add((catalogue, DCTERMS.spatial, place))
    g.add((catalogue, DCTERMS.language, URIRef(EU + "language/FRA")))
    dates = sorted(str(doc.get("generated_at", "")) for _, doc in published if doc.get("generated_at"))
    if dates:
        g.add((catalogue, DCTERMS.modified, when(dates[-1])))

    def licence_node(licence: str) -> URIRef:
        node = URIRef(LICENCE_IRIS[licence])
        g.add((node, RDF.type, DCTERMS.LicenseDocument))
        g.add((node, RDFS.label, Literal(licence)))
        return node

    confidentiality = here["dimension-confidentiality"]
    g.add((confidentiality, RDF.type, DQV.Dimension))
    g.add((confidentiality, SKOS.prefLabel, fr("Confidentialité (secret statistique)")))

    by_stem = {table.stem: table for table in tables(territory_outputs)}
    for folder, doc in published:
        demo = doc["id"]
        sources = {source["id"]: source for source in doc.get("sources", [])}
        for source_id, source in sorted(sources.items()):
            node = here[f"source-{source_id}"]
            g.add((node, RDF.type, PROV.Entity))
            g.add((node, DCTERMS.identifier, Literal(source_id)))
            g.add((node, DCTERMS.title, fr(source.get("title") or source_id)))
            if source.get("producer"):
                producer = here[f"producer-{_slug(source['producer'])}"]
                g.add((producer, RDF.type, FOAF.Agent))
                g.add((producer, FOAF.name, fr(source["producer"])))
                g.add((node, DCTERMS.publisher, producer))
            if source.get("date"):
                g.add((node, DCTERMS.issued, Literal(str(source["date"]))))
            if source.get("licence") in LICENCE_IRIS:
                g.add((node, DCTERMS.license, licence_node(source["licence"])))
            elif source.get("licence"):
                rights = here[f"rights-source-{source_id}"]
                g.add((rights, RDF.type, DCTERMS.RightsStatement))
                g.add((rights, RDFS.label, fr(source["licence"])))
                g.add((node, DCTERMS.accessRights, rights))
            if source.get("url"):
                g.add((node, DCAT.landingPage, URIRef(source["url"])))
            if source.get("sensitivity"):
                g.add((node, DCTERMS.type, Literal(source["sensitivity"])))
        scheme = here[f"indicators-{demo}"]
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, SKOS.prefLabel, fr(f"Indicateurs — {doc['title']}")))
        for indicator in doc.get("indicators", []):
            node = here[f"indicator-{demo}-{indicator['id']}"]
            g.add((node, RDF.type, SKOS.Concept))
            g.add((node, SKOS.inScheme, scheme))
            g.add((node, SKOS.notation, Literal(indicator["id"])))
            g.add((node, SKOS.prefLabel, fr(indicator.get("title") or indicator["id"])))
            if indicator.get("definition"):
                g.add((node, SKOS.definition, fr(indicator["definition"])))
            if indicator.get("formula"):
                g.add((node, SKOS.note, fr(f"Formule : {indicator['formula']}")))
            if indicator.get("unit"):
                g.add((node, SKOS.scopeNote, fr(f"Unité : {indicator['unit']}")))
        note = None
        if doc.get("privacy_note"):
            note = here[f"privacy-note-{demo}"]
            g.add((note, RDF.type, DQV.QualityAnnotation))
            g.add((note, OA.motivatedBy, DQV.qualityAssessment))
            g.add((note, OA.bodyValue, fr(doc["privacy_note"])))
            g.add((note, DQV.inDimension, confidentiality))

        for table_doc in doc.get("tables", []):
            stem, zoning = table_doc["stem"], table_doc["zoning"]
            table, manifest = by_stem[stem], _manifest(folder, stem)
            dataset = here[f"dataset-{stem}"]
            g.add((catalogue, DCAT.dataset, dataset))
            g.add((dataset, RDF.type, DCAT.Dataset))
            g.add((dataset, DCTERMS.identifier, Literal(stem)))
            g.add((dataset, DCTERMS.title, fr(table.title)))
            rows = manifest.get("rows")
            described = f"{doc.get('message') or doc['title']}\n\nTableau par {ZONINGS.get(zoning, zoning)}"
            described += f", {rows} lignes." if rows is not None else "."
            if manifest.get("attribution"):
                described += f" Sources à citer : {manifest['attribution']}."
            g.add((dataset, DCTERMS.description, fr(described)))
            g.add((dataset, DCTERMS.publisher, publisher))
            g.add((dataset, DCTERMS.accessRights, URIRef(EU + "access-right/PUBLIC")))
            g.add((dataset, DCTERMS.spatial, place))
            for node in commune_nodes:
                g.add((dataset, DCTERMS.spatial, node))
            if zoning == "grid":
                g.add((dataset, DCAT.spatialResolutionInMeters, Literal("200.0", datatype=XSD.decimal)))
            if doc.get("generated_at"):
                g.add((dataset, DCTERMS.issued, when(str(doc["generated_at"]))))
            theme = THEMES.get(str(doc.get("theme", "")))
            if theme:
                g.add((dataset, DCAT.theme, URIRef(EU + f"data-theme/{theme[0]}")))
            for keyword in (demo, doc.get("theme"), ZONINGS.get(zoning, zoning)):
                if keyword:
                    g.add((dataset, DCAT.keyword, fr(str(keyword))))
            page = URIRef(base + f"{folder.name}/{stem}.manifest.json")
            g.add((page, RDF.type, FOAF.Document))
            g.add((dataset, FOAF.page, page))

            used = [s for s in manifest.get("sources", []) if s in sources]
            period = _period([sources[s].get("date") for s in used])
            if period:
                temporal = here[f"period-{stem}"]
                g.add((temporal, RDF.type, DCTERMS.PeriodOfTime))
                g.add((temporal, DCAT.startDate, Literal(period[0], datatype=XSD.date)))
                g.add((temporal, DCAT.endDate, Literal(period[1], datatype=XSD.date)))
                g.add((dataset, DCTERMS.temporal, temporal))
            activity = here[f"computation-{stem}"]
            g.add((activity, RDF.type, PROV.Activity))
            g.add((activity, RDFS.label, fr(f"Calcul du démonstrateur {demo} par {ZONINGS.get(zoning, zoning)}")))
            g.add((dataset, PROV.wasGeneratedBy, activity))
            for source_id in used:
                g.add((dataset, PROV.wasDerivedFrom, here[f"source-{source_id}"]))
                g.add((activity, PROV.used, here[f"source-{source_id}"]))
            for indicator in doc.get("indicators", []):
                if zoning in indicator.get("zonings", [zoning]):
                    g.add((dataset, DCTERMS.subject, here[f"indicator-{demo}-{indicator['id']}"]))

            for key, threshold in sorted((manifest.get("rule") or {}).items()):
                if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
                    continue
                if key.startswith("max_"):  # e.g. max_dominance: the largest share of a cell one contributor may hold
                    metric = here[f"metric-{_slug(key)}"]
                    definition = f"Seuil maximal « {key} » par case publiée (secret statistique)"
                    if key == "max_dominance":
                        definition = ("Part maximale du total d'une case que peut représenter un seul contributeur "
                                      "(secret statistique)")
                    value, datatype = Literal(Decimal(str(threshold))), XSD.decimal
                else:  # a unit: the fewest of them a published cell may count
                    metric = here[f"metric-minimum-{_slug(key)}"]
                    definition = f"Nombre minimum de {key} par case publiée (secret statistique)"
                    value, datatype = Literal(int(threshold)), XSD.integer
                g.add((metric, RDF.type, DQV.Metric))
                g.add((metric, SKOS.definition, fr(definition)))
                g.add((metric, DQV.expectedDataType, datatype))
                g.add((metric, DQV.inDimension, confidentiality))
                measure = here[f"measurement-{stem}-{str(metric).rsplit('#metric-', 1)[1]}"]
                g.add((measure, RDF.type, DQV.QualityMeasurement))
                g.add((measure, DQV.isMeasurementOf, metric))
                g.add((measure, DQV.computedOn, dataset))
                g.add((measure, DQV.value, value))
                g.add((dataset, DQV.hasQualityMeasurement, measure))
            hidden = manifest.get("suppressed_cells")
            hidden = {"": hidden} if isinstance(hidden, int) else (hidden or {})
            for column, count in sorted(hidden.items()):
                metric = here["metric-hidden-cells" + (f"-{_slug(column)}" if column else "")]
                g.add((metric, RDF.type, DQV.Metric))
                g.add((metric, SKOS.definition, fr("Nombre de cases masquées (secret statistique)"
                                                   + (f", colonne {column}" if column else ""))))
                g.add((metric, DQV.expectedDataType, XSD.integer))
                g.add((metric, DQV.inDimension, confidentiality))
                measure = here[f"measurement-{stem}-hidden-cells" + (f"-{_slug(column)}" if column else "")]
                g.add((measure, RDF.type, DQV.QualityMeasurement))
                g.add((measure, DQV.isMeasurementOf, metric))
                g.add((measure, DQV.computedOn, dataset))
                g.add((measure, DQV.value, Literal(int(count))))
                g.add((dataset, DQV.hasQualityMeasurement, measure))
            if note is not None:
                g.add((dataset, DQV.hasQualityAnnotation, note))

            licence_iri = LICENCE_IRIS.get(table.licence)
            attribution = manifest.get("attribution") or "; ".join(manifest.get("licence_attributions", []))
            for dist in table.distributions:
                media, code, label = FORMATS[dist.fmt]
                node = here[f"distribution-{dist.path.name}"]
                url = URIRef(base + dist.path.as_posix())
                g.add((dataset, DCAT.distribution, node))
                g.add((node, RDF.type, DCAT.Distribution))
                g.add((node, DCTERMS.title, fr(f"{stem} ({label})")))
                g.add((node, DCAT.accessURL, url))
                g.add((node, DCAT.downloadURL, url))
                g.add((node, DCAT.mediaType, URIRef(IANA + media)))
                g.add((URIRef(IANA + media), RDF.type, DCTERMS.MediaType))
                g.add((node, DCTERMS.format, URIRef(EU + f"file-type/{code}")))
                g.add((URIRef(EU + f"file-type/{code}"), RDF.type, DCTERMS.MediaTypeOrExtent))
                g.add((node, DCAT.byteSize, Literal(str(dist.byte_size), datatype=XSD.nonNegativeInteger)))
                checksum = here[f"checksum-{dist.path.name}"]
                g.add((checksum, RDF.type, SPDX.Checksum))
                g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
                g.add((checksum, SPDX.checksumValue, Literal(dist.sha256, datatype=XSD.hexBinary)))
                g.add((node, SPDX.checksum, checksum))
                if licence_iri:
                    g.add((node, DCTERMS.license, licence_node(table.licence)))
                if attribution or (table.licence and not licence_iri):
                    rights = here[f"rights-{stem}"]
                    g.add((rights, RDF.type, DCTERMS.RightsStatement))
                    text = "; ".join(x for x in (
                        "" if licence_iri else f"Licence : {table.licence}",
                        f"Attribution : {attribution}" if attribution else "") if x)
                    g.add((rights, RDFS.label, fr(text)))
                    g.add((node, DCTERMS.rights, rights))
    return g


def _sorted_graph(graph):
    """A copy with the triples inserted in sorted order, so that serialisations are stable."""
    from rdflib import Graph

    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace, override=True, replace=True)
    for triple in sorted(graph):
        out.add(triple)
    return out


def _canonical_json(value):
    if isinstance(value, dict):
        return {key: _canonical_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        items = [_canonical_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def to_turtle(graph) -> str:
    return _sorted_graph(graph).serialize(format="turtle")


def to_jsonld(graph) -> str:
    """JSON-LD with a context of the graph's prefixes, its nodes sorted by @id."""
    sorted_graph = _sorted_graph(graph)
    context = {prefix: str(namespace) for prefix, namespace in sorted_graph.namespaces()
               if prefix in {"dcat", "dct", "foaf", "prov", "skos", "spdx", "locn", "gsp", "dqv", "oa", "here",
                             "rdf", "rdfs", "xsd"}}
    data = json.loads(sorted_graph.serialize(format="json-ld", context=context, auto_compact=True))
    nodes = data.get("@graph", [data] if "@id" in data else [])
    nodes = [{k: v for k, v in node.items() if k != "@context"} for node in nodes]
    document = {"@context": _canonical_json(context), "@graph": _canonical_json(nodes)}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def scdl_rows(graph, siret: str = "") -> list[dict[str, str]]:
    """One row per dataset of the graph, in the columns of the SCDL "catalogue" schema.

    COLL_SIRET and PRODUCTEUR_SIRET are `siret` (empty when not given: the fictional
    territory has none, and the territory cards do not hold it yet).
    """
    from rdflib import Literal, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF

    def one(subject, predicate) -> str:
        values = sorted(str(v) for v in graph.objects(subject, predicate))
        return values[0] if values else ""

    catalogue = next(iter(graph.subjects(predicate=DCAT.dataset)))
    publisher_name = one(graph.value(catalogue, DCTERMS.publisher), FOAF.name)
    place = graph.value(catalogue, DCTERMS.spatial)
    place_name = one(place, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")) or publisher_name
    rows = []
    for dataset in sorted(graph.objects(catalogue, DCAT.dataset)):
        identifier = one(dataset, DCTERMS.identifier)
        distributions = sorted(graph.objects(dataset, DCAT.distribution))
        temporal = graph.value(dataset, DCTERMS.temporal)
        licences = sorted({str(graph.value(lic, URIRef("http://www.w3.org/2000/01/rdf-schema#label")) or lic)
                           for d in distributions for lic in graph.objects(d, DCTERMS.license)})
        formats = []
        for d in distributions:
            code = str(graph.value(d, DCTERMS.format) or "").rsplit("/", 1)[-1]
            formats.append(code.lower())
        keywords = sorted(str(k) for k in graph.objects(dataset, DCAT.keyword) if isinstance(k, Literal))
        theme = str(graph.value(dataset, DCAT.theme) or "").rsplit("/", 1)[-1]
        issued = one(dataset, DCTERMS.issued)[:10]
        zoning = next((k for k in keywords if k in ZONINGS.values()), "")
        first = str(graph.value(distributions[0], DCAT.accessURL)) if distributions else ""
        rows.append({
            "COLL_NOM": publisher_name, "COLL_SIRET": siret, "ID": identifier,
            "TITRE": one(dataset, DCTERMS.title), "DESCRIPTION": one(dataset, DCTERMS.description),
            "THEME": next((label for code, label in THEMES.values() if code == theme), ""),
            "PRODUCTEUR_NOM": publisher_name, "PRODUCTEUR_SIRET": siret,
            "COUV_SPAT_MAILLE": zoning, "COUV_SPAT_NOM": place_name,
            "COUV_TEMP_DEBUT": one(temporal, DCAT.startDate) if temporal else "",
            "COUV_TEMP_FIN": one(temporal, DCAT.endDate) if temporal else "",
            "DATE_PUBL": issued, "FREQ_MAJ": "ponctuelle", "DATE_MAJ": issued,
            "MOTS_CLES": ";".join(keywords), "LICENCE": ";".join(licences),
            "NOMBRE_RESSOURCES": str(len(distributions)), "FORMAT_RESSOURCES": ";".join(formats),
            "URL": first.rsplit("/", 1)[0] + "/" if first else "",
        })
    return sorted(rows, key=lambda row: row["ID"])


def to_scdl_csv(graph, siret: str = "") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SCDL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(scdl_rows(graph, siret))
    return out.getvalue()


def validate_catalogue(graph, shapes: Path = SHAPES) -> list[str]:
    """Every SHACL violation of `graph` against `shapes`, one line each: the node, the
    property and the shape's message; empty when it conforms."""
    import pyshacl
    from rdflib import Graph
    from rdflib.namespace import SH

    conforms, report, _text = pyshacl.validate(graph, shacl_graph=Graph().parse(shapes, format="turtle"),
                                               inference="none", advanced=False, allow_warnings=False)
    if conforms:
        return []
    problems = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        problems.append(f"{focus}: {graph.namespace_manager.normalizeUri(path) if path else '-'}: {message}")
    return sorted(problems)


def write_catalogue(territory_outputs: Path, base_url: str | None = None, siret: str = "") -> dict[str, Path]:
    """Write ``catalogue/catalogue.jsonld``, ``catalogue.ttl`` and ``catalogue_scdl.csv`` in
    `territory_outputs`; returns their paths. Same folder and base URL, same bytes."""
    graph = build_catalogue(territory_outputs, base_url)
    folder = Path(territory_outputs) / CATALOGUE_DIR
    folder.mkdir(exist_ok=True)
    written = {"jsonld": folder / "catalogue.jsonld", "turtle": folder / "catalogue.ttl",
               "scdl": folder / "catalogue_scdl.csv"}
    for key, text in (("jsonld", to_jsonld(graph)), ("turtle", to_turtle(graph)), ("scdl", to_scdl_csv(graph, siret))):
        tmp = written[key].with_suffix(written[key].suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(written[key])
    return written


def harvester_view(graph) -> list[str]:
    """What a harvester sees: one line per dataset, its title, licence and distributions."""
    from rdflib.namespace import DCAT, DCTERMS, RDFS

    lines = []
    for catalogue in sorted(graph.subjects(predicate=DCAT.dataset, unique=True)):
        for dataset in sorted(graph.objects(catalogue, DCAT.dataset)):
            parts, licences = [], set()
            for d in sorted(graph.objects(dataset, DCAT.distribution)):
                code = str(graph.value(d, DCTERMS.format) or "").rsplit("/", 1)[-1]
                size = graph.value(d, DCAT.byteSize)
                parts.append(f"{code} {_size(int(size)) if size is not None else '?'}")
                for lic in graph.objects(d, DCTERMS.license):
                    licences.add(str(graph.value(lic, RDFS.label) or lic))
            lines.append(f"{graph.value(dataset, DCTERMS.identifier)}: {graph.value(dataset, DCTERMS.title)} | "
                         f"{', '.join(sorted(licences)) or 'licence: see rights'} | {', '.join(parts)}")
    return lines


def _size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)
