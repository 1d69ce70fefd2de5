"""The DuckDB point-in-zone join shared by both paths of ``assign_points_to_zones``.

Private to the package. The join is a bare ``ST_Intersects`` in an INNER join so that
DuckDB plans a ``SPATIAL_JOIN`` (an R-tree over the zones): ``= true``, OR, or an AND'ed
equality fall back to a nested loop or a hash join plus filter (DESIGN.md, traps).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyarrow as pa
import shapely

JOIN_SQL = """
SELECT p.pid, z.zrank
FROM points AS p
JOIN zones AS z ON ST_Intersects(z.geom, ST_Point(p.x, p.y))
"""


def load_zones(con, zones: gpd.GeoDataFrame, zone_id: str) -> np.ndarray:
    """Create the ``zones`` table (rank, geometry); return the sorted distinct zone ids.

    A zone's rank is its id's position in string order, so ``min(rank)`` is the lowest
    id, the tie rule for points on a shared boundary.
    """
    codes, ranks = np.unique(zones[zone_id].astype("str").to_numpy(dtype=object),
                             return_inverse=True)
    con.register("zones_in", pa.table({
        "zrank": ranks.astype("int32"),
        "wkb": shapely.to_wkb(np.asarray(zones.geometry.array))}))
    con.execute("CREATE TEMP TABLE zones AS "
                "SELECT zrank, ST_GeomFromWKB(wkb) AS geom FROM zones_in")
    con.unregister("zones_in")
    return codes


def load_points(con, x: np.ndarray, y: np.ndarray) -> None:
    """(Re)create the ``points`` table; ``pid`` is the position in ``x`` and ``y``."""
    con.register("points_in", pa.table({"pid": np.arange(len(x), dtype="int64"),
                                        "x": x, "y": y}))
    # A table rather than the registered Arrow table: tables are split into row groups
    # of 122,880 rows, one per thread, while a one-chunk Arrow table gets one thread.
    con.execute("CREATE OR REPLACE TEMP TABLE points AS SELECT * FROM points_in")
    con.unregister("points_in")


def best_zone(con, x: np.ndarray, y: np.ndarray, n_zones: int) -> np.ndarray:
    """Return, per point, the lowest rank of the zones it intersects, or ``n_zones``."""
    load_points(con, x, y)
    pairs = con.execute(JOIN_SQL).fetchnumpy()
    best = np.full(len(x), n_zones, dtype="int64")
    # Most points match one zone; those on shared boundaries keep the smallest rank.
    np.minimum.at(best, pairs["pid"], pairs["zrank"].astype("int64"))
    return best
