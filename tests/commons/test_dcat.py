"""The catalogue of what is published (pipelines/commons/dcat.py, `datacites catalogue`).

The shapes are the project's own encoding of the mandatory DCAT-AP 3.0 constraints (not the
official file, unavailable offline); the SCDL CSV is checked for the columns of the SCDL
"catalogue" schema as the project knows them, not against the published schema file.
Built from a copy of the sample territory's published folders (the session's
`sample_project`), so that nothing is written beside what other tests read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef
from rdflib.compare import isomorphic

from pipelines.commons import dcat
from tests_support import BIN

# plain namespaces: pytest's collection probes module attributes, which closed ones warn about
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DQV = rdflib.Namespace("http://www.w3.org/ns/dqv#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
LOCN = rdflib.Namespace("http://www.w3.org/ns/locn#")
GSP = rdflib.Namespace("http://www.opengis.net/ont/geosparql#")
BASE = "https://data.example.fr/sample/"
# Written here again, not read from the module: what each manifest licence must become.
EXPECTED_LICENCES = {
    "Licence Ouverte 2.0 (Etalab)": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "ODbL 1.0": "http://opendatacommons.org/licenses/odbl/1-0/",
    "CC-BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
}
EXPECTED_MEDIA = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet",
                  ".gpkg": "application/geopackage+sqlite3"}
SCDL = ["COLL_NOM", "COLL_SIRET", "ID", "TITRE", "DESCRIPTION", "THEME", "PRODUCTEUR_NOM", "PRODUCTEUR_SIRET",
        "COUV_SPAT_MAILLE", "COUV_SPAT_NOM", "COUV_TEMP_DEBUT", "COUV_TEMP_FIN", "DATE_PUBL", "FREQ_MAJ", "DATE_MAJ",
        "MOTS_CLES", "LICENCE", "NOMBRE_RESSOURCES", "FORMAT_RESSOURCES", "URL"]


@pytest.fixture(scope="module")
def published(sample_project, tmp_path_factory) -> Path:
    """outputs/sample/ of the session's run, its demonstrators' folders copied (no site)."""
    source = sample_project["root"] / "outputs" / "sample"
    target = tmp_path_factory.mktemp("catalogue") / "outputs" / "sample"
    target.mkdir(parents=True)
    for doc in sorted(source.glob("*/demonstrator.json")):
        shutil.copytree(doc.parent, target / doc.parent.name)
    assert any(target.iterdir()), "the sample run published nothing"
    return target


@pytest.fixture(scope="module")
def graph(published):
    return dcat.build_catalogue(published, BASE)


def _manifests(folder: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*/*.manifest.json"))]


def _dataset(graph, stem: str) -> URIRef:
    (node,) = graph.subjects(DCTERMS.identifier, Literal(stem))
    return node


def test_the_catalogue_conforms_to_the_shapes(graph):
    assert dcat.validate_catalogue(graph) == []
    assert dcat.SHAPES.is_file() and "not the official shapes file" in dcat.SHAPES.read_text(encoding="utf-8").lower()


def test_the_shapes_bite_a_dataset_without_title_and_a_distribution_without_access_url(graph):
    broken = rdflib.Graph() + graph
    dataset = sorted(broken.subjects(RDF.type, DCAT.Dataset))[0]
    broken.remove((dataset, DCTERMS.title, None))
    distribution = sorted(broken.subjects(RDF.type, DCAT.Distribution))[0]
    broken.remove((distribution, DCAT.accessURL, None))
    licensed = sorted(broken.subjects(RDF.type, DCAT.Distribution))[1]
    broken.remove((licensed, DCTERMS.license, None))
    broken.add((licensed, DCTERMS.license, Literal("Licence Ouverte")))
    problems = dcat.validate_catalogue(broken)
    assert any(p.startswith(str(dataset)) and "dct:title" in p for p in problems), problems
    assert any(p.startswith(str(distribution)) and "dcat:accessURL" in p for p in problems), problems
    assert any(p.startswith(str(licensed)) and "dct:license" in p for p in problems), problems
    untagged = rdflib.Graph() + graph
    untagged.remove((dataset, DCTERMS.description, None))
    untagged.add((dataset, DCTERMS.description, Literal("sans langue")))
    assert any(p.startswith(str(dataset)) and "language tag" in p for p in dcat.validate_catalogue(untagged))


def test_every_published_file_is_a_distribution_with_its_size_and_sha256(graph, published):
    files = sorted(p for p in published.glob("*/*") if p.suffix in EXPECTED_MEDIA)
    assert files
    distributions = set(graph.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == len(files)
    for path in files:
        url = URIRef(BASE + path.relative_to(published).as_posix())
        (node,) = graph.subjects(DCAT.downloadURL, url)
        assert graph.value(node, DCAT.accessURL) == url
        assert int(graph.value(node, DCAT.byteSize)) == path.stat().st_size, path.name
        checksum = graph.value(node, SPDX.checksum)
        assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(graph.value(checksum, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest()
        media = graph.value(node, DCAT.mediaType)
        assert media == URIRef("http://www.iana.org/assignments/media-types/" + EXPECTED_MEDIA[path.suffix])
        stem = path.stem
        assert node in set(graph.objects(_dataset(graph, stem), DCAT.distribution))


def test_the_licence_of_each_distribution_is_its_manifests(graph, published):
    for manifest in _manifests(published):
        dataset = _dataset(graph, manifest["table"])
        licences = {graph.value(d, DCTERMS.license) for d in graph.objects(dataset, DCAT.distribution)}
        assert licences == {URIRef(EXPECTED_LICENCES[manifest["licence"]])}, manifest["table"]
        assert (URIRef(EXPECTED_LICENCES[manifest["licence"]]), RDF.type, DCTERMS.LicenseDocument) in graph


def test_one_dataset_per_table_with_its_provenance_coverage_and_disclosure_control(graph, published):
    docs = {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in published.glob("*/demonstrator.json")}
    manifests = _manifests(published)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == len(manifests)
    for manifest in manifests:
        doc, dataset = docs[manifest["demonstrator"]], _dataset(graph, manifest["table"])
        derived = {str(graph.value(s, DCTERMS.identifier)) for s in graph.objects(dataset, rdflib.PROV.wasDerivedFrom)}
        assert derived == set(manifest["sources"])
        years = [s["date"][:4] for s in doc["sources"] if s["id"] in manifest["sources"] and s.get("date")]
        period = graph.value(dataset, DCTERMS.temporal)
        assert str(graph.value(period, DCAT.startDate))[:4] == min(years)
        assert str(graph.value(period, DCAT.endDate))[:4] == max(years)
        values = {}
        for measure in graph.objects(dataset, DQV.hasQualityMeasurement):
            metric = str(graph.value(measure, DQV.isMeasurementOf)).rsplit("#", 1)[1]
            values[metric] = graph.value(measure, DQV.value).toPython()
        for key, threshold in manifest["rule"].items():
            name = key.replace("_", "-")
            assert float(values[f"metric-{name}" if key.startswith("max_") else f"metric-minimum-{name}"]) == threshold
        hidden = manifest["suppressed_cells"]
        for column, count in (hidden.items() if isinstance(hidden, dict) else [("", hidden)]):
            key = "metric-hidden-cells" + (f"-{column.replace('_', '-')}" if column else "")
            assert values[key] == count
        notes = [graph.value(n, OA.bodyValue) for n in graph.objects(dataset, DQV.hasQualityAnnotation)]
        assert [str(n) for n in notes] == ([doc["privacy_note"]] if doc.get("privacy_note") else [])
        definitions = {str(graph.value(c, rdflib.SKOS.definition)) for c in graph.objects(dataset, DCTERMS.subject)}
        for indicator in doc["indicators"]:
            if manifest["zoning"] in indicator["zonings"] and indicator.get("definition"):
                assert indicator["definition"] in definitions


def test_the_spatial_coverage_is_the_territory_outline_and_real_communes_by_insee_iri(graph, published, tmp_path):
    import geopandas as gpd
    import shapely

    place = URIRef(BASE + "catalogue/#territory")
    wkt = graph.value(place, LOCN.geometry)
    assert wkt.datatype == GSP.wktLiteral
    outline = shapely.from_wkt(str(wkt))
    assert outline.is_valid and outline.area > 0
    assert outline.contains(shapely.from_wkt(str(graph.value(place, DCAT.centroid))))
    # the fictional territory: its outline only, no INSEE IRI
    assert not [s for s in graph.subjects() if str(s).startswith("http://id.insee.fr/")]
    # the same folder said real: every commune by its COG IRI, on every dataset
    real = tmp_path / "real"
    shutil.copytree(published, real)
    for doc in real.glob("*/demonstrator.json"):
        data = json.loads(doc.read_text(encoding="utf-8"))
        data["territory"]["fictional"] = False
        doc.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    real_graph = dcat.build_catalogue(real, BASE)
    assert dcat.validate_catalogue(real_graph) == []
    codes = set(gpd.read_parquet(sorted(real.glob("*/*_commune.parquet"))[0])["code_commune"].astype(str))
    for dataset in real_graph.subjects(RDF.type, DCAT.Dataset):
        spatial = {str(s) for s in real_graph.objects(dataset, DCTERMS.spatial)}
        assert {f"http://id.insee.fr/geo/commune/{code}" for code in codes} <= spatial


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's JSON-LD parser
def test_the_files_parse_back_to_the_same_graph_and_are_rewritten_byte_identical(published, graph, tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(published, folder)
    written = dcat.write_catalogue(folder, BASE, siret="21000000000000")
    turtle = rdflib.Graph().parse(written["turtle"], format="turtle")
    jsonld = rdflib.Graph().parse(written["jsonld"], format="json-ld")
    assert isomorphic(turtle, jsonld)
    assert isomorphic(turtle, graph)
    before = {key: path.read_bytes() for key, path in written.items()}
    again = dcat.write_catalogue(folder, BASE, siret="21000000000000")
    assert {key: path.read_bytes() for key, path in again.items()} == before


def test_the_scdl_csv_has_one_row_per_dataset_and_every_required_column(published, graph, tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(published, folder)
    written = dcat.write_catalogue(folder, BASE, siret="21000000000000")
    with written["scdl"].open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        assert reader.fieldnames == SCDL
    assert sorted(r["ID"] for r in rows) == sorted(m["table"] for m in _manifests(published))
    for row in rows:
        assert all(row[column] for column in SCDL), {k: v for k, v in row.items() if not v}
        assert row["COLL_SIRET"] == row["PRODUCTEUR_SIRET"] == "21000000000000"
        assert int(row["NOMBRE_RESSOURCES"]) == len(row["FORMAT_RESSOURCES"].split(";")) == 3
        assert row["COUV_TEMP_DEBUT"] <= row["COUV_TEMP_FIN"]
        assert row["URL"].startswith(BASE)
    without = dcat.scdl_rows(graph)
    assert {r["COLL_SIRET"] for r in without} == {""}


def test_the_command_writes_the_catalogue_and_prints_the_harvester_view(published, sample_project, tmp_path):
    outputs = tmp_path / "outputs"
    shutil.copytree(published, outputs / "sample")
    env = sample_project["env"] | {"DATACITES_OUTPUTS_DIR": str(outputs)}
    done = subprocess.run([str(BIN / "datacites"), "catalogue", "-t", "sample", "--base-url", BASE], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for manifest in _manifests(published):
        line = next(x for x in done.stdout.splitlines() if x.strip().startswith(manifest["table"] + ":"))
        assert manifest["licence"] in line and all(f in line for f in ("CSV", "PARQUET", "GPKG")), line
    for name in ("catalogue.jsonld", "catalogue.ttl", "catalogue_scdl.csv"):
        assert (outputs / "sample" / "catalogue" / name).is_file()
    nothing = subprocess.run([str(BIN / "datacites"), "catalogue", "-t", "nowhere"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert nothing.returncode == 2 and "nothing is published" in nothing.stderr and "Traceback" not in nothing.stderr
