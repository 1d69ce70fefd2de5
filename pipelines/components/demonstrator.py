"""The `Demonstrator` component type: one folder of `demonstrators/` per demonstrator.

`demonstrators/<id>/defs.yaml` declares it (`type: pipelines.components.Demonstrator`
and `attributes:`), beside its module of pure functions and its `indicators.yaml`.
Dagster's loader (`dg.load_from_defs_folder`, `dg check defs`, `dg list defs`) finds it;
the attributes are then validated by the project's own card model, which knows the
allowed values, and every step's inputs are checked against its function.

Dagster renders each string of a defs.yaml through Jinja's native types ("75056"
becomes the integer 75056): INSEE codes and territory data never go here, they live in
the project's own pydantic-validated territory cards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from pipelines.components.scaffold import DemonstratorScaffolder


class StepSchema(dg.Model):
    """One asset of a demonstrator: a pure function of the assets it names."""

    function: str = Field(description="function of the demonstrator's module")
    inputs: dict[str, str] = Field(default_factory=dict,
                                   description="parameter of the function -> asset (staged_<source>, or a step)")
    description: str = Field(default="", description="one line, shown in the Dagster UI")
    zoning: str | None = Field(default=None, description="iris or commune for a published table; territory")
    kinds: list[str] = Field(default_factory=lambda: ["duckdb", "pandas"])


class AlternativeSchema(dg.Model):
    """Public sources standing in for a source a territory lacks."""

    sources: list[str]
    indicators: list[str]
    adds: str | None = None


@dg.scaffold_with(DemonstratorScaffolder)
class Demonstrator(dg.Component, dg.Model, dg.Resolvable):
    """A demonstrator: the sources it crosses, its steps, the indicators it publishes."""

    id: str = Field(description="the folder's name")
    title: str
    theme: str = Field(description="energy, mobility or housing")
    message: str = Field(description="the main message, one French sentence")
    module: str = Field(description="Python file beside defs.yaml holding the steps' functions")
    purpose: str = Field(default="public_statistics",
                         description="what it is for, allowed by every source's charter: energy_poverty, "
                                     "mobility_planning, housing_policy, public_statistics or research")
    sources: list[str] = Field(description="ids of the source cards it reads")
    optional: dict[str, str] = Field(default_factory=dict,
                                     description="private or personal sources it can do without -> what they add")
    draft: bool = Field(default=False, description="published but not shown on the officials' site")
    alternatives: dict[str, AlternativeSchema] = Field(
        default_factory=dict, description="source -> public sources standing in for it, and what they allow")
    main_indicator: str
    indicators: list[str] = Field(description="ids declared in the folder's indicators.yaml")
    headlines: list[str] = Field(default_factory=list)
    protected: dict[str, str] = Field(default_factory=dict, description="count column -> secrecy rule")
    params: dict[str, Any] = Field(default_factory=dict)
    vocabulary: dict[str, list[str]] = Field(default_factory=dict,
                                             description="free-text column -> the texts it may hold")
    steps: dict[str, StepSchema]
    summary: StepSchema | None = Field(default=None, description="step returning the report's figures")

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from pipelines.components.build import demonstrator_card, demonstrator_defs

        card = demonstrator_card(self.model_dump(exclude_unset=True), Path(context.path) / "defs.yaml")
        return demonstrator_defs(card, context)
