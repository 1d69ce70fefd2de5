"""Connectors against the plain read a user would write, on national-size synthetic files.

For each format, numpy writes a synthetic file in the real published layout (column
names, separators, decimal marks, encodings) at national size times ``--scale``; then
the connector and a plain ``pandas.read_csv`` / ``geopandas.read_file`` each read it in
a fresh subprocess, which reports the read's wall time, rows per second and peak
resident memory (and its increase over the imports). The connector does more than the
plain read (codes checked as text, types, CRS checks, reprojection, geometry rebuilt
from grid ids, departures counted), so the comparison is the price of that safety.

Usage::

    .venv/bin/python benchmarks/bench_connectors.py --scale 0.1
    .venv/bin/python benchmarks/bench_connectors.py --scale 1 --only dpe,dvf_raw
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# National sizes (rows): DPE since 2021 ~10 M, DVF one year ~3.5 M lines, Filosofi 2019
# ~2.3 M cells, IRIS ~48,600, communes ~35,000, a smart-meter year ~10 M readings,
# a national GTFS aggregate ~20 M stop_times.
NATIONAL = {"dpe": 10_000_000, "dvf_raw": 3_500_000, "geo_dvf": 3_500_000,
            "filosofi_grid": 2_300_000, "filosofi_zones": 48_600, "rpls": 5_000_000,
            "lovac": 35_000, "point_csv": 10_000_000, "gtfs": 20_000_000, "iris": 48_600,
            "communes": 35_000}
MINIMUM = 2_000


def _text(values) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _codes(rng, n: int) -> pa.Array:
    departments = rng.integers(1, 96, n)
    return _text(np.char.add(np.char.zfill(departments.astype(str), 2),
                             np.char.zfill(rng.integers(1, 900, n).astype(str), 3)))


def _write(table: pa.Table, path: Path, sep: str = ",") -> None:
    options = pacsv.WriteOptions(delimiter=sep, quoting_style="needed")
    pacsv.write_csv(table, path, options)


def gen_dpe(path: Path, n: int, rng) -> None:
    labels = np.array(list("ABCDEFG"))
    periods = np.array(["avant 1948", "1948-1974", "1975-1977", "1978-1982", "1983-1988",
                        "1989-2000", "2001-2005", "2006-2012", "2013-2021"])
    days = np.datetime64("2021-07-01") + rng.integers(0, 1200, n)
    year = rng.integers(1850, 2022, n)
    table = pa.table({
        "numero_dpe": _text(np.char.add("21", np.char.zfill(np.arange(n).astype(str), 11))),
        "date_etablissement_dpe": _text(days.astype(str)),
        "etiquette_dpe": _text(labels[rng.integers(0, 7, n)]),
        "etiquette_ges": _text(labels[rng.integers(0, 7, n)]),
        "conso_5_usages_par_m2_ep": _text(np.round(rng.gamma(4, 60, n), 1)),
        "conso_5_usages_par_m2_ef": _text(np.round(rng.gamma(4, 50, n), 1)),
        "surface_habitable_logement": _text(np.round(rng.gamma(6, 12, n), 1)),
        "annee_construction": pa.array(np.where(rng.random(n) < 0.3, None, year.astype(object))),
        "periode_construction": _text(periods[rng.integers(0, len(periods), n)]),
        "type_batiment": _text(np.where(rng.random(n) < 0.5, "maison", "appartement")),
        "code_insee_ban": _codes(rng, n),
        "identifiant_ban": _text(np.char.add("ban_", np.arange(n).astype(str))),
        "coordonnee_cartographique_x_ban": _text(np.round(rng.uniform(150_000, 1_050_000, n), 2)),
        "coordonnee_cartographique_y_ban": _text(np.round(rng.uniform(6_150_000, 7_050_000, n), 2)),
    })
    _write(table, path)


RAW_DVF = ["Identifiant de document", "Reference document", "1 Articles CGI", "2 Articles CGI",
           "3 Articles CGI", "4 Articles CGI", "5 Articles CGI", "No disposition", "Date mutation",
           "Nature mutation", "Valeur fonciere", "No voie", "B/T/Q", "Type de voie", "Code voie",
           "Voie", "Code postal", "Commune", "Code departement", "Code commune",
           "Prefixe de section", "Section", "No plan", "No Volume", "1er lot",
           "Surface Carrez du 1er lot", "2eme lot", "Surface Carrez du 2eme lot", "3eme lot",
           "Surface Carrez du 3eme lot", "4eme lot", "Surface Carrez du 4eme lot", "5eme lot",
           "Surface Carrez du 5eme lot", "Nombre de lots", "Code type local", "Type local",
           "Identifiant local", "Surface reelle bati", "Nombre pieces principales",
           "Nature culture", "Nature culture speciale", "Surface terrain"]


def _mutation_lines(rng, n: int) -> np.ndarray:
    # About 1.6 lines per mutation, consecutive, as in the published files.
    return np.cumsum(rng.random(n) < 0.6)


def gen_dvf_raw(path: Path, n: int, rng) -> None:
    mutation = _mutation_lines(rng, n)
    value = rng.gamma(3, 70_000, mutation[-1] + 1)[mutation]
    day = (np.datetime64("2023-01-01") + rng.integers(0, 365, mutation[-1] + 1))[mutation]
    kinds = rng.integers(1, 4, n)
    columns = {name: pa.nulls(n, pa.string()) for name in RAW_DVF}
    columns.update({
        "No disposition": _text(np.full(n, "000001")),
        "Date mutation": pc.strftime(pa.array(day.astype("datetime64[s]")), format="%d/%m/%Y"),
        "Nature mutation": _text(np.full(n, "Vente")),
        "Valeur fonciere": _text(np.char.replace(np.char.mod("%.2f", value), ".", ",")),
        "Code departement": _text(rng.integers(1, 96, mutation[-1] + 1)[mutation]),
        "Code commune": _text(rng.integers(1, 900, mutation[-1] + 1)[mutation]),
        "Section": _text(np.full(n, "AB")), "No plan": _text(rng.integers(1, 3000, n)),
        "Code type local": _text(kinds),
        "Type local": _text(np.array(["Maison", "Appartement", "Dépendance"])[kinds - 1]),
        "Surface reelle bati": _text(rng.integers(15, 200, n)),
        "Nombre pieces principales": _text(rng.integers(0, 8, n)),
    })
    _write(pa.table(columns), path, sep="|")


GEO_DVF = ["id_mutation", "date_mutation", "numero_disposition", "nature_mutation",
           "valeur_fonciere", "adresse_numero", "adresse_suffixe", "adresse_nom_voie",
           "adresse_code_voie", "code_postal", "code_commune", "nom_commune", "code_departement",
           "ancien_code_commune", "ancien_nom_commune", "id_parcelle", "ancien_id_parcelle",
           "numero_volume", "lot1_numero", "lot1_surface_carrez", "lot2_numero",
           "lot2_surface_carrez", "lot3_numero", "lot3_surface_carrez", "lot4_numero",
           "lot4_surface_carrez", "lot5_numero", "lot5_surface_carrez", "nombre_lots",
           "code_type_local", "type_local", "surface_reelle_bati", "nombre_pieces_principales",
           "code_nature_culture", "nature_culture", "code_nature_culture_speciale",
           "nature_culture_speciale", "surface_terrain", "longitude", "latitude"]


def gen_geo_dvf(path: Path, n: int, rng) -> None:
    mutation = _mutation_lines(rng, n)
    m = mutation[-1] + 1
    codes = _codes(rng, m).to_numpy(zero_copy_only=False)[mutation]
    kinds = rng.integers(1, 4, n)
    columns = {name: pa.nulls(n, pa.string()) for name in GEO_DVF}
    columns.update({
        "id_mutation": _text(np.char.add("2023-", mutation.astype(str))),
        "date_mutation": _text((np.datetime64("2023-01-01") + rng.integers(0, 365, m))[mutation]),
        "numero_disposition": _text(np.full(n, "1")), "nature_mutation": _text(np.full(n, "Vente")),
        "valeur_fonciere": _text(np.char.mod("%.2f", rng.gamma(3, 70_000, m)[mutation])),
        "code_commune": _text(codes), "code_departement": _text(codes.astype(str).astype("U2")),
        "id_parcelle": _text(np.char.add(codes.astype(str), "000AB0012")),
        "code_type_local": _text(kinds),
        "type_local": _text(np.array(["Maison", "Appartement", "Dépendance"])[kinds - 1]),
        "surface_reelle_bati": _text(rng.integers(15, 200, n)),
        "nombre_pieces_principales": _text(rng.integers(0, 8, n)),
        "longitude": _text(np.round(rng.uniform(-1.5, 7.5, n), 6)),
        "latitude": _text(np.round(rng.uniform(43.5, 50.5, n), 6)),
    })
    _write(pa.table(columns), path)


FILOSOFI = ["ind", "men", "men_pauv", "men_1ind", "men_5ind", "men_prop", "men_fmp", "ind_snv",
            "men_surf", "men_coll", "men_mais", "log_av45", "log_45_70", "log_70_90", "log_ap90",
            "log_inc", "log_soc", "ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17", "ind_18_24",
            "ind_25_39", "ind_40_54", "ind_55_64", "ind_65_79", "ind_80p", "ind_inc"]


def gen_filosofi_grid(path: Path, n: int, rng) -> None:
    north = 2_000_000 + rng.integers(0, 5_500, n) * 200
    east = 3_200_000 + rng.integers(0, 5_000, n) * 200
    ids = np.char.add(np.char.add("CRS3035RES200mN", north.astype(str)),
                      np.char.add("E", east.astype(str)))
    columns = {"idcar_200m": _text(ids),
               "idcar_1km": _text(np.char.add(np.char.add("CRS3035RES1000mN", (north // 1000 * 1000).astype(str)),
                                              np.char.add("E", (east // 1000 * 1000).astype(str)))),
               "i_est_200": _text(rng.integers(0, 2, n)), "lcog_geo": _codes(rng, n)}
    columns.update({name: _text(np.round(rng.gamma(1.5, 4, n), 1)) for name in FILOSOFI})
    _write(pa.table(columns), path)


def gen_filosofi_zones(path: Path, n: int, rng) -> None:
    codes = np.char.add(_codes(rng, n).to_numpy(zero_copy_only=False).astype(str),
                        np.char.zfill(rng.integers(101, 9999, n).astype(str), 4))
    med = np.char.mod("%.0f", rng.normal(22_000, 3_000, n))
    rate = np.char.mod("%.1f", rng.uniform(3, 40, n))
    masked = rng.random(n) < 0.1
    _write(pa.table({"IRIS": _text(codes), "DISP_MED19": _text(np.where(masked, "s", med)),
                     "DISP_TP6019": _text(np.where(masked, "s", rate))}), path, sep=";")


def gen_rpls(path: Path, n: int, rng) -> None:
    _write(pa.table({"DEPCOM": _codes(rng, n), "LIBCOM": _text(np.full(n, "Commune")),
                     "NBLOG": _text(rng.integers(1, 120, n)),
                     "CONSTRUCT": _text(rng.integers(1950, 2024, n)),
                     "X": _text(np.round(rng.uniform(150_000, 1_050_000, n), 2)),
                     "Y": _text(np.round(rng.uniform(6_150_000, 7_050_000, n), 2))}), path, sep=";")


def gen_lovac(path: Path, n: int, rng) -> None:
    total = rng.integers(50, 20_000, n)
    vacant = (total * rng.uniform(0.02, 0.15, n)).astype(int)
    masked = vacant < 11
    _write(pa.table({"CODGEO_25": _text(np.char.zfill(np.arange(1001, 1001 + n).astype(str), 5)),
                     "LIBGEO_25": _text(np.full(n, "Commune")),
                     "pp_vacant_25": _text(np.where(masked, "s", vacant.astype(str))),
                     "pp_total_24": _text(total)}), path, sep=";")


def gen_point_csv(path: Path, n: int, rng) -> None:
    meters = rng.integers(10**13, 10**14, n // 12 + 1)
    index = np.arange(n) // 12
    _write(pa.table({
        "numero_compteur": _text(meters[index]),
        "adresse": _text(np.char.add(index.astype(str), " rue de la Paix")),
        "x_l93": _text(np.round(rng.uniform(150_000, 1_050_000, n // 12 + 1), 1)[index]),
        "y_l93": _text(np.round(rng.uniform(6_150_000, 7_050_000, n // 12 + 1), 1)[index]),
        "mois": _text(np.char.add("2023-", np.char.zfill((np.arange(n) % 12 + 1).astype(str), 2))),
        "conso_kwh": _text(rng.integers(50, 2_000, n))}), path)


def gen_gtfs(path: Path, n: int, rng) -> None:
    per_trip = 20
    trips, stops = max(n // per_trip, 10), max(n // 2_000, 50)
    folder = Path(tempfile.mkdtemp())
    first = rng.integers(0, stops - per_trip, trips)
    sequence = np.tile(np.arange(1, per_trip + 1), trips)
    trip_of = np.repeat(np.arange(trips), per_trip)
    seconds = np.repeat(rng.integers(5 * 3600, 25 * 3600, trips), per_trip) + (sequence - 1) * 90
    clock = np.char.add(np.char.add(np.char.zfill((seconds // 3600).astype(str), 2), ":"),
                        np.char.add(np.char.zfill((seconds // 60 % 60).astype(str), 2), ":00"))
    _write(pa.table({"stop_id": _text(np.char.add("S", np.arange(stops).astype(str))),
                     "stop_name": _text(np.full(stops, "Arrêt")),
                     "stop_lat": _text(np.round(rng.uniform(43.5, 50.5, stops), 6)),
                     "stop_lon": _text(np.round(rng.uniform(-1.5, 7.5, stops), 6))}),
           folder / "stops.txt")
    _write(pa.table({"route_id": _text(np.full(trips, "R1")),
                     "service_id": _text(np.where(rng.random(trips) < 0.8, "SEM", "WE")),
                     "trip_id": _text(np.char.add("T", np.arange(trips).astype(str)))}),
           folder / "trips.txt")
    _write(pa.table({"trip_id": _text(np.char.add("T", trip_of.astype(str))),
                     "arrival_time": _text(clock), "departure_time": _text(clock),
                     "stop_id": _text(np.char.add("S", (first[trip_of] + sequence - 1).astype(str))),
                     "stop_sequence": _text(sequence)}), folder / "stop_times.txt")
    (folder / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "SEM,1,1,1,1,1,0,0,20240101,20241231\nWE,0,0,0,0,0,1,1,20240101,20241231\n")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for file in folder.iterdir():
            archive.write(file, file.name)
    shutil.rmtree(folder)


def _polygons(n: int, rng):
    import shapely

    side = int(np.ceil(np.sqrt(n)))
    cols, rows = np.arange(n) % side, np.arange(n) // side
    size = 900_000 / side
    centres = shapely.points(150_000 + (cols + 0.5) * size, 6_150_000 + (rows + 0.5) * size)
    # ~64 vertices per zone, the order of magnitude of real IRIS contours.
    return shapely.buffer(centres, size * 0.49, quad_segs=16)


def gen_iris(path: Path, n: int, rng) -> None:
    import geopandas as gpd

    communes = np.char.zfill((1001 + np.arange(n) // 10).astype(str), 5)
    numbers = np.char.zfill((101 + np.arange(n) % 10).astype(str), 4)
    frame = gpd.GeoDataFrame({"INSEE_COM": communes, "NOM_COM": "Commune", "IRIS": numbers,
                              "CODE_IRIS": np.char.add(communes, numbers),
                              "NOM_IRIS": "Quartier", "TYP_IRIS": "H"},
                             geometry=_polygons(n, rng), crs="EPSG:2154")
    frame.to_file(path, layer="contours_iris", engine="pyogrio")


def gen_communes(path: Path, n: int, rng) -> None:
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"INSEE_COM": [f"{i:05d}" for i in range(1001, 1001 + n)],
                              "NOM": "Commune", "POPULATION": rng.integers(10, 100_000, n)},
                             geometry=_polygons(n, rng), crs="EPSG:2154")
    frame.to_file(path, layer="commune", engine="pyogrio")


@dataclass(frozen=True)
class Case:
    name: str
    connector: str
    file: str
    generate: object
    options: dict
    baseline: str  # the plain read a user would write; `path` is the file


CASES = [
    Case("dpe", "dpe", "dpe.csv", gen_dpe, {}, "pd.read_csv(path)"),
    Case("dvf_raw", "dvf", "valeursfoncieres.txt", gen_dvf_raw, {},
         "pd.read_csv(path, sep='|', decimal=',')"),
    Case("geo_dvf", "dvf", "geo_dvf.csv", gen_geo_dvf, {}, "pd.read_csv(path)"),
    Case("filosofi_grid", "filosofi_grid", "filosofi_200m.csv", gen_filosofi_grid, {},
         "pd.read_csv(path)"),
    Case("filosofi_zones", "filosofi_zones", "filosofi_iris.csv", gen_filosofi_zones, {},
         "pd.read_csv(path, sep=';')"),
    Case("rpls", "rpls", "rpls.csv", gen_rpls, {}, "pd.read_csv(path, sep=';')"),
    Case("lovac", "lovac", "lovac.csv", gen_lovac, {}, "pd.read_csv(path, sep=';')"),
    Case("point_csv", "point_csv", "smart_meter.csv", gen_point_csv,
         {"columns": {"numero_compteur": "text", "adresse": "text", "mois": "month",
                      "conso_kwh": "float"}, "x": "x_l93", "y": "y_l93", "crs": "EPSG:2154"},
         "pd.read_csv(path)"),
    Case("gtfs", "gtfs", "gtfs.zip", gen_gtfs, {"day": "2024-03-05"},
         "z = zipfile.ZipFile(path); st = pd.read_csv(z.open('stop_times.txt')); "
         "pd.read_csv(z.open('trips.txt')); result = st"),
    Case("iris", "iris", "contours_iris.gpkg", gen_iris, {}, "gpd.read_file(path)"),
    Case("communes", "communes", "communes.gpkg", gen_communes, {}, "gpd.read_file(path)"),
]


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited
    from the parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, name: str, path: str) -> None:
    """Run one read in this (fresh) process and print its measures as JSON."""
    import zipfile  # noqa: F401  (used by baselines)

    import geopandas as gpd  # noqa: F401
    import pandas as pd  # noqa: F401

    from pipelines.connectors import get_connector

    case = next(c for c in CASES if c.name == name)
    reader = get_connector(case.connector)
    base = _peak_mb()
    start = time.perf_counter()
    if kind == "connector":
        result = reader(path, working_crs="EPSG:2154", **case.options)
    else:
        scope = {"pd": pd, "gpd": gpd, "zipfile": zipfile, "path": path}
        exec(f"result = {case.baseline}" if "result =" not in case.baseline else case.baseline, scope)
        result = scope["result"]
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rows": len(result), "peak_mb": _peak_mb(),
                      "base_mb": base}))


def _measure(kind: str, case: Case, path: Path) -> dict:
    command = [sys.executable, __file__, "--child", kind, case.name, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(label: str, measure: dict, rows: int) -> str:
    """Rates are rows of the file read per second (GTFS: stop_times rows)."""
    if "error" in measure:
        return f"  {label:<10} ERROR {measure['error']}"
    rate = rows / measure["seconds"] if measure["seconds"] else float("inf")
    return (f"  {label:<10} {measure['seconds']:7.2f} s {rate:12,.0f} rows/s  peak "
            f"{measure['peak_mb']:6,.0f} MB (+{measure['peak_mb'] - measure['base_mb']:5,.0f} "
            f"over imports)  output rows {measure['rows']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of national size")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--workdir", default=None, help="where to write files (default: temp)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_connectors_"))
    workdir.mkdir(parents=True, exist_ok=True)
    wanted = set(filter(None, args.only.split(",")))
    rng = np.random.default_rng(20261128)
    print(f"scale {args.scale} of national size; files in {workdir}")
    try:
        for case in CASES:
            if wanted and case.name not in wanted:
                continue
            rows = max(int(NATIONAL[case.name] * args.scale), MINIMUM)
            path = workdir / case.file
            start = time.perf_counter()
            case.generate(path, rows, rng)
            size = path.stat().st_size / 2**20
            print(f"\n{case.name}: {rows:,} rows, {size:,.0f} MB, generated in "
                  f"{time.perf_counter() - start:.1f} s")
            print(_line("connector", _measure("connector", case, path), rows))
            print(_line("plain", _measure("plain", case, path), rows) + f"   [{case.baseline}]")
            path.unlink()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
