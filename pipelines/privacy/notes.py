"""The short privacy note officials read on each demonstrator page.

It is generated from what actually happened (the reports of the anonymiser and of the
suppressors), so it cannot drift from the code: which thresholds applied, how many
cells were suppressed, and why. Counts only, never a value of the data.
"""

from __future__ import annotations

import re
from typing import Mapping

from pipelines.privacy.report import AnonymisationReport
from pipelines.privacy.rules import SECONDARY, SuppressionRule

_ZONINGS = {
    "fr": {"iris": "IRIS", "commune": "communes", "grid": "carreaux de 200 m", "total": "territoire entier"},
    "en": {"iris": "IRIS", "commune": "municipalities", "grid": "200 m grid cells", "total": "whole territory"},
}
_UNITS = {
    "fr": {"households": ("ménage", "ménages"), "delivery_points": ("point de livraison", "points de livraison"),
           "business": ("contributeur", "contributeurs")},
    "en": {"households": ("household", "households"), "delivery_points": ("delivery point", "delivery points"),
           "business": ("contributor", "contributors")},
}
_TEXT = {
    "fr": {
        "personal": "Les données personnelles « {source} » ont été pseudonymisées avec une clé secrète, puis "
                    "agrégées par zone ({zonings}) : aucune donnée individuelle n'est publiée.",
        "private": "Les données d'entreprise « {source} » ne sont publiées qu'agrégées par zone ({zonings}).",
        "rule": "au moins {n} {units} par case",
        "dominance": "aucun contributeur ne pesant {share} % ou plus du total de la case",
        "thresholds": "Seuils appliqués (secret statistique) : {rules}.",
        "none": "Aucune des {cells} {cell_word} n'a dû être masquée.",
        "some": "Sur {cells} {cell_word}, {hidden} {hidden_word} masquée{s}, pour l'une de ces raisons : {reasons}. "
                "Ce sont toutes les raisons que ces règles peuvent donner, qu'elles aient servi ou non : dire "
                "lesquelles ont servi, ou combien de fois, dirait quelles cases masquées sont petites.",
        "small": "moins de {n} {units}",
        "dominated": "un seul contributeur pesant {share} % ou plus du total",
        "secondary": "masquage en complément, pour qu'aucune case masquée ne puisse être recalculée par "
                     "différence entre niveaux ou zonages (secret secondaire)",
        "closing": "Les cases masquées restent dans les tableaux avec une valeur vide et la mention « secret », "
                   "la même pour toutes, qui ne dit pas pourquoi une case est masquée.",
        "cell": ("case", "cases"),
        "joiner": " ; ",
        "was": ("a été", "ont été"),
    },
    "en": {
        "personal": "The personal data “{source}” were pseudonymised with a secret key, then aggregated by "
                    "zone ({zonings}): no individual record is published.",
        "private": "The business data “{source}” are published only as aggregates by zone ({zonings}).",
        "rule": "at least {n} {units} per cell",
        "dominance": "no contributor holding {share} % or more of a cell's total",
        "thresholds": "Thresholds applied (statistical secrecy): {rules}.",
        "none": "None of the {cells} {cell_word} had to be suppressed.",
        "some": "Of {cells} {cell_word}, {hidden} {hidden_word} suppressed, for one of these reasons: {reasons}. "
                "These are all the reasons the rules can give, whether they occurred or not: saying which did, "
                "or how often, would tell which suppressed cells are small.",
        "small": "fewer than {n} {units}",
        "dominated": "one contributor holding {share} % or more of the total",
        "secondary": "suppressed as well, so that no suppressed cell can be recomputed by differencing levels "
                     "or zonings (secondary suppression)",
        "closing": "Suppressed cells stay in the tables with an empty value and the same code, “secret”, for "
                   "all of them, which does not tell why a cell is suppressed.",
        "cell": ("cell", "cells"),
        "joiner": "; ",
        "was": ("was", "were"),
    },
}


def privacy_note(*reports: AnonymisationReport, lang: str = "fr",
                 titles: Mapping[str, str] | None = None) -> str:
    """The privacy note of a demonstrator page, from its protection reports.

    Parameters
    ----------
    *reports : AnonymisationReport
        One per protected source (from :func:`anonymise` or :func:`summarise_table`).
    lang : {"fr", "en"}, default "fr"
    titles : mapping, optional
        Source id -> title shown to readers (the source card's title).

    Returns
    -------
    str
        A few sentences; empty when no personal or business data was used.
    """
    if lang not in _TEXT:
        raise ValueError(f"no privacy note in '{lang}'; available: {sorted(_TEXT)}")
    paragraphs = [_paragraph(report, lang, titles or {}) for report in reports]
    if not paragraphs:
        return ""
    return "\n\n".join(paragraphs + [_TEXT[lang]["closing"]])


def _paragraph(report: AnonymisationReport, lang: str, titles: Mapping[str, str]) -> str:
    text = _TEXT[lang]
    zonings = ", ".join(_plural_zoning(z, lang) for z in report.zones)
    intro = text["personal" if report.sensitivity == "personal" else "private"].format(
        source=titles.get(report.source, report.source), zonings=zonings)
    rules = text["joiner"].join(_rule_phrase(r, lang) for r in report.rules)
    sentences = [intro, text["thresholds"].format(rules=rules), _counts_sentence(report, lang)]
    return " ".join(s for s in sentences if s)


def _rule_phrase(rule: SuppressionRule, lang: str) -> str:
    text = _TEXT[lang]
    phrase = text["rule"].format(n=rule.minimum, units=_UNITS[lang][rule.kind][1])
    if rule.kind == "business" and rule.max_share:
        phrase += ", " + text["dominance"].format(share=round(rule.max_share * 100))
    return phrase


def _counts_sentence(report: AnonymisationReport, lang: str) -> str:
    text = _TEXT[lang]
    cells, hidden = report.cells, report.suppressed_cells
    cell_word = text["cell"][cells > 1]
    if hidden == 0:
        return text["none"].format(cells=_number(cells, lang), cell_word=cell_word)
    # Every reason the rules can give, whichever occurred: naming only those that did (or
    # how many cells each hid) narrows a hidden cell. Two hidden cells summing to 111, one
    # "small" and one "secondary", put the small one in [1, 9] and the other in [102, 110].
    reasons = [_reason_phrase(reason, 0, report, lang) for reason in _possible(report)]
    return text["some"].format(cells=_number(cells, lang), cell_word=cell_word, hidden=_number(hidden, lang),
                               hidden_word=_hidden_word(hidden, lang), s="s" if hidden > 1 else "",
                               reasons=text["joiner"].join(reasons))


def _possible(report: AnonymisationReport) -> list[str]:
    """The reasons the report's rules can give, primary ones first, secondary last."""
    reasons = []
    for rule in report.rules:
        reasons.append(rule.count_reason)
        if rule.kind == "business" and rule.max_share:
            reasons.append(f"dominance>={round(rule.max_share * 100)}%")
    return sorted(dict.fromkeys(reasons), key=lambda r: (not r.startswith("dominance"), r)) + [SECONDARY]


def _reason_phrase(reason: str, k: int, report: AnonymisationReport, lang: str) -> str:
    text = _TEXT[lang]
    if reason == SECONDARY:
        return text["secondary"]
    small = re.fullmatch(r"n<(\d+)", reason)
    if small:
        kind = next((r.kind for r in report.rules if r.count_reason == reason), "households")
        return text["small"].format(n=small.group(1), units=_UNITS[lang][kind][1])
    dominance = re.fullmatch(r"dominance>=(\d+)%", reason)
    if dominance:
        return text["dominated"].format(share=dominance.group(1))
    return reason


def _hidden_word(k: int, lang: str) -> str:
    return _TEXT[lang]["was"][k > 1] if lang == "en" else ("a été" if k == 1 else "ont été")


def _plural_zoning(zoning: str, lang: str) -> str:
    return _ZONINGS[lang].get(zoning, zoning)


def _number(n: int, lang: str) -> str:
    # French groups thousands with a narrow no-break space.
    return f"{n:,}".replace(",", "\u202f") if lang == "fr" else f"{n:,}"
