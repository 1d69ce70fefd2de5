"""The indicator registry: every indicator declared once, in French, beside its formula.

Each demonstrator declares its indicators in `demonstrators/<id>/indicators.yaml`
(adding one means adding lines there, not code). Assets use the registry to pick and check columns, and
the report shows the same definition the code computes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.errors import ConfigError


class Indicator(BaseModel):
    """One indicator as officials read it and as the code computes it."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    definition: str
    unit: str
    kind: Literal["count", "share", "mean", "median", "ratio"]
    formula: str
    zonings: list[Literal["grid", "iris", "commune"]]
    sources: list[str]
    caveats: list[str] = Field(default_factory=list)
    plain: str | None = Field(default=None, description="one line in plain French, read after the value")
    theme: Literal["energy", "mobility", "housing"]

    def bounds(self) -> tuple[float, float | None]:
        """Range a value must lie in, used by the asset checks."""
        return (0.0, 1.0) if self.kind == "share" else (0.0, None)


@lru_cache(maxsize=32)
def load_registry(location: Path) -> dict[str, Indicator]:
    """Every indicator declared in `location` (a YAML file, or a folder of them) by id;
    duplicated ids are an error."""
    location = Path(location)
    if not location.exists():
        raise ConfigError(f"{location}: no indicator registry; declare the demonstrator's indicators there")
    registry: dict[str, Indicator] = {}
    for path in [location] if location.is_file() else sorted(location.glob("*.yaml")):
        for position, entry in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            try:
                indicator = Indicator.model_validate(entry)
            except ValidationError as exc:
                fields = "; ".join(f"'{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
                raise ConfigError(f"{path}: indicator #{position + 1}: {fields}") from None
            if indicator.id in registry:
                raise ConfigError(f"{path}: indicator '{indicator.id}' is declared twice")
            registry[indicator.id] = indicator
    return registry
