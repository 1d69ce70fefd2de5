"""Protected aggregates (anonymiser and business suppressor output) as published columns.

The functions live in :mod:`pipelines.privacy.statistics`, which records the protection
of every column they write; this module keeps the indicators' import path.
"""

from pipelines.privacy.statistics import protected_cells, protected_value

__all__ = ["protected_cells", "protected_value"]
