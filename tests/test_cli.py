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
    # named at its line in defs.yaml, before any definition is built
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "raw_smart_meter" in text)
    assert f"energy_precarity/defs.yaml:{line}" in done.stderr and "read 'anonymised_smart_meter' instead" in done.stderr
    assert "Traceback" not in done.stderr


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
    assert checked.returncode == 2 and "broken.yaml:4" in checked.stderr and "dpee" in checked.stderr
    assert "Traceback" not in checked.stderr
    run = cli(["run", "--territory", "broken"], env, root)
    assert run.returncode == 2 and "['dpee']" in run.stderr and "Traceback" not in run.stderr


# --- the command line as a new user reads it (issue: Typer + Rich) -----------------------------

def test_every_command_has_help_with_its_arguments_and_the_version_is_printed(project):
    root, env = project
    top = cli(["--help"], env, root)
    assert top.returncode == 0
    for command in ("run", "demo", "check", "sources", "list", "new", "fetch", "territory", "report", "audit"):
        assert command in top.stdout
        shown = cli([command, "--help"], env, root)
        assert shown.returncode == 0 and "Usage: datacites" in shown.stdout, command
    assert "--jobs" in cli(["run", "--help"], env, root).stdout
    assert "--from" in cli(["new", "--help"], env, root).stdout
    assert "--epci" in cli(["territory", "new", "--help"], env, root).stdout
    from importlib.metadata import version

    assert cli(["--version"], env, root).stdout.strip() == f"datacites {version('datacites')}"


def test_help_does_not_import_the_heavy_libraries(project):
    """`--help` answers at once: no Dagster, pandas or sample generator behind it."""
    root, env = project
    script = ("import sys; from pipelines.cli import main; rc = main(['--help']);"
              "print(sorted(m for m in ('dagster', 'pandas', 'geopandas', 'pipelines.sample') if m in sys.modules))")
    done = subprocess.run([str(BIN / "python"), "-c", script], env=env, cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_typos_get_a_suggestion_and_exit_2_without_traceback(project):
    root, env = project
    for args, hint in ((["rn"], "Did you mean 'run'"), (["run", "--territry", "x"], "--territory")):
        done = cli(args, env, root)
        assert done.returncode == 2 and hint in done.stderr and "Traceback" not in done.stderr


def test_a_pipe_closed_early_is_not_an_error(project):
    root, env = project
    done = subprocess.run(f"{BIN / 'datacites'} sources | head -1", shell=True, env=env, cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("source\t") and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_sources_names_the_path_each_card_expects(project):
    root, env = project
    done = cli(["sources", "--territory", "sample"], env, root)
    rows = {line.split("\t")[0]: line.split("\t") for line in done.stdout.splitlines()[1:]}
    assert rows["dpe"][4] == "sources/sample/dpe_logements_existants.csv"
    assert rows["smart_meter"][3] == "missing"


def test_hostile_names_and_territories_are_refused(project):
    root, env = project
    before = sorted(p.name for p in (root / "demonstrators").iterdir())
    for bad in ("../escaped", "/tmp/abs", "a/b", "Energy", "class", "site", "", "x" * 60):
        done = cli(["new", bad, "--from", "energy_precarity"], env, root)
        assert done.returncode == 2 and "Traceback" not in done.stderr, bad
    assert sorted(p.name for p in (root / "demonstrators").iterdir()) == before
    assert not (root.parent / "escaped").exists() and not __import__("pathlib").Path("/tmp/abs").exists()
    for territory in ("../../elsewhere/x", "/etc/passwd"):
        done = cli(["run", "--territory", territory], env, root)
        assert done.returncode == 2 and "territory id" in done.stderr


def test_a_clone_runs_and_publishes_its_own_assets_off_the_site(project):
    """`new --from` copies, renames, marks draft; the copy runs on its own and is built
    but not put on the officials' site."""
    root, env = project
    made = cli(["new", "my_mobility", "--from", "mobility_access", "--territory", "sample"], env, root)
    assert made.returncode == 0, made.stderr
    assert "datacites run my_mobility --territory sample" in made.stdout
    text = (root / "demonstrators" / "my_mobility" / "defs.yaml").read_text(encoding="utf-8")
    assert "id: my_mobility" in text and "draft: true" in text and "(copie my_mobility)" in text
    done = cli(["run", "my_mobility", "mobility_access"], env, root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # a line per step as it ends, with the time it took
    assert any(line.startswith("done my_mobility/cells (") and line.endswith(" s)") for line in done.stdout.splitlines())
    assert (root / "outputs" / "sample" / "my_mobility" / "demonstrator.json").is_file()
    assert not (root / "outputs" / "sample" / "energy_precarity").exists()  # only what was chosen ran
    site = root / "outputs" / "sample" / "site"
    assert (site / "mobility_access.html").exists() and not (site / "my_mobility.html").exists()
    listed = cli(["list"], env, root)
    assert "my_mobility\t" in listed.stdout and "draft" in listed.stdout


def test_a_bug_in_a_demonstrator_names_its_file_line_step_and_the_columns(project):
    root, env = project
    module = root / "demonstrators" / "mobility_access" / "mobility.py"
    text = module.read_text(encoding="utf-8")
    marker = '    crs = ctx.territory.working_crs\n    check_crs(stops, crs, layer="stops")\n'
    assert marker in text
    module.write_text(text.replace(marker, marker + '    stops["etiquette"]\n', 1), encoding="utf-8")
    line = module.read_text(encoding="utf-8").splitlines().index('    stops["etiquette"]') + 1
    done = cli(["run", "mobility_access"], env, root)
    assert done.returncode == 1
    failure = next(x for x in done.stdout.splitlines() if x.startswith("FAILED mobility_access__cells"))
    assert f"demonstrator 'mobility_access', step 'cells' (function cell_access), {module}, line {line}" in failure
    assert "KeyError" in failure and "'stops': stop_id" in failure and "departures" in failure
