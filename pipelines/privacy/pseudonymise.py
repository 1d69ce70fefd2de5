"""Keyed pseudonyms for direct identifiers (meter numbers, respondent ids...).

A plain hash is not a pseudonym: a meter number (PDL/PRM) has 14 digits, so the 10**14
possible values can be hashed and looked up, and a SHA-256 of one is as good as the
number itself. Only a keyed hash (HMAC-SHA256 with a secret kept out of the project)
resists that enumeration. Pseudonyms exist only inside the anonymiser, to link a unit's
rows (a household's months); they are never published.

Cost: one HMAC per *distinct* value (values are factorised first), about 1.5 s per
million distinct values on one core (measured on the 2-core CI machine).
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from pipelines.errors import PrivacyError

METHOD = "hmac-sha256"
MIN_KEY_BYTES = 16
_UNKEYED = {"sha256", "sha-256", "sha1", "sha-1", "md5", "sha512", "hash", "plain", "none", "unkeyed"}


def check_method(method: str | None) -> str:
    """Accept only the keyed method; refuse plain hashes with the reason.

    Parameters
    ----------
    method : str or None
        The ``method:`` of a source card's aggregation section.

    Returns
    -------
    str
        ``"hmac-sha256"``.

    Raises
    ------
    PrivacyError
        For any other method, in particular unkeyed hashes.
    """
    normalised = (method or "").strip().lower()
    if normalised == METHOD:
        return METHOD
    why = ("an unkeyed hash can be reversed by enumeration: a 14-digit meter number has only "
           "10**14 possible values, all of which can be hashed and matched"
           if normalised in _UNKEYED or not normalised else "it is not a supported pseudonymisation method")
    raise PrivacyError(f"pseudonymisation method '{method}' is refused: {why}. "
                       f"Use method: {METHOD} with a secret key (DATACITES_PSEUDONYMISATION_KEY).")


def pseudonymise(values: pd.Series, key: bytes, *, method: str = METHOD) -> pd.Series:
    """Replace identifiers by their HMAC-SHA256 under `key` (64 hexadecimal characters).

    Parameters
    ----------
    values : pandas.Series
        Identifiers, read as text (integers are accepted and written in base 10; floats are
        refused, since a float may have lost digits of a 14-digit number). Missing values
        stay missing.
    key : bytes
        The secret from :func:`pipelines.privacy.keys.resolve_key`.
    method : str, default "hmac-sha256"
        Only the keyed method is accepted.

    Returns
    -------
    pandas.Series
        Same index and name, dtype ``str``; equal identifiers give equal pseudonyms for one
        key, and unrelated ones for another key.

    Raises
    ------
    PrivacyError
        When the key is missing or too short, or the method is not keyed.
    """
    check_method(method)
    check_key(key)
    if pd.api.types.is_float_dtype(values.dtype):
        raise TypeError(f"column '{values.name}' holds floats: read identifiers as text "
                        "(dtype=str), a float may have lost digits")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    digests = np.array([hmac.digest(key, str(u).encode("utf-8"), hashlib.sha256).hex() for u in uniques]
                       + [np.nan], dtype=object)
    # The sentinel -1 picks the trailing NaN: missing identifiers stay missing.
    return pd.Series(digests[codes], index=values.index, name=values.name, dtype="str")


def check_key(key: bytes | None) -> None:
    """Refuse a missing, non-bytes or short key (PrivacyError / TypeError)."""
    if key is None or len(key) == 0:
        raise PrivacyError("pseudonymisation needs a secret key; none was given. Set "
                           "DATACITES_PSEUDONYMISATION_KEY (see pipelines.privacy.keys.resolve_key).")
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError("the pseudonymisation key must be bytes (resolve_key returns it)")
    if len(key) < MIN_KEY_BYTES:
        raise PrivacyError(f"the pseudonymisation key has {len(key)} bytes; at least {MIN_KEY_BYTES} "
                           "are needed so that pseudonyms cannot be brute-forced.")
    from pipelines.privacy.keys import check_key_strength

    check_key_strength(bytes(key))  # a long but guessable key ("0" * 32) is no secret
