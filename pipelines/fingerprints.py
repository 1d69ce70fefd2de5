"""Reruns that redo only what changed: a fingerprint per asset and territory.

An asset's fingerprint hashes what decides its content: for a raw file, the file's
bytes; for the others, the code that computes them (the framework's own code, the
demonstrator's folder), the territory's card and the source cards, and the fingerprints
of every asset it reads. They chain, so a new file changes the fingerprint of exactly
its descendants. After a run, the fingerprints of the assets it materialised are kept
in `.datacites/fingerprints/<territory>.json`; the next `datacites run` materialises only
the assets whose fingerprint differs (or that were never materialised), and nothing at
all when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import config

if TYPE_CHECKING:
    import dagster as dg

CHUNK = 1 << 20


def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes ("missing" when it is not there)."""
    return sha256_of(path) if path.is_file() else "missing"


def tree_digest(folder: Path, suffixes: tuple[str, ...] = (".py", ".yaml", ".yml", ".html", ".css", ".js", ".json")) -> str:
    """One hash of every file of a folder with these suffixes, by relative path."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes
                       and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def framework_digest() -> str:
    """The framework's code and templates: any change reruns everything."""
    return tree_digest(config.PACKAGE_DIR)


def fingerprints(defs: dg.Definitions, territory_id: str) -> dict[str, str]:
    """Fingerprint of every asset of `defs` for one territory, by asset key string."""
    from pipelines.catalogue import load_territory, source_path, territory_sources

    territory = load_territory(territory_id)
    cards = territory_sources(territory)
    card_path = config.TERRITORIES_DIR / f"{territory_id}.yaml"
    context = _digest(framework_digest(), card_path.read_bytes() if card_path.exists() else b"",
                      json.dumps({k: c.model_dump(mode="json") for k, c in sorted(cards.items())}, sort_keys=True))
    raw = {f"raw_{card.id}": card for card in cards.values()}
    graph = defs.resolve_asset_graph()
    done: dict[str, str] = {}
    demos: dict[str, str] = {}
    for key in graph.toposorted_asset_keys:
        name = key.to_user_string()
        node = graph.get(key)
        if name in raw:
            card = raw[name]
            own = "absent" if territory.absent(card.id) else file_digest(source_path(card, territory))
        elif len(key.path) == 2:
            folder = config.DEMONSTRATORS_DIR / key.path[0]
            if key.path[0] not in demos:
                demos[key.path[0]] = tree_digest(folder) if folder.is_dir() else "missing"
            own = demos[key.path[0]]
        else:
            own = ""
        upstream = sorted(done.get(p.to_user_string(), "?") + p.to_user_string() for p in node.parent_keys)
        done[name] = _digest(context, name, own, *upstream)
    return done


def _store(territory_id: str) -> Path:
    return config.STATE_DIR / "fingerprints" / f"{territory_id}.json"


def recorded(territory_id: str) -> dict[str, str]:
    """The fingerprints of the last materialisation of each asset of a territory."""
    path = _store(territory_id)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def record(territory_id: str, current: dict[str, str], materialised: Iterable[str]) -> None:
    """Keep the fingerprints of the assets a run materialised (atomically)."""
    kept = recorded(territory_id)
    kept.update({name: current[name] for name in materialised if name in current})
    path = _store(territory_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(kept, sort_keys=True, indent=0), encoding="utf-8")
    os.replace(tmp, path)


def changed(keys: Iterable[dg.AssetKey], current: dict[str, str], territory_id: str) -> list[dg.AssetKey]:
    """The keys among `keys` whose fingerprint differs from the last one recorded, or
    whose published folder is gone (outputs deleted by hand)."""
    before = recorded(territory_id)
    out = []
    for key in keys:
        name = key.to_user_string()
        gone = len(key.path) == 2 and key.path[1] == "published" and not (
            config.OUTPUTS_DIR / territory_id / key.path[0] / "demonstrator.json").exists()
        gone = gone or (name == "site" and not (config.OUTPUTS_DIR / territory_id / "site" / "index.html").exists())
        stored = config.STORE_DIR / territory_id / "/".join(key.path)
        writes = not (len(key.path) == 2 and key.path[1] in ("release", "published")) and name != "site"
        gone = gone or (writes and not stored.with_suffix(".parquet").exists() and not stored.with_suffix(".json").exists())
        if before.get(name) != current.get(name) or gone:
            out.append(key)
    return out
