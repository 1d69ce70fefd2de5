"""No personal or private value in any message, log line or Dagster's storage.

The sample's personal files (smart-meter readings, the travel survey's persons and trips)
and private ones (an operator's consumption per building, car-sharing trips) are
corrupted in the ways real deliveries break: header line lost, columns swapped, file cut,
latin-1 bytes, wrong separator, open quote, text in a number, extra field, empty file,
binary garbage, repeated header... Each corruption is read by the asset that reads that
file (the anonymiser or the staged asset), in one child process that runs them all (the
framework's configuration is read at import, from the scratch project's environment),
each in an in-memory Dagster instance whose run and events are then written out as
Dagster serialises them into its SQLite storage. What it printed (the console logger at
DEBUG), its failures and that storage are searched for every identifier, address and
coordinate of the files, as printed in them. Two `datacites run` of the command line
cover the rest as a user meets it: the console, the SQLite run and event databases (raw
bytes and SQL dumps), compute logs, and outputs/.

Each run must fail with a message naming the file, the line or column where there is one,
a column only by a name the card or connector expects, and a fix.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

METER, PERSONS, TRIPS = "smart_meter_readings.csv", "travel_survey_persons.csv", "travel_survey_trips.csv"
OPERATOR, CARSHARING = "operator_consumption.csv", "carsharing_trips.csv"
# The asset that reads each file, and the assets it needs upstream.
READER = {METER: "anonymised_smart_meter", PERSONS: "anonymised_travel_survey",
          TRIPS: "anonymised_travel_survey", OPERATOR: "staged_operator_consumption",
          CARSHARING: "staged_carsharing_trips"}
UPSTREAM = ["staged_iris", "staged_communes"]
# Columns whose values identify or locate a person, a building or a business.
SECRET_COLUMNS = {METER: ("numero_compteur", "adresse", "x_l93", "y_l93"),
                  PERSONS: ("id_personne", "id_menage", "x_domicile_l93", "y_domicile_l93"),
                  TRIPS: ("id_personne",),
                  OPERATOR: ("id_batiment", "x_l93", "y_l93"),
                  CARSHARING: ("station_id", "station_name", "x_l93", "y_l93")}


# --- corruptions: bytes of the file as published -> bytes delivered ---------------------

def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def _edit_line(number: int, edit: Callable[[list[bytes]], list[bytes]]) -> Callable[[bytes], bytes]:
    """Change the fields of line `number` (1-based, the header is line 1)."""
    def corrupt(data: bytes) -> bytes:
        lines = _lines(data)
        lines[number - 1] = b",".join(edit(lines[number - 1].split(b",")))
        return _join(lines)
    return corrupt


def _set(position: int, value: bytes) -> Callable[[list[bytes]], list[bytes]]:
    return lambda fields: [*fields[:position], value, *fields[position + 1:]]


def _header_removed(data: bytes) -> bytes:
    return _join(_lines(data)[1:])


def _swapped(first: int, second: int) -> Callable[[list[bytes]], list[bytes]]:
    def swap(fields: list[bytes]) -> list[bytes]:
        fields = list(fields)
        fields[first], fields[second] = fields[second], fields[first]
        return fields
    return swap


def _truncated(data: bytes) -> bytes:
    """Cut in the middle of a record's second field, as an interrupted download does."""
    lines = _lines(data)
    cut = len(lines) // 2
    return _join(lines[:cut] + [lines[cut][:lines[cut].index(b",") + 5]])


def _separator(data: bytes) -> bytes:
    return data.replace(b",", b";")


def _garbage(data: bytes) -> bytes:
    middle = data.index(b"\n", len(data) // 2) + 1
    return data[:middle] + bytes(range(256)) * 3 + data[middle:]


def _header_repeated(data: bytes) -> bytes:
    lines = _lines(data)
    return _join(lines[:600] + [lines[0]] + lines[600:])


def _header_only(data: bytes) -> bytes:
    return _lines(data)[0] + b"\n"


def _column_twice(data: bytes) -> bytes:
    lines = _lines(data)
    lines[0] = lines[0].replace(b"mois", b"numero_compteur")
    return _join(lines)


@dataclass(frozen=True)
class Case:
    """One corrupted file, and what its error must name besides the file and a fix."""

    name: str
    file: str
    corrupt: Callable[[bytes], bytes]
    row: bool = True
    column: bool = False


CASES = [
    Case("meter_header_removed", METER, _header_removed, column=True),
    Case("meter_columns_swapped", METER, _edit_line(50, _swapped(1, 2)), column=True),
    Case("meter_truncated", METER, _truncated),
    Case("meter_latin1_bytes", METER, _edit_line(100, _set(1, "64 allée du Parc".encode("latin-1")))),
    Case("meter_wrong_separator", METER, _separator, column=True),
    Case("meter_open_quote", METER, _edit_line(200, lambda f: [f[0], b'"' + f[1], *f[2:]])),
    Case("meter_text_consumption", METER, _edit_line(300, _set(5, b"mille")), column=True),
    Case("meter_decimal_comma", METER, _edit_line(310, _set(5, b'"1019,5"')), column=True),
    Case("meter_extra_column", METER, _edit_line(400, lambda f: [*f, b"en trop"])),
    Case("meter_empty_file", METER, lambda data: b"", row=False),
    Case("meter_header_only", METER, _header_only),
    Case("meter_binary_garbage", METER, _garbage),
    Case("meter_header_repeated", METER, _header_repeated, column=True),
    Case("meter_column_named_twice", METER, _column_twice, column=True),
    Case("meter_outside_area", METER, _edit_line(800, _set(2, b"99999999.5")), column=True),
    Case("persons_header_removed", PERSONS, _header_removed, column=True),
    Case("persons_columns_swapped", PERSONS, _edit_line(20, _swapped(1, 2)), column=True),
    Case("persons_person_twice", PERSONS, lambda d: d + _lines(d)[1] + b"\n", column=True),
    Case("trips_header_removed", TRIPS, _header_removed, column=True),
    Case("trips_open_quote", TRIPS, _edit_line(30, lambda f: [f[0], b'"' + f[1], *f[2:]])),
    Case("operator_header_removed", OPERATOR, _header_removed),
    Case("operator_text_count", OPERATOR, _edit_line(40, _set(6, b"beaucoup")), column=True),
    Case("carsharing_header_removed", CARSHARING, _header_removed, column=True),
    Case("carsharing_bad_month", CARSHARING, _edit_line(12, _set(4, b"2023-13")), column=True),
]


# --- the child process: every corruption read in its own Dagster instance ---------------

def _drive(root: Path) -> None:
    """Read each corrupted file with its asset; write what was printed and the failures."""
    import dagster as dg
    from dagster_shared.serdes import serialize_value

    from pipelines.assets.build import build_definitions
    from pipelines.run import root_cause

    data = root / "sources" / "sample"
    originals = {name: (data / name).read_bytes() for name in READER}
    job = build_definitions().resolve_job_def("all_demonstrators")
    config = {"loggers": {"console": {"config": {"log_level": "DEBUG"}}, "progress": {}}}
    # The zones every reader needs, once, in the store; each case then runs its reader only.
    with dg.DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance, partition_key="sample", run_config=config,
                                      asset_selection=[dg.AssetKey(k) for k in UPSTREAM]).success
    for case in CASES:
        for name, content in originals.items():
            (data / name).write_bytes(case.corrupt(content) if name == case.file else content)
        (folder := case_folder(root, case.name)).mkdir(parents=True)
        # In memory, then written as Dagster's SQLite storage would hold it (its serialised
        # run and events): a SQLite instance per case costs a second of writes.
        with _captured(folder), dg.DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=False, partition_key="sample",
                                            asset_selection=[dg.AssetKey(READER[case.file])], run_config=config)
            # The command line's own wording, with the library's cause text where it has one.
            failures = [[e.step_key, root_cause(e.step_failure_data.error, personal=False)]
                        for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            print("\n".join(f"FAILED {step}: {text}" for step, text in failures))
            stored = [instance.get_run_by_id(result.run_id), *instance.all_logs(result.run_id)]
            (folder / "storage.jsonl").write_text("\n".join(map(serialize_value, stored)), encoding="utf-8")
        (folder / "failures.json").write_text(json.dumps(failures), encoding="utf-8")
    for name, content in originals.items():
        (data / name).write_bytes(content)


class _captured:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to files."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self):
        sys.stdout.flush(), sys.stderr.flush()
        self.saved = os.dup(1), os.dup(2)
        for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
            with open(self.folder / name, "wb") as handle:
                os.dup2(handle.fileno(), fd)

    def __exit__(self, *exc):
        sys.stdout.flush(), sys.stderr.flush()
        for fd, saved in zip((1, 2), self.saved, strict=True):
            os.dup2(saved, fd)
            os.close(saved)


def case_folder(root: Path, name: str) -> Path:
    return root / ".datacites" / "corrupted" / name


# --- searching for values -----------------------------------------------------------------

_ESCAPES = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[nrtbf\"'\\/])")
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:\.[0-9]+)*")


@dataclass
class Secrets:
    """The values of a file that must never be shown: single tokens (identifiers,
    coordinates as printed) and phrases (addresses, names)."""

    tokens: dict[str, str]
    phrases: dict[str, str]

    def found_in(self, text: str) -> list[str]:
        text = _ESCAPES.sub(" ", text)  # JSON and repr escapes would glue a value to a letter
        present = set(_TOKEN.findall(text))
        hits = {f"{self.tokens[t]}: {t}" for t in present & self.tokens.keys()}
        # A phrase is searched for only where each of its words occurs somewhere.
        hits |= {f"{where}: {p}" for p, where in self.phrases.items()
                 if present.issuperset(_TOKEN.findall(p)) and p in text}
        return sorted(hits)


def file_secrets(data: Path) -> Secrets:
    """Every identifier, address and coordinate of the sample's private and personal files."""
    tokens, phrases = {}, {}
    for name, columns in SECRET_COLUMNS.items():
        with (data / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for column in columns:
                    value = row[column].strip()
                    target = phrases if " " in value else tokens
                    target.setdefault(value, f"{name} {column}")
    assert len(tokens) > 10_000 and len(phrases) > 1_000, "the sample's files changed shape"
    return Secrets(tokens, phrases)


def stored_text(folder: Path) -> str:
    """Every file under `folder`, as bytes decoded leniently, plus SQL dumps of the SQLite
    databases (a long event can span pages, which splits it in the raw bytes)."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        parts.append(raw.decode("utf-8", errors="replace"))
        if raw.startswith(b"SQLite format 3"):
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                parts.extend(db.iterdump())
    return "\n".join(parts)


# --- the tests ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A scratch project with the sample generated; the secrets of its sensitive files."""
    from tests_support import run_cli, scratch_project

    root = tmp_path_factory.mktemp("leaks")
    env = scratch_project(root)
    run_cli(["sample"], env, root)
    data = root / "sources" / "sample"
    headers = {name: set((data / name).read_text(encoding="utf-8").split("\n", 1)[0].split(",")) for name in READER}
    return {"root": root, "env": env, "secrets": file_secrets(data), "headers": headers}


@pytest.fixture(scope="module")
def corrupted(project):
    """Every corruption read once (one child process for all); its folder per case."""
    root = project["root"]
    done = subprocess.run([sys.executable, __file__, str(root)], env=project["env"], cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"driver failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return {case.name: case_folder(root, case.name) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_corrupted_file_fails_with_a_message_and_no_value(case, project, corrupted):
    folder = corrupted[case.name]
    failures = dict(json.loads((folder / "failures.json").read_text(encoding="utf-8")))
    assert list(failures) == [READER[case.file]], failures
    message = failures[READER[case.file]]
    assert case.file in message and "Fix:" in message, message
    if case.row:
        assert re.search(r", row \d+", message), message
    if case.column:
        assert ", column '" in message, message
    # A column is named only by a name the card or the connector expects, never by a field
    # of a line taken for the header.
    named = re.findall(r"column '([^']*)'", message)
    assert set(named) <= project["headers"][case.file], message
    assert "(cause:" not in message, message  # no library text, not even in the chain
    leaks = project["secrets"].found_in(stored_text(folder))
    assert not leaks, f"{message}\nvalues shown or stored: {leaks[:10]}"


CLI_RUNS = [("energy_precarity", (METER, OPERATOR)), ("mobility_access", (PERSONS, CARSHARING))]


@pytest.mark.parametrize(("demonstrator", "files"), CLI_RUNS, ids=[d for d, _ in CLI_RUNS])
def test_command_line_run_on_headerless_files_shows_and_stores_no_value(demonstrator, files, project, corrupted):
    """`datacites run` as a user types it: its console, Dagster's SQLite storage and compute
    logs in the project's home, and outputs/."""
    root, data = project["root"], project["root"] / "sources" / "sample"
    originals = {name: (data / name).read_bytes() for name in files}
    try:
        for name, content in originals.items():
            (data / name).write_bytes(_header_removed(content))
        done = subprocess.run([str(Path(sys.executable).parent / "datacites"), "run", demonstrator,
                               "--territory", "sample"], env=project["env"], cwd=root,
                              capture_output=True, text=True, timeout=600)
    finally:
        for name, content in originals.items():
            (data / name).write_bytes(content)
    console = done.stdout + done.stderr
    assert done.returncode != 0, console
    for name in files:
        failed = [line for line in console.splitlines() if line.startswith(f"FAILED {READER[name]}:")]
        assert failed and name in failed[0] and "Fix:" in failed[0], console
    stored = "\n".join(stored_text(root / folder) for folder in (".datacites/dagster", "outputs"))
    leaks = project["secrets"].found_in(console + stored)
    assert not leaks, f"{console[-2000:]}\nvalues shown or stored: {leaks[:10]}"


# --- read_source: nothing a library raised is chained to what Dagster stores -------------

VALUE = "04263918226541"


def _library_failure(path, **options):
    raise ValueError(f"could not convert string to float: '{VALUE}'")


def _failure_in_except(path, **options):
    from pipelines.errors import SourceError

    try:
        _library_failure(path)
    except ValueError:
        raise SourceError(path, "value is not a number.", row=2, column="conso_kwh", fix="correct it.")  # noqa: B904


@pytest.mark.parametrize("reader", [_library_failure, _failure_in_except], ids=["library", "chained"])
@pytest.mark.parametrize("sensitivity", ["personal", "private", "public"])
def test_read_source_stores_no_library_text_for_sensitive_files(reader, sensitivity, monkeypatch):
    """What Dagster serialises of a failed read (message, cause, context) holds no value of
    a private or personal file; a public file keeps the library's cause."""
    from dagster._utils.error import serializable_error_info_from_exc_info

    from pipelines.assets import sources
    from pipelines.catalogue import load_sources, load_territory
    from pipelines.errors import SourceError

    card = load_sources()["smart_meter"].model_copy(update={"sensitivity": sensitivity})
    monkeypatch.setattr(sources, "get_connector", lambda name: reader)
    with pytest.raises(Exception) as excinfo:
        sources.read_source(card, load_territory("sample"))
    stored = serializable_error_info_from_exc_info((excinfo.type, excinfo.value, excinfo.tb))
    if sensitivity == "public":
        assert VALUE in stored.to_string()
        return
    assert excinfo.type is SourceError and card.file in str(excinfo.value) and "Fix:" in str(excinfo.value)
    assert stored.cause is None and stored.context is None
    assert VALUE not in stored.to_string()


if __name__ == "__main__":
    _drive(Path(sys.argv[1]))
