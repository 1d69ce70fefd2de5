"""Housing stock files: RPLS social housing per building and LOVAC vacancy per commune.

Both are drawn from the Filosofi grid counts, so they agree with it: RPLS dwellings
add up to the grid's ``log_soc`` and LOVAC's private stock to its households outside
social housing.
"""

from __future__ import annotations

import numpy as np

from . import writers as w
from .context import Context

RPLS_FILE, LOVAC_FILE = "rpls.csv", "lovac.csv"
RPLS_COLUMNS = ("DEPCOM", "LIBCOM", "CODEPOSTAL", "NUMVOIE", "LIBVOIE", "NBLOG", "CONSTRUCT", "X", "Y")
LOVAC_COLUMNS = ("CODGEO_25", "LIBGEO_25", "pp_vacant_25", "pp_vacant_plus_2ans_25", "pp_total_24")
LOVAC_SECRET = 11
DWELLINGS_PER_SOCIAL_BUILDING = 45


def social_buildings(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(cell, dwellings) of every social-housing building, splitting each cell's stock."""
    total = np.rint(ctx.counts["log_soc"]).astype(np.int64)
    buildings = -(-total // DWELLINGS_PER_SOCIAL_BUILDING)  # ceiling division
    cell = np.repeat(np.arange(len(total)), buildings)
    rank = np.arange(len(cell)) - np.repeat(np.cumsum(buildings) - buildings, buildings)
    per, extra = total[cell] // buildings[cell], total[cell] % buildings[cell]
    return cell, per + (rank < extra)


def _social_year(ctx: Context, cell: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Year of construction: 1958-1975 on estates, otherwise spread over 1950-2022."""
    n = len(cell)
    estate = rng.random(n) < ctx.cells.fields.estate[cell]
    era = np.searchsorted(np.cumsum([0.45, 0.25, 0.30]), rng.random(n), side="right").clip(0, 2)
    spread = np.choose(era, [rng.integers(1950, 1980, n), rng.integers(1980, 2000, n), rng.integers(2000, 2023, n)])
    return np.where(estate, rng.integers(1958, 1976, n), spread)


def write_rpls(ctx: Context) -> tuple[int, int]:
    """Write ``rpls.csv`` (``;``-separated); return (buildings, dwellings)."""
    rng = ctx.rng("rpls")
    cell, dwellings = social_buildings(ctx)
    pts = ctx.points(cell, rng)
    w.write_csv(ctx.out_dir / RPLS_FILE, {
        "DEPCOM": ctx.commune_text("code", pts.commune), "LIBCOM": ctx.commune_text("name", pts.commune),
        "CODEPOSTAL": ctx.commune_text("postal", pts.commune), "NUMVOIE": pts.number,
        "LIBVOIE": ctx.street_text(pts.street, abbreviated=False), "NBLOG": dwellings,
        "CONSTRUCT": _social_year(ctx, cell, rng), "X": w.fixed(pts.x, 2), "Y": w.fixed(pts.y, 2),
    }, sep=";")
    return len(cell), int(dwellings.sum())


def _masked(values: np.ndarray) -> "w.Column":
    """Counts as text, ``s`` where below the secrecy threshold (LOVAC convention)."""
    text = w.fixed(values.astype(np.float64), 0).to_numpy(zero_copy_only=False)
    return np.where(values < LOVAC_SECRET, "s", text.astype(object)).astype(str)


def write_lovac(ctx: Context) -> int:
    """Write ``lovac.csv`` (``;``-separated, small counts masked); return its rows."""
    rng = ctx.rng("lovac")
    n = len(ctx.zoning.commune_code)
    total = {c: np.bincount(ctx.cells.commune, ctx.counts[c], minlength=n) for c in ("men", "log_soc", "log_av45", "men_pauv")}
    with np.errstate(invalid="ignore", divide="ignore"):
        old, poor = np.nan_to_num(total["log_av45"] / total["men"]), np.nan_to_num(total["men_pauv"] / total["men"])
    stock = np.rint(np.maximum(total["men"] - total["log_soc"], 0) * 1.13).astype(np.int64)
    rate = (0.055 + 0.07 * old + 0.08 * poor) * rng.lognormal(0, 0.1, n)
    vacant = np.rint(stock * rate).astype(np.int64)
    long_term = np.rint(vacant * rng.uniform(0.3, 0.42, n)).astype(np.int64)
    return w.write_csv(ctx.out_dir / LOVAC_FILE, {
        "CODGEO_25": ctx.zoning.commune_code.astype(str), "LIBGEO_25": ctx.zoning.commune_name.astype(str),
        "pp_vacant_25": _masked(vacant), "pp_vacant_plus_2ans_25": _masked(long_term), "pp_total_24": _masked(stock),
    }, sep=";")
