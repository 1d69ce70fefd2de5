"""Territory profiles: what makes one fictional sample territory differ from another.

The CRSs are properties of the territory (docs/architecture.md, decision 6): a profile
carries the working CRS, the grid CRS of INSEE's 200 m cells, where the territory lies
in the working CRS, its shape and size, its seed, codes, names and fictional notice.
Everything else, the model and the writers, is shared, so a second profile proves that
nothing downstream assumes mainland France.

- ``mainland``: Fictiville, Lambert-93 (EPSG:2154) with the EPSG:3035 grid, 4 communes
  at scale 1. Its files are byte-identical to those of the generator before profiles.
- ``overseas``: Anse-Fictive, modelled on Martinique: working and grid CRS EPSG:5490
  (RGAF09 / UTM zone 20N), grid layer ``carreaux_200m_mart``, 3 communes coded
  ``00101``... on an elongated coastal outline.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import QUARTIERS, ROOTS, SUFFIXES, TERRITORY_NAME

__all__ = ["SampleProfile", "MAINLAND", "OVERSEAS", "PROFILES", "get_profile"]

_MAINLAND_NOTICE = """\
DONNÉES ENTIÈREMENT FICTIVES
============================

Ce dossier a été produit par le générateur d'échantillon de datacites
(`datacites sample`). Le territoire « Communauté d'agglomération de Fictiville »,
ses communes (codes commençant par des numéros de département qui n'existent pas :
00, 96...), ses IRIS, ses habitants, ses logements, ses ventes, ses lignes de bus,
ses compteurs et ses personnes sont inventés. Toute ressemblance avec un lieu ou une
personne réels serait fortuite. Les fichiers reprennent seulement le FORMAT des
sources officielles (IGN, INSEE, ADEME, DGFiP/Etalab, GTFS, RPLS, LOVAC) pour que
les mêmes connecteurs lisent l'échantillon et les vraies données. N'en tirez aucune
conclusion sur un territoire réel.

ENTIRELY FICTIONAL DATA
=======================

This folder was produced by datacites' sample generator (`datacites sample`). The
territory "Communauté d'agglomération de Fictiville", its communes (codes start with
département numbers that do not exist: 00, 96...), IRIS, inhabitants, dwellings,
sales, bus lines, meters and persons are made up. Any resemblance to a real place or
person is coincidental. The files only copy the FORMAT of the official sources (IGN,
INSEE, ADEME, DGFiP/Etalab, GTFS, RPLS, LOVAC) so that the same connectors read the
sample and real data. Draw no conclusion about any real territory from them.

Paramètres / parameters: scale={scale}, seed={seed}, data_year={year}
"""

_OVERSEAS_NOTICE = """\
DONNÉES ENTIÈREMENT FICTIVES
============================

Ce dossier a été produit par le générateur d'échantillon de datacites
(`datacites sample --profile overseas`). Le territoire « Communauté d'agglomération
de l'Anse-Fictive », ses communes (codes 00101, 00102... du département 00, qui
n'existe pas), ses IRIS, ses habitants, ses logements, ses ventes, ses lignes de bus,
ses compteurs et ses personnes sont inventés. Ce n'est PAS la Martinique : le
territoire en emprunte seulement les systèmes de coordonnées (RGAF09 / UTM zone 20N,
EPSG:5490, pour les coordonnées comme pour les carreaux INSEE de 200 m) et se situe
dans leur zone d'usage. Toute ressemblance avec un lieu ou une personne réels serait
fortuite. Les fichiers reprennent seulement le FORMAT des sources officielles (IGN,
INSEE, ADEME, DGFiP/Etalab, GTFS, RPLS, LOVAC) pour que les mêmes connecteurs lisent
l'échantillon et les vraies données. N'en tirez aucune conclusion sur un territoire
réel.

ENTIRELY FICTIONAL DATA
=======================

This folder was produced by datacites' sample generator (`datacites sample --profile
overseas`). The territory "Communauté d'agglomération de l'Anse-Fictive", its
communes (codes 00101, 00102... in département 00, which does not exist), IRIS,
inhabitants, dwellings, sales, bus lines, meters and persons are made up. It is NOT
Martinique: it only borrows Martinique's coordinate systems (RGAF09 / UTM zone 20N,
EPSG:5490, for coordinates and for INSEE's 200 m cells) and lies in their area of use.
Any resemblance to a real place or person is coincidental. The files only copy the
FORMAT of the official sources so that the same connectors read the sample and real
data. Draw no conclusion about any real territory from them.

Paramètres / parameters: profile=overseas, scale={scale}, seed={seed}, data_year={year}
"""


@dataclass(frozen=True)
class SampleProfile:
    """One fictional territory: CRSs, place, shape, size, seed, codes and names.

    Attributes
    ----------
    id : str
        ``mainland`` or ``overseas`` (``datacites sample --profile``).
    territory_id, data_dir : str
        Id of its card in ``sources/territories/`` and its folder under ``sources/``.
    name : str
        The territory's name (says it is fictional).
    of_place : str
        ``de Fictiville``: completes "territoire fictif ..." in layer descriptions.
    working_crs, grid_crs : str
        CRS of every coordinate and zone; CRS of INSEE's 200 m cells (and their ids).
    origin : tuple of float
        Main urban centre, in the working CRS (metres).
    base_radius_m : float
        Radius of the outline at scale 1 (grows with the square root of the scale).
    shape : {"blob", "coast"}
        An irregular round blob, or an elongated strip with a bay-cut coast.
    axes : tuple of float
        Semi-axes of a ``coast`` outline, in base radii (long, short).
    axis_deg : float
        Direction of the long axis of a ``coast`` outline (degrees from east).
    seed : int
        Default seed (same seed, same bytes).
    households, inhabitants, iris, communes : int
        Targets at scale 1 (multiplied by the scale).
    single_iris_every : int
        One commune in this many is a small one-IRIS commune (type Z).
    volume : float
        Rows of the point files (DPE, DVF, meters, survey, car-sharing), relative to
        the mainland profile.
    first_commune : int
        Number of the first commune code in département ``00`` (``00001`` or ``00101``).
    roots, suffixes, quartiers : tuple of str
        Commune names (roots x suffixes, the first root first) and IRIS names.
    activity_name, wood_name : str
        Names of the business-park (type A) and wood (type D) IRIS.
    grid_layer : str
        Layer of the Filosofi GeoPackage, as INSEE names it per territory.
    timezone, agency_name, holidays : str, str, tuple of str
        GTFS agency time zone and name; public holidays (``MMDD``) run the weekend
        service.
    x_column, y_column, home_x_column, home_y_column : str
        Coordinate columns of the private and personal files (named after the CRS).
    notice : str
        Text of ``LISEZMOI_FICTIF.txt`` (``{scale}``, ``{seed}``, ``{year}`` filled in).
    """

    id: str
    territory_id: str
    data_dir: str
    name: str
    of_place: str
    working_crs: str
    grid_crs: str
    origin: tuple[float, float]
    base_radius_m: float
    shape: str
    seed: int
    households: int
    inhabitants: int
    iris: int
    communes: int
    single_iris_every: int
    volume: float
    first_commune: int
    roots: tuple[str, ...]
    suffixes: tuple[str, ...]
    quartiers: tuple[str, ...]
    activity_name: str
    wood_name: str
    grid_layer: str
    timezone: str
    agency_name: str
    holidays: tuple[str, ...]
    x_column: str
    y_column: str
    home_x_column: str
    home_y_column: str
    notice: str
    axes: tuple[float, float] = (1.0, 1.0)
    axis_deg: float = 0.0

    @property
    def grid_epsg(self) -> int:
        """EPSG code of the grid CRS, as written in INSEE cell ids (``CRS3035RES...``)."""
        authority, code = self.grid_crs.split(":")
        if authority.upper() != "EPSG" or not code.isdigit():
            raise ValueError(f"profile {self.id}: grid CRS must be written EPSG:<code>, got {self.grid_crs!r}")
        return int(code)


MAINLAND = SampleProfile(
    id="mainland", territory_id="sample", data_dir="sample", name=TERRITORY_NAME, of_place="de Fictiville",
    working_crs="EPSG:2154", grid_crs="EPSG:3035", origin=(700_000.0, 6_600_000.0), base_radius_m=6_000.0,
    shape="blob", seed=20261128, households=28_000, inhabitants=60_000, iris=40, communes=4,
    single_iris_every=4, volume=1.0, first_commune=1, roots=ROOTS, suffixes=SUFFIXES, quartiers=QUARTIERS,
    activity_name="Zone d'activités du Mirage (fictif)", wood_name="Bois de la Fable (fictif)",
    grid_layer="carreaux_200m_met", timezone="Europe/Paris",
    agency_name="Fictibus, réseau de bus FICTIF de Fictiville", holidays=("0501", "0714"),
    x_column="x_l93", y_column="y_l93", home_x_column="x_domicile_l93", home_y_column="y_domicile_l93",
    notice=_MAINLAND_NOTICE,
)

OVERSEAS = SampleProfile(
    id="overseas", territory_id="overseas_sample", data_dir="overseas_sample",
    name="Communauté d'agglomération de l'Anse-Fictive (territoire fictif d'outre-mer)",
    of_place="de l'Anse-Fictive",
    # Martinique's legal CRS, for coordinates and for INSEE's overseas 200 m cells alike.
    working_crs="EPSG:5490", grid_crs="EPSG:5490", origin=(712_000.0, 1_619_000.0), base_radius_m=5_000.0,
    shape="coast", axes=(1.9, 0.8), axis_deg=-50.0, seed=20260972,
    households=17_000, inhabitants=37_000, iris=24, communes=3, single_iris_every=3, volume=0.6,
    first_commune=101,
    roots=("Anse-Fictive", "Morne-Songe", "Trois-Chimères", "Pointe-Imaginaire", "Rivière-Fable",
           "Fond-Mirage", "Case-Rêverie", "Grand-Utopie", "Morne-Légende", "Habitation-Songe",
           "Anse-Brume", "Fond-Nuée", "Pointe-Illusion", "Ravine-Fable", "Belle-Fiction"),
    suffixes=("", "-sur-Mer", "-du-Morne", "-la-Mangrove", "-les-Alizés", "-la-Ravine", "-les-Hauts"),
    quartiers=("Bourg", "Front de Mer", "Morne Vert", "Les Flamboyants", "Les Cocotiers", "La Savane",
               "Les Manguiers", "Le Marché", "L'Habitation", "Les Alizés", "La Marina", "Ravine Claire",
               "Les Balisiers", "Le Phare", "Les Hibiscus", "La Distillerie", "Fond Calme", "Les Raisiniers"),
    activity_name="Zone d'activités de la Pointe-Songe (fictif)", wood_name="Mangrove de la Fable (fictif)",
    grid_layer="carreaux_200m_mart", timezone="America/Martinique",
    agency_name="Fictibus Caraïbes, réseau de bus FICTIF de l'Anse-Fictive",
    holidays=("0501", "0522", "0714"),  # 22 May: abolition of slavery, a holiday in Martinique
    x_column="x_utm20n", y_column="y_utm20n",
    # The travel-survey connector knows CRS-neutral home columns, not UTM-suffixed ones.
    home_x_column="x_domicile", home_y_column="y_domicile",
    notice=_OVERSEAS_NOTICE,
)

PROFILES = {p.id: p for p in (MAINLAND, OVERSEAS)}


def get_profile(profile: str | SampleProfile) -> SampleProfile:
    """Return a profile by id (``"mainland"``, ``"overseas"``) or pass one through.

    Raises
    ------
    ValueError
        For an unknown id, naming the known ones.
    """
    if isinstance(profile, SampleProfile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f"unknown sample profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[profile]
