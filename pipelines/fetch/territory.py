"""`datacites fetch`: bring a territory's public national files into `sources/cache/<id>/`.

For each public source whose card (or the territory's `sources.<id>.download`) has a
`download:` block with an address, the file(s) are downloaded into
`sources/cache/<id>/downloads/<source>/` (resumable, checksummed: see
:mod:`pipelines.fetch.download`), cut to the territory's communes (see
:mod:`pipelines.fetch.cut`) and written as `sources/cache/<id>/<file>`, the file name the
territory reads. `fetch.json` in that folder records every download (address, sha256,
size, date) and every file written. A download still complete and unchanged is not
fetched again, and a cut whose inputs have not changed is not redone.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from pipelines import config
from pipelines.catalogue.load import describe_validation, load_sources, load_territory, territory_sources
from pipelines.catalogue.models import Download, SourceCard, SourceOverride, Territory, url_placeholders
from pipelines.errors import ConfigError
from pipelines.fetch.cut import Matcher, copy_raw, cut_csv, cut_geojson, departement_of
from pipelines.fetch.download import (
    RETRIES,
    TIMEOUT_S,
    Downloaded,
    FetchError,
    NotFound,
    ProgressHook,
    download,
    sha256_of,
)

__all__ = ["FetchResult", "describe", "fetch_territory", "resolve_download", "territory_cache_dir", "RECORD_NAME"]

RECORD_NAME = "fetch.json"
MAX_PAGES = 10_000


@dataclass(frozen=True)
class FetchResult:
    """What fetching one source did.

    `status` is `fetched` (downloaded or cut again), `cached` (nothing had changed) or
    `skipped` (no address: `notes` says what to set). `rows` counts the records or
    features kept (None for a file copied as it is); `missing` lists the addresses that
    answered 404 (a commune without any sale has no DVF file).
    """

    source: str
    status: Literal["fetched", "cached", "skipped"]
    path: Path | None = None
    urls: tuple[str, ...] = ()
    rows: int | None = None
    sha256: str | None = None
    size: int | None = None
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def describe(result: FetchResult, root: Path | None = None) -> str:
    """One line for a person: what was done for a source, where it went, what to check."""
    where = result.path
    if where is not None and root is not None and where.is_relative_to(root):
        where = where.relative_to(root)
    kept = f", {result.rows:,} rows kept" if result.rows is not None else ""
    text = f"{result.source}: {result.status}" + (f" -> {where}{kept}" if where else "")
    if result.missing:
        text += f" ({len(result.missing)} address(es) answered 404, e.g. {result.missing[0]})"
    return "; ".join([text, *result.notes])


def territory_cache_dir(territory_id: str) -> Path:
    """`sources/cache/<territory>/`, where `datacites fetch` writes (a territory reads it with
    `data_dir: cache/<territory>`)."""
    return config.SOURCES_DIR / "cache" / territory_id


def resolve_download(card: SourceCard, override: SourceOverride | None = None) -> Download | None:
    """The card's `download:` with the territory's fields laid over it (a new `url` drops
    the card's `sha256`); None when neither has one."""
    base = card.download.model_dump(exclude_none=True) if card.download else {}
    over = override.download.model_dump(exclude_none=True) if override and override.download else {}
    if not base and not over:
        return None
    if "url" in over and "sha256" not in over:
        base.pop("sha256", None)
    return Download.model_validate(base | over)


def fetch_territory(territory: str | Territory, sources: Iterable[str] | None = None, *,
                    cards: dict[str, SourceCard] | None = None, cache_dir: Path | None = None,
                    mirror: str | None = None, progress: bool = True, force: bool = False,
                    retries: int = RETRIES, timeout: float = TIMEOUT_S) -> list[FetchResult]:
    """Download and cut the national files of `territory`.

    Parameters
    ----------
    territory : str or Territory
        An id of `sources/territories/`, or a loaded card.
    sources : iterable of str, optional
        Source ids to fetch; default every public source with a `download:` block that the
        territory does not declare absent (those without an address are `skipped`).
    cards : dict, optional
        The source cards by id (default `sources/*.yaml`).
    cache_dir : Path, optional
        Default `sources/cache/<territory>/`.
    mirror : str, optional
        Base URL replacing the scheme and host of every address (a regional mirror).
    progress : bool
        Show a progress bar (rich) on stderr.
    force : bool
        Download again even what is complete in the cache.
    retries, timeout
        Resumptions of an interrupted transfer within this call; seconds before a silent
        server is given up.

    Raises
    ------
    ConfigError
        An unknown, absent, non-public or address-less source was asked for, a download
        block is invalid, or the territory lists no communes to cut on.
    FetchError
        No network ("could not reach <host> ..."), an HTTP error, a checksum mismatch, an
        interrupted transfer or a file that cannot be cut. What was complete stays cached.
    """
    asked = None if sources is None else list(sources)
    if isinstance(territory, str):
        territory = load_territory(territory)
    cards = load_sources() if cards is None else cards
    seen = territory_sources(territory, cards)
    cache = Path(cache_dir) if cache_dir is not None else territory_cache_dir(territory.id)
    plan, results = _plan(territory, cards, seen, asked)
    cache.mkdir(parents=True, exist_ok=True)
    record = _Record(cache / RECORD_NAME, territory.id)
    with _bar(progress) as bar:
        for source_id, spec in plan:
            results.append(_fetch_one(territory, seen[source_id], spec, cache, record, bar=bar, mirror=mirror,
                                      force=force, retries=retries, timeout=timeout))
    order = {key: i for i, key in enumerate(asked or sorted(seen))}
    return sorted(results, key=lambda r: order.get(r.source, len(order)))


def _territory_file(territory: Territory) -> Path:
    return config.TERRITORIES_DIR / f"{territory.id}.yaml"


def _plan(territory: Territory, cards: dict[str, SourceCard], seen: dict[str, SourceCard],
          asked: list[str] | None) -> tuple[list[tuple[str, Download]], list[FetchResult]]:
    """(source, download) pairs to fetch, and the results of those skipped for lack of an address."""
    where = _territory_file(territory)
    specs: dict[str, Download] = {}
    for key in sorted(cards):
        try:
            spec = resolve_download(cards[key], territory.override(key))
        except ValidationError as exc:
            raise ConfigError(f"{where}: sources.{key}.download, laid over the card's: "
                              f"{describe_validation(exc)}") from None
        if spec is not None:
            specs[key] = spec
    for key in specs:
        if cards[key].sensitivity != "public":
            raise ConfigError(f"source '{key}' is {cards[key].sensitivity}: only public open data is fetched. "
                              "Remove its `download:` block; bring the file into the territory's folder by hand")
    if asked is not None:
        unknown = sorted(set(asked) - set(specs))
        if unknown:
            raise ConfigError(f"nothing to fetch for {unknown}: only sources with a `download:` block can be "
                              f"fetched ({', '.join(sorted(specs)) or 'none'}). Fix: correct the id, or add "
                              f"`sources.<id>.download.url` to {where}")
        for key in asked:
            if territory.absent(key):
                raise ConfigError(f"{where} declares '{key}' absent: remove `absent: true` to fetch it")
            if specs[key].url is None:
                raise ConfigError(f"source '{key}' has no address to fetch for territory '{territory.id}'. "
                                  f"Fix: set `sources.{key}.download.url` in {where} (docs/fetch.md)")
    chosen = [k for k in (asked if asked is not None else specs) if not territory.absent(k)]
    plan, skipped = [], []
    for key in chosen:
        spec = specs[key]
        if spec.url is None:
            skipped.append(FetchResult(key, "skipped", notes=(
                f"no address: the card leaves it to each territory; set `sources.{key}.download.url` in {where}",)))
            continue
        if spec.cut is None:
            raise ConfigError(f"source '{key}': its `download:` has no `cut:`. Fix: say how to keep the territory's "
                              "part (`cut: {column: <name>}` or `{property: <name>}`), or `cut: none` for a file "
                              "that is already the territory's")
        needs = spec.cut != "none" or url_placeholders(spec.url) & {"commune", "departement"}
        if needs and not territory.communes:
            raise ConfigError(f"{where} lists no `communes:`, and fetch cuts '{key}' to them. Fix: list the "
                              "territory's communes with their INSEE codes (docs/territories.md)")
        plan.append((key, spec))
    return plan, skipped


def _addresses(spec: Download, card: SourceCard, territory: Territory) -> list[str]:
    """Every address of a download: one per value of its placeholders."""
    assert spec.url is not None
    names = url_placeholders(spec.url)
    if not names:
        return [spec.url]
    years: list[str | None] = [None]
    if "year" in names:
        if spec.years:
            years = list(spec.years)
        elif re.match(r"^\d{4}", card.date):
            years = [card.date[:4]]
        else:
            raise ConfigError(f"source '{card.id}': its address has {{year}} but its date '{card.date}' is not a "
                              "year. Fix: list `download.years`")
    communes = sorted(c.code for c in territory.communes)
    if "commune" in names:
        places = [{"commune": c, "departement": departement_of(c)} for c in communes]
    elif "departement" in names:
        places = [{"departement": d} for d in sorted({departement_of(c) for c in communes})]
    else:
        places = [{}]
    return [spec.url.format(**place, **({"year": year} if year else {}))
            for year, place in itertools.product(years, places)]


def _fetch_one(territory: Territory, card: SourceCard, spec: Download, cache: Path, record: _Record, *,
               bar: _Bar, mirror: str | None, force: bool, retries: int, timeout: float) -> FetchResult:
    addresses = _addresses(spec, card, territory)
    templated = len(addresses) > 1 or bool(url_placeholders(spec.url or ""))
    fixed_sha = spec.sha256 if not templated else None
    parts: list[tuple[str, Downloaded]] = []
    missing: list[str] = []
    for address in addresses:
        url: str | None = address
        pages = 0
        while url is not None:
            try:
                got = _obtain(url, card.id, cache, record, bar=bar, sha256=fixed_sha if url == address else None,
                              mirror=mirror if url == address else None, force=force, retries=retries,
                              timeout=timeout)
            except NotFound as exc:
                if not templated or url != address:
                    via = f" (through {exc.url})" if exc.url != url else ""
                    raise FetchError(f"source '{card.id}': {url}{via} answered 404 Not Found: the address may have "
                                     "moved. Check it (docs/fetch.md) or give the new one in the territory card, "
                                     f"`sources.{card.id}.download.url`") from None
                missing.append(url)
                break
            parts.append((url, got))
            pages += 1
            url = got.next_url if pages < MAX_PAGES and got.next_url not in {u for u, _ in parts} else None
    if not parts:
        raise FetchError(f"source '{card.id}': every address answered 404 (first: {addresses[0]}). Check the "
                         "address template (docs/fetch.md) and the territory's communes")

    override = territory.override(card.id)
    name = card.file if override.file else (spec.file or card.file)
    out = cache / name
    cut = spec.cut
    recipe = {"cut": cut if cut == "none" else cut.model_dump(), "member": spec.member,
              "communes": sorted(c.code for c in territory.communes),
              "inputs": [got.sha256 for _, got in parts]}
    previous = record.files.get(card.id)
    urls = tuple(u for u, _ in parts)
    notes = []
    if name != card.file:
        notes.append(f"written as {name}, while the territory reads {card.file}: set `sources.{card.id}.file: "
                     f"{name}` in {_territory_file(territory)} (and its `crs`, see docs/fetch.md)")
    if (not force and previous and all(got.reused for _, got in parts) and previous.get("recipe") == recipe
            and previous.get("file") == name and out.exists() and sha256_of(out) == previous.get("sha256")):
        notes += [n for n in previous.get("notes", []) if n not in notes]
        return FetchResult(card.id, "cached", out, urls, previous.get("rows"), previous["sha256"],
                           previous.get("size"), tuple(missing), tuple(notes))

    files = [(u, got.path) for u, got in parts]
    rows: int | None = None
    if cut == "none":
        copy_raw(urls[0], files[0][1], out, member=spec.member)
    else:
        matcher = Matcher(cut.by, recipe["communes"])
        if cut.column is not None:
            stats = cut_csv(files, out, cut, matcher, member=spec.member)
        else:
            stats = cut_geojson(files, out, cut, matcher, member=spec.member)
        rows = stats.rows
        lacking = sorted(matcher.expected - stats.found)
        if lacking:
            what = "départements" if cut.by == "departement" else "communes"
            notes.append(f"no rows for the {what} {', '.join(lacking)}")
    digest, size = sha256_of(out), out.stat().st_size
    record.files[card.id] = {"file": name, "sha256": digest, "size": size, "rows": rows, "date": _now(),
                             "urls": list(urls), "missing": missing, "recipe": recipe, "notes": notes}
    record.save()
    return FetchResult(card.id, "fetched", out, urls, rows, digest, size, tuple(missing), tuple(notes))


def _obtain(url: str, source: str, cache: Path, record: _Record, *, bar: _Bar, sha256: str | None,
            mirror: str | None, force: bool, retries: int, timeout: float) -> Downloaded:
    """A download from the cache when complete and unchanged, else from the network."""
    dest = cache / "downloads" / source / _slug(url)
    known = record.downloads.get(url)
    if not force and dest.exists():
        found = sha256_of(dest)
        if (sha256 or (known or {}).get("sha256")) == found:
            return Downloaded(dest, found, dest.stat().st_size, (known or {}).get("fetched_from", url),
                              (known or {}).get("next"), reused=True)
    got = download(url, dest, source=source, sha256=sha256, mirror=mirror, timeout=timeout, retries=retries,
                   hook=bar.hook(f"{source} {dest.name.split('-', 1)[-1]}"))
    record.downloads[url] = {"file": dest.relative_to(cache).as_posix(), "sha256": got.sha256, "size": got.size,
                             "date": _now(), "fetched_from": got.fetched_from, "next": got.next_url}
    record.save()
    return got


def _slug(url: str) -> str:
    """A file name for a download: a hash of its address, then its last path segment."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])[-60:]
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{tail or 'download'}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Record:
    """`fetch.json`: every download and every file written, rewritten atomically."""

    def __init__(self, path: Path, territory_id: str):
        self.path = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.territory = territory_id
        self.downloads: dict[str, dict] = dict(data.get("downloads") or {})
        self.files: dict[str, dict] = dict(data.get("files") or {})

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({"territory": self.territory, "downloads": self.downloads, "files": self.files},
                                  indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


class _Bar:
    """A rich progress bar on stderr, one line per transfer; nothing when disabled."""

    def __init__(self, progress=None):
        self.progress = progress

    def hook(self, description: str) -> ProgressHook | None:
        if self.progress is None:
            return None
        task = self.progress.add_task(description, total=None)
        return lambda total, done: self.progress.update(task, total=total, completed=done)


@contextmanager
def _bar(enabled: bool) -> Iterator[_Bar]:
    if not enabled:
        yield _Bar()
        return
    import rich.progress as rp
    from rich.console import Console

    columns = (rp.TextColumn("{task.description}"), rp.BarColumn(), rp.DownloadColumn(),
               rp.TransferSpeedColumn(), rp.TimeRemainingColumn())
    with rp.Progress(*columns, console=Console(stderr=True)) as progress:
        yield _Bar(progress)
