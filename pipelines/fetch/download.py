"""Resumable HTTP downloads with the standard library: `.part` files, Range requests,
SHA-256 checks and errors a person can act on (docs/fetch.md).

A file is written to `<name>.part` and renamed to `<name>` only once it is complete and
its checksum, when one is declared, matches: a failure never leaves a truncated file under
the final name, nor replaces one. An interrupted transfer resumes from the bytes already
there with `Range: bytes=<size>-`, guarded by `If-Range` (the ETag or Last-Modified of
the first response, kept beside the part) so that a file changed upstream meanwhile is
downloaded again rather than spliced.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from pipelines.errors import DatacitesError
from pipelines.fingerprints import sha256_of

__all__ = ["FetchError", "NotFound", "Downloaded", "download", "mirrored", "sha256_of", "USER_AGENT"]

USER_AGENT = "datacites-fetch/0.1 (open data for French local authorities)"
CHUNK = 1 << 20
TIMEOUT_S = 60.0
RETRIES = 3
BACKOFF_S = 0.5
_CONTENT_RANGE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)

# A progress hook: called with (total bytes or None, bytes so far) as a transfer goes.
ProgressHook = Callable[[int | None, int], None]


class FetchError(DatacitesError):
    """A national file could not be downloaded, checked or cut; the message says why and what to do."""


class NotFound(FetchError):
    """The server answered 404 (e.g. a commune without any sale in a per-commune file set)."""

    def __init__(self, url: str):
        self.url = url
        super().__init__(f"{url} answered 404 Not Found: the address may have moved. Check it (docs/fetch.md) "
                         "or give the new one in the territory card, `sources.<id>.download.url`")


@dataclass(frozen=True)
class Downloaded:
    """A complete file: its path, checksum, size, the address fetched and the next page, if any."""

    path: Path
    sha256: str
    size: int
    fetched_from: str
    next_url: str | None = None
    reused: bool = False


def mirrored(url: str, mirror: str | None) -> str:
    """`url` with its scheme and host replaced by `mirror` (a base URL, possibly with a path)."""
    if not mirror:
        return url
    base = urlsplit(mirror.rstrip("/"))
    if base.scheme not in ("http", "https") or not base.netloc:
        raise FetchError(f"--mirror {mirror!r} is not an http(s):// address; give a base URL such as "
                         "https://data.example.fr/mirror")
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))


def download(url: str, dest: Path, *, source: str, sha256: str | None = None, mirror: str | None = None,
             timeout: float = TIMEOUT_S, retries: int = RETRIES, hook: ProgressHook | None = None) -> Downloaded:
    """Download `url` (through `mirror` if given) to `dest`, resuming a `dest.part` left behind.

    Parameters
    ----------
    url : str
        The documented address (recorded as such; `mirror` only changes where it is fetched).
    dest : Path
        Final name; the transfer goes to `<dest>.part` and is renamed when complete.
    source : str
        Id of the source, named in errors.
    sha256 : str, optional
        Expected checksum: a mismatch deletes the part and raises, leaving `dest` as it was.
    timeout : float
        Seconds without an answer before a connection or a read gives up.
    retries : int
        Interrupted transfers resumed in this call before giving up (the part is kept, so
        running the command again resumes too).

    Raises
    ------
    NotFound
        The server answered 404.
    FetchError
        Unreachable host ("could not reach ..."), another HTTP error, an interrupted
        transfer after `retries` resumptions, or a checksum mismatch.
    """
    target = mirrored(url, mirror)
    part = dest.with_name(dest.name + ".part")
    meta = dest.with_name(dest.name + ".part.json")
    dest.parent.mkdir(parents=True, exist_ok=True)
    attempt = 0
    while True:
        outcome = _attempt(target, part, meta, source=source, timeout=timeout, hook=hook)
        if outcome is None:
            break
        attempt += 1
        if attempt > retries:
            have = part.stat().st_size if part.exists() else 0
            raise FetchError(f"source '{source}': the transfer of {target} was interrupted after {have:,} bytes "
                             f"({outcome}). Run the same command again: it resumes from there")
        time.sleep(BACKOFF_S * attempt)
    info = _read_meta(meta)
    found = sha256_of(part)
    if sha256 is not None and found != sha256:
        part.unlink()
        meta.unlink(missing_ok=True)
        raise FetchError(f"source '{source}': {target} does not have the declared checksum (expected sha256 "
                         f"{sha256}, found {found}); the download was deleted and the cache left as it was. "
                         "Check the address, or update `download.sha256` if the producer published a new file")
    size = part.stat().st_size
    os.replace(part, dest)
    meta.unlink(missing_ok=True)
    return Downloaded(dest, found, size, target, info.get("next"))


def _attempt(target: str, part: Path, meta: Path, *, source: str, timeout: float,
             hook: ProgressHook | None) -> str | None:
    """One request: None when the part is complete, else why the transfer stopped short."""
    offset = part.stat().st_size if part.exists() else 0
    info = _read_meta(meta) if offset else {}
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if info.get("validator"):
            headers["If-Range"] = info["validator"]
    try:
        response = urllib.request.urlopen(urllib.request.Request(target, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            total = _content_range(exc.headers.get("Content-Range"))[2]
            if total == offset:
                return None  # the part already holds the whole file
            part.unlink()
            return "the server refused to resume; starting again"
        if exc.code == 404:
            raise NotFound(target) from None
        hint = " The server may be busy: try again later." if exc.code >= 500 else ""
        raise FetchError(f"source '{source}': {target} answered {exc.code} {exc.reason}.{hint} Check the "
                         "address (docs/fetch.md) or pass --mirror") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise unreachable(target, exc) from None
    with response:
        if response.status == 206 and offset:
            start, _, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                part.unlink()
                return "the server resumed at another offset; starting again"
            mode = "ab"
        else:  # a full answer: the server ignores ranges, or the file changed upstream
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            _write_meta(meta, response.headers, target)
        done = offset
        if hook:
            hook(total, done)
        try:
            with part.open(mode) as handle:
                while block := response.read(CHUNK):
                    handle.write(block)
                    done += len(block)
                    if hook:
                        hook(total, done)
        except (OSError, http.client.HTTPException) as exc:
            return _reason(exc)
    if total is not None and done < total:
        return f"{done:,} of {total:,} bytes received"
    return None


def unreachable(target: str, exc: BaseException) -> FetchError:
    """The error for a host that cannot be reached: no traceback, the host and what to do."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return FetchError(f"could not reach {urlsplit(target).netloc}: {_reason(reason)}. "
                      "Check the network or pass --mirror")


def _reason(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    match = _CONTENT_RANGE.match((value or "").strip())
    if not match:
        return None, None, None
    start, end, total = (int(v) if v and v.isdigit() else None for v in match.groups())
    return start, end, total


def _write_meta(meta: Path, headers, target: str) -> None:
    """Keep the first response's validator (If-Range) and next page (Link) beside the part."""
    etag = headers.get("ETag")
    validator = etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")
    found = _LINK_NEXT.search(headers.get("Link") or "")
    following = urljoin(target, found.group(1)) if found else None
    meta.write_text(json.dumps({"validator": validator, "next": following}), encoding="utf-8")


def _read_meta(meta: Path) -> dict:
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
