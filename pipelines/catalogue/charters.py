"""Sharing charters: the rules a source's terms of use set on the demonstrators using it.

No Dagster here. A charter (`charter:` of a source card, or of a territory's override;
model `catalogue.models.Charter`) says who may use the data, for what purpose, at which
aggregation it may be published, until when, and under which licence. This module
decides, from the cards alone:

- which sources reach each published table (`reaching_sources`: the registry's
  indicator `sources:` of the table's zoning);
- every clause a demonstrator breaks (`charter_problems`): a purpose the charter does
  not allow, a table finer than its `min_zoning`, licences that cannot be combined;
- the licence of an output and the credits it carries (`output_licence`);
- whether data is past its retention (`retention_problem`), against `today()`, which
  `DATACITES_TODAY=YYYY-MM-DD` sets (tests, or replaying a past day).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from pipelines.catalogue.models import OPEN_LICENCES, ZONING_ORDER, Bilateral, Charter, SourceCard
from pipelines.errors import ConfigError

LICENCE_OUVERTE, ODBL, CC_BY = OPEN_LICENCES
TODAY_VARIABLE = "DATACITES_TODAY"
# A public card's free-text licence, recognised by these words (a real territory's
# override writes e.g. "ODbL 1.0" or "Open Database License (ODbL)").
_WORDS = ((re.compile(r"odbl|open database licen[cs]e", re.I), ODBL),
          (re.compile(r"cc[- ]by(?![- ]?(sa|nc|nd))", re.I), CC_BY),
          (re.compile(r"licence ouverte|open licen[cs]e|etalab", re.I), LICENCE_OUVERTE))


class CharterError(ConfigError):
    """A charter's clause a demonstrator or a run breaks: names the source, the clause and the output."""


def licence_of(card: SourceCard) -> str | Bilateral | None:
    """The licence under which a source is used: its charter's, else its card's when it is
    an open licence (None: a licence the project does not know, which never relicenses
    an output)."""
    if card.charter is not None:
        return card.charter.licence
    for words, licence in _WORDS:
        if words.search(card.licence):
            return licence
    return None


def attribution_of(card: SourceCard) -> str:
    return card.charter.attribution if card.charter is not None else card.attribution


def output_licence(cards: Iterable[SourceCard], *, output: str | None = None) -> tuple[str, list[str]]:
    """The licence of an output built from `cards`, and the attributions it must carry.

    ODbL anywhere gives ODbL 1.0 (share-alike propagates). Otherwise Licence Ouverte 2.0,
    which is compatible with CC-BY 4.0 (every attribution is listed). A bilateral
    agreement reaches outputs only aggregated (see `charter_problems`) and changes the
    licence only through its `output_licence:`. Raises `CharterError` naming the source,
    the clause and `output` when the licences cannot be combined.
    """
    cards = list(cards)
    where = f" in output '{output}'" if output else ""
    odbl = [c.id for c in cards if licence_of(c) == ODBL]
    imposed: dict[str, str] = {}
    for card in cards:
        charter = card.charter
        if charter is None or not isinstance(charter.licence, Bilateral):
            continue
        name = charter.licence.bilateral
        if odbl and not charter.share_alike:
            raise CharterError(f"source '{card.id}': clause share_alike: false of its charter ('{name}') forbids "
                               f"publishing its data under a share-alike licence, but {odbl} (ODbL 1.0) make"
                               f"{'s' if len(odbl) == 1 else ''} the output ODbL{where}. Fix: leave one of them out "
                               "of this output, or renegotiate the agreement")
        if charter.output_licence is not None:
            imposed[card.id] = charter.output_licence
    if odbl:
        wrong = {s: x for s, x in imposed.items() if x != ODBL}
        if wrong:
            source, licence = next(iter(wrong.items()))
            raise CharterError(f"source '{source}': clause output_licence of its charter requires {licence}, but "
                               f"{odbl} (ODbL 1.0) make the output ODbL (share-alike){where}. Fix: leave one of them "
                               "out of this output, or renegotiate the agreement")
        licence = ODBL
    elif len(set(imposed.values())) > 1:
        raise CharterError(f"sources {sorted(imposed)}: their charters' output_licence clauses differ "
                           f"({', '.join(f'{s}: {x}' for s, x in sorted(imposed.items()))}){where}. Fix: publish "
                           "them in different outputs, or align the agreements")
    else:
        licence = next(iter(imposed.values()), LICENCE_OUVERTE)
    return licence, list(dict.fromkeys(attribution_of(card) for card in cards))


def reaching_sources(demo, registry: Mapping, zoning: str, territory=None) -> list[str]:
    """The sources whose data reaches the table of `zoning`: those of every indicator the
    registry computes on it; for a territory, those it lacks replaced by their
    alternatives (and an optional source it lacks reaches nothing)."""
    used = demo.used_sources(territory) if territory is not None else list(demo.sources)
    found: list[str] = []
    for indicator in demo.indicators:
        if zoning not in registry[indicator].zonings:
            continue
        for source in registry[indicator].sources:
            if territory is not None and territory.absent(source) and source in demo.alternatives:
                found += demo.alternatives[source].sources
            else:
                found.append(source)
    return [s for s in dict.fromkeys(found) if s in used]


def charter_problems(demo, registry: Mapping, cards: Mapping[str, SourceCard], territory=None) -> list[str]:
    """Every charter clause `demo` breaks with these cards (as `territory` sees them, when
    given): each message names the source, the clause and the output."""
    used = demo.used_sources(territory) if territory is not None else list(demo.sources)
    problems = []
    for source in used:
        card = cards[source]
        if card.charter is None and card.sensitivity != "public":
            problems.append(f"source '{source}' ({card.sensitivity}) has no charter: its data can only be brought "
                            f"into demonstrator '{demo.id}' under one. Fix: add `charter:` to sources/{source}.yaml "
                            "(or to the territory's sources." + source + ")")
        elif card.charter is not None and demo.purpose not in card.charter.purposes:
            problems.append(f"source '{source}': clause purposes of its charter allows {card.charter.purposes}, not "
                            f"demonstrator '{demo.id}''s purpose '{demo.purpose}'. Fix: leave the source out of "
                            "the demonstrator, or have the agreement cover that purpose")
    for zoning in demo.published_steps():
        output = f"{demo.id}_{zoning}"
        reaching = reaching_sources(demo, registry, zoning, territory)
        for source in reaching:
            charter = cards[source].charter
            if charter is not None and ZONING_ORDER[zoning] < ZONING_ORDER[charter.min_zoning]:
                problems.append(f"source '{source}': clause min_zoning: {charter.min_zoning} of its charter forbids "
                                f"output '{output}' ({zoning} is finer). Fix: remove '{source}' from the sources of "
                                f"the indicators published per {zoning}, or stop publishing that table")
        try:
            output_licence([cards[s] for s in reaching], output=output)
        except CharterError as error:
            problems.append(str(error))
    return problems


def today() -> dt.date:
    """Today, or the day `DATACITES_TODAY=YYYY-MM-DD` says (tests set it, never the clock)."""
    value = os.environ.get(TODAY_VARIABLE)
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else _bad_today()
    except ValueError:
        return _bad_today()


def _bad_today() -> dt.date:
    raise ConfigError(f"{TODAY_VARIABLE} must be a date written YYYY-MM-DD (e.g. 2026-03-02); unset it to use "
                      "today's date")


def retention_problem(card: SourceCard, on: dt.date, file: Path | None = None) -> str | None:
    """Why `card`'s data may no longer be used on day `on` (None while it may): past its
    charter's `until:`, or older than `retention_days` counted from the day its `file`
    was delivered (its modification date)."""
    charter: Charter | None = card.charter
    if charter is None:
        return None
    if charter.until is not None and on > charter.until:
        return (f"source '{card.id}': clause until: {charter.until.isoformat()} of its charter has passed "
                f"(today is {on.isoformat()})")
    if charter.retention_days is not None and file is not None and Path(file).exists():
        delivered = dt.datetime.fromtimestamp(Path(file).stat().st_mtime, dt.timezone.utc).date()
        end = delivered + dt.timedelta(days=charter.retention_days)
        if on > end:
            return (f"source '{card.id}': clause retention_days: {charter.retention_days} of its charter ended on "
                    f"{end.isoformat()} (file delivered {delivered.isoformat()}, today is {on.isoformat()})")
    return None
