"""Publishing: staging, audit, swap; a failed audit leaves the target byte-identical."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipelines.errors import PrivacyError
from pipelines.privacy.audit import Finding
from pipelines.privacy.publish import publish, recover

METER = "14012345678901"


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def writer(files: dict[str, str]):
    def build(folder: Path) -> None:
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
    return build


GOOD = {"index.html": "<p>Précarité énergétique</p>", "data/summary.json": '{"households": 145}'}


def test_clean_build_replaces_the_target(tmp_path):
    target = tmp_path / "outputs" / "energy"
    publish(writer({"old.html": "<p>ancienne version</p>"}), target)
    result = publish(writer(GOOD), target)
    assert result.files == 2 and digest(target).keys() == {"index.html", "data/summary.json"}
    assert sorted(p.name for p in target.parent.iterdir()) == ["energy"]   # no staging, no backup left


def test_failed_audit_publishes_nothing_and_keeps_the_target_byte_identical(tmp_path):
    target = tmp_path / "outputs" / "energy"
    publish(writer(GOOD), target)
    before = digest(target)
    leaked = GOOD | {"index.html": f"<script>var tip = 'compteur {METER}';</script>"}
    with pytest.raises(PrivacyError) as error:
        publish(writer(leaked), target)
    assert "identifier:meter_number" in str(error.value) and "unchanged" in str(error.value)
    assert METER not in str(error.value)
    assert digest(target) == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["energy"]


def test_failing_build_leaves_the_target_alone(tmp_path):
    target = tmp_path / "energy"
    publish(writer(GOOD), target)
    before = digest(target)

    def broken(folder: Path) -> None:
        (folder / "index.html").write_text("half")
        raise RuntimeError("the build failed")

    with pytest.raises(RuntimeError):
        publish(broken, target)
    assert digest(target) == before


def test_custom_audit_is_used(tmp_path):
    def strict(folder):
        return [Finding("t", "z1", "threshold", "always refused")]

    with pytest.raises(PrivacyError, match="always refused"):
        publish(writer(GOOD), tmp_path / "energy", audit=strict)
    assert not (tmp_path / "energy").exists()


def test_crash_between_the_two_renames_is_recovered(tmp_path):
    target = tmp_path / "energy"
    publish(writer(GOOD), target)
    before = digest(target)
    os.rename(target, tmp_path / ".energy.publish-backup")   # the crash: target renamed away only
    recover(target)
    assert digest(target) == before


def test_stale_backup_after_a_completed_swap_is_removed(tmp_path):
    target = tmp_path / "energy"
    publish(writer(GOOD), target)
    (tmp_path / ".energy.publish-backup").mkdir()
    publish(writer(GOOD), target)
    assert not (tmp_path / ".energy.publish-backup").exists()
