"""Whether the file being read is private or personal, so that no error can show its data.

Connectors do not know a file's sensitivity; its source card does. The reader of a card
(``pipelines.assets.sources.read_source``) wraps the connector call in
:func:`reading_sensitive_file` for a private or personal card. While it is set:

- an error names a column only by a name the card or the connector expects, never by a
  name read from the file: a file whose header line is missing has a data row where its
  header should be (a meter number, an address, coordinates);
- header lines are never listed; errors give the expected names and the number of fields;
- a library's exception is never chained to ours (``raise ... from`` :func:`library_cause`):
  Dagster stores the whole chain, cause and context, in its event log, and pandas,
  pyarrow or codecs messages quote the offending row or bytes.

Outside it (public files, a connector called directly), errors may list a header, which
helps to map renamed columns. Row numbers, column names and fixes are given either way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["reading_sensitive_file", "is_sensitive", "library_cause", "shown_column"]

_SENSITIVE: ContextVar[bool] = ContextVar("datacites_sensitive_file", default=False)


@contextmanager
def reading_sensitive_file(sensitive: bool = True) -> Iterator[None]:
    """Within this block, connectors treat the file they read as private or personal."""
    token = _SENSITIVE.set(sensitive)
    try:
        yield
    finally:
        _SENSITIVE.reset(token)


def is_sensitive() -> bool:
    """Whether the file being read is private or personal."""
    return _SENSITIVE.get()


def library_cause(error: BaseException) -> BaseException | None:
    """What to chain a project error to: the library's error for a public file, nothing
    for a sensitive one (use as ``raise SourceError(...) from library_cause(error)``)."""
    return None if is_sensitive() else error


def shown_column(name: str, expected: Collection[str]) -> str | None:
    """A column name read from the file, as an error may show it: always for a public
    file; for a sensitive one only when it is one of the ``expected`` names."""
    return name if not is_sensitive() or name in expected else None
