"""No step does its own I/O: while a demonstrator's function runs, opening a file fails.

A step that reads a file itself hides it from the asset graph (the lineage Dagster shows
is then false) and escapes the privacy rules: a personal file read that way would keep
the step's `aggregated` label. Every file a demonstrator needs is a source card, read by
its connector into a staged asset that the step declares as an input.
"""

from __future__ import annotations

import builtins
import io
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

import geopandas
import pandas
import pyogrio

from pipelines.errors import ConfigError

# Module attributes that open files; patched for the duration of a step only.
_OPENERS = [
    (builtins, "open"), (io, "open"),
    *((pandas, name) for name in ("read_csv", "read_table", "read_excel", "read_parquet", "read_json",
                                  "read_fwf", "read_feather", "read_pickle", "read_sql")),
    (geopandas, "read_file"), (geopandas, "read_parquet"), (geopandas, "read_feather"),
    (pyogrio, "read_dataframe"), (pyogrio, "read_arrow"), (pyogrio, "read_info"),
]


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
            original = getattr(owner, name)
            stack.enter_context(mock.patch.object(owner, name, _refusing(original, name, where, thread)))
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
