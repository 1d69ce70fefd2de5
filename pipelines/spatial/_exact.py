"""Exact point-in-zone tests with shapely, against the few zones whose box holds a point.

Private to the package. The zones' bounding boxes are binned on a coarse grid (about one
bin per zone); a point's candidates are the zones of its bin whose box contains it, two
or three for a tiling. Each (point, candidate) pair is decided by
``shapely.intersects_xy`` (boundary included, the rule of DuckDB's ``ST_Intersects``),
and a point keeps the lowest rank among the zones it hits. Exact for any zoning:
overlapping zones, holes, islands and multi-part zones alike.

Two measured facts shape the code (benchmarks/RESULTS.md): prepared geometries answer
~10x faster than plain ones but build an index on first use, and shapely's test is
~7x slower when consecutive pairs hit different zones (each zone's index leaves the
CPU cache), so points are sorted by bin before pairing. Shapely releases the GIL, so
the pairs are split over threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["ZoneBins", "lowest_zone"]

_MAX_BINS = 1 << 22
_BATCH = 1 << 16            # points per batch: small temporaries (see zone_index)
_TESTS_PER_VERTEX = 6       # see _prepare_busy
_MIN_PAIRS_PER_THREAD = 20_000


@dataclass(frozen=True)
class ZoneBins:
    """Zones binned by bounding box: bin ``b`` holds ``zone[start[b]:start[b + 1]]``."""

    geoms: np.ndarray
    ranks: np.ndarray       # int64 rank of each geometry's zone id
    bounds: np.ndarray      # (n, 4) xmin, ymin, xmax, ymax of each geometry
    origin: np.ndarray
    side: float
    shape: tuple            # (rows, cols) of the bin grid
    start: np.ndarray
    zone: np.ndarray

    @classmethod
    def build(cls, geoms: np.ndarray, ranks: np.ndarray) -> ZoneBins:
        """Bin ``geoms`` (with their ranks) by bounding box."""
        bounds = shapely.bounds(geoms).reshape(-1, 4)
        if np.isnan(bounds).all():  # no zone, or only empty ones: one empty bin
            return cls(geoms, np.asarray(ranks, dtype="int64"), bounds, np.zeros(2), 1.0,
                       (1, 1), np.zeros(2, dtype="int64"), np.empty(0, dtype="int64"))
        low, high = np.nanmin(bounds[:, :2], axis=0), np.nanmax(bounds[:, 2:], axis=0)
        extent = np.maximum(high - low, 1e-9)
        side = float(max(np.sqrt(extent[0] * extent[1] / len(geoms)),
                         np.sqrt(extent[0] * extent[1] / _MAX_BINS), extent.max() / 4096))
        shape = (int(extent[1] // side) + 1, int(extent[0] // side) + 1)
        empty = np.isnan(bounds).any(axis=1)  # an empty geometry holds no point
        first = np.floor((np.where(empty[:, None], low, bounds[:, :2]) - low) / side)
        last = np.floor((np.where(empty[:, None], low, bounds[:, 2:]) - low) / side)
        first, last = first.astype("int64"), last.astype("int64")
        cols = np.where(empty, 0, last[:, 0] - first[:, 0] + 1)
        rows = last[:, 1] - first[:, 1] + 1
        owner = np.repeat(np.arange(len(geoms)), cols * rows)
        step = np.arange(len(owner)) - np.repeat(np.cumsum(cols * rows) - cols * rows,
                                                 cols * rows)
        row = first[owner, 1] + step // cols[owner]
        col = first[owner, 0] + step % cols[owner]
        key = row * shape[1] + col
        ranks = np.asarray(ranks, dtype="int64")
        order = np.argsort(key * (ranks.max() + 1) + ranks[owner])  # by bin, then rank
        start = np.searchsorted(key[order], np.arange(shape[0] * shape[1] + 1))
        return cls(geoms, ranks, bounds, low, side, shape, start, owner[order])

    def bin_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bin of each point, or -1 off the grid (and for NaN coordinates)."""
        with np.errstate(invalid="ignore"):
            col = np.floor((x - self.origin[0]) / self.side)
            row = np.floor((y - self.origin[1]) / self.side)
        ok = (col >= 0) & (col < self.shape[1]) & (row >= 0) & (row < self.shape[0])
        return np.where(ok, row * self.shape[1] + col, -1).astype("int64")


def _pairs(bins: ZoneBins, x, y, point_bin):
    """Return (point, zone) pairs whose zone box holds the point, grouped by point."""
    valid = np.flatnonzero(point_bin >= 0)
    first = bins.start[point_bin[valid]]
    counts = bins.start[point_bin[valid] + 1] - first
    point = np.repeat(valid, counts)
    offset = np.arange(len(point)) - np.repeat(np.cumsum(counts) - counts, counts)
    zone = bins.zone[np.repeat(first, counts) + offset]
    box = bins.bounds[zone]
    px, py = x[point], y[point]
    keep = (box[:, 0] <= px) & (px <= box[:, 2]) & (box[:, 1] <= py) & (py <= box[:, 3])
    return point[keep], zone[keep]


def _intersects(geoms, x, y, pool, threads: int) -> np.ndarray:
    parts = max(1, min(threads, len(x) // _MIN_PAIRS_PER_THREAD))
    if parts == 1:
        return shapely.intersects_xy(geoms, x, y)
    cuts = np.linspace(0, len(x), parts + 1).astype("int64")
    spans = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    return np.concatenate(list(pool.map(
        lambda s: shapely.intersects_xy(geoms[s], x[s], y[s]), spans)))


def _worth_preparing(bins: ZoneBins, point_bin) -> np.ndarray:
    # A prepared zone answers ~4x faster but costs ~0.1 us per vertex to build: worth
    # it for the zones tested often enough (measured: ~30 tests at 200 vertices, about
    # 1 per 6 vertices, for any size). Tests are bounded by the points in its bins.
    per_bin = np.bincount(point_bin[point_bin >= 0], minlength=len(bins.start) - 1)
    tests = np.bincount(bins.zone, weights=np.repeat(per_bin, np.diff(bins.start)),
                        minlength=len(bins.geoms))
    return tests * _TESTS_PER_VERTEX >= shapely.get_num_coordinates(bins.geoms)


class _Prepared:
    """Zones prepared while the points, sorted by bin, sweep over them; each zone is
    released after its last bin, so that only a band of indexes is held at a time."""

    def __init__(self, bins: ZoneBins, point_bin, pool, threads: int):
        self.bins, self.pool, self.threads = bins, pool, threads
        self.worth = _worth_preparing(bins, point_bin)
        self.ours = ~shapely.is_prepared(bins.geoms)  # the caller's stay prepared
        self.ready = np.zeros(len(bins.geoms), dtype=bool)
        entry_bin = np.repeat(np.arange(len(bins.start) - 1), np.diff(bins.start))
        self.last_bin = np.full(len(bins.geoms), -1, dtype="int64")
        np.maximum.at(self.last_bin, bins.zone, entry_bin)

    def before(self, zone) -> None:
        """Prepare the zones of this batch worth it, and build their indexes."""
        new = np.unique(zone)
        new = new[~self.ready[new]]
        shapely.prepare(self.bins.geoms[new[self.worth[new]]])
        new = new[shapely.is_prepared(self.bins.geoms[new])]
        self.ready[new] = True
        # GEOS builds a prepared zone's index on its first test, and two threads doing
        # so at once crashed the process (double free): one test per new zone, each
        # zone in one thread, builds them before the threads share zones.
        corner = self.bins.bounds[new]
        list(self.pool.map(lambda part: shapely.intersects_xy(
            self.bins.geoms[new[part]], corner[part, 0], corner[part, 1]),
            np.array_split(np.arange(len(new)), self.threads)))

    def after(self, next_bin: int) -> None:
        """Release the zones we prepared whose bins all come before ``next_bin``."""
        done = np.flatnonzero(self.ready & self.ours & (self.last_bin < next_bin))
        shapely.destroy_prepared(self.bins.geoms[done])
        self.ready[done] = False


def _lowest_in_batch(bins: ZoneBins, x, y, point_bin, n_zones, prepared: _Prepared):
    point, zone = _pairs(bins, x, y, point_bin)  # by point, then by rank
    prepared.before(zone)
    best = np.full(len(x), n_zones, dtype="int32")
    # Candidates go in rank order, so a point's first hit is its answer: each round
    # tests the next candidate of the points still unresolved (1.6 tests a point on
    # IRIS-like zones instead of 2.2).
    todo = np.flatnonzero(np.append(len(point) > 0, point[1:] != point[:-1]))
    while len(todo):
        hit = _intersects(bins.geoms[zone[todo]], x[point[todo]], y[point[todo]],
                          prepared.pool, prepared.threads)
        best[point[todo[hit]]] = bins.ranks[zone[todo[hit]]]
        missed = todo[~hit]
        following = np.minimum(missed + 1, len(point) - 1)
        todo = following[(missed + 1 < len(point)) & (point[following] == point[missed])]
    return best


def lowest_zone(bins: ZoneBins, x: np.ndarray, y: np.ndarray, n_zones: int, *,
                threads: int = 2) -> np.ndarray:
    """Return, per point, the lowest rank of the zones it intersects, or ``n_zones``.

    Parameters
    ----------
    bins : ZoneBins
        The zones and their ranks.
    x, y : numpy.ndarray of float64
        The points; NaN coordinates intersect nothing.
    n_zones : int
        Number of distinct ranks, the answer for a point in no zone.
    threads : int, default 2
        Threads running shapely's tests.

    Returns
    -------
    numpy.ndarray of int32
    """
    point_bin = bins.bin_of(x, y)
    # Points of one bin are tested one after the other against the same few zones:
    # shapely is several times faster when a zone's index stays in the CPU cache.
    order = np.argsort(point_bin)
    x, y, point_bin = x[order], y[order], point_bin[order]
    next_bin = np.append(point_bin, np.iinfo("int64").max)
    best = np.empty(len(x), dtype="int32")
    with ThreadPoolExecutor(threads) as pool:
        prepared = _Prepared(bins, point_bin, pool, threads)
        try:
            for i in range(0, len(x), _BATCH):
                span = slice(i, i + _BATCH)
                best[order[span]] = _lowest_in_batch(bins, x[span], y[span],
                                                     point_bin[span], n_zones, prepared)
                prepared.after(next_bin[min(i + _BATCH, len(x))])
        finally:
            prepared.after(np.iinfo("int64").max)  # the caller's zones as they came
    return best
