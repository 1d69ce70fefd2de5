"""The privacy note officials read, generated from the protection reports."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.privacy.notes import privacy_note
from pipelines.privacy.report import AnonymisationReport, summarise_table
from pipelines.privacy.rules import make_rule

METERS = AnonymisationReport(
    source="smart_meter", sensitivity="personal", rules=(make_rule("households"),),
    zones={"iris": 40, "commune": 4}, suppressed={"iris": {"n<11": 3, "secondary": 2}}, rows_in=336_000)


def test_french_note_says_thresholds_and_why_cells_were_hidden():
    note = privacy_note(METERS, titles={"smart_meter": "Relevés des compteurs communicants"})
    assert "« Relevés des compteurs communicants » ont été pseudonymisées avec une clé secrète" in note
    assert "agrégées par zone (IRIS, communes)" in note
    assert "au moins 11 ménages par case" in note
    assert ("Sur 44 cases, 5 ont été masquées, pour l'une de ces raisons : moins de 11 ménages ; "
            "masquage en complément") in note
    # which reasons, never how many cells each: that would tell which hidden cells are small
    assert "3" not in note.split("raisons")[1]
    assert "336" not in note   # counts of cells only, not the size of the source


def test_business_rules_and_dominance_are_explained():
    report = summarise_table(
        pd.DataFrame({"zoning": ["iris"] * 3, "secret": ["dominance>=85%", "", "n<10"]}), source="operator",
        rules=[{"kind": "delivery_points"}, {"kind": "business"}])
    note = privacy_note(report)
    assert "au moins 10 points de livraison par case" in note
    assert "aucun contributeur ne pesant 85 % ou plus du total de la case" in note
    assert "un seul contributeur pesant 85 % ou plus du total ; moins de 10 points de livraison" in note
    assert "qu'elles aient servi ou non" in note


def test_nothing_suppressed_and_no_protected_source():
    report = AnonymisationReport(source="s", sensitivity="personal", rules=(make_rule("households"),),
                                 zones={"commune": 4}, suppressed={})
    assert "Aucune des 4 cases n'a dû être masquée." in privacy_note(report)
    assert privacy_note() == ""


def test_english_note_and_unknown_language():
    assert "Of 44 cells, 5 were suppressed, for one of these reasons" in privacy_note(METERS, lang="en")
    with pytest.raises(ValueError):
        privacy_note(METERS, lang="de")


def test_the_note_names_every_possible_reason_whichever_occurred():
    """Naming only the reasons that occurred narrows hidden cells: with two hidden cells
    summing to 111, "fewer than 10" and "secondary" put one in [1, 9], the other in
    [102, 110], under the threshold's width. The note is the same whatever hid them."""
    rules = [{"kind": "delivery_points"}, {"kind": "business"}]
    notes = {privacy_note(summarise_table(pd.DataFrame({"zoning": ["iris"] * 4, "secret": secret}),
                                          source="operator", rules=rules))
             for secret in (["n<10", "secondary", "", ""], ["dominance>=85%", "", "", "n<10"],
                            ["secondary", "secondary", "", ""])}
    assert len(notes) == 1
    (note,) = notes
    assert ("un seul contributeur pesant 85 % ou plus du total ; moins de 10 points de livraison ; "
            "moins de 3 contributeurs ; masquage en complément") in note
