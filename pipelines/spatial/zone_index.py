"""A raster index over the zones: most points are resolved by one array lookup.

The zoning's bounding box is cut into square cells. A cell is *marked* when a zone
boundary may pass through it (conservatively: every boundary segment marks each cell its
bounding box, widened by a millimetre, overlaps). Unmarked cells hold no boundary, so
4-connected regions of them (``scipy.ndimage.label``) lie in one set of zones, found by
one exact test at the centre of one cell per region. A point in an unmarked cell takes
its region's zone; only points in marked cells go through the exact DuckDB join. The
answers are therefore those of the plain join: the exact test decides every point that
is within a cell of a boundary, and no other point can be decided differently.

The cell side adapts to the zoning: 1/32 of the side of an average zone, with at most
2**26 cells (256 MB of labels). On 50,000 IRIS-like zones of ~200 vertices, 9 % of the
cells are marked, and building the index costs 2 to 4 s, so the index pays off from
about a million points (benchmarks/RESULTS.md). Limitation: the side follows the
*average* zone, so where zones are much smaller than average (town centres of a
national zoning) most cells are marked and those points fall back to the exact join;
a second, finer level inside marked cells would fix that.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage

from pipelines.spatial._joins import best_zone

__all__ = ["index_best_zone"]

_MARGIN_M = 1e-3           # widening of each segment's box: far above float rounding
_CELLS_PER_ZONE_SIDE = 32
_MAX_CELLS = 2 ** 26       # 64 M cells: 256 MB for the int32 label grid
_CHUNK = 1 << 18           # boundary segments processed at a time


def _cell_size(bounds: np.ndarray, n_zones: int) -> float:
    width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
    area = max(width * height, 1.0)
    side = np.sqrt(area / max(n_zones, 1)) / _CELLS_PER_ZONE_SIDE
    return float(max(side, np.sqrt(area / _MAX_CELLS), 100 * _MARGIN_M))


def _split(start: np.ndarray, end: np.ndarray, max_length: float):
    """Cut segments longer than ``max_length`` into equal pieces."""
    delta = end - start
    pieces = np.ceil(np.hypot(delta[:, 0], delta[:, 1]) / max_length).astype("int64")
    long = np.flatnonzero(pieces > 1)
    if len(long) == 0:  # the usual case once cells are longer than the segments
        return start, end
    counts = pieces[long]
    owner = np.repeat(long, counts)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    t0 = (step / pieces[owner])[:, None]
    t1 = ((step + 1) / pieces[owner])[:, None]
    short = pieces <= 1
    return (np.concatenate([start[short], start[owner] + t0 * delta[owner]]),
            np.concatenate([end[short], start[owner] + t1 * delta[owner]]))


def _marked_cells(geoms, origin, cell, shape) -> np.ndarray:
    lines = shapely.get_parts(shapely.boundary(geoms))
    coords, line = shapely.get_coordinates(lines, return_index=True)
    marked = np.zeros(shape, dtype=bool)
    # Chunks keep the temporaries small and reused: allocating fresh arrays of ten
    # million segments cost more than the arithmetic on them.
    for first in range(0, max(len(coords) - 1, 0), _CHUNK):
        last = min(first + _CHUNK, len(coords) - 1)
        same = line[first:last] == line[first + 1:last + 1]
        # Pieces shorter than a cell less the margins: each box overlaps <= 2 x 2 cells.
        p0, p1 = _split(coords[first:last][same], coords[first + 1:last + 1][same],
                        cell - 4 * _MARGIN_M)
        low = np.floor((np.minimum(p0, p1) - _MARGIN_M - origin) / cell).astype("int64")
        high = np.floor((np.maximum(p0, p1) + _MARGIN_M - origin) / cell).astype("int64")
        for col in (low[:, 0], high[:, 0]):
            for row in (low[:, 1], high[:, 1]):
                marked[row, col] = True
    return marked


def _representatives(regions: np.ndarray, n_regions: int, origin, cell):
    """Return the centre of one cell (the first in row order) of each region."""
    first = np.zeros(n_regions + 1, dtype="int64")
    width = regions.shape[1]
    rows_per_block = max(1, _CHUNK // width)
    # Blocks from the last to the first, cells in reverse: the last write, which wins,
    # is each region's first cell. Blocks keep the temporaries small.
    for top in range(((regions.shape[0] - 1) // rows_per_block) * rows_per_block, -1,
                     -rows_per_block):
        block = regions[top:top + rows_per_block].ravel()
        cells = np.flatnonzero(block)[::-1]
        first[block[cells]] = cells + top * width
    rows, cols = np.divmod(first[1:], width)
    return origin[0] + (cols + 0.5) * cell, origin[1] + (rows + 0.5) * cell


def index_best_zone(con, geoms: np.ndarray, x: np.ndarray, y: np.ndarray, n_zones: int, *,
                    cell_size: float | None = None) -> np.ndarray:
    """Return, per point, the lowest rank of the zones it intersects, or ``n_zones``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection where ``_joins.load_zones`` created the ``zones`` table from ``geoms``.
    geoms : numpy.ndarray of shapely (Multi)Polygons
        The zones, in the order of the table, in a projected CRS in metres.
    x, y : numpy.ndarray of float64
        The points.
    n_zones : int
        Number of distinct ranks.
    cell_size : float, optional
        Side of the index cells, in metres; adapted to the zoning when omitted.

    Returns
    -------
    numpy.ndarray of int64
        Same answer as ``_joins.best_zone`` (asserted by a property test).
    """
    if len(geoms) == 0 or len(x) == 0:
        return np.full(len(x), n_zones, dtype="int64")
    bounds = shapely.total_bounds(geoms)
    cell = cell_size or _cell_size(bounds, len(geoms))
    origin = bounds[:2] - cell  # one empty cell of margin around the zoning
    shape = (int((bounds[3] - origin[1]) // cell) + 2, int((bounds[2] - origin[0]) // cell) + 2)
    regions, n_regions = ndimage.label(~_marked_cells(geoms, origin, cell, shape))
    centre_x, centre_y = _representatives(regions, n_regions, origin, cell)
    with np.errstate(invalid="ignore"):
        col = np.floor((x - origin[0]) / cell)
        row = np.floor((y - origin[1]) / cell)
    inside = np.flatnonzero((col >= 0) & (col < shape[1]) & (row >= 0) & (row < shape[0]))
    region = regions[row[inside].astype("int64"), col[inside].astype("int64")]
    del regions
    exact = inside[region == 0]
    # One join for both: region centres and the points in marked cells (region 0).
    answers = best_zone(con, np.concatenate([centre_x, x[exact]]),
                        np.concatenate([centre_y, y[exact]]), n_zones)
    region_rank = np.concatenate([[-1], answers[:n_regions]])
    best = np.full(len(x), n_zones, dtype="int64")  # NaN or off the grid: no zone
    best[inside] = region_rank[region]
    best[exact] = answers[n_regions:]
    return best
