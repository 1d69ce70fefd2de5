"""Sensitivity as part of the asset graph (DESIGN.md decision 3).

Levels are ordered public < aggregated < private < personal. An asset takes the highest
level of its inputs; only an anonymiser (personal) or a business-data suppressor
(private) may lower it, to `aggregated`. A personal asset has exactly one consumer, its
anonymiser; only public and aggregated assets may be published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg

from pipelines.config import SENSITIVITY_LEVELS
from pipelines.errors import ConfigError

TAG = "datacites/sensitivity"
ROLE_TAG = "datacites/role"          # "anonymiser", "suppressor" or "publisher"
PUBLISHABLE = ("public", "aggregated")


def highest(levels: Iterable[str]) -> str:
    """The most sensitive of `levels` (public when there is none)."""
    ranks = [SENSITIVITY_LEVELS.index(level) for level in levels]
    return SENSITIVITY_LEVELS[max(ranks, default=0)]


def inherited(own: str | None, inputs: Iterable[str], role: str | None) -> str:
    """Level of an asset: its inputs' highest, lowered to aggregated by the privacy roles."""
    level = highest([*inputs, *([own] if own else [])])
    if role == "anonymiser" and level == "personal" or role == "suppressor" and level == "private":
        return "aggregated"
    return level


def _specs(assets: Iterable[dg.AssetsDefinition | dg.AssetSpec]) -> list[dg.AssetSpec]:
    specs: list[dg.AssetSpec] = []
    for item in assets:
        specs.extend([item] if isinstance(item, dg.AssetSpec) else item.specs)
    return specs


def check_graph(assets: Iterable[dg.AssetsDefinition | dg.AssetSpec]) -> Mapping[dg.AssetKey, str]:
    """Verify the privacy rules of the graph and return each asset's level.

    Raises
    ------
    ConfigError
        When an asset other than its anonymiser reads a personal asset, when a personal
        asset has more than one consumer, when an asset lowers its level without a
        privacy role, or when a publisher reads something that is not publishable.
    """
    specs = {spec.key: spec for spec in _specs(assets)}
    levels = {key: spec.tags.get(TAG, "public") for key, spec in specs.items()}
    for key, spec in specs.items():
        role = spec.tags.get(ROLE_TAG)
        for dep in spec.deps:
            _check_edge(dep.asset_key, key, levels.get(dep.asset_key, "public"), role, levels[key])
    _check_single_consumer(specs, levels)
    return levels


def _check_edge(upstream: dg.AssetKey, downstream: dg.AssetKey, up_level: str, role: str | None,
                down_level: str) -> None:
    up, down = upstream.to_user_string(), downstream.to_user_string()
    if up_level == "personal" and role != "anonymiser":
        raise ConfigError(
            f"asset '{down}' reads the personal asset '{up}', but only its anonymiser may: "
            f"read the anonymised aggregates produced from '{up}' instead, or declare an "
            "`anonymisation:` section in the source card so the framework builds the anonymiser")
    expected = inherited(None, [up_level], role)
    if SENSITIVITY_LEVELS.index(down_level) < SENSITIVITY_LEVELS.index(expected):
        raise ConfigError(
            f"asset '{down}' is tagged '{down_level}' but reads '{up}' ({up_level}); only an "
            "anonymiser or a business-data suppressor may lower sensitivity")
    if role == "publisher" and up_level not in PUBLISHABLE:
        raise ConfigError(f"asset '{down}' would publish '{up}', which is {up_level}; only public "
                          "and aggregated assets may be published")


def _check_single_consumer(specs: Mapping[dg.AssetKey, dg.AssetSpec], levels: Mapping[dg.AssetKey, str]) -> None:
    consumers: dict[dg.AssetKey, list[dg.AssetKey]] = {}
    for key, spec in specs.items():
        for dep in spec.deps:
            consumers.setdefault(dep.asset_key, []).append(key)
    for key, readers in consumers.items():
        if levels.get(key) == "personal" and len(readers) > 1:
            names = ", ".join(sorted(r.to_user_string() for r in readers))
            raise ConfigError(f"personal asset '{key.to_user_string()}' has several consumers ({names}); "
                              "it may have exactly one, its anonymiser")
