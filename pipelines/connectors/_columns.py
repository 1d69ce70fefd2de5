"""Matching published column names to normalised ones.

Producers rename columns between editions and exports: ``Etiquette_DPE`` and
``etiquette_dpe``, ``Coordonnée_cartographique_X_(BAN)`` and
``coordonnee_cartographique_x_ban``, ``Valeur fonciere`` and ``valeur_fonciere``. Names are
compared by a *key*: lower case, accents removed, ``²`` as ``2``, every run of other
characters as one ``_``. A connector lists, for each output column, the keys it accepts
in order of preference; a card may name the source column itself with
``source_columns: {output: "Published name"}``.

Errors about a private or personal file never list its header (it may be a data row
when the header line is lost): only the expected names, those found, and the number of
fields (see :mod:`._sensitive`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from pipelines.connectors._sensitive import is_sensitive
from pipelines.errors import SourceError

__all__ = ["header_key", "resolve_columns", "require_exact"]

_NON_WORD = re.compile(r"[^a-z0-9]+")


def header_key(name: str) -> str:
    """Return the comparison key of a column name (``"N°DPE"`` -> ``"n_dpe"``)."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _NON_WORD.sub("_", plain).strip("_")


def resolve_columns(path: str | Path, header: list[str], aliases: dict[str, tuple[str, ...]], *,
                    required: tuple[str, ...] = (), overrides: dict[str, str] | None = None,
                    row: int | None = 1) -> dict[str, str]:
    """Map output column names to the header's names.

    Parameters
    ----------
    path : str or Path
        The file, for error messages.
    header : list of str
        Column names as published.
    aliases : dict
        Output name -> accepted keys (see :func:`header_key`), most preferred first.
    required : tuple of str
        Output names that must be found.
    overrides : dict, optional
        Output name -> published name, from the card's ``source_columns`` option.
    row : int or None, default 1
        Row to name in errors (the header line; None for layers).

    Returns
    -------
    dict
        Output name -> published name, for every output column found.

    Raises
    ------
    SourceError
        If a required column, or an overridden one, is missing.
    """
    by_key: dict[str, str] = {}
    for name in header:
        by_key.setdefault(header_key(name), name)
    found: dict[str, str] = {}
    for output, keys in aliases.items():
        match = next((by_key[key] for key in keys if key in by_key), None)
        if match is not None:
            found[output] = match
    accepted = {key for keys in aliases.values() for key in keys}
    known = [name for name in header if header_key(name) in accepted or name in (overrides or {}).values()]
    for output, name in (overrides or {}).items():
        if name not in header:
            raise SourceError(path, "the column named in `source_columns` is missing.", row=row,
                              column=name, fix=_columns_fix(header, known))
        found[output] = name
    for output in required:
        if output not in found:
            names = ", ".join(aliases.get(output, (output,)))
            raise SourceError(path, f"required column is missing (accepted names: {names}).",
                              row=row, column=output, fix=_columns_fix(header, known, output))
    return found


def require_exact(path: str | Path, header: list[str], names: list[str]) -> None:
    """Check that columns declared by name in a card are in the header, spelled exactly."""
    for name in names:
        if name not in header:
            raise SourceError(path, "a column declared in the source card is missing.", row=1,
                              column=name, fix=_columns_fix(header, [h for h in header if h in names],
                                                            expected=names).replace(
                                  "rename the column", "fix the card's `columns:` or the file"))


def _columns_fix(header: list[str], known: list[str], output: str | None = None,
                 expected: list[str] | None = None) -> str:
    """How to fix a missing column. A sensitive file's header is never listed: it may be a
    data row (see :mod:`._sensitive`); only the expected names found in it are."""
    hint = (f" or map it with `source_columns: {{{output}: <published name>}}`"
            if output else "")
    fix = f"rename the column{hint}."
    if expected:
        fix += f" The card declares: {', '.join(expected)}."
    count = f"{len(header)} field{'s' if len(header) != 1 else ''}"
    if not known:
        fix += (f" The first line ({count}) holds no expected column name: check the separator (`sep:`), "
                "or restore the header line if the file has lost it.")
    if is_sensitive():
        found = f" Expected names in its header ({count}): {', '.join(known)}." if known else ""
        return fix + found + " Other names are not shown: the file is private or personal."
    shown = ", ".join(header[:40]) + (" ..." if len(header) > 40 else "")
    return fix + f" The file's columns are: {shown}."
