"""`datacites fetch`: national files brought from a loopback server through `--mirror`, with the
project's own source cards, cut to a territory, checksummed, resumed; no network used."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from pipelines import config
from pipelines.catalogue import load_sources
from pipelines.catalogue.models import SourceCard, Territory
from pipelines.config import PROJECT_ROOT
from pipelines.errors import ConfigError
from pipelines.fetch import FetchError, describe, fetch_territory, mirrored, resolve_download
from pipelines.fetch import download as download_module
from pipelines.fetch.cut import Matcher

OURS = ["17300", "17306", "2A004"]
OTHERS = ["17001", "79191", "01004", "2B033", "97101"]
IRIS_PATH = "/fr/statistiques/fichier/6049648/BASE_TD_FILO_DISP_IRIS_2019_CSV.zip"
COMMUNES_QUERY = "&type=commune-actuelle,arrondissement-municipal&format=geojson&geometry=contour"


# --- a loopback server with Range, If-Range, Link pages and interruptions ------------------------------------

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server API)
        server = self.server
        server.log.append({"path": self.path, "range": self.headers.get("Range"),
                           "if_range": self.headers.get("If-Range")})
        body = server.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        start, status = 0, 200
        asked = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if asked and self.headers.get("If-Range") in (None, etag):
            start, status = int(asked.group(1)), 206
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        chunk = body[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("ETag", etag)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        if self.path in server.links:
            self.send_header("Link", f'<{server.links[self.path]}>; rel="next"')
        self.end_headers()
        cut = server.cut_once.pop(self.path, None)
        self.wfile.write(chunk if cut is None else chunk[:cut])

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(download_module, "BACKOFF_S", 0.0)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.links, httpd.cut_once, httpd.log = {}, {}, {}, []
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


# --- small national files in their real formats ---------------------------------------------------------------

def _csv(header: list[str], rows: list[list[str]], sep: str = ";", eol: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=eol).writerows([header, *rows])
    return buffer.getvalue().encode("utf-8")


def _feature(code: str, name: str) -> dict:
    ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"code": code, "nom": name, "codeDepartement": code[:2]}}


LOVAC_ROWS = [[code, f"Commune {code}", "12", "340"] for code in OURS + OTHERS]
LOVAC_ROWS[1][1] = "Commune\nsur deux lignes; avec séparateur"      # a quoted line break (ours)
LOVAC_ROWS[4][1] = "Voisine de 17300"                               # our code, in another column
RPLS_ROWS = [[code, "10", "380000.5", "6570000.5"] for code in OURS + OTHERS + ["17999"]]
IRIS_CODES = ["173000101", "173000102", "173060000", "2A0040101", "170010000", "791910000", "2B0330000"]
DVF_HEADER = ["id_mutation", "date_mutation", "valeur_fonciere", "code_commune", "longitude", "latitude"]
DVF = {  # (year, commune) -> rows; 17306 had no sale in 2023 (404), and 17300's file holds a stray row
    ("2024", "17300"): [["2024-1", "2024-01-02", "150000", "17300", "-1.15", "46.16"],
                        ["2024-2", "2024-02-03", "210000", "17300", "-1.16", "46.15"],
                        ["2024-3", "2024-02-03", "99000", "17001", "-1.10", "46.10"]],
    ("2024", "17306"): [["2024-4", "2024-03-04", "300000", "17306", "-1.14", "46.19"]],
    ("2024", "2A004"): [["2024-5", "2024-05-06", "420000", "2A004", "8.73", "41.92"]],
    ("2023", "17300"): [["2023-1", "2023-06-07", "180000", "17300", "-1.15", "46.16"]],
    ("2023", "2A004"): [["2023-2", "2023-07-08", "390000", "2A004", "8.73", "41.92"]],
}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def publish(server) -> dict[str, bytes]:
    """Serve the national files at the paths of the project's cards; return them by role."""
    files = {
        "lovac": _csv(["CODGEO_25", "LIBGEO_25", "pp_vacant_25", "pp_total_24"], LOVAC_ROWS, eol="\r\n"),
        "rpls": _csv(["DEPCOM", "NBLOG", "X", "Y"], RPLS_ROWS),
        "iris_csv": _csv(["IRIS", "DISP_MED19", "DISP_TP6019"], [[c, "21000", "14.5"] for c in IRIS_CODES]),
        "gtfs": _zip({"agency.txt": b"agency_id,agency_name\n1,Bus\n", "stops.txt": b"stop_id,stop_name\n"}),
    }
    files["iris_zip"] = _zip({"BASE_TD_FILO_DISP_IRIS_2019.csv": files["iris_csv"],
                              "meta_BASE_TD_FILO_DISP_IRIS_2019.txt": b"notes\n"})
    server.routes.update({"/cerema/lovac.csv": files["lovac"], "/sdes/rpls.csv": files["rpls"],
                          IRIS_PATH: files["iris_zip"], "/gtfs/network.zip": files["gtfs"]})
    for dep, codes in {"17": ["17300", "17306", "17001"], "2A": ["2A004", "2A041"]}.items():
        collection = {"type": "FeatureCollection", "features": [_feature(c, f"Commune {c}") for c in codes]}
        server.routes[f"/communes?codeDepartement={dep}{COMMUNES_QUERY}"] = json.dumps(collection).encode()
    for (year, code), rows in DVF.items():
        server.routes[f"/geo-dvf/latest/csv/{year}/communes/{code[:2]}/{code}.csv"] = _csv(DVF_HEADER, rows, sep=",")
    return files


def territory(server, **sources) -> Territory:
    base = {
        "lovac": {"download": {"url": "https://cerema.example.fr/cerema/lovac.csv"}},
        "rpls": {"download": {"url": "https://sdes.example.fr/sdes/rpls.csv",
                              "cut": {"column": "DEPCOM", "by": "departement"}}},
        "gtfs_bus": {"download": {"url": f"{server.base}/gtfs/network.zip"}},
        "dvf": {"download": {"years": ["2023", "2024"]}},
    }
    return Territory.model_validate({
        "id": "testville", "name": "Testville", "data_dir": "cache/testville",
        "communes": [{"code": c, "name": f"Commune {c}"} for c in OURS],
        "sources": base | sources})


@pytest.fixture(scope="module")
def cards() -> dict[str, SourceCard]:
    return load_sources(PROJECT_ROOT / "sources")


def fetch(server, cards, cache: Path, names=None, place: Territory | None = None, **options):
    return {r.source: r for r in fetch_territory(place or territory(server), names, cards=cards, cache_dir=cache,
                                                 mirror=server.base, progress=False, **options)}


def rows_of(path: Path, sep: str) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=sep))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- tests ------------------------------------------------------------------------------------------------------

def test_every_file_is_brought_and_cut_to_the_territory(server, cards, tmp_path):
    files = publish(server)
    names = ["communes", "dvf", "filosofi_iris", "gtfs_bus", "lovac", "rpls"]
    results = fetch(server, cards, tmp_path, names)

    assert list(results) == names and {r.status for r in results.values()} == {"fetched"}
    lovac = rows_of(tmp_path / "lovac.csv", ";")
    assert lovac[0] == ["CODGEO_25", "LIBGEO_25", "pp_vacant_25", "pp_total_24"]
    assert lovac[1:] == [row for row in LOVAC_ROWS if row[0] in OURS]                # the quoted newline kept
    assert results["lovac"].rows == 3 and b"\r\n" in (tmp_path / "lovac.csv").read_bytes()
    rpls = rows_of(tmp_path / "rpls.csv", ";")
    assert [r[0] for r in rpls[1:]] == [r[0] for r in RPLS_ROWS if r[0][:2] in ("17", "2A")]
    iris = rows_of(tmp_path / "filosofi_iris.csv", ";")
    assert [r[0] for r in iris[1:]] == [c for c in IRIS_CODES if c[:5] in OURS]
    communes = json.loads((tmp_path / "communes.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["code"] for f in communes["features"]) == sorted(OURS)
    assert any("communes.geojson" in note and "sources.communes.file" in note for note in results["communes"].notes)
    assert (tmp_path / "gtfs_bus.zip").read_bytes() == files["gtfs"]

    record = json.loads((tmp_path / "fetch.json").read_text(encoding="utf-8"))
    lovac_url = "https://cerema.example.fr/cerema/lovac.csv"
    assert record["downloads"][lovac_url]["sha256"] == hashlib.sha256(files["lovac"]).hexdigest()
    assert record["downloads"][lovac_url]["size"] == len(files["lovac"])
    assert record["downloads"][lovac_url]["fetched_from"] == f"{server.base}/cerema/lovac.csv"
    assert record["files"]["lovac"]["sha256"] == hashlib.sha256((tmp_path / "lovac.csv").read_bytes()).hexdigest()
    assert all(entry["date"] for entry in record["downloads"].values())


def test_by_default_every_source_with_an_address_is_fetched_and_a_failure_names_it(server, cards, tmp_path):
    publish(server)
    # ADEME's address is not on this server: every commune answers 404, and the error says so.
    with pytest.raises(FetchError, match=r"source 'dpe': every address answered 404 \(first: https://data\.ademe"):
        fetch(server, cards, tmp_path)
    assert (tmp_path / "communes.geojson").exists()  # what came before stays fetched


def test_templates_per_commune_concatenate_with_one_header(server, cards, tmp_path):
    publish(server)
    result = fetch(server, cards, tmp_path, ["dvf"])["dvf"]

    rows = rows_of(tmp_path / "dvf.csv", ",")
    assert rows[0] == DVF_HEADER and DVF_HEADER not in rows[1:]
    expected = [row for key in sorted(DVF) for row in DVF[key] if row[3] in OURS]
    assert sorted(rows[1:]) == sorted(expected) and result.rows == len(expected) == 6
    assert result.missing == ("https://files.data.gouv.fr/geo-dvf/latest/csv/2023/communes/17/17306.csv",)
    assert len(result.urls) == 5
    assert describe(result, tmp_path) == ("dvf: fetched -> dvf.csv, 6 rows kept (1 address(es) answered 404, e.g. "
                                          f"{result.missing[0]})")
    assert {e["path"] for e in server.log} >= {"/geo-dvf/latest/csv/2024/communes/2A/2A004.csv"}


def test_pages_announced_by_a_link_header_are_followed(server, cards, tmp_path):
    header = ["numero_dpe", "etiquette_dpe", "code_insee_ban"]
    pages = {"/dpe/lines?commune=17300": [["1", "C", "17300"], ["2", "D", "17300"]],
             "/dpe/lines?commune=17300&after=2": [["3", "E", "17300"]]}
    for path, rows in pages.items():
        server.routes[path] = _csv(header, rows, sep=",")
    server.links["/dpe/lines?commune=17300"] = f"{server.base}/dpe/lines?commune=17300&after=2"
    place = territory(server, dpe={"download": {"url": f"{server.base}/dpe/lines?commune={{commune}}"}})
    result = fetch(server, cards, tmp_path, ["dpe"], place)["dpe"]

    assert rows_of(tmp_path / "dpe_logements_existants.csv", ",")[1:] == [r for p in pages.values() for r in p]
    assert result.missing == (f"{server.base}/dpe/lines?commune=17306", f"{server.base}/dpe/lines?commune=2A004")


def test_an_interrupted_transfer_resumes_with_a_range_request(server, cards, tmp_path):
    files = publish(server)
    size = len(files["iris_zip"])
    server.cut_once[IRIS_PATH] = size // 3
    with pytest.raises(FetchError, match=r"interrupted after .* Run the same command again"):
        fetch(server, cards, tmp_path, ["filosofi_iris"], retries=0)
    (part,) = (tmp_path / "downloads" / "filosofi_iris").glob("*.part")
    assert part.stat().st_size == size // 3 and not (tmp_path / "filosofi_iris.csv").exists()

    result = fetch(server, cards, tmp_path, ["filosofi_iris"])["filosofi_iris"]
    resumed = [e for e in server.log if e["path"] == IRIS_PATH][-1]
    assert resumed["range"] == f"bytes={size // 3}-" and resumed["if_range"]
    (raw,) = [p for p in (tmp_path / "downloads" / "filosofi_iris").iterdir()]
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == hashlib.sha256(files["iris_zip"]).hexdigest()
    assert result.status == "fetched" and result.rows == 4


def test_a_file_changed_upstream_meanwhile_is_downloaded_whole_not_spliced(server, cards, tmp_path):
    files = publish(server)
    server.cut_once["/cerema/lovac.csv"] = 60
    with pytest.raises(FetchError, match="interrupted"):
        fetch(server, cards, tmp_path, ["lovac"], retries=0)
    newer = files["lovac"].replace(b"340", b"341")
    server.routes["/cerema/lovac.csv"] = newer
    fetch(server, cards, tmp_path, ["lovac"])
    assert server.log[-1]["range"] == "bytes=60-" and server.log[-1]["if_range"]  # answered 200: a new ETag
    (raw,) = (tmp_path / "downloads" / "lovac").iterdir()
    assert raw.read_bytes() == newer


def test_a_part_already_complete_is_finished_without_downloading_it_again(server, cards, tmp_path):
    files = publish(server)
    server.cut_once["/cerema/lovac.csv"] = 60
    with pytest.raises(FetchError, match="interrupted"):
        fetch(server, cards, tmp_path, ["lovac"], retries=0)
    (part,) = (tmp_path / "downloads" / "lovac").glob("*.part")
    part.write_bytes(files["lovac"])  # as if the process died between the last byte and the rename
    assert fetch(server, cards, tmp_path, ["lovac"])["lovac"].rows == 3
    assert server.log[-1]["range"] == f"bytes={len(files['lovac'])}-"  # answered 416: nothing left to send


def test_a_transfer_cut_short_is_resumed_within_the_same_call(server, cards, tmp_path):
    files = publish(server)
    server.cut_once["/cerema/lovac.csv"] = 50
    result = fetch(server, cards, tmp_path, ["lovac"])["lovac"]
    assert [e["range"] for e in server.log if e["path"] == "/cerema/lovac.csv"] == [None, "bytes=50-"]
    record = json.loads((tmp_path / "fetch.json").read_text(encoding="utf-8"))
    assert record["downloads"]["https://cerema.example.fr/cerema/lovac.csv"]["sha256"] == \
        hashlib.sha256(files["lovac"]).hexdigest()
    assert result.rows == 3


def test_a_complete_file_is_not_downloaded_again(server, cards, tmp_path):
    publish(server)
    names = ["lovac", "filosofi_iris", "gtfs_bus", "dvf"]
    fetch(server, cards, tmp_path, names)
    before = len(server.log)
    again = fetch(server, cards, tmp_path, names)
    # Only the address that answered 404 is asked again (a sale may have been recorded since).
    assert [e["path"] for e in server.log[before:]] == ["/geo-dvf/latest/csv/2023/communes/17/17306.csv"]
    assert {r.status for r in again.values()} == {"cached"}
    assert again["dvf"].rows == 6 and len(again["dvf"].missing) == 1
    before = len(server.log)

    # Another commune list cuts again from the same downloads; --force downloads again.
    fewer = territory(server).model_copy(update={"communes": territory(server).communes[:1]})
    assert fetch(server, cards, tmp_path, ["lovac"], fewer)["lovac"].rows == 1 and len(server.log) == before
    fetch(server, cards, tmp_path, ["lovac"], force=True)
    assert len(server.log) == before + 1


def test_a_checksum_mismatch_is_refused_and_the_cache_left_as_it_was(server, cards, tmp_path):
    files = publish(server)
    good = hashlib.sha256(files["iris_zip"]).hexdigest()
    fetch(server, cards, tmp_path, ["filosofi_iris", "lovac"],
          territory(server, filosofi_iris={"download": {"sha256": good}}))
    before = snapshot(tmp_path)

    wrong = "0" * 64
    with pytest.raises(FetchError) as info:
        fetch(server, cards, tmp_path, ["filosofi_iris"], territory(server, filosofi_iris={"download": {"sha256": wrong}}))
    message = str(info.value)
    assert "filosofi_iris" in message and IRIS_PATH in message and wrong in message and good in message
    assert snapshot(tmp_path) == before


def test_no_network_gives_a_clear_message(cards, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as info:
        fetch_territory(territory(SimpleNamespace(base=f"http://127.0.0.1:{port}")), ["lovac"], cards=cards,
                        cache_dir=tmp_path, mirror=f"http://127.0.0.1:{port}", progress=False)
    assert re.fullmatch(rf"could not reach 127\.0\.0\.1:{port}: .+\. Check the network or pass --mirror",
                        str(info.value))
    assert info.value.__cause__ is None and info.value.__suppress_context__


def project_with_testville(server, tmp_path: Path, data_dir: str) -> Path:
    """A copy of the project's cards with a card `testville` whose GTFS is on the server."""
    sources = tmp_path / "sources"
    shutil.copytree(PROJECT_ROOT / "sources", sources, ignore=shutil.ignore_patterns("sample*", "cache", "*_sample"))
    card = {"id": "testville", "name": "Testville", "data_dir": data_dir,
            "communes": [{"code": c, "name": c} for c in OURS],
            "sources": {"gtfs_bus": {"download": {"url": f"{server.base}/gtfs/network.zip"}}}}
    (sources / "territories" / "testville.yaml").write_text(yaml.safe_dump(card), encoding="utf-8")
    return sources


def test_a_territory_card_of_the_project_is_fetched_into_sources_cache(server, tmp_path, monkeypatch, capsys):
    files = publish(server)
    sources = project_with_testville(server, tmp_path, "cache/testville")
    monkeypatch.setattr(config, "SOURCES_DIR", sources)
    monkeypatch.setattr(config, "TERRITORIES_DIR", sources / "territories")

    (result,) = fetch_territory("testville", ["gtfs_bus"], progress=True)
    assert result.path == sources / "cache" / "testville" / "gtfs_bus.zip"
    assert result.path.read_bytes() == files["gtfs"] and result.rows is None
    assert "gtfs_bus" in capsys.readouterr().err  # the progress bar, on stderr


def test_refusals_name_the_source_and_the_fix(server, cards, tmp_path):
    publish(server)
    place = territory(server).model_copy(update={"sources": {}})
    with pytest.raises(ConfigError, match=r"'lovac' has no address .* `sources\.lovac\.download\.url`"):
        fetch(server, cards, tmp_path, ["lovac"], place)
    with pytest.raises(ConfigError, match=r"nothing to fetch for \['smart_meter'\]"):
        fetch(server, cards, tmp_path, ["smart_meter"])
    private = dict(cards) | {"smart_meter": SourceCard.model_validate(
        cards["smart_meter"].model_dump() | {"download": {"url": "https://example.fr/x.csv", "cut": "none"}})}
    with pytest.raises(ConfigError, match="only public open data is fetched"):
        fetch(server, private, tmp_path, ["gtfs_bus"])
    nowhere = territory(server).model_copy(update={"communes": []})
    with pytest.raises(ConfigError, match="lists no `communes:`"):
        fetch(server, cards, tmp_path, ["lovac"], nowhere)
    absent = territory(server, lovac={"absent": True})
    with pytest.raises(ConfigError, match="declares 'lovac' absent"):
        fetch(server, cards, tmp_path, ["lovac"], absent)


def test_a_source_left_without_an_address_is_reported_skipped(server, cards, tmp_path):
    publish(server)
    only = {k: cards[k] for k in ("lovac", "gtfs_bus")}
    place = territory(server).model_copy(update={"sources": {"gtfs_bus": territory(server).sources["gtfs_bus"]}})
    results = fetch(server, only, tmp_path, None, place)
    assert results["gtfs_bus"].status == "fetched"
    assert results["lovac"].status == "skipped" and "sources.lovac.download.url" in results["lovac"].notes[0]


def test_download_blocks_are_checked(cards):
    def card(download):
        return SourceCard.model_validate(cards["dvf"].model_dump() | {"download": download})

    for bad, why in [({"url": "https://x.fr/{commune}/{canton}.csv"}, "canton"),
                     ({"url": "https://x.fr/{commune}.csv", "sha256": "a" * 64}, "sha256"),
                     ({"url": "https://x.fr/{commune}.zip", "cut": "none"}, "cut: none"),
                     ({"url": "ftp://x.fr/a.csv"}, "http"),
                     ({"cut": {"column": "a", "property": "b"}}, "exactly one"),
                     ({"file": "../outside.csv"}, "relative path")]:
        with pytest.raises(ValueError, match=re.escape(why)):
            card(bad)
    national = card({"url": "https://x.fr/national.zip", "sha256": "a" * 64, "cut": {"column": "CODGEO"}})
    place = Territory.model_validate({"id": "t", "name": "T", "data_dir": "t", "sources": {
        "dvf": {"download": {"url": "https://regional.fr/national.zip"}}}})
    moved = resolve_download(national, place.override("dvf"))
    assert (moved.url, moved.sha256, moved.cut.column) == ("https://regional.fr/national.zip", None, "CODGEO")
    checked = Territory.model_validate({"id": "t", "name": "T", "data_dir": "t", "sources": {
        "dvf": {"download": {"sha256": "b" * 64}}}})
    assert resolve_download(national, checked.override("dvf")).sha256 == "b" * 64
    assert mirrored("https://files.data.gouv.fr/geo-dvf/a.csv?x=1", "http://127.0.0.1:8000/mirror/") == \
        "http://127.0.0.1:8000/mirror/geo-dvf/a.csv?x=1"


def test_codes_match_as_the_cut_declares():
    communes = Matcher("commune", ["17300", "97101"])
    assert communes("17300") == "17300" and communes(" 17300 ") == "17300" and communes("1730") is None
    assert communes("1700117300") == "17300"  # a Filosofi cell straddling two communes
    assert Matcher("iris", ["2A004"])("2A0040101") == "2A004"
    departements = Matcher("departement", ["2A004", "97101"])
    assert departements("2A041") == "2A" and departements("97102") == "971" and departements("2B033") is None


def test_the_command_line_fetches_and_says_where_and_what_to_set(server, tmp_path):
    """`datacites fetch` as a user types it, against the loopback server."""
    import os
    import subprocess

    from tests_support import BIN

    files = publish(server)
    sources = project_with_testville(server, tmp_path, "testville")
    env = {**os.environ, "DATACITES_SOURCES_DIR": str(sources)}
    done = subprocess.run([str(BIN / "datacites"), "fetch", "--territory", "testville", "gtfs_bus"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (sources / "cache" / "testville" / "gtfs_bus.zip").read_bytes() == files["gtfs"]
    assert "gtfs_bus" in done.stdout and "data_dir: cache/testville" in done.stdout
    closed = subprocess.run([str(BIN / "datacites"), "fetch", "--territory", "testville", "gtfs_bus", "--force",
                             "--mirror", "http://127.0.0.1:9"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert closed.returncode == 2 and "could not reach 127.0.0.1:9" in closed.stderr
    assert "Traceback" not in closed.stderr
