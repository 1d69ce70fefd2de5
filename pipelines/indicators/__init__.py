"""Indicator registry."""

from pipelines.indicators.registry import Indicator, load_registry

__all__ = ["Indicator", "load_registry"]
