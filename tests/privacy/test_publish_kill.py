"""SIGKILL at every step of a publication: every folder is the old one or the new one,
the next publication succeeds and equals one that was never interrupted."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.privacy.publish import KILL_ENV, clean_leftovers, publish

SCRIPT = """
import sys
from pathlib import Path
from pipelines.privacy.publish import publish

def build(folder):
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(f"zone,value\\\\nnew,{name}\\\\n", encoding="utf-8")

publish(build, Path(sys.argv[1]), audit=lambda folder: [])
"""


def contents(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def old(target: Path) -> None:
    target.mkdir(parents=True)
    for name in ("a.csv", "c.csv"):
        (target / name).write_text(f"zone,value\nold,{name}\n", encoding="utf-8")


@pytest.mark.parametrize("step", ["built", "audited", "set_aside", "swapped"])
def test_a_publication_killed_at_each_step_leaves_old_or_new_and_recovers(tmp_path, step):
    reference = tmp_path / "reference" / "energy_precarity"
    old(reference)
    subprocess.run([sys.executable, "-c", SCRIPT, str(reference)], check=True, timeout=60)
    new_files = contents(reference)

    outputs = tmp_path / "outputs"
    target = outputs / "energy_precarity"
    old(target)
    old_files = contents(target)
    killed = subprocess.run([sys.executable, "-c", SCRIPT, str(target)], env={**os.environ, KILL_ENV: step},
                            timeout=60)
    assert killed.returncode == -signal.SIGKILL
    if target.exists():  # readers see the old publication or the new one, never a mix
        assert contents(target) in (old_files, new_files)
    else:
        assert step == "set_aside"  # between the two renames: the old one is set aside
    clean_leftovers(outputs)  # what the next run does first, holding the territory's lock
    assert contents(target) == (new_files if step == "swapped" else old_files)
    assert not [p for p in outputs.iterdir() if p.name.startswith(".")]
    subprocess.run([sys.executable, "-c", SCRIPT, str(target)], check=True, timeout=60)
    assert contents(target) == new_files
    assert not [p for p in outputs.iterdir() if p.name.startswith(".")]


def test_without_the_variable_nothing_is_killed(tmp_path):
    target = tmp_path / "t"
    result = publish(lambda folder: (folder / "x.csv").write_text("a\n"), target, audit=lambda folder: [])
    assert result.files == 1


def test_a_stale_demonstrator_set_aside_by_a_killed_site_build_is_removed(tmp_path):
    aside = tmp_path / ".old_demo.stale-0123abcd"
    aside.mkdir()
    (aside / "demonstrator.json").write_text("{}", encoding="utf-8")
    kept = tmp_path / "energy_precarity"
    kept.mkdir()
    assert clean_leftovers(tmp_path) == [aside]
    assert not aside.exists() and kept.is_dir()
