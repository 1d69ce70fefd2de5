"""French number formatting, and the locale texts of the site.

Shares are stored as fractions in 0..1 with the unit ``"%"``, which means "display
multiplied by 100". Every number a visitor reads goes through :func:`format_fr`, so the
page, the hover labels, the data tables and the narrative always agree.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import ConfigError

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

NBSP = "\u00a0"
"""Separator for thousands and before a unit: a break there would split a number."""

SHARE_UNIT = "%"
_NO_DECIMALS_UNITS = {"€", "euros", "ménages", "logements", "habitants", "personnes"}


def is_missing(value: Any) -> bool:
    """Return True for None, NaN and pandas' NA."""
    if value is None:
        return True
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return True


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only ("IRIS publiés", not "Iris publiés")."""
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("IRIS", "DPE")."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def display_value(value: float, unit: str | None) -> float:
    """Return the value as shown to a reader: shares (unit ``%``) times 100."""
    return float(value) * 100.0 if unit == SHARE_UNIT else float(value)


def _default_decimals(shown: float, unit: str | None) -> int:
    if unit == SHARE_UNIT:
        return 1
    if unit in _NO_DECIMALS_UNITS or abs(shown) >= 100 or float(shown).is_integer():
        return 0
    return 1


def format_number_fr(value: Any, unit: str | None = None, *, decimals: int | None = None,
                     na: str = "–") -> str:
    """Format the number part of a value the French way, without its unit.

    Parameters
    ----------
    value : float
        Value as stored (a share in 0..1 when ``unit`` is ``"%"``).
    unit : str, optional
        Unit of the value; ``"%"`` multiplies by 100 and keeps one decimal.
    decimals : int, optional
        Number of decimals; by default 1 for shares, 0 for counts, euros and values of
        100 or more, 1 otherwise.
    na : str
        Text returned for a missing value.

    Returns
    -------
    str
        For example ``"1 234"`` or ``"23,4"`` (with no-break spaces).
    """
    if is_missing(value):
        return na
    shown = display_value(value, unit)
    places = _default_decimals(shown, unit) if decimals is None else decimals
    # Half up on the shortest decimal repr: 22.15 reads "22,2" as a reader rounds it,
    # not "22,1" as binary floating point (22.149999...) would give.
    rounded = Decimal(repr(shown)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if text.lstrip("-").strip("0,.") == "":
        text = text.lstrip("-")  # no "-0,0"
    return text.replace(",", NBSP).replace(".", ",")


def format_fr(value: Any, unit: str | None = None, *, decimals: int | None = None,
              na: str = "–") -> str:
    """Format a value with its unit the French way.

    Parameters
    ----------
    value : float
        Value as stored (a share in 0..1 when ``unit`` is ``"%"``).
    unit : str, optional
        Unit appended after a no-break space; ``"%"`` also multiplies by 100.
    decimals : int, optional
        See :func:`format_number_fr`.
    na : str
        Text returned for a missing value.

    Returns
    -------
    str
        ``format_fr(1234, "ménages") == "1 234 ménages"`` and
        ``format_fr(0.234, "%") == "23,4 %"`` (no-break spaces).

    Examples
    --------
    >>> format_fr(0.2341, "%").replace("\\u00a0", " ")
    '23,4 %'
    """
    number = format_number_fr(value, unit, decimals=decimals, na=na)
    if is_missing(value) or not unit:
        return number
    return f"{number}{NBSP}{unit}"


def format_gap_fr(difference: float, unit: str | None, texts: dict) -> str:
    """Format a difference: in percentage points for shares, in the unit otherwise.

    Parameters
    ----------
    difference : float
        Difference as stored (fractions for shares).
    unit : str, optional
        Unit of the values compared.
    texts : dict
        The ``narrative`` section of the locale (``points``, ``points_many``).

    Returns
    -------
    str
        For example ``"4,2 points"``, unsigned.
    """
    magnitude = abs(float(difference))
    if unit != SHARE_UNIT:
        return format_fr(magnitude, unit)
    number = format_number_fr(magnitude, SHARE_UNIT)
    key = "points" if display_value(magnitude, SHARE_UNIT) < 2 else "points_many"
    return texts[key].format(value=number)


def format_size_fr(n_bytes: int, units: list[str]) -> str:
    """Format a file size (``"12 ko"``, ``"1,5 Mo"``) with the locale's unit names."""
    size = float(n_bytes)
    for unit in units[:-1]:
        if size < 1000:
            return format_fr(size, unit, decimals=0 if size >= 10 or unit == units[0] else 1)
        size /= 1000
    return format_fr(size, units[-1], decimals=1)


_NUMBER_RE = re.compile(r"-?\d[\d\s\u00a0\u202f]*(?:,\d+)?")


def parse_fr(text: str) -> float:
    """Read back a number written by :func:`format_fr` (the unit is ignored).

    Parameters
    ----------
    text : str
        For example ``"1 234 ménages"`` or ``"23,4 %"``.

    Returns
    -------
    float
        The number as displayed: ``23.4`` for ``"23,4 %"``, not 0.234.
    """
    match = _NUMBER_RE.search(text)
    if match is None:
        raise ValueError(f"no French-formatted number in {text!r}")
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", match.group(0)).replace(",", ".")
    return float(cleaned)


@lru_cache(maxsize=None)
def load_texts(lang: str = "fr") -> dict:
    """Load the site's texts for a language from ``locales/<lang>.yaml``.

    Parameters
    ----------
    lang : str
        Language code; a file ``pipelines/report/locales/<lang>.yaml`` must exist.

    Returns
    -------
    dict
        Nested mapping of texts (treat as read-only: it is cached).
    """
    path = LOCALES_DIR / f"{lang}.yaml"
    if not path.exists():
        available = sorted(p.stem for p in LOCALES_DIR.glob("*.yaml"))
        raise ConfigError(f"{path}: no texts for language '{lang}'. "
                          f"Fix: use one of {available} or add {path.name} (copy fr.yaml).")
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)
