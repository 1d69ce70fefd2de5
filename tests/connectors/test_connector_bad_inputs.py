"""A grid of bad inputs per connector: each gives a SourceError naming file, row, column.

Each CSV connector is described by a small valid file in its real format; each problem
is a transformation of that file with the error it must produce. Problems that cannot
occur in a format are left out of its row of the grid (a raw DVF file always has a
decimal comma; a Filosofi grid has no free text to mis-encode).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

import geopandas as gpd
import pytest
import shapely

from pipelines.connectors import get_connector
from pipelines.errors import SourceError


@dataclass
class Spec:
    connector: str
    header: list[str]
    rows: list[list[str]]
    sep: str = ","
    options: dict = field(default_factory=dict)
    text: str | None = None      # a text column that is read (for encodings)
    number: str | None = None    # a decimal column
    code: str | None = None      # a commune code column
    required: str | None = None  # a required column, and how the error names it
    required_as: str | None = None

    def render(self, header=None, rows=None) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.sep, lineterminator="\n")
        writer.writerow(header or self.header)
        writer.writerows(rows or self.rows)
        return out.getvalue()

    def with_value(self, column: str, value: str) -> str:
        rows = [list(r) for r in self.rows]
        rows[1][self.header.index(column)] = value  # the 2nd record: line 3
        return self.render(rows=rows)


SPECS = {
    "dpe": Spec("dpe", ["numero_dpe", "etiquette_dpe", "conso_5_usages_par_m2_ep",
                        "surface_habitable_logement", "periode_construction", "code_insee_ban",
                        "coordonnee_cartographique_x_ban", "coordonnee_cartographique_y_ban"],
                [["2101E1", "D", "230.5", "70", "1948-1974", "17300", "380100", "6570100"],
                 ["2101E2", "B", "80", "45", "après 2021", "01053", "871200", "6568700"]],
                text="periode_construction", number="conso_5_usages_par_m2_ep",
                code="code_insee_ban", required="etiquette_dpe", required_as="etiquette_dpe"),
    "dvf": Spec("dvf", ["id_mutation", "date_mutation", "valeur_fonciere", "code_commune",
                        "type_local", "surface_reelle_bati", "longitude", "latitude"],
                [["2023-1", "2023-01-20", "255000.00", "33281", "Appartement", "64", "-0.64", "44.85"],
                 ["2023-2", "2023-01-27", "20000.00", "01053", "Dépendance", "", "5.22", "46.20"]],
                text="type_local", number="valeur_fonciere", code="code_commune",
                required="longitude", required_as="longitude"),
    "dvf_raw": Spec("dvf", ["No disposition", "Date mutation", "Nature mutation", "Valeur fonciere",
                            "Code departement", "Code commune", "Section", "No plan", "Type local"],
                    [["000001", "03/01/2023", "Vente", "185000,00", "1", "53", "AB", "12", "Maison"],
                     ["000001", "04/01/2023", "Vente", "9000,00", "1", "53", "AB", "13", "Dépendance"]],
                    sep="|", text="Type local", required="Section", required_as="section"),
    "filosofi_grid": Spec("filosofi_grid", ["idcar_200m", "lcog_geo", "ind", "men"],
                          [["CRS3035RES200mN2625200E3462200", "17300", "12.5", "5"],
                           ["CRS3035RES200mN2625400E3462200", "17300", "3", "1.5"]],
                          number="ind", required="idcar_200m", required_as="idcar_200m"),
    "filosofi_zones": Spec("filosofi_zones", ["CODGEO", "DISP_MED19", "DISP_TP6019"],
                           [["17300", "20500", "16"], ["01053", "21000.5", "13.2"]], sep=";",
                           number="DISP_MED19", code="CODGEO", required="DISP_TP6019",
                           required_as="DISP_TP60"),
    "rpls": Spec("rpls", ["DEPCOM", "NBLOG", "X", "Y"],
                 [["17300", "24", "380120.5", "6570300"], ["01053", "8", "871200", "6568700"]],
                 sep=";", number="X", code="DEPCOM", required="NBLOG", required_as="nb_logements"),
    "lovac": Spec("lovac", ["CODGEO_25", "LIBGEO_25", "pp_vacant_25", "pp_total_24"],
                  [["17300", "La Rochelle", "2450", "48000"], ["33281", "Mérignac", "s", "3900"]],
                  sep=";", text="LIBGEO_25", number="pp_vacant_25", code="CODGEO_25",
                  required="pp_total_24", required_as="pp_total"),
    "point_csv": Spec("point_csv", ["id_batiment", "adresse", "code_commune", "conso_mwh",
                                    "x_l93", "y_l93"],
                      [["B1", "1 rue A", "17300", "120.5", "380100", "6570100"],
                       ["B2", "2 allée Brûlée", "01053", "98", "871200", "6568700"]],
                      sep=";", options={"columns": {"id_batiment": "text", "adresse": "text",
                                                    "code_commune": "text", "conso_mwh": "float"},
                                        "codes": {"code_commune": "commune"},
                                        "x": "x_l93", "y": "y_l93", "crs": "EPSG:2154"},
                      text="adresse", number="conso_mwh", code="code_commune",
                      required="conso_mwh", required_as="conso_mwh"),
}


def _wrong_encoding(spec: Spec):
    return spec.render().encode("latin-1"), 3, None, ("not valid utf-8", "encoding: latin-1")


def _decimal_comma(spec: Spec):
    return (spec.with_value(spec.number, "12,5").encode(), 3, spec.number,
            ("decimal comma", 'decimal: ","'))


def _code_as_number(spec: Spec):
    return (spec.with_value(spec.code, "1053").encode(), 3, spec.code,
            ("stored as a number", "pad_codes: true"))


def _missing_column(spec: Spec):
    index = spec.header.index(spec.required)
    header = [h for i, h in enumerate(spec.header) if i != index]
    rows = [[v for i, v in enumerate(r) if i != index] for r in spec.rows]
    return spec.render(header, rows).encode(), 1, spec.required_as, ("missing",)


def _empty_file(spec: Spec):
    return b"", None, None, ("the file is empty",)


def _duplicated_header(spec: Spec):
    header = [*spec.header, spec.header[0]]
    rows = [[*r, r[0]] for r in spec.rows]
    return spec.render(header, rows).encode(), 1, spec.header[0], ("more than once",)


PROBLEMS = {"wrong encoding": (_wrong_encoding, "text"), "decimal comma": (_decimal_comma, "number"),
            "code stored as a number": (_code_as_number, "code"),
            "missing column": (_missing_column, "required"), "empty file": (_empty_file, None),
            "duplicated header": (_duplicated_header, None)}
GRID = [pytest.param(name, problem, id=f"{name}-{problem}")
        for name, spec in SPECS.items() for problem, (_, needs) in PROBLEMS.items()
        if needs is None or getattr(spec, needs) is not None]


def test_every_valid_template_reads(tmp_path):
    for name, spec in SPECS.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(spec.render(), encoding="utf-8")
        assert len(get_connector(spec.connector)(path, **spec.options)) == 2, name


@pytest.mark.parametrize("name, problem", GRID)
def test_csv_grid(tmp_path, check_error, name, problem):
    spec = SPECS[name]
    content, row, column, fragments = PROBLEMS[problem][0](spec)
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError) as excinfo:
        get_connector(spec.connector)(path, **spec.options)
    check_error(excinfo.value, file=path, row=row, column=column, contains=fragments)


# Zone layers: IRIS, communes and the Filosofi grid as GeoPackages.
X0, Y0 = 380_000, 6_570_000
BOW_TIE = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
ZONES = {
    "iris": ("contours_iris", "CODE_IRIS", "code_iris",
             [{"CODE_IRIS": "173000101", "NOM_IRIS": "A", "TYP_IRIS": "H"},
              {"CODE_IRIS": "173000102", "NOM_IRIS": "B", "TYP_IRIS": "H"}]),
    "communes": ("commune", "INSEE_COM", "code_commune",
                 [{"INSEE_COM": "17300", "NOM": "A", "POPULATION": 10},
                  {"INSEE_COM": "17306", "NOM": "B", "POPULATION": 20}]),
}


def _zone_layer(path, name, *, geometries=None, crs="EPSG:2154", drop=None, numeric=False):
    layer, code, _, rows = ZONES[name]
    records = [dict(r) for r in rows]
    for record in records:
        record.pop(drop, None)
        if numeric:  # as if the leading zero of a code like 01053 had been lost
            record[code] = int(record[code][1:])
    geometries = geometries or [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                                shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)]
    gpd.GeoDataFrame(records, geometry=geometries, crs=crs).to_file(path, layer=layer)
    return path


ZONE_PROBLEMS = {
    "missing column": (dict(drop="CODE_IRIS"), {}, None, "code_iris", ("required column is missing",)),
    "invalid geometry": (dict(geometries=[shapely.box(X0, Y0, X0 + 1, Y0 + 1), BOW_TIE]),
                         {"invalid_geometry": "error"}, 2, "geometry",
                         ("feature 2", "invalid geometry", "Self-intersection")),
    "wrong CRS": (dict(geometries=[shapely.box(-1.16, 46.15, -1.15, 46.16),
                                   shapely.box(-1.15, 46.15, -1.14, 46.16)]),
                  {}, 1, "geometry", ("CRS is wrong",)),
    "declared CRS differs": (dict(), {"crs": "EPSG:4326"}, None, "geometry",
                             ("is in EPSG:2154 but the source card declares EPSG:4326",)),
    "code stored as a number": (dict(numeric=True), {}, 1, None, ("stored as a number",)),
}


@pytest.mark.parametrize("name", ["iris", "communes"])
@pytest.mark.parametrize("problem", list(ZONE_PROBLEMS))
def test_zone_grid(tmp_path, check_error, name, problem):
    layer_kwargs, options, row, column, fragments = ZONE_PROBLEMS[problem]
    if problem == "missing column":
        layer_kwargs = dict(drop=ZONES[name][1])
        column = ZONES[name][2]
    path = _zone_layer(tmp_path / f"{name}.gpkg", name, **layer_kwargs)
    with pytest.raises(SourceError) as excinfo:
        get_connector(name)(path, **options)
    check_error(excinfo.value, file=path, row=row, column=column or ZONES[name][1],
                contains=fragments)


@pytest.mark.parametrize("name", ["iris", "communes", "filosofi_grid"])
def test_zone_grid_empty_layer_and_unreadable_file(tmp_path, check_error, name):
    path = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"a": []}, geometry=[], crs="EPSG:2154").to_file(path, layer="x")
    with pytest.raises(SourceError) as excinfo:
        get_connector(name)(path)
    check_error(excinfo.value, file=path, contains=("layer 'x' is empty",))
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a geopackage")
    with pytest.raises(SourceError) as excinfo:
        get_connector(name)(junk)
    check_error(excinfo.value, file=junk, contains=("cannot be opened",))


# GTFS: one zip, each problem in one of its files.
FEED = {"stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,Gare Saint-Étienne,46.16,-1.15\n"
                     "B,Mairie,46.17,-1.14\n",
        "trips.txt": "route_id,service_id,trip_id\nL1,S,T1\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T1,07:00:00,07:00:00,A,1\nT1,07:10:00,07:10:00,B,2\n",
        "calendar_dates.txt": "service_id,date,exception_type\nS,20240304,1\n"}
GTFS_PROBLEMS = {
    "stop_times referring to unknown trips": (
        "stop_times.txt", FEED["stop_times.txt"] + "T2,08:00:00,08:00:00,B,1\n", "utf-8",
        4, "trip_id", ("refers to an id that trips.txt does not define",)),
    "wrong encoding": ("stops.txt", FEED["stops.txt"], "latin-1", 2, None, ("encoding: latin-1",)),
    "missing column": ("stops.txt", "stop_name,stop_lat,stop_lon\nGare,46.16,-1.15\n", "utf-8",
                       1, "stop_id", ("required column is missing",)),
    "empty file": ("trips.txt", "", "utf-8", None, None, ("the file is empty",)),
    "duplicated header": ("trips.txt", "route_id,service_id,trip_id,trip_id\nL1,S,T1,T1\n",
                          "utf-8", 1, "trip_id", ("more than once",)),
    "decimal comma": ("stops.txt", FEED["stops.txt"].replace("46.17,-1.14", '"46,17","-1,14"'),
                      "utf-8", 3, "stop_lon", ("decimal comma",)),
}


@pytest.mark.parametrize("problem", list(GTFS_PROBLEMS))
def test_gtfs_grid(tmp_path, check_error, problem):
    member, text, encoding, row, column, fragments = GTFS_PROBLEMS[problem]
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in {**FEED, member: text}.items():
            archive.writestr(name, body.encode(encoding if name == member else "utf-8"))
    with pytest.raises(SourceError) as excinfo:
        get_connector("gtfs")(path, day="2024-03-04")
    check_error(excinfo.value, file=f"{path}/{member}", row=row, column=column, contains=fragments)
