"""DuckDB engine with the offline spatial extension, and the crossing operations.

Every function checks the CRS of its layers against the territory's (``check_crs``) and
every spatial join is planned by DuckDB as a ``SPATIAL_JOIN`` (tested with EXPLAIN).
"""

from pipelines.spatial.aggregate import aggregate_points
from pipelines.spatial.crs import check_crs
from pipelines.spatial.engine import connect, spatial_extension_path
from pipelines.spatial.grid import cell_polygons, grid_cell_ids, parse_cell_ids
from pipelines.spatial.interpolate import interpolate_area_weighted
from pipelines.spatial.points_to_zones import PointAssignment, assign_points_to_zones

__all__ = [
    "connect", "spatial_extension_path", "check_crs", "assign_points_to_zones",
    "PointAssignment", "aggregate_points", "interpolate_area_weighted", "grid_cell_ids",
    "parse_cell_ids", "cell_polygons",
]
