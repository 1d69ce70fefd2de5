"""Keys of low entropy are refused, and the per-clone sample key only serves territories
whose communes all have fictional codes; no message ever contains a key."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat

import pytest

from pipelines import config
from pipelines.errors import PrivacyError
from pipelines.privacy.keys import (
    FICTIONAL_PREFIXES,
    GENERATE_HINT,
    check_key_strength,
    ensure_sample_key,
    is_fictional_code,
    resolve_key,
)

ENV = config.PSEUDONYMISATION_KEY_ENV

WEAK = {
    "one character": "0" * 32,
    "one character, long": "x" * 200,
    "a word repeated": "datacites" * 4,
    "a short pattern": "abc" * 11,
    "a pattern cut short": "secret" * 5 + "se",
    "a pattern, case aside": "AbcAbcabcABC" * 3,
    "two characters": "ab" * 8 + "ba" * 8,
    "few distinct": "aabbccdd" * 2 + "ddccbbaa" * 2,
    "hex of zero bytes": "00" * 32,
    "hex of a word repeated": ("motdepasse" * 2).encode().hex(),
    "hex of a sequence": b"0123456789abcdef".hex(),
    "base64 of a word repeated": base64.b64encode(b"secret" * 4).decode(),
    "base64 of two bytes": base64.b64encode(b"\x00\x01" * 12).decode(),
    "a word repeated then a suffix": "abcdefghij" * 3 + "xy",
    "the alphabet": "abcdefghijklmnopqrstuvwxyz012345",
    "hex digits twice": "0123456789abcdef" * 2,
    "a keyboard row": "qwertyuiopasdfghjklzxcvbnmqwerty",
    "common words": "my-super-secret-pseudonymisation-key",
    "words and a year": "changeme-password-2024-secret-key",
    "words and a digit sequence": "passwordpassword1234567890123456",
    "digest of a word": hashlib.sha256(b"secret").hexdigest(),
    "digest of nothing": hashlib.sha256(b"").hexdigest(),
    "published example": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "framework placeholder": "django-insecure-" + "k3y" * 6,
}


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "state" / "pseudonymisation.key"
    monkeypatch.setattr(config, "SAMPLE_KEY_FILE", path)
    monkeypatch.delenv(ENV, raising=False)
    return path


@pytest.mark.parametrize("key", WEAK.values(), ids=WEAK.keys())
def test_weak_environment_keys_are_refused_with_the_fix_and_without_the_key(key_file, monkeypatch, key):
    assert len(key) >= 32  # refused for its entropy, not its length
    monkeypatch.setenv(ENV, key)
    for fictional in (True, False):
        with pytest.raises(PrivacyError) as error:
            resolve_key(fictional=fictional)
        message = str(error.value)
        assert "low entropy" in message and GENERATE_HINT in message and ENV in message
        assert key not in message and key.lower() not in message.lower()
        for part in {key[i:i + 12] for i in range(len(key) - 11)}:
            assert part not in message


@pytest.mark.parametrize("key", WEAK.values(), ids=WEAK.keys())
def test_check_key_strength_also_refuses_the_bytes(key):
    with pytest.raises(PrivacyError, match="low entropy"):
        check_key_strength(key.encode())


def test_strong_random_keys_are_accepted(key_file, monkeypatch):
    makers = (lambda: secrets.token_hex(16), lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32),
              lambda: base64.b64encode(secrets.token_bytes(24)).decode())
    for make in makers:
        for _ in range(500):
            check_key_strength(make())
    key = secrets.token_hex(32)
    monkeypatch.setenv(ENV, key)
    assert resolve_key(fictional=False) == key.encode()
    assert resolve_key(fictional=True, codes=["69123"]) == key.encode()  # the environment's key serves any territory
    check_key_strength(secrets.token_bytes(32))  # raw bytes, not text
    check_key_strength("correct-horse-battery-staple-ocelot-quinoa-verbatim")  # a random passphrase


def test_a_weak_sample_key_file_is_refused(key_file):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("0" * 64 + "\n")
    with pytest.raises(PrivacyError) as error:
        resolve_key(fictional=True)
    assert "low entropy" in str(error.value) and "0" * 16 not in str(error.value)


# --- the per-clone sample key and the territory's codes ----------------------------------

def test_fictional_codes_are_the_sample_generators():
    from pipelines.sample import FICTIONAL_DEPARTEMENTS, MAINLAND, OVERSEAS, commune_codes

    assert FICTIONAL_PREFIXES == FICTIONAL_DEPARTEMENTS
    for profile in (MAINLAND, OVERSEAS):
        assert all(is_fictional_code(code) for code in commune_codes(profile.communes, profile.first_commune))
    assert all(is_fictional_code(code) for code in commune_codes(500))  # a large sample uses other prefixes
    assert is_fictional_code("000010101")  # an IRIS of commune 00001
    for real in ("69123", "01053", "2A004", "2B033", "97209", "75056", "691230101", "", "0001", "nan", None, 69123):
        assert not is_fictional_code(real), real


def test_sample_key_serves_a_territory_whose_codes_are_all_fictional(key_file):
    ensure_sample_key()
    expected = key_file.read_text().strip().encode()
    assert resolve_key(fictional=True, codes=["00001", "00002", "000010101"]) == expected
    assert resolve_key(fictional=True, codes=iter(["00101", "00102", "00103"])) == expected


def test_sample_key_is_refused_for_a_fictional_flagged_territory_with_a_real_code(key_file):
    ensure_sample_key()
    sample = key_file.read_text().strip()
    with pytest.raises(PrivacyError) as error:
        resolve_key(fictional=True, codes=["00001", "69123"])
    message = str(error.value)
    assert "69123" in message and "fictional: true" in message and "fictional: false" in message
    assert ENV in message and GENERATE_HINT in message and sample not in message


def test_sample_key_copied_into_the_environment_is_refused_for_real_codes(key_file, monkeypatch):
    sample = ensure_sample_key().read_text().strip()
    monkeypatch.setenv(ENV, sample)
    with pytest.raises(PrivacyError) as error:
        resolve_key(fictional=True, codes=["691230101"])
    assert "a real territory needs its own secret" in str(error.value) and sample not in str(error.value)
    assert resolve_key(fictional=True, codes=["00001"]) == sample.encode()


def test_sample_key_is_refused_when_no_code_proves_the_territory_fictional(key_file):
    ensure_sample_key()
    with pytest.raises(PrivacyError, match="no commune code"):
        resolve_key(fictional=True, codes=[])
    with pytest.raises(PrivacyError, match="no commune code"):
        resolve_key(fictional=True, codes=[None, "", "nan"])


def test_many_real_codes_are_summarised(key_file):
    ensure_sample_key()
    with pytest.raises(PrivacyError) as error:
        resolve_key(fictional=True, codes=[f"69{n:03d}" for n in range(100, 120)])
    assert "and 15 more" in str(error.value)


def test_sample_key_file_is_0600_whatever_the_umask_and_a_loose_one_is_tightened(key_file):
    previous = os.umask(0o277)
    try:
        ensure_sample_key()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key_file.chmod(0o644)
    ensure_sample_key()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
