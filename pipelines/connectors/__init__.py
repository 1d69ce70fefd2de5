"""Connectors: one module per official file format, each registering its readers.

``get_connector(name)(path, *, working_crs="EPSG:2154", **options)`` reads a file as it
is published and returns a typed, validated frame: points as a pandas DataFrame with
float64 ``x``/``y`` in the working CRS and ``frame.attrs["crs"]``, zones as a
GeoDataFrame. Codes stay text. Anything malformed raises
:class:`pipelines.errors.SourceError` naming the file, the row (the line in the file,
header = line 1, or the feature number in a layer) and the column, never the value.
Within :func:`reading_sensitive_file` (a private or personal card), errors never show a
header line either, nor chain a library's exception (see ``_sensitive``).
"""

from pipelines.connectors._sensitive import reading_sensitive_file
from pipelines.connectors.registry import available_connectors, connector, get_connector

__all__ = ["available_connectors", "connector", "get_connector", "reading_sensitive_file"]
