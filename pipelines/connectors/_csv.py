"""Reading a published CSV file as text, with errors that name the line.

The fast path is ``pyarrow.csv`` with every column read as a string (codes are never
guessed as numbers). When it fails, a slower line-aware pass with the ``csv`` module
finds the line and the kind of problem, because pyarrow's messages echo the offending
row, which may be personal data. Row numbers in errors are line numbers in the file:
the header is line 1, and a record spanning several lines (a quoted newline) is named
by its first line.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.connectors._sensitive import library_cause, shown_column
from pipelines.errors import SourceError

__all__ = ["CsvTable", "read_csv", "read_header", "ENCODING_FIX"]

DELIMITERS = (";", ",", "|", "\t")
ENCODING_FIX = ("declare the file's encoding in the source card's options, e.g. "
                "`encoding: latin-1` (older DGFiP and INSEE files) or `encoding: cp1252`.")
_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class Header:
    """The first line of a CSV file, decoded and split."""

    names: list[str]
    sep: str
    encoding: str
    label: str


@dataclass
class CsvTable:
    """A CSV file read as text: an Arrow table of strings and how to locate its rows."""

    path: Path
    table: pa.Table
    header: Header
    _lines: list[int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.table.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        return self.table.column(name)

    def line_of(self, index: int) -> int:
        """Return the 1-based line where data record ``index`` (0-based) starts."""
        if self._lines is None:
            self._lines = _record_lines(self.path, self.header)
        return self._lines[index] if index < len(self._lines) else index + 2

    def error(self, problem: str, *, index: int | None = None, column: str | None = None,
              fix: str | None = None) -> SourceError:
        row = None if index is None else self.line_of(index)
        return SourceError(self.header.label, problem, row=row, column=column, fix=fix)


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as error:
        raise SourceError("(source card)", f"encoding '{encoding}' is not known to Python.",
                          fix="use e.g. `encoding: utf-8`, `latin-1` or `cp1252`.") from library_cause(error)
    return "utf-8-sig" if name == "utf-8" else name


def _check_exists(path: Path, label: str) -> None:
    if not path.is_file():
        raise SourceError(label, "the file does not exist.",
                          fix="check `file:` in the source card and the territory's data folder.")


def read_header(path: str | Path, *, encoding: str = "utf-8", sep: str | None = None,
                label: str | None = None, expected: Collection[str] = ()) -> Header:
    """Read, decode and check the header line of a CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    encoding : str, default ``"utf-8"``
        Declared encoding; a UTF-8 byte-order mark is skipped.
    sep : str, optional
        Separator; when omitted, the most frequent of ``; , | tab`` in the header.
    label : str, optional
        How errors name the file (e.g. ``feed.zip/stops.txt``); default the path.
    expected : collection of str, optional
        Column names the caller expects: the only header names an error about a private
        or personal file may show (see :mod:`._sensitive`).

    Returns
    -------
    Header
        Column names (empty names become ``column_<n>``), separator and codec.

    Raises
    ------
    SourceError
        If the file is missing or empty, the header is not in the declared encoding, or
        a column name appears twice.
    """
    path = Path(path)
    label = label or str(path)
    _check_exists(path, label)
    codec = _codec(encoding)
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if not head.lstrip(codecs.BOM_UTF8).strip():
        raise SourceError(label, "the file is empty.",
                          fix="download the file again: a published file has at least a header line.")
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode(codec)
    except UnicodeDecodeError:
        raise SourceError(label, f"the header is not valid {encoding} text.", row=1,
                          fix=ENCODING_FIX) from None
    separator = sep or max(DELIMITERS, key=text.count)
    names = next(csv.reader([text], delimiter=separator))
    names = [name.strip() or f"column_{i + 1}" for i, name in enumerate(names)]
    _check_duplicates(label, names, expected)
    return Header(names, separator, codec, label)


def _check_duplicates(label: str, names: list[str], expected: Collection[str]) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise SourceError(label, f"the header names a column more than once (fields {seen[name]} and "
                              f"{position}).", row=1, column=shown_column(name, expected),
                              fix="rename or remove the duplicated column; if the file has lost its header "
                                  "line, restore it.")
        seen[name] = position


def read_csv(path: str | Path, *, columns: list[str] | None = None, encoding: str = "utf-8",
             sep: str | None = None, header: Header | None = None) -> CsvTable:
    """Read the given columns of a CSV file as strings (empty fields are null).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    columns : list of str, optional
        Header names to read (all when omitted); they must exist (check them first).
    encoding, sep
        As in :func:`read_header`.
    header : Header, optional
        An already read header, to avoid reading it twice.

    Returns
    -------
    CsvTable

    Raises
    ------
    SourceError
        If a line is not in the declared encoding, has more or fewer fields than the
        header, has a broken quote, or if the file has no data rows.
    """
    path = Path(path)
    header = header or read_header(path, encoding=encoding, sep=sep)
    read_options = pacsv.ReadOptions(column_names=header.names, skip_rows=1,
                                     encoding=_arrow_encoding(header.encoding))
    parse_options = pacsv.ParseOptions(delimiter=header.sep, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header.names},
        include_columns=columns, strings_can_be_null=True, null_values=[""])
    try:
        table = pacsv.read_csv(path, read_options, parse_options, convert_options)
    except (pa.ArrowException, UnicodeDecodeError):
        raise _locate_problem(path, header) from None
    if table.num_rows == 0:
        raise SourceError(header.label, "the file has a header but no data rows.", row=2,
                          fix="download the file again, or check the extraction filter.")
    if not _quotes_balanced(path):
        # pyarrow lets an unclosed quote swallow the rest of the file silently.
        for _ in _records(path, header):
            pass
    return CsvTable(path, table, header)


def _quotes_balanced(path: Path) -> bool:
    """Whether the file holds an even number of quote characters (a cheap full scan)."""
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b'"')
    return count % 2 == 0


def _arrow_encoding(codec: str) -> str:
    return "utf8" if codec == "utf-8-sig" else codec


def _text_lines(path: Path, header: Header):
    """Yield decoded physical lines with their number; raise on the first undecodable one."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode(header.encoding)
            except UnicodeDecodeError:
                raise SourceError(header.label, f"line is not valid {_display(header.encoding)} text.",
                                  row=number, fix=ENCODING_FIX) from None


def _display(codec: str) -> str:
    return "utf-8" if codec == "utf-8-sig" else codec


def _records(path: Path, header: Header):
    """Yield (first line, fields) for each data record, skipping blank lines."""
    reader = csv.reader(_text_lines(path, header), delimiter=header.sep, strict=True)
    previous_end = 0
    try:
        for fields in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if start == 1 or not fields:
                continue
            yield start, fields
    except csv.Error:
        raise SourceError(header.label, "a quoted value is not closed or is followed by other "
                          "characters.", row=previous_end + 1,
                          fix="repair the quotes in the file (a quote inside a quoted value "
                              "is written twice).") from None


def _record_lines(path: Path, header: Header) -> list[int]:
    try:
        return [start for start, _ in _records(path, header)]
    except SourceError:
        return []


def _locate_problem(path: Path, header: Header) -> SourceError:
    """Find the first malformed line with the csv module and describe it without values."""
    expected = len(header.names)
    try:
        for start, fields in _records(path, header):
            if len(fields) != expected:
                return SourceError(header.label, f"the line has {len(fields)} fields where the header has "
                                   f"{expected}.", row=start,
                                   fix=f"check the separator (declare `sep:`; read as '{header.sep}') "
                                       "and quotes around values that contain it.")
    except SourceError as error:
        return error
    return SourceError(header.label, "the CSV parser rejected the file (its message is withheld: "
                       "it may contain values).", fix="open the file in a text editor and check "
                       "its separator, quotes and encoding.")
