"""The "what crossing adds" wording follows the sensitivity of the demonstrator's sources.

With a private or personal source the page speaks of data shared by partners; when
every source is public (the housing demonstrator's LOVAC), it says that public sources
are crossed and names the source the bars add.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pipelines.report.data import Demonstrator
from pipelines.report.formatting import load_texts
from pipelines.report.pages import crosses_public_sources_only, crossing_items, crossing_source_name
from pipelines.report.site import build_site

SHARED_INTRO = "en y ajoutant les données confiées par des partenaires privés et les données personnelles anonymisées"
PUBLIC_INTRO = "Toutes les sources de ce thème sont publiques"
LOVAC = {"id": "lovac", "title": "Logements vacants du parc privé par commune (LOVAC)", "producer": "CEREMA",
         "date": "2025", "licence": "Licence Ouverte 2.0", "attribution": "CEREMA — LOVAC", "sensitivity": "public"}
VACANT = {"id": "private_dwellings", "title": "Logements du parc privé", "definition": "Logements privés.",
          "unit": "logements", "formula": "", "caveats": [], "zonings": ["commune"], "sources": ["lovac"]}
CROSSING = {"indicator": "private_dwellings", "label": "Logements du parc privé", "public_only": 24145.0,
            "with_shared": 27171.0, "unit": "logements"}


def public_only(meta: dict, *, named: bool) -> dict:
    """The energy demonstrator without its private source; with a LOVAC crossing when `named`."""
    meta = json.loads(json.dumps(meta))
    meta["sources"] = [s for s in meta["sources"] if s["sensitivity"] == "public"]
    if named:
        meta["sources"].append(LOVAC)
        meta["indicators"].append(VACANT)
        meta["crossing"] = [CROSSING]
    else:
        meta["crossing"] = [{k: v for k, v in meta["crossing"][0].items() if k != "sentence"}]
    return meta


def demo_of(meta: dict) -> Demonstrator:
    return Demonstrator(path=Path("demonstrator.json"), meta=meta)


def page_of(report_outputs, tmp_path, meta: dict) -> str:
    outputs, _ = report_outputs
    copy = tmp_path / "outputs"
    shutil.copytree(outputs / "energy_precarity", copy / "energy_precarity")
    (copy / "energy_precarity" / "demonstrator.json").write_text(json.dumps(meta, ensure_ascii=False),
                                                                encoding="utf-8")
    summary = build_site(copy, copy / "site")
    return (summary.site_dir / "energy_precarity.html").read_text(encoding="utf-8")


def crossing_bars(html: str) -> list[list[str]]:
    spec = json.loads(re.search(r'<script type="application/json" id="data-croisement">(.*?)</script>',
                                html, re.S).group(1))
    return [list(t["y"]) for t in spec["data"]]


def crossing_table_header(html: str) -> list[str]:
    section = html[html.index('id="figure-croisement"'):]
    head = re.search(r"<thead>(.*?)</thead>", section, re.S).group(1)
    return re.findall(r"<th scope=\"col\">(.*?)</th>", head)


@pytest.mark.parametrize("sensitivities, expected", [
    (["public", "public"], True), (["public", "private"], False), (["public", "personal"], False),
    (["public", "aggregated"], False), ([], False), (["public", None], False)])
def test_only_sources_all_public_count_as_public(sensitivities, expected):
    meta = {"sources": [{"id": f"s{i}", "sensitivity": s} for i, s in enumerate(sensitivities)],
            "indicators": []}
    assert crosses_public_sources_only(demo_of(meta)) is expected


def test_with_a_private_source_the_page_keeps_the_shared_data_wording(report_outputs, tmp_path):
    _, metas = report_outputs
    html = page_of(report_outputs, tmp_path, metas["energy_precarity"])
    assert SHARED_INTRO in html and PUBLIC_INTRO not in html
    assert crossing_bars(html) == [["Sources publiques seules", "Avec données partagées"]]
    assert crossing_table_header(html) == ["Indicateur", "Sources publiques seules", "Avec données partagées", "Écart"]


def test_when_every_source_is_public_the_bars_name_the_source_crossed(report_outputs, tmp_path):
    _, metas = report_outputs
    meta = public_only(metas["energy_precarity"], named=True)
    html = page_of(report_outputs, tmp_path, meta)
    assert PUBLIC_INTRO in html and "partenaires privés" not in html
    assert "données partagées" not in html.lower()
    assert crossing_bars(html) == [["Sans le fichier LOVAC", "Avec le fichier LOVAC"]]
    assert crossing_table_header(html) == ["Indicateur", "Sans le fichier LOVAC", "Avec le fichier LOVAC", "Écart"]
    assert "en croisant les sources publiques" in html  # the chart's caption


def test_when_every_source_is_public_without_a_short_name_the_bars_are_generic(report_outputs):
    _, metas = report_outputs
    demo = demo_of(public_only(metas["energy_precarity"], named=False))
    assert crossing_source_name(demo, demo.meta["crossing"][0]) is None  # "DPE des logements existants"
    [item] = crossing_items(demo, load_texts("fr"))
    assert (item["public_label"], item["shared_label"]) == ("Sans croisement", "En croisant les sources publiques")
    # no sentence in demonstrator.json: the default one speaks of public sources too
    assert item["sentence"].startswith("En croisant les sources publiques, l'indicateur")
    assert "18,3\u00a0% à 22,2\u00a0%" in item["sentence"]


def test_a_private_source_keeps_the_shared_bars_even_when_the_crossing_names_a_source(report_outputs):
    _, metas = report_outputs
    meta = json.loads(json.dumps(metas["energy_precarity"]))
    meta["sources"].append(LOVAC)
    meta["indicators"].append(VACANT)
    meta["crossing"] = [CROSSING]
    [item] = crossing_items(demo_of(meta), load_texts("fr"))
    assert (item["public_label"], item["shared_label"]) == ("Sources publiques seules", "Avec données partagées")
    assert item["sentence"].startswith("Avec les données partagées")
