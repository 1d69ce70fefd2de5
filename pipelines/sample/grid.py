"""Inhabited 200 m cells of the INSEE grid (the profile's grid CRS) and what lives in each.

A cell is kept when its centre lies in the territory and a draw says it is inhabited;
cells on the edge therefore stick partly out of the territory, as in the real file.
Each cell carries the *expected* profile of its households (shares by period of
construction, housing type, income...), from which every file samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyproj
import shapely

from .profiles import SampleProfile
from .rand import stream
from .territory import Fields, Landscape, Targets

CELL_M = 200
# Filosofi periods of construction: before 1945, 1945-1969, 1970-1989, 1990 and later, unknown.
PERIOD_COLUMNS = ("log_av45", "log_45_70", "log_70_90", "log_ap90", "log_inc")
AGE_COLUMNS = (
    "ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17", "ind_18_24",
    "ind_25_39", "ind_40_54", "ind_55_64", "ind_65_79", "ind_80p",
)
_AGE_BASE = np.array([0.045, 0.023, 0.060, 0.080, 0.085, 0.185, 0.200, 0.125, 0.135, 0.062])
_CHILD = np.r_[1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
_YOUNG = np.r_[0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
_OLD = np.r_[0, 0, 0, 0, 0, 0, 0, 0, 1, 1]


@lru_cache(maxsize=None)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """Cached x/y-ordered transformer between two CRSs."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_working(e: np.ndarray, n: np.ndarray, profile: SampleProfile) -> tuple[np.ndarray, np.ndarray]:
    """Grid easting/northing to working x/y (EPSG:3035 to Lambert-93 for the mainland)."""
    if profile.grid_crs == profile.working_crs:  # overseas: cells are in the working CRS
        return np.array(e, dtype=np.float64), np.array(n, dtype=np.float64)
    return transformer(profile.grid_crs, profile.working_crs).transform(e, n)


def to_grid(x: np.ndarray, y: np.ndarray, profile: SampleProfile) -> tuple[np.ndarray, np.ndarray]:
    """Working x/y to grid easting/northing (Lambert-93 to EPSG:3035 for the mainland)."""
    if profile.grid_crs == profile.working_crs:
        return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    return transformer(profile.working_crs, profile.grid_crs).transform(x, y)


@dataclass
class Profile:
    """Expected household profile of each cell (arrays over cells)."""

    period: np.ndarray      # (n, 5) shares by PERIOD_COLUMNS
    collective: np.ndarray  # share of households in flats
    owner: np.ndarray
    single: np.ndarray      # one-person households
    large: np.ndarray       # five persons or more
    lone_parent: np.ndarray
    poor: np.ndarray        # households below the poverty line
    social: np.ndarray      # social housing, share of households
    size: np.ndarray        # persons per household
    surface: np.ndarray     # m2 per dwelling
    income: np.ndarray      # mean standard of living, EUR per consumption unit and year
    age: np.ndarray         # (n, 10) shares by AGE_COLUMNS


@dataclass
class Cells:
    """Inhabited grid cells of the territory.

    Attributes
    ----------
    e, n : int64 lower-left corner in the grid CRS (metres).
    x, y : float64 centre in the working CRS.
    edge : True when part of the cell may lie outside the territory.
    households : expected households (float, before publication rounding).
    fields : model fields at the centre.
    profile : expected household profile.
    territory : the territory's profile (CRSs).
    iris, commune : index of the IRIS / commune holding the centre (set by the zoning).
    """

    e: np.ndarray
    n: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge: np.ndarray
    households: np.ndarray
    fields: Fields
    profile: Profile
    territory: SampleProfile
    iris: np.ndarray | None = None
    commune: np.ndarray | None = None
    _lookup: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.e)

    def index_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the inhabited cell holding each point (working CRS), -1 where none."""
        if self._lookup is None:
            keys = (self.e // CELL_M) * 100_000 + self.n // CELL_M
            order = np.argsort(keys)
            self._lookup = (keys[order], order)
        keys, order = self._lookup
        e, n = to_grid(x, y, self.territory)
        column, row = (np.floor(np.asarray(v) / CELL_M).astype(np.int64) for v in (e, n))
        key = column * 100_000 + row
        position = np.clip(np.searchsorted(keys, key), 0, len(keys) - 1)
        return np.where(keys[position] == key, order[position], -1)

    def sample_points(self, land: Landscape, cell: np.ndarray, rng: np.random.Generator):
        """Draw one point per entry of ``cell``, uniformly in the part inside the territory.

        Points keep 1 m away from the cell's edges, so that rounding to the centimetre
        never moves them to another cell.

        Returns
        -------
        tuple[numpy.ndarray, numpy.ndarray]
            x, y in the working CRS.
        """
        e = self.e[cell] + rng.uniform(1.0, CELL_M - 1.0, len(cell))
        n = self.n[cell] + rng.uniform(1.0, CELL_M - 1.0, len(cell))
        x, y = to_working(e, n, land.profile)
        todo = np.flatnonzero(self.edge[cell])
        for _ in range(30):
            todo = todo[~land.contains(x[todo], y[todo])]
            if not todo.size:
                break
            e2 = self.e[cell[todo]] + rng.uniform(1.0, CELL_M - 1.0, todo.size)
            n2 = self.n[cell[todo]] + rng.uniform(1.0, CELL_M - 1.0, todo.size)
            x[todo], y[todo] = to_working(e2, n2, land.profile)
        x[todo], y[todo] = self.x[cell[todo]], self.y[cell[todo]]
        return x, y


def _candidate_cells(land: Landscape) -> tuple[np.ndarray, np.ndarray]:
    """Lower-left corners of every grid cell whose centre is in the territory."""
    ox, oy = shapely.get_coordinates(land.outline.exterior).T
    e, n = to_grid(ox, oy, land.profile)
    e0, n0 = np.floor(e.min() / CELL_M) * CELL_M, np.floor(n.min() / CELL_M) * CELL_M
    es = np.arange(e0, e.max() + CELL_M, CELL_M)
    ns = np.arange(n0, n.max() + CELL_M, CELL_M)
    inside_e, inside_n = [], []
    for row in np.array_split(np.arange(len(ns)), max(1, len(ns) // 256)):  # bounded memory
        ge, gn = np.meshgrid(es, ns[row])
        x, y = to_working(ge.ravel() + CELL_M / 2, gn.ravel() + CELL_M / 2, land.profile)
        keep = land.contains(x, y)
        inside_e.append(ge.ravel()[keep])
        inside_n.append(gn.ravel()[keep])
    return np.concatenate(inside_e).astype(np.int64), np.concatenate(inside_n).astype(np.int64)


def _shares(raw: np.ndarray) -> np.ndarray:
    """Normalise positive weights by row."""
    return raw / raw.sum(axis=1, keepdims=True)


def _profile(f: Fields, rng: np.random.Generator) -> Profile:
    """Expected profile of the households of each cell from the model fields."""
    km = f.distance / 1_000
    noise = lambda s: rng.lognormal(0.0, s, len(km))  # noqa: E731 - local shorthand
    period = _shares(np.column_stack([
        (3.2 * np.exp(-km / 1.1) + 0.22 * (1 - f.activity)) * noise(0.3),
        (0.9 * np.exp(-(((km - 1.9) / 1.3) ** 2)) + 3.0 * f.estate + 0.18) * noise(0.3),
        (0.9 * np.exp(-(((km - 3.4) / 1.8) ** 2)) + 0.3) * noise(0.3),
        (1.3 * (1 - np.exp(-km / 2.5)) + 1.2 * f.rich + 0.12) * noise(0.3),
        np.full(len(km), 0.015),
    ]))
    collective = np.clip(0.93 * np.exp(-km / 2.2) + 0.55 * f.estate + 0.04, 0.02, 0.98)
    poor = np.clip((0.095 + 0.38 * f.poverty - 0.05 * f.rich) * noise(0.15), 0.015, 0.75)
    child = 1 + 0.45 * (1 - collective) + 0.5 * f.poverty
    young = 1 + 0.6 * collective - 0.2 * f.rich
    age = _shares(_AGE_BASE * (1 + np.outer(child - 1, _CHILD) + np.outer(young - 1, _YOUNG)
                               + np.outer(0.25 * np.exp(-km / 4) - 0.1 * f.poverty, _OLD)))
    return Profile(
        period=period, collective=collective,
        owner=np.clip(0.22 + 0.55 * (1 - collective) - 0.3 * f.poverty + 0.1 * f.rich, 0.05, 0.92),
        single=np.clip(0.22 + 0.28 * collective - 0.05 * f.poverty, 0.1, 0.7),
        large=np.clip(0.03 + 0.05 * (1 - collective) + 0.07 * f.poverty, 0.01, 0.3),
        lone_parent=np.clip(0.05 + 0.14 * f.poverty, 0.02, 0.35),
        poor=poor, social=np.clip(0.05 + 0.12 * collective + 0.6 * f.estate + 0.15 * f.poverty * collective, 0, 0.9),
        size=1.72 + 0.75 * (1 - collective) + 0.45 * f.poverty,
        surface=(48 + 55 * (1 - collective) + 22 * f.rich - 6 * f.poverty) * noise(0.08),
        income=22_800 * (1 - 0.42 * f.poverty + 0.3 * f.rich) * noise(0.06),
        age=age,
    )


def build_cells(land: Landscape, targets: Targets, seed: int) -> Cells:
    """Draw the inhabited cells, their expected households and profiles.

    Parameters
    ----------
    land : Landscape
    targets : Targets
    seed : int

    Returns
    -------
    Cells
        Households sum to ``targets.households``; each cell has at least 0.1.
    """
    rng = stream(seed, "grid")
    e, n = _candidate_cells(land)
    x, y = to_working(e + CELL_M / 2.0, n + CELL_M / 2.0, land.profile)
    f = land.fields(x, y)
    inhabited = rng.random(len(e)) < np.clip(f.density / 0.12, 0.04, 1.0)
    households = np.where(inhabited, f.density * rng.lognormal(0, 0.55, len(e)), 0.0)
    households *= targets.households / households.sum()
    keep = households >= 0.1
    e, n, x, y, households = e[keep], n[keep], x[keep], y[keep], households[keep]
    f = Fields(**{k: v[keep] for k, v in vars(f).items()})
    households *= targets.households / households.sum()
    interior = land.inner.buffer(-CELL_M)
    shapely.prepare(interior)
    edge = ~shapely.contains_xy(interior, x, y)
    return Cells(e, n, np.asarray(x), np.asarray(y), edge, households, f, _profile(f, rng), land.profile)

