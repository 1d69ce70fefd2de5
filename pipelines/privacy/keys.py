"""Where the pseudonymisation key comes from.

A keyed pseudonym is only as good as its key: whoever holds it can recompute the
pseudonym of any meter number. So the key of a real territory comes from the
environment only (a secret store, a CI secret, a `.env` the authority controls), and is
never written by the framework. The embedded fictional territory may use a per-clone key
created in the ignored state folder, so that `make demo` works out of the box; that key
is refused for any real territory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pipelines import config
from pipelines.errors import PrivacyError

MIN_KEY_LENGTH = 32
GENERATE_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'


def resolve_key(*, fictional: bool) -> bytes:
    """Return the secret key for keyed pseudonyms (HMAC-SHA256).

    Parameters
    ----------
    fictional : bool
        Whether the territory is the embedded fictional one. Only then may the key come
        from the per-clone file ``config.SAMPLE_KEY_FILE`` when the environment has none.

    Returns
    -------
    bytes
        The key, at least ``MIN_KEY_LENGTH`` characters.

    Raises
    ------
    PrivacyError
        When the environment variable is too short, when a real territory has no key in
        the environment (or reuses the per-clone sample key), or when the fictional
        territory has neither the variable nor the sample key file.
    """
    name = config.PSEUDONYMISATION_KEY_ENV
    value = os.environ.get(name, "").strip()
    if value:
        _check_length(value, f"the environment variable {name}")
        if not fictional and value == _sample_key_text():
            raise PrivacyError(
                f"{name} holds the per-clone key of the fictional sample ({config.SAMPLE_KEY_FILE}); "
                f"a real territory needs its own secret. Generate one with {GENERATE_HINT}.")
        return value.encode("utf-8")
    if not fictional:
        raise PrivacyError(
            f"personal sources need {name}: set it to a secret of at least {MIN_KEY_LENGTH} "
            f"characters, kept out of the repository (generate one with {GENERATE_HINT}). "
            "The per-clone sample key is accepted only for the fictional territory.")
    return _read_sample_key().encode("utf-8")


def ensure_sample_key(path: Path | None = None) -> Path:
    """Create the per-clone key of the fictional territory if it does not exist yet.

    Parameters
    ----------
    path : Path, optional
        Where to write it; ``config.SAMPLE_KEY_FILE`` (read at call time) by default.

    Returns
    -------
    Path
        The key file, readable by its owner only (mode 0600).
    """
    path = Path(path or config.SAMPLE_KEY_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two concurrent `make demo` never overwrite each other's key, and the
        # mode is set at creation, so the secret is never readable by others, even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def _sample_key_text() -> str | None:
    path = Path(config.SAMPLE_KEY_FILE)
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _read_sample_key() -> str:
    path = Path(config.SAMPLE_KEY_FILE)
    value = _sample_key_text()
    if value is None:
        raise PrivacyError(
            f"no pseudonymisation key: set {config.PSEUDONYMISATION_KEY_ENV} (generate one with "
            f"{GENERATE_HINT}), or create the fictional territory's per-clone key {path} with "
            "`make demo` or `python -c \"from pipelines.privacy.keys import ensure_sample_key; "
            "ensure_sample_key()\"`.")
    _check_length(value, f"the sample key file {path}")
    return value


def _check_length(value: str, where: str) -> None:
    if len(value) < MIN_KEY_LENGTH:
        # The length is safe to say; the key itself never appears in a message.
        raise PrivacyError(
            f"{where} holds a key of {len(value)} characters; at least {MIN_KEY_LENGTH} are "
            f"needed so that pseudonyms cannot be brute-forced. Generate one with {GENERATE_HINT}.")
