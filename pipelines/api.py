"""The public API of datacites for demonstrator code: the only module of `pipelines` a
demonstrator's functions may import (import-linter enforces it, see pyproject.toml).

Everything here is a pure function of frames, or a type: crossing operations, protected
aggregates as published columns, headline and sentence helpers, French formatting, and
the typed context every step receives as ``ctx``.
"""

from pipelines.catalogue.context import StepContext
from pipelines.connectors.dvf import mutations as dvf_mutations
from pipelines.indicators.text import crossing_sentence, headline
from pipelines.privacy.statistics import protected_cells, protected_value
from pipelines.report.formatting import format_fr
from pipelines.spatial import (
    PointAssignment,
    aggregate_points,
    assign_points_to_zones,
    cell_polygons,
    check_crs,
    grid_cell_ids,
    interpolate_area_weighted,
    parse_cell_ids,
)

__all__ = [
    "StepContext", "PointAssignment", "aggregate_points", "assign_points_to_zones", "cell_polygons",
    "check_crs", "crossing_sentence", "dvf_mutations", "format_fr", "grid_cell_ids", "headline",
    "interpolate_area_weighted", "parse_cell_ids", "protected_cells", "protected_value",
]
