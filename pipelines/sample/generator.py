"""Entry point: generate every file of the fictional sample territory."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import dpe, dvf, filosofi, geography, gtfs, housing, personal, private
from .context import Context
from .grid import build_cells
from .profiles import SampleProfile, get_profile
from .territory import Targets, build_landscape
from .zoning import build_zoning

SAMPLE_FILES = (
    "territory.yaml", "LISEZMOI_FICTIF.txt", "contours_iris.gpkg", "communes.gpkg",
    "filosofi_200m.gpkg", "filosofi_iris.csv", "filosofi_commune.csv",
    "dpe_logements_existants.csv", "dvf.csv", "gtfs_bus.zip", "rpls.csv", "lovac.csv",
    "operator_consumption.csv", "carsharing_trips.csv", "smart_meter_readings.csv",
    "travel_survey_persons.csv", "travel_survey_trips.csv",
)


@dataclass
class SampleSummary:
    """What :func:`generate_sample` wrote (counts are rows unless said otherwise)."""

    out_dir: Path
    scale: float
    seed: int
    profile: str = "mainland"
    communes: int = 0
    iris: int = 0
    grid_cells: int = 0
    inhabitants: int = 0
    households: int = 0
    dpe_rows: int = 0
    dvf_rows: int = 0
    dvf_mutations: int = 0
    gtfs_routes: int = 0
    gtfs_stops: int = 0
    gtfs_trips: int = 0
    gtfs_stop_times: int = 0
    rpls_buildings: int = 0
    social_dwellings: int = 0
    lovac_communes: int = 0
    operator_rows: int = 0
    carsharing_stations: int = 0
    carsharing_rows: int = 0
    meter_households: int = 0
    meter_rows: int = 0
    survey_persons: int = 0
    survey_trips: int = 0
    files: tuple[str, ...] = SAMPLE_FILES
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        """Plain dict (paths as text), e.g. for JSON or a CLI table."""
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        return data

    def describe(self) -> str:
        """Human-readable multi-line summary."""
        skip = {"out_dir", "files", "seconds"}
        lines = [f"Sample territory (FICTIONAL) written to {self.out_dir}"]
        lines += [f"  {k:<20} {v:>12,}" if isinstance(v, int) else f"  {k:<20} {v:>12}"
                  for k, v in self.as_dict().items() if k not in skip]
        lines.append(f"  {'total seconds':<20} {sum(self.seconds.values()):>12.1f}")
        return "\n".join(lines)


class _Clock:
    """Record the duration of each step into a dict."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds, self.last = seconds, time.perf_counter()

    def tick(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self.last, 3)
        self.last = now


def build_context(out_dir: Path, scale: float, seed: int, profile: SampleProfile) -> Context:
    """Draw the territory model (outline, cells, zoning, Filosofi counts) of a profile."""
    targets = Targets.from_scale(scale, profile)
    land = build_landscape(targets, seed, profile)
    cells = build_cells(land, targets, seed)
    zoning = build_zoning(land, cells, targets, seed)
    cells.iris = zoning.locate(cells.x, cells.y)
    cells.commune = zoning.iris_commune[cells.iris]
    counts = filosofi.publish_counts(cells, targets, seed)
    return Context(Path(out_dir), int(seed), targets, land, cells, zoning, counts)


def _write_public(ctx: Context, s: SampleSummary, clock: _Clock) -> None:
    """Public files: contours, Filosofi, DPE, DVF, GTFS, RPLS, LOVAC."""
    polygons = geography.write_iris(ctx.out_dir, ctx.land, ctx.zoning)
    population = geography.commune_population(ctx.cells, ctx.counts, len(ctx.zoning.commune_code))
    geography.write_communes(ctx.out_dir, ctx.zoning, polygons, population, ctx.profile)
    geography.write_card_and_notice(ctx.out_dir, ctx.zoning, s.scale, s.seed, ctx.profile)
    clock.tick("contours")
    s.grid_cells = filosofi.write_grid(ctx.out_dir, ctx.cells, ctx.counts, ctx.land, ctx.zoning)
    filosofi.write_income_tables(ctx.out_dir, ctx.cells, ctx.counts, ctx.zoning)
    clock.tick("filosofi")
    s.dpe_rows = dpe.write_dpe(ctx)
    clock.tick("dpe")
    s.dvf_rows, s.dvf_mutations = dvf.write_dvf(ctx)
    clock.tick("dvf")
    s.gtfs_routes, s.gtfs_stops, s.gtfs_trips, s.gtfs_stop_times = gtfs.write_gtfs(ctx)
    clock.tick("gtfs")
    s.rpls_buildings, s.social_dwellings = housing.write_rpls(ctx)
    s.lovac_communes = housing.write_lovac(ctx)
    clock.tick("housing")


def _write_restricted(ctx: Context, s: SampleSummary, clock: _Clock) -> None:
    """Private (operators) and personal (meters, travel survey) files."""
    s.operator_rows = private.write_operator_consumption(ctx)
    s.carsharing_stations, s.carsharing_rows = private.write_carsharing(ctx)
    clock.tick("private")
    s.meter_households, s.meter_rows = personal.write_smart_meters(ctx)
    s.survey_persons, s.survey_trips = personal.write_travel_survey(ctx)
    clock.tick("personal")


def generate_sample(out_dir: Path, *, scale: float = 1, seed: int | None = None,
                    profile: str | SampleProfile = "mainland") -> SampleSummary:
    """Generate a fictional sample territory in the official file formats.

    The same ``(profile, scale, seed)`` always gives byte-identical files. ``scale``
    multiplies households, points, communes and IRIS (communes are capped at
    :data:`~pipelines.sample.names.MAX_COMMUNES` fictional codes).

    Parameters
    ----------
    out_dir : Path
        Folder to write into (created if missing); existing sample files are replaced.
    scale : float, default 1
        Mainland: 1 gives 4 communes, 40 IRIS, ~28,000 households and ~60,000
        inhabitants. Overseas: 3 communes, 24 IRIS, ~17,000 households, ~37,000
        inhabitants.
    seed : int, optional
        Default: the profile's (20261128 mainland, 20260972 overseas).
    profile : {"mainland", "overseas"} or SampleProfile, default "mainland"
        The territory: CRSs, place, shape, codes and names (see :mod:`.profiles`).

    Returns
    -------
    SampleSummary
        Counts of what was written.

    Examples
    --------
    >>> summary = generate_sample(Path("sources/sample"))  # doctest: +SKIP
    >>> summary.communes, summary.iris
    (4, 40)
    """
    chosen = get_profile(profile)
    seed = chosen.seed if seed is None else seed
    Targets.from_scale(scale, chosen)  # refuse a bad scale before creating the folder
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = SampleSummary(out_dir=out_dir, scale=float(scale), seed=int(seed), profile=chosen.id)
    clock = _Clock(summary.seconds)
    ctx = build_context(out_dir, scale, seed, chosen)
    summary.communes, summary.iris = len(ctx.zoning.commune_code), len(ctx.zoning.iris_code)
    summary.inhabitants = int(round(ctx.counts["ind"].sum()))
    summary.households = int(round(ctx.counts["men"].sum()))
    clock.tick("model")
    _write_public(ctx, summary, clock)
    _write_restricted(ctx, summary, clock)
    return summary
