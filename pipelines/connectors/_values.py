"""Typed parsing of text columns, with errors that locate the first bad value.

Every function takes a *locator* (anything with ``error(problem, *, index, column,
fix)``, such as :class:`pipelines.connectors._csv.CsvTable`) so that the error names the
file, the row and the column, and never the value itself. Columns come in as Arrow
string arrays or pandas Series of text.
"""

from __future__ import annotations

import re
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.config import COMMUNE_CODE_PATTERN, IRIS_CODE_PATTERN
from pipelines.errors import SourceError

__all__ = ["Locator", "FrameLocator", "as_text", "parse_float", "parse_int", "parse_date",
           "parse_month", "parse_bool", "parse_code", "mask_tokens", "CODE_PATTERNS"]

CODE_PATTERNS = {
    "commune": (COMMUNE_CODE_PATTERN, 5),
    "iris": (IRIS_CODE_PATTERN, 9),
    "departement": (r"^(\d{2}|2[AB]|97\d)$", 2),
}
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d[\d\s]*,\d+\s*$")
_NUMBER_AS_CODE = re.compile(r"^\d+(\.0+)?$")
DECIMAL_FIX = ("declare `decimal: \",\"` in the source card's options if the whole column "
               "uses a decimal comma.")


class Locator(Protocol):
    def error(self, problem: str, *, index: int | None = None, column: str | None = None,
              fix: str | None = None) -> SourceError: ...


class FrameLocator:
    """Locate rows of a layer or of an in-memory table: row = position + 1."""

    def __init__(self, path, *, unit: str = "feature"):
        self.path = path
        self.unit = unit

    def error(self, problem: str, *, index: int | None = None, column: str | None = None,
              fix: str | None = None) -> SourceError:
        row = None if index is None else index + 1
        return SourceError(self.path, problem, row=row, column=column, fix=fix)


def as_text(values) -> pa.ChunkedArray:
    """Return values as an Arrow string array (nulls kept), stripping surrounding blanks."""
    if isinstance(values, pa.ChunkedArray):
        array = values
    elif isinstance(values, pa.Array):
        array = pa.chunked_array([values])
    else:
        array = pa.chunked_array([pa.array(pd.Series(values, dtype="str"), from_pandas=True)])
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    return pc.utf8_trim_whitespace(array)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _bad_positions(text: pa.ChunkedArray, parsed: pa.ChunkedArray | np.ndarray) -> np.ndarray:
    was_value = pc.is_valid(text).to_numpy(zero_copy_only=False)
    became_null = (np.isnan(parsed) if isinstance(parsed, np.ndarray)
                   else pc.is_null(parsed).to_numpy(zero_copy_only=False))
    return was_value & became_null


def parse_float(locator: Locator, column: str, values, *, decimal: str = ".") -> np.ndarray:
    """Parse decimal numbers; a comma is accepted only when declared as the decimal mark.

    Returns
    -------
    numpy.ndarray of float64, NaN where the field is empty.

    Raises
    ------
    SourceError
        On the first value that is not a number, saying whether it uses a decimal comma.
    """
    text = as_text(values)
    if decimal == ",":
        # Thousands may be grouped with (non-breaking) spaces in French exports.
        text = pc.replace_substring_regex(text, r"[\s\x{00A0}\x{202F}]", "")
        text = pc.replace_substring(text, ",", ".")
    elif decimal != ".":
        raise locator.error(f"decimal mark '{decimal}' is not supported.", column=column,
                            fix="declare `decimal: \".\"` or `decimal: \",\"`.")
    try:
        parsed = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        parsed = pd.to_numeric(text.to_pandas(), errors="coerce").to_numpy(dtype="float64")
    else:
        # "nan", "inf" and 1e400 cast to floats, but no file means them: an empty field is
        # a missing value, an unbounded one is an error (it would pass every range check).
        written = pc.is_valid(text).to_numpy(zero_copy_only=False)
        unbounded = written & ~np.isfinite(parsed)
        if not unbounded.any():
            return parsed
        raise locator.error("value is not a finite number.",
                            index=_first(unbounded), column=column,
                            fix="empty the field for a missing value, or correct it.")
    index = _first(_bad_positions(text, parsed))
    raw = as_text(values)[index].as_py()
    if decimal == "." and _DECIMAL_COMMA.match(raw):
        raise locator.error("decimal comma where a decimal point is expected.", index=index,
                            column=column, fix=DECIMAL_FIX)
    raise locator.error("value is not a number.", index=index, column=column,
                        fix="correct the value or empty the field.")


def parse_int(locator: Locator, column: str, values) -> pd.Series:
    """Parse integers (nullable ``Int64``); ``12.0`` is accepted, ``12.5`` is not."""
    numbers = parse_float(locator, column, values)
    fractional = ~np.isnan(numbers) & (np.mod(numbers, 1) != 0)
    if fractional.any():
        raise locator.error("value is not a whole number.", index=_first(fractional),
                            column=column, fix="declare the column as `float`, or correct it.")
    huge = ~np.isnan(numbers) & (np.abs(numbers) >= 2.0**63)  # would wrap around silently
    if huge.any():
        raise locator.error("value is too large for a whole number.", index=_first(huge),
                            column=column, fix="correct the value, or declare the column as `float`.")
    return pd.Series(pd.array(numbers, dtype="Float64").astype("Int64"))


def parse_date(locator: Locator, column: str, values, *, fmt: str = "%Y-%m-%d") -> pd.Series:
    """Parse dates (``datetime64[s]``, NaT where empty) written in ``fmt``."""
    text = as_text(values)
    parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
    # Arrow rolls impossible days over (2024-02-30 becomes 2024-03-01): any date that
    # lands on the 1st to 3rd of a month, or did not parse, is decided again by pandas,
    # which is strict. That is a tenth of the rows at most, instead of all of them.
    early = pc.fill_null(pc.less_equal(pc.day(parsed), 3), True)
    suspect = np.flatnonzero(pc.is_valid(text).to_numpy(zero_copy_only=False)
                             & early.to_numpy(zero_copy_only=False))
    result = parsed.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    if len(suspect):
        strict = pd.to_datetime(pd.Series(text.take(suspect).to_pandas(), dtype="str"),
                                format=fmt, errors="coerce")
        if strict.isna().any():
            shown = fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
            raise locator.error(f"value is not a date written {shown}.",
                                index=int(suspect[_first(strict.isna().to_numpy())]),
                                column=column, fix="correct the value, or declare the date format.")
        result[suspect] = strict.to_numpy().astype("datetime64[s]")
    return pd.Series(result, dtype="datetime64[s]")


def parse_month(locator: Locator, column: str, values) -> pd.Series:
    """Check months written ``YYYY-MM`` and return them as text."""
    text = as_text(values)
    ok = pc.match_substring_regex(text, r"^\d{4}-(0[1-9]|1[0-2])$")
    bad = pc.invert(pc.fill_null(ok, True)).to_numpy(zero_copy_only=False)
    if bad.any():
        raise locator.error("value is not a month written YYYY-MM.", index=_first(bad),
                            column=column, fix="correct the value (e.g. 2024-03).")
    return pd.Series(text.to_pandas(), dtype="str")


_TRUE = {"1", "true", "vrai", "oui", "yes", "t", "o", "y"}
_FALSE = {"0", "false", "faux", "non", "no", "f", "n"}


def parse_bool(locator: Locator, column: str, values) -> pd.Series:
    """Parse booleans written 0/1, true/false, vrai/faux or oui/non (nullable)."""
    text = pd.Series(pc.utf8_lower(as_text(values)).to_pandas(), dtype="str")
    known = text.isin(_TRUE | _FALSE) | text.isna()
    if not known.all():
        raise locator.error("value is not a boolean (0/1, true/false, oui/non).",
                            index=_first(~known.to_numpy()), column=column,
                            fix="correct the value or declare the column as `text`.")
    return text.map(lambda v: v in _TRUE, na_action="ignore").astype("boolean")


def parse_code(locator: Locator, column: str, values, *, kind: str = "commune",
               pad: bool = False, required: bool = True) -> pd.Series:
    """Check INSEE codes kept as text; optionally left-pad codes that lost their zeros.

    Parameters
    ----------
    kind : {"commune", "iris", "departement"}
        Which pattern to check (see :data:`CODE_PATTERNS`).
    pad : bool, default False
        Left-pad purely numeric codes with zeros (``1001`` -> ``01001``), only when the
        source card declares ``pad_codes: true``: a code that lost its zeros is otherwise
        an error, never silently repaired.
    required : bool, default True
        Whether an empty field is an error.

    Raises
    ------
    SourceError
        On the first empty (when required) or malformed code, saying when it looks like
        a number that lost its leading zeros.
    """
    pattern, width = CODE_PATTERNS[kind]
    text = as_text(values)
    if pad:
        text = _pad(text, width)
    if required and text.null_count:
        index = _first(pc.is_null(text).to_numpy(zero_copy_only=False))
        raise locator.error(f"{kind} code is missing.", index=index, column=column,
                            fix="fill in the code, or remove the row.")
    ok = pc.fill_null(pc.match_substring_regex(text, pattern), True)
    bad = pc.invert(ok).to_numpy(zero_copy_only=False)
    if bad.any():
        raise _code_error(locator, column, text, _first(bad), kind, width)
    return pd.Series(text.to_pandas(), dtype="str")


def _pad(text: pa.ChunkedArray, width: int) -> pa.ChunkedArray:
    digits = pc.replace_substring_regex(text, r"\.0+$", "")
    numeric = pc.fill_null(pc.match_substring_regex(digits, r"^\d+$"), False)
    return pc.if_else(numeric, pc.utf8_lpad(digits, width, "0"), text)


def _code_error(locator: Locator, column: str, text: pa.ChunkedArray, index: int, kind: str,
                width: int) -> SourceError:
    raw = text[index].as_py()
    if _NUMBER_AS_CODE.match(raw) and (len(raw.split(".")[0]) < width or "." in raw):
        return locator.error(f"{kind} code stored as a number: its leading zeros are lost.",
                             index=index, column=column,
                             fix="export the column as text so codes keep their leading zeros, "
                                 "or declare `pad_codes: true` to left-pad them with zeros.")
    return locator.error(f"value is not a valid {kind} code.", index=index, column=column,
                         fix=f"{kind} codes match {CODE_PATTERNS[kind][0]}; correct the value.")


def mask_tokens(values, tokens: tuple[str, ...]) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Replace producer masks (``s``, ``nd`` ...) by nulls.

    Returns
    -------
    (text, masked)
        The text with masked fields as nulls, and a boolean array of the masked fields.
    """
    text = as_text(values)
    hit = pc.fill_null(pc.is_in(pc.utf8_lower(text), pa.array(tokens)), False)
    masked = hit.to_numpy(zero_copy_only=False)
    return pc.if_else(hit, pa.scalar(None, pa.string()), text), masked
