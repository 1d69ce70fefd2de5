"""A raster index over the zones: most points are resolved by one array lookup.

The zoning's bounding box is cut into square cells. A cell is *marked* when a zone
boundary may pass through it (conservatively: every boundary segment marks each cell its
bounding box, widened by a millimetre, overlaps). Unmarked cells hold no boundary, so
4-connected regions of them (``scipy.ndimage.label``) lie in one set of zones, found by
one exact test at one point of the region. A point in an unmarked cell takes its
region's zone; only points in marked cells are tested exactly (``_exact``, shapely
against the zones whose box holds them). The answers are therefore those of the exact
test: it decides every point within a cell of a boundary, and no other point can be
decided differently.

The cell side adapts to the zoning: 1/32 of the side of an average zone, with at most
2**26 cells. On 50,000 IRIS-like zones of ~200 vertices about 9 % of the cells are
marked (benchmarks/RESULTS.md). Limitation: the side follows the *average* zone, so
where zones are much smaller than average (town centres of a national zoning) more
points fall to the exact test, which stays correct but is slower.
"""

from __future__ import annotations

import contextlib
import ctypes

import numpy as np
import shapely
from scipy import ndimage

from pipelines.spatial._exact import ZoneBins, lowest_zone

__all__ = ["index_best_zone"]

_MARGIN_M = 1e-3           # widening of each segment's box: far above float rounding
_CELLS_PER_ZONE_SIDE = 32
_MAX_CELLS = 2 ** 26       # 64 M cells: 256 MB for the int32 label grid
# Vertices or points per numpy pass. Measured on the 2-core machine: an operation on
# 10 million floats into a fresh array costs ~20 ns an element (page faults), on 65,536
# ~0.5 ns; so every pass over points or vertices goes in batches of this size, in the
# main thread (other threads' allocators gave memory back and faulted it in again:
# 4x slower).
_BATCH = 1 << 16


def _cell_size(bounds: np.ndarray, n_zones: int) -> float:
    width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
    area = max(width * height, 1.0)
    side = np.sqrt(area / max(n_zones, 1)) / _CELLS_PER_ZONE_SIDE
    return float(max(side, np.sqrt(area / _MAX_CELLS), 100 * _MARGIN_M))


def _split(start: np.ndarray, end: np.ndarray, max_length: float):
    """Cut segments into pieces no longer than ``max_length`` along each axis."""
    delta = end - start
    pieces = np.ceil(np.abs(delta).max(axis=1) / max_length).astype("int64")
    pieces = np.maximum(pieces, 1)
    owner = np.repeat(np.arange(len(start)), pieces)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t0 = (step / pieces[owner])[:, None]
    t1 = ((step + 1) / pieces[owner])[:, None]
    return start[owner] + t0 * delta[owner], start[owner] + t1 * delta[owner]


def _mark_boxes(flat, width, low_x, low_y, high_x, high_y) -> None:
    """Mark the cells of boxes spanning at most 2 x 2 cells, given their corner cells."""
    for col in (low_x, high_x):
        for row in (low_y, high_y):
            flat[row * width + col] = True


def _cells(values, offset, cell, sign):
    return np.floor((values + sign * _MARGIN_M - offset) / cell).astype("int64")


def _mark_part(flat, width, x, y, closes, origin, cell) -> None:
    """Mark the cells of the segments between consecutive vertices (but ``closes``)."""
    # Cells are computed once per vertex; a segment's box runs from the lower to the
    # higher cell of its two ends, at most 2 x 2 cells for a short segment.
    keep = ~closes
    corners = []
    for values, offset in ((x, origin[0]), (y, origin[1])):
        low, high = _cells(values, offset, cell, -1), _cells(values, offset, cell, 1)
        corners += [np.minimum(low[:-1], low[1:])[keep], np.maximum(high[:-1], high[1:])[keep]]
    low_x, high_x, low_y, high_y = corners
    long = ((high_x - low_x) > 1) | ((high_y - low_y) > 1)
    if not long.any():  # the usual case once cells are longer than the segments
        return _mark_boxes(flat, width, low_x, low_y, high_x, high_y)
    short = ~long
    _mark_boxes(flat, width, low_x[short], low_y[short], high_x[short], high_y[short])
    ends = np.flatnonzero(keep)[long]
    p0, p1 = _split(np.column_stack([x[ends], y[ends]]),
                    np.column_stack([x[ends + 1], y[ends + 1]]), cell - 4 * _MARGIN_M)
    low, high = np.minimum(p0, p1), np.maximum(p0, p1)
    _mark_boxes(flat, width, _cells(low[:, 0], origin[0], cell, -1),
                _cells(low[:, 1], origin[1], cell, -1), _cells(high[:, 0], origin[0], cell, 1),
                _cells(high[:, 1], origin[1], cell, 1))


def _ring_ends(geoms, owner) -> np.ndarray:
    """Mark each ring's last vertex in ``shapely.get_coordinates(geoms)`` order."""
    ends = np.append(owner[:-1] != owner[1:], True)
    # Only zones with holes or several parts have rings ending inside them; the
    # coordinates list parts in order, each exterior ring before its holes.
    several = np.flatnonzero((shapely.get_type_id(geoms) == 6)
                             | (shapely.get_num_interior_rings(geoms) > 0))
    if len(several):
        parts, part_owner = shapely.get_parts(geoms[several], return_index=True)
        rings, ring_owner = shapely.get_rings(parts, return_index=True)
        zone = part_owner[ring_owner]
        sizes = shapely.get_num_coordinates(rings)
        before = np.cumsum(sizes) - sizes  # vertices of the earlier rings, all zones
        first_ring = np.searchsorted(zone, zone)  # rings are grouped by zone
        start = np.searchsorted(owner, several)[zone]
        ends[start + before - before[first_ring] + sizes - 1] = True
    return ends


def _mark_zones(flat, width, geoms, origin, cell) -> None:
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return
    x, y = np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1])
    _mark_part(flat, width, x, y, _ring_ends(geoms, owner)[:-1], origin, cell)


def _marked_cells(geoms, origin, cell, shape) -> np.ndarray:
    marked = np.zeros(shape, dtype=bool)
    vertices = np.cumsum(shapely.get_num_coordinates(geoms))
    cuts = np.unique(np.searchsorted(vertices, np.arange(_BATCH, vertices[-1], _BATCH)) + 1)
    for part in np.split(geoms, cuts):
        if len(part):
            _mark_zones(marked.reshape(-1), shape[1], part, origin, cell)
    return marked


def _release_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc only; else a no-op).

    Measured at 10 million points: reading the zones leaves ~450 MB freed but held by
    the heap, and the label grid (4 bytes a cell) came on top of it, raising the peak
    memory by its whole size."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _grid(geoms, cell_size):
    bounds = shapely.total_bounds(geoms)
    cell = cell_size or _cell_size(bounds, len(geoms))
    origin = bounds[:2] - cell  # one empty cell of margin around the zoning
    shape = (int((bounds[3] - origin[1]) // cell) + 2, int((bounds[2] - origin[0]) // cell) + 2)
    return origin, cell, shape


def _regions_into(out, regions, origin, cell, x, y) -> None:
    with np.errstate(invalid="ignore"):
        col = np.floor((x - origin[0]) / cell)
        row = np.floor((y - origin[1]) / cell)
    rows, cols = regions.shape
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    flat = np.where(inside, row * cols + col, 0).astype("int64")
    np.copyto(out, np.where(inside, regions.reshape(-1)[flat], -1))


def _point_regions(regions, origin, cell, x, y) -> np.ndarray:
    """Region of each point's cell: 0 for a marked cell, -1 off the grid or NaN."""
    region = np.empty(len(x), dtype="int32")
    for i in range(0, len(x), _BATCH):
        _regions_into(region[i:i + _BATCH], regions, origin, cell, x[i:i + _BATCH],
                      y[i:i + _BATCH])
    return region


def _probes_and_exact(region, n_regions):
    """Position of one point of each region (-1 if none), and of the points in marked
    cells."""
    probe = np.full(n_regions + 1, -1, dtype="int64")
    exact = [np.empty(0, dtype="int64")]
    for start in range(0, len(region), _BATCH):
        part = region[start:start + _BATCH]
        free = np.flatnonzero(part > 0)
        new = free[probe[part[free]] < 0]
        probe[part[new]] = new + start  # any point of a region will do
        exact.append(np.flatnonzero(part == 0) + start)
    return probe[1:], np.concatenate(exact)


def _ranks_into(region, region_rank) -> np.ndarray:
    """Replace, in place, each point's region by its zone rank."""
    for start in range(0, len(region), _BATCH):
        part = region[start:start + _BATCH]
        part[:] = region_rank[part + 1]  # slot 0 is for -1, off the grid
    return region


def index_best_zone(geoms: np.ndarray, ranks: np.ndarray, x: np.ndarray, y: np.ndarray,
                    n_zones: int, *, cell_size: float | None = None,
                    threads: int = 2) -> np.ndarray:
    """Return, per point, the lowest rank of the zones it intersects, or ``n_zones``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely (Multi)Polygons
        The zones, in a projected CRS in metres.
    ranks : numpy.ndarray of int
        Rank of each geometry's zone id (several geometries may share one).
    x, y : numpy.ndarray of float64
        The points.
    n_zones : int
        Number of distinct ranks.
    cell_size : float, optional
        Side of the index cells, in metres; adapted to the zoning when omitted.
    threads : int, default 2
        Threads for the exact tests.

    Returns
    -------
    numpy.ndarray of int32
        Same answer as ``_exact.lowest_zone`` on every point (asserted by a property
        test).
    """
    if len(geoms) == 0 or len(x) == 0:
        return np.full(len(x), n_zones, dtype="int32")
    origin, cell, shape = _grid(geoms, cell_size)
    free = _marked_cells(geoms, origin, cell, shape)
    np.logical_not(free, out=free)
    _release_freed_memory()
    regions, n_regions = ndimage.label(free)
    del free
    region = _point_regions(regions, origin, cell, x, y)
    del regions
    probe, exact = _probes_and_exact(region, n_regions)
    found = probe >= 0
    # One exact pass for both: a point of each region, and the points in marked cells.
    tested = np.concatenate([probe[found], exact])
    answers = lowest_zone(ZoneBins.build(geoms, ranks), x[tested], y[tested], n_zones,
                          threads=threads)
    region_rank = np.full(n_regions + 2, n_zones, dtype="int32")  # slot 0: off the grid
    region_rank[2:][found] = answers[:found.sum()]
    best = _ranks_into(region, region_rank)
    best[exact] = answers[found.sum():]
    return best
