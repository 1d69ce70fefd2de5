"""What a run shows as it goes: each asset as it materialises, and the time it took.

Dagster hands every event of a run to the job's loggers; the `progress` logger passes
them to the listener the command line installs (a Rich display on a terminal, one line
per asset otherwise). Nothing is shown when no listener is set (the UI, the tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

Listener = Callable[["StepEvent"], None]
_listener: Listener | None = None


@dataclass(frozen=True)
class StepEvent:
    """One step of a run: started, done (with its duration) or failed."""

    kind: str  # "start", "done", "failed", "check_failed"
    step: str
    seconds: float | None = None
    partition: str | None = None


def set_listener(listener: Listener | None) -> None:
    """Install (or remove, with None) the function that receives every step event."""
    global _listener
    _listener = listener


class _Handler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        listener = _listener
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if listener is None or event is None or not event.step_key:
            return
        kind = event.event_type_value
        step, partition = event.step_key, (event.partition if hasattr(event, "partition") else None)
        if kind == "STEP_START":
            self.started[step] = record.created
            listener(StepEvent("start", step, partition=partition))
        elif kind == "STEP_SUCCESS":
            start = self.started.pop(step, None)
            listener(StepEvent("done", step, record.created - start if start else None, partition))
        elif kind == "STEP_FAILURE":
            start = self.started.pop(step, None)
            listener(StepEvent("failed", step, record.created - start if start else None, partition))


@dg.logger(description="Passes each step's start, success and failure to the command line's display.")
def progress_logger(init_context) -> logging.Logger:
    log = logging.Logger("datacites.progress", level=logging.DEBUG)
    log.addHandler(_Handler())
    return log
