"""French number formatting and the generated narrative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import ConfigError
from pipelines.report.formatting import (
    format_fr,
    format_gap_fr,
    format_size_fr,
    load_texts,
    lower_first,
    parse_fr,
)
from pipelines.report.narrative import Reference, commune_sentence, zone_sentences

NBSP = "\u00a0"


@pytest.mark.parametrize("value, unit, expected", [
    (1234, None, "1 234"),
    (1234, "ménages", "1 234 ménages"),
    (0.234, "%", "23,4 %"),
    (0.2215, "%", "22,2 %"),        # half up, as a reader rounds (binary float says 22,1)
    (1234567.891, None, "1 234 568"),
    (9.25, "min", "9,3 min"),
    (0.5, None, "0,5"),
    (-0.00001, "%", "0,0 %"),       # no "-0,0"
    (-1500.0, "€", "-1 500 €"),
])
def test_format_fr(value, unit, expected):
    assert format_fr(value, unit).replace(NBSP, " ") == expected


def test_format_fr_uses_no_break_spaces_and_a_dash_for_missing_values():
    assert format_fr(1234, "ménages") == f"1{NBSP}234{NBSP}ménages"
    assert format_fr(np.nan, "%") == "–"
    assert format_fr(None, "%", na="n.d.") == "n.d."
    assert format_fr(pd.NA, "%") == "–"


def test_parse_fr_reads_back_what_format_fr_wrote():
    for value, unit in [(1234.0, "ménages"), (0.234, "%"), (9.25, "min"), (-1500.0, "€")]:
        shown = value * 100 if unit == "%" else value
        assert parse_fr(format_fr(value, unit)) == pytest.approx(shown, abs=0.051)
    with pytest.raises(ValueError):
        parse_fr("non publié")


def test_gaps_are_in_percentage_points_for_shares():
    texts = load_texts("fr")["narrative"]
    assert format_gap_fr(-0.042, "%", texts) == f"4,2{NBSP}points"
    assert format_gap_fr(0.01, "%", texts) == f"1,0{NBSP}point"
    assert format_gap_fr(250, "ménages", texts) == f"250{NBSP}ménages"


def test_sizes_and_capitalisation():
    units = load_texts("fr")["size_units"]
    assert format_size_fr(999, units) == f"999{NBSP}o"
    assert format_size_fr(12_400, units) == f"12{NBSP}ko"
    assert format_size_fr(1_520_000, units) == f"1,5{NBSP}Mo"
    assert lower_first("Part des logements") == "part des logements"
    assert lower_first("IRIS publiés") == "IRIS publiés"


def test_unknown_language_names_the_missing_file():
    with pytest.raises(ConfigError, match="xx.yaml"):
        load_texts("xx")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"nom": ["Gare", "Centre", "Bourg", "Port"],
                         "v": [0.2, 0.35, 0.05, np.nan], "secret_n": ["", "", "", "secret"]})


def test_zone_sentences_name_extremes_and_gaps_to_the_territory():
    texts = load_texts("fr")
    sentences = zone_sentences(_frame(), value="v", label="nom", unit="%",
                               indicator_title="Part des logements F ou G",
                               zoning=texts["zonings"]["iris"], reference=Reference(0.25, True),
                               texts=texts["narrative"])
    plain = [s.replace(NBSP, " ") for s in sentences]
    assert plain == [
        "Part des logements F ou G : de 5,0 % (Bourg) à 35,0 % (Centre) selon les IRIS.",
        "Centre se situe 10,0 points au-dessus de la valeur de l'ensemble du territoire (25,0 %).",
        "Bourg se situe 20,0 points en dessous de la valeur de l'ensemble du territoire (25,0 %).",
        "IRIS au-dessus de la valeur de l'ensemble du territoire : 1 sur 3.",
        "Valeur non publiée pour 1 IRIS (secret statistique ou effectif trop faible).",
    ]


def test_zone_sentences_fall_back_to_the_mean_of_the_zones():
    texts = load_texts("fr")
    sentences = zone_sentences(_frame(), value="v", label="nom", unit="%", indicator_title="x",
                               zoning=texts["zonings"]["commune"],
                               reference=Reference(float(_frame()["v"].mean()), False),
                               texts=texts["narrative"])
    assert "la moyenne des communes (20,0" in sentences[1].replace(NBSP, " ")
    assert sentences[-1].endswith("pour 1 commune (secret statistique ou effectif trop faible).")


def test_zones_without_data_are_not_called_secret():
    """A zone with no value and no secrecy flag had no data (no new dwelling diagnosed
    there): the page says so, apart from the hidden ones."""
    texts = load_texts("fr")
    frame = pd.concat([_frame(), pd.DataFrame({"nom": ["Lac", "Mont"], "v": [np.nan] * 2, "secret_n": [""] * 2})])
    sentences = zone_sentences(frame, value="v", label="nom", unit="%", indicator_title="x",
                               zoning=texts["zonings"]["iris"], reference=Reference(0.25, True),
                               texts=texts["narrative"])
    plain = [s.replace(NBSP, " ") for s in sentences[-2:]]
    assert plain == ["Valeur non publiée pour 1 IRIS (secret statistique ou effectif trop faible).",
                     "Pas de valeur pour 2 IRIS, faute de données dans la source (aucune observation dans la zone)."]


def test_zone_sentences_with_one_or_no_published_zone():
    texts = load_texts("fr")
    one = pd.DataFrame({"nom": ["Gare", "Port"], "v": [12.0, np.nan]})
    kwargs = dict(value="v", label="nom", unit="min", indicator_title="x",
                  zoning=texts["zonings"]["iris"], reference=Reference(None, False),
                  texts=texts["narrative"])
    assert zone_sentences(one, **kwargs) == [f"Un seul IRIS est publié : Gare (12{NBSP}min)."]
    assert zone_sentences(one.iloc[1:], **kwargs) == ["Aucune valeur n'est publiée par IRIS pour cet indicateur."]


def test_commune_sentence():
    texts = load_texts("fr")["narrative"]
    frame = pd.DataFrame({"nom": ["A", "B", "C"], "v": [100.0, 300.0, 200.0]})
    sentence = commune_sentence(frame, value="v", label="nom", unit="ménages", texts=texts)
    assert sentence.replace(NBSP, " ") == ("Entre communes, la valeur la plus élevée est celle de B "
                                           "(300 ménages), la plus faible celle de A (100 ménages).")
