"""Territory cards written from the official geography: INSEE's code list (COG) of communes
and the DGCL's EPCIs, in the layout of the npm package `@etalab/decoupage-administratif`.

>>> cog = load_cog(Path("../shared/realdata/cog2026"))  # doctest: +SKIP
>>> print(territory_card(cog, "rennes", epci="243500139"))  # doctest: +SKIP
>>> write_territory_card(cog.folder, Path("sources/territories"), "lyon", communes=["69123"],
...                      arrondissements=True)  # doctest: +SKIP

Paris, Lyon and Marseille are one commune each (75056, 69123, 13055) and, in the same
files, their arrondissements municipaux. A card lists each city at one level only: the
commune by default (that is how the EPCIs list it), its arrondissements with
`arrondissements=True`, or when arrondissement codes (69388) are given in `communes`;
then every one of these cities in the card is listed by arrondissement.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from pipelines import config
from pipelines.catalogue.load import describe_validation
from pipelines.catalogue.models import IDENTIFIER, Territory
from pipelines.errors import ConfigError

COG_FIX = ("Fix: pass the data/ folder of the npm package @etalab/decoupage-administratif (`npm pack "
           "@etalab/decoupage-administratif`, then unpack package/data/), which holds communes.json, epci.json "
           "and departements.json")
CURRENT = "commune-actuelle"
ARRONDISSEMENT = "arrondissement-municipal"
FORMER = ("commune-deleguee", "commune-associee")
# Working and grid CRS by département; every other two-character département (mainland
# France and Corsica) uses MAINLAND_CRS. The collectivités d'outre-mer (975, 977, ...) have none.
MAINLAND_CRS = ("EPSG:2154", "EPSG:3035")
OVERSEAS_CRS = {"971": ("EPSG:5490", "EPSG:5490"), "972": ("EPSG:5490", "EPSG:5490"),
                "973": ("EPSG:2972", "EPSG:2972"), "974": ("EPSG:2975", "EPSG:2975"),
                "976": ("EPSG:4471", "EPSG:4471")}
# Names a Windows file system refuses whatever the extension (con.yaml cannot be created).
RESERVED_IDS = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


@dataclass(frozen=True)
class CogCommune:
    """A current commune, or an arrondissement municipal of Paris, Lyon or Marseille."""

    code: str
    name: str
    departement: str
    type: str
    parent: str | None = None  # the city of an arrondissement municipal
    arrondissements: tuple[str, ...] = ()  # of Paris, Lyon and Marseille


@dataclass(frozen=True)
class FormerCommune:
    """A code that is no longer a current commune, and the commune that absorbed it."""

    code: str
    name: str | None
    type: str  # commune-deleguee, commune-associee, or "ancien code"
    successor: str | None


@dataclass(frozen=True)
class Epci:
    siren: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Cog:
    """The official geography read by `load_cog`."""

    folder: Path
    communes: dict[str, CogCommune]
    former: dict[str, FormerCommune]
    epcis: dict[str, Epci]
    departements: dict[str, str]


def load_cog(folder: Path) -> Cog:
    """Read communes.json, epci.json and departements.json of `folder` (the other files of
    the package are not needed); every problem is a ConfigError naming the file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder of the official geography (COG). {COG_FIX}")
    rows = _read_list(folder / "communes.json", ("code", "nom", "type", "departement"))
    communes, former = _communes(folder / "communes.json", rows)
    epcis = {}
    for index, row in enumerate(_read_list(folder / "epci.json", ("code", "nom"))):
        members = row.get("membres")
        if not isinstance(members, list) or not all(isinstance(m, dict) and isinstance(m.get("code"), str)
                                                    for m in members):
            raise ConfigError(f"{folder / 'epci.json'}: entry {index}: field 'membres' must be a list of objects "
                              f"with a text 'code'. {COG_FIX}")
        unknown = sorted(m["code"] for m in members if m["code"] not in communes)
        if unknown:
            raise ConfigError(f"{folder / 'epci.json'}: EPCI {row['code']} lists {unknown}, which are not current "
                              "communes of communes.json: the files come from different vintages. "
                              "Fix: take both from the same release of the package")
        epcis[row["code"]] = Epci(row["code"], row["nom"], tuple(m["code"] for m in members))
    departements = {row["code"]: row["nom"] for row in _read_list(folder / "departements.json", ("code", "nom"))}
    return Cog(folder, communes, former, epcis, departements)


def _read_list(path: Path, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The JSON list of objects in `path`, each with text values for `keys`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing from the folder of the official geography. {COG_FIX}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigError(f"{path}: not valid UTF-8 JSON{line}; the file may be truncated. {COG_FIX}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a list of objects, found {type(data).__name__}. {COG_FIX}")
    for index, row in enumerate(data):
        missing = [key for key in keys if not isinstance(row, dict) or not isinstance(row.get(key), str)]
        if missing:
            raise ConfigError(f"{path}: entry {index}: field '{missing[0]}' is missing or not text (codes are "
                              f"strings such as \"01001\"). {COG_FIX}")
    return data


def _communes(path: Path, rows: list[dict[str, Any]]) -> tuple[dict[str, CogCommune], dict[str, FormerCommune]]:
    """Current communes and arrondissements by code, and former codes with their successor."""
    known = {CURRENT, ARRONDISSEMENT, *FORMER}
    for index, row in enumerate(rows):
        if row["type"] not in known:
            raise ConfigError(f"{path}: entry {index}: unknown type (allowed: {sorted(known)}). {COG_FIX}")
        if row["type"] == ARRONDISSEMENT and not isinstance(row.get("commune"), str):
            raise ConfigError(f"{path}: entry {index}: an arrondissement municipal needs its 'commune'. {COG_FIX}")
    current = {r["code"]: r for r in rows if r["type"] == CURRENT}
    children: dict[str, list[str]] = {}
    for row in rows:
        if row["type"] == ARRONDISSEMENT:
            children.setdefault(row["commune"], []).append(row["code"])
    communes = {code: CogCommune(code, r["nom"], r["departement"], CURRENT,
                                 arrondissements=tuple(sorted(children.get(code, ()))))
                for code, r in current.items()}
    for row in rows:
        if row["type"] == ARRONDISSEMENT:
            communes[row["code"]] = CogCommune(row["code"], row["nom"], row["departement"], ARRONDISSEMENT,
                                               parent=row["commune"])
    # A delegated commune often keeps the code of the new commune: the current one wins.
    former = {r["code"]: FormerCommune(r["code"], r["nom"], r["type"],
                                       r.get("chefLieu") if r.get("chefLieu") in communes else None)
              for r in rows if r["type"] in FORMER and r["code"] not in communes}
    for code, row in current.items():
        for old in row.get("anciensCodes") or ():
            if isinstance(old, str) and old not in communes:
                former.setdefault(old, FormerCommune(old, None, "ancien code", code))
    return communes, former


def territory_card(cog: Cog, territory_id: str, *, epci: str | None = None, communes: Iterable[str] | None = None,
                   name: str | None = None, arrondissements: bool = False, sources_dir: Path | None = None) -> str:
    """The YAML text of the card of a real territory: one EPCI, or a list of communes.

    Parameters
    ----------
    cog : the official geography, from `load_cog`.
    territory_id : the card's id, also its data_dir (lowercase letters, digits, _).
    epci, communes : exactly one: the SIREN of an EPCI, or INSEE commune codes.
    name : shown on the pages; by default the EPCI's, the single commune's, or
        "Territoire de <first> et N autres communes".
    arrondissements : list Paris, Lyon and Marseille by arrondissement municipal.
    sources_dir : folder of the source cards listed under `sources:` (default sources/).

    Raises
    ------
    ConfigError
        Unknown or former code, a city listed at both levels, communes of different CRSs,
        or a territory without a known CRS (collectivités d'outre-mer).
    """
    check_territory_id(territory_id)
    if (epci is None) == (communes is None):
        raise ConfigError("give exactly one of an EPCI (--epci SIREN) or a list of communes (--communes CODE ...)")
    if epci is not None:
        group = _epci(cog, str(epci).strip())
        given, origin, default_name = list(group.members), f"EPCI {group.siren} ({group.name})", group.name
    else:
        given = list(dict.fromkeys(_commune(cog, str(code).strip()) for code in communes or ()))
        if not given:
            raise ConfigError("no commune given; list at least one INSEE code (--communes CODE ...)")
        codes = ", ".join(given) if len(given) <= 5 else f"{given[0]}, {given[1]} and {len(given) - 2} others"
        origin, default_name = f"communes {codes}", _default_name(cog, given)
    listed = _listed(cog, given, arrondissements)
    crs = _crs(cog, listed)
    text = _card_text(cog, territory_id, name or default_name, origin, given, listed, crs,
                      sources_dir or config.SOURCES_DIR)
    try:
        Territory.model_validate(yaml.safe_load(text))
    except ValidationError as exc:  # never expected: refuse rather than write a card that cannot load
        raise ConfigError(f"the generated card of '{territory_id}' does not validate: {describe_validation(exc)}") from None
    return text


def check_territory_id(territory_id: str) -> None:
    """Refuse an id that is not an identifier, or that names a reserved folder or file."""
    if not isinstance(territory_id, str) or not re.fullmatch(IDENTIFIER, territory_id):
        raise ConfigError(f"territory id {territory_id!r}: must start with a lowercase letter and hold only "
                          "lowercase letters, digits and _ (e.g. rennes_metropole)")
    from pipelines.report.data import COMPARISON_FOLDER

    if territory_id in RESERVED_IDS or territory_id == COMPARISON_FOLDER:
        raise ConfigError(f"territory id '{territory_id}' is reserved (a device name on Windows, or "
                          f"outputs/{COMPARISON_FOLDER}/); choose another id")


def _epci(cog: Cog, siren: str) -> Epci:
    if siren in cog.epcis:
        return cog.epcis[siren]
    close = difflib.get_close_matches(siren, cog.epcis, n=3, cutoff=0.7)
    hint = f" Did you mean {', '.join(f'{s} ({cog.epcis[s].name})' for s in close)}?" if close else ""
    raise ConfigError(f"EPCI {siren!r}: no such SIREN in {cog.folder / 'epci.json'} (9 digits, e.g. 243500139).{hint}")


def _commune(cog: Cog, code: str) -> str:
    """`code` if it is a current commune or an arrondissement, else an error saying why."""
    if code in cog.communes:
        return code
    old = cog.former.get(code)
    if old is not None:
        what = {"commune-deleguee": "a commune déléguée", "commune-associee": "a commune associée"}.get(
            old.type, "a former code")
        label = f"{code} ({old.name})" if old.name else code
        if old.successor:
            raise ConfigError(f"commune {label} is {what} of {old.successor} ({cog.communes[old.successor].name}) "
                              f"and no longer a commune: list {old.successor} instead")
        raise ConfigError(f"commune {label} is {what}, no longer a commune; list the current commune instead")
    if re.fullmatch(config.COMMUNE_CODE_PATTERN, code):
        # Close codes of the same département first: 35999 is nearer 35099 than 59499.
        pool = [c for c in cog.communes if c[:2] == code[:2]] or list(cog.communes)
        close = difflib.get_close_matches(code, pool, n=3, cutoff=0.6)
    else:  # perhaps a name typed instead of a code
        by_name = {c.name.casefold(): c.code for c in cog.communes.values()}
        close = [by_name[n] for n in difflib.get_close_matches(code.casefold(), by_name, n=3, cutoff=0.8)]
    hint = f" Did you mean {', '.join(f'{c} ({cog.communes[c].name})' for c in close)}?" if close else ""
    raise ConfigError(f"commune {code!r}: not a current INSEE commune code in {cog.folder / 'communes.json'} "
                      f"(5 characters: digits, or 2A/2B and 3 digits).{hint}")


def _default_name(cog: Cog, given: list[str]) -> str:
    first = cog.communes[given[0]].name
    if len(given) == 1:
        return first
    others = len(given) - 1
    article = {"Le ": "du ", "Les ": "des "}
    prefix = next((article[a] + first[len(a):] for a in article if first.startswith(a)), None)
    if prefix is None:
        prefix = ("d'" if first[:1].casefold() in "aâàeéèêëiîïoôuûüyœæ" else "de ") + first
    return f"Territoire {prefix} et {others} autre{'s' if others > 1 else ''} commune{'s' if others > 1 else ''}"


def _listed(cog: Cog, given: list[str], arrondissements: bool) -> list[str]:
    """The codes the card lists: Paris, Lyon and Marseille at one level only."""
    chosen = set(given)
    both = sorted(c for c in chosen if cog.communes[c].parent in chosen)
    if both:
        code = both[0]
        city = cog.communes[code].parent
        raise ConfigError(f"commune {code} ({cog.communes[code].name}) is an arrondissement of {city} "
                          f"({cog.communes[city].name}), listed too: list either the city or some of its "
                          "arrondissements, never both (a zoning would count them twice)")
    by_arrondissement = arrondissements or any(cog.communes[c].parent for c in chosen)
    listed: set[str] = set()
    for code in chosen:
        parts = cog.communes[code].arrondissements
        listed.update(parts if by_arrondissement and parts else (code,))
    return sorted(listed)


def _crs(cog: Cog, codes: list[str]) -> tuple[str, str]:
    """(working, grid) CRS of the communes' départements; one pair for the whole territory."""
    pairs: dict[tuple[str, str], set[str]] = {}
    for code in codes:
        departement = cog.communes[code].departement
        if len(departement) == 2:
            pair = MAINLAND_CRS
        elif departement in OVERSEAS_CRS:
            pair = OVERSEAS_CRS[departement]
        else:
            raise ConfigError(f"commune {code} is in {departement} ({cog.departements.get(departement, '?')}), "
                              "for which the project knows no CRS (mainland France, Corsica and the five overseas "
                              "départements only). Fix: write the card by hand (docs/territories.md)")
        pairs.setdefault(pair, set()).add(departement)
    if len(pairs) > 1:
        spans = "; ".join(f"{'/'.join(p)} for {', '.join(sorted(d))}" for p, d in sorted(pairs.items()))
        raise ConfigError(f"the communes span départements of different CRSs ({spans}); a territory has one "
                          "working CRS: make one card per CRS")
    return next(iter(pairs))


def _card_text(cog: Cog, territory_id: str, name: str, origin: str, given: list[str], listed: list[str],
               crs: tuple[str, str], sources_dir: Path) -> str:
    departements = sorted({cog.communes[c].departement for c in listed})
    plural = "s" if len(departements) > 1 else ""
    where = (f"mainland France and Corsica (département{plural} {', '.join(departements)})" if crs == MAINLAND_CRS
             else f"{cog.departements.get(departements[0], departements[0])} (département {departements[0]})")
    lines = [
        "# Written by `datacites territory new` from the official geography (INSEE COG, folder",
        f"# {cog.folder.name}): {origin}.",
        f"# Check the name, put the territory's files in sources/{territory_id}/, credit each file's real",
        "# producer under `sources:`, then run `datacites check` (docs/territories.md).",
        _dump({"id": territory_id, "name": name, "fictional": False}).rstrip("\n"),
        f"# The CRSs of {where}.",
        _dump({"working_crs": crs[0], "grid_crs": crs[1], "data_dir": territory_id}).rstrip("\n"),
        *_plm_comment(cog, given, listed),
        "communes:",
        # Codes are written double-quoted, as JSON strings (valid YAML): never read as numbers.
        *(f"  - {{code: {json.dumps(c)}, name: {json.dumps(cog.communes[c].name, ensure_ascii=False)}}}"
          for c in listed),
        *_sources_lines(territory_id, sources_dir),
    ]
    return "\n".join(lines) + "\n"


def _plm_comment(cog: Cog, given: list[str], listed: list[str]) -> list[str]:
    cities = sorted({cog.communes[c].parent or c for c in given
                     if cog.communes[c].parent or cog.communes[c].arrondissements})
    if not cities:
        return []
    names = ", ".join(f"{c} ({cog.communes[c].name})" for c in cities)
    by_arrondissement = any(cog.communes[c].parent for c in listed)
    return ["# Paris, Lyon and Marseille: INSEE codes each as one commune and as arrondissements.",
            f"# This card lists {names} "
            + ("by arrondissement municipal (as IRIS and DPE files do)." if by_arrondissement
               else "as one commune (as EPCIs and commune contours do)."),
            "# A city is listed at one level only: the commune by default; its arrondissements with",
            "# --arrondissements, or when arrondissement codes (e.g. 69388) are given to --communes.",
            "# List the codes your zoning files use (docs/territories.md, \"Paris, Lyon and Marseille\")."]


def _sources_lines(territory_id: str, sources_dir: Path) -> list[str]:
    """The `sources:` block: public sources as comments, the others declared absent."""
    public, optional = [], []
    for path in sorted(Path(sources_dir).glob("*.yaml")):
        try:
            card = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raise ConfigError(f"{path}: not valid YAML; fix it (`datacites check` names the problem)") from None
        if not isinstance(card, dict) or not all(isinstance(card.get(k), str) for k in ("id", "sensitivity", "file")):
            raise ConfigError(f"{path}: a source card needs text fields id, sensitivity and file; fix it")
        (public if card["sensitivity"] == "public" else optional).append(card)
    lines = ["sources:" if optional else "sources: {}",
             "  # Public sources: each file is expected under the card's name; override `file:` if yours",
             "  # differs, and `producer`, `attribution`, `licence`, `date` (and `url`) to credit it.",
             *(f"  # {c['id']}: expected in sources/{territory_id}/{c['file']}" for c in public)]
    if optional:
        lines += ["  # Private and personal sources are optional: they enrich a demonstrator, none needs them.",
                  "  # Declared absent; when you have one, replace `{absent: true}` by its file and credits.",
                  *(f"  {c['id']}: {{absent: true}}  # {c['sensitivity']}, optional" for c in optional)]
    return lines


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def write_territory_card(cog_folder: Path, territories_dir: Path, territory_id: str, **kw: Any) -> Path:
    """Write `territories_dir/<territory_id>.yaml` from the COG in `cog_folder` (keywords of
    `territory_card`); never over an existing card, never outside `territories_dir`."""
    check_territory_id(territory_id)
    territories_dir = Path(territories_dir)
    path = territories_dir / f"{territory_id}.yaml"
    root = Path(os.path.normpath(territories_dir.absolute()))
    if Path(os.path.normpath(path.absolute())).parent != root:
        raise ConfigError(f"{path}: outside {root}; choose an id without '/' or '..'")
    if os.path.lexists(path):
        raise ConfigError(f"{path}: already exists; choose another id or delete it")
    text = territory_card(load_cog(Path(cog_folder)), territory_id, **kw)
    territories_dir.mkdir(parents=True, exist_ok=True)
    _write_new(path, text)
    return path


def _write_new(path: Path, text: str) -> None:
    """Write `text` to a temporary file, then link it into place: a crash leaves no half
    card, and a card written meanwhile by someone else is never replaced."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise ConfigError(f"{path}: already exists; choose another id or delete it") from None
        except OSError:  # a file system without hard links: check, then rename
            if os.path.lexists(path):
                raise ConfigError(f"{path}: already exists; choose another id or delete it") from None
            os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
