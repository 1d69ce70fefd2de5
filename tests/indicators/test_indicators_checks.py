"""The registry and the checks the asset checks run on every published table."""

import numpy as np
import pandas as pd
import pytest

from pipelines.config import PACKAGE_DIR
from pipelines.errors import ConfigError
from pipelines.indicators import load_registry
from pipelines.indicators.checks import check_ranges, check_totals
from pipelines.indicators.registry import Indicator
from pipelines.indicators.text import crossing_sentence, headline

ENERGY = PACKAGE_DIR.parent / "demonstrators" / "energy_precarity" / "indicators.yaml"


def indicator(id_, kind, unit="ménages"):
    return Indicator(id=id_, title=id_, definition="d", unit=unit, kind=kind, formula="f",
                     zonings=["iris"], sources=["x"], theme="energy")


def test_a_demonstrators_registry_is_its_own_indicators_file():
    registry = load_registry(ENERGY)
    assert registry["share_fg"].kind == "share" and registry["share_fg"].unit == "%"
    assert registry["households"].bounds() == (0.0, None)
    assert registry["share_fg"].bounds() == (0.0, 1.0)


def test_duplicated_indicator_is_refused(tmp_path):
    entry = "- {id: a, title: t, definition: d, unit: u, kind: count, formula: f, zonings: [iris], sources: [s], theme: energy}\n"
    (tmp_path / "one.yaml").write_text(entry, encoding="utf-8")
    (tmp_path / "two.yaml").write_text(entry, encoding="utf-8")
    with pytest.raises(ConfigError, match="'a' is declared twice"):
        load_registry.__wrapped__(tmp_path)
    with pytest.raises(ConfigError, match="no indicator registry"):
        load_registry.__wrapped__(tmp_path / "indicators.yaml")


def test_ranges_flag_shares_above_one_and_infinite_counts_but_not_missing_values():
    table = pd.DataFrame({"s": [0.2, 1.5, np.nan], "n": [3.0, np.inf, np.nan]})
    problems = check_ranges(table, [indicator("s", "share"), indicator("n", "count"), indicator("m", "mean")])
    assert problems == ["'s': 1 value(s) outside [0.0, 1.0]", "'n': 1 value(s) outside [0.0, ∞]", "column 'm' is missing"]
    assert check_ranges(table.iloc[:0], [indicator("s", "share")]) == ["the table is empty"]


def test_totals_compare_counts_and_skip_columns_with_suppressed_cells():
    fine = pd.DataFrame({"n": [1.0, 2.0, 3.0], "h": [5.0, np.nan, 1.0], "s": [0.1, 0.2, 0.3]})
    coarse = pd.DataFrame({"n": [6.0], "h": [9.0], "s": [0.9]})
    counts = [indicator("n", "count"), indicator("h", "count"), indicator("s", "share")]
    assert check_totals(fine, coarse, counts) == []
    coarse.loc[0, "n"] = 6.1
    assert check_totals(fine, coarse, counts) == ["'n': total 6 over the fine zoning but 6.1 over the coarse one"]


def test_crossing_sentence_states_the_difference_in_numbers():
    sentence = crossing_sentence(indicator("n", "count"), public_only=1000.0, with_shared=1250.0, label="l")["sentence"]
    assert "1\u00a0000\u00a0ménages" in sentence and "1\u00a0250\u00a0ménages" in sentence
    assert "250\u00a0ménages de plus (25,0\u00a0%)" in sentence
    shares = crossing_sentence(indicator("s", "share", "%"), public_only=0.2, with_shared=0.15, label="l")["sentence"]
    assert "valeur inférieure de 25,0\u00a0%" in shares
    assert "n'est pas disponible" in crossing_sentence(indicator("n", "count"), public_only=np.nan,
                                                        with_shared=1.0, label="l")["sentence"]


def test_headline_uses_the_plain_sentence_when_declared():
    registry = load_registry(ENERGY)
    shown = headline(registry["share_fg"], 0.2634)
    assert shown["text"] == "26,3\u00a0%" and shown["explanation"] == registry["share_fg"].plain


def test_a_column_with_no_value_at_all_is_a_problem():
    table = pd.DataFrame({"s": [np.nan, np.nan], "n": [1.0, np.nan]})
    assert check_ranges(table, [indicator("s", "share"), indicator("n", "count")]) == ["'s': no value at all"]


def test_a_column_hidden_everywhere_by_secrecy_is_not_a_problem():
    table = pd.DataFrame({"n": [np.nan, np.nan], "secret_n": ["secret", ""]})
    assert check_ranges(table, [indicator("n", "count")]) == []


def test_count_difference_adds_up_with_the_rounded_figures_shown():
    sentence = crossing_sentence(indicator("n", "count"), public_only=1025.6, with_shared=1850.5, label="l")["sentence"]
    assert "1\u00a0026\u00a0ménages" in sentence and "1\u00a0851\u00a0ménages" in sentence
    assert "825\u00a0ménages de plus" in sentence  # 1 851 - 1 026 as shown, not round(824.9)
