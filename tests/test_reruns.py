"""Reruns redo only what changed: nothing when nothing changed, the descendants of one
file when that file changed."""

from __future__ import annotations

import shutil

import pytest

from tests_support import run_cli

pytestmark = pytest.mark.slow
CARD = """id: rerun_town
name: Fictiville, relancée (territoire fictif)
fictional: true
data_dir: rerun_town
"""


def done_steps(stdout: str) -> set[str]:
    return {line.split()[1] for line in stdout.splitlines() if line.startswith("done ")}


def test_a_rerun_with_nothing_changed_materialises_nothing_and_one_file_reruns_its_descendants(sample_project):
    root, env = sample_project["root"], sample_project["env"]
    folder = root / "sources" / "rerun_town"
    folder.mkdir()
    for path in (root / "sources" / "sample").iterdir():
        if path.is_file() and path.name != "lovac.csv":
            (folder / path.name).symlink_to(path)
    shutil.copy(root / "sources" / "sample" / "lovac.csv", folder / "lovac.csv")
    card = root / "sources" / "territories" / "rerun_town.yaml"
    card.write_text(CARD, encoding="utf-8")
    try:
        first = run_cli(["run", "--territory", "rerun_town"], env, root)
        assert {"staged_lovac", "energy_precarity/summary", "site"} <= done_steps(first.stdout)
        again = run_cli(["run", "--territory", "rerun_town"], env, root)
        assert done_steps(again.stdout) == set()
        assert "nothing changed for territory 'rerun_town' since its last run" in again.stdout
        # the same vacant dwellings, one more blank line: a new file for the pipeline
        with open(folder / "lovac.csv", "a", encoding="utf-8") as handle:
            handle.write("\n")
        third = done_steps(run_cli(["run", "--territory", "rerun_town"], env, root).stdout)
        assert "staged_lovac" in third and "housing_affordability/published" in third and "site" in third
        assert not {s for s in third if s.startswith(("energy_precarity/", "mobility_access/"))}
        assert not {"staged_dpe", "staged_iris", "staged_gtfs_bus"} & third
    finally:
        card.unlink()


def test_a_forced_rerun_on_identical_inputs_publishes_identical_bytes(sample_project):
    """Tables in three formats, manifests and demonstrator.json: same inputs, same bytes
    (pages embed Plotly's random element ids and are left out)."""
    import hashlib

    root, env = sample_project["root"], sample_project["env"]
    folder = root / "outputs" / "sample" / "housing_affordability"

    def digests():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}

    run_cli(["run", "housing_affordability", "--force"], env, root)
    first = digests()
    run_cli(["run", "housing_affordability", "--force"], env, root)
    assert digests() == first and any(name.endswith(".gpkg") for name in first)
