"""Byte-reproducible writers: CSV, GeoPackage, ZIP and text, all written atomically.

CSV lines are assembled with Arrow compute kernels (no Python loop per row) so that
tens of millions of rows can be streamed chunk by chunk. Every value is turned into text
explicitly (see :func:`fixed`, :func:`rounded`, :func:`zero_pad`): a float never reaches
the file in a format chosen by chance.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio

# GeoPackages record the time they were written; the GPKG driver reads this instead.
FIXED_TIMESTAMP = "2024-01-01T00:00:00.000Z"
ZIP_DATE_TIME = (2024, 1, 1, 0, 0, 0)

Column = "pa.Array | pa.ChunkedArray | np.ndarray | Sequence[str]"


# --------------------------------------------------------------------------- values to text
def fixed(values: np.ndarray, decimals: int) -> pa.Array:
    """Format numbers with exactly ``decimals`` decimals (``255000.00``); NaN -> empty.

    Integer arithmetic avoids locale and exponent notation at any magnitude.

    Parameters
    ----------
    values : numpy.ndarray
        Float values, NaN for missing.
    decimals : int
        Number of decimals, 0 for an integer rendering.

    Returns
    -------
    pyarrow.Array
        Strings (nulls where the value was NaN).
    """
    values = np.asarray(values, dtype=np.float64)
    missing = ~np.isfinite(values)
    scaled = np.rint(np.where(missing, 0.0, values) * 10**decimals).astype(np.int64)
    sign = pc.if_else(pa.array(scaled < 0), "-", "")
    magnitude = np.abs(scaled)
    integer = pc.cast(pa.array(magnitude // 10**decimals), pa.string())
    if decimals:
        fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % 10**decimals), pa.string()), decimals, "0")
        text = pc.binary_join_element_wise(sign, integer, ".", fraction, "")
    else:
        text = pc.binary_join_element_wise(sign, integer, "")
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def rounded(values: np.ndarray, decimals: int) -> pa.Array:
    """Round and write the shortest text (``245.3``, ``245`` for 245.0); NaN -> empty.

    Parameters
    ----------
    values : numpy.ndarray
        Float values of magnitude below 1e9 (Arrow switches to exponents above).
    decimals : int

    Returns
    -------
    pyarrow.Array
    """
    values = np.round(np.asarray(values, dtype=np.float64), decimals)
    if np.nanmax(np.abs(values), initial=0.0) >= 1e9:
        raise ValueError("rounded() is for values below 1e9; use fixed()")
    values = np.where(values == 0, 0.0, values)  # no "-0"
    return pc.cast(pa.array(values, from_pandas=True), pa.string())


def zero_pad(values: np.ndarray, width: int) -> pa.Array:
    """Write non-negative integers left-padded with zeros (``00001``)."""
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string()), width, "0")


def take(pool: Sequence[str] | np.ndarray, index: np.ndarray) -> pa.Array:
    """Pick strings from a small pool by integer index (vectorised)."""
    return pc.take(pa.array(list(pool), pa.string()), pa.array(np.asarray(index, dtype=np.int64)))


def concat(*parts: "Column | str", sep: str = "") -> pa.Array:
    """Concatenate string columns and literals element-wise."""
    arrays = [p if isinstance(p, str) else as_text(p) for p in parts]
    return pc.binary_join_element_wise(*arrays, sep)


def as_text(values: Column) -> pa.Array:
    """Convert a column to Arrow strings; floats must be formatted explicitly first.

    Raises
    ------
    TypeError
        If ``values`` holds floats (use :func:`fixed` or :func:`rounded`).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if pa.types.is_floating(values.type):
            raise TypeError("format float columns with fixed() or rounded() before writing")
        return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    array = np.asarray(values)
    if array.dtype.kind == "f":
        raise TypeError("format float columns with fixed() or rounded() before writing")
    if array.dtype.kind == "b":
        return pc.cast(pa.array(array.astype(np.int8)), pa.string())
    if array.dtype.kind in "iu":
        return pc.cast(pa.array(array), pa.string())
    return pa.array(array.astype(object) if array.dtype.kind != "O" else array, pa.string())


# --------------------------------------------------------------------------- CSV
def _may_need_quotes(text: pa.Array, sep: str) -> bool:
    """Cheap scan of the raw bytes for the separator, quotes or line breaks."""
    buffer = text.buffers()[2]
    if buffer is None:
        return False
    data = np.frombuffer(buffer, dtype=np.uint8)
    return any(bool((data == ord(c)).any()) for c in sep + '"\n\r')


def _quote(text: pa.Array, sep: str, always: bool) -> pa.Array:
    """Quote values as RFC 4180 requires (or always), doubling inner quotes."""
    if not always and not _may_need_quotes(text, sep):
        return text
    escaped = pc.replace_substring(text, '"', '""')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    if always:
        return pc.if_else(pc.is_null(text), text, quoted)
    special = "[" + "".join("\\" + c if c in "\\^]-" else c for c in sep + '"\n\r') + "]"
    needs = pc.fill_null(pc.match_substring_regex(text, special), False)
    return pc.if_else(needs, quoted, text)


def csv_bytes(
    columns: Mapping[str, Column],
    names: Sequence[str],
    *,
    sep: str = ",",
    always_quote: Iterable[str] = (),
) -> memoryview:
    """Render rows (no header) as UTF-8 CSV bytes with LF line ends.

    Parameters
    ----------
    columns : Mapping[str, Column]
        One entry per name in ``names``, all of the same length.
    names : Sequence[str]
        Column order.
    sep : str
        Field separator.
    always_quote : Iterable[str]
        Columns whose non-empty values are always quoted (as some producers do).

    Returns
    -------
    memoryview
        The encoded rows, ready to write.
    """
    missing = [n for n in names if n not in columns]
    extra = [n for n in columns if n not in names]
    if missing or extra:
        raise KeyError(f"CSV columns mismatch: missing {missing}, unexpected {extra}")
    forced = set(always_quote)
    texts = [_quote(as_text(columns[n]), sep, n in forced) for n in names]
    lengths = {len(t) for t in texts}
    if len(lengths) != 1:
        raise ValueError(f"CSV columns have different lengths: {sorted(lengths)}")
    line = pc.binary_join_element_wise(*texts, sep, null_handling="replace", null_replacement="")
    line = pc.binary_join_element_wise(line, "", "\n").cast(pa.large_string())
    if len(line) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)[line.offset : line.offset + len(line) + 1]
    data = line.buffers()[2]
    return memoryview(data)[offsets[0] : offsets[-1]]


def _atomic_target(path: Path) -> Path:
    """Name of the temporary file written before the final rename."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(path)
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class CsvSink:
    """Stream a CSV file chunk by chunk; the file appears only when complete.

    Parameters
    ----------
    path : Path
        Final file path.
    names : Sequence[str]
        Header, in order.
    sep : str
        Field separator.
    always_quote : Iterable[str]
        Columns whose values are always quoted.

    Examples
    --------
    >>> with CsvSink(out / "a.csv", ["id"]) as sink:  # doctest: +SKIP
    ...     sink.write({"id": ["00001"]})
    """

    def __init__(self, path: Path, names: Sequence[str], *, sep: str = ",", always_quote: Iterable[str] = ()):
        self.path, self.names, self.sep = Path(path), list(names), sep
        self.always_quote = tuple(always_quote)
        self.rows = 0
        self._context = atomic_path(self.path)

    def __enter__(self) -> "CsvSink":
        self._file = open(self._context.__enter__(), "wb")
        self._file.write((self.sep.join(self.names) + "\n").encode("utf-8"))
        return self

    def write(self, columns: Mapping[str, Column]) -> None:
        """Append rows given as one array per column."""
        data = csv_bytes(columns, self.names, sep=self.sep, always_quote=self.always_quote)
        self._file.write(data)
        self.rows += len(next(iter(columns.values()))) if columns else 0

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.close()
        self._context.__exit__(exc_type, exc, tb)


def write_csv(path: Path, columns: Mapping[str, Column], *, sep: str = ",", always_quote: Iterable[str] = ()) -> int:
    """Write a whole table at once; return the number of rows."""
    with CsvSink(path, list(columns), sep=sep, always_quote=always_quote) as sink:
        sink.write(columns)
    return sink.rows


# --------------------------------------------------------------------------- other formats
@contextlib.contextmanager
def fixed_gdal_date() -> Iterator[None]:
    """Make GDAL stamp GeoPackages with a fixed date (byte-identical files)."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def write_gpkg(frame, path: Path, *, layer: str, description: str, multi: bool = False) -> None:
    """Write one GeoPackage layer with a description, reproducibly and atomically.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        With its CRS set.
    path : Path
    layer : str
        Layer name.
    description : str
        Stored in ``gpkg_contents.description`` (says the data are fictional).
    multi : bool
        Promote polygons to MultiPolygons (as IGN publishes them).
    """
    if frame.crs is None:
        raise ValueError(f"{path.name}: layer {layer} has no CRS")
    with atomic_path(Path(path)) as tmp, fixed_gdal_date():
        pyogrio.write_dataframe(
            frame, tmp, layer=layer, driver="GPKG", promote_to_multi=multi,
            layer_options={"DESCRIPTION": description}, use_arrow=True,
        )


def write_zip(path: Path, members: Iterable[tuple[str, Iterable[bytes | memoryview]]]) -> None:
    """Write a ZIP whose members are streamed chunk by chunk, with fixed timestamps."""
    with atomic_path(Path(path)) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name, chunks in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically (LF line ends)."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(text.encode("utf-8"))
