"""What a failed run prints: the project's own message first, the library's cause after."""

from __future__ import annotations

import zipfile

import pytest
from dagster._utils.error import serializable_error_info_from_exc_info

from pipelines.errors import SourceError
from pipelines.run import root_cause


def _info(raise_it):
    try:
        raise_it()
    except Exception:
        import sys

        return serializable_error_info_from_exc_info(sys.exc_info())


def _corrupt_zip(path):
    try:
        zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SourceError(path, "not a GTFS zip archive", fix="download the feed again") from exc


def test_the_projects_message_comes_first_then_the_librarys_cause(tmp_path):
    path = tmp_path / "gtfs_bus.zip"
    path.write_bytes(b"PK\x03\x04 truncated")
    text = root_cause(_info(lambda: _corrupt_zip(path)))
    assert text.startswith(f"{path}: not a GTFS zip archive Fix: download the feed again")
    assert text.endswith("(cause: BadZipFile: File is not a zip file)")


def test_a_step_on_personal_data_gives_the_causes_class_only(tmp_path):
    def leaky():
        try:
            raise ValueError("could not convert '12 rue des Lilas' to float")
        except ValueError as exc:
            raise SourceError(tmp_path / "meters.csv", "column 'conso_kwh' is not numeric") from exc

    text = root_cause(_info(leaky), personal=True)
    assert "rue des Lilas" not in text and text.endswith("(cause: ValueError)")
    assert "column 'conso_kwh' is not numeric" in text


def test_without_a_project_error_the_innermost_is_shown():
    with pytest.raises(KeyError):
        raise KeyError("x")
    assert root_cause(_info(lambda: {}["etiquette"])) == "KeyError: 'etiquette'"
