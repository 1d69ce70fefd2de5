"""Helpers for connector tests: writing small files in their real format, checking errors."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from pipelines.errors import SourceError


def _write(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = text.replace("\n", newline)
    path.write_bytes(body.encode(encoding))
    return path


@pytest.fixture
def write():
    """write(path, text, encoding=, newline=) -> path: write a file byte for byte."""
    return _write


def _check(error: BaseException, *, file: str | Path | None = None, row: int | None = None,
           column: str | None = None, contains: tuple[str, ...] = (),
           secrets: tuple[str, ...] = ()) -> str:
    assert isinstance(error, SourceError), f"expected SourceError, got {type(error).__name__}: {error}"
    message = str(error)
    if file is not None:
        assert message.startswith(str(file)), message
    if row is not None:
        assert error.row == row and f"row {row}" in message, message
    if column is not None:
        assert error.column == column and f"column '{column}'" in message, message
    for fragment in contains:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # Nothing a log could print (the message and every chained cause or context) may
    # carry a value from the file.
    printed = "".join("".join(traceback.format_exception_only(e)) for e in _chain(error))
    for secret in secrets:
        assert secret not in printed, f"value {secret!r} leaked into: {printed}"
    return message


def _chain(error: BaseException):
    while error is not None:
        yield error
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)


@pytest.fixture
def check_error():
    """check_error(error, file=, row=, column=, contains=(), secrets=()) -> message."""
    return _check
