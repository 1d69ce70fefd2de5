"""Compare two published `outputs/` folders: tables, manifests, `demonstrator.json`, pages.

Used to show that a refactoring leaves what officials see unchanged:

    cp -r outputs /tmp/before    # on the old code, after `datacites run`
    ...                          # change the code, `datacites run` again
    python benchmarks/compare_outputs.py /tmp/before outputs

Tables are compared by value (CSV text, Parquet and GeoPackage attributes and
geometries); JSON documents key by key; pages as text. Only what records the moment of
the run is ignored (`generated_at`, the page's "générée le" line, GeoPackage timestamps).
Keys that exist only in the newer `demonstrator.json` (a new field) are listed as
additions, not differences: what was there before must be unchanged. Prints one line
per difference and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

MOMENT_KEYS = {"generated_at"}
MOMENT_TEXT = re.compile(r"(générée? le|generated)[^<\"]*", re.IGNORECASE)


def _json(path: Path):
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in MOMENT_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(path.read_text(encoding="utf-8")))


def _added(before, after, where: str = "") -> tuple[list[str], list[str]]:
    """(changed or removed paths, added paths) between two JSON values."""
    if isinstance(before, dict) and isinstance(after, dict):
        changed, added = [], [f"{where}.{k}" for k in after if k not in before]
        for key in before:
            if key not in after:
                changed.append(f"{where}.{key} removed")
                continue
            more_changed, more_added = _added(before[key], after[key], f"{where}.{key}")
            changed, added = changed + more_changed, added + more_added
        return changed, added
    return ([] if before == after else [where or "(document)"]), []


ADDED: list[str] = []


def _differences(a: Path, b: Path, name: str) -> list[str]:
    suffix = a.suffix
    if suffix == ".json":
        changed, added = _added(_json(a), _json(b))
        ADDED.extend(f"{name}: {path}" for path in added)
        return [f"{name}: {path} differs" for path in changed]
    if suffix == ".csv":
        left, right = pd.read_csv(a, dtype=str), pd.read_csv(b, dtype=str)
        return [] if left.equals(right) else [f"{name}: CSV values differ"]
    if suffix in (".parquet", ".gpkg"):
        left = gpd.read_parquet(a) if suffix == ".parquet" else gpd.read_file(a)
        right = gpd.read_parquet(b) if suffix == ".parquet" else gpd.read_file(b)
        same = list(left.columns) == list(right.columns) and left.drop(columns="geometry").equals(
            right.drop(columns="geometry")) and left.geometry.geom_equals_exact(right.geometry, 1e-9).all()
        return [] if same else [f"{name}: table differs"]
    if suffix in (".html", ".js", ".css", ".txt", ".md"):
        left = MOMENT_TEXT.sub("", a.read_text(encoding="utf-8"))
        right = MOMENT_TEXT.sub("", b.read_text(encoding="utf-8"))
        return [] if left == right else [f"{name}: text differs"]
    return [] if a.read_bytes() == b.read_bytes() else [f"{name}: bytes differ"]


def compare(before: Path, after: Path) -> list[str]:
    """Every difference between two outputs folders (screenshots are not compared)."""
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "screenshots" not in p.parts}

    left, right = files(before), files(after)
    problems = [f"{n}: only in {before}" for n in sorted(left - right)]
    problems += [f"{n}: only in {after}" for n in sorted(right - left)]
    for name in sorted(left & right):
        problems += _differences(before / name, after / name, name)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    problems = compare(args.before, args.after)
    for line in problems:
        print(line)
    for line in ADDED:
        print(f"added (not a difference) {line}")
    compared = len([p for p in args.after.rglob("*") if p.is_file()])
    print(f"{compared} files compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
