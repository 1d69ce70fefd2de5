"""A GTFS bus feed: lines radiating from each urban centre, stops denser where people live.

Each centre has a parent station with one platform per line; other stops stand alone.
Weekday service runs past midnight (times such as ``24:30:00``); public holidays swap
weekday for weekend service in ``calendar_dates.txt``; line 1's morning peak is given
by ``frequencies.txt`` instead of individual trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa

from . import writers as w
from .context import Context
from .grid import transformer
from .names import STREETS, street_labels

GTFS_FILE = "gtfs_bus.zip"
AGENCY_ID = "FICTIBUS"
SAMPLES_PER_LINE = 300
WEEKDAY = ((5.5, 7, 20), (7, 9, 10), (9, 16.5, 20), (16.5, 19, 10), (19, 24.55, 30))  # hours, headway min
WEEKEND = ((7, 23.05, 30),)
PEAK = (7 * 3600, 9 * 3600, 480)  # line 1's frequency-based window (seconds) and headway
STOP_TIME_COLUMNS = ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence")
_COLORS = ("E2001A", "0064B0", "00A650", "F39200", "8E3C97", "009FE3", "A0C814", "D6006F")


@dataclass
class Line:
    """One bus line: ordered stop ids (outbound) and cumulative travel seconds."""

    number: int
    centre: int
    stop_ids: np.ndarray
    seconds: np.ndarray
    minor: bool


def _polylines(ctx: Context, rng: np.random.Generator):
    """Sampled paths (n_lines, K, 2) from each centre outwards, and their owner centre."""
    centre, angle, length, bend = [], [], [], []
    for k, weight in enumerate(ctx.land.weights):
        n = 6 if weight >= 0.7 else (4 if weight >= 0.4 else 3)
        base = rng.uniform(0, 2 * np.pi)
        centre += [k] * n
        angle += list(base + 2 * np.pi * np.arange(n) / n + rng.uniform(-0.25, 0.25, n))
        length += list(5_800 * np.sqrt(weight) * rng.uniform(0.8, 1.0, n))
        bend += list(rng.uniform(-300, 300, n))
    centre, angle, length, bend = map(np.asarray, (centre, angle, length, bend))
    t = np.linspace(0, 1, SAMPLES_PER_LINE)
    radial = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    normal = np.stack([-np.sin(angle), np.cos(angle)], axis=1)
    offset = bend[:, None] * np.sin(np.pi * t)[None, :]
    xy = (ctx.land.centres[centre][:, None, :] + (length[:, None] * t)[..., None] * radial[:, None, :]
          + offset[..., None] * normal[:, None, :])
    return xy, centre


def _households_at(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Households of the grid cell holding each point (0 outside inhabited cells)."""
    cell = ctx.cells.index_at(x, y)
    return np.where(cell >= 0, ctx.counts["men"][cell], 0.0)


def _stop_positions(ctx: Context, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(line, sample index) of each stop: one every 280-1,300 m depending on density."""
    n_lines, k = xy.shape[:2]
    inside = ctx.land.contains(xy[..., 0].ravel(), xy[..., 1].ravel()).reshape(n_lines, k)
    inside[:, 0] = True
    valid = np.cumprod(inside, axis=1).astype(bool)  # a line stops at the territory's edge
    men = _households_at(ctx, xy[..., 0].ravel(), xy[..., 1].ravel()).reshape(n_lines, k)
    men = np.apply_along_axis(lambda r: np.convolve(r, np.ones(7) / 7, mode="same"), 1, men)
    spacing = np.interp(men, [0, 5, 30, 100, 200], [1_300, 900, 550, 350, 280])
    step = np.hypot(*np.diff(xy, axis=1).transpose(2, 0, 1))
    need = np.cumsum(np.where(valid[:, 1:], step / spacing[:, 1:], 0), axis=1)
    stop = np.zeros((n_lines, k), dtype=bool)
    stop[:, 1:] = np.diff(np.floor(np.concatenate([np.zeros((n_lines, 1)), need], axis=1)), axis=1) > 0
    stop[:, 0] = True
    last = valid.sum(axis=1) - 1
    stop[np.arange(n_lines), last] = True
    stop &= valid
    return np.nonzero(stop)


def build_network(ctx: Context, rng: np.random.Generator):
    """Lines and the stops table (as columns) of the whole network."""
    xy, owner = _polylines(ctx, rng)
    line_of, sample = _stop_positions(ctx, xy)
    sx, sy = xy[line_of, sample, 0], xy[line_of, sample, 1]
    hub = sample == 0
    stop_id = np.where(hub, [f"GARE{owner[k]:03d}_{k + 1}" for k in line_of], [f"S{i:06d}" for i in range(len(line_of))])
    lon, lat = transformer(ctx.profile.working_crs, "EPSG:4326").transform(sx, sy)
    street = rng.integers(0, len(STREETS), len(line_of))
    commune = ctx.zoning.iris_commune[ctx.zoning.locate(ctx.land.centres[:, 0], ctx.land.centres[:, 1])]
    hub_names = np.array([f"Gare centrale - {n}" for n in ctx.zoning.commune_name[commune]], dtype=object)
    names = np.where(hub, hub_names[owner[line_of]], street_labels()[street])
    lines = _lines(ctx, line_of, sample, owner, stop_id, sx, sy)
    stops = _stops_table(stop_id, names, np.asarray(lon), np.asarray(lat), hub, owner[line_of], hub_names, ctx)
    return lines, stops


def _lines(ctx, line_of, sample, owner, stop_id, sx, sy) -> list[Line]:
    """Group stops by line and compute running times (slower in the dense centre)."""
    lines = []
    bounds = np.searchsorted(line_of, np.arange(len(owner) + 1))
    for index, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=False)):
        if b - a < 2:  # cut by the territory's edge right after the hub: no line
            continue
        centre = owner[index]
        gap = np.hypot(np.diff(sx[a:b]), np.diff(sy[a:b]))
        near = np.hypot(sx[a + 1 : b] - ctx.land.centres[centre, 0], sy[a + 1 : b] - ctx.land.centres[centre, 1]) < 1_500
        travel = gap / np.where(near, 16 / 3.6, 26 / 3.6) + 25
        seconds = np.concatenate([[0.0], np.cumsum(np.round(travel))])
        minor = (index - np.searchsorted(owner, centre)) >= 4
        lines.append(Line(index + 1, int(centre), stop_id[a:b], seconds, bool(minor)))
    return lines


def _stops_table(stop_id, names, lon, lat, hub, centre_of, hub_names, ctx) -> dict:
    """stops.txt: platforms and plain stops, then one parent station per centre."""
    n_centres = len(ctx.land.centres)
    parent_id = np.array([f"GARE{k:03d}" for k in range(n_centres)], dtype=object)
    parent_lon, parent_lat = transformer(ctx.profile.working_crs, "EPSG:4326").transform(*ctx.land.centres.T)
    return {
        "stop_id": np.concatenate([stop_id, parent_id]).astype(str),
        "stop_name": np.concatenate([names, hub_names]).astype(str),
        "stop_lat": w.fixed(np.concatenate([lat, np.atleast_1d(parent_lat)]), 6),
        "stop_lon": w.fixed(np.concatenate([lon, np.atleast_1d(parent_lon)]), 6),
        "location_type": np.concatenate([np.zeros(len(stop_id), np.int64), np.ones(n_centres, np.int64)]),
        "parent_station": np.concatenate([np.where(hub, parent_id[centre_of], ""), [""] * n_centres]).astype(str),
    }


def clock(seconds: np.ndarray) -> pa.Array:
    """GTFS times ``HH:MM:SS``; hours go past 24 for trips after midnight."""
    seconds = np.asarray(seconds, dtype=np.int64)
    return w.concat(w.zero_pad(seconds // 3600, 2), w.zero_pad(seconds // 60 % 60, 2), w.zero_pad(seconds % 60, 2), sep=":")


def departures(plan, minor: bool, skip: tuple[int, int] | None = None) -> np.ndarray:
    """Departure times (seconds) from a headway plan; ``skip`` leaves a window out."""
    times = np.concatenate([np.arange(a * 3600, b * 3600, h * 60 * (2 if minor else 1)) for a, b, h in plan])
    if skip is not None:
        times = times[(times < skip[0]) | (times >= skip[1])]
    return times.astype(np.int64)


def _runs(line: Line, first_line: bool) -> Iterator[tuple[str, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (service, direction, trip ids, departures, stop ids, offsets) of a line."""
    for service, plan in (("SEM", WEEKDAY), ("WE", WEEKEND)):
        peak = first_line and service == "SEM"
        base = departures(plan, line.minor, PEAK[:2] if peak else None)
        for direction in (0, 1):
            stops = line.stop_ids if direction == 0 else line.stop_ids[::-1]
            offsets = line.seconds if direction == 0 else line.seconds[-1] - line.seconds[::-1]
            ids = np.array([f"L{line.number}_{service}_{direction}_{i:03d}" for i in range(len(base))], dtype=object)
            times = base
            if peak:  # template trip of frequencies.txt
                ids, times = np.append(ids, f"L{line.number}_{service}_{direction}_F"), np.append(base, PEAK[0])
            yield service, direction, ids, times, stops, offsets


def _trips(lines: list[Line], names: dict[str, str]) -> dict[str, np.ndarray]:
    """trips.txt columns."""
    parts = []
    for line in lines:
        for service, direction, ids, _, stops, _ in _runs(line, line.number == 1):
            parts.append((np.full(len(ids), f"L{line.number}"), np.full(len(ids), service), ids,
                          np.full(len(ids), names[stops[-1]]), np.full(len(ids), direction)))
    route, service, trip, headsign, direction = (np.concatenate(c) for c in zip(*parts, strict=False))
    return {"route_id": route, "service_id": service, "trip_id": trip.astype(str),
            "trip_headsign": headsign.astype(str), "direction_id": direction.astype(np.int64)}


def _stop_times(lines: list[Line], counter: list[int]) -> Iterator[memoryview]:
    """stop_times.txt, streamed line by line; counts rows in ``counter[0]``."""
    yield (",".join(STOP_TIME_COLUMNS) + "\n").encode()
    for line in lines:
        for _, _, ids, times, stops, offsets in _runs(line, line.number == 1):
            at = clock((times[:, None] + offsets[None, :]).ravel())
            counter[0] += len(at)
            yield w.csv_bytes({
                "trip_id": np.repeat(ids, len(stops)).astype(str), "arrival_time": at, "departure_time": at,
                "stop_id": np.tile(stops, len(ids)).astype(str), "stop_sequence": np.tile(np.arange(1, len(stops) + 1), len(ids)),
            }, STOP_TIME_COLUMNS)


def _routes(lines: list[Line], names: dict[str, str]) -> dict:
    """routes.txt: one bus route per line, named after its two terminals."""
    return {
        "route_id": [f"L{line.number}" for line in lines], "agency_id": [AGENCY_ID] * len(lines),
        "route_short_name": [str(line.number) for line in lines],
        "route_long_name": [f"{names[line.stop_ids[0]]} - {names[line.stop_ids[-1]]}" for line in lines],
        "route_type": np.full(len(lines), 3),
        "route_color": [_COLORS[line.number % len(_COLORS)] for line in lines],
        "route_text_color": ["FFFFFF"] * len(lines),
    }


def _calendar(year: int, holidays_mmdd: tuple[str, ...] = ("0501", "0714")) -> dict[str, dict]:
    """Weekday and weekend services; public holidays (1 May and 14 July in mainland
    France, also 22 May in Martinique) run the weekend service."""
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    holidays = [f"{year}{day}" for day in holidays_mmdd]
    return {
        "calendar.txt": {"service_id": ["SEM", "WE"], **{d: [int(i < 5), int(i >= 5)] for i, d in enumerate(days)},
                         "start_date": [f"{year}0102"] * 2, "end_date": [f"{year}1231"] * 2},
        "calendar_dates.txt": {"service_id": ["SEM", "WE"] * len(holidays), "date": np.repeat(holidays, 2),
                               "exception_type": [2, 1] * len(holidays)},
        "frequencies.txt": {"trip_id": ["L1_SEM_0_F", "L1_SEM_1_F"], "start_time": ["07:00:00"] * 2,
                            "end_time": ["09:00:00"] * 2, "headway_secs": [PEAK[2]] * 2, "exact_times": [0, 0]},
    }


def _publisher(ctx: Context) -> dict[str, dict]:
    """agency.txt and feed_info.txt, both saying the feed is fictional."""
    return {
        "agency.txt": {"agency_id": [AGENCY_ID], "agency_name": [ctx.profile.agency_name],
                       "agency_url": ["https://example.org/fictibus"], "agency_timezone": [ctx.profile.timezone],
                       "agency_lang": ["fr"]},
        "feed_info.txt": {"feed_publisher_name": ["datacites (données FICTIVES)"],
                          "feed_publisher_url": ["https://example.org/datacites"], "feed_lang": ["fr"],
                          "feed_start_date": [f"{ctx.year}0102"], "feed_end_date": [f"{ctx.year}1231"],
                          "feed_version": [f"{ctx.profile.territory_id}-{ctx.seed}-{ctx.targets.scale:g}"]},
    }


def _table_bytes(columns: dict) -> list[bytes]:
    """Header and rows of a small table."""
    columns = {k: v if isinstance(v, pa.Array) else np.asarray(v) for k, v in columns.items()}
    return [(",".join(columns) + "\n").encode(), bytes(w.csv_bytes(columns, list(columns)))]


def write_gtfs(ctx: Context) -> tuple[int, int, int, int]:
    """Write ``gtfs_bus.zip``; return (routes, stops, trips, stop_times)."""
    lines, stops = build_network(ctx, ctx.rng("gtfs"))
    names = dict(zip(stops["stop_id"], stops["stop_name"], strict=False))
    trips = _trips(lines, names)
    small = {**_publisher(ctx), **_calendar(ctx.year, ctx.profile.holidays), "routes.txt": _routes(lines, names)}
    counter = [0]
    members = [(name, _table_bytes(small[name])) for name in ("agency.txt", "routes.txt")]
    members += [("stops.txt", _table_bytes(stops)), ("trips.txt", _table_bytes(trips)),
                ("stop_times.txt", _stop_times(lines, counter))]
    members += [(name, _table_bytes(small[name]))
                for name in ("calendar.txt", "calendar_dates.txt", "frequencies.txt", "feed_info.txt")]
    w.write_zip(ctx.out_dir / GTFS_FILE, members)
    return len(lines), len(stops["stop_id"]), len(trips["trip_id"]), counter[0]
