"""A few plain-French sentences generated from the figures, reusable in an official's note.

The sentences come from the locale (``narrative`` section) and every number from
:func:`format_fr`, so they always match the charts and tables of the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines.report.formatting import capitalize_first, format_fr, format_gap_fr


@dataclass(frozen=True)
class Reference:
    """The value zones are compared with.

    Attributes
    ----------
    value : float or None
        In stored units (a fraction for shares).
    territory_wide : bool
        True for the territory's own value, False for the mean of the zones.
    """

    value: float | None
    territory_wide: bool


def reference_label(reference: Reference, zonings: str, texts: dict) -> str:
    """Name of the reference inside a sentence ("la moyenne des IRIS" ...)."""
    if reference.territory_wide:
        return texts["ref_territory"]
    return texts["ref_zones_mean"].format(zonings=zonings)


def _extremes(frame: pd.DataFrame, value: str) -> tuple[pd.Series, pd.Series]:
    """Rows of the highest and lowest value (ties: the first by order of the frame)."""
    data = frame[frame[value].notna()]
    return data.loc[data[value].idxmax()], data.loc[data[value].idxmin()]


def _gap_sentence(row: pd.Series, value: str, label: str, reference: Reference,
                  ref_label: str, unit: str | None, texts: dict) -> str | None:
    difference = float(row[value]) - reference.value
    if round(difference, 12) == 0:
        return None
    direction = texts["above_direction"] if difference > 0 else texts["below_direction"]
    return texts["gap"].format(name=row[label], gap=format_gap_fr(difference, unit, texts),
                               direction=direction, reference_label=ref_label,
                               reference=format_fr(reference.value, unit))


def zone_sentences(frame: pd.DataFrame, *, value: str, label: str, unit: str | None,
                   indicator_title: str, zoning: dict, reference: Reference,
                   texts: dict, inline_label: str | None = None) -> list[str]:
    """Sentences on the zones of one zoning: range, gaps to the reference, count above it.

    Parameters
    ----------
    frame : DataFrame
        One row per zone.
    value, label : str
        Columns of the indicator and of the zone's name as written in the text.
    inline_label : str, optional
        Column of the zone's name as written inside parentheses (no nested ones);
        ``label`` by default.
    unit : str, optional
        Unit of the indicator (``"%"``: shares, gaps in percentage points).
    indicator_title : str
        Title of the indicator, as in the registry.
    zoning : dict
        Nouns of the zoning from the locale (``one``, ``many``).
    reference : Reference
        Value the zones are compared with.
    texts : dict
        The locale's ``narrative`` section.

    Returns
    -------
    list of str
        Two to five sentences; one when at most one zone is published.
    """
    published = frame[frame[value].notna()]
    if len(published) == 0:
        return [texts["none"].format(zoning=zoning["one"])]
    if len(published) == 1:
        row = published.iloc[0]
        return [texts["single"].format(zoning=zoning["one"], name=row[label],
                                       value=format_fr(row[value], unit))]
    high, low = _extremes(published, value)
    inline = inline_label or label
    sentences = [texts["range"].format(
        zonings=zoning["many"], indicator=indicator_title,
        low_value=format_fr(low[value], unit), low_name=low[inline],
        high_value=format_fr(high[value], unit), high_name=high[inline])]
    if reference.value is not None:
        ref_label = reference_label(reference, zoning["many"], texts)
        for row in (high, low):
            sentence = _gap_sentence(row, value, label, reference, ref_label, unit, texts)
            if sentence:
                sentences.append(sentence)
        above = int((published[value] > reference.value).sum())
        sentences.append(texts["above"].format(
            zonings_cap=capitalize_first(zoning["many"]), reference_label=ref_label,
            above=above, total=len(published)))
    sentences += missing_sentences(frame, value, zoning, texts)
    return sentences


def missing_sentences(frame: pd.DataFrame, value: str, zoning: dict, texts: dict) -> list[str]:
    """Why zones have no value: hidden by statistical secrecy (a ``secret_*`` flag on the
    row), or no data at all there (no diagnosed dwelling, say), said apart."""
    missing = frame[frame[value].isna()]
    flags = [c for c in missing.columns if c.startswith("secret_")]
    secret = missing[flags].fillna("").astype(str).ne("").any(axis=1) if flags else pd.Series(False, missing.index)
    out = []
    for count, key in ((int(secret.sum()), "suppressed"), (int((~secret).sum()), "no_data")):
        if count:
            out.append(texts[key].format(count=count, zonings=zoning["one"] if count == 1 else zoning["many"]))
    return out


def commune_sentence(frame: pd.DataFrame, *, value: str, label: str, unit: str | None,
                     texts: dict) -> str | None:
    """One sentence naming the communes with the highest and lowest value, if two or more."""
    published = frame[frame[value].notna()]
    if len(published) < 2:
        return None
    high, low = _extremes(published, value)
    return texts["commune_range"].format(
        high_name=high[label], high_value=format_fr(high[value], unit),
        low_name=low[label], low_value=format_fr(low[value], unit))
