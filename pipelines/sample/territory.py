"""The continuous model of the fictional territory: outline, urban centres, districts.

Everything else (grid cells, IRIS, dwellings, trips) is drawn from the fields defined
here, which is what makes the files spatially coherent: the same poverty field lowers
incomes in Filosofi, raises F/G labels in the DPE, lowers real energy use, and so on.

All distances are metres in the working CRS of the territory's profile (Lambert-93,
EPSG:2154, for the mainland profile; see :mod:`.profiles`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from .names import MAX_COMMUNES
from .profiles import MAINLAND, SampleProfile
from .rand import stream

# The mainland profile's values, kept under their historical names.
WORKING_CRS = MAINLAND.working_crs
GRID_CRS = MAINLAND.grid_crs
ORIGIN_L93 = MAINLAND.origin
BASE_RADIUS_M = MAINLAND.base_radius_m
DATA_YEAR = 2023
DEFAULT_SEED = MAINLAND.seed
MAX_SCALE = 2_000.0

# Districts drawn around each urban centre: (offset from the centre, radius), metres at
# the size of the main centre. "poor_centre" is the run-down historic core, "estate" a
# 1960s social-housing estate, "rich" a well-off residential suburb, "activity" a
# business park (few homes, one huge energy consumer), "park" a wood with almost nobody.
FEATURES = {
    "poor_centre": (450.0, 450.0),
    "estate": (2_300.0, 550.0),
    "rich": (3_000.0, 1_300.0),
    "activity": (3_400.0, 450.0),
    "park": (1_300.0, 380.0),
}


@dataclass(frozen=True)
class Targets:
    """Counts the generator aims at for a given scale (all multiplied by ``scale``)."""

    scale: float
    households: float
    inhabitants: float
    n_iris: int
    n_communes: int
    n_single_iris_communes: int
    n_centres: int
    dpe_rows: int
    dvf_mutations: int
    meter_households: int
    survey_respondents: int
    carsharing_stations: int

    @classmethod
    def from_scale(cls, scale: float, profile: SampleProfile = MAINLAND) -> "Targets":
        """Derive the targets of a profile; raise ``ValueError`` for a scale out of
        ``(0, MAX_SCALE]``."""
        if not (isinstance(scale, (int, float)) and 0 < scale <= MAX_SCALE and math.isfinite(scale)):
            raise ValueError(f"scale must be a number in (0, {MAX_SCALE:g}], got {scale!r}")
        p = profile
        n_centres = max(1, math.floor(scale + 0.5))
        n_communes = min(MAX_COMMUNES - (p.first_commune - 1), max(2, round(p.communes * scale)))
        n_iris = max(round(p.iris * scale), n_communes + 2 * n_centres + 4)
        rows = p.volume * scale  # 1.0 * scale for the mainland: the same floats as before profiles
        return cls(
            scale=float(scale), households=float(p.households) * scale, inhabitants=float(p.inhabitants) * scale,
            n_iris=n_iris, n_communes=n_communes, n_single_iris_communes=n_communes // p.single_iris_every,
            n_centres=n_centres, dpe_rows=max(1, round(12_000 * rows)),
            dvf_mutations=max(1, round(3_000 * rows)), meter_households=max(1, round(3_000 * rows)),
            survey_respondents=max(1, round(2_000 * rows)), carsharing_stations=max(3, round(25 * rows)),
        )


@dataclass(frozen=True)
class Fields:
    """Model fields evaluated at some points (all arrays of the points' length).

    Attributes
    ----------
    distance : distance to the nearest centre, divided by that centre's size (metres).
    density : relative density of households (0 in the parks).
    poverty, estate, rich, activity, park : district intensities in [0, 1].
    centre : index of the nearest centre.
    """

    distance: np.ndarray
    density: np.ndarray
    poverty: np.ndarray
    estate: np.ndarray
    rich: np.ndarray
    activity: np.ndarray
    park: np.ndarray
    centre: np.ndarray


@dataclass
class Landscape:
    """Outline, urban centres and districts of the fictional territory."""

    outline: shapely.Polygon
    inner: shapely.Polygon
    centres: np.ndarray
    weights: np.ndarray
    features: dict[str, tuple[np.ndarray, np.ndarray]]
    profile: SampleProfile

    def __post_init__(self) -> None:
        shapely.prepare(self.inner)
        self._centre_tree = cKDTree(self.centres)
        self._feature_trees = {k: cKDTree(xy) for k, (xy, _) in self.features.items()}

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where (x, y) is inside the territory, at least 0.5 m from its edge."""
        return shapely.contains_xy(self.inner, x, y)

    def feature(self, kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Intensity in [0, 1] of the nearest district of one kind (Gaussian bump)."""
        distance, index = self._feature_trees[kind].query(np.column_stack([x, y]))
        return np.exp(-((distance / self.features[kind][1][index]) ** 2))

    def fields(self, x: np.ndarray, y: np.ndarray) -> Fields:
        """Evaluate every field at the points (x, y)."""
        k = min(3, len(self.centres))
        distance, index = self._centre_tree.query(np.column_stack([x, y]), k=k)
        distance, index = distance.reshape(len(x), k), index.reshape(len(x), k)
        size = np.sqrt(self.weights[index])
        density = (self.weights[index] * (
            2.0 * np.exp(-distance / (500 * size)) + np.exp(-distance / (900 * size))
            + 0.12 * np.exp(-distance / (3_500 * size))
        )).sum(axis=1)
        estate, park, activity = (self.feature(n, x, y) for n in ("estate", "park", "activity"))
        poverty = np.maximum(0.85 * self.feature("poor_centre", x, y), estate)
        park = np.clip(1.6 * park, 0, 1)
        density = density * (1 - 0.985 * park) * (1 - 0.85 * activity) * (1 + 0.8 * estate)
        return Fields(
            distance=distance[:, 0] / size[:, 0], density=density, poverty=poverty, estate=estate,
            rich=self.feature("rich", x, y), activity=activity, park=park, centre=index[:, 0],
        )


def _outline(profile: SampleProfile, radius: float, rng: np.random.Generator) -> shapely.Polygon:
    """An irregular blob around the origin (sum of a few harmonics of the radius), or,
    for a ``coast`` profile, an elongated strip whose seaward side is cut into bays."""
    n_vertices = int(min(4_000, 720 * max(1.0, radius / profile.base_radius_m) ** 0.5))
    theta = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
    r = np.ones_like(theta)
    for k, amplitude in zip(range(2, 8), (0.10, 0.07, 0.05, 0.04, 0.03, 0.02), strict=False):
        r += amplitude * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    x0, y0 = profile.origin
    if profile.shape == "blob":
        return shapely.Polygon(np.column_stack([x0 + radius * r * np.cos(theta), y0 + radius * r * np.sin(theta)]))
    if profile.shape != "coast":
        raise ValueError(f"profile {profile.id}: unknown shape {profile.shape!r} (blob or coast)")
    return _coast(profile, radius, theta, r, rng)


def _coast(profile: SampleProfile, radius: float, theta: np.ndarray, r: np.ndarray,
           rng: np.random.Generator) -> shapely.Polygon:
    """Stretch the blob along the profile's axis; bays and headlands on one long side.

    The radius stays a positive function of the angle, so the polygon stays simple (an
    affine map of a star-shaped polygon is star-shaped).
    """
    seaward = np.clip(np.sin(theta), 0, None) ** 2
    for k, amplitude in ((9, 0.05), (14, 0.035), (23, 0.02)):
        r = r + seaward * amplitude * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    long_axis, short_axis = profile.axes
    u, v = radius * long_axis * r * np.cos(theta), radius * short_axis * r * np.sin(theta)
    angle = math.radians(profile.axis_deg)
    x0, y0 = profile.origin
    return shapely.Polygon(np.column_stack([x0 + u * math.cos(angle) - v * math.sin(angle),
                                            y0 + u * math.sin(angle) + v * math.cos(angle)]))


def _centres(outline: shapely.Polygon, n: int, rng: np.random.Generator,
             origin_xy: tuple[float, float] = ORIGIN_L93) -> np.ndarray:
    """Centre 0 at the origin, the others on a jittered hexagonal lattice inside."""
    origin = np.array([origin_xy])
    if n == 1:
        return origin
    spacing = math.sqrt(outline.area / n) * 1.02
    while True:
        spacing *= 0.95
        inside = _hex_lattice(outline.buffer(-0.45 * spacing), spacing)
        inside = inside[np.hypot(*(inside - origin).T) > 0.5 * spacing]
        if len(inside) >= n - 1:
            break
    order = np.argsort(np.hypot(*(inside - origin).T), kind="stable")[: n - 1]
    jitter = rng.uniform(-0.2, 0.2, size=(n - 1, 2)) * spacing
    return np.vstack([origin, inside[order] + jitter])


def _hex_lattice(area: shapely.Polygon, spacing: float) -> np.ndarray:
    """Points of a hexagonal lattice of the given spacing that fall in ``area``."""
    xmin, ymin, xmax, ymax = area.bounds
    ys = np.arange(ymin, ymax + spacing, spacing * math.sqrt(3) / 2)
    xs = np.arange(xmin, xmax + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * spacing / 2
    points = np.column_stack([gx.ravel(), gy.ravel()])
    return points[shapely.contains_xy(area, points[:, 0], points[:, 1])]


def _features(centres: np.ndarray, weights: np.ndarray, inner: shapely.Polygon, rng: np.random.Generator):
    """Place each kind of district around every centre, in separate directions."""
    n = len(centres)
    base = rng.uniform(0, 2 * np.pi, n)
    size = np.sqrt(weights)
    features = {}
    for j, (kind, (offset, radius)) in enumerate(FEATURES.items()):
        angle = base + j * 2 * np.pi / len(FEATURES) + rng.uniform(-0.3, 0.3, n)
        distance = offset * size
        xy = centres + np.column_stack([np.cos(angle), np.sin(angle)]) * distance[:, None]
        for _ in range(6):  # pull districts that fall outside back towards their centre
            outside = ~shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
            if not outside.any():
                break
            xy[outside] = centres[outside] + (xy[outside] - centres[outside]) * 0.6
        features[kind] = (xy, radius * size)
    return features


def build_landscape(targets: Targets, seed: int, profile: SampleProfile = MAINLAND) -> Landscape:
    """Draw the outline, centres and districts for the given targets.

    Parameters
    ----------
    targets : Targets
    seed : int
    profile : SampleProfile, default the mainland one
        Where the territory lies (working CRS, origin) and its shape.

    Returns
    -------
    Landscape
    """
    rng = stream(seed, "landscape")
    outline = _outline(profile, profile.base_radius_m * math.sqrt(targets.scale), rng)
    inner = outline.buffer(-0.5)
    centres = _centres(outline, targets.n_centres, rng, profile.origin)
    weights = np.concatenate([[1.0], np.clip(rng.lognormal(-0.3, 0.5, len(centres) - 1), 0.25, 1.2)])
    return Landscape(outline, inner, centres, weights, _features(centres, weights, inner, rng), profile)
