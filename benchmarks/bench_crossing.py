"""Benchmark: points to zones, the project's engine against every peer a user has.

Generates IRIS-like zones (a Voronoi tiling of a square in Lambert-93 whose shared edges
are bent into ~200-vertex rings, like real IRIS) on two squares, "large" (400 km, zones
of ~3 km2) and "dense" (40 km, zones of ~3 ha, the same count), and uniformly random
points over each square; writes them once under benchmarks/_work/ (points as x/y doubles
in several row groups, zones as GeoParquet), then times each engine, zone set and size
in its own subprocess, so that peak memory is the child's own and one engine's caches
never help another. Every engine's answer is compared point by point with the
reference (the first engine), and each table ends with the ratio of the fastest peer's
time to datacites' (above 1: datacites is faster).

Peers: a plain DuckDB spatial join on x/y points, shapely 2's STRtree built on the points
and queried by the zones on two threads (the fastest exact peer on dense zones),
geopandas' sjoin and polars-st's sjoin (``pip install -e '.[bench]'``; skipped if absent).

Usage::

    python benchmarks/bench_crossing.py                 # 1e5, 1e6, 1e7 points
    python benchmarks/bench_crossing.py --quick         # 1e5 points, 5,000 zones
    python benchmarks/bench_crossing.py --sizes 100000 1000000 --zone-sets dense
    python benchmarks/bench_crossing.py --interpolation   # 200 m cells onto the zones
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORK_DIR = Path(__file__).resolve().parent / "_work"
ROOT = Path(__file__).resolve().parent.parent
CRS = "EPSG:2154"
RECT = (500_000.0, 6_400_000.0, 900_000.0, 6_800_000.0)  # 400 x 400 km, Lambert-93
ZONE_SETS = {"large": RECT, "dense": (680_000.0, 6_580_000.0, 720_000.0, 6_620_000.0)}
DATACITES = ("datacites_auto", "datacites_index", "datacites_exact", "datacites_duckdb")
PEERS = ("duckdb_join", "shapely_strtree_2threads", "geopandas_sjoin", "polars_st_sjoin")
ENGINES = DATACITES + PEERS
DEFAULT_ENGINES = ("datacites_auto",) + PEERS
TIMEOUT_S = 3600


# --- data generation -------------------------------------------------------------------

def _bend_rings(polygons: np.ndarray, vertices_per_edge: int, amplitude: float):
    """Bend every edge identically in both polygons sharing it, so the tiling stays exact.

    The bend of an edge depends only on its two endpoints (taken in a canonical order),
    and vanishes with its slope at both ends, so neighbouring edges rarely cross.
    """
    import shapely
    coords, ring = shapely.get_coordinates(shapely.get_exterior_ring(polygons),
                                           return_index=True)
    same = ring[:-1] == ring[1:]
    a, b, seg_ring = coords[:-1][same], coords[1:][same], ring[:-1][same]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    p, q = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])[:, None]
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(length, 1e-9)
    # Pseudo-random but deterministic coefficients from the edge's endpoints.
    key = ((p[:, 0] - RECT[0]) * 1e-3 + (p[:, 1] - RECT[1]) * 3.7e-3
           + q[:, 0] * 1.3e-4 + q[:, 1] * 7e-5)
    coef = np.column_stack([np.modf(np.sin(key * m) * 43758.5453)[0] for m in (1.0, 1.7, 2.9)])
    xmin, ymin, xmax, ymax = RECT
    on_border = ((np.isclose(p[:, 0], xmin) & np.isclose(q[:, 0], xmin))
                 | (np.isclose(p[:, 0], xmax) & np.isclose(q[:, 0], xmax))
                 | (np.isclose(p[:, 1], ymin) & np.isclose(q[:, 1], ymin))
                 | (np.isclose(p[:, 1], ymax) & np.isclose(q[:, 1], ymax)))
    coef[on_border] = 0.0
    t = np.arange(1, vertices_per_edge + 1) / (vertices_per_edge + 1)
    s = np.where(swap[:, None], 1 - t[None, :], t[None, :])
    modes = sum(coef[:, [i]] * np.sin((i + 1) * np.pi * s) for i in range(3))
    offset = amplitude * length * 4 * s * (1 - s) * modes
    inner = p[:, None, :] + s[:, :, None] * d[:, None, :] + offset[:, :, None] * normal[:, None, :]
    seg_points = np.concatenate([a[:, None, :], inner], axis=1).reshape(-1, 2)
    seg_ids = np.repeat(seg_ring, vertices_per_edge + 1)
    first = np.unique(ring, return_index=True)[1]
    all_points = np.concatenate([seg_points, coords[first]])
    all_ids = np.concatenate([seg_ids, ring[first]])
    order = np.argsort(all_ids, kind="stable")  # closing point after each ring's segments
    rings = shapely.linearrings(all_points[order], indices=all_ids[order])
    return shapely.polygons(rings)


def make_zones(n_zones: int, seed: int = 42):
    """Return an IRIS-like GeoDataFrame tiling RECT with about ``n_zones`` polygons."""
    import geopandas as gpd
    import shapely
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = RECT
    seeds = shapely.multipoints(np.column_stack([rng.uniform(xmin, xmax, n_zones),
                                                 rng.uniform(ymin, ymax, n_zones)]))
    rect = shapely.box(*RECT)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=rect))
    cells = shapely.set_precision(shapely.intersection(cells, rect), 0.001)
    cells = cells[shapely.get_type_id(cells) == 3]
    bent = _bend_rings(cells, vertices_per_edge=32, amplitude=0.02)
    # The rare ring whose bends cross is repaired; its neighbours stay as they are.
    invalid = ~shapely.is_valid(bent)
    bent[invalid] = shapely.make_valid(bent[invalid])
    codes = [f"{i:09d}" for i in rng.permutation(len(bent))]
    zones = gpd.GeoDataFrame({"code_iris": codes}, geometry=bent, crs=CRS)
    zones = zones.explode(index_parts=False)
    zones = zones[zones.geom_type == "Polygon"].reset_index(drop=True)
    return zones, int(invalid.sum())


def make_zone_set(name: str, n_zones: int):
    """Return the zones of one set: the large tiling, or the same shrunk onto its square
    (same topology and vertex count, ten times denser for the "dense" square)."""
    import shapely
    zones, repaired = make_zones(n_zones)
    rect = ZONE_SETS[name]
    scale = (rect[2] - rect[0]) / (RECT[2] - RECT[0])
    if scale != 1.0:
        zones.geometry = shapely.transform(
            zones.geometry.values, lambda xy: (xy - RECT[:2]) * scale + rect[:2])
    return zones, repaired


def write_inputs(zone_sets, sizes, n_zones: int) -> None:
    """Write zones and points once (kept between runs)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for name in zone_sets:
        paths = _paths(name, sizes, n_zones)
        if not paths["zones"].exists():
            started = time.perf_counter()
            zones, repaired = make_zone_set(name, n_zones)
            zones.to_parquet(paths["zones"])
            vertices = zones.count_coordinates().mean()
            print(f"# {name} zones: {len(zones)} polygons, {vertices:.0f} vertices on "
                  f"average, {repaired} repaired, written in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        for n in sizes:
            if not paths[n].exists():
                _write_points(paths[n], ZONE_SETS[name], n)


def _write_points(path: Path, rect, n: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(n)
    xmin, ymin, xmax, ymax = rect
    margin = (xmax - xmin) / 400  # a few points fall outside every zone
    table = pa.table({"x": rng.uniform(xmin - margin, xmax + margin, n),
                      "y": rng.uniform(ymin - margin, ymax + margin, n)})
    # Several row groups: DuckDB (and a reader) parallelise over them.
    row_group = max(10_000, min(1_000_000, math.ceil(n / 8)))
    pq.write_table(table, path, row_group_size=row_group)


# --- one run, in a child process -------------------------------------------------------

def _run_datacites(points, zones, method):
    from pipelines.spatial import assign_points_to_zones
    result = assign_points_to_zones(points, zones, zone_id="code_iris", crs=CRS,
                                    method=method)
    return result.zone_ids  # Arrow-backed: written without 10 million Python strings


def _lowest_code(n_points: int, point, codes, zone) -> np.ndarray:
    """Per point, the lowest code of the zones it matched (None for none)."""
    distinct, rank = np.unique(np.asarray(codes, dtype=object)[zone], return_inverse=True)
    best = np.full(n_points, len(distinct), dtype="int64")
    np.minimum.at(best, point, rank)
    return np.append(distinct, None)[best]


def _run_duckdb(points, zones):
    """A plain DuckDB spatial join, at its best: integer zone ranks, minimum per point."""
    import pyarrow as pa
    import shapely

    from pipelines.spatial.engine import connect
    codes, rank = np.unique(zones["code_iris"].to_numpy(dtype=object), return_inverse=True)
    with connect() as con:  # the project's connection only finds the spatial extension
        con.register("zones_in", pa.table({"zrank": rank.astype("int32"),
                                           "wkb": shapely.to_wkb(zones.geometry.values)}))
        con.execute("CREATE TABLE zones AS SELECT zrank, ST_GeomFromWKB(wkb) AS geom "
                    "FROM zones_in")
        con.register("points_in", pa.table({"pid": np.arange(len(points)),
                                            "x": points["x"].to_numpy(),
                                            "y": points["y"].to_numpy()}))
        con.execute("CREATE TABLE points AS SELECT * FROM points_in")
        pairs = con.execute("SELECT p.pid, min(z.zrank) AS zrank FROM points AS p "
                            "JOIN zones AS z ON ST_Intersects(z.geom, ST_Point(p.x, p.y)) "
                            "GROUP BY p.pid").fetchnumpy()
    best = np.full(len(points), len(codes), dtype="int64")
    best[pairs["pid"]] = pairs["zrank"]
    return np.append(codes, None)[best]


def _run_strtree(points, zones):
    """shapely 2's STRtree on the points, queried by the zones, half of them per thread."""
    from concurrent.futures import ThreadPoolExecutor

    import shapely
    tree = shapely.STRtree(shapely.points(points["x"].to_numpy(), points["y"].to_numpy()))
    geoms = zones.geometry.values
    halves = [np.arange(0, len(geoms) // 2), np.arange(len(geoms) // 2, len(geoms))]
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(lambda i: (i, tree.query(geoms[i], predicate="intersects")),
                              halves))
    zone = np.concatenate([i[pairs[0]] for i, pairs in parts])
    point = np.concatenate([pairs[1] for _, pairs in parts])
    return _lowest_code(len(points), point, zones["code_iris"].to_numpy(), zone)


def _run_sjoin(points, zones):
    import geopandas as gpd
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points["x"], points["y"]), crs=CRS)
    joined = gpd.sjoin(gdf, zones[["code_iris", "geometry"]], predicate="intersects",
                       how="left")
    first = joined.groupby(level=0)["code_iris"].min()
    return first.reindex(gdf.index).to_numpy(dtype=object, na_value=None)


def _run_polars_st(points, zones):
    import polars as pl
    import polars_st as st
    import shapely
    left = pl.DataFrame({"pid": np.arange(len(points)), "x": points["x"].to_numpy(),
                         "y": points["y"].to_numpy()})
    left = left.select("pid", geometry=st.point(pl.concat_arr("x", "y")))
    right = pl.DataFrame({"code": zones["code_iris"].to_numpy(dtype=object).tolist(),
                          "wkb": shapely.to_wkb(zones.geometry.values)})
    right = right.select("code", geometry=st.from_wkb("wkb"))
    joined = left.st.sjoin(right, predicate="intersects").group_by("pid").agg(
        pl.col("code").min())
    codes = np.full(len(points), None, dtype=object)
    codes[joined["pid"].to_numpy()] = joined["code"].to_numpy()
    return codes


PRELOAD = {"datacites": ("pipelines.spatial",), "duckdb": ("pipelines.spatial.engine",),
           "polars": ("polars", "polars_st")}
RUNNERS = {"duckdb_join": _run_duckdb, "shapely_strtree_2threads": _run_strtree,
           "geopandas_sjoin": _run_sjoin, "polars_st_sjoin": _run_polars_st}


def run_child(engine: str, points_path: Path, zones_path: Path, out_path: Path) -> dict:
    """Read the inputs, run one engine, save its answer; return timings and memory."""
    import geopandas as gpd
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    started = time.perf_counter()
    points = pq.read_table(points_path).to_pandas()
    points.attrs["crs"] = CRS
    zones = gpd.read_parquet(zones_path)
    read_s = time.perf_counter() - started
    for module in PRELOAD.get(engine.split("_")[0], ()):  # imports are not the join's time
        importlib.import_module(module)
    started = time.perf_counter()
    if engine in RUNNERS:
        codes = RUNNERS[engine](points, zones)
    else:
        codes = _run_datacites(points, zones, engine.removeprefix("datacites_"))
    join_s = time.perf_counter() - started
    if isinstance(codes, pd.Series):
        codes = pa.array(codes.array).cast(pa.string())
    pq.write_table(pa.table({"code": pa.array(codes, type=pa.string())}), out_path)
    return {"engine": engine, "points": len(points), "zones": len(zones), "read_s": read_s,
            "seconds": join_s, "matched": int(pd.notna(codes).sum()),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_interpolation(zones_path: Path, window_m: int) -> dict:
    """Time area-weighted interpolation of 200 m cells onto the zones of a square window,
    with the project's DuckDB function and with geopandas.overlay plus the same split."""
    import geopandas as gpd
    import shapely

    from pipelines.spatial import interpolate_area_weighted
    zones = gpd.read_parquet(zones_path)
    x0, y0 = 650_000, 6_550_000
    targets = zones.cx[x0:x0 + window_m, y0:y0 + window_m]
    xs, ys = np.meshgrid(np.arange(x0 - 1000, x0 + window_m + 1000, 200),
                         np.arange(y0 - 1000, y0 + window_m + 1000, 200))
    xs, ys = xs.ravel(), ys.ravel()
    cells = gpd.GeoDataFrame({"ind": np.random.default_rng(0).poisson(20, xs.size) * 1.0},
                             geometry=shapely.box(xs, ys, xs + 200, ys + 200), crs=CRS)
    started = time.perf_counter()
    ours = interpolate_area_weighted(cells, targets, columns=["ind"], target_id="code_iris",
                                     crs=CRS)
    duckdb_s = time.perf_counter() - started
    started = time.perf_counter()
    pieces = gpd.overlay(cells.assign(sid=np.arange(len(cells))),
                         targets[["code_iris", "geometry"]], how="intersection",
                         keep_geom_type=True)
    pieces["area"] = pieces.area
    pieces = pieces[pieces["area"] > 0]
    covered = pieces.groupby("sid")["area"].transform("sum")
    theirs = (pieces["ind"] * pieces["area"] / covered).groupby(pieces["code_iris"]).sum()
    overlay_s = time.perf_counter() - started
    diff = np.abs(theirs.reindex(ours["code_iris"]).fillna(0).to_numpy() - ours["ind"])
    return {"cells": len(cells), "targets": len(targets), "duckdb_s": duckdb_s,
            "overlay_s": overlay_s, "max_abs_diff": float(diff.max())}


# --- driver ----------------------------------------------------------------------------

def _paths(zone_set: str, sizes, n_zones: int) -> dict:
    prefix = "" if zone_set == "large" else f"{zone_set}_"  # large: the earlier files
    paths = {n: WORK_DIR / f"points_{prefix}{n}.parquet" for n in sizes}
    paths["zones"] = WORK_DIR / f"zones_{prefix}{n_zones}.parquet"
    return paths


def run_in_subprocess(engine: str, n: int, paths: dict) -> dict:
    out_path = WORK_DIR / f"answer_{engine}_{paths[n].stem}.parquet"
    command = [sys.executable, __file__, "--child", engine, str(paths[n]),
               str(paths["zones"]), str(out_path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "points": n, "error": f"timeout after {TIMEOUT_S} s"}
    if done.returncode != 0:
        return {"engine": engine, "points": n, "error": done.stderr.strip()[-500:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["answer"] = out_path
    return result


def compare_answers(reference: Path, other: Path) -> dict:
    """Count the points whose zone differs between two answers (run in a child)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    a, b = pq.read_table(reference)["code"], pq.read_table(other)["code"]
    same = pc.or_(pc.and_(a.is_null(), b.is_null()), pc.fill_null(pc.equal(a, b), False))
    return {"differing": int(len(a) - pc.sum(same).as_py())}


def agreement(reference: dict, other: dict) -> str:
    """Compare one engine's per-point answer with the reference engine's."""
    if "answer" not in reference or "answer" not in other:
        return "n/a"
    done = subprocess.run([sys.executable, __file__, "--compare", str(reference["answer"]),
                           str(other["answer"])], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    differing = json.loads(done.stdout.strip().splitlines()[-1])["differing"]
    same_count = other["matched"] == reference["matched"]
    return (f"{'yes' if same_count and differing == 0 else 'NO'} (matched "
            f"{'equal' if same_count else 'differ'}, {differing} points differ)")


def print_table(rows: list) -> None:
    header = ("engine", "points", "zones", "read s", "seconds", "points/s", "peak RSS MB",
              "agree")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        if "error" in r:
            print(f"| {r['engine']} | {r['points']:,} | | | | | | error: "
                  f"{r['error'].splitlines()[-1] if r['error'] else ''} |")
            continue
        print(f"| {r['engine']} | {r['points']:,} | {r['zones']:,} | {r['read_s']:.2f} | "
              f"{r['seconds']:.2f} | {r['points'] / r['seconds']:,.0f} | "
              f"{r['peak_rss_mb']:,.0f} | {r['agree']} |")


def print_ratios(rows: list) -> None:
    """One line per size: datacites' default engine against the fastest peer."""
    print("\n| points | datacites_auto s | fastest peer | its s | ratio peer/datacites | "
          "datacites RSS MB | duckdb_join RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for n in dict.fromkeys(r["points"] for r in rows):
        done = {r["engine"]: r for r in rows if r["points"] == n and "error" not in r}
        peers = [done[e] for e in PEERS if e in done]
        if "datacites_auto" not in done or not peers:
            continue
        ours, best = done["datacites_auto"], min(peers, key=lambda r: r["seconds"])
        duckdb_rss = done["duckdb_join"]["peak_rss_mb"] if "duckdb_join" in done else None
        print(f"| {n:,} | {ours['seconds']:.2f} | {best['engine']} | {best['seconds']:.2f} | "
              f"{best['seconds'] / ours['seconds']:.1f}x | {ours['peak_rss_mb']:,.0f} | "
              f"{'' if duckdb_rss is None else f'{duckdb_rss:,.0f}'} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000,
                                                                  10_000_000])
    parser.add_argument("--zones", type=int, default=50_000, help="number of seeds")
    parser.add_argument("--engines", nargs="+", default=list(DEFAULT_ENGINES),
                        choices=ENGINES, help="the first is the reference for agreement")
    parser.add_argument("--zone-sets", nargs="+", default=list(ZONE_SETS),
                        choices=list(ZONE_SETS))
    parser.add_argument("--quick", action="store_true", help="1e5 points, 5,000 zones")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compare", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--interpolation", action="store_true",
                        help="time interpolate_area_weighted against geopandas.overlay")
    parser.add_argument("--interpolation-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.zones = [100_000], 5_000
    sys.path.insert(0, str(ROOT))
    if args.child:
        engine, points_path, zones_path, out_path = args.child
        print(json.dumps(run_child(engine, Path(points_path), Path(zones_path),
                                   Path(out_path))))
    elif args.compare:
        print(json.dumps(compare_answers(*map(Path, args.compare))))
    elif args.prepare:
        write_inputs(args.zone_sets, args.sizes, args.zones)
    elif args.interpolation_child:
        print(json.dumps(run_interpolation(_paths("large", [], args.zones)["zones"],
                                           args.interpolation_child)))
    elif args.interpolation:
        drive_interpolation(args)
    else:
        drive(args)


def drive_interpolation(args) -> None:
    subprocess.run([sys.executable, __file__, "--prepare", "--zones", str(args.zones),
                    "--sizes"], check=True, cwd=ROOT)
    print("| 200 m cells | target zones | datacites (DuckDB) s | geopandas.overlay s | "
          "max abs diff |")
    print("|---|---|---|---|---|")
    for window in (30_000, 100_000):
        done = subprocess.run([sys.executable, __file__, "--zones", str(args.zones),
                               "--interpolation-child", str(window)], check=True,
                              capture_output=True, text=True, cwd=ROOT)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {r['cells']:,} | {r['targets']:,} | {r['duckdb_s']:.2f} | "
              f"{r['overlay_s']:.2f} | {r['max_abs_diff']:.1e} |", flush=True)


def drive(args) -> None:
    """Prepare, run and compare in children: the driver's own memory stays small, which
    matters because Linux carries ru_maxrss across exec into every child."""
    subprocess.run([sys.executable, __file__, "--prepare", "--zones", str(args.zones),
                    "--zone-sets", *args.zone_sets, "--sizes", *map(str, args.sizes)],
                   check=True, cwd=ROOT)
    engines = [e for e in args.engines
               if e != "polars_st_sjoin" or importlib.util.find_spec("polars_st")]
    if len(engines) < len(args.engines):
        print("polars-st is not installed (pip install -e '.[bench]'): skipped\n")
    for zone_set in args.zone_sets:
        paths = _paths(zone_set, args.sizes, args.zones)
        print(f"## {zone_set} zones ({args.zones:,} seeds in a "
              f"{(ZONE_SETS[zone_set][2] - ZONE_SETS[zone_set][0]) / 1000:.0f} km square)\n"
              f"load average (1, 5, 15 min) at the start: {os.getloadavg()}\n", flush=True)
        rows = []
        for n in args.sizes:
            results = [run_in_subprocess(engine, n, paths) for engine in engines]
            for r in results:
                r["agree"] = "reference" if r is results[0] else agreement(results[0], r)
                print(json.dumps({k: v for k, v in r.items() if k != "answer"},
                                 default=str), file=sys.stderr, flush=True)
            rows += results
        print_table(rows)
        print_ratios(rows)
        print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}\n", flush=True)


if __name__ == "__main__":
    main()
