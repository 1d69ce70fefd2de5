"""What a demonstrator's functions may know besides their input frames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.catalogue.models import DEFAULT_ZONINGS, Demonstrator, SourceCard, Territory
from pipelines.errors import PrivacyError


def lacks_zoning(territory: Territory, zoning: str | None) -> bool:
    """Whether the territory lacks the source of a zoning (e.g. no IRIS contours: the
    demonstrator publishes per commune only)."""
    return zoning in DEFAULT_ZONINGS and territory.absent(DEFAULT_ZONINGS[zoning])


@dataclass(frozen=True)
class StepContext:
    """The typed context passed as ``ctx`` to every step of a demonstrator.

    It never holds a personal source card: knowing where a personal file lies is the
    first step to reading it behind its anonymiser's back. Build it with :meth:`build`,
    which leaves those cards out.
    """

    demonstrator: Demonstrator
    territory: Territory
    sources: Mapping[str, SourceCard]
    registry: Mapping[str, Any]
    absent: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        personal = sorted(key for key, card in self.sources.items() if card.sensitivity == "personal")
        if personal:
            raise PrivacyError(f"a demonstrator's context may not hold personal source cards ({personal}); "
                               "build it with StepContext.build, which leaves them out")

    @classmethod
    def build(cls, demonstrator: Demonstrator, territory: Territory, sources: Mapping[str, SourceCard],
              registry: Mapping[str, Any]) -> StepContext:
        """The context of `demonstrator`, without the personal cards of `sources`; `absent`
        names the optional sources of the demonstrator the territory does not have."""
        visible = {key: card for key, card in sources.items() if card.sensitivity != "personal"}
        absent = frozenset(s for s in demonstrator.sources if territory.absent(s))
        # Nor where the territory keeps any file: its data folder and its file overrides.
        seen = territory.model_copy(update={
            "data_dir": ".", "files": {}, "sources": {k: o.model_copy(update={"file": None, "options": None})
                                                      for k, o in territory.sources.items() if k in visible}})
        return cls(demonstrator, seen, visible, registry, absent)

    def has(self, source_id: str) -> bool:
        """Whether the territory brings this source (an optional one may be absent)."""
        return source_id not in self.absent

    @property
    def params(self) -> dict[str, Any]:
        return self.demonstrator.params
