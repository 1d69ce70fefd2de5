"""Which territory the components being loaded build their assets for.

Dagster's loader calls each component's `build_defs` with no argument of ours; the
territory is chosen by whoever builds the Definitions (`build_definitions(territory)`),
or by `DATACITES_TERRITORY` when Dagster loads the code location itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pipelines import config

_TERRITORY: ContextVar[str | None] = ContextVar("datacites_territory", default=None)


@contextmanager
def territory_scope(territory_id: str) -> Iterator[None]:
    """Build every component loaded inside this block for `territory_id`."""
    token = _TERRITORY.set(territory_id)
    try:
        yield
    finally:
        _TERRITORY.reset(token)


def current_territory_id() -> str:
    return _TERRITORY.get() or config.DEFAULT_TERRITORY
