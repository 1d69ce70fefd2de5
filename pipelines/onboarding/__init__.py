"""Onboarding a real territory: its card written from the official geography (INSEE's COG)."""

from pipelines.onboarding.cog import Cog, CogCommune, Epci, FormerCommune, load_cog, territory_card, write_territory_card

__all__ = ["Cog", "CogCommune", "Epci", "FormerCommune", "load_cog", "territory_card", "write_territory_card"]
