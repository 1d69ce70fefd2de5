"""INSEE Filosofi 2019: the 200 m grid GeoPackage and the IRIS and commune CSVs.

Counts are published as INSEE does: integers in cells of 11 households or more, and
fractional, imputed values (``i_est_200 = 1``) in smaller cells. The IRIS and commune
tables are aggregated from the same cells, so they are coherent with the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from . import writers as w
from .grid import AGE_COLUMNS, CELL_M, PERIOD_COLUMNS, Cells, to_working
from .rand import stream
from .territory import Landscape, Targets
from .zoning import Zoning

SECRET_HOUSEHOLDS = 11
GRID_LAYER = "carreaux_200m_met"  # the mainland's; each profile names its own (carreaux_200m_mart ...)
GRID_COLUMNS = (
    "idcar_200m", "idcar_1km", "idcar_nat", "i_est_200", "i_est_1km", "lcog_geo",
    "ind", "men", "men_pauv", "men_1ind", "men_5ind", "men_prop", "men_fmp", "ind_snv",
    "men_surf", "men_coll", "men_mais", *PERIOD_COLUMNS, "log_soc", *AGE_COLUMNS, "ind_inc",
)
INCOME_COLUMNS = ("DISP_TP6019", "DISP_Q119", "DISP_MED19", "DISP_Q319", "DISP_D119", "DISP_D919", "DISP_RD19", "DISP_GI19")


@dataclass
class GridCounts:
    """Published Filosofi counts per cell (float64 arrays) and the imputation flag."""

    imputed: np.ndarray
    values: dict[str, np.ndarray]

    def __getitem__(self, column: str) -> np.ndarray:
        return self.values[column]


class _Splitter:
    """Split household counts into categories: integer draws, or shares when imputed."""

    def __init__(self, total: np.ndarray, imputed: np.ndarray, rng: np.random.Generator):
        self.total, self.imputed, self.rng = total, imputed, rng

    def binomial(self, p: np.ndarray, total: np.ndarray | None = None) -> np.ndarray:
        total = self.total if total is None else total
        p = np.clip(p, 0.0, 1.0)
        drawn = self.rng.binomial(np.where(self.imputed, 0, total).astype(np.int64), p)
        return np.where(self.imputed, np.round(total * p, 1), drawn).astype(np.float64)

    def multinomial(self, p: np.ndarray, total: np.ndarray | None = None) -> np.ndarray:
        total = self.total if total is None else total
        drawn = self.rng.multinomial(np.where(self.imputed, 0, total).astype(np.int64), p)
        return np.where(self.imputed[:, None], np.round(total[:, None] * p, 1), drawn).astype(np.float64)


def publish_counts(cells: Cells, targets: Targets, seed: int) -> GridCounts:
    """Draw the published counts of every cell from its expected profile.

    Parameters
    ----------
    cells : Cells
    targets : Targets
        Inhabitants are scaled to ``targets.inhabitants``.
    seed : int

    Returns
    -------
    GridCounts
    """
    rng, p = stream(seed, "filosofi"), cells.profile
    imputed = cells.households < SECRET_HOUSEHOLDS
    men = np.where(imputed, np.maximum(np.round(cells.households, 1), 0.1), np.rint(cells.households))
    persons = men * p.size * targets.inhabitants / float((men * p.size).sum())
    ind = np.maximum(1.0, np.rint(persons))
    split = _Splitter(men, imputed, rng)
    v = {"ind": ind, "men": men, "men_pauv": split.binomial(p.poor), "men_1ind": split.binomial(p.single)}
    rest = np.maximum(men - v["men_1ind"], 0)
    v["men_5ind"] = split.binomial(p.large / (1 - p.single), rest)
    v["men_prop"] = split.binomial(p.owner)
    v["men_fmp"] = split.binomial(p.lone_parent / (1 - p.single), rest)
    v["ind_snv"] = np.round(ind * p.income * rng.lognormal(0, 0.03, len(men)), 1)
    v["men_surf"] = np.round(men * p.surface * rng.lognormal(0, 0.05, len(men)), 1)
    v["men_coll"] = split.binomial(p.collective)
    v["men_mais"] = np.round(men - v["men_coll"], 1)
    v.update(zip(PERIOD_COLUMNS, split.multinomial(p.period).T, strict=False))
    v["log_soc"] = split.binomial(p.social / (1 - p.owner), np.maximum(men - v["men_prop"], 0))
    ages = _Splitter(ind, imputed, rng).multinomial(p.age)
    v.update(zip(AGE_COLUMNS, ages.T, strict=False))
    v["ind_inc"] = np.zeros(len(men))
    return GridCounts(imputed, v)


def _cell_id(size: int, e: np.ndarray, n: np.ndarray, epsg: int) -> pa.Array:
    """INSEE cell ids ``CRS{epsg}RES{size}mN{north}E{east}`` of the lower-left corner
    (``CRS3035RES200m...`` in mainland France, ``CRS5490RES200m...`` in Martinique)."""
    return w.concat(f"CRS{epsg}RES{size}mN", (n // size) * size, "E", (e // size) * size)


def _square_totals(cells: Cells, size: int) -> np.ndarray:
    """Expected households of the ``size`` m square holding each cell."""
    key = (cells.e // size) * 10_000_000 + cells.n // size
    group = np.unique(key, return_inverse=True)[1]
    return np.bincount(group, cells.households)[group]


def _natural_square(cells: Cells) -> tuple[pa.Array, np.ndarray]:
    """Id of the smallest nested square (1, 2, 4... km) with 11 households, and i_est_1km."""
    sizes = (1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000)
    size = np.full(len(cells), sizes[-1], dtype=np.int64)
    for s in sizes[-2::-1]:
        size = np.where(_square_totals(cells, s) >= SECRET_HOUSEHOLDS, s, size)
    epsg = cells.territory.grid_epsg
    ids = _cell_id(sizes[0], cells.e, cells.n, epsg)
    for s in sizes[1:]:
        ids = pc.if_else(pa.array(size == s), _cell_id(s, cells.e, cells.n, epsg), ids)
    i_est_1km = _square_totals(cells, 1_000) < SECRET_HOUSEHOLDS
    return ids, i_est_1km.astype(np.int32)


def lcog_geo(cells: Cells, land: Landscape, zoning: Zoning) -> pa.Array:
    """Codes of the communes each cell touches, concatenated in code order (INSEE style).

    The cell is probed at 3 x 3 points; a straddling cell gets e.g. ``0000100002``.
    """
    offsets = np.array([CELL_M / 6, CELL_M / 2, 5 * CELL_M / 6])
    oe, on = (a.ravel() for a in np.meshgrid(offsets, offsets))
    x, y = to_working((cells.e[:, None] + oe).ravel(), (cells.n[:, None] + on).ravel(), land.profile)
    commune = zoning.iris_commune[zoning.locate(x, y)]
    rank_of = np.argsort(np.argsort(zoning.commune_code.astype(str), kind="stable"), kind="stable")
    missing = len(zoning.commune_code)
    rank = np.where(land.contains(x, y), rank_of[commune], missing).reshape(len(cells), -1)
    rank = np.sort(rank, axis=1)
    repeated = np.zeros_like(rank, dtype=bool)
    repeated[:, 1:] = rank[:, 1:] == rank[:, :-1]
    codes_sorted = np.append(np.sort(zoning.commune_code.astype(str)), "").astype(object)
    columns = [
        pc.if_else(pa.array(repeated[:, j] | (rank[:, j] == missing)), pa.scalar(None, pa.string()),
                   w.take(codes_sorted, rank[:, j]))
        for j in range(rank.shape[1])
    ]
    return pc.binary_join_element_wise(*columns, "", null_handling="skip")


def grid_frame(cells: Cells, counts: GridCounts, land: Landscape, zoning: Zoning) -> gpd.GeoDataFrame:
    """The Filosofi 200 m layer as a GeoDataFrame (grid CRS, only inhabited cells)."""
    nat, i_est_1km = _natural_square(cells)
    epsg = land.profile.grid_epsg
    data = {
        "idcar_200m": _cell_id(200, cells.e, cells.n, epsg).to_numpy(zero_copy_only=False),
        "idcar_1km": _cell_id(1_000, cells.e, cells.n, epsg).to_numpy(zero_copy_only=False),
        "idcar_nat": nat.to_numpy(zero_copy_only=False),
        "i_est_200": counts.imputed.astype(np.int32),
        "i_est_1km": i_est_1km,
        "lcog_geo": lcog_geo(cells, land, zoning).to_numpy(zero_copy_only=False),
        **{k: counts[k] for k in GRID_COLUMNS[6:]},
    }
    geometry = shapely.box(cells.e, cells.n, cells.e + CELL_M, cells.n + CELL_M)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=land.profile.grid_crs)


def write_grid(out_dir: Path, cells: Cells, counts: GridCounts, land: Landscape, zoning: Zoning) -> int:
    """Write ``filosofi_200m.gpkg`` (layer named by the profile); return the number of cells."""
    frame = grid_frame(cells, counts, land, zoning)
    w.write_gpkg(frame, out_dir / "filosofi_200m.gpkg", layer=land.profile.grid_layer,
                 description="Filosofi 2019, carreaux de 200 m : données FICTIVES (territoire fictif, datacites)")
    return len(frame)


def _income_columns(men, ind, snv, poor) -> dict[str, np.ndarray]:
    """Median, quartiles, deciles, ratio, Gini and poverty rate from zone totals."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = 100 * poor / men
        median = 0.91 * snv / ind
    spread = 1 + rate / 100
    to10 = lambda v: np.round(v / 10) * 10  # noqa: E731 - INSEE rounds incomes to 10 EUR
    d1, d9 = to10(median * 0.56 / spread), to10(median * (1.78 + 0.4 * (rate < 10)))
    columns = {
        "DISP_TP6019": np.round(rate, 1), "DISP_Q119": to10(median * 0.74 / spread**0.5),
        "DISP_MED19": to10(median), "DISP_Q319": to10(median * 1.33), "DISP_D119": d1, "DISP_D919": d9,
        "DISP_RD19": np.round(d9 / d1, 1), "DISP_GI19": np.round(0.24 + 0.25 * rate / 100, 3),
    }
    hidden = ~(men >= 200)  # too few households: INSEE publishes nothing
    return {k: np.where(hidden, np.nan, v) for k, v in columns.items()}


def _format_income(columns: dict[str, np.ndarray]) -> dict[str, pa.Array]:
    """Rates and ratios with decimals, incomes as whole euros; hidden values empty."""
    decimals = {"DISP_TP6019": 1, "DISP_RD19": 1, "DISP_GI19": 3}
    return {k: w.fixed(v, decimals.get(k, 0)) for k, v in columns.items()}


def _zone_totals(group: np.ndarray, size: int, counts: GridCounts) -> tuple[np.ndarray, ...]:
    return tuple(np.bincount(group, counts[c], minlength=size) for c in ("men", "ind", "ind_snv", "men_pauv"))


def write_income_tables(out_dir: Path, cells: Cells, counts: GridCounts, zoning: Zoning) -> None:
    """Write ``filosofi_iris.csv`` and ``filosofi_commune.csv`` (``;``-separated)."""
    men, ind, snv, poor = _zone_totals(cells.iris, len(zoning.iris_code), counts)
    w.write_csv(out_dir / "filosofi_iris.csv", {
        "IRIS": zoning.iris_code.astype(str), **_format_income(_income_columns(men, ind, snv, poor)),
    }, sep=";")
    men, ind, snv, poor = _zone_totals(cells.commune, len(zoning.commune_code), counts)
    w.write_csv(out_dir / "filosofi_commune.csv", {
        "CODGEO": zoning.commune_code.astype(str), "NBMENFISC19": w.fixed(men, 0), "NBPERSMENFISC19": w.fixed(ind, 0),
        **_format_income(_income_columns(men, ind, snv, poor)),
    }, sep=";")
