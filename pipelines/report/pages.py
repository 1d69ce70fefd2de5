"""What each page shows, as plain data for the Jinja2 templates.

Functions here turn a :class:`~pipelines.report.data.Demonstrator` into the values a
template prints: formatted headline figures, charts (Plotly JSON, caption and the data
table behind it), the generated narrative, method, sources, privacy and downloads. No
HTML is written here; no number is formatted anywhere else than in :func:`format_fr`.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.io as pio
from markupsafe import Markup

from pipelines.errors import SourceError
from pipelines.report.data import Demonstrator
from pipelines.report.figures import (
    make_choropleth_figure,
    make_crossing_figure,
    make_distribution_figure,
    make_ranking_figure,
    na_reasons,
)
from pipelines.report.formatting import (
    capitalize_first,
    format_fr,
    format_gap_fr,
    format_number_fr,
    lower_first,
)
from pipelines.report.narrative import Reference, commune_sentence, zone_sentences

MAX_HEADLINES = 5
LABEL = "_label"          # "Bourg (Fictive-sur-Lac)": hover, ranking, sentences
INLINE = "_inline"        # "Bourg, Fictive-sur-Lac": inside parentheses
_NBSP = "\u00a0"
_TYPO = [(re.compile(r" ([:;!?»])"), _NBSP + r"\1"), (re.compile(r"« "), "«" + _NBSP),
         (re.compile(r"(\d) (%|m²|m\b|km\b|€)"), r"\1" + _NBSP + r"\2")]


def typo_fr(text: str) -> str:
    """French typography: no-break space before ``: ; ! ? »``, after ``«`` and in "60 %".

    A line must not start with a colon or a closing guillemet; sentences written by the
    pipeline (crossing, privacy note, explanations) use plain spaces.
    """
    for pattern, repl in _TYPO:
        text = pattern.sub(repl, str(text))
    return text


def figure_json(fig) -> Markup:
    """Plotly JSON of a figure, safe inside ``<script type="application/json">``.

    The page's headings title the charts, so the figure's own title is dropped. ``<``,
    ``>`` and ``&`` only occur inside JSON strings, where ``\\u003c``... is equivalent.
    """
    fig = fig.update_layout(title=None)
    text = pio.to_json(fig, validate=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)


def headline_items(demo: Demonstrator) -> list[dict]:
    """The demonstrator's headline figures, formatted for large type (at most five)."""
    items = []
    for entry in demo.meta["headlines"][:MAX_HEADLINES]:
        unit = entry.get("unit")
        explanation = typo_fr(entry.get("explanation", ""))
        items.append({
            "indicator": entry.get("indicator"), "label": entry.get("label", ""),
            "number": format_number_fr(entry.get("value"), unit), "unit": unit or "",
            "text": format_fr(entry.get("value"), unit), "explanation": explanation,
            "continuation": continuation(explanation, unit),
        })
    return items


def continuation(explanation: str, unit: str | None) -> str:
    """The explanation as read right after the figure and its unit.

    A plain sentence is written to follow the number ("ménages pauvres vivent ..."
    after "1 026"); the unit already printed is not repeated ("1 026 ménages | pauvres
    vivent ...").
    """
    if unit and unit != "%" and explanation.startswith(unit + " "):
        return explanation[len(unit) + 1:]
    return explanation


def main_zoning(demo: Demonstrator) -> str:
    """Zoning of the map: IRIS when the main indicator is published per IRIS."""
    main = demo.meta["main_indicator"]
    candidates = [z for z, t in demo.tables.items() if main in t.columns]
    if not candidates:
        raise SourceError(demo.path, f"the main indicator is a column of none of the tables "
                          f"{sorted(demo.tables)}.", column="main_indicator",
                          fix="publish it in a table, or name another main_indicator.")
    return "iris" if "iris" in candidates else candidates[0]


def labelled_zones(demo: Demonstrator, zoning: str) -> pd.DataFrame:
    """The zoning's table with ``_label``, ``_inline`` (name, with its commune) and ``_commune``."""
    table = demo.tables[zoning].copy()
    names = table[demo.name_column(zoning)].astype(str)
    table["_commune"] = ""
    communes = demo.tables.get("commune")
    parent = demo.id_column("commune")
    if zoning != "commune" and communes is not None and parent in table.columns:
        lookup = dict(zip(communes[parent].astype(str),
                          communes[demo.name_column("commune")].astype(str), strict=False))
        table["_commune"] = table[parent].astype(str).map(lookup).fillna("")
    own = [not c or c in n for n, c in zip(names, table["_commune"], strict=False)]
    table[LABEL] = [n if o else f"{n}, {c}" for n, c, o in zip(names, table["_commune"], own, strict=False)]
    table[INLINE] = [n if o else f"{n}, {c}" for n, c, o in zip(names, table["_commune"], own, strict=False)]
    return table.sort_values(demo.id_column(zoning), kind="stable")


def reference_for(demo: Demonstrator, indicator: str, table: pd.DataFrame) -> Reference:
    """The territory's value of an indicator, else the mean of the zones.

    The territory's value comes from ``territory_values`` in demonstrator.json, or
    from the headline of that indicator (a headline states the territory's figure).
    """
    value = demo.meta["territory_values"].get(indicator)
    if value is None:
        value = next((h.get("value") for h in demo.meta["headlines"]
                      if h.get("indicator") == indicator and h.get("value") is not None), None)
    if value is not None:
        return Reference(float(value), True)
    values = table[indicator].dropna()
    return Reference(float(values.mean()) if len(values) else None, False)


def _table(caption: str, columns: list[str], rows: list[tuple[str, list[str]]]) -> dict:
    """A data table for the template: first cell of each row is its header."""
    return {"caption": caption, "columns": columns,
            "rows": [{"header": header, "cells": cells} for header, cells in rows]}


def _chart(chart_id: str, fig, label: str, caption: str, table: dict) -> dict:
    return {"id": chart_id, "spec": figure_json(fig), "label": label,
            "caption": caption, "table": table, "table_visible": False}


class MainView:
    """The main indicator of a demonstrator on its map zoning, with its reference value.

    Parameters
    ----------
    demo : Demonstrator
        The demonstrator shown.
    texts : dict
        All the locale's texts.
    """

    def __init__(self, demo: Demonstrator, texts: dict):
        self.demo = demo
        self.texts = texts
        self.zoning = main_zoning(demo)
        self.value = demo.meta["main_indicator"]
        self.indicator = demo.indicator(self.value)
        self.unit = self.indicator.get("unit")
        self.title = self.indicator.get("title", self.value)
        self.table = labelled_zones(demo, self.zoning)
        self.nouns = texts["zonings"].get(self.zoning, {"one": self.zoning, "many": self.zoning,
                                                         "unit": self.zoning})
        self.reference = reference_for(demo, self.value, self.table)
        self.published = self.table[self.table[self.value].notna()]

    @property
    def reference_chart_label(self) -> str:
        """Short name of the reference on charts."""
        fig = self.texts["figure"]
        if self.reference.territory_wide:
            return fig["territory_value"]
        return capitalize_first(fig["zones_mean"].format(zonings=self.nouns["many"]))

    def fmt(self, value) -> str:
        """Format a value of the main indicator."""
        return format_fr(value, self.unit)


def narrative(view: MainView) -> list[str]:
    """The generated sentences of a demonstrator page (zones, then communes)."""
    texts = view.texts["narrative"]
    sentences = zone_sentences(view.table, value=view.value, label=LABEL, unit=view.unit,
                               indicator_title=view.title, zoning=view.nouns,
                               reference=view.reference, texts=texts, inline_label=INLINE)
    communes = view.demo.tables.get("commune")
    if view.zoning != "commune" and communes is not None and view.value in communes.columns:
        sentence = commune_sentence(communes, value=view.value, unit=view.unit, texts=texts,
                                    label=view.demo.name_column("commune"))
        if sentence:
            sentences.append(sentence)
    return sentences


def map_chart(view: MainView, summary: str) -> dict:
    """Choropleth of the main indicator, with commune boundaries and every zone in a table."""
    demo, fig_texts = view.demo, view.texts["figure"]
    boundaries = demo.tables.get("commune") if view.zoning != "commune" else None
    fig = make_choropleth_figure(view.table, value=view.value, name=LABEL, title=view.title,
                                 id_col=demo.id_column(view.zoning), unit=view.unit,
                                 boundaries=boundaries, labels=fig_texts,
                                 boundary_name=demo.name_column("commune"))
    reasons = na_reasons(view.table, view.value, fig_texts)
    with_commune = bool(view.table["_commune"].astype(bool).any())
    columns = [capitalize_first(view.nouns["one"])] + ([fig_texts["col_commune"]] if with_commune else [])
    rows = []
    for (_, row), reason in zip(view.table.iterrows(), reasons, strict=False):
        shown = view.fmt(row[view.value]) if reason == "" else f"{fig_texts['not_published']} ({reason})"
        name = str(row[demo.name_column(view.zoning)])
        rows.append((name, ([row["_commune"]] if with_commune else []) + [shown]))
    caption = fig_texts["map_caption"].format(count=len(view.table), zonings=view.nouns["many"],
                                              narrative=summary)
    table = _table(fig_texts["map_table_caption"].format(indicator=view.title, zoning=view.nouns["one"]),
                   columns + [view.title], rows)
    return _chart("carte", fig, fig_texts["chart_label"].format(title=view.title), caption, table)


def ranking_chart(view: MainView, max_bars: int = 40) -> dict:
    """Ranking of the published zones, with the reference line and the full ranked table."""
    fig_texts = view.texts["figure"]
    fig = make_ranking_figure(view.table, value=view.value, name=LABEL, title=view.title,
                              unit=view.unit, reference=view.reference.value,
                              reference_label=view.reference_chart_label, max_bars=max_bars,
                              id_col=view.demo.id_column(view.zoning), labels=fig_texts)
    ranked = view.published.sort_values(view.value, ascending=False, kind="stable")
    fields = dict(count=len(ranked), shown=min(len(ranked), max_bars), zonings=view.nouns["many"],
                  reference_label=lower_first(view.reference_chart_label),
                  reference=view.fmt(view.reference.value))
    key = "ranking_caption_truncated" if len(ranked) > max_bars else "ranking_caption"
    rows = [(str(rank), [label, view.fmt(value)])
            for rank, (label, value) in enumerate(zip(ranked[LABEL], ranked[view.value], strict=False), start=1)]
    table = _table(fig_texts["ranking_table_caption"].format(indicator=view.title,
                                                           zonings=view.nouns["many"]),
                   [fig_texts["col_rank"], capitalize_first(view.nouns["one"]), view.title], rows)
    return _chart("classement", fig, fig_texts["chart_label"].format(title=view.title),
                  fig_texts[key].format(**fields), table)


_SHORT_NAME = re.compile(r"\(([^()]{2,12})\)\s*$")


def crosses_public_sources_only(demo: Demonstrator) -> bool:
    """True when every source of the demonstrator (``sources[*].sensitivity``) is public.

    Then its "what crossing adds" compares public sources with each other, and the page
    must not speak of data shared by partners. A source of any other or unknown
    sensitivity (private, personal, aggregated, missing) keeps the shared-data wording:
    the page never claims that a source is public when demonstrator.json does not say so.
    """
    sources = demo.meta["sources"]
    return bool(sources) and all(s.get("sensitivity") == "public" for s in sources)


def crossing_source_name(demo: Demonstrator, entry: dict) -> str | None:
    """Short name of the one source the crossing row adds ("LOVAC"), when it has one.

    Read from the registry entry of the row's ``indicator``: its only source, whose
    title ends with a short name in brackets ("Logements vacants ... (LOVAC)").
    """
    sources = demo.indicator(str(entry.get("indicator"))).get("sources") or []
    if len(sources) != 1:
        return None
    titles = {s.get("id"): str(s.get("title", "")) for s in demo.meta["sources"]}
    match = _SHORT_NAME.search(titles.get(sources[0], ""))
    return match.group(1).strip() if match else None


def crossing_wording(demo: Demonstrator, texts: dict) -> dict:
    """Texts of the "what crossing adds" section, by the sensitivity of the sources.

    Returns
    -------
    dict
        ``public`` (bool), ``intro``, ``caption``, ``public_label``, ``shared_label``
        (generic bar names) and ``sentence`` (default sentence of a row).
    """
    public = crosses_public_sources_only(demo)
    fig, suffix = texts["figure"], "_public" if public else ""
    return {"public": public, "intro": texts["demo"][f"crossing_intro{suffix}"],
            "caption": fig[f"crossing_caption{suffix}"], "public_label": fig[f"public_only{suffix}"],
            "shared_label": fig[f"with_shared{suffix}"],
            "sentence": texts["narrative"][f"crossing_default{suffix}"]}


def crossing_items(demo: Demonstrator, texts: dict) -> list[dict]:
    """The "what crossing adds" rows, each with its sentence, formatted values and bar names.

    When every source is public, the bars say which public source the row adds
    ("Sans / Avec le fichier LOVAC"), or else that public sources are crossed.
    """
    wording = crossing_wording(demo, texts)
    items = []
    for entry in demo.meta["crossing"]:
        unit = entry.get("unit")
        public, shared = entry.get("public_only"), entry.get("with_shared")
        difference = None
        if public is not None and shared is not None:
            gap = float(shared) - float(public)
            sign = "+" if gap > 0 else ("-" if gap < 0 else "")
            difference = sign + format_gap_fr(gap, unit, texts["narrative"])
        sentence = entry.get("sentence") or wording["sentence"].format(
            label=entry.get("label", ""), public_only=format_fr(public, unit),
            with_shared=format_fr(shared, unit), difference=difference or "–")
        labels = {"public_label": wording["public_label"], "shared_label": wording["shared_label"]}
        source = crossing_source_name(demo, entry) if wording["public"] else None
        if source:
            labels = {"public_label": texts["figure"]["without_source"].format(source=source),
                      "shared_label": texts["figure"]["with_source"].format(source=source)}
        items.append({**labels, "label": entry.get("label", ""), "unit": unit, "public_only": public,
                      "with_shared": shared, "public_text": format_fr(public, unit),
                      "shared_text": format_fr(shared, unit), "difference": difference or "–",
                      "sentence": typo_fr(sentence), "lead": typo_fr(entry.get("label", ""))})
    return items


def crossing_chart(items: list[dict], texts: dict, wording: dict | None = None) -> dict | None:
    """Bars comparing public-only and with-shared-data values, and their table.

    ``wording`` comes from :func:`crossing_wording` (the shared-data texts by default).
    """
    if not items:
        return None
    fig_texts = texts["figure"]
    wording = wording or {"caption": fig_texts["crossing_caption"],
                          "public_label": fig_texts["col_public_only"], "shared_label": fig_texts["col_with_shared"]}
    fig = make_crossing_figure(items, labels=fig_texts)
    rows = [(i["label"], [i["public_text"], i["shared_text"], i["difference"]]) for i in items]
    # The table's headers are the bars' names when every row has the same ones.
    names = {(i.get("public_label"), i.get("shared_label")) for i in items}
    same = next(iter(names)) if len(names) == 1 else (None, None)
    public_label, shared_label = same[0] or wording["public_label"], same[1] or wording["shared_label"]
    table = _table(texts["demo"]["crossing_heading"],
                   [fig_texts["col_indicator"], public_label, shared_label, fig_texts["col_difference"]], rows)
    return _chart("croisement", fig, fig_texts["chart_label"].format(
        title=texts["demo"]["crossing_heading"]), wording["caption"], table)


def comparison(view: MainView, territory_name: str) -> dict:
    """Distribution chart of the zones and the statistics table, one column per territory.

    The table has one column per territory so that a comparison between territories
    can be added by appending columns once several territories are built.
    """
    fig_texts, values = view.texts["figure"], view.published[view.value]
    fig = make_distribution_figure(view.table, value=view.value, name=LABEL, title=view.title,
                                   unit=view.unit, labels=fig_texts,
                                   reference=view.reference.value if view.reference.territory_wide else None,
                                   reference_label=view.reference_chart_label)
    many = view.nouns["many"]
    rows = [(fig_texts["zones_published"].format(zonings=capitalize_first(many)),
             [f"{len(values)} / {len(view.table)}"])]
    for key, stat in (("minimum", "min"), ("median", "median"), ("mean", "mean"), ("maximum", "max")):
        label = fig_texts[key] if key != "mean" else capitalize_first(
            fig_texts["zones_mean"].format(zonings=many))
        rows.append((label, [view.fmt(getattr(values, stat)()) if len(values) else "–"]))
    if view.reference.territory_wide:
        rows.append((fig_texts["territory_value"], [view.fmt(view.reference.value)]))
    caption = view.texts["demo"]["comparison_table_caption"].format(indicator=view.title,
                                                                    zoning=view.nouns["one"])
    table = _table(caption, [fig_texts["col_statistic"], territory_name], rows)
    fig_caption = fig_texts["distribution_caption"].format(
        count=len(values), zonings=many, min=view.fmt(values.min()), max=view.fmt(values.max()),
        median=view.fmt(values.median()), mean=view.fmt(values.mean()))
    chart = _chart("repartition", fig, fig_texts["chart_label"].format(title=view.title),
                   fig_caption, table)
    chart["table_visible"] = True
    return chart


def chart_sources(demo: Demonstrator, indicators: list, texts: dict) -> str:
    """The caption line crediting the sources of the indicators a chart shows: producer,
    title and date of each, and the licence of each."""
    cards = {s.get("id"): s for s in demo.meta["sources"]}
    ids = [i for i in dict.fromkeys(s for indicator in indicators if indicator
                                     for s in demo.indicator(indicator).get("sources", [])) if i in cards]
    if not ids:
        return ""
    credits = [texts["figure"]["source_item"].format(producer=cards[i].get("producer", ""), title=cards[i].get("title", i),
                                                     date=cards[i].get("date", ""), licence=cards[i].get("licence", ""))
               for i in ids]
    return texts["figure"]["sources_caption"].format(sources=" ; ".join(credits))


def method_items(demo: Demonstrator, texts: dict) -> list[dict]:
    """Each indicator's definition, formula, unit, zonings, sources and caveats."""
    source_titles = {s.get("id"): s.get("title", s.get("id")) for s in demo.meta["sources"]}
    zonings = texts["zonings"]
    shown = {h.get("indicator") for h in demo.meta["headlines"]} | {demo.meta["main_indicator"]}
    items = []
    for entry in demo.meta["indicators"]:
        items.append({
            "id": entry.get("id"), "title": entry.get("title", entry.get("id")),
            "main": entry.get("id") == demo.meta["main_indicator"],
            "shown": entry.get("id") in shown,
            "definition": typo_fr(entry.get("definition", "")), "formula": entry.get("formula", ""),
            "unit": entry.get("unit") or "",
            "zonings": ", ".join(zonings.get(z, {"many": z})["many"] for z in entry.get("zonings", [])),
            "sources": ", ".join(source_titles.get(s, s) for s in entry.get("sources", [])),
            "caveats": [typo_fr(c) for c in entry.get("caveats", [])],
        })
    # The indicators read on the page first (the map's, then the headlines'), then the
    # others published in the tables, in the registry's order.
    return sorted(items, key=lambda i: (not i["main"], not i["shown"]))


def source_rows(demo: Demonstrator, texts: dict) -> list[dict]:
    """The sources used, with the sensitivity in words."""
    labels = texts["sensitivity"]
    return [{**{k: s.get(k, "") for k in ("title", "producer", "date", "licence", "attribution")},
             "sensitivity": labels.get(s.get("sensitivity", ""), s.get("sensitivity", ""))}
            for s in demo.meta["sources"]]


def privacy(view: MainView) -> dict:
    """The audit's note (paragraphs) and how many zones are not published."""
    texts = view.texts["demo"]
    note = [p.strip() for p in str(view.demo.meta["privacy_note"]).split("\n\n") if p.strip()]
    suppressed = len(view.table) - len(view.published)
    count = texts["privacy_suppressed"].format(
        count=suppressed, total=len(view.table),
        zoning_unit=view.nouns["one"] if suppressed == 1 else view.nouns["unit"]) if suppressed else ""
    return {"paragraphs": [typo_fr(p) for p in note] or [texts["privacy_default"]],
            "suppressed": count}


def demonstrator_context(demo: Demonstrator, territory: dict, texts: dict,
                         downloads: list[dict]) -> dict:
    """Everything the demonstrator template prints.

    Parameters
    ----------
    demo : Demonstrator
        The demonstrator.
    territory : dict
        From :func:`pipelines.report.data.load_territory`.
    texts : dict
        All the locale's texts.
    downloads : list of dict
        Download groups, from the site builder (files already copied).

    Returns
    -------
    dict
        Template variables.
    """
    view = MainView(demo, texts)
    sentences = [typo_fr(s) for s in narrative(view)]
    crossing = crossing_items(demo, texts)
    wording = crossing_wording(demo, texts)
    charts = {"map": map_chart(view, sentences[0]), "ranking": ranking_chart(view),
              "crossing": crossing_chart(crossing, texts, wording),
              "distribution": comparison(view, territory["name"])}
    main_sources = chart_sources(demo, [view.value], texts)
    for name, chart in charts.items():
        if chart is not None:  # a chart credits the sources of what it shows
            shown = [i for e in demo.meta["crossing"] for i in [e.get("indicator"), *(e.get("based_on") or [])]]
            chart["sources"] = chart_sources(demo, shown, texts) if name == "crossing" else main_sources
    return {
        "demo": demo.meta, "headlines": headline_items(demo), "narrative": sentences,
        "charts": charts, "crossing": crossing, "crossing_intro": wording["intro"],
        "methods": method_items(demo, texts),
        "sources": source_rows(demo, texts), "privacy": privacy(view), "downloads": downloads,
        "zoning": view.nouns, "indicator_title": view.title,
    }
