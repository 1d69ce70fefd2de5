"""IRIS and communes of the fictional territory.

IRIS are the Voronoi cells of seeds placed by a weighted k-means over households (so
they hold comparable populations, small in the centre and large in the countryside),
clipped to the territory. A commune is the union of the IRIS nearest to its own seed,
so IRIS tile their commune exactly and communes tile the territory. One commune in four
is a small rural commune that is not split (one IRIS, type ``Z``, code ``...0000``),
as INSEE does for communes under 5,000 inhabitants.

Because IRIS are Voronoi cells, the IRIS of any point inside the territory is simply
its nearest seed: :meth:`Zoning.locate` is exact and needs no polygon test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.spatial import cKDTree

from .grid import Cells
from .names import commune_codes, commune_names, iris_names
from .rand import gumbel_top_k, stream
from .territory import Landscape, Targets


@dataclass
class Zoning:
    """IRIS (index ``i``) and communes (index ``c``) with their codes and names."""

    seeds: np.ndarray            # (n_iris, 2) in the working CRS
    iris_commune: np.ndarray     # commune index of each IRIS
    iris_id: np.ndarray          # 4-digit IRIS number, text
    iris_code: np.ndarray        # 9-character CODE_IRIS
    iris_name: np.ndarray
    iris_type: np.ndarray        # H, A, D or Z
    commune_code: np.ndarray
    commune_name: np.ndarray
    commune_seed: np.ndarray     # IRIS index at the heart of each commune
    _tree: cKDTree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tree = cKDTree(self.seeds)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """IRIS index of points inside the territory (nearest seed = Voronoi cell)."""
        return self._tree.query(np.column_stack([x, y]))[1].astype(np.int64)

    def of_type(self, kind: str) -> np.ndarray:
        """Indices of the IRIS of one type (``"A"``, ``"D"``, ``"Z"`` or ``"H"``)."""
        return np.flatnonzero(self.iris_type == kind)

    def polygons(self, land: Landscape) -> np.ndarray:
        """IRIS polygons: Voronoi cells of the seeds clipped to the territory."""
        hull = shapely.box(*land.outline.buffer(1_000).bounds)
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(self.seeds), extend_to=hull, ordered=True)
        )
        if len(cells) != len(self.seeds):
            raise RuntimeError("Voronoi diagram lost seeds (duplicate seed positions)")
        return _polygonal(shapely.intersection(cells, land.outline))

    def commune_polygons(self, iris_polygons: np.ndarray) -> np.ndarray:
        """Communes as the exact union of their IRIS (coverage union)."""
        order = np.argsort(self.iris_commune, kind="stable")
        bounds = np.searchsorted(self.iris_commune[order], np.arange(len(self.commune_code) + 1))
        return np.array([
            shapely.coverage_union_all(iris_polygons[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:], strict=False)
        ], dtype=object)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop lines or points an intersection may leave beside the polygons."""
    out = geoms.copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)  # GeometryCollection
    for i in mixed:
        parts = shapely.get_parts(geoms[i])
        out[i] = shapely.union_all(parts[shapely.get_type_id(parts) == 3])
    return out


def _kmeans_seeds(land: Landscape, cells: Cells, fixed: np.ndarray, n_free: int, rng) -> np.ndarray:
    """Weighted k-means (Lloyd) of cell centres; ``fixed`` seeds attract but never move."""
    xy = np.column_stack([cells.x, cells.y])
    weight = cells.households**1.5
    start = gumbel_top_k(weight, n_free, rng)
    free = xy[start] + rng.uniform(-40, 40, size=(n_free, 2))
    for _ in range(10):
        owner = cKDTree(np.vstack([fixed, free])).query(xy)[1] - len(fixed)
        mine = owner >= 0
        total = np.bincount(owner[mine], weight[mine], minlength=n_free)
        sx = np.bincount(owner[mine], weight[mine] * xy[mine, 0], minlength=n_free)
        sy = np.bincount(owner[mine], weight[mine] * xy[mine, 1], minlength=n_free)
        moved = total > 0
        free[moved] = np.column_stack([sx[moved], sy[moved]]) / total[moved, None]
    outside = ~land.contains(free[:, 0], free[:, 1])
    free[outside] = xy[start[outside]]
    return free


def _farthest_points(xy: np.ndarray, start: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """Greedy farthest-point sampling of ``count`` candidates away from ``start``."""
    distance = cKDTree(xy[start]).query(xy[candidates])[0]
    chosen = []
    for _ in range(count):
        best = int(np.argmax(distance))
        chosen.append(candidates[best])
        distance = np.minimum(distance, np.hypot(*(xy[candidates] - xy[candidates[best]]).T))
    return np.asarray(chosen, dtype=np.int64)


def _rural_seeds(land: Landscape, cells: Cells, count: int, rng) -> np.ndarray:
    """Seeds of the single-IRIS rural communes: sparse cells far from any centre."""
    if count == 0:
        return np.empty((0, 2))
    remote = cells.fields.distance
    candidates = np.flatnonzero((remote > np.quantile(remote, 0.7)) & (cells.households < np.median(cells.households)))
    if len(candidates) > 50_000:
        candidates = candidates[gumbel_top_k(np.ones(len(candidates)), 50_000, rng)]
    xy = np.column_stack([cells.x, cells.y])
    chosen = _farthest_points(np.vstack([land.centres, xy]), np.arange(len(land.centres)),
                              candidates + len(land.centres), min(count, len(candidates)))
    return xy[chosen - len(land.centres)]


def _commune_seeds(land: Landscape, seeds: np.ndarray, free: np.ndarray, n_single: int, targets: Targets):
    """Choose the seed IRIS of the urban centres' communes and of the other split communes."""
    centre = np.unique(free[cKDTree(seeds[free]).query(land.centres)[1]])
    pool = np.setdiff1d(free, centre)
    n_other = max(0, targets.n_communes - len(centre) - n_single)
    other = _farthest_points(seeds, centre, pool, min(n_other, len(pool)))
    return centre, other


def _iris_labels(seeds, iris_commune, commune_seed, iris_type, names, profile):
    """IRIS numbers (``0101``..., ``0000`` for type Z), codes and names."""
    distance = np.hypot(*(seeds - seeds[commune_seed[iris_commune]]).T)
    order = np.lexsort((distance, iris_commune))
    start = np.searchsorted(iris_commune[order], iris_commune[order])
    rank = np.empty(len(seeds), dtype=np.int64)
    rank[order] = np.arange(len(seeds)) - start
    number = np.char.add(np.char.zfill((rank // 10 + 1).astype(str), 2), np.char.zfill((rank % 10 + 1).astype(str), 2))
    number = np.where(iris_type == "Z", "0000", number)
    label = np.array(iris_names(rank, profile.quartiers), dtype=object)
    label[iris_type == "A"] = profile.activity_name
    label[iris_type == "D"] = profile.wood_name
    label[iris_type == "Z"] = names[iris_commune[iris_type == "Z"]]
    return number.astype(object), label


def build_zoning(land: Landscape, cells: Cells, targets: Targets, seed: int) -> Zoning:
    """Place IRIS seeds, group them into communes, and name and code everything.

    Parameters
    ----------
    land : Landscape
    cells : Cells
    targets : Targets
    seed : int

    Returns
    -------
    Zoning
    """
    rng = stream(seed, "zoning")
    n_centres = len(land.centres)
    rural = _rural_seeds(land, cells, targets.n_single_iris_communes, rng)
    fixed = np.vstack([land.features["activity"][0], land.features["park"][0], rural])
    seeds = np.vstack([fixed, _kmeans_seeds(land, cells, fixed, targets.n_iris - len(fixed), rng)])
    iris_type = np.array(["A"] * n_centres + ["D"] * n_centres + ["Z"] * len(rural)
                         + ["H"] * (len(seeds) - len(fixed)), dtype=object)
    single = np.arange(2 * n_centres, len(fixed))
    centre, other = _commune_seeds(land, seeds, np.arange(len(fixed), len(seeds)), len(single), targets)
    multi = np.concatenate([centre, other])
    commune_seed = np.concatenate([multi, single])
    iris_commune = cKDTree(seeds[multi]).query(seeds)[1].astype(np.int64)
    iris_commune[single] = len(multi) + np.arange(len(single))
    profile = land.profile
    codes = np.array(commune_codes(len(commune_seed), profile.first_commune), dtype=object)
    names = np.array(commune_names(len(commune_seed), rng, profile.roots, profile.suffixes), dtype=object)
    number, label = _iris_labels(seeds, iris_commune, commune_seed, iris_type, names, profile)
    iris_code = codes[iris_commune] + number
    order = np.argsort(iris_code.astype(str), kind="stable")  # IRIS indices follow code order
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return Zoning(
        seeds=seeds[order], iris_commune=iris_commune[order], iris_id=number[order], iris_code=iris_code[order],
        iris_name=label[order], iris_type=iris_type[order], commune_code=codes, commune_name=names,
        commune_seed=position[commune_seed],
    )
