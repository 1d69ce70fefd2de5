"""Where the pseudonymisation key comes from, and which keys are refused.

A keyed pseudonym is only as good as its key: whoever holds it can recompute the
pseudonym of any meter number. So the key of a real territory comes from the
environment only (a secret store, a CI secret, a `.env` the authority controls), and is
never written by the framework. The embedded fictional territories may use a per-clone
key created in the ignored state folder, so that `make demo` works out of the box; that
key is refused for any territory whose communes are not all fictional codes, whatever
its card says (a real territory copied from `sample.yaml` may keep `fictional: true`).

Every key is checked for length and for low entropy (:func:`check_key_strength`): one
character repeated, a short pattern or word repeated, hexadecimal or base64 of such,
too few distinct characters, a well-known sequence, common words, published example
keys. The checks catch careless keys, not every weak one: generate keys, never type them.
Messages say why a key is refused, never the key or the pattern found in it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from pipelines import config
from pipelines.errors import PrivacyError

MIN_KEY_LENGTH = 32
GENERATE_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'

# Département prefixes of the sample generator's commune codes, none of which is a
# current commune's (pipelines.sample.names.FICTIONAL_DEPARTEMENTS, copied so that this
# module does not import the generator; a test keeps the two equal). Real INSEE codes
# never start with 00.
FICTIONAL_PREFIXES = ("00", "96", "20", "970", "979", "980", "981", "982", "983", "985", "99")

# At least this many distinct characters (and, for a key written in hex or base64, distinct
# bytes once decoded). A random 32-character hex key has fewer than 8 with probability
# 4e-8, 16 random bytes with probability 6e-13.
MIN_DISTINCT = 8
# At least this many characters that do not repeat an earlier part of the key (a greedy
# LZ77 parse, repeats of 4 characters or more counting as one): "a word repeated, then a
# few more characters" is as weak as the word. A random key scores about its length.
MIN_NOVEL = 16
_MIN_REPEAT = 4

# Well-known orderings (a key that is a stretch of one of them, repeated or not, in
# either direction, is refused).
_SEQUENCES = (
    "0123456789abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789",
    "0123456789abcdef", "abcdefghijklmnopqrstuvwxyz", "1234567890",
    "qwertyuiopasdfghjklzxcvbnm", "azertyuiopqsdfghjklmwxcvbn", "1234567890qwertyuiop",
    "1234567890azertyuiop", "qwertzuiopasdfghjklyxcvbnm",
)
# Words of careless keys and placeholders, longest matched first; a key that is only
# these words (and separators, digits kept aside) is refused.
_WEAK_WORDS = (
    "pseudonymisation", "pseudonymization", "development", "fictiville", "motdepasse", "production",
    "datacites", "changeme", "password", "insecure", "pseudonym", "chiffrement", "example", "default",
    "letmein", "testing", "private", "sample", "secret", "secrete", "passwd", "sha256", "qwerty",
    "azerty", "dummy", "token", "admin", "local", "super", "clef", "hmac", "test", "demo", "pass",
    "prod", "keys", "key", "dev", "cle", "my", "the", "our", "your", "not", "a",
)
# Published example secrets (cloud and framework documentation); digests of a weak word
# (or of nothing) are refused as well.
_KNOWN_KEYS = frozenset({
    "wjalrxutnfemi/k7mdeng/bpxrficyexamplekey",  # the AWS documentation's secret key
})
_KNOWN_PREFIXES = ("django-insecure-",)


def resolve_key(*, fictional: bool, codes: Iterable[str] | None = None) -> bytes:
    """Return the secret key for keyed pseudonyms (HMAC-SHA256).

    Parameters
    ----------
    fictional : bool
        Whether the territory's card says it is fictional. Only then may the key come
        from the per-clone file ``config.SAMPLE_KEY_FILE`` when the environment has none.
    codes : iterable of str, optional
        The territory's commune codes (or IRIS codes: their first five characters are
        the commune's), e.g. its card's communes and the ``code_commune`` of its staged
        IRIS. When given, the per-clone key is accepted only if there is at least one
        code and every one is a fictional code (:func:`is_fictional_code`). When omitted,
        ``fictional`` alone decides (the behaviour before codes were checked; callers
        should pass the codes).

    Returns
    -------
    bytes
        The key, at least ``MIN_KEY_LENGTH`` characters, not of low entropy.

    Raises
    ------
    PrivacyError
        When the key is too short or of low entropy, when a real territory (or one whose
        codes are not all fictional) has no key in the environment or reuses the
        per-clone sample key, or when the fictional territory has neither the variable
        nor the sample key file. The message never contains the key.
    """
    name = config.PSEUDONYMISATION_KEY_ENV
    refusal = None if fictional else "not_fictional"
    if fictional and codes is not None:
        refusal = _real_codes_refusal(codes)
    value = os.environ.get(name, "").strip()
    if value:
        where = f"the environment variable {name}"
        _check_length(value, where)
        check_key_strength(value, where=where)
        sample = _sample_key_text()
        if refusal and sample is not None and hmac.compare_digest(value.encode(), sample.encode()):
            raise PrivacyError(
                f"{name} holds the per-clone key of the fictional sample ({config.SAMPLE_KEY_FILE}); "
                f"a real territory needs its own secret. Generate one with {GENERATE_HINT}."
                + ("" if refusal == "not_fictional" else f" {refusal}"))
        return value.encode("utf-8")
    if refusal == "not_fictional":
        raise PrivacyError(
            f"personal sources need {name}: set it to a secret of at least {MIN_KEY_LENGTH} "
            f"characters, kept out of the repository (generate one with {GENERATE_HINT}). "
            "The per-clone sample key is accepted only for the fictional territory.")
    if refusal:
        raise PrivacyError(
            f"personal sources need {name}: {refusal} Set {name} to a secret of at least "
            f"{MIN_KEY_LENGTH} characters kept out of the repository (generate one with {GENERATE_HINT}), "
            "and set `fictional: false` in the territory's card if it is a real one.")
    return _read_sample_key().encode("utf-8")


def is_fictional_code(code) -> bool:
    """Whether a commune code (or an IRIS code, commune code + 4 digits) is one the sample
    generator makes, which no real commune has (départements 00, 96, 20, 970...)."""
    text = str(code).strip()
    if re.fullmatch(r"\d{9}", text):
        text = text[:5]
    return bool(re.fullmatch(r"\d{5}", text)) and text.startswith(FICTIONAL_PREFIXES)


def check_key_strength(key: str | bytes, *, where: str = "the pseudonymisation key") -> None:
    """Refuse a key of low entropy (PrivacyError naming the reason, never the key).

    Refused: one character repeated; a pattern repeated (``abcabc...``, a word repeated,
    case aside), also once decoded from hexadecimal or base64; fewer than
    ``MIN_DISTINCT`` distinct characters (or decoded bytes); fewer than ``MIN_NOVEL``
    characters that do not repeat an earlier part of the key; a stretch of a well-known
    sequence (alphabet, digits, keyboard rows); only common words (secret, password,
    changeme, test...); a published example key or the digest of a common word. The
    length is checked separately (``MIN_KEY_LENGTH``).

    Parameters
    ----------
    key : str or bytes
        The key as configured (text) or as given to HMAC (bytes, read as UTF-8 text when
        it is, else checked as bytes).
    where : str
        Where the key comes from, for the message (an environment variable, a file).
    """
    text = key.decode("utf-8", errors="strict") if isinstance(key, bytes) and _is_utf8(key) else key
    reason = _weakness(text)
    if reason:
        # Only the kind of weakness: neither the key, nor its pattern, nor its period.
        raise PrivacyError(
            f"{where} holds a key of low entropy ({reason}): its pseudonyms could be recomputed by "
            f"guessing it. Use a random key of at least {MIN_KEY_LENGTH} characters: generate one with "
            f"{GENERATE_HINT}, and never type or derive it from words.")


def ensure_sample_key(path: Path | None = None) -> Path:
    """Create the per-clone key of the fictional territory if it does not exist yet.

    Parameters
    ----------
    path : Path, optional
        Where to write it; ``config.SAMPLE_KEY_FILE`` (read at call time) by default.

    Returns
    -------
    Path
        The key file, readable by its owner only (mode 0600, also when it existed with
        a looser mode); a folder created for it is owner-only (0700).
    """
    path = Path(path or config.SAMPLE_KEY_FILE)
    for folder in reversed([p for p in (path.parent, *path.parent.parents) if not p.exists()]):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by a concurrent run: leave it as it is
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    try:
        # O_EXCL: two concurrent `make demo` never overwrite each other's key, and the
        # mode is set at creation, so the secret is never readable by others, even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
        return path
    os.fchmod(fd, 0o600)  # exactly 0600 whatever the umask
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def _real_codes_refusal(codes: Iterable[str]) -> str | None:
    """Why the per-clone key is refused for these codes, or None when all are fictional."""
    codes = sorted({str(code).strip() for code in codes if code is not None and str(code).strip()
                    and str(code).strip().lower() not in ("nan", "none", "<na>")})
    if not codes:
        return ("the territory's card says `fictional: true` but it has no commune code to prove it "
                "(the per-clone sample key is only for territories whose communes all have fictional codes).")
    real = [code for code in codes if not is_fictional_code(code)]
    if not real:
        return None
    # Commune codes are public (the COG); naming a few helps find the card's mistake.
    shown = ", ".join(real[:5]) + (f" and {len(real) - 5} more" if len(real) > 5 else "")
    return (f"the territory's card says `fictional: true` but its communes include real INSEE codes ({shown}); "
            "the per-clone sample key is only for territories whose communes all have fictional codes "
            f"(départements {', '.join(FICTIONAL_PREFIXES[:2])}...).")


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
    check_key_strength(value, where=f"the sample key file {path} (delete it to have a new one made)")
    return value


def _check_length(value: str, where: str) -> None:
    if len(value) < MIN_KEY_LENGTH:
        # The length is safe to say; the key itself never appears in a message.
        raise PrivacyError(
            f"{where} holds a key of {len(value)} characters; at least {MIN_KEY_LENGTH} are "
            f"needed so that pseudonyms cannot be brute-forced. Generate one with {GENERATE_HINT}.")


# --- low entropy ------------------------------------------------------------------------

def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _weakness(key: str | bytes) -> str | None:
    """The kind of weakness of a key, or None."""
    if isinstance(key, bytes):
        return _sequence_weakness(key, decoded=False)
    lowered = key.lower()
    if lowered in _KNOWN_KEYS or lowered.startswith(_KNOWN_PREFIXES):
        return "a published example key"
    if lowered in _weak_digests():
        return "the digest of a common word"
    for form in (key, lowered):
        reason = _sequence_weakness(form, decoded=False)
        if reason:
            return reason
    if _novel(lowered) < MIN_NOVEL:
        return "mostly repeats of its own parts"
    if _known_sequence(lowered):
        return "a stretch of a well-known sequence"
    if _only_words(lowered):
        return "made of common words"
    for decoded in _decodings(key):
        reason = _sequence_weakness(decoded, decoded=True)
        if reason:
            return reason + ", once decoded"
        if _known_sequence(decoded.decode("latin-1").lower()):
            return "a stretch of a well-known sequence, once decoded"
    return None


def _sequence_weakness(items: str | bytes, *, decoded: bool) -> str | None:
    distinct = len(set(items))
    if distinct <= 1:
        return "one character repeated" if not decoded else "one byte repeated"
    if _period(items) <= len(items) // 2:
        return "a short pattern repeated"
    if distinct < MIN_DISTINCT:
        return "too few distinct characters" if not decoded else "too few distinct bytes"
    return None


def _period(items: str | bytes) -> int:
    """Smallest p such that items[i] == items[i + p] for every i (the last repetition may
    be cut short): the prefix function of Knuth-Morris-Pratt."""
    n = len(items)
    border = [0] * n
    for i in range(1, n):
        k = border[i - 1]
        while k and items[i] != items[k]:
            k = border[k - 1]
        if items[i] == items[k]:
            k += 1
        border[i] = k
    return n - border[-1] if n else 0


def _novel(text: str) -> int:
    """Tokens of a greedy LZ77 parse, counted up to ``MIN_NOVEL``: literals, and one per
    repeat of an earlier part of at least ``_MIN_REPEAT`` characters (overlapping the
    current position allowed)."""
    tokens, i, n = 0, 0, len(text)
    while i < n and tokens < MIN_NOVEL:
        best = 0
        for start in range(i):
            length = 0
            while i + length < n and text[start + length] == text[i + length]:
                length += 1
            best = max(best, length)
        tokens += 1
        i += best if best >= _MIN_REPEAT else 1
    return tokens


def _known_sequence(text: str) -> bool:
    for sequence in _SEQUENCES:
        for ordered in (sequence, sequence[::-1]):
            cycle = ordered * (len(text) // len(ordered) + 2)
            if text in cycle:
                return True
    return False


def _only_words(text: str) -> bool:
    """Whether the key's letters are only common words, and the rest (digits, other than a
    stretch of 0123456789 or one digit repeated) is fewer than ``MIN_NOVEL`` characters."""
    letters = re.findall(r"[a-z]+", text)
    if not all(_segments(run) for run in letters):
        return False
    digits = [run for run in re.findall(r"[0-9]+", text)
              if len(set(run)) > 1 and not _known_sequence(run)]
    others = re.sub(r"[a-z0-9]", "", text)
    return sum(map(len, digits)) + len(set(others)) < MIN_NOVEL


def _segments(run: str) -> bool:
    """Whether a run of letters is a concatenation of common words."""
    ends = [True] + [False] * len(run)
    for end in range(1, len(run) + 1):
        ends[end] = any(ends[end - len(word)] and run.endswith(word, 0, end)
                        for word in _WEAK_WORDS if len(word) <= end)
    return ends[-1]


@functools.lru_cache(maxsize=1)
def _weak_digests() -> frozenset[str]:
    words = ("", *_WEAK_WORDS, "123456", "12345678", "0", "1")
    return frozenset(hashlib.new(algorithm, word.encode()).hexdigest()
                     for word in words for algorithm in ("md5", "sha1", "sha256", "sha512"))


def _decodings(key: str) -> list[bytes]:
    """The key's bytes when it is written in hexadecimal or base64 (either may be how a
    weak key was disguised)."""
    found = []
    if len(key) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", key):
        found.append(bytes.fromhex(key))
    elif re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", key) and len(key) % 4 == 0:
        with contextlib.suppress(binascii.Error, ValueError):
            found.append(base64.b64decode(key.replace("-", "+").replace("_", "/"), validate=True))
    return found
