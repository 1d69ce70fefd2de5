"""Dagster component types of datacites: `Demonstrator`, one per `demonstrators/<id>/`."""

from pipelines.components.demonstrator import Demonstrator

__all__ = ["Demonstrator"]
