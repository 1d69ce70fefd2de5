"""Fictional codes and names: communes, IRIS, streets, stations.

Commune codes use département prefixes that do not exist (see
:data:`FICTIONAL_DEPARTEMENTS`), so a sample code can never be mistaken for a real
commune, and every name says it is fictional.
"""

from __future__ import annotations

import itertools

import numpy as np

# Prefixes of no current commune (checked against the COG 2026), in the order they are
# used: 00 and 96 never existed; 20 is Corsica's code before its 1976 split (no current
# commune); 970, 979-983 and 985 are unused three-digit overseas codes; 99 (INSEE's code
# for places abroad, never a commune) comes last. Capacity: 4 x 999 + 7 x 99 = 4,689.
FICTIONAL_DEPARTEMENTS = ("00", "96", "20", "970", "979", "980", "981", "982", "983", "985", "99")
MAX_COMMUNES = sum(10 ** (5 - len(d)) - 1 for d in FICTIONAL_DEPARTEMENTS)

TERRITORY_NAME = "Communauté d'agglomération de Fictiville (territoire fictif)"

ROOTS = (
    "Fictiville", "Imaginac", "Songeval", "Chimérac", "Fabulon", "Miragny", "Utopiac", "Rêvemont",
    "Illusières", "Fantasmoy", "Légendrac", "Brumeval", "Nébulon", "Onirac", "Feintville",
    "Pseudonville", "Inventières", "Allégoire", "Parabolac", "Contefort", "Merveillac", "Nullepart",
    "Invisac", "Mythonville", "Sornevaux", "Baliverne", "Calembourg", "Fariboles", "Chimèrepont",
    "Lubieville", "Songelieu", "Fabliac", "Rêverie", "Hypothèse", "Apocryphe", "Supposac",
)
SUFFIXES = (
    "", "-sur-Songe", "-le-Haut", "-le-Bas", "-les-Vignes", "-en-Fable", "-la-Forêt",
    "-Saint-Rêve", "-les-Bains", "-sur-Chimère", "-la-Rivière", "-le-Château", "-les-Prés",
    "-en-Brume", "-la-Colline", "-du-Mirage", "-les-Granges", "-sur-Nuée", "-le-Vieux",
)
QUARTIERS = (
    "Centre-Ville", "Gare", "Les Tilleuls", "Le Moulin", "Les Acacias", "La Fontaine", "Le Stade",
    "Les Vergers", "Le Plateau", "Les Chênes", "Hôtel de Ville", "La Croix-Blanche",
    "Les Peupliers", "Le Parc", "Les Jardins", "La Rivière", "Le Château d'Eau", "Les Coteaux",
    "Beausoleil", "Bellevue", "Les Prés", "La Prairie", "Le Bourg", "Les Hauts", "Les Lilas",
    "Le Pont-Neuf", "La Colline", "Les Écoles", "La Mairie", "Les Rives", "Le Clos", "Les Sources",
)
STREET_TYPES = (("RUE", "rue"), ("AV", "avenue"), ("BD", "boulevard"), ("CHE", "chemin"),
                ("IMP", "impasse"), ("PL", "place"), ("ALL", "allée"), ("RTE", "route"))
_STREET_NAMES = (
    ("DES LILAS", "des Lilas"), ("DU MOULIN", "du Moulin"), ("DE LA FONTAINE", "de la Fontaine"),
    ("DES ALOUETTES", "des Alouettes"), ("DES SONGES", "des Songes"), ("DE L IMAGINAIRE", "de l'Imaginaire"),
    ("DU BELVEDERE", "du Belvédère"), ("DES CHIMERES", "des Chimères"), ("DE LA FABLE", "de la Fable"),
    ("DES PEUPLIERS", "des Peupliers"), ("DU STADE", "du Stade"), ("DE LA GARE", "de la Gare"),
    ("DES ECOLES", "des Écoles"), ("DU CHATEAU", "du Château"), ("DES VERGERS", "des Vergers"),
    ("DE LA LICORNE", "de la Licorne"), ("DU DRAGON", "du Dragon"), ("DES FEES", "des Fées"),
    ("JEAN FABLE", "Jean Fable"), ("MARIE SONGE", "Marie Songe"), ("DU MIRAGE", "du Mirage"),
    ("DES TILLEULS", "des Tilleuls"), ("DE LA PAIX", "de la Paix"), ("DES ACACIAS", "des Acacias"),
    ("DU PONT NEUF", "du Pont-Neuf"), ("DES COTEAUX", "des Coteaux"), ("DE LA COLLINE", "de la Colline"),
    ("DU PARC", "du Parc"), ("DES PRES", "des Prés"), ("DE L UTOPIE", "de l'Utopie"),
    ("DES NUAGES", "des Nuages"), ("DU CONTE", "du Conte"), ("DES LEGENDES", "des Légendes"),
    ("DE LA BRUME", "de la Brume"), ("DU VIEUX PUITS", "du Vieux Puits"), ("DES GRILLONS", "des Grillons"),
    ("DES MERLES", "des Merles"),
)
# (abbreviated upper case as in DVF, full mixed case as in addresses)
STREETS = tuple(
    (f"{ta} {na}", f"{tf} {nf}")
    for (ta, tf), (na, nf) in itertools.product(STREET_TYPES, _STREET_NAMES)
)


def commune_codes(n: int, first: int = 1) -> list[str]:
    """Return ``n`` fictional commune codes: ``00001``... then other unused prefixes.

    Parameters
    ----------
    n : int
        Number of codes, at most :data:`MAX_COMMUNES` minus the codes skipped.
    first : int, default 1
        Number of the first code in département ``00`` (101 gives ``00101``, ``00102``...),
        so that two fictional territories need not share codes.

    Returns
    -------
    list[str]
        Codes matching ``^(\\d{5}|2[AB]\\d{3})$``, unique.
    """
    capacity = MAX_COMMUNES - (first - 1)
    if not 1 <= first <= 999 or not 0 <= n <= capacity:
        raise ValueError(f"at most {capacity} fictional communes can be coded from number {first}, asked {n}")
    codes = (
        f"{dep}{number:0{5 - len(dep)}d}"
        for dep in FICTIONAL_DEPARTEMENTS
        for number in range(1, 10 ** (5 - len(dep)))
    )
    return list(itertools.islice(codes, first - 1, first - 1 + n))


def departement_of(code: str) -> str:
    """Return the (fictional) département prefix of a commune code (``00``, ``970``...)."""
    for dep in sorted(FICTIONAL_DEPARTEMENTS, key=len, reverse=True):
        if code.startswith(dep):
            return dep
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def postal_code(code: str) -> str:
    """Return a fictional postal code shared by neighbouring commune numbers (``00100``)."""
    dep = departement_of(code)
    width = 5 - len(dep)
    number = int(code[len(dep):]) // 10 * 10 + 10 ** (width - 1)
    return f"{dep}{number % 10 ** width:0{width}d}"


def commune_names(n: int, rng: np.random.Generator, roots: tuple[str, ...] = ROOTS,
                  suffixes: tuple[str, ...] = SUFFIXES) -> list[str]:
    """Return ``n`` distinct commune names, the first being the first root's
    (``Fictiville (fictif)``); the others are root x suffix combinations, shuffled."""
    combos = [r + s for s in suffixes for r in roots]
    tail = combos[1:]
    order = rng.permutation(len(tail))
    pool = [combos[0]] + [tail[i] for i in order]
    names = [pool[i % len(pool)] + ("" if i < len(pool) else f" {i // len(pool) + 1}") for i in range(n)]
    return [f"{name} (fictif)" for name in names]


def iris_names(rank: np.ndarray, quartiers: tuple[str, ...] = QUARTIERS) -> list[str]:
    """Return district names from each IRIS' rank in its commune (0 = central)."""
    size = len(quartiers)
    return [
        f"{quartiers[r % size]}{'' if r < size else f' {r // size + 1}'}" for r in rank.tolist()
    ]


def street_index(key: np.ndarray) -> np.ndarray:
    """Map integer location keys to street indices (deterministic hash)."""
    mixed = (np.asarray(key, dtype=np.uint64) * np.uint64(2654435761)) >> np.uint64(7)
    return (mixed % np.uint64(len(STREETS))).astype(np.int64)


def street_labels() -> np.ndarray:
    """Street names capitalised for signs and stop names (``Rue des Lilas``)."""
    return np.array([full[0].upper() + full[1:] for _, full in STREETS], dtype=object)
