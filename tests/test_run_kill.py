"""A whole `datacites run` SIGKILLed at every step of a publication: every published
folder is the complete old one or the complete new one, the site builder sees no
half-published folder, and the next run succeeds with outputs equal, byte for byte, to
those of a run that was never interrupted.

One demonstrator (energy_precarity, with what it reads and the site) keeps each run
short; the kill lands in its publication, the first of the run (`DATACITES_KILL_AT`, a
SIGKILL of the run's own process). "Old" is a run on the sample's DPE file, "new" a run
on the same file with every tenth dwelling removed, so that their tables differ;
each killed run starts from the old publication and its fingerprints, as a user's
`datacites run` after a new DPE file does, and reruns what reads that file.
`tests/privacy/test_publish_kill.py` kills `publish()` alone, on toy folders.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from pipelines.fingerprints import sha256_of
from pipelines.privacy.publish import KILL_ENV
from pipelines.report.comparison import published_demonstrators, site_demonstrators, territory_folders
from pipelines.report.data import find_demonstrators
from tests_support import BIN, run_cli, scratch_project

pytestmark = pytest.mark.slow

DEMO, TERRITORY = "energy_precarity", "sample"
STEPS = ("built", "audited", "set_aside", "swapped")  # every _checkpoint() of pipelines/privacy/publish.py
EPOCH = "1767225600"  # SOURCE_DATE_EPOCH: demonstrator.json is dated by it, so reruns give the same bytes
RUN = ["run", DEMO, "-q"]  # what changed since the last run that ended: the DPE file's readers


def files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`, by relative path."""
    return {str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def folders(territory: Path) -> dict[str, dict[str, str]]:
    """The visible (published) folders of a territory's outputs and their files."""
    return {p.name: files(p) for p in sorted(territory.iterdir()) if p.is_dir() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A scratch project published once on the old DPE file ("old", kept aside with the
    fingerprints of that run), then run uninterrupted on the new file ("new", the
    reference): the second run materialises what reads the DPE file, as each run below."""
    root = tmp_path_factory.mktemp("killed_run")
    env = scratch_project(root) | {"SOURCE_DATE_EPOCH": EPOCH}
    run_cli(["sample"], env, root)
    outputs, dpe = root / "outputs", root / "sources" / "sample" / "dpe_logements_existants.csv"
    run_cli(RUN, env, root)
    old = folders(outputs / TERRITORY)
    shutil.copytree(outputs, root / "outputs.old", symlinks=True)
    shutil.copy(fingerprints_file(root), root / "fingerprints.old")
    header, *rows = dpe.read_text(encoding="utf-8").splitlines(keepends=True)
    dpe.write_text(header + "".join(row for i, row in enumerate(rows) if i % 10 != 9), encoding="utf-8")
    run_cli(RUN, env, root)
    new_outputs = files(outputs)
    new = folders(outputs / TERRITORY)
    assert set(old) == set(new) == {DEMO, "site"}
    for table in (f"{DEMO}_iris.csv", f"{DEMO}_commune.csv", "demonstrator.json"):
        assert old[DEMO][table] != new[DEMO][table], f"the new DPE file does not change {table}"
    return {"root": root, "env": env, "old": old, "new": new, "new_outputs": new_outputs}


def fingerprints_file(root: Path) -> Path:
    return root / ".datacites" / "fingerprints" / f"{TERRITORY}.json"


def assert_site_builder_sees_each_demonstrator_once(territory: Path) -> None:
    shown = published_demonstrators(territory)
    assert all(not name.startswith(".") for name in shown)
    assert len(shown) == len(set(shown))
    assert [p.parent.name for p in find_demonstrators(territory)] == sorted(shown)  # no hidden folder
    assert all(not p.name.startswith(".") for p in territory_folders(territory.parent))
    assert len(site_demonstrators(territory)) == len(set(site_demonstrators(territory)))
    site = territory / "site"
    assert sorted(p.name for p in site.glob("*.html")) == [f"{DEMO}.html", "index.html"]  # one page, no hidden one
    assert f'href="{DEMO}.html"' in (site / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("step", STEPS)
def test_a_run_killed_at_each_step_of_a_publication(project, step):
    root, env, old, new = project["root"], project["env"], project["old"], project["new"]
    outputs = root / "outputs"
    territory = outputs / TERRITORY
    shutil.rmtree(outputs)
    shutil.copytree(root / "outputs.old", outputs, symlinks=True)  # what the last run published
    shutil.copy(root / "fingerprints.old", fingerprints_file(root))  # ... and what it materialised

    killed = subprocess.run([str(BIN / "datacites"), *RUN], env=env | {KILL_ENV: step}, cwd=root,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:] + killed.stderr[-3000:]

    now = folders(territory)
    for name, content in now.items():  # readers see the old publication or the new one, never a mix
        assert content in (old[name], new[name]), f"{name} is neither the old publication nor the new one"
    expected = {"built": old[DEMO], "audited": old[DEMO], "swapped": new[DEMO]}
    if step == "set_aside":  # between the two renames: the old one is set aside, whole
        assert DEMO not in now
        assert files(territory / f".{DEMO}.publish-backup") == old[DEMO]
    else:
        assert now[DEMO] == expected[step]
    staging = sorted(territory.glob(f".{DEMO}.publish-staging-*"))
    if step == "swapped":  # renamed into place; the old one still in its backup
        assert not staging and files(territory / f".{DEMO}.publish-backup") == old[DEMO]
    else:  # the new one was complete, waiting to be swapped in
        assert len(staging) == 1 and files(staging[0]) == new[DEMO]
    assert {name: content for name, content in now.items() if name != DEMO} == {
        name: content for name, content in old.items() if name != DEMO}  # the site and the others untouched
    assert_site_builder_sees_each_demonstrator_once(territory)

    # The kernel released the territory's lock with the process: the next run starts,
    # clears the leftovers and publishes what an uninterrupted run does.
    done = run_cli(RUN, env, root)
    assert "run succeeded" in done.stdout  # the killed run recorded nothing as done
    assert not [p.name for p in territory.iterdir() if p.name.startswith(".")]
    assert folders(territory) == new
    assert files(outputs) == project["new_outputs"]
    assert_site_builder_sees_each_demonstrator_once(territory)
