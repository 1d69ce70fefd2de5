"""Detectors of values that look like direct identifiers.

They report *what kind* of identifier was seen and *where* (an offset), never the value:
their output goes into audit findings, logs and error messages.

Kinds: ``digest`` (32 to 128 hexadecimal characters: a keyed pseudonym or a plain hash),
``address`` (a street address as the BAN writes it: "12 bis rue des Lilas"),
``meter_number`` (14 digits, the PDL/PRM of electricity and gas meters; SIRET
numbers have the same shape and are flagged too), ``nir`` (French social security
number, 13 digits or 15 with its key, spaced or not), ``email``, ``phone`` (French
numbers, national or +33/0033). Runs of one repeated digit and the digit alphabet
(``00000000000000``, ``0123456789...``, found in JavaScript libraries) are ignored:
nobody holds them.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

import numpy as np

# A letter, digit or decimal point around a digit run makes it part of a longer token or
# number; a comma (CSV fields), an underscore or a dash (file names) does not.
_NOT_AFTER = r"(?<![A-Za-z0-9.])"
_NOT_BEFORE = r"(?![A-Za-z0-9]|\.\d)"
PATTERNS: dict[str, re.Pattern] = {
    "meter_number": re.compile(_NOT_AFTER + r"\d{14}" + _NOT_BEFORE),
    "nir": re.compile(_NOT_AFTER + r"(?:[12]\d{2}(?:0[1-9]|1[0-2])(?:2[AB]|\d{2})\d{6}(?:\d{2})?"
                      r"|[12] \d{2} (?:0[1-9]|1[0-2]) (?:2[AB]|\d{2}) \d{3} \d{3}(?: \d{2})?)" + _NOT_BEFORE),
    # Anchored on "@" so the scan does not backtrack at every character of a large page.
    "email": re.compile(r"(?<=[A-Za-z0-9_%+-])@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"),
    "phone": re.compile(r"(?<![A-Za-z0-9.+])(?:(?:\+|00)33[ .-]?(?:\(0\))?|0)[1-9](?:[ .-]?\d{2}){4}" + _NOT_BEFORE),
}
# A hexadecimal digest: our keyed pseudonyms (HMAC-SHA256, 64 characters), and the
# unkeyed MD5, SHA-1 and SHA-256 of an identifier a careless step might publish.
DIGEST = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)(?:[0-9a-f]{32,128}|[0-9A-F]{32,128})"
                    r"(?![0-9A-Za-z])")
# A street address as the BAN writes it: a number (bis, ter...), a kind of street, a name.
_STREET = ("rue|avenue|av|boulevard|bd|place|pl|chemin|impasse|imp|allée|allee|route|rte|quai|cours|square|"
           "passage|faubourg|fbg|voie|résidence|residence|lotissement|hameau|sentier|cité|cite|rond-point|"
           "esplanade|promenade|parvis|villa|ruelle|traverse|montée|montee|chaussée|chaussee|clos|mail")
ADDRESS = re.compile(r"(?<![\w.])\d{1,4}(?:\s?(?:bis|ter|quater|[A-Da-d]))?,?\s+(?:" + _STREET + r")\.?\s+"
                     r"(?:d[eu']\s?|des\s|de\sla\s|l')?[A-Za-zÀ-ÿ]", re.IGNORECASE)
LABELS = {
    "digest": "a hexadecimal digest (a pseudonym or a hash of an identifier)",
    "address": "a street address",
    "meter_number": "a 14-digit number (meter PDL/PRM or SIRET)",
    "nir": "a French social security number (NIR)",
    "email": "an e-mail address",
    "phone": "a French phone number",
}


# Every digit-based identifier holds a run of at least 9 digits, possibly split by single
# spaces, dots or dashes. Finding those runs first, then testing the exact patterns on a
# small window around each, is several times faster on large pages than running every
# pattern over the whole text.
_DIGIT_RUN = re.compile(r"\d(?:[ .-]?\d){8,}")
_MARGIN = 10


def find_identifiers(text: str) -> Iterator[tuple[str, int]]:
    """Yield ``(kind, offset)`` for every identifier-like value in `text`, by offset."""
    hits: set[tuple[str, int]] = set()
    for run in _DIGIT_RUN.finditer(text):
        start = max(0, run.start() - _MARGIN)
        window = text[start:run.end() + _MARGIN]
        for kind in ("meter_number", "nir", "phone"):
            hits.update((kind, start + m.start()) for m in PATTERNS[kind].finditer(window) if _plausible(m.group()))
    if "@" in text:
        hits.update(("email", m.start()) for m in PATTERNS["email"].finditer(text))
    hits.update(("digest", m.start()) for m in DIGEST.finditer(text))
    hits.update(("address", m.start()) for m in ADDRESS.finditer(text))
    yield from sorted(hits, key=lambda hit: (hit[1], hit[0]))


def redact(text: str, mask: str = "[identifiant]") -> str:
    """`text` with every identifier-like value replaced by `mask` (for short texts: names)."""
    for kind, pattern in PATTERNS.items():
        text = pattern.sub(lambda m, kind=kind: mask if kind == "email" or _plausible(m.group()) else m.group(), text)
    return text


def _plausible(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return len(set(digits)) > 1 and not digits.startswith("0123456789")


def numeric_identifiers(values: Iterable | np.ndarray) -> set[str]:
    """Kinds of identifiers found among numbers (a meter number stored as an integer).

    Only integral values of 13 to 15 digits are looked at: phone numbers lose their
    leading zero as numbers, and shorter numbers are ordinary counts or codes.
    """
    array = np.asarray(values, dtype="float64").ravel()
    array = array[np.isfinite(array)]
    candidates = array[(array >= 1e12) & (array < 1e15) & (array == np.round(array))]
    kinds = set()
    for value in np.unique(candidates)[:10000]:
        text = str(int(value))
        kinds.update(kind for kind, _ in find_identifiers(text))
    return kinds


def line_of(text: str, offset: int) -> int:
    """1-based line number of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1
