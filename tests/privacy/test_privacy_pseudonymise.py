"""Keyed pseudonyms: stable for a key, different across keys, unkeyed hashes refused."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PrivacyError
from pipelines.privacy.pseudonymise import check_method, pseudonymise

KEY = bytes.fromhex("9e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a5c7e9b0d2f4a6c8e1b3d5f7a9c0e2d")  # fixed, random
METERS = pd.Series(["14012345678901", "14012345678902", "14012345678901", None], name="numero_compteur")


def test_pseudonym_is_the_hmac_sha256_of_the_identifier():
    out = pseudonymise(METERS, KEY)
    assert out[0] == hmac.new(KEY, b"14012345678901", hashlib.sha256).hexdigest()
    assert out.name == "numero_compteur" and out.index.equals(METERS.index)


def test_stable_for_a_key_and_linking_equal_identifiers():
    first, second = pseudonymise(METERS, KEY), pseudonymise(METERS, KEY)
    assert first.equals(second)
    assert first[0] == first[2] and first[0] != first[1]
    assert pd.isna(first[3])


def test_different_keys_give_unrelated_pseudonyms():
    other = bytes.fromhex("3f8a1c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a")
    a, b = pseudonymise(METERS, KEY), pseudonymise(METERS, other)
    assert not (a.dropna() == b.dropna()).any()


def test_plain_hash_is_not_what_comes_out():
    plain = hashlib.sha256(b"14012345678901").hexdigest()
    assert pseudonymise(METERS, KEY)[0] != plain


@pytest.mark.parametrize("method", ["sha256", "SHA-256", "md5", None, ""])
def test_unkeyed_hash_config_is_refused_explaining_enumeration(method):
    with pytest.raises(PrivacyError) as error:
        pseudonymise(METERS, KEY, method=method)
    assert "14-digit meter number" in str(error.value)
    assert "hmac-sha256" in str(error.value)


def test_keyed_method_is_accepted():
    assert check_method("HMAC-SHA256") == "hmac-sha256"


@pytest.mark.parametrize("key", [None, b"", b"short"])
def test_missing_or_short_key_is_refused(key):
    with pytest.raises(PrivacyError):
        pseudonymise(METERS, key)


def test_float_identifiers_are_refused():
    with pytest.raises(TypeError, match="as text"):
        pseudonymise(pd.Series([14012345678901.0]), KEY)


def test_a_hundred_thousand_distinct_meters_get_distinct_pseudonyms():
    # One HMAC per distinct value; its speed beside a plain loop: benchmarks/bench_hot_paths.py.
    values = pd.Series(np.arange(10**13, 10**13 + 100_000).astype(str))
    out = pseudonymise(values, KEY)
    assert out.nunique() == len(values)
