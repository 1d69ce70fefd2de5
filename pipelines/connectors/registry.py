"""Registry of connectors: one reader per official file format, found by name.

A module of this package registers its readers with :func:`connector`;
:func:`get_connector` imports every module of the package once (``pkgutil``), so adding
a format means adding a file, never editing a central list.

A reader has the signature ``read(path, *, working_crs="EPSG:2154", **options)``; the
options come from the ``options:`` mapping of a source card. The callable returned by
:func:`get_connector` checks the option names against the reader's signature, so a typo
in a card fails with the list of the options the format accepts.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from typing import Callable

from pipelines.errors import ConfigError

__all__ = ["connector", "get_connector", "available_connectors"]

Reader = Callable[..., object]

_READERS: dict[str, Reader] = {}
_LOADED = False


def connector(name: str) -> Callable[[Reader], Reader]:
    """Register a reader under a format name.

    Parameters
    ----------
    name : str
        Format name used in source cards (``format: dpe``).

    Returns
    -------
    callable
        A decorator that registers the reader and returns it unchanged.

    Raises
    ------
    ConfigError
        If another reader already holds the name.
    """

    def register(reader: Reader) -> Reader:
        known = _READERS.get(name)
        if known is not None and _qualname(known) != _qualname(reader):
            raise ConfigError(f"connector '{name}' is registered twice: by {_qualname(known)} "
                              f"and by {_qualname(reader)}; rename one of them.")
        _READERS[name] = reader
        return reader

    return register


def _qualname(reader: Reader) -> str:
    return f"{reader.__module__}.{reader.__qualname__}"


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    _LOADED = True


def available_connectors() -> list[str]:
    """Return the sorted names of every registered format."""
    _load_all()
    return sorted(_READERS)


def get_connector(name: str) -> Reader:
    """Return the reader of a format, checking option names on each call.

    Parameters
    ----------
    name : str
        Format name, e.g. ``"dpe"``, ``"gtfs"``, ``"iris"``.

    Returns
    -------
    callable
        ``read(path, *, working_crs="EPSG:2154", **options)``.

    Raises
    ------
    ConfigError
        If no connector has this name (the message lists the known ones), or, when the
        reader is called, if an option is not one the reader accepts.
    """
    _load_all()
    reader = _READERS.get(name)
    if reader is None:
        raise ConfigError(f"unknown connector '{name}'; known connectors: "
                          f"{', '.join(available_connectors())}. Fix `format:` in the source card.")
    return _checking_options(name, reader)


def _checking_options(name: str, reader: Reader) -> Reader:
    parameters = inspect.signature(reader).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    allowed = sorted(p.name for p in parameters.values() if p.kind is p.KEYWORD_ONLY)

    @functools.wraps(reader)
    def read(path, **options):
        unknown = sorted(set(options) - set(allowed))
        if unknown and not accepts_any:
            raise ConfigError(f"connector '{name}' does not accept option(s) {', '.join(unknown)}; "
                              f"it accepts: {', '.join(allowed)}. Fix `options:` in the source card.")
        return reader(path, **options)

    return read
