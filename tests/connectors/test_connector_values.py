"""Typed parsing of text columns: numbers, codes, dates, months, booleans, masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.connectors._columns import header_key
from pipelines.connectors._values import (
    FrameLocator,
    mask_tokens,
    parse_bool,
    parse_code,
    parse_date,
    parse_float,
    parse_int,
    parse_month,
)
from pipelines.errors import SourceError

LOC = FrameLocator("f.csv")


def test_floats_with_point_and_declared_comma():
    assert parse_float(LOC, "v", ["1.5", None, "-2"]).tolist()[::2] == [1.5, -2.0]
    assert np.isnan(parse_float(LOC, "v", ["1.5", None])[1])
    assert parse_float(LOC, "v", ["1\u00a0234,5", "0,25"], decimal=",").tolist() == [1234.5, 0.25]


def test_undeclared_decimal_comma_is_named_as_such(check_error):
    with pytest.raises(SourceError) as excinfo:
        parse_float(LOC, "conso", ["12.5", "480,75"])
    check_error(excinfo.value, row=2, column="conso",
                contains=("decimal comma", 'decimal: ","'), secrets=("480,75",))


def test_non_number_is_refused_without_its_value(check_error):
    with pytest.raises(SourceError) as excinfo:
        parse_float(LOC, "conso", ["12.5", "SECRET"])
    check_error(excinfo.value, row=2, column="conso", contains=("not a number",),
                secrets=("SECRET",))


def test_ints_accept_whole_floats_and_refuse_fractions(check_error):
    assert parse_int(LOC, "n", ["3", "4.0", None]).tolist() == [3, 4, pd.NA]
    with pytest.raises(SourceError) as excinfo:
        parse_int(LOC, "n", ["3", "4.5"])
    check_error(excinfo.value, row=2, column="n", contains=("whole number",))


def test_codes_stay_text_and_corsica_is_accepted():
    codes = parse_code(LOC, "c", ["01001", "2A004", "2B033", "97101"])
    assert codes.tolist() == ["01001", "2A004", "2B033", "97101"]
    assert parse_code(LOC, "c", ["010010101"], kind="iris").tolist() == ["010010101"]


@pytest.mark.parametrize("value", ["1001", "1001.0"])
def test_code_stored_as_number_is_an_error_with_a_fix(check_error, value):
    with pytest.raises(SourceError) as excinfo:
        parse_code(LOC, "code_commune", ["01001", value])
    check_error(excinfo.value, row=2, column="code_commune",
                contains=("stored as a number", "pad_codes: true"))


def test_code_padding_only_when_declared():
    assert parse_code(LOC, "c", ["1001", "1001.0", "2A004"], pad=True).tolist() == [
        "01001", "01001", "2A004"]


def test_missing_required_code_and_malformed_code(check_error):
    with pytest.raises(SourceError) as excinfo:
        parse_code(LOC, "c", ["01001", None])
    check_error(excinfo.value, row=2, contains=("missing",))
    assert parse_code(LOC, "c", ["01001", None], required=False).isna().tolist() == [False, True]
    with pytest.raises(SourceError) as excinfo:
        parse_code(LOC, "c", ["2C004"])
    check_error(excinfo.value, row=1, contains=("not a valid commune code",))


def test_dates_months_and_booleans(check_error):
    dates = parse_date(LOC, "d", ["2024-02-29", None])
    assert dates.iloc[0] == pd.Timestamp("2024-02-29") and pd.isna(dates.iloc[1])
    assert parse_date(LOC, "d", ["03/01/2023"], fmt="%d/%m/%Y").iloc[0] == pd.Timestamp("2023-01-03")
    with pytest.raises(SourceError) as excinfo:
        parse_date(LOC, "d", ["2024-02-30"])
    check_error(excinfo.value, row=1, contains=("YYYY-MM-DD",))
    assert parse_month(LOC, "m", ["2024-01", None]).tolist()[0] == "2024-01"
    with pytest.raises(SourceError):
        parse_month(LOC, "m", ["2024-13"])
    assert parse_bool(LOC, "b", ["1", "non", "VRAI", None]).tolist() == [True, False, True, pd.NA]
    with pytest.raises(SourceError):
        parse_bool(LOC, "b", ["peut-être"])


def test_masks_become_nulls_and_are_flagged():
    text, masked = mask_tokens(["12", "s", "ND", None], ("s", "nd"))
    assert text.to_pylist() == ["12", None, None, None]
    assert masked.tolist() == [False, True, True, False]


@pytest.mark.parametrize("name, key", [
    ("N°DPE", "n_dpe"), ("Coordonnée_cartographique_X_(BAN)", "coordonnee_cartographique_x_ban"),
    ("Conso_5_usages_par_m²_é_primaire", "conso_5_usages_par_m2_e_primaire"),
    ("Identifiant__BAN", "identifiant_ban"), ("Valeur fonciere", "valeur_fonciere"),
    ("\ufeffIdcar_200m", "idcar_200m"), ("Zone_climatique_", "zone_climatique")])
def test_header_keys_fold_the_spellings_of_producers(name, key):
    assert header_key(name) == key


@given(st.integers(min_value=1, max_value=99_999))
def test_any_numeric_commune_code_is_padded_to_five_digits_when_declared(number):
    padded = parse_code(LOC, "c", [str(number)], pad=True).iloc[0]
    assert padded == f"{number:05d}"


@pytest.mark.parametrize("written", ["nan", "NaN", "inf", "-inf", "1e400"])
def test_a_number_that_is_no_finite_number_is_refused_where_an_empty_field_is_missing(written):
    """No file means "nan", "inf" or 1e400 (past float64): it would pass every range check."""
    class Locator:
        def error(self, problem, *, index=None, column=None, fix=None):
            return ValueError(f"{problem} index {index} column {column}")

    assert np.isnan(parse_float(Locator(), "conso", ["1.5", None])[1])
    with pytest.raises(ValueError, match="value is not a finite number. index 1 column conso"):
        parse_float(Locator(), "conso", ["2", written])
