"""Private data of two operators: yearly gas use per building, car-sharing trips.

Real consumption departs from what the buildings' energy performance predicts in a
spatially coherent way: households in poor districts under-heat (real < predicted),
well-off ones over-consume a little. Two IRIS are built to exercise the business-data
rules: in each business-park IRIS (type A) one professional site holds 90 % of the
total, and each wood IRIS (type D) has only 5 delivery points.
"""

from __future__ import annotations

import numpy as np

from . import writers as w
from .context import Context
from .dpe import BASE_EP, construction_year, period_index
from .names import street_labels
from .rand import categorical, gumbel_top_k

OPERATOR_FILE, CARSHARING_FILE = "operator_consumption.csv", "carsharing_trips.csv"
# Mainland names; coordinate columns are named after the profile's CRS (x_utm20n overseas).
OPERATOR_COLUMNS = ("id_batiment", "annee", "code_commune", "x_l93", "y_l93",
                    "nb_points_livraison", "nb_logements", "conso_totale_mwh", "segment")
CARSHARING_COLUMNS = ("station_id", "station_name", "x_l93", "y_l93", "mois", "nb_trajets")


def with_xy(columns: tuple[str, ...], x: str, y: str) -> tuple[str, ...]:
    """``columns`` with the mainland coordinate names ``x_l93``/``y_l93`` replaced."""
    return tuple({"x_l93": x, "y_l93": y}.get(c, c) for c in columns)
YEAR_FACTOR = {2022: 1.0, 2023: 0.94}  # 2023: mild winter and energy savings
DOMINANT_SHARE = 0.90
_CHUNK_BUILDINGS = 400_000


def building_counts(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buildings served per cell: houses, blocks of flats, professional sites."""
    rng, c, f = ctx.rng("operator-counts"), ctx.counts, ctx.cells.fields
    per_block = 10 + 25 * ctx.cells.profile.collective + 40 * f.estate
    houses = rng.binomial(np.rint(c["men_mais"]).astype(np.int64), np.clip(0.5 - 0.25 * f.distance / 6_000, 0.2, 0.5))
    blocks = rng.binomial(np.ceil(c["men_coll"] / per_block).astype(np.int64), 0.6)
    pro = rng.poisson(0.03 * c["men"] * np.exp(-f.distance / 2_000) + 0.05 + 3 * f.activity)
    return houses, blocks, pro


def _buildings(ctx: Context, cells: np.ndarray, kinds: np.ndarray, rng: np.random.Generator) -> dict:
    """Attributes of buildings (kind 0 house, 1 block of flats, 2 professional)."""
    n, p, f = len(cells), ctx.cells.profile, ctx.cells.fields
    dwellings = np.where(kinds == 1, rng.poisson(10 + 25 * p.collective[cells] + 40 * f.estate[cells]) + 2, 1)
    year = construction_year(categorical(p.period[cells], rng), rng)
    ep = BASE_EP[period_index(year)] * rng.lognormal(0, 0.25, n) * (1 + 0.18 * f.poverty[cells])
    predicted = ep / 1.15 * 0.85 * p.surface[cells] * dwellings / 1_000  # MWh, heating and hot water
    behaviour = (1 - 0.4 * f.poverty[cells]) * (1 + 0.1 * f.rich[cells]) * rng.lognormal(0, 0.2, n)
    pro_use = rng.lognormal(np.log(80), 1.0, n)
    points = np.select([kinds == 0, kinds == 2], [1, rng.integers(1, 4, n)],
                       np.where(rng.random(n) < 0.45, 1, np.maximum(1, np.rint(dwellings * 0.8))))
    return {"conso": np.where(kinds == 2, pro_use, predicted * behaviour), "points": points.astype(np.int64),
            "dwellings": np.where(kinds == 2, 0, dwellings).astype(np.int64)}


def _operator_rows(ctx: Context, ids: np.ndarray, commune: np.ndarray, x, y, points, dwellings, conso, kinds, rng):
    """CSV columns for buildings repeated over the years of the file, and the yearly values."""
    years = np.array(sorted(YEAR_FACTOR))
    k = len(years)
    yearly = np.repeat(conso, k) * np.tile([YEAR_FACTOR[y] for y in years], len(ids)) * rng.lognormal(0, 0.05, len(ids) * k)
    return {
        "id_batiment": w.concat("BAT", w.zero_pad(np.repeat(ids, k), 10)), "annee": np.tile(years, len(ids)),
        "code_commune": ctx.commune_text("code", np.repeat(commune, k)),
        ctx.profile.x_column: w.fixed(np.repeat(x, k), 1), ctx.profile.y_column: w.fixed(np.repeat(y, k), 1),
        "nb_points_livraison": np.repeat(points, k), "nb_logements": np.repeat(dwellings, k),
        "conso_totale_mwh": w.fixed(yearly, 1),
        "segment": w.take(("residentiel", "residentiel", "professionnel"), np.repeat(kinds, k)),
    }, yearly


def _cell_chunks(per_cell: np.ndarray) -> list[tuple[int, int]]:
    """Ranges of cells holding at most about _CHUNK_BUILDINGS buildings each."""
    edges = np.searchsorted(np.cumsum(per_cell), np.arange(_CHUNK_BUILDINGS, per_cell.sum(), _CHUNK_BUILDINGS))
    bounds = np.unique(np.concatenate([[0], edges + 1, [len(per_cell)]]).clip(0, len(per_cell)))
    return list(zip(bounds[:-1], bounds[1:], strict=False))


def _special_sites(ctx: Context, totals: np.ndarray, first_id: int, rng) -> dict:
    """The dominant site of each business-park IRIS and the 2 buildings of each wood IRIS."""
    z = ctx.zoning
    dominant, wood = z.of_type("A"), np.repeat(z.of_type("D"), 2)
    iris = np.concatenate([dominant, wood])
    kinds = np.concatenate([np.full(len(dominant), 2), np.zeros(len(wood), np.int64)])
    year_one = totals[dominant] / YEAR_FACTOR[min(YEAR_FACTOR)]
    conso = np.concatenate([np.maximum(year_one * DOMINANT_SHARE / (1 - DOMINANT_SHARE), 500.0), rng.uniform(10, 30, len(wood))])
    points = np.concatenate([np.ones(len(dominant), np.int64), np.tile([2, 3], len(wood) // 2)])
    x, y = np.round(z.seeds[iris, 0], 1), np.round(z.seeds[iris, 1], 1)
    ids = first_id + np.arange(len(iris))
    dwellings = np.where(kinds == 2, 0, points)  # a wood house per delivery point
    columns, _ = _operator_rows(ctx, ids, z.iris_commune[iris], x, y, points, dwellings, conso, kinds, rng)
    columns["conso_totale_mwh"] = w.fixed(np.repeat(conso, len(YEAR_FACTOR)) * np.tile(list(YEAR_FACTOR.values()), len(iris)), 1)
    return columns


def write_operator_consumption(ctx: Context) -> int:
    """Write ``operator_consumption.csv`` (one row per building and year); return its rows."""
    houses, blocks, pro = building_counts(ctx)
    per_cell = houses + blocks + pro
    totals = np.zeros(len(ctx.zoning.iris_code))  # first year's total per IRIS, for the dominant site
    wood = np.isin(np.arange(len(totals)), ctx.zoning.of_type("D"))
    first_id = 0
    names = with_xy(OPERATOR_COLUMNS, ctx.profile.x_column, ctx.profile.y_column)
    with w.CsvSink(ctx.out_dir / OPERATOR_FILE, names) as sink:
        for chunk, (a, b) in enumerate(_cell_chunks(per_cell)):
            rng = ctx.rng("operator", chunk)
            span = np.arange(a, b)
            cells = np.concatenate([np.repeat(span, houses[a:b]), np.repeat(span, blocks[a:b]), np.repeat(span, pro[a:b])])
            kinds = np.repeat([0, 1, 2], [houses[a:b].sum(), blocks[a:b].sum(), pro[a:b].sum()])
            pts = ctx.points(cells, rng, decimals=1)
            keep = ~wood[pts.iris]
            b_ = _buildings(ctx, cells[keep], kinds[keep], rng)
            ids = first_id + np.arange(keep.sum())
            columns, yearly = _operator_rows(ctx, ids, pts.commune[keep], pts.x[keep], pts.y[keep],
                                             b_["points"], b_["dwellings"], b_["conso"], kinds[keep], rng)
            totals += np.bincount(pts.iris[keep], yearly[:: len(YEAR_FACTOR)], minlength=len(totals))
            sink.write(columns)
            first_id += int(keep.sum())
        sink.write(_special_sites(ctx, totals, first_id, ctx.rng("operator-special")))
    return sink.rows


def write_carsharing(ctx: Context) -> tuple[int, int]:
    """Write ``carsharing_trips.csv`` (trips per station and month); return (stations, rows)."""
    rng = ctx.rng("carsharing")
    men = ctx.counts["men"]
    n = min(ctx.targets.carsharing_stations, int((men > 0).sum()))
    cell = gumbel_top_k(men**2, n, rng)
    pts = ctx.points(cell, rng, decimals=1)
    months = np.arange(1, 13)
    opened = np.where(np.arange(n) == min(3, n - 1), 4, 1)  # one station opens in April
    station, month = np.repeat(np.arange(n), 12), np.tile(months, n)
    keep = month >= opened[station]
    station, month = station[keep], month[keep]
    season = 1 + 0.15 * np.cos(2 * np.pi * (month - 7) / 12) - 0.25 * (month == 8)  # dip in August
    level = 25 * (men[cell] / 100) ** 0.6 * (1 - 0.4 * ctx.cells.fields.poverty[cell]) * rng.lognormal(0, 0.3, n)
    trips = rng.poisson(level[station] * season)
    names = np.char.add(street_labels()[pts.street].astype(str), " (station fictive)")
    rows = w.write_csv(ctx.out_dir / CARSHARING_FILE, {
        "station_id": w.concat("AP", w.zero_pad(station + 1, 4)), "station_name": names[station].astype(str),
        ctx.profile.x_column: w.fixed(pts.x[station], 1), ctx.profile.y_column: w.fixed(pts.y[station], 1),
        "mois": w.concat(str(ctx.year), "-", w.zero_pad(month, 2)), "nb_trajets": trips,
    })
    return n, rows
