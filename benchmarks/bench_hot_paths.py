"""Time three hot paths that tests used to time, each beside what a user would
otherwise write, and print the ratio (never asserted: a loaded machine is slower).

- nearest stop for every 200 m cell: our KD-tree (`mobility.nearest_distances`) vs
  shapely 2's STRtree `query_nearest`;
- keyed pseudonyms for distinct meter numbers: `pseudonymise` vs a plain loop of
  `hmac.new` per value;
- the identifier scan of Plotly's bundle (audited on every site): `find_identifiers`
  vs one `re.finditer` per pattern over the whole text.

    .venv/bin/python benchmarks/bench_hot_paths.py
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import time

import numpy as np
import pandas as pd
import plotly.offline
import shapely

from pipelines.privacy.identifiers import PATTERNS, find_identifiers
from pipelines.privacy.pseudonymise import pseudonymise

KEY = __import__("secrets").token_bytes(32)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(name: str, ours: float, peer: float, peer_name: str) -> None:
    print(f"{name:44} ours {ours:7.3f} s   {peer_name} {peer:7.3f} s   peer/ours {peer / ours:6.1f}x")


def nearest_stops(cells: int = 300_000, stops: int = 30_000) -> None:
    mobility = importlib.import_module("demonstrators.mobility_access.mobility")
    rng = np.random.default_rng(1)
    cells_xy, stops_xy = rng.uniform(0, 300_000, (cells, 2)), rng.uniform(0, 300_000, (stops, 2))
    ours, distances = timed(lambda: mobility.nearest_distances(cells_xy, stops_xy))

    def strtree():
        tree = shapely.STRtree(shapely.points(stops_xy))
        _, found = tree.query_nearest(shapely.points(cells_xy), return_distance=True, all_matches=False)
        return found

    peer, peer_distances = timed(strtree)
    assert np.allclose(distances, peer_distances)
    report(f"nearest stop, {cells:,} cells x {stops:,} stops", ours, peer, "STRtree")


def pseudonyms(n: int = 100_000, readings: int = 1) -> None:
    """`readings` rows per meter: 12 for a year of monthly readings, as the anonymiser sees them."""
    values = pd.Series(np.repeat(np.arange(10**13, 10**13 + n).astype(str), readings))
    ours, _ = timed(lambda: pseudonymise(values, KEY))
    peer, _ = timed(lambda: [hmac.new(KEY, v.encode(), hashlib.sha256).hexdigest() for v in values])
    report(f"pseudonyms, {n:,} meters x {readings} reading(s)", ours, peer, "hmac loop")


def identifier_scan() -> None:
    js = plotly.offline.get_plotlyjs()
    ours, _ = timed(lambda: list(find_identifiers(js)))
    peer, _ = timed(lambda: [m.start() for p in PATTERNS.values() for m in p.finditer(js)])
    report(f"identifier scan, Plotly bundle {len(js) / 1e6:.1f} MB", ours, peer, "re.finditer")


if __name__ == "__main__":
    nearest_stops()
    pseudonyms()
    pseudonyms(readings=12)
    identifier_scan()
