"""No step does its own I/O: while a demonstrator's function runs, opening a file fails.

A step that reads a file itself hides it from the asset graph (the lineage Dagster shows
is then false) and escapes the privacy rules: a personal file read that way would keep
the step's `aggregated` label. Every file a demonstrator needs is a source card, read by
its connector into a staged asset that the step declares as an input.
"""

from __future__ import annotations

import builtins
import io
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

import duckdb
import geopandas
import numpy
import pandas
import pyarrow
import pyarrow.csv
import pyarrow.dataset
import pyarrow.feather
import pyarrow.json
import pyarrow.parquet
import pyogrio

from pipelines.errors import ConfigError
from pipelines.spatial.engine import lock_external_access

# Module attributes that open files; patched for the duration of a step only. DuckDB's
# module-level functions use a default connection that could read any file: refused;
# a connection a step opens itself gets no access to files (see `_closed_connect`).
_OPENERS = [
    (builtins, "open"), (io, "open"), (os, "open"), (sqlite3, "connect"),
    *((pandas, name) for name in ("read_csv", "read_table", "read_excel", "read_parquet", "read_json",
                                  "read_fwf", "read_feather", "read_pickle", "read_sql", "read_orc", "read_stata",
                                  "read_sas", "read_spss", "read_hdf", "read_xml", "read_html")),
    (geopandas, "read_file"), (geopandas, "read_parquet"), (geopandas, "read_feather"),
    (pyogrio, "read_dataframe"), (pyogrio, "read_arrow"), (pyogrio, "read_info"),
    *((numpy, name) for name in ("load", "loadtxt", "genfromtxt", "fromfile", "memmap")),
    (pyarrow.csv, "read_csv"), (pyarrow.csv, "open_csv"), (pyarrow.json, "read_json"),
    (pyarrow.parquet, "read_table"), (pyarrow.parquet, "ParquetFile"), (pyarrow.parquet, "read_pandas"),
    (pyarrow.feather, "read_feather"), (pyarrow.feather, "read_table"), (pyarrow.dataset, "dataset"),
    (pyarrow, "memory_map"), (pyarrow, "OSFile"), (pyarrow, "input_stream"),
    *((duckdb, name) for name in ("sql", "query", "execute", "read_csv", "read_parquet",
                                  "read_json", "from_csv_auto", "from_parquet", "from_query", "query_df",
                                  "default_connection")),
]


def _closed_connect(original):
    def connect(*args, **kwargs):
        con = original(*args, **kwargs)
        con.execute("SET enable_external_access = false")
        return con

    return connect


@contextmanager
def no_file_access(where: str) -> Iterator[None]:
    """Make every file opening in this thread fail with a message naming `where`.

    Other threads (Dagster's own, a webserver) keep their access: the patched functions
    refuse only in the thread that entered the block.
    """
    from pipelines.report.formatting import load_texts

    load_texts("fr")  # cached: the formatting helpers of the public API read it once
    thread = threading.get_ident()
    with ExitStack() as stack:
        for owner, name in _OPENERS:
            if not hasattr(owner, name):  # not in every release of the library
                continue
            original = getattr(owner, name)
            stack.enter_context(mock.patch.object(owner, name, _refusing(original, name, where, thread)))
        stack.enter_context(mock.patch.object(duckdb, "connect", _closed_connect(duckdb.connect)))
        stack.enter_context(lock_external_access())
        yield


def _refusing(original, name: str, where: str, thread: int):
    def refuse(*args, **kwargs):
        if threading.get_ident() != thread:
            return original(*args, **kwargs)
        # The path is not shown: it may name a personal file.
        raise ConfigError(f"{where} opened a file ({name}); a step receives its data only through its "
                          "declared inputs. Fix: declare the file as a source card in sources/ and add "
                          "its staged asset (staged_<id>) to the step's inputs in defs.yaml.")

    return refuse
