"""The command line as a team in another territory uses it."""

from __future__ import annotations

import subprocess

import pytest

from tests_support import BIN, scratch_project


def cli(args, env, cwd):
    return subprocess.run([str(BIN / "datacites"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path):
    env = scratch_project(tmp_path)
    (tmp_path / "demonstrators").unlink()  # a real copy: `new` writes into it
    import shutil

    from pipelines.config import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "demonstrators", tmp_path / "demonstrators")
    return tmp_path, env


def test_new_demonstrator_is_valid_and_listed(project):
    root, env = project
    done = cli(["new", "my_energy"], env, root)
    assert done.returncode == 0, done.stderr
    text = (root / "demonstrators" / "my_energy" / "defs.yaml").read_text(encoding="utf-8")
    assert "id: my_energy" in text and "template_id" not in text
    assert "type: pipelines.components.Demonstrator" in text
    assert (root / "demonstrators" / "my_energy" / "indicators.yaml").is_file()
    checked = cli(["check"], env, root)
    assert checked.returncode == 0, checked.stderr
    assert "privacy rules hold" in checked.stdout
    # the new demonstrator's assets are in the definitions, from its first line
    listed = subprocess.run([str(BIN / "python"), "-c", "from pipelines.assets.build import build_definitions;"
                             "graph = build_definitions().resolve_asset_graph();"
                             "print(sorted(k.to_user_string() for k in graph.get_all_asset_keys()))"],
                            env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert "'my_energy/indicators_commune'" in listed.stdout and "'my_energy/summary'" in listed.stdout, listed.stderr
    again = cli(["new", "my_energy"], env, root)
    assert again.returncode == 2 and "already exists" in again.stderr
    for bad in ("Mon-Demo", "../../escaped"):
        refused = cli(["new", bad], env, root)
        assert refused.returncode == 2 and "lowercase letters, digits and _" in refused.stderr
    assert not (root.parent / "escaped").exists()


def test_sources_lists_cards_with_sensitivity(project):
    root, env = project
    done = cli(["sources"], env, root)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert "personal" in lines["smart_meter"] and "missing" in lines["smart_meter"]
    assert "private" in lines["operator_consumption"]


def test_check_refuses_a_demonstrator_reading_personal_data(project):
    root, env = project
    path = root / "demonstrators" / "energy_precarity" / "defs.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "meters: anonymised_smart_meter, iris: staged_iris}", "meters: raw_smart_meter, iris: staged_iris}"), encoding="utf-8")
    done = cli(["check"], env, root)
    assert done.returncode == 2
    assert "'energy_precarity/indicators_iris' reads the personal asset 'raw_smart_meter'" in done.stderr


def test_audit_of_missing_folder_fails(project):
    root, env = project
    done = cli(["audit", str(root / "nowhere")], env, root)
    assert done.returncode != 0


def test_run_regenerates_a_sample_made_by_other_code_only(project):
    root, env = project
    first = cli(["sample", "--scale", "0.5"], env, root)
    assert first.returncode == 0, first.stderr
    stamp = root / "sources" / "sample" / ".generator"
    from pipelines.cli import generator_fingerprint

    assert stamp.read_text() == generator_fingerprint()
    before = (root / "sources" / "sample" / "dpe_logements_existants.csv").stat().st_mtime_ns
    script = "from pipelines.cli import ensure_sample; ensure_sample()"
    subprocess.run([str(BIN / "python"), "-c", script], env=env, cwd=root, check=True, timeout=120)
    assert (root / "sources" / "sample" / "dpe_logements_existants.csv").stat().st_mtime_ns == before  # kept: scale 0.5
    stamp.write_text("made-by-older-code")
    done = subprocess.run([str(BIN / "python"), "-c", script], env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert "generating the fictional territory 'sample'" in done.stdout
    assert stamp.read_text() == generator_fingerprint()


def test_a_broken_territory_card_is_left_out_and_named_not_blocking_the_others(project):
    root, env = project
    (root / "sources" / "territories" / "broken.yaml").write_text(
        "id: broken\nname: Broken\ndata_dir: broken\nsources: {dpee: {file: x.csv}}\n", encoding="utf-8")
    checked = cli(["check"], env, root)
    assert checked.returncode == 2 and "partitioned by territory (overseas_sample, sample)" in checked.stdout
    assert "territory left out" in checked.stderr and "broken.yaml" in checked.stderr and "['dpee']" in checked.stderr
    run = cli(["run", "--territory", "broken"], env, root)
    assert run.returncode == 2 and "['dpee']" in run.stderr and "Traceback" not in run.stderr
