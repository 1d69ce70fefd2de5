"""Time the disclosure audit on a folder of generated outputs.

Writes, for a few demonstrators, per-IRIS and per-commune tables (CSV, GeoParquet,
GeoPackage, manifests) protected by :func:`protect_hierarchy`, and a static site with
Plotly pages and the Plotly library, then times :func:`audit_outputs` on it.

    .venv/bin/python benchmarks/bench_audit.py              # the sample's size: 40 IRIS
    .venv/bin/python benchmarks/bench_audit.py --iris 5000  # a large agglomeration
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
from shapely.geometry import box

from pipelines.privacy.audit import audit_outputs
from pipelines.privacy.suppression import protect_hierarchy

COMMUNE_SIZE = 10


def protected_tables(n_iris: int, seed: int) -> dict[str, pd.DataFrame]:
    """IRIS and commune tables of one population, secondary suppression applied."""
    rng = np.random.default_rng(seed)
    households = np.where(rng.random(n_iris) < 0.1, rng.integers(0, 11, n_iris), rng.integers(11, 900, n_iris))
    codes = [f"{i // COMMUNE_SIZE + 1:05d}{i % COMMUNE_SIZE + 1:04d}" for i in range(n_iris)]
    atoms = pd.DataFrame({"iris": codes, "commune": [c[:5] for c in codes], "households": households})
    long = protect_hierarchy(atoms, levels=["iris", "commune"], count_column="households", threshold=11,
                             include_total=False)
    iris = long[long["zoning"] == "iris"].rename(columns={"zone_id": "code_iris", "parent_id": "code_commune"})
    commune = long[long["zoning"] == "commune"].rename(columns={"zone_id": "code_commune"})
    iris = iris.assign(nom_iris="IRIS fictif", share_fg=rng.random(len(iris)).round(3))
    commune = commune.assign(nom_commune="Commune fictive", share_fg=rng.random(len(commune)).round(3))
    return {"iris": iris.drop(columns=["zoning", "secret"]).assign(secret_households=iris["secret"].fillna("")),
            "commune": commune.drop(columns=["zoning", "parent_id", "secret"]).assign(
                secret_households=commune["secret"].fillna(""))}


def write_demonstrator(folder: Path, demo: str, tables: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True)
    for zoning, frame in tables.items():
        stem = folder / f"{demo}_{zoning}"
        geo = gpd.GeoDataFrame(frame, geometry=[box(i, 0, i + 1, 1) for i in range(len(frame))], crs="EPSG:2154")
        frame.to_csv(stem.with_suffix(".csv"), index=False)
        geo.to_parquet(stem.with_suffix(".parquet"), index=False)
        geo.to_file(stem.with_suffix(".gpkg"), layer=stem.name, driver="GPKG")
        manifest = {"table": stem.name, "demonstrator": demo, "zoning": zoning,
                    "zone_id_column": f"code_{zoning}", "zone_name_column": f"nom_{zoning}",
                    "parent_zoning": "commune" if zoning == "iris" else None,
                    "parent_id_column": "code_commune" if zoning == "iris" else None,
                    "unit": "households", "count_columns": {"households": "households"},
                    "rule": {"households": 11}, "allowed_columns": [*frame.columns, "geometry"]}
        stem.with_name(stem.name + ".manifest.json").write_text(json.dumps(manifest))


def write_site(folder: Path, demos: dict[str, dict[str, pd.DataFrame]]) -> None:
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    for demo, tables in demos.items():
        iris = tables["iris"]
        figures = [go.Figure(go.Bar(x=iris["code_iris"], y=iris["households"])),
                   go.Figure(go.Scatter(x=iris["share_fg"].to_numpy(), y=iris["households"].to_numpy(dtype=float,
                                                                                                   na_value=np.nan)))]
        scripts = "".join(f"<script type='application/json'>{pio.to_json(f, validate=False)}</script>" for f in figures)
        (folder / f"{demo}.html").write_text(f"<html><body><h1>{demo}</h1>{scripts}</body></html>", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iris", type=int, default=40, help="IRIS per demonstrator (sample: 40)")
    parser.add_argument("--demonstrators", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_audit_"))
    try:
        start = time.perf_counter()
        demos = {f"demo{d}": protected_tables(args.iris, seed=d) for d in range(args.demonstrators)}
        protect = time.perf_counter() - start
        for demo, tables in demos.items():
            write_demonstrator(root / demo, demo, tables)
        write_site(root / "site", demos)
        files = sum(1 for p in root.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        audit_outputs(root)   # warm-up: imports and the Plotly bundle's hash
        start = time.perf_counter()
        findings = audit_outputs(root)
        elapsed = time.perf_counter() - start
        print(f"protect_hierarchy: {protect:.2f} s for {args.demonstrators} x {args.iris} IRIS")
        print(f"audit_outputs: {elapsed:.2f} s for {files} files ({size:.1f} MB), "
              f"{args.demonstrators} x {args.iris} IRIS; findings: {len(findings)}")
        if findings:
            raise SystemExit("the generated outputs should pass the audit: " + str(findings[0]))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
