"""Pages comparing territories: ``outputs/comparison/<demo_id>.html``.

For every demonstrator that two or more territories show on their sites, one page puts
their figures side by side: the whole-territory values of the headline and main
indicators, and the spread of their zones on the main indicator. Layout::

    outputs/comparison/<demo_id>.html   one page per demonstrator compared
    outputs/comparison/assets/          the site's CSS and scripts (Plotly shipped once)

Who takes part (the rule the links rely on): a territory takes part in the comparison
of a demonstrator when its site shows that demonstrator, i.e. when both
``outputs/<territory>/site/<demo_id>.html`` and a non-draft
``outputs/<territory>/<demo_id>/demonstrator.json`` exist. A page exists when two
territories or more take part; otherwise there is none, and a page left by an earlier
build is removed. Every figure is read from the published files of
``outputs/<territory>/<demo_id>/`` (demonstrator.json and the GeoParquet tables), never
from the asset store; the pages link to the territories' sites and copy no table.

:func:`build_comparisons` writes the pages through :func:`pipelines.privacy.publish.publish`
(a disclosure audit of the whole folder, then an atomic swap into
``outputs/comparison``); :func:`pipelines.report.territories.publish_territory_site`
calls it after each territory's site.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.report.data import (
    COMPARISON_FOLDER,
    DEMONSTRATOR_FILE,
    Demonstrator,
    find_demonstrators,
    load_territory,
    read_demonstrator_meta,
    read_tables,
)
from pipelines.report.figures import make_territories_distribution_figure
from pipelines.report.formatting import capitalize_first, format_fr, is_missing, load_texts
from pipelines.report.pages import LABEL, _chart, _table, chart_sources, labelled_zones, reference_for, typo_fr
from pipelines.report.site import _render, format_date_fr, make_environment, write_assets

log = logging.getLogger(__name__)

MIN_TERRITORIES = 2
SITE = "site"
TERRITORY = "_territory"


@dataclass
class Participant:
    """One territory in a comparison: its published demonstrator and its description.

    Attributes
    ----------
    territory_id : str
        Folder name under ``outputs/``.
    demo : Demonstrator
        Read from ``outputs/<territory>/<demo_id>/``.
    territory : dict
        From :func:`pipelines.report.data.load_territory` (name, fictional, data dates).
    name : str
        The name written on the page (with its id when two territories share a name).
    """

    territory_id: str
    demo: Demonstrator
    territory: dict
    name: str = ""

    def site_href(self, demo_id: str) -> str:
        """Link from a comparison page to this territory's page of the demonstrator."""
        return f"../{self.territory_id}/{SITE}/{demo_id}.html"


def territory_folders(outputs_dir: Path) -> list[Path]:
    """Folders of ``outputs_dir`` holding a territory's publications, sorted by id."""
    return sorted(p for p in Path(outputs_dir).iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name != COMPARISON_FOLDER
                  and find_demonstrators(p)) if Path(outputs_dir).is_dir() else []


def published_demonstrators(folder: Path) -> list[str]:
    """Demonstrators of a territory folder that are published and not drafts (what its site shows)."""
    shown = []
    for path in sorted(Path(folder).glob(f"*/{DEMONSTRATOR_FILE}")):
        if path.parent.name.startswith(".") or path.parent.name == SITE:
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # the territory's own site build reports it
        if isinstance(meta, dict) and not meta.get("draft"):
            shown.append(path.parent.name)
    return shown


def site_demonstrators(folder: Path) -> list[str]:
    """Demonstrators that a territory's site shows now: a page and a published non-draft folder."""
    return [d for d in published_demonstrators(folder) if (Path(folder) / SITE / f"{d}.html").is_file()]


def comparison_plan(outputs_dir: Path, *,
                    shown: Mapping[str, Collection[str]] | None = None) -> dict[str, list[str]]:
    """Which territories each comparison page puts side by side.

    Parameters
    ----------
    outputs_dir : Path
        ``outputs/``.
    shown : mapping, optional
        Territory id -> demonstrators its site will show, for a site about to be built
        (the others are read from their sites, :func:`site_demonstrators`).

    Returns
    -------
    dict
        Demonstrator id -> territory ids (sorted), only for demonstrators shown by at
        least two territories.
    """
    shown = dict(shown or {})
    taking_part: dict[str, list[str]] = {}
    for folder in territory_folders(outputs_dir):
        demos = shown.pop(folder.name) if folder.name in shown else site_demonstrators(folder)
        for demo_id in demos:
            taking_part.setdefault(demo_id, []).append(folder.name)
    return {d: sorted(ids) for d, ids in sorted(taking_part.items()) if len(ids) >= MIN_TERRITORIES}


def load_participants(outputs_dir: Path, demo_id: str, territory_ids: list[str]) -> list[Participant]:
    """Read each territory's published demonstrator (metadata and tables) for one page."""
    participants = []
    for territory_id in territory_ids:
        folder = Path(outputs_dir) / territory_id
        path = folder / demo_id / DEMONSTRATOR_FILE
        meta = read_demonstrator_meta(path)
        demo = Demonstrator(path=path, meta=meta, tables=read_tables(meta, path.parent))
        participants.append(Participant(territory_id, demo, load_territory(folder, [demo])))
    names = [str(p.territory.get("name") or p.territory_id) for p in participants]
    for participant, name in zip(participants, names, strict=True):
        participant.name = name if names.count(name) == 1 else f"{name} ({participant.territory_id})"
    return participants


# --- what the page shows ----------------------------------------------------------------


def compared_indicators(participants: list[Participant]) -> list[dict]:
    """Headline indicators then the main one, in the first territories' order, each once.

    Returns
    -------
    list of dict
        ``id``, ``title``, ``unit``, ``definition``, ``main`` (the distribution's indicator).
    """
    main = participants[0].demo.meta["main_indicator"]
    found: dict[str, dict] = {}
    for p in participants:
        ids = [h.get("indicator") for h in p.demo.meta["headlines"] if h.get("indicator")] + [main]
        for indicator in ids:
            if indicator in found:
                continue
            entry = p.demo.indicator(indicator)
            headline = next((h for h in p.demo.meta["headlines"] if h.get("indicator") == indicator), {})
            registered = any(i.get("id") == indicator for i in p.demo.meta["indicators"])
            found[indicator] = {
                "id": indicator, "main": indicator == main,
                "title": entry.get("title") if registered else headline.get("label", indicator),
                "unit": entry.get("unit") if registered else headline.get("unit"),
                "definition": typo_fr(entry.get("definition", "") if registered else headline.get("explanation", ""))}
    return list(found.values())


def territory_value(demo: Demonstrator, indicator: str):
    """The whole-territory value of an indicator: ``territory_values``, else its headline; None if neither."""
    value = demo.meta["territory_values"].get(indicator)
    if is_missing(value):
        value = next((h.get("value") for h in demo.meta["headlines"]
                      if h.get("indicator") == indicator and not is_missing(h.get("value"))), None)
    return None if is_missing(value) else value


def values_table(participants: list[Participant], indicators: list[dict], texts: dict) -> dict:
    """Indicators (rows) by territory (columns), French-formatted, "non publié" when missing.

    An indicator that no territory publishes for its whole territory has no row.
    """
    own = texts["comparison"]
    rows = []
    for indicator in indicators:
        values = [territory_value(p.demo, indicator["id"]) for p in participants]
        if all(v is None for v in values):
            continue  # a zone-level indicator (years of income...): the distribution shows it
        rows.append((indicator["title"], [own["not_published"] if v is None else format_fr(v, indicator["unit"])
                                          for v in values]))
    return _table(own["values_caption"], [texts["figure"]["col_indicator"]] + [p.name for p in participants], rows)


def common_zoning(participants: list[Participant], value: str) -> str | None:
    """The zoning publishing ``value`` in every territory, IRIS first; None when there is none."""
    for zoning in ("iris", "commune"):
        tables = [p.demo.tables.get(zoning) for p in participants]
        if all(t is not None and value in t.columns for t in tables):
            return zoning
    return None


def zones_frame(participants: list[Participant], zoning: str, value: str) -> pd.DataFrame:
    """Every zone of every territory: its label, its territory's name and ``value``."""
    frames = []
    for p in participants:
        table = labelled_zones(p.demo, zoning)
        frames.append(pd.DataFrame({LABEL: table[LABEL].to_numpy(), value: table[value].to_numpy(dtype="float64"),
                                    TERRITORY: p.name}))
    return pd.concat(frames, ignore_index=True)


def distribution_chart(participants: list[Participant], indicator: dict, texts: dict) -> dict | None:
    """Box and points per territory of its zones on the main indicator, with the statistics table."""
    zoning = common_zoning(participants, indicator["id"])
    if zoning is None:
        return None
    value, unit, fig_texts, own = indicator["id"], indicator["unit"], texts["figure"], texts["comparison"]
    zones = zones_frame(participants, zoning, value)
    nouns = texts["zonings"].get(zoning, {"one": zoning, "many": zoning})
    references = {p.name: reference_for(p.demo, value, labelled_zones(p.demo, zoning)) for p in participants}
    fig = make_territories_distribution_figure(
        zones, value=value, name=LABEL, territory=TERRITORY, unit=unit, order=[p.name for p in participants],
        references={n: r.value for n, r in references.items() if r.territory_wide}, labels=fig_texts)
    rows = _statistics_rows(zones, participants, references, unit, nouns, fig_texts)
    table = _table(own["stats_caption"].format(indicator=indicator["title"], zoning=nouns["one"]),
                   [fig_texts["col_statistic"]] + [p.name for p in participants], rows)
    summary = []
    for p in participants:
        published = zones.loc[(zones[TERRITORY] == p.name) & zones[value].notna(), value]
        summary.append(own["distribution_territory"].format(
            territory=p.name, count=len(published), zonings=nouns["many"],
            median=format_fr(published.median(), unit) if len(published) else "–"))
    caption = own["distribution_caption"].format(zonings=nouns["many"], territories=" ; ".join(summary))
    chart = _chart("repartition-territoires", fig, fig_texts["chart_label"].format(title=indicator["title"]),
                   typo_fr(caption), table)
    chart["table_visible"] = True
    chart["zoning"] = nouns
    chart["sources"] = " ".join(dict.fromkeys(  # each territory's own files, each once
        filter(None, (chart_sources(p.demo, [value], texts) for p in participants))))
    return chart


def _statistics_rows(zones: pd.DataFrame, participants: list[Participant], references: dict, unit: str | None,
                     nouns: dict, fig_texts: dict) -> list[tuple[str, list[str]]]:
    value = [c for c in zones.columns if c not in (LABEL, TERRITORY)][0]
    groups = {p.name: zones.loc[zones[TERRITORY] == p.name, value] for p in participants}
    many = nouns["many"]
    rows = [(fig_texts["zones_published"].format(zonings=capitalize_first(many)),
             [f"{int(g.notna().sum())} / {len(g)}" for g in groups.values()])]
    for key, stat in (("minimum", "min"), ("median", "median"), ("mean", "mean"), ("maximum", "max")):
        label = fig_texts[key] if key != "mean" else capitalize_first(fig_texts["zones_mean"].format(zonings=many))
        rows.append((label, [format_fr(getattr(g.dropna(), stat)(), unit) if g.notna().any() else "–"
                             for g in groups.values()]))
    if any(r.territory_wide for r in references.values()):
        rows.append((fig_texts["territory_value"],
                     [format_fr(references[n].value, unit) if references[n].territory_wide else "–" for n in groups]))
    return rows


def territory_rows(participants: list[Participant], demo_id: str, texts: dict) -> list[dict]:
    """One row per territory: name, link to its page, data date, build date, fictional."""
    return [{"name": p.name, "href": p.site_href(demo_id), "data_date": p.demo.meta["data_date"] or "–",
             "generated": format_date_fr(p.demo.meta["generated_at"], texts["months"]) if p.demo.meta["generated_at"]
             else "–", "fictional": bool(p.territory.get("fictional"))} for p in participants]


def source_rows(participants: list[Participant], texts: dict) -> list[dict]:
    """The sources credited by the territories, each once, with the territories using it."""
    keys = ("title", "producer", "date", "licence", "attribution")
    rows: dict[tuple, dict] = {}
    for p in participants:
        for source in p.demo.meta["sources"]:
            key = tuple(str(source.get(k, "")) for k in keys)
            row = rows.setdefault(key, {**dict(zip(keys, key, strict=True)), "territories": []})
            row["territories"].append(p.name)
    every = texts["comparison"]["all_territories"]
    return [{**r, "territories": every if len(r["territories"]) == len(participants) else ", ".join(r["territories"])}
            for r in rows.values()]


def caveats(participants: list[Participant], texts: dict) -> list[str]:
    """How to read the comparison, and which shared data each territory lacks."""
    own = texts["comparison"]
    notes = list(own["caveats"])
    for p in participants:
        missing = [str(m.get("title", "")) for m in p.demo.meta.get("missing_shared") or [] if m.get("title")]
        if missing:
            notes.append(own["missing_shared"].format(territory=p.name, titles=", ".join(missing)))
    return [typo_fr(n) for n in notes]


def fictional_banner(participants: list[Participant], texts: dict) -> str | None:
    """The banner's text: every territory fictional, some of them, or none (no banner)."""
    fictional = [bool(p.territory.get("fictional")) for p in participants]
    if not any(fictional):
        return None
    return texts["comparison"]["fictional_all" if all(fictional) else "fictional_some"]


def hero_sentence(participants: list[Participant], indicator: dict, texts: dict) -> str | None:
    """"« <indicator> », pour l'ensemble du territoire : 3,7 % pour A, 3,6 % pour B." (None without any value).

    The page uses the main indicator, or the first headline when no territory publishes
    a whole-territory value of the main one.
    """
    values = [(p.name, territory_value(p.demo, indicator["id"])) for p in participants]
    shown = [texts["comparison"]["hero_value"].format(value=format_fr(v, indicator["unit"]), territory=n)
             for n, v in values if v is not None]
    if not shown:
        return None
    return typo_fr(texts["comparison"]["hero"].format(indicator=indicator["title"], values=", ".join(shown)))


def comparison_context(demo_id: str, participants: list[Participant], texts: dict) -> dict:
    """Everything the comparison template prints for one demonstrator."""
    first = participants[0].demo.meta
    indicators = compared_indicators(participants)
    main = next(i for i in indicators if i["main"])
    generated = max((p.demo.meta["generated_at"] for p in participants), default="")
    banner = fictional_banner(participants, texts)
    return {
        "demo_id": demo_id, "title": first["title"], "count": len(participants),
        "territories": territory_rows(participants, demo_id, texts),
        "values": values_table(participants, indicators, texts), "indicators": indicators, "main": main,
        "hero": next(filter(None, (hero_sentence(participants, i, texts)
                                   for i in sorted(indicators, key=lambda i: not i["main"]))), None),
        "distribution": distribution_chart(participants, main, texts),
        "caveats": caveats(participants, texts), "sources": source_rows(participants, texts),
        "territory": {"name": texts["comparison"]["brand"], "fictional": banner is not None,
                      "data_dates": [], "generated_at": generated},
        "fictional_banner": banner or "",
    }


# --- writing ------------------------------------------------------------------------------


def write_comparison_pages(outputs_dir: Path, target_dir: Path, plan: Mapping[str, list[str]], *,
                           lang: str = "fr") -> list[Path]:
    """Write one page per demonstrator of ``plan`` and the assets into ``target_dir``.

    Parameters
    ----------
    outputs_dir : Path
        ``outputs/``, read only.
    target_dir : Path
        An empty folder (the publication's staging folder).
    plan : mapping
        From :func:`comparison_plan`.
    lang : str
        Language of the texts.

    Returns
    -------
    list of Path
        The pages written, by demonstrator id.
    """
    Path(target_dir).chmod(0o755)  # a staging folder is made 0700: a web server must read it
    texts, env = load_texts(lang), make_environment()
    loaded = {d: load_participants(outputs_dir, d, ids) for d, ids in plan.items()}
    nav = [{"id": d, "title": ps[0].demo.meta["title"], "href": f"{d}.html"} for d, ps in loaded.items()]
    pages = []
    for demo_id, participants in loaded.items():
        context = comparison_context(demo_id, participants, texts)
        pages.append(_render(env, "comparison.html", Path(target_dir) / f"{demo_id}.html", t=texts, nav=nav,
                             current=demo_id, home_href="../index.html", nav_home=texts["comparison"]["nav_home"],
                             generated_at_text=format_date_fr(context["territory"]["generated_at"], texts["months"]),
                             **context))
    write_assets(Path(target_dir))
    return pages


def build_comparisons(outputs_dir: Path, *, lang: str = "fr") -> list[Path]:
    """Build, audit and swap in ``outputs/comparison/``; remove it when nothing is compared.

    Parameters
    ----------
    outputs_dir : Path
        ``outputs/`` (every territory's folder and site).
    lang : str
        Language of the texts.

    Returns
    -------
    list of Path
        The comparison pages now published (empty when fewer than two territories show
        any one demonstrator).

    Raises
    ------
    PrivacyError
        When the disclosure audit refuses the pages; what was published is unchanged.
    SourceError
        When a territory's published demonstrator.json or table cannot be read.
    """
    from pipelines.privacy.publish import publish, recover

    outputs_dir = Path(outputs_dir)
    target = outputs_dir / COMPARISON_FOLDER
    plan = comparison_plan(outputs_dir)
    if not plan:
        recover(target)  # a swap interrupted by a crash is finished first, then removed with the rest
        if target.exists():
            shutil.rmtree(target)
            log.info("%s removed: no demonstrator is shown by two territories", target)
        return []
    written: list[Path] = []
    publish(lambda staging: written.extend(write_comparison_pages(outputs_dir, staging, plan, lang=lang)), target)
    return [target / p.name for p in written]
