"""ADEME DPE of existing dwellings (2021 method), as the data-fair API exports them.

One row per diagnosed dwelling, placed in an inhabited cell with probability
proportional to its households. The period of construction follows the cell's
Filosofi profile (old in the centre), and consumption follows the period, so F/G
labels concentrate where housing is old, and a little more where households are poor
(less renovation).
"""

from __future__ import annotations

import numpy as np

from . import writers as w
from .context import Context
from .rand import categorical

DPE_FILE = "dpe_logements_existants.csv"
DPE_COLUMNS = (
    "numero_dpe", "date_etablissement_dpe", "etiquette_dpe", "etiquette_ges",
    "conso_5_usages_par_m2_ep", "conso_5_usages_par_m2_ef", "surface_habitable_logement",
    "annee_construction", "periode_construction", "type_batiment", "code_insee_ban",
    "code_postal_ban", "nom_commune_ban", "identifiant_ban",
    "coordonnee_cartographique_x_ban", "coordonnee_cartographique_y_ban",
)
PERIODS = ("avant 1948", "1948-1974", "1975-1977", "1978-1982", "1983-1988", "1989-2000",
           "2001-2005", "2006-2012", "2013-2021", "après 2021")
PERIOD_FIRST_YEAR = np.array([1948, 1975, 1978, 1983, 1989, 2001, 2006, 2013, 2022])  # upper bounds
LABELS = ("A", "B", "C", "D", "E", "F", "G")
EP_BOUNDS = np.array([70, 110, 180, 250, 330, 420])   # kWh of primary energy / m2 / year
GES_BOUNDS = np.array([6, 11, 30, 50, 70, 100])       # kg CO2e / m2 / year
# typical primary energy (kWh/m2/year) of each period before noise and renovation
BASE_EP = np.array([330, 305, 260, 235, 210, 180, 160, 130, 88, 62])
# heating energy: electricity, gas, fuel oil, wood, district heating (kg CO2e per kWh final)
_CO2 = np.array([0.079, 0.227, 0.324, 0.030, 0.100])
FIRST_DATE, LAST_DATE = np.datetime64("2021-07-01"), np.datetime64("2023-12-31")


def construction_year(band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A construction year drawn within a Filosofi band (index in PERIOD_COLUMNS)."""
    n = len(band)
    years = np.select(
        [band == 0, band == 1, band == 2, band == 3],
        [1944 - np.minimum(rng.exponential(45, n), 200).astype(int),
         rng.integers(1945, 1970, n), rng.integers(1970, 1990, n),
         1990 + (34 * rng.random(n) ** 1.3).astype(int)],
        default=rng.integers(1900, 2021, n),
    )
    return years.astype(np.int64)


def period_index(year: np.ndarray) -> np.ndarray:
    """Index in :data:`PERIODS` of each construction year (ADEME's bins)."""
    return np.searchsorted(PERIOD_FIRST_YEAR, year, side="right")


def label(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Label index (0 = A ... 6 = G) of values against the class bounds."""
    return np.searchsorted(bounds, values, side="right")


def _dwellings(ctx: Context, cell: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Type, surface and period of construction of dwellings in the given cells."""
    p = ctx.cells.profile
    n = len(cell)
    flat = rng.random(n) < p.collective[cell]
    kind = np.where(flat, np.where(rng.random(n) < 0.02, 2, 1), 0)  # maison, appartement, immeuble
    size = p.surface[cell] / 75.0
    surface = np.select([kind == 0, kind == 1], [
        np.clip(rng.lognormal(np.log(98 * size), 0.3), 30, 400),
        np.clip(rng.lognormal(np.log(58 * size), 0.35), 12, 250)], rng.uniform(400, 3_000, n))
    year = construction_year(categorical(p.period[cell], rng), rng)
    return {"kind": kind, "surface": np.round(surface, 1), "year": year, "period": period_index(year)}


def _performance(ctx: Context, cell, d: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Primary and final energy per m2, greenhouse gases, and both labels."""
    n = len(cell)
    old = d["year"] < 1975
    renovated = old & (rng.random(n) < 0.18)
    ep = (BASE_EP[d["period"]] * rng.lognormal(0, 0.32, n)
          * (1 + 0.18 * ctx.cells.fields.poverty[cell]) * np.where(d["kind"] == 0, 1.08, 0.95)
          * (60 / np.clip(d["surface"], 20, 200)) ** 0.12 * np.where(renovated, 0.6, 1.0))
    ep = np.round(np.clip(ep, 25, 900), 1)
    electric_share = np.select([d["year"] < 1975, d["year"] < 2001], [0.25, 0.55], 0.45)
    energy = categorical(np.column_stack([
        electric_share, (1 - electric_share) * 0.72, (1 - electric_share) * np.where(old, 0.16, 0.04),
        (1 - electric_share) * 0.05, (1 - electric_share) * 0.07]), rng)
    ef = np.round(ep / np.where(energy == 0, 2.3, 1.15), 1)
    ges = ef * _CO2[energy] * rng.lognormal(0, 0.1, n)
    return {"ep": ep, "ef": ef, "label_ep": label(ep, EP_BOUNDS), "label_ges": label(ges, GES_BOUNDS)}


def _numero(first_row: int, dates: np.ndarray, departement) -> "w.Column":
    """ADEME-like DPE numbers: year, département, 'E', 7 digits, a letter (unique)."""
    row = first_row + np.arange(len(dates), dtype=np.int64)
    yy = (dates.astype("datetime64[Y]").astype(np.int64) + 1970) % 100
    letters = [chr(65 + i) for i in range(26)]
    return w.concat(w.zero_pad(yy, 2), departement, "E", w.zero_pad(row % 10_000_000, 7),
                    w.take(letters, (row // 10_000_000) % 26))


def dpe_chunk(ctx: Context, chunk: int, first_row: int, count: int) -> dict:
    """Generate ``count`` DPE rows as CSV columns."""
    rng = ctx.rng("dpe", chunk)
    cell = ctx.draw_cells(count, rng)
    pts = ctx.points(cell, rng)
    d = _dwellings(ctx, cell, rng)
    perf = _performance(ctx, cell, d, rng)
    days = rng.integers(0, int((LAST_DATE - FIRST_DATE).astype(int)) + 1, count)
    dates = FIRST_DATE + days.astype("timedelta64[D]")
    year_known = rng.random(count) < 0.55
    return {
        "numero_dpe": _numero(first_row, dates, ctx.commune_text("departement", pts.commune)),
        "date_etablissement_dpe": np.datetime_as_string(dates, unit="D"),
        "etiquette_dpe": w.take(LABELS, perf["label_ep"]),
        "etiquette_ges": w.take(LABELS, perf["label_ges"]),
        "conso_5_usages_par_m2_ep": w.rounded(perf["ep"], 1),
        "conso_5_usages_par_m2_ef": w.rounded(perf["ef"], 1),
        "surface_habitable_logement": w.rounded(d["surface"], 1),
        "annee_construction": w.fixed(np.where(year_known, d["year"], np.nan), 0),
        "periode_construction": w.take(PERIODS, d["period"]),
        "type_batiment": w.take(("maison", "appartement", "immeuble"), d["kind"]),
        "code_insee_ban": ctx.commune_text("code", pts.commune),
        "code_postal_ban": ctx.commune_text("postal", pts.commune),
        "nom_commune_ban": ctx.commune_text("name", pts.commune),
        "identifiant_ban": w.concat(ctx.commune_text("code", pts.commune), w.zero_pad(pts.street + 1, 4),
                                    w.zero_pad(pts.number, 5), sep="_"),
        "coordonnee_cartographique_x_ban": w.fixed(pts.x, 2),
        "coordonnee_cartographique_y_ban": w.fixed(pts.y, 2),
    }


def write_dpe(ctx: Context) -> int:
    """Write ``dpe_logements_existants.csv`` in chunks; return the number of rows."""
    with w.CsvSink(ctx.out_dir / DPE_FILE, DPE_COLUMNS) as sink:
        for chunk, first, count in ctx.chunks(ctx.targets.dpe_rows):
            sink.write(dpe_chunk(ctx, chunk, first, count))
    return sink.rows

