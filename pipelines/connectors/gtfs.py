"""GTFS public transport feeds (zip or folder): departures per stop on a day.

Decisions:

- **Service day.** A departure belongs to the service day of its trip, as GTFS defines
  it: a trip of Monday's service leaving at ``24:30:00`` leaves at 00:30 on Tuesday but
  counts for Monday, not Tuesday. Times past 24:00:00 are therefore valid and need no
  conversion to be counted.
- **Departures.** One departure is one vehicle leaving a stop where passengers may board:
  the last stop of each trip (no departure from a terminus) and stops with
  ``pickup_type = 1`` (no pickup) are not counted.
- **Frequencies.** A trip listed in ``frequencies.txt`` runs once per headway from
  ``start_time`` (included) to ``end_time`` (excluded), for ``exact_times`` 0 and 1
  alike: 07:00-09:00 every 30 min is 4 runs (07:00, 07:30, 08:00, 08:30). Its own
  stop_times only give the stop pattern.
- **Stations.** Stops with a ``parent_station`` are counted at their station (the row
  carries the station's id, name and position); stops without one stand for themselves.
  Every station and stand-alone stop appears, with 0 departures when nothing runs.
- **Calendars.** ``calendar.txt``, ``calendar_dates.txt`` or both; a feed with neither is
  an error. Optional files (``frequencies.txt``, ``calendar*``, ``routes.txt``) may be
  absent.
- **Route types left out.** Trips of routes whose ``route_type`` is in the option
  ``exclude_route_types`` are not regular bus departures and are not counted; the default
  leaves out the extended types 712 (School Bus) and 715 (Demand and Response Bus
  Service), whose runs are not open to everyone or not run unless booked. 713 (School and
  Public Service Bus) is counted: anyone may board it; add it to the list to leave it out.
  An empty list counts every trip. Only ``route_type`` decides: on-demand services
  described by basic-GTFS booking rules or ``continuous_pickup`` are counted. The
  departures left out on the day (after the terminus, pickup and frequency rules) are
  reported, never dropped silently. ``route_type`` is read as text and must be a whole
  number; with ``routes.txt``, every trip's ``route_id`` must exist in it. A feed without
  ``routes.txt`` keeps every trip.
- **Typical weekday.** Without ``day``, the weekday (Monday to Friday) of the feed's
  validity period with the most counted trips running (trips of route types left out do
  not choose the day), the earliest on ties.
"""

from __future__ import annotations

import datetime as dt
import numbers
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.connectors._crs import transformer
from pipelines.connectors._csv import CsvTable, read_csv, read_header
from pipelines.connectors._points import points_frame, project_points
from pipelines.connectors._values import as_text, parse_date, parse_float, parse_int
from pipelines.connectors.registry import connector
from pipelines.errors import ConfigError, SourceError

__all__ = ["Feed", "read_feed", "departures_per_stop", "typical_weekday", "read_gtfs",
           "EXCLUDED_ROUTE_TYPES"]

EXCLUDED_ROUTE_TYPES = (712, 715)  # School Bus, Demand and Response Bus Service

_COLUMNS = {
    "stops.txt": (("stop_id",), ("stop_name", "stop_lat", "stop_lon", "location_type",
                                 "parent_station")),
    "routes.txt": (("route_id", "route_type"), ()),
    "trips.txt": (("trip_id", "service_id"), ("route_id",)),
    "stop_times.txt": (("trip_id", "stop_id", "stop_sequence"), ("departure_time", "pickup_type")),
    "calendar.txt": (("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                      "saturday", "sunday", "start_date", "end_date"), ()),
    "calendar_dates.txt": (("service_id", "date", "exception_type"), ()),
    "frequencies.txt": (("trip_id", "start_time", "end_time", "headway_secs"), ("exact_times",)),
}
_TIME = r"^\d{1,3}:[0-5]\d:[0-5]\d$"
_ROUTE_TYPE = r"^\d{1,9}$"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Feed:
    """A checked GTFS feed: one pandas frame per file (None when absent).

    Ids are resolved once into positions: ``stops["station"]`` is the row of the stop's
    parent station (or its own row), ``stop_times`` has ``trip`` and ``stop`` (rows in
    ``trips`` and ``stops``) and ``departs`` (a boardable departure: not the last stop
    of its trip, pickup allowed), ``frequencies`` has ``trip`` and ``runs``. With
    ``routes`` (``route_type`` as int64), ``trips["route"]`` is the row of the trip's route.
    """

    path: Path
    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame | None
    calendar_dates: pd.DataFrame | None
    frequencies: pd.DataFrame | None
    routes: pd.DataFrame | None = None


class _FeedFiles:
    """The text files of a feed, in a folder or a zip (extracted one by one when read)."""

    def __init__(self, path: Path):
        self.path = path
        self._zip = zipfile.ZipFile(path) if path.is_file() else None
        self._tmp = Path(tempfile.mkdtemp(prefix="gtfs_")) if self._zip else None
        names = self._zip.namelist() if self._zip else [p.name for p in path.iterdir()]
        self._members = {Path(name).name: name for name in names if not name.endswith("/")}

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            shutil.rmtree(self._tmp, ignore_errors=True)

    def has(self, name: str) -> bool:
        return name in self._members

    def read(self, name: str) -> CsvTable:
        required, optional = _COLUMNS[name]
        label = f"{self.path}/{name}"
        if not self.has(name):
            raise SourceError(label, "this required file of the feed is missing.",
                              fix="use the feed as published (GTFS requires it).")
        local = self._local(name)
        header = read_header(local, sep=",", label=label)
        missing = [column for column in required if column not in header.names]
        if missing:
            raise SourceError(label, "required column is missing.", row=1, column=missing[0],
                              fix="use the feed as published; GTFS requires this column.")
        wanted = [c for c in (*required, *optional) if c in header.names]
        return read_csv(local, columns=wanted, header=header)

    def _local(self, name: str) -> Path:
        if self._zip is None:
            return self.path / self._members[name]
        target = self._tmp / name
        with self._zip.open(self._members[name]) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)
        return target


def _text_frame(table: CsvTable) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(as_text(table.column(name)).to_pandas(), dtype="str")
                         for name in table.table.column_names})


def _positions(table: CsvTable, column: str, known: pd.Series, target: str, *,
               required: bool = False) -> np.ndarray:
    """Row of each referenced id in ``known`` (-1 where the field is empty).

    Raises
    ------
    SourceError
        On the first empty field when ``required``, or the first id that ``target``
        does not define.
    """
    values = as_text(table.column(column))
    if required and values.null_count:
        raise table.error("required id is empty.", column=column,
                          index=int(np.flatnonzero(pc.is_null(values).to_numpy(
                              zero_copy_only=False))[0]),
                          fix="use the feed as published; GTFS requires this field.")
    found = pc.index_in(values, value_set=pa.array(known.to_numpy(dtype=object), pa.string()))
    unknown = (pc.is_valid(values).to_numpy(zero_copy_only=False)
               & pc.is_null(found).to_numpy(zero_copy_only=False))
    if unknown.any():
        raise table.error(f"refers to an id that {target} does not define.",
                          index=int(np.flatnonzero(unknown)[0]), column=column,
                          fix=f"use the feed as published, or remove the rows; every {column} "
                              f"must exist in {target}.")
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype("int64")


def _check_times(table: CsvTable, column: str) -> None:
    if column not in table.table.column_names:
        return
    ok = pc.fill_null(pc.match_substring_regex(as_text(table.column(column)), _TIME), True)
    bad = pc.invert(ok).to_numpy(zero_copy_only=False)
    if bad.any():
        raise table.error("time is not written H:MM:SS (hours may exceed 24).",
                          index=int(np.flatnonzero(bad)[0]), column=column,
                          fix="correct the value, e.g. 25:10:00 for 1:10 the next morning.")


def _seconds(table: CsvTable, column: str) -> np.ndarray:
    _check_times(table, column)
    parts = pc.split_pattern(as_text(table.column(column)), ":").to_pylist()
    return np.array([np.nan if p is None else int(p[0]) * 3600 + int(p[1]) * 60 + int(p[2])
                     for p in parts], dtype="float64")


def read_feed(path) -> Feed:
    """Read and check a GTFS feed (zip file or folder).

    Raises
    ------
    SourceError
        Missing required file or column, no calendar file, malformed time, date or
        route_type, references to undefined trips, stops, services or routes, bad
        frequencies.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(path, "the feed does not exist.", fix="check `file:` in the source card.")
    try:
        files = _FeedFiles(path)
    except zipfile.BadZipFile as error:
        raise SourceError(path, "the file is not a zip archive.",
                          fix="download the feed again; GTFS is a zip of .txt files.") from error
    try:
        return _read_feed(path, files)
    finally:
        files.close()


def _read_feed(path: Path, files: _FeedFiles) -> Feed:
    if not (files.has("calendar.txt") or files.has("calendar_dates.txt")):
        raise SourceError(path, "the feed has neither calendar.txt nor calendar_dates.txt.",
                          fix="use the feed as published; one of them says when trips run.")
    stops = _stops(files)
    trips_table = files.read("trips.txt")
    trips = _text_frame(trips_table)
    _check_ids(trips_table, trips, "trip_id")
    routes = _routes(files) if files.has("routes.txt") else None
    if routes is not None:
        trips["route"] = _trip_routes(trips_table, routes)
    calendar = _calendar(files) if files.has("calendar.txt") else None
    dates = _calendar_dates(files) if files.has("calendar_dates.txt") else None
    services = pd.concat([f["service_id"] for f in (calendar, dates) if f is not None])
    _positions(trips_table, "service_id", services.drop_duplicates(),
               "calendar.txt or calendar_dates.txt", required=True)
    stop_times = _stop_times(files, trips, stops)
    frequencies = _frequencies(files, trips) if files.has("frequencies.txt") else None
    return Feed(path, stops, trips, stop_times, calendar, dates, frequencies, routes)


def _routes(files: _FeedFiles) -> pd.DataFrame:
    table = files.read("routes.txt")
    routes = _text_frame(table)
    _check_ids(table, routes, "route_id")
    text = as_text(table.column("route_type"))
    empty = pc.is_null(text).to_numpy(zero_copy_only=False)
    if empty.any():
        raise table.error("route_type is empty.", index=int(np.flatnonzero(empty)[0]),
                          column="route_type",
                          fix="use the feed as published; GTFS requires it (3 for a bus).")
    bad = pc.invert(pc.match_substring_regex(text, _ROUTE_TYPE)).to_numpy(zero_copy_only=False)
    if bad.any():
        raise table.error("route_type is not a route type code (a whole number such as 3, "
                          "or 712 in the extended types).", index=int(np.flatnonzero(bad)[0]),
                          column="route_type", fix="correct the value, e.g. 3 for a bus.")
    routes["route_type"] = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
    return routes


def _trip_routes(table: CsvTable, routes: pd.DataFrame) -> np.ndarray:
    """Row in ``routes`` of each trip; route_id is required once routes.txt is given."""
    if "route_id" not in table.table.column_names:
        raise SourceError(table.header.label, "required column is missing.", row=1,
                          column="route_id",
                          fix="use the feed as published; GTFS requires this column.")
    return _positions(table, "route_id", routes["route_id"], "routes.txt", required=True)


def _stops(files: _FeedFiles) -> pd.DataFrame:
    table = files.read("stops.txt")
    stops = _text_frame(table)
    _check_ids(table, stops, "stop_id")
    own = np.arange(len(stops))
    parent = (_positions(table, "parent_station", stops["stop_id"], "stops.txt")
              if "parent_station" in stops else np.full(len(stops), -1))
    stops["station"] = np.where(parent >= 0, parent, own)
    for column in ("stop_lon", "stop_lat"):
        stops[column] = (parse_float(table, column, table.column(column)) if column in stops
                         else np.nan)
    located = stops["stop_lon"].notna() & stops["stop_lat"].notna()
    unplaced = (~located & _kinds(stops).isin(["0", "1"])).to_numpy()
    if unplaced.any():
        raise table.error("stop or station has no position.", index=int(np.flatnonzero(unplaced)[0]),
                          column="stop_lon", fix="fill in stop_lat and stop_lon (WGS84).")
    project_points(table, stops["stop_lon"].to_numpy(), stops["stop_lat"].to_numpy(),
                   source_crs="EPSG:4326", working_crs="EPSG:4326", x_column="stop_lon",
                   path=files.path)
    return stops


def _kinds(stops: pd.DataFrame) -> pd.Series:
    """location_type, empty meaning 0 (a stop)."""
    if "location_type" not in stops:
        return pd.Series("0", index=stops.index, dtype="str")
    return stops["location_type"].fillna("0")


def _check_ids(table: CsvTable, frame: pd.DataFrame, column: str) -> None:
    """Ids that others refer to: present and unique."""
    empty = frame[column].isna().to_numpy()
    if empty.any():
        raise table.error("required id is empty.", index=int(np.flatnonzero(empty)[0]),
                          column=column, fix="use the feed as published; GTFS requires it.")
    duplicated = frame[column].duplicated().to_numpy()
    if duplicated.any():
        raise table.error("this id is defined twice.", index=int(np.flatnonzero(duplicated)[0]),
                          column=column, fix="use the feed as published; ids must be unique.")


def _stop_times(files: _FeedFiles, trips: pd.DataFrame, stops: pd.DataFrame) -> pd.DataFrame:
    table = files.read("stop_times.txt")
    _check_times(table, "departure_time")
    frame = pd.DataFrame({
        "trip": _positions(table, "trip_id", trips["trip_id"], "trips.txt", required=True),
        "stop": _positions(table, "stop_id", stops["stop_id"], "stops.txt", required=True)})
    sequence = parse_int(table, "stop_sequence", table.column("stop_sequence"))
    if sequence.isna().any():
        raise table.error("stop_sequence is missing.", column="stop_sequence",
                          index=int(np.flatnonzero(sequence.isna().to_numpy())[0]),
                          fix="use the feed as published; every stop time has a sequence.")
    sequence = sequence.to_numpy(dtype="int64")
    last = pd.Series(sequence).groupby(frame["trip"].to_numpy()).transform("max").to_numpy()
    no_pickup = (pc.fill_null(pc.equal(as_text(table.column("pickup_type")), "1"), False)
                 .to_numpy(zero_copy_only=False) if "pickup_type" in table.table.column_names
                 else np.zeros(len(frame), dtype=bool))
    frame["departs"] = (sequence != last) & ~no_pickup
    return frame


def _calendar(files: _FeedFiles) -> pd.DataFrame:
    table = files.read("calendar.txt")
    frame = _text_frame(table)
    for day in _WEEKDAYS:
        bad = ~frame[day].isin(["0", "1"]).to_numpy()
        if bad.any():
            raise table.error("weekday flag is not 0 or 1.", index=int(np.flatnonzero(bad)[0]),
                              column=day, fix="correct the value.")
    for column in ("start_date", "end_date"):
        frame[column] = parse_date(table, column, table.column(column), fmt="%Y%m%d")
    return frame


def _calendar_dates(files: _FeedFiles) -> pd.DataFrame:
    table = files.read("calendar_dates.txt")
    frame = _text_frame(table)
    frame["date"] = parse_date(table, "date", table.column("date"), fmt="%Y%m%d")
    bad = ~frame["exception_type"].isin(["1", "2"]).to_numpy()
    if bad.any():
        raise table.error("exception_type is not 1 (added) or 2 (removed).",
                          index=int(np.flatnonzero(bad)[0]), column="exception_type",
                          fix="correct the value.")
    return frame


def _frequencies(files: _FeedFiles, trips: pd.DataFrame) -> pd.DataFrame:
    table = files.read("frequencies.txt")
    frame = _text_frame(table)
    frame["trip"] = _positions(table, "trip_id", trips["trip_id"], "trips.txt", required=True)
    start, end = _seconds(table, "start_time"), _seconds(table, "end_time")
    headway = parse_float(table, "headway_secs", table.column("headway_secs"))
    for problem, column, bad in (
            ("headway_secs is not a positive number of seconds.", "headway_secs",
             ~(headway > 0)),
            ("end_time is not after start_time.", "end_time", ~(end > start))):
        if bad.any():
            raise table.error(problem, index=int(np.flatnonzero(bad)[0]), column=column,
                              fix="correct the interval.")
    frame["runs"] = np.ceil((end - start) / headway).astype("int64")
    return frame


def active_services(feed: Feed, day: dt.date) -> set[str]:
    """Service ids running on ``day`` (calendar.txt, then calendar_dates.txt exceptions)."""
    active: set[str] = set()
    stamp = pd.Timestamp(day)
    if feed.calendar is not None:
        c = feed.calendar
        running = (c[_WEEKDAYS[day.weekday()]] == "1") & (c["start_date"] <= stamp) & \
            (c["end_date"] >= stamp)
        active |= set(c.loc[running, "service_id"])
    if feed.calendar_dates is not None:
        on_day = feed.calendar_dates[feed.calendar_dates["date"] == stamp]
        active |= set(on_day.loc[on_day["exception_type"] == "1", "service_id"])
        active -= set(on_day.loc[on_day["exception_type"] == "2", "service_id"])
    return active


def _trip_runs(feed: Feed, day: dt.date) -> np.ndarray:
    """Departures of each trip (row of ``trips``) on ``day``: 0, 1 or its frequency runs."""
    running = feed.trips["service_id"].isin(active_services(feed, day)).to_numpy()
    runs = np.ones(len(feed.trips), dtype="int64")
    if feed.frequencies is not None:
        expanded = feed.frequencies.groupby("trip")["runs"].sum()
        runs[expanded.index.to_numpy()] = expanded.to_numpy()
    return np.where(running, runs, 0)


def _route_types(path, value) -> tuple[int, ...]:
    """The ``exclude_route_types`` option, checked: sorted distinct route type codes."""
    valid = (isinstance(value, (list, tuple, set, frozenset))
             and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
                     for v in value))
    if not valid:
        raise ConfigError(f"{path}: `exclude_route_types` is not a list of route_type codes "
                          "(whole numbers); fix the source card's options, e.g. "
                          "`exclude_route_types: [712, 715]`, or `[]` to count every route.")
    return tuple(sorted({int(v) for v in value}))


def _counted_trips(feed: Feed, excluded: tuple[int, ...]) -> np.ndarray:
    """Whether each trip (row of ``trips``) counts: its route type is not left out."""
    if feed.routes is None or not excluded:
        return np.ones(len(feed.trips), dtype=bool)
    types = feed.routes["route_type"].to_numpy()[feed.trips["route"].to_numpy()]
    return ~np.isin(types, excluded)


def typical_weekday(feed: Feed, *, exclude_route_types=EXCLUDED_ROUTE_TYPES) -> dt.date:
    """The Monday-to-Friday date of the feed's period with the most counted trips running.

    Trips of the route types in ``exclude_route_types`` do not count (module docstring).
    """
    counted = _counted_trips(feed, _route_types(feed.path, exclude_route_types))
    bounds = []
    if feed.calendar is not None:
        bounds += [feed.calendar["start_date"].min(), feed.calendar["end_date"].max()]
    if feed.calendar_dates is not None:
        bounds += [feed.calendar_dates["date"].min(), feed.calendar_dates["date"].max()]
    days = pd.date_range(min(bounds), max(bounds), freq="D")
    trips_per_service = feed.trips.loc[counted, "service_id"].value_counts()
    best, best_count = None, -1
    for day in (d.date() for d in days if d.weekday() < 5):
        count = int(trips_per_service.reindex(list(active_services(feed, day))).fillna(0).sum())
        if count > best_count:
            best, best_count = day, count
    if best is None:
        raise SourceError(feed.path, "the feed's calendar covers no weekday.",
                          fix="declare the day to count with `day: YYYY-MM-DD`.")
    return best


def _boarding_places(feed: Feed) -> np.ndarray:
    """Rows of ``stops`` that are output rows: stations and stand-alone stops."""
    kind = _kinds(feed.stops).to_numpy()
    own = feed.stops["station"].to_numpy() == np.arange(len(feed.stops))
    return (kind == "1") | ((kind == "0") & own)


def _as_date(path, day) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    try:
        return dt.date.fromisoformat(str(day))
    except ValueError as error:
        raise ConfigError(f"{path}: `day` is not a date written YYYY-MM-DD; fix the source "
                          "card's options.") from error


def _weights(feed: Feed, day: dt.date, excluded: tuple[int, ...]):
    """Departing stop times, their departures on ``day``, and the departures left out."""
    events = feed.stop_times[feed.stop_times["departs"].to_numpy()]
    trip = events["trip"].to_numpy()
    runs = _trip_runs(feed, day)[trip]
    counted = _counted_trips(feed, excluded)[trip]
    return events, np.where(counted, runs, 0), int(runs[~counted].sum())


def departures_per_stop(feed_path, day: dt.date | str | None = None, *,
                        working_crs="EPSG:2154",
                        exclude_route_types=EXCLUDED_ROUTE_TYPES) -> pd.DataFrame:
    """Count the departures of each station (or stand-alone stop) on a service day.

    Parameters
    ----------
    feed_path : str, Path or Feed
        GTFS zip or folder, or a feed already read with :func:`read_feed`.
    day : datetime.date or str, optional
        Service day to count (see the module docstring); default the typical weekday.
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y``.
    exclude_route_types : list of int, default ``(712, 715)``
        ``route_type`` codes of ``routes.txt`` whose trips are not counted (school and
        on-demand buses by default); empty to count every trip.

    Returns
    -------
    pandas.DataFrame
        ``stop_id``, ``stop_name``, ``departures`` (int64), ``x``, ``y``, one row per
        station or stand-alone stop; ``attrs``: ``crs``, ``day`` (ISO date),
        ``excluded_route_types`` (sorted list of the codes configured, whether or not the
        feed uses them) and ``excluded_departures`` (int: departures of that day left out).

    Raises
    ------
    SourceError
        See :func:`read_feed`.
    ConfigError
        If ``day`` is not a date or ``exclude_route_types`` not a list of whole numbers.
    """
    feed = feed_path if isinstance(feed_path, Feed) else read_feed(feed_path)
    excluded = _route_types(feed.path, exclude_route_types)
    day = (typical_weekday(feed, exclude_route_types=excluded) if day is None
           else _as_date(feed.path, day))
    events, weights, left_out = _weights(feed, day, excluded)
    station = feed.stops["station"].to_numpy()[events["stop"].to_numpy()]
    counts = np.bincount(station, weights=weights, minlength=len(feed.stops)).astype("int64")
    rows = _boarding_places(feed)
    places = feed.stops[rows].reset_index(drop=True)
    departures = counts[rows]
    to_working = transformer("EPSG:4326", str(working_crs))
    x, y = to_working.transform(places["stop_lon"].to_numpy(), places["stop_lat"].to_numpy())
    name = places["stop_name"] if "stop_name" in places else pd.Series(pd.NA, dtype="str")
    return points_frame({"stop_id": places["stop_id"], "stop_name": name,
                         "departures": departures}, x, y, working_crs, day=day.isoformat(),
                        excluded_route_types=list(excluded), excluded_departures=left_out)


@connector("gtfs")
def read_gtfs(path, *, working_crs="EPSG:2154", day: str | None = None,
              exclude_route_types=EXCLUDED_ROUTE_TYPES) -> pd.DataFrame:
    """Read a GTFS feed as departures per station on one service day.

    School buses (route_type 712) and on-demand buses (715) are left out by default and
    the departures left out reported in ``attrs`` (see the module docstring).

    Parameters
    ----------
    path : str or Path
        GTFS zip or folder.
    working_crs : str, default ``"EPSG:2154"``
        CRS of the output ``x``/``y``.
    day : str, optional
        ``YYYY-MM-DD``; default the feed's typical weekday.
    exclude_route_types : list of int, default ``[712, 715]``
        ``route_type`` codes whose trips are not counted, from the card's ``options:``
        (``exclude_route_types: [712, 713, 715]``); ``[]`` counts every trip.

    Returns
    -------
    pandas.DataFrame
        See :func:`departures_per_stop`; ``attrs["excluded_route_types"]`` and
        ``attrs["excluded_departures"]`` say what was left out.
    """
    return departures_per_stop(path, day, working_crs=working_crs,
                               exclude_route_types=exclude_route_types)
