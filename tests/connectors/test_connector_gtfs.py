"""GTFS: departures per station on a service day, counted by hand on tiny feeds."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest

from pipelines.connectors import get_connector
from pipelines.connectors.gtfs import departures_per_stop, read_feed, typical_weekday
from pipelines.errors import ConfigError, SourceError

MONDAY, TUESDAY, SATURDAY = dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 9)

STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
ST,Gare,46.1600,-1.1500,1,
Q1,Gare quai 1,46.1601,-1.1501,0,ST
Q2,Gare quai 2,46.1602,-1.1502,0,ST
M,Mairie,46.1700,-1.1400,,
E,Eglise,46.1800,-1.1300,0,
"""
TRIPS = """route_id,service_id,trip_id
L1,SEM,T1
L1,SEM,T2
L1,WE,T3
L2,SEM,TF
L2,NUIT,TN
"""
# T1: Q1 -> M -> E. T2: E -> Q2 (pickup_type 1 at E? no: Q2 is the terminus).
# T3 (weekend): Q1 -> M. TF: M -> E every 30 min 07:00-09:00 (4 runs).
# TN: Monday night bus leaving E at 24:30 (00:30 on Tuesday) -> Q1.
STOP_TIMES = """trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type
T1,07:00:00,07:00:00,Q1,1,
T1,07:10:00,07:10:00,M,2,0
T1,07:20:00,07:20:00,E,3,
T2,08:00:00,08:00:00,E,1,
T2,08:05:00,08:05:00,M,2,1
T2,08:10:00,08:10:00,Q2,3,
T3,09:00:00,09:00:00,Q1,1,
T3,09:10:00,09:10:00,M,2,
TF,00:00:00,00:00:00,M,1,
TF,00:05:00,00:05:00,E,2,
TN,24:30:00,24:30:00,E,1,
TN,24:45:00,24:45:00,Q1,2,
"""
CALENDAR = """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
SEM,1,1,1,1,1,0,0,20240101,20241231
WE,0,0,0,0,0,1,1,20240101,20241231
NUIT,1,0,0,0,0,0,0,20240101,20241231
"""
FREQUENCIES = """trip_id,start_time,end_time,headway_secs,exact_times
TF,07:00:00,09:00:00,1800,1
"""


def feed_files(**changes):
    files = {"agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                           "A,Réseau fictif,https://example.org,Europe/Paris\n",
             "stops.txt": STOPS, "routes.txt": "route_id,route_type\nL1,3\nL2,3\n",
             "trips.txt": TRIPS, "stop_times.txt": STOP_TIMES, "calendar.txt": CALENDAR,
             "frequencies.txt": FREQUENCIES}
    files.update(changes)
    return {name: text for name, text in files.items() if text is not None}


def as_folder(tmp_path, files):
    folder = tmp_path / "feed"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def as_zip(tmp_path, files, prefix=""):
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(prefix + name, text)
    return path


def counts(frame):
    return dict(zip(frame["stop_id"], frame["departures"], strict=False))


def test_monday_counts_by_hand(tmp_path):
    frame = departures_per_stop(as_folder(tmp_path, feed_files()), MONDAY)
    # Gare: T1 at Q1 (1). Mairie: T1 (1) + TF runs (4); T2 has no pickup there.
    # Eglise: T2 (1) + night bus TN at 24:30 of Monday's service (1).
    assert counts(frame) == {"ST": 1, "M": 5, "E": 2}
    assert list(frame.columns) == ["stop_id", "stop_name", "departures", "x", "y"]
    assert frame.set_index("stop_id").loc["ST", "stop_name"] == "Gare"
    assert frame.attrs["day"] == "2024-03-04" and frame.attrs["crs"] == "EPSG:2154"


def test_the_night_bus_counts_for_its_service_day_not_the_calendar_day(tmp_path):
    frame = departures_per_stop(as_folder(tmp_path, feed_files()), TUESDAY)
    assert counts(frame) == {"ST": 1, "M": 5, "E": 1}  # TN belongs to Monday


def test_weekend_and_stations_have_their_parent_position(tmp_path):
    frame = departures_per_stop(as_zip(tmp_path, feed_files()), SATURDAY, working_crs="EPSG:4326")
    assert counts(frame) == {"ST": 1, "M": 0, "E": 0}
    station = frame.set_index("stop_id").loc["ST"]
    assert (station["x"], station["y"]) == pytest.approx((-1.15, 46.16))


def test_zip_with_a_folder_inside_and_connector_day_option(tmp_path):
    path = as_zip(tmp_path, feed_files(), prefix="gtfs_bus/")
    frame = get_connector("gtfs")(path, working_crs="EPSG:2154", day="2024-03-04")
    assert counts(frame) == {"ST": 1, "M": 5, "E": 2}


def test_calendar_dates_only_feed_with_exceptions(tmp_path):
    dates = ("service_id,date,exception_type\nSEM,20240304,1\nSEM,20240305,1\n"
             "NUIT,20240304,1\nSEM,20240306,2\nWE,20240309,1\n")
    files = feed_files(**{"calendar.txt": None, "calendar_dates.txt": dates})
    folder = as_folder(tmp_path, files)
    assert counts(departures_per_stop(folder, MONDAY)) == {"ST": 1, "M": 5, "E": 2}
    assert counts(departures_per_stop(folder, dt.date(2024, 3, 6))) == {"ST": 0, "M": 0, "E": 0}


def test_removed_day_in_calendar_dates_overrides_calendar(tmp_path):
    files = feed_files(**{"calendar_dates.txt": "service_id,date,exception_type\nSEM,20240304,2\n"})
    assert counts(departures_per_stop(as_folder(tmp_path, files), MONDAY)) == {"ST": 0, "M": 0, "E": 1}


def test_frequency_based_trips_and_no_frequencies_file(tmp_path):
    files = feed_files(**{"frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
                                             "TF,06:00:00,06:50:00,600,0\nTF,22:00:00,25:00:00,3600,\n"})
    # 06:00-06:50 every 10 min: 5 runs; 22:00-25:00 hourly: 3 runs.
    assert counts(departures_per_stop(as_folder(tmp_path, files), MONDAY))["M"] == 1 + 8
    without = feed_files(**{"frequencies.txt": None})
    assert counts(departures_per_stop(as_zip(tmp_path, without), MONDAY))["M"] == 2


def test_typical_weekday_is_the_busiest_weekday(tmp_path):
    dates = "service_id,date,exception_type\nSEM,20240101,2\nNUIT,20240101,2\n"
    feed = read_feed(as_folder(tmp_path, feed_files(**{"calendar_dates.txt": dates})))
    # New Year's Day 2024 is a Monday with its services removed; the 8th has the night bus.
    assert typical_weekday(feed) == dt.date(2024, 1, 8)
    assert departures_per_stop(feed).attrs["day"] == "2024-01-08"


def test_stop_times_referring_to_an_unknown_trip(tmp_path, check_error):
    files = feed_files(**{"stop_times.txt": STOP_TIMES + "T9,10:00:00,10:00:00,M,1,\n"})
    path = as_zip(tmp_path, files)
    with pytest.raises(SourceError) as excinfo:
        read_feed(path)
    check_error(excinfo.value, file=f"{path}/stop_times.txt", row=14, column="trip_id",
                contains=("refers to an id that trips.txt does not define",))


@pytest.mark.parametrize("changes, file, row, column, fragment", [
    ({"stop_times.txt": STOP_TIMES.replace("T1,07:10:00,07:10:00,M", "T1,07:10:00,07:10:00,X")},
     "stop_times.txt", 3, "stop_id", "stops.txt does not define"),
    ({"stop_times.txt": STOP_TIMES.replace("08:05:00,08:05:00", "8h05,8h05")},
     "stop_times.txt", 6, "departure_time", "H:MM:SS"),
    ({"trips.txt": TRIPS + "L1,FERIE,T4\n"}, "trips.txt", 7, "service_id",
     "calendar.txt or calendar_dates.txt"),
    ({"stops.txt": STOPS.replace(",ST\n", ",XX\n", 1)}, "stops.txt", 3, "parent_station",
     "stops.txt does not define"),
    ({"stops.txt": STOPS.replace("46.1700,-1.1400", ",")}, "stops.txt", 5, "stop_lon",
     "no position"),
    ({"frequencies.txt": "trip_id,start_time,end_time,headway_secs\nTF,09:00:00,07:00:00,600\n"},
     "frequencies.txt", 2, "end_time", "not after start_time"),
    ({"trips.txt": TRIPS + "L1,SEM,T1\n"}, "trips.txt", 7, "trip_id", "defined twice"),
    ({"stop_times.txt": STOP_TIMES + ",10:00:00,10:00:00,M,1,\n"}, "stop_times.txt", 14,
     "trip_id", "required id is empty"),
    ({"trips.txt": TRIPS + "L9,SEM,T9\n"}, "trips.txt", 7, "route_id",
     "refers to an id that routes.txt does not define"),
    ({"trips.txt": TRIPS + ",SEM,T9\n"}, "trips.txt", 7, "route_id", "required id is empty"),
    ({"trips.txt": "service_id,trip_id\nSEM,T1\n"}, "trips.txt", 1, "route_id",
     "required column is missing"),
    ({"routes.txt": "route_id,route_type\nL1,3\nL2,3\nL1,712\n"}, "routes.txt", 4,
     "route_id", "defined twice"),
    ({"routes.txt": "route_id,route_type\nL1,3\nL2,\n"}, "routes.txt", 3, "route_type",
     "route_type is empty"),
    ({"routes.txt": "route_id\nL1\nL2\n"}, "routes.txt", 1, "route_type",
     "required column is missing"),
])
def test_malformed_feeds_name_file_row_and_column(tmp_path, check_error, changes, file, row,
                                                  column, fragment):
    path = as_folder(tmp_path, feed_files(**changes))
    with pytest.raises(SourceError) as excinfo:
        read_feed(path)
    check_error(excinfo.value, file=f"{path}/{file}", row=row, column=column, contains=(fragment,))


def test_missing_files_and_calendars(tmp_path, check_error):
    with pytest.raises(SourceError) as excinfo:
        read_feed(as_folder(tmp_path, feed_files(**{"stop_times.txt": None})))
    check_error(excinfo.value, contains=("stop_times.txt", "required file"))
    (tmp_path / "feed").rename(tmp_path / "old")
    with pytest.raises(SourceError) as excinfo:
        read_feed(as_folder(tmp_path, feed_files(**{"calendar.txt": None})))
    check_error(excinfo.value, contains=("neither calendar.txt nor calendar_dates.txt",))
    not_zip = tmp_path / "feed.zip"
    not_zip.write_text("hello")
    with pytest.raises(SourceError) as excinfo:
        read_feed(not_zip)
    check_error(excinfo.value, contains=("not a zip archive",))


# --- route types left out: school (712), on-demand (715); 713 counts by default ----------

SPECIAL_ROUTES = "route_id,route_type\nL1,3\nL2,3\nSCO,712\nTAD,715\nSP,713\n"
SPECIAL_TRIPS = TRIPS + "SCO,SEM,TS\nTAD,SEM,TD\nSP,SEM,TP\n"
# TS (school): Q2 -> M -> E, leaves Gare and Mairie (2). TD (on demand): E -> M bookable
# every 20 min 10:00-11:00, 3 runs from Eglise (3). TP (713): M -> Q1, leaves Mairie (1).
SPECIAL_STOP_TIMES = STOP_TIMES + """TS,07:30:00,07:30:00,Q2,1,
TS,07:40:00,07:40:00,M,2,
TS,07:50:00,07:50:00,E,3,
TD,00:00:00,00:00:00,E,1,
TD,00:10:00,00:10:00,M,2,
TP,16:30:00,16:30:00,M,1,
TP,16:40:00,16:40:00,Q1,2,
"""
SPECIAL_FREQUENCIES = FREQUENCIES + "TD,10:00:00,11:00:00,1200,0\n"


def special_files(**changes):
    return feed_files(**{"routes.txt": SPECIAL_ROUTES, "trips.txt": SPECIAL_TRIPS,
                         "stop_times.txt": SPECIAL_STOP_TIMES,
                         "frequencies.txt": SPECIAL_FREQUENCIES, **changes})


def test_school_and_on_demand_routes_are_left_out_by_default(tmp_path):
    frame = departures_per_stop(as_folder(tmp_path, special_files()), MONDAY)
    # The regular Monday {"ST": 1, "M": 5, "E": 2} plus TP (713, open to all) at Mairie.
    assert counts(frame) == {"ST": 1, "M": 6, "E": 2}
    assert frame.attrs["excluded_route_types"] == [712, 715]
    assert frame.attrs["excluded_departures"] == 2 + 3  # TS twice, TD's 3 runs
    assert type(frame.attrs["excluded_departures"]) is int
    assert all(type(code) is int for code in frame.attrs["excluded_route_types"])
    json.dumps(frame.attrs)  # stored in Parquet metadata


def test_an_empty_list_counts_every_route(tmp_path):
    frame = departures_per_stop(as_folder(tmp_path, special_files()), MONDAY,
                                exclude_route_types=[])
    assert counts(frame) == {"ST": 1 + 1, "M": 5 + 1 + 1, "E": 2 + 3}
    assert frame.attrs["excluded_route_types"] == [] and frame.attrs["excluded_departures"] == 0


def test_a_custom_list_through_the_connector_option(tmp_path):
    path = as_zip(tmp_path, special_files())
    frame = get_connector("gtfs")(path, working_crs="EPSG:2154", day="2024-03-04",
                                  exclude_route_types=[715, 713, 715])
    # TS (712) now counts at Gare and Mairie; TD and TP are left out.
    assert counts(frame) == {"ST": 2, "M": 6, "E": 2}
    assert frame.attrs["excluded_route_types"] == [713, 715]
    assert frame.attrs["excluded_departures"] == 3 + 1


def test_left_out_departures_follow_the_service_day(tmp_path):
    frame = departures_per_stop(as_folder(tmp_path, special_files()), SATURDAY)
    assert counts(frame) == {"ST": 1, "M": 0, "E": 0}
    assert frame.attrs["excluded_departures"] == 0  # TS and TD run on weekdays only


def test_a_feed_without_routes_txt_keeps_every_trip(tmp_path):
    frame = departures_per_stop(as_folder(tmp_path, special_files(**{"routes.txt": None})),
                                MONDAY)
    assert counts(frame) == {"ST": 2, "M": 7, "E": 5}
    assert frame.attrs["excluded_route_types"] == [712, 715]
    assert frame.attrs["excluded_departures"] == 0
    (tmp_path / "feed").rename(tmp_path / "special")
    plain = departures_per_stop(as_folder(tmp_path, feed_files(**{"routes.txt": None})), MONDAY)
    assert counts(plain) == {"ST": 1, "M": 5, "E": 2}


def test_school_trips_do_not_choose_the_typical_weekday(tmp_path):
    # Monday 1 January has 4 regular trips (T1, T2, TF, TN), Tuesday 2 January 3; a
    # school service running only on the 2nd adds TS and TS2, which would make it 5.
    dates = "service_id,date,exception_type\nECOLE,20240102,1\n"
    trips = TRIPS + "SCO,ECOLE,TS\nSCO,ECOLE,TS2\n"
    stop_times = STOP_TIMES + "TS,07:30:00,07:30:00,Q2,1,\nTS,07:40:00,07:40:00,M,2,\n" \
                              "TS2,16:30:00,16:30:00,M,1,\nTS2,16:40:00,16:40:00,Q2,2,\n"
    feed = read_feed(as_folder(tmp_path, special_files(**{
        "trips.txt": trips, "stop_times.txt": stop_times, "frequencies.txt": FREQUENCIES,
        "calendar_dates.txt": dates})))
    assert typical_weekday(feed) == dt.date(2024, 1, 1)
    assert typical_weekday(feed, exclude_route_types=[]) == dt.date(2024, 1, 2)
    frame = departures_per_stop(feed)
    assert frame.attrs["day"] == "2024-01-01" and frame.attrs["excluded_departures"] == 0
    everything = departures_per_stop(feed, exclude_route_types=[])
    assert everything.attrs["day"] == "2024-01-02" and counts(everything)["ST"] == 1 + 1


@pytest.mark.parametrize("route_type", ["autocar", "3.0", "-3", "3 bis"])
def test_a_route_type_that_is_not_a_whole_number(tmp_path, check_error, route_type):
    routes = f"route_id,route_type\nL1,3\nL2,{route_type}\n"
    path = as_folder(tmp_path, feed_files(**{"routes.txt": routes}))
    with pytest.raises(SourceError) as excinfo:
        read_feed(path)
    check_error(excinfo.value, file=f"{path}/routes.txt", row=3, column="route_type",
                contains=("not a route type code", "Fix:"), secrets=(route_type,))


@pytest.mark.parametrize("option", ["712", 712, [712, "715"], [True], [-1], None])
def test_exclude_route_types_must_be_a_list_of_codes(tmp_path, option):
    path = as_folder(tmp_path, special_files())
    with pytest.raises(ConfigError, match="exclude_route_types"):
        get_connector("gtfs")(path, working_crs="EPSG:2154", exclude_route_types=option)
