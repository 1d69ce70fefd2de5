"""DVF sales in Etalab's geo-dvf layout (the 41 columns of the real file, same order).

As in the real file, a mutation spans several rows (a flat and its cellar or parking
lots, a house and its garden parcel) and ``valeur_fonciere`` repeats on each row; a few
rows are exact duplicates. Prices per m2 fall with the distance to the centre and in
poor districts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import writers as w
from .context import Context
from .grid import transformer

DVF_FILE = "dvf.csv"
DVF_COLUMNS = (
    "id_mutation", "date_mutation", "numero_disposition", "nature_mutation", "valeur_fonciere",
    "adresse_numero", "adresse_suffixe", "adresse_nom_voie", "adresse_code_voie", "code_postal",
    "code_commune", "nom_commune", "code_departement", "ancien_code_commune", "ancien_nom_commune",
    "id_parcelle", "ancien_id_parcelle", "numero_volume", "lot1_numero", "lot1_surface_carrez",
    "lot2_numero", "lot2_surface_carrez", "lot3_numero", "lot3_surface_carrez", "lot4_numero",
    "lot4_surface_carrez", "lot5_numero", "lot5_surface_carrez", "nombre_lots", "code_type_local",
    "type_local", "surface_reelle_bati", "nombre_pieces_principales", "code_nature_culture",
    "nature_culture", "code_nature_culture_speciale", "nature_culture_speciale", "surface_terrain",
    "longitude", "latitude", "section_prefixe",
)
YEARS = np.arange(2019, 2024)
_TREND = np.array([0.90, 0.95, 1.00, 1.04, 1.01])
NATURES = ("Vente", "Vente en l'état futur d'achèvement", "Echange", "Adjudication")
# row roles: 0 house, 1 flat, 2 outbuilding (dépendance), 3 garden parcel without building
TYPE_CODE = np.array([1, 2, 3, -1])
TYPE_NAME = ("Maison", "Appartement", "Dépendance", "")
_SECTIONS = [a + b for a in "ABCDEFGHIKLMNOPRSTUVWXYZ" for b in "ABCDEFGHIKLMNOPRSTUVWXYZ"]


def _mutations(ctx: Context, count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One entry per mutation: place, kind, date, surfaces and price."""
    cell = ctx.draw_cells(count, rng)
    flat = rng.random(count) < ctx.cells.profile.collective[cell]
    kind = np.where(rng.random(count) < 0.04, 2, np.where(flat, 1, 0))  # house, flat, outbuilding only
    year_index = rng.integers(0, len(YEARS), count)
    f = ctx.cells.fields
    km = f.distance[cell] / 1_000
    per_m2 = ((1_500 + 2_600 * np.exp(-km / 2.8)) * (1 + 0.35 * f.rich[cell] - 0.3 * f.poverty[cell])
              * rng.lognormal(0, 0.15, count) * _TREND[year_index])
    surface = np.where(kind == 0, np.clip(rng.lognormal(np.log(100), 0.3, count), 35, 350),
                       np.clip(rng.lognormal(np.log(58), 0.35, count), 12, 200)).round()
    land = np.where(kind == 0, np.clip(rng.lognormal(np.log(250 + 150 * km), 0.5, count), 80, 5_000), 0).round()
    outbuildings = np.where(kind == 1, categorical_counts(rng, count, (0.45, 0.45, 0.10)), 0)
    outbuildings = np.where(kind == 2, 1, outbuildings)
    garden = (kind == 0) & (rng.random(count) < 0.3)
    value = np.where(kind == 2, rng.uniform(8_000, 30_000, count),
                     per_m2 * surface * np.where(kind == 0, 0.88, 1.0) + 35 * land + 11_000 * outbuildings)
    nature = np.where(rng.random(count) < 0.06, rng.integers(1, 4, count), 0)
    nature = np.where((nature == 1) & (kind != 1), 0, nature)
    return {"cell": cell, "kind": kind, "year": YEARS[year_index], "surface": surface, "land": land,
            "outbuildings": outbuildings, "garden": garden, "value": np.round(value, -2), "nature": nature}


def categorical_counts(rng: np.random.Generator, n: int, probabilities) -> np.ndarray:
    """Draw a count 0..k-1 with the given probabilities."""
    return np.searchsorted(np.cumsum(probabilities), rng.random(n) * sum(probabilities), side="right")


def _rows(m: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Explode mutations into rows: (mutation index, role) per row."""
    main_role = np.where(m["kind"] == 2, 2, m["kind"])
    extra = np.where(m["kind"] == 2, 0, m["outbuildings"]) + m["garden"]
    per = 1 + extra
    mutation = np.repeat(np.arange(len(per)), per)
    position = np.arange(len(mutation)) - np.repeat(np.cumsum(per) - per, per)
    role = np.where(position == 0, main_role[mutation], np.where(m["kind"][mutation] == 0, 3, 2))
    duplicate = rng.random(len(mutation)) < 0.003  # geo-dvf carries some identical rows
    return np.repeat(mutation, 1 + duplicate), np.repeat(role, 1 + duplicate)


def _id_mutation(m: dict[str, np.ndarray], first: int) -> "w.Column":
    """``YYYY-NNNNNN``, numbered within each year."""
    order = np.lexsort((np.arange(len(m["year"])), m["year"]))
    start = np.searchsorted(m["year"][order], m["year"][order])
    number = np.empty(len(order), dtype=np.int64)
    number[order] = np.arange(len(order)) - start
    return w.concat(m["year"], "-", w.zero_pad(100_000 + first + number, 6))


def dvf_chunk(ctx: Context, chunk: int, first: int, count: int) -> dict:
    """Generate the rows of ``count`` mutations as CSV columns."""
    rng = ctx.rng("dvf", chunk)
    m = _mutations(ctx, count, rng)
    pts = ctx.points(m["cell"], rng)
    days = rng.integers(0, 365, count)
    date = (m["year"] - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days
    section = (ctx.cells.e[m["cell"]] // 400 * 7 + ctx.cells.n[m["cell"]] // 400) % len(_SECTIONS)
    plan = rng.integers(1, 2_000, count)
    lon, lat = transformer(ctx.profile.working_crs, "EPSG:4326").transform(pts.x, pts.y)
    mutation, role = _rows(m, rng)
    return _columns(ctx, m, pts, mutation, role, {
        "id": _id_mutation(m, first), "date": np.datetime_as_string(date, unit="D"),
        "section": section, "plan": plan, "lon": np.asarray(lon), "lat": np.asarray(lat),
        "suffix": rng.random(count) < 0.03, "lot": rng.integers(1, 250, len(mutation)),
        "carrez": rng.random(len(mutation)) < 0.6, "number_shift": rng.choice([0, 0, 2, 6], len(mutation)),
        "garden_m2": rng.integers(100, 800, len(mutation)),
    })


def _columns(ctx: Context, m, pts, mutation: np.ndarray, role: np.ndarray, r: dict) -> dict:
    """Assemble the 41 geo-dvf columns for the exploded rows."""
    def per_row(values):
        return values[mutation] if isinstance(values, np.ndarray) else values.take(pa.array(mutation))

    empty = pa.nulls(len(mutation), pa.string())
    built = role <= 2
    lotted = (role == 1) | (role == 2)
    surface = np.where(role <= 1, m["surface"][mutation], np.nan)
    commune = pts.commune[mutation]
    section = w.take(_SECTIONS, r["section"][mutation])
    rooms = np.where(role == 0, np.clip(np.round(surface / 25), 2, 9), np.clip(np.round(surface / 22), 1, 7))
    code = ctx.commune_text("code", commune)
    columns = dict.fromkeys(DVF_COLUMNS, empty)
    columns.update({
        "id_mutation": per_row(r["id"]), "date_mutation": per_row(r["date"]), "numero_disposition": np.ones(len(role), np.int64),
        "nature_mutation": w.take(NATURES, m["nature"][mutation]), "valeur_fonciere": w.fixed(m["value"][mutation], 2),
        "adresse_numero": pts.number[mutation] + np.where(role == 2, r["number_shift"], 0),
        "adresse_suffixe": w.take(("", "B"), r["suffix"][mutation].astype(int)),
        "adresse_nom_voie": ctx.street_text(pts.street[mutation], abbreviated=True),
        "adresse_code_voie": w.zero_pad(pts.street[mutation] * 7 + 1_000, 4),
        "code_postal": ctx.commune_text("postal", commune), "code_commune": code,
        "nom_commune": ctx.commune_text("name", commune), "code_departement": ctx.commune_text("departement", commune),
        "id_parcelle": w.concat(code, "000", section, w.zero_pad(r["plan"][mutation], 4)),
        "lot1_numero": w.fixed(np.where(lotted, r["lot"], np.nan), 0),
        "lot1_surface_carrez": w.fixed(np.where((role == 1) & r["carrez"], surface * 1.01, np.nan), 2),
        "nombre_lots": lotted.astype(np.int64),
        "code_type_local": w.fixed(np.where(built, TYPE_CODE[role], np.nan), 0),
        "type_local": w.take(TYPE_NAME, role), "surface_reelle_bati": w.fixed(surface, 2),
        "nombre_pieces_principales": w.fixed(np.where(role == 2, 0, np.where(built, rooms, np.nan)), 0),
        "code_nature_culture": w.take(("S", "", "", "J"), role), "nature_culture": w.take(("sols", "", "", "jardins"), role),
        "surface_terrain": w.fixed(np.select([role == 0, role == 3], [m["land"][mutation], r["garden_m2"]], np.nan), 2),
        "longitude": w.fixed(r["lon"][mutation], 7), "latitude": w.fixed(r["lat"][mutation], 7),
        "section_prefixe": w.concat("000", section),
    })
    return columns


def write_dvf(ctx: Context) -> tuple[int, int]:
    """Write ``dvf.csv``; return (rows, mutations)."""
    with w.CsvSink(ctx.out_dir / DVF_FILE, DVF_COLUMNS, always_quote=("adresse_nom_voie",)) as sink:
        for chunk, first, count in ctx.chunks(ctx.targets.dvf_mutations, 500_000):
            sink.write(dvf_chunk(ctx, chunk, first, count))
    return sink.rows, ctx.targets.dvf_mutations
