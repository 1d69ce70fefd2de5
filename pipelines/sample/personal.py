"""Personal data: smart-meter readings and a household travel survey.

These are the files the anonymiser exists for: exact home coordinates, addresses and
meter numbers. Meter numbers are 14-digit text and some start with 0, so a reader that
guesses integers loses digits. Car use grows with the distance to the centre.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import writers as w
from .context import Context
from .private import with_xy
from .rand import categorical

METER_FILE = "smart_meter_readings.csv"
PERSONS_FILE, TRIPS_FILE = "travel_survey_persons.csv", "travel_survey_trips.csv"
METER_COLUMNS = ("numero_compteur", "adresse", "x_l93", "y_l93", "mois", "conso_kwh")
PERSON_COLUMNS = ("id_personne", "id_menage", "x_domicile_l93", "y_domicile_l93", "tranche_age", "taille_menage")
TRIP_COLUMNS = ("id_personne", "id_deplacement", "mode", "motif", "distance_km")
MODES = ("voiture", "transports_collectifs", "velo", "marche", "autre")
MOTIFS = ("travail", "etudes", "achats", "loisirs", "accompagnement", "sante", "demarches", "autre")
AGE_BANDS = ("5-10", "11-17", "18-24", "25-34", "35-49", "50-64", "65-74", "75+")
_HEATING_MONTHS = np.array([0.18, 0.15, 0.12, 0.08, 0.04, 0.01, 0, 0, 0.02, 0.07, 0.13, 0.20])
# Affine permutation of [0, 1e14): distinct households get distinct meter numbers.
_METER_A, _METER_B, _METER_M = 73_939_133_567, 4_263_918_226_541, 10**14
_CHUNK_HOUSEHOLDS = 200_000


def meter_numbers(index: np.ndarray) -> "w.Column":
    """14-digit meter numbers (text, leading zeros kept) of household indices."""
    return w.zero_pad((np.asarray(index, dtype=np.int64) * _METER_A + _METER_B) % _METER_M, 14)


def _monthly_kwh(ctx: Context, cell: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n, 12) monthly electricity use: appliances plus electric heating for some."""
    n, p, f = len(cell), ctx.cells.profile, ctx.cells.fields
    persons = 1 + rng.poisson(np.maximum(p.size[cell] - 1, 0))
    base = (1_400 + 650 * persons) * rng.lognormal(0, 0.2, n)
    electric = rng.random(n) < 0.3 + 0.15 * p.collective[cell]
    heating = np.where(electric, p.surface[cell] * 70 * (1 - 0.35 * f.poverty[cell]) * rng.lognormal(0, 0.25, n), 0)
    months = base[:, None] / 12 * (1 + 0.12 * np.cos(2 * np.pi * np.arange(12) / 12)) + heating[:, None] * _HEATING_MONTHS
    return np.rint(months * rng.lognormal(0, 0.08, (n, 12)))


def write_smart_meters(ctx: Context) -> tuple[int, int]:
    """Write ``smart_meter_readings.csv`` (12 months per household); return (households, rows)."""
    total = ctx.targets.meter_households
    x_column, y_column = ctx.profile.x_column, ctx.profile.y_column
    with w.CsvSink(ctx.out_dir / METER_FILE, with_xy(METER_COLUMNS, x_column, y_column)) as sink:
        for chunk, first, count in ctx.chunks(total, _CHUNK_HOUSEHOLDS):
            rng = ctx.rng("meters", chunk)
            cell = ctx.draw_cells(count, rng)
            pts = ctx.points(cell, rng, decimals=1)
            kwh = _monthly_kwh(ctx, cell, rng).ravel()
            kwh[rng.random(kwh.size) < 0.003] = np.nan  # meter did not report
            row = pa.array(np.repeat(np.arange(count), 12))
            household = {  # formatted once per household, then repeated for its 12 months
                "numero_compteur": meter_numbers(first + np.arange(count)), "adresse": ctx.address(pts),
                x_column: w.fixed(pts.x, 1), y_column: w.fixed(pts.y, 1),
            }
            sink.write({
                **{k: v.take(row) for k, v in household.items()},
                "mois": w.take([f"{ctx.year}-{m:02d}" for m in range(1, 13)], np.tile(np.arange(12), count)),
                "conso_kwh": w.fixed(kwh, 0),
            })
    return total, sink.rows


def _persons(ctx: Context, count: int, first: int, rng: np.random.Generator) -> dict:
    """Surveyed persons of ``count`` households (home, age band, household size)."""
    cell = ctx.draw_cells(count, rng)
    pts = ctx.points(cell, rng, decimals=0)
    size = np.clip(1 + rng.poisson(np.maximum(ctx.cells.profile.size[cell] - 1, 0)), 1, 8)
    surveyed = np.minimum(size, 1 + rng.binomial(size - 1, 0.75))
    home = np.repeat(np.arange(count), surveyed)
    rank = np.arange(len(home)) - np.repeat(np.cumsum(surveyed) - surveyed, surveyed)
    centre = np.exp(-ctx.cells.fields.distance[cell[home]] / 3_000)
    weights = np.array([0.08, 0.09, 0.10, 0.15, 0.22, 0.18, 0.10, 0.08]) * np.ones((len(home), 1))
    weights[:, 2:4] *= (1 + centre)[:, None]
    weights[rank == 0, :2] = 0  # the reference person is an adult
    household_id = w.concat("M", w.zero_pad(first + home + 1, 7))  # one per person
    return {"home": home, "cell": cell[home], "age": categorical(weights, rng), "size": size[home],
            "household_id": household_id, "person_id": w.concat(household_id, w.zero_pad(rank + 1, 2)),
            "x": pts.x[home], "y": pts.y[home]}


def _trips(ctx: Context, p: dict, rng: np.random.Generator) -> dict:
    """Trips of the surveyed persons: mode depends on distance to centre and age."""
    n_trips = rng.poisson(np.where(p["age"] == 7, 2.4, 3.4))
    person = np.repeat(np.arange(len(n_trips)), n_trips)
    number = np.arange(len(person)) - np.repeat(np.cumsum(n_trips) - n_trips, n_trips) + 1
    d = ctx.cells.fields.distance[p["cell"][person]]
    minor = p["age"][person] <= 1
    mode = categorical(np.column_stack([
        (0.18 + 0.55 * (1 - np.exp(-d / 3_000))) * np.where(minor, 0.6, 1.0),
        (0.14 * np.exp(-d / 3_500) + 0.03) * np.where(minor, 1.5, 1.0),
        np.full(len(d), 0.03), 0.45 * np.exp(-d / 1_800) + 0.08, np.full(len(d), 0.02)]), rng)
    motif_weights = np.tile([0.22, 0.10, 0.18, 0.18, 0.10, 0.04, 0.04, 0.14], (len(person), 1))
    motif_weights[minor, 1] *= 3
    motif_weights[p["age"][person] >= 6, 1] = 0
    median = np.array([4.0, 4.5, 2.5, 0.6, 6.0])[mode] * np.where(mode == 0, 1 + d / 5_000, 1)
    distance = np.maximum(np.round(rng.lognormal(np.log(median), 0.6), 1), 0.1)
    return {"id_personne": p["person_id"].take(person), "id_deplacement": number,
            "mode": w.take(MODES, mode), "motif": w.take(MOTIFS, categorical(motif_weights, rng)),
            "distance_km": w.fixed(distance, 1)}


def write_travel_survey(ctx: Context) -> tuple[int, int]:
    """Write the persons and trips files of the survey; return (persons, trips)."""
    households = max(1, round(ctx.targets.survey_respondents / 1.8))  # ~1.8 surveyed per household
    home = {"x_domicile_l93": ctx.profile.home_x_column, "y_domicile_l93": ctx.profile.home_y_column}
    person_columns = tuple(home.get(c, c) for c in PERSON_COLUMNS)
    with w.CsvSink(ctx.out_dir / PERSONS_FILE, person_columns) as persons, \
            w.CsvSink(ctx.out_dir / TRIPS_FILE, TRIP_COLUMNS) as trips:
        for chunk, first, count in ctx.chunks(households, _CHUNK_HOUSEHOLDS):
            rng = ctx.rng("survey", chunk)
            p = _persons(ctx, count, first, rng)
            persons.write({"id_personne": p["person_id"], "id_menage": p["household_id"],
                           home["x_domicile_l93"]: w.fixed(p["x"], 0), home["y_domicile_l93"]: w.fixed(p["y"], 0),
                           "tranche_age": w.take(AGE_BANDS, p["age"]), "taille_menage": p["size"]})
            trips.write(_trips(ctx, p, rng))
    return persons.rows, trips.rows
