"""A demonstrator as a shareable bundle: `datacites export NAME` and `datacites new NAME
--from bundle.zip`.

A bundle is a zip holding:

- ``demonstrator/``: the demonstrator's folder (defs.yaml, its module, indicators.yaml and
  any other .py, .yaml or .md of the folder; never ``__pycache__``);
- ``sources/<id>.yaml``: the card of every source it names (its alternatives' too), and
  the charter files a card names under ``charter:``; cards only, never data;
- ``README.md``: generated from the cards (title, message, sources, how to import);
- ``bundle.json``: the manifest (format version, demonstrator id, datacites version, every
  other member's path, size and sha256);
- optionally ``outputs/<territory>/<demonstrator>/``: what it published for a territory.

The same inputs give the same bytes (sorted members, fixed timestamps and permissions).

Importing checks the whole archive before anything is written (paths, symlinks, sizes
declared and actually decompressed, duplicates, the manifest's sums, the defs.yaml's
component type), and never imports the bundle's Python before the user has read it: without
``accept_code`` it only returns what the bundle holds, code included. No Dagster here at
module level: the preview loads none.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from pipelines import config
from pipelines.commons.names import NAME, check_id, check_name
from pipelines.errors import ConfigError

FORMAT = "datacites-bundle"
FORMAT_VERSION = 1
MANIFEST = "bundle.json"
README = "README.md"
COMPONENT_TYPE = "pipelines.components.Demonstrator"

# What an archive may hold: far above any demonstrator's code and cards, and a published
# table of a large territory; a member or a whole bundle beyond is refused before reading.
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 2000

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the zip format's first date: no clock in the bytes
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".md")
CHARTER_SUFFIXES = (".yaml", ".yml", ".md", ".txt", ".pdf", ".html", ".odt", ".docx")
FIX = "a bundle made by `datacites export` never has one: ask its author for a new export"


# --- export ---------------------------------------------------------------------------------

def export_bundle(demo_id: str, out_path: Path, *, with_outputs: bool = False, territory: str | None = None,
                  demonstrators_dir: Path | None = None, sources_dir: Path | None = None,
                  outputs_dir: Path | None = None) -> Path:
    """Write demonstrator `demo_id` as a bundle at `out_path` (a zip); its path.

    With `with_outputs`, the files it published for `territory` are added under
    ``outputs/<territory>/<demo_id>/``.
    """
    demos = Path(demonstrators_dir or config.DEMONSTRATORS_DIR)
    sources = Path(sources_dir or config.SOURCES_DIR)
    folder = demos / demo_id
    if not isinstance(demo_id, str) or not NAME.fullmatch(demo_id) or not (folder / "defs.yaml").is_file():
        known = ", ".join(sorted(p.parent.name for p in demos.glob("*/defs.yaml"))) or "none"
        raise ConfigError(f"demonstrator '{demo_id}': no such demonstrator in {demos} (known: {known})")
    attributes = _attributes(folder / "defs.yaml")
    entries: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if "__pycache__" in relative.parts or any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink():
            raise ConfigError(f"{path} is a symbolic link: a bundle holds plain files only; replace it by the file "
                              "it points to")
        if path.is_file() and path.suffix in CODE_SUFFIXES:
            entries[f"demonstrator/{relative.as_posix()}"] = path.read_bytes()
    cards = {}
    for source_id in sources_named(attributes):
        path = sources / f"{source_id}.yaml"
        if not NAME.fullmatch(source_id) or not path.is_file():
            raise ConfigError(f"{folder / 'defs.yaml'}: source '{source_id}' has no card {path}; "
                              "fix the demonstrator's `sources:` or add the card")
        data = path.read_bytes()
        entries[f"sources/{source_id}.yaml"] = data
        cards[source_id] = yaml.safe_load(data) or {}
        for charter in _charters(cards[source_id], path, sources):
            entries[f"sources/{charter.relative_to(sources.resolve()).as_posix()}"] = charter.read_bytes()
    if with_outputs:
        entries |= _outputs(demo_id, territory, Path(outputs_dir or config.OUTPUTS_DIR))
    elif territory is not None:
        raise ConfigError("--territory chooses the published outputs to add: give --with-outputs too, or leave it out")
    entries[README] = _readme(demo_id, attributes, cards, sorted(entries)).encode("utf-8")
    for name, data in entries.items():
        if len(data) > MAX_MEMBER_BYTES:
            raise ConfigError(f"{name}: {len(data)} bytes, more than a bundle may hold per file "
                              f"({MAX_MEMBER_BYTES} bytes); export without --with-outputs")
    entries[MANIFEST] = _manifest(demo_id, attributes, territory if with_outputs else None, entries)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_zip(out_path, entries)
    return out_path


def sources_named(attributes: dict) -> list[str]:
    """Every source a demonstrator names: its own, then its alternatives', in order."""
    named = list(attributes.get("sources") or [])
    for alternative in (attributes.get("alternatives") or {}).values():
        named += list((alternative or {}).get("sources") or [])
    return list(dict.fromkeys(str(s) for s in named))


def _attributes(defs: Path) -> dict:
    data = yaml.safe_load(defs.read_text(encoding="utf-8")) or {}
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        raise ConfigError(f"{defs}: no `attributes:` mapping; see docs/architecture.md (Demonstrators)")
    return attributes


def _charters(card: dict, path: Path, sources: Path) -> list[Path]:
    """The charter file a card names under `charter:` (`sources/charters/<name>`); an
    inline charter (a mapping) travels inside the card itself."""
    named = card.get("charter") if isinstance(card, dict) else None
    if not named or isinstance(named, dict):
        return []
    found = []
    for item in [named] if isinstance(named, str) else list(named):
        charter = (sources / "charters" / str(item)).resolve()
        if not charter.is_relative_to(sources.resolve()) or not charter.is_file() or charter.is_symlink():
            raise ConfigError(f"{path}: charter '{item}' is not a file inside {sources}; fix the card's `charter:`")
        if charter.suffix.lower() not in CHARTER_SUFFIXES:
            raise ConfigError(f"{path}: charter '{item}' is not a document ({', '.join(CHARTER_SUFFIXES)}): a bundle "
                              "never carries data")
        found.append(charter)
    return found


def _outputs(demo_id: str, territory: str | None, outputs: Path) -> dict[str, bytes]:
    if not territory:
        raise ConfigError("--with-outputs needs the territory whose outputs to add: --territory ID")
    if not NAME.fullmatch(territory):
        raise ConfigError(f"--territory '{territory}': a territory id is lowercase letters, digits and _")
    folder = outputs / territory / demo_id
    if not (folder / "demonstrator.json").is_file():
        raise ConfigError(f"{folder}: nothing published for '{demo_id}' in territory '{territory}'; "
                          f"run `datacites run {demo_id} --territory {territory}` first")
    entries = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and not any(p.startswith(".") for p in relative.parts):
            entries[f"outputs/{territory}/{demo_id}/{relative.as_posix()}"] = path.read_bytes()
    return entries


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datacites")
    except PackageNotFoundError:
        return "unknown"


def _manifest(demo_id: str, attributes: dict, territory: str | None, entries: dict[str, bytes]) -> bytes:
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "demonstrator": demo_id,
        "title": str(attributes.get("title", demo_id)), "module": str(attributes.get("module", "")),
        "datacites_version": _version(), "outputs_territory": territory,
        "files": [{"path": name, "size": len(entries[name]), "sha256": hashlib.sha256(entries[name]).hexdigest()}
                  for name in sorted(entries)],
    }
    return (json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _write_zip(path: Path, entries: dict[str, bytes]) -> None:
    """Sorted members, fixed date and permissions, one compression level: same bytes each time."""
    partial = path.with_name(f".{path.name}.part")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix: the permissions below are read as such
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, entries[name], compresslevel=9)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _cell(value) -> str:
    return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")


def _readme(demo_id: str, attributes: dict, cards: dict[str, dict], members: list[str]) -> str:
    title = _cell(attributes.get("title", demo_id))
    module = attributes.get("module", "")
    optional = set(attributes.get("optional") or {})
    lines = [
        f"# {title}", "",
        f"A datacites demonstrator bundle: `{demo_id}` (theme: {attributes.get('theme', '?')}),",
        f"exported by datacites {_version()}.", "",
        "Its message (in French, as published):", "",
        f"> {_cell(attributes.get('message', ''))}", "",
        "## What the bundle holds", "",
        f"- `demonstrator/`: `defs.yaml` (its steps and parameters), `{module}` (its Python code) and "
        "`indicators.yaml` (its indicators' definitions);",
        "- `sources/`: the card of every source it reads: **descriptions only, never data**;",
        f"- `{MANIFEST}`: the size and SHA-256 of every file, checked when the bundle is imported.",
    ]
    outputs = sorted({"/".join(m.split("/")[:3]) for m in members if m.startswith("outputs/")})
    if outputs:
        lines.append(f"- `{outputs[0]}/`: what it published for that territory, for reference "
                     "(importing does not copy it: run the demonstrator to publish your own).")
    lines += ["", "## Sources", "",
              "Each territory brings its own files for these sources (`datacites sources --territory ID` lists "
              "the expected paths); private and personal data need an agreement with their producer.", "",
              "| source | title | producer | licence | sensitivity | file expected |",
              "|---|---|---|---|---|---|"]
    for source_id, card in cards.items():
        marker = " (optional)" if source_id in optional else ""
        lines.append(f"| `{source_id}`{marker} | {_cell(card.get('title'))} | {_cell(card.get('producer'))} | "
                     f"{_cell(card.get('licence'))} | {_cell(card.get('sensitivity'))} | `{_cell(card.get('file'))}` |")
    charters = [m for m in members if m.startswith("sources/") and not m.endswith(".yaml")]
    lines += ["", "Data-sharing charters: " + (", ".join(f"`{c}`" for c in charters) if charters else
                                               "none named by these cards."), ""]
    lines += [
        "## Importing it", "",
        "1. `datacites new NEW_NAME --from this_bundle.zip` checks the archive and shows the demonstrator's Python",
        "   code; it writes nothing and runs nothing.",
        "2. Read the code: it will run on your machine, with your territory's data.",
        "3. `datacites new NEW_NAME --from this_bundle.zip --accept-code` writes `demonstrators/NEW_NAME/`",
        "   (`draft: true`: off the officials' site until you change it) and adds the source cards your",
        "   project lacks (an existing card is never overwritten).",
        "4. `datacites check`, then `datacites run NEW_NAME --territory ID`.", "",
    ]
    return "\n".join(lines)


# --- import -----------------------------------------------------------------------------------

@dataclass
class Bundle:
    """A bundle's contents, every check passed; nothing of it written or run yet."""

    path: Path
    manifest: dict
    demonstrator: dict[str, bytes]  # path inside demonstrator/ -> bytes
    sources: dict[str, bytes]  # path inside sources/ -> bytes
    outputs: list[str]
    attributes: dict

    @property
    def demo_id(self) -> str:
        return self.manifest["demonstrator"]


@dataclass
class ImportResult:
    """What `import_bundle` found and did; `accepted` False: nothing was written."""

    bundle: Path
    name: str
    demonstrator: str
    title: str
    module: str
    datacites_version: str
    accepted: bool
    files: list[tuple[str, int]]
    code: dict[str, str]
    cards_added: list[str] = field(default_factory=list)
    cards_identical: list[str] = field(default_factory=list)
    cards_differing: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    target: Path | None = None

    def preview(self) -> str:
        """The bundle's files and every Python file in full, with what to do next."""
        lines = [f"bundle {self.bundle}: demonstrator '{self.demonstrator}' ({self.title}), exported by datacites "
                 f"{self.datacites_version}", "files:"]
        lines += [f"  {path} ({size} bytes)" for path, size in self.files]
        lines += self._cards()
        for path, source in self.code.items():
            lines += ["", f"----- demonstrator/{path} -----", source.rstrip("\n") if source.strip() else "(empty)",
                      f"----- end of demonstrator/{path} -----"]
        lines += ["", "Nothing was imported. This Python code runs on your machine, with your data, as soon as the "
                      "demonstrator is loaded: read it, then import it with",
                  f"  datacites new {self.name} --from {self.bundle} --accept-code"]
        return "\n".join(lines)

    def summary(self) -> str:
        lines = [f"imported '{self.demonstrator}' from {self.bundle} as {self.target} (draft: true keeps it off the "
                 "officials' site)"]
        lines += self._cards()
        if self.outputs:
            lines.append(f"not imported: the {len(self.outputs)} published files of the bundle (run the demonstrator "
                         "to publish your own)")
        return "\n".join(lines)

    def _cards(self) -> list[str]:
        lines = []
        if self.cards_added:
            verb = "source cards added" if self.accepted else "source cards it would add"
            lines.append(f"{verb}: {', '.join(f'sources/{c}' for c in self.cards_added)}")
        if self.cards_identical:
            lines.append(f"source cards already in the project: {', '.join(self.cards_identical)}")
        for card in self.cards_differing:
            lines.append(f"note: sources/{card} differs from the bundle's; yours is kept (compare: "
                         f"unzip -p {self.bundle} sources/{card} | diff - sources/{card})")
        return lines


def import_bundle(path: Path, name: str, *, accept_code: bool = False, territory=None,
                  demonstrators_dir: Path | None = None, sources_dir: Path | None = None) -> ImportResult:
    """Import bundle `path` as demonstrator `name`, or (without `accept_code`) only show it.

    The whole archive is checked first; nothing is written and none of its code imported
    unless `accept_code`. Then `demonstrators/<name>/` is written (renamed as `new --from`
    renames, `draft: true`), the source cards the project lacks are added (an existing card
    is never overwritten), and the demonstrator is loaded as Dagster loads it: if it does
    not load (or `territory` lacks its data), everything written is removed again.
    """
    bundle = read_bundle(path)
    demos = Path(demonstrators_dir or config.DEMONSTRATORS_DIR)
    sources = Path(sources_dir or config.SOURCES_DIR)
    target = check_name(demos, name)
    result = ImportResult(
        bundle=Path(path), name=name, demonstrator=bundle.demo_id, title=str(bundle.attributes.get("title", "")),
        module=str(bundle.attributes.get("module")), datacites_version=str(bundle.manifest.get("datacites_version")),
        accepted=False, files=[(f["path"], f["size"]) for f in bundle.manifest["files"]],
        code={p: d.decode("utf-8") for p, d in sorted(bundle.demonstrator.items()) if p.endswith(".py")},
        outputs=bundle.outputs)
    for relative, data in bundle.sources.items():
        existing = sources / relative
        if not existing.exists():
            result.cards_added.append(relative)
        elif existing.is_file() and existing.read_bytes() == data:
            result.cards_identical.append(relative)
        else:
            result.cards_differing.append(relative)
    if not accept_code:
        return result
    written: list[Path] = []
    target.mkdir(parents=True, exist_ok=True)
    try:
        for relative, data in bundle.demonstrator.items():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        (target / "__init__.py").touch()
        from pipelines.components.build import demonstrator_card
        from pipelines.components.scaffold import rename_copy

        text = rename_copy(target, bundle.demo_id, name, bundle.attributes, target / "defs.yaml")
        for relative in result.cards_added:
            destination = sources / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(destination, "xb") as handle:  # never over a card written meanwhile
                written.append(destination)
                handle.write(bundle.sources[relative])
        card = demonstrator_card(yaml.safe_load(text)["attributes"], target / "defs.yaml")
        if territory is not None and card.lacking(territory):
            raise ConfigError(f"territory '{territory.id}' lacks {card.lacking(territory)}, which '{bundle.demo_id}' "
                              "needs; bring that data or choose another territory")
        from pipelines.components.loading import load_demonstrators

        try:
            load_demonstrators(demos)  # the copy loads as Dagster loads it, or it goes
        except ConfigError:
            raise
        except Exception as exc:  # the bundle's code failed: its fault, not a bug of ours
            raise ConfigError(f"bundle {path}: demonstrator '{name}' does not load ({_innermost(exc)}); it was "
                              "removed again, with the source cards it added") from exc
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        for destination in written:
            destination.unlink(missing_ok=True)
        raise
    result.accepted, result.target = True, target
    return result


def _innermost(error: BaseException) -> str:
    seen = set()
    while id(error) not in seen and (error.__cause__ or error.__context__) is not None:
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return f"{type(error).__name__}: {str(error)[:300]}"


def read_bundle(path: Path) -> Bundle:
    """Every check of a bundle, before anything of it is written or run; `ConfigError`
    naming the member and the fix at the first problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such bundle; give the path of a zip written by `datacites export`")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConfigError(f"{path}: not a zip archive ({exc}); give a bundle written by `datacites export`") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ConfigError(f"bundle {path}: {len(infos)} members, more than a bundle may hold ({MAX_MEMBERS}); "
                              f"{FIX}")
        seen: dict[str, str] = {}
        total = 0
        for info in infos:
            _check_member(path, info)
            key = info.filename.rstrip("/").casefold()
            if key in seen:
                raise ConfigError(f"bundle {path}: member '{info.filename}' appears twice (as '{seen[key]}' too); "
                                  f"{FIX}")
            seen[key] = info.filename
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ConfigError(f"bundle {path}: member '{info.filename}' takes the bundle past "
                                  f"{MAX_TOTAL_BYTES} bytes once decompressed; {FIX}")
        members = {info.filename: info for info in infos if not info.is_dir()}
        # Every member decompressed as a bounded stream before anything else is believed.
        contents = {name: _read(archive, path, info) for name, info in sorted(members.items())}
    if MANIFEST not in contents:
        raise ConfigError(f"bundle {path}: no member '{MANIFEST}' (the manifest); {FIX}")
    manifest = _read_manifest(path, contents.pop(MANIFEST))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    unlisted, missing = sorted(set(contents) - set(listed)), sorted(set(listed) - set(contents))
    if unlisted:
        raise _refuse(path, unlisted[0], f"is not listed in {MANIFEST}")
    if missing:
        raise ConfigError(f"bundle {path}: {MANIFEST} lists '{missing[0]}', which the archive lacks; {FIX}")
    demonstrator, sources, outputs = {}, {}, []
    for name, data in contents.items():
        if len(data) != listed[name]["size"] or hashlib.sha256(data).hexdigest() != listed[name]["sha256"]:
            raise ConfigError(f"bundle {path}: member '{name}' does not match its size and sha256 in {MANIFEST} "
                              "(changed after export, or damaged); ask its author for a new export")
        if name.startswith("demonstrator/"):
            demonstrator[name.removeprefix("demonstrator/")] = data
        elif name.startswith("sources/"):
            sources[name.removeprefix("sources/")] = data
        elif name.startswith("outputs/"):
            outputs.append(name)
    attributes = _check_contents(path, manifest, demonstrator, sources)
    return Bundle(path, manifest, demonstrator, sources, outputs, attributes)


def _refuse(path: Path, member: str, problem: str) -> ConfigError:
    return ConfigError(f"bundle {path}: member '{member}' {problem}; nothing was imported. Fix: {FIX}")


def _check_member(path: Path, info: zipfile.ZipInfo) -> None:
    """One member's name, type, size and method, from the central directory (nothing read)."""
    name = info.filename
    if not name or "\x00" in name:
        raise _refuse(path, name, "has an empty or NUL-bearing name")
    if "\\" in name:
        raise _refuse(path, name, "has a backslash in its path (a Windows path such as C:\\x)")
    if re.match(r"^[A-Za-z]:", name):
        raise _refuse(path, name, "starts with a drive letter (an absolute Windows path)")
    if name.startswith("/"):
        raise _refuse(path, name, "has an absolute path")
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise _refuse(path, name, "has a '..', '.' or empty component in its path (it would leave the bundle's "
                                  "folder)")
    root = Path(tempfile.gettempdir()).resolve() / "bundle-root"
    if not Path(os.path.normpath(root / name)).is_relative_to(root):
        raise _refuse(path, name, "would be written outside the target folder")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _refuse(path, name, "is a symbolic link")
    if mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise _refuse(path, name, "is not a plain file (a device, a pipe or a socket)")
    if info.flag_bits & 0x1:
        raise _refuse(path, name, "is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _refuse(path, name, f"uses compression method {info.compress_type} (only stored and deflated)")
    if info.file_size > MAX_MEMBER_BYTES:
        raise _refuse(path, name, f"declares {info.file_size} bytes once decompressed, more than a bundle's file may "
                                  f"hold ({MAX_MEMBER_BYTES} bytes)")
    if info.is_dir():
        return
    top = parts[0]
    if len(parts) == 1 and name in (MANIFEST, README):
        return
    if top == "demonstrator" and len(parts) > 1 and PurePosixPath(name).suffix in CODE_SUFFIXES:
        return
    if top == "sources" and len(parts) == 2 and NAME.fullmatch(PurePosixPath(name).stem) and name.endswith(".yaml"):
        return
    if top == "sources" and len(parts) > 1 and PurePosixPath(name).suffix.lower() in CHARTER_SUFFIXES:
        return
    if top == "outputs" and len(parts) > 3:
        return
    raise _refuse(path, name, "is not part of a bundle (demonstrator/*.py|yaml|md, sources/<id>.yaml and charters, "
                              "outputs/, README.md, bundle.json: never data)")


def _read(archive: zipfile.ZipFile, path: Path, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, decompressed as a stream that stops one byte past its declared
    size: a header lying about the size (a zip bomb) is caught without inflating it."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1  # zipfile stops reading at the declared size: read one byte more
    del probe.CRC  # checked below, once the size is known to be the declared one
    chunks, size, crc = [], 0, 0
    try:
        with archive.open(probe) as stream:
            while chunk := stream.read(1 << 16):
                size += len(chunk)
                if size > info.file_size:
                    raise _refuse(path, info.filename, f"holds more than the {info.file_size} bytes it declares "
                                                       "(a zip bomb or a damaged archive)")
                crc = zlib.crc32(chunk, crc)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _refuse(path, info.filename, f"cannot be read ({exc})") from None
    if size != info.file_size or crc != info.CRC:
        raise _refuse(path, info.filename, "is damaged (its size or CRC differs from its header's)")
    return b"".join(chunks)


def _read_manifest(path: Path, data: bytes) -> dict:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refuse(path, MANIFEST, f"is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(path, MANIFEST, f"is not a datacites bundle manifest (format '{FORMAT}')")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"bundle {path}: format version {manifest.get('format_version')!r}, this datacites reads "
                          f"version {FORMAT_VERSION}; export it again with this version, or update datacites")
    check_id(manifest.get("demonstrator"), what=f"bundle {path}: demonstrator id")
    files = manifest.get("files")
    valid = isinstance(files, list) and all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("size"), int)
        and isinstance(f.get("sha256"), str) for f in files)
    if not valid or len({f["path"] for f in files}) != len(files):
        raise _refuse(path, MANIFEST, "has no valid `files` list (path, size, sha256 of each member, once)")
    return manifest


def _check_contents(path: Path, manifest: dict, demonstrator: dict[str, bytes], sources: dict[str, bytes]) -> dict:
    """The demonstrator's defs.yaml names our component and no template, its module is
    there, its Python is text, its cards are valid cards (YAML only: no code runs)."""
    demo_id = manifest["demonstrator"]
    defs_name = "demonstrator/defs.yaml"
    if "defs.yaml" not in demonstrator:
        raise ConfigError(f"bundle {path}: no member '{defs_name}'; {FIX}")
    for relative, data in demonstrator.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(path, f"demonstrator/{relative}", "is not UTF-8 text") from None
    text = demonstrator["defs.yaml"].decode("utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _refuse(path, defs_name, f"is not valid YAML ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != COMPONENT_TYPE or set(document) - {"type",
                                                                                                     "attributes"}:
        raise _refuse(path, defs_name, f"must hold only `type: {COMPONENT_TYPE}` and `attributes:` (any other "
                                       "component type or key would load code of its own)")
    if "{{" in text or "{%" in text:
        raise _refuse(path, defs_name, "holds a template expression ({{ or {%), which Dagster would evaluate")
    attributes = document.get("attributes")
    if not isinstance(attributes, dict) or attributes.get("id") != demo_id:
        raise _refuse(path, defs_name, f"does not declare `id: {demo_id}` under `attributes:` as {MANIFEST} says")
    module = attributes.get("module")
    if not isinstance(module, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*\.py", module) or module not in demonstrator:
        raise _refuse(path, defs_name, f"names module '{module}', which is not a .py file of demonstrator/")
    from pipelines.catalogue.load import load_source_card

    with tempfile.TemporaryDirectory(prefix="datacites-bundle-") as scratch:
        for relative, data in sources.items():  # charter files first: a card reads the one it names
            if "/" in relative:
                charter = Path(scratch) / relative
                charter.parent.mkdir(parents=True, exist_ok=True)
                charter.write_bytes(data)
        for relative, data in sources.items():
            if not relative.endswith(".yaml") or "/" in relative:
                continue  # a charter
            card = Path(scratch) / relative
            card.write_bytes(data)
            try:
                load_source_card(card)
            except ConfigError as exc:
                problem = str(exc).replace(str(card), f"sources/{relative}")
                raise _refuse(path, f"sources/{relative}", f"is not a valid source card ({problem})") from None
    return attributes
