"""Cutting national files to a territory: CSV rows, GeoJSON features, zip members.

CSV files are cut as bytes, record by record: a kept record is written exactly as it was
read (separator, quoting, encoding and line ends unchanged), so the connectors read the
cut file as they would read the national one. A record spans several lines when a quoted
field holds a line break (ADEME's addresses): records end where the count of double
quotes is even. Zip members and gzip files are read as streams, never extracted.
GeoJSON files are parsed whole (a département's communes are a few megabytes).
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pipelines.catalogue.models import Cut
from pipelines.fetch.download import FetchError

__all__ = ["CutStats", "Matcher", "cut_csv", "cut_geojson", "copy_raw", "departement_of"]

BOM = b"\xef\xbb\xbf"
DELIMITERS = (";", ",", "|", "\t")
MAX_RECORD = 8 << 20  # bytes: beyond, an opening quote is taken as never closed
_SUFFIXES = {"csv": (".csv", ".txt"), "geojson": (".geojson", ".json")}


@dataclass
class CutStats:
    """What a cut kept: records (or features), and which of the territory's codes had some."""

    rows: int = 0
    found: set[str] = field(default_factory=set)


def departement_of(code: str) -> str:
    """Département of a commune code: 3 characters overseas (97x), else 2 (2A/2B included)."""
    return code[:3] if code.startswith("97") else code[:2]


class Matcher:
    """Whether a code read in a file belongs to the territory, as `Cut.by` says.

    Calling it returns the territory's code matched (a commune or a département), or None.
    """

    def __init__(self, by: str, communes: list[str]):
        self.by = by
        self.communes = set(communes)
        self.departements = {departement_of(c) for c in communes}

    @property
    def expected(self) -> set[str]:
        return self.departements if self.by == "departement" else self.communes

    def __call__(self, value: str) -> str | None:
        value = value.strip().strip('"').strip()
        if self.by == "departement":
            key = departement_of(value)
            return key if key in self.departements else None
        if self.by == "iris":
            return value[:5] if value[:5] in self.communes else None
        if value in self.communes:
            return value
        if len(value) > 5 and len(value) % 5 == 0:  # Filosofi's lcog_geo: the communes a cell straddles
            return next((c for c in (value[i:i + 5] for i in range(0, len(value), 5)) if c in self.communes), None)
        return None


def cut_csv(parts: list[tuple[str, Path]], out: Path, cut: Cut, matcher: Matcher, *,
            member: str | None = None, sep: str | None = None) -> CutStats:
    """Write to `out` the header once and the records of `parts` whose `cut.column` matches.

    `parts` are (address, downloaded file) pairs, read in order; each may be a plain, gzip
    or zip file (`member` chooses the CSV inside). Every part must have the same header.
    """
    stats = CutStats()
    first: bytes | None = None
    with _atomic(out) as handle:
        for label, path in parts:
            for name, stream in _streams(path, member, "csv", label):
                records = _records(stream, name)
                header = next(records, None)
                if header is None:
                    continue
                key = header.removeprefix(BOM).rstrip(b"\r\n")
                if first is None:
                    first, eol = key, (b"\r\n" if header.endswith(b"\r\n") else b"\n")
                    text = key.decode("utf-8", "surrogateescape")
                    delimiter = sep or _sniff(text)
                    index = _column(next(csv.reader([text], delimiter=delimiter)), cut.column, name)
                    handle.write(header if header.endswith(b"\n") else header + eol)
                elif key != first:
                    raise FetchError(f"{name}: its header differs from the first file's, so the files cannot be "
                                     "concatenated. Check the address template (docs/fetch.md)")
                sep_bytes = delimiter.encode()
                for record in records:
                    body = record.rstrip(b"\r\n")
                    if not body.strip():
                        continue
                    hit = matcher(_field(body, index, delimiter, sep_bytes))
                    if hit is not None:
                        handle.write(record if record.endswith(b"\n") else record + eol)
                        stats.rows += 1
                        stats.found.add(hit)
        if first is None:
            raise FetchError(f"{parts[0][0]}: no CSV header found (the file is empty)")
    return stats


def cut_geojson(parts: list[tuple[str, Path]], out: Path, cut: Cut, matcher: Matcher, *,
                member: str | None = None) -> CutStats:
    """Write to `out` one FeatureCollection of the features of `parts` whose `cut.property` matches.

    Top-level members of the first part other than its features (`crs`, `name`) are kept.
    A part may be one Feature (an API's answer for one commune) or a FeatureCollection.
    """
    stats = CutStats()
    top: dict | None = None
    kept: list[str] = []
    for label, path in parts:
        for name, stream in _streams(path, member, "geojson", label):
            try:
                data = json.load(stream)
            except ValueError:
                raise FetchError(f"{name}: not a JSON document, so not a GeoJSON. Check the address "
                                 "(docs/fetch.md)") from None
            kind = data.get("type") if isinstance(data, dict) else None
            if kind not in ("Feature", "FeatureCollection"):
                raise FetchError(f"{name}: a GeoJSON Feature or FeatureCollection was expected, found "
                                 f"{kind or type(data).__name__}")
            features = [data] if kind == "Feature" else (data.get("features") or [])
            if top is None:
                top = {k: v for k, v in data.items() if k not in ("type", "features")} if kind != "Feature" else {}
            for feature in features:
                properties = feature.get("properties") or {}
                value = _property(properties, cut.property)
                hit = None if value is None else matcher(str(value))
                if hit is not None:
                    kept.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
                    stats.rows += 1
                    stats.found.add(hit)
    head = json.dumps({"type": "FeatureCollection", **(top or {})}, ensure_ascii=False, separators=(",", ":"))
    with _atomic(out) as handle:
        handle.write(head[:-1].encode() + b',"features":[\n' + ",\n".join(kept).encode() + b"\n]}\n")
    return stats


def copy_raw(label: str, path: Path, out: Path, *, member: str | None = None) -> None:
    """Write `path` (or its zip `member`) to `out` as it is: a file already the territory's."""
    if member is None or not zipfile.is_zipfile(path):
        with _atomic(out) as handle, path.open("rb") as source:
            shutil.copyfileobj(source, handle)
        return
    streams = list(_streams(path, member, None, label))
    if len(streams) != 1:
        raise FetchError(f"{label}: `member: {member}` matches {len(streams)} files of the archive; name one")
    with _atomic(out) as handle:
        shutil.copyfileobj(streams[0][1], handle)


def _streams(path: Path, member: str | None, kind: str | None, label: str) -> Iterator[tuple[str, BinaryIO]]:
    """(name for errors, binary stream) of each file to read in a download."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic.startswith(b"PK") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            for name in _members(names, member, kind, label):
                with archive.open(name) as stream:
                    yield f"{label} ({name})", stream
    elif magic.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as stream:
            yield label, stream
    else:
        with path.open("rb") as stream:
            yield label, stream


def _members(names: list[str], member: str | None, kind: str | None, label: str) -> list[str]:
    if member is not None:
        pattern = member.lower()
        chosen = [n for n in names if fnmatch.fnmatch(n.lower(), pattern)
                  or fnmatch.fnmatch(n.rsplit("/", 1)[-1].lower(), pattern)]
    else:
        chosen = [n for n in names if kind and n.lower().endswith(_SUFFIXES[kind])]
        if len(chosen) > 1:
            raise FetchError(f"{label}: the archive holds several files ({', '.join(chosen[:10])}); say which "
                             "with `download.member`")
    if not chosen:
        nested = [n for n in names if n.lower().endswith((".7z", ".rar"))]
        hint = (f" It holds a {nested[0].rsplit('.', 1)[-1]} archive, which fetch cannot open: extract it by hand "
                "into the territory's folder." if nested else " Set `download.member` to one of them.")
        wanted = f"`{member}`" if member else f"a .{kind} file"
        raise FetchError(f"{label}: no file of the archive matches {wanted} (it holds "
                         f"{', '.join(names[:10]) or 'nothing'}).{hint}")
    return chosen


def _records(stream: BinaryIO, label: str) -> Iterator[bytes]:
    """CSV records as bytes, a quoted line break kept inside its record."""
    pending: list[bytes] = []
    odd, size = False, 0
    for number, line in enumerate(stream, start=1):
        pending.append(line)
        size += len(line)
        odd ^= line.count(b'"') % 2 == 1
        if not odd:
            yield b"".join(pending)
            pending, size = [], 0
        elif size > MAX_RECORD:
            raise FetchError(f"{label}: a double quote opened near line {number - len(pending) + 1} is never closed "
                             "(the file is not valid CSV); check the address (docs/fetch.md)")
    if pending:
        yield b"".join(pending)


def _field(body: bytes, index: int, delimiter: str, sep_bytes: bytes) -> str:
    if b'"' not in body:
        fields = body.split(sep_bytes)
        return fields[index].decode("utf-8", "surrogateescape") if index < len(fields) else ""
    row = next(csv.reader([body.decode("utf-8", "surrogateescape")], delimiter=delimiter), [])
    return row[index] if index < len(row) else ""


def _sniff(header: str) -> str:
    """The delimiter of a header line: the candidate found most often outside quotes."""
    bare = re.sub(r'"[^"]*"', "", header)
    return max(DELIMITERS, key=bare.count) if any(d in bare for d in DELIMITERS) else ","


def _column(names: list[str], wanted: str | None, label: str) -> int:
    """Index of `wanted` in a header: case ignored, or followed by a 2-digit vintage (`CODGEO_25`)."""
    keys = [n.strip().lower() for n in names]
    target = (wanted or "").lower()
    if target in keys:
        return keys.index(target)
    vintage = re.compile(re.escape(target) + r"_\d{2}$")
    for i, key in enumerate(keys):
        if vintage.match(key):
            return i
    shown = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
    raise FetchError(f"{label}: no column '{wanted}' to cut on (columns: {shown}). Fix `download.cut.column` "
                     "in the source card or the territory's `sources.<id>.download`")


def _property(properties: dict, wanted: str | None):
    if wanted in properties:
        return properties[wanted]
    lowered = {str(k).lower(): v for k, v in properties.items()}
    return lowered.get((wanted or "").lower())


@contextmanager
def _atomic(out: Path):
    """A binary handle on a temporary file renamed to `out` only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with tmp.open("wb") as handle:
            yield handle
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
