"""Where the pseudonymisation key comes from, and the errors a person can act on."""

from __future__ import annotations

import stat

import pytest

from pipelines import config
from pipelines.errors import PrivacyError
from pipelines.privacy.keys import ensure_sample_key, resolve_key

ENV = config.PSEUDONYMISATION_KEY_ENV
GOOD = "a" * 16 + "0123456789abcdef0123"


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "state" / "pseudonymisation.key"
    monkeypatch.setattr(config, "SAMPLE_KEY_FILE", path)
    monkeypatch.delenv(ENV, raising=False)
    return path


def test_environment_key_is_used_for_any_territory(key_file, monkeypatch):
    monkeypatch.setenv(ENV, GOOD)
    assert resolve_key(fictional=False) == GOOD.encode()
    assert resolve_key(fictional=True) == GOOD.encode()


def test_missing_key_for_a_real_territory_is_refused_with_the_fix(key_file):
    ensure_sample_key()  # even with a sample key on disk
    with pytest.raises(PrivacyError) as error:
        resolve_key(fictional=False)
    message = str(error.value)
    assert "personal sources need DATACITES_PSEUDONYMISATION_KEY" in message
    assert "secrets.token_hex(32)" in message


def test_short_environment_key_is_refused_without_echoing_it(key_file, monkeypatch):
    monkeypatch.setenv(ENV, "tooshort-secret")
    with pytest.raises(PrivacyError) as error:
        resolve_key(fictional=True)
    assert "tooshort-secret" not in str(error.value)
    assert "15 characters" in str(error.value)


def test_fictional_territory_falls_back_to_the_per_clone_key(key_file):
    path = ensure_sample_key()
    assert path == key_file
    key = resolve_key(fictional=True)
    assert len(key) == 64 and key == key_file.read_text().strip().encode()


def test_fictional_territory_without_any_key_says_how_to_create_one(key_file):
    with pytest.raises(PrivacyError, match="make demo"):
        resolve_key(fictional=True)


def test_sample_key_copied_into_the_environment_is_refused_for_a_real_territory(key_file, monkeypatch):
    monkeypatch.setenv(ENV, ensure_sample_key().read_text().strip())
    with pytest.raises(PrivacyError, match="a real territory needs its own secret"):
        resolve_key(fictional=False)


def test_sample_key_is_private_and_never_overwritten(key_file):
    first = ensure_sample_key().read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert ensure_sample_key().read_text() == first
    assert ensure_sample_key(key_file.parent / "other.key").read_text() != first
