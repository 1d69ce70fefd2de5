"""Source cards, territories and demonstrators: models and loading."""

from pipelines.catalogue.context import StepContext
from pipelines.catalogue.load import (
    load_card,
    load_sources,
    load_territory,
    source_path,
    territory_ids,
    territory_sources,
)
from pipelines.catalogue.models import Demonstrator, SourceCard, Territory

__all__ = ["Demonstrator", "SourceCard", "StepContext", "Territory", "load_card", "load_sources",
           "load_territory", "source_path", "territory_ids", "territory_sources"]
