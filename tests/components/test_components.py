"""The Demonstrator component: loaded by Dagster's loader, inputs declared once and
checked against the functions, no file opened by a step, no personal card in a context."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from pipelines.catalogue import StepContext, load_sources, load_territory
from pipelines.catalogue.load import load_card
from pipelines.catalogue.models import Territory
from pipelines.components import Demonstrator
from pipelines.components.guard import no_file_access
from pipelines.components.loading import load_demonstrators
from pipelines.config import PACKAGE_DIR
from pipelines.errors import ConfigError, PrivacyError
from tests_support import BIN, load_demonstrator

CLONE = PACKAGE_DIR.parent
DEMOS = ["energy_precarity", "housing_affordability", "mobility_access"]


def copy_demonstrators(tmp_path: Path) -> Path:
    folder = tmp_path / "demonstrators"
    shutil.copytree(CLONE / "demonstrators", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def load(folder: Path) -> dg.Definitions:
    return load_demonstrators(folder)


def keys(defs: dg.Definitions) -> set[str]:
    return {key.to_user_string() for item in defs.assets for key in item.keys}


# --- loading ------------------------------------------------------------------------------

def test_every_demonstrator_folder_is_a_component_of_dagsters_loader():
    for name in DEMOS:
        declared = yaml.safe_load((CLONE / "demonstrators" / name / "defs.yaml").read_text(encoding="utf-8"))
        assert declared["type"] == "pipelines.components.Demonstrator"
        assert (CLONE / "demonstrators" / name / "indicators.yaml").is_file()
    built = keys(load(CLONE / "demonstrators"))
    for name in DEMOS:
        assert {f"{name}/indicators_iris", f"{name}/summary", f"{name}/release", f"{name}/published"} <= built
    assert "mobility_access/territory" in built and "housing_affordability/territory" in built
    assert "mobility_access/stops" not in built  # the GTFS day is the card's: no step re-reads the feed


def test_a_copied_folder_loads_through_the_same_loader(tmp_path):
    assert keys(load(copy_demonstrators(tmp_path))) == keys(load(CLONE / "demonstrators"))


def test_dagster_renders_codes_in_defs_yaml_as_numbers_so_territory_cards_keep_them():
    rendered = Demonstrator.resolve_from_yaml(
        "id: x\ntitle: t\ntheme: energy\nmessage: m\nmodule: m.py\nsources: []\nmain_indicator: i\n"
        "indicators: [i]\nsteps: {}\nparams: {commune: '75056', zero: '0000', ain: '01004'}\n")
    assert rendered.params == {"commune": 75056, "zero": 0, "ain": "01004"}  # the trap, as measured
    card = Path(__file__).parent / "paris.yaml"
    try:
        card.write_text("id: paris\nname: Paris\ndata_dir: paris\ncommunes:\n  - {code: '75056', name: Paris}\n"
                        "  - {code: '2A004', name: Ajaccio}\n", encoding="utf-8")
        territory = load_card(card, Territory)
    finally:
        card.unlink()
    assert [c.code for c in territory.communes] == ["75056", "2A004"]


# --- inputs declared once -----------------------------------------------------------------

def load_error(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """The error of loading a copy of the demonstrators whose energy defs.yaml is edited."""
    folder = copy_demonstrators(tmp_path)
    defs = folder / "energy_precarity" / "defs.yaml"
    edit(defs, old, new)
    with pytest.raises(ConfigError) as info:
        load(folder)
    return defs, str(info.value)


def test_a_renamed_input_fails_at_load_naming_file_step_parameter_and_fix(tmp_path):
    defs, message = load_error(tmp_path, "inputs: {dpe: staged_dpe, iris: staged_iris}",
                               "inputs: {diagnostics: staged_dpe, iris: staged_iris}")
    assert str(defs) in message and "step 'dwellings'" in message and "dwellings_by_iris" in message
    assert "input 'diagnostics' is not a parameter" in message and "parameter 'dpe' has no input" in message
    assert "Fix:" in message


def test_an_unknown_step_input_names_the_known_assets(tmp_path):
    defs, message = load_error(tmp_path, "inputs: {dpe: staged_dpe, iris: staged_iris}",
                               "inputs: {dpe: staged_dpee, iris: staged_iris}")
    assert str(defs) in message and "'staged_dpee'" in message and "staged_dpe," in message and "Fix:" in message


def test_a_misspelt_attribute_names_the_file_and_line(tmp_path):
    defs, message = load_error(tmp_path, "  main_indicator: share", "  main_indicatr: share")
    line = defs.read_text(encoding="utf-8").splitlines().index("  main_indicatr: share_households_low_income_fg") + 1
    assert f"attributes.main_indicatr at {defs}:{line}: Extra inputs are not permitted" in message
    assert f"attributes.main_indicator at {defs}:" in message and "Field required" in message


def test_a_function_without_ctx_is_refused(tmp_path):
    folder = copy_demonstrators(tmp_path)
    edit(folder / "energy_precarity" / "energy.py", "def dwellings_by_iris(dpe: pd.DataFrame, iris: gpd.GeoDataFrame, *, "
         "ctx: StepContext)", "def dwellings_by_iris(dpe: pd.DataFrame, iris: gpd.GeoDataFrame, ctx=None)")
    with pytest.raises(ConfigError, match="no keyword-only 'ctx'"):
        load(folder)


def test_an_indicator_missing_from_the_demonstrators_own_registry_is_named(tmp_path):
    folder = copy_demonstrators(tmp_path)
    edit(folder / "energy_precarity" / "indicators.yaml", "- id: share_pre1975", "- id: share_before_1975")
    with pytest.raises(ConfigError) as info:
        load(folder)
    assert "share_pre1975" in str(info.value) and "energy_precarity/indicators.yaml" in str(info.value)


# --- what a step may touch ----------------------------------------------------------------

def test_no_file_access_refuses_every_opener_in_the_step_thread_only(tmp_path):
    path = tmp_path / "personal.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    import geopandas
    import pyogrio

    from_other_thread = []
    with no_file_access("demonstrators/x/x.py, step 's'"):
        for opener in (open, path.read_text, lambda p: pd.read_csv(p), geopandas.read_file, pyogrio.read_dataframe):
            with pytest.raises(ConfigError) as info:
                opener(path)
            assert "step 's'" in str(info.value) and "Fix: declare the file as a source card" in str(info.value)
            assert str(path) not in str(info.value)  # the path may name a personal file
        worker = threading.Thread(target=lambda: from_other_thread.append(path.read_text(encoding="utf-8")))
        worker.start()
        worker.join()
    assert from_other_thread == ["a\n1\n"]
    assert pd.read_csv(path)["a"].tolist() == [1]  # restored after the step


def test_no_file_access_also_closes_duckdb_numpy_pyarrow_and_os(tmp_path):
    import os

    import duckdb
    import numpy as np
    import pyarrow.csv

    from pipelines.spatial import connect

    path = tmp_path / "personal.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    with no_file_access("demonstrators/x/x.py, step 's'"):
        for opener in (lambda p: duckdb.sql(f"select * from read_csv('{p}')"), lambda p: duckdb.read_csv(str(p)),
                       np.loadtxt, pyarrow.csv.read_csv, lambda p: os.open(p, os.O_RDONLY)):
            with pytest.raises(ConfigError, match="opened a file"):
                opener(path)
        for con in (duckdb.connect(), connect()):  # a step's own connection, and ours
            with pytest.raises(duckdb.PermissionException):
                con.execute(f"select * from read_csv('{path}')").fetchall()
            frame = pd.DataFrame({"a": [1, 2]})
            con.register("frame_in", frame)  # registered frames still work
            assert con.execute("select sum(a) from frame_in").fetchone()[0] == 3
    assert connect().execute(f"select count(*) from read_csv('{path}')").fetchone()[0] == 1  # restored


def test_a_steps_territory_tells_no_file_location():
    card, registry, _ = load_demonstrator("energy_precarity")
    territory = Territory(id="t", name="T", data_dir="secret_place", files={"smart_meter": "meters_2024.csv"},
                          sources={"travel_survey": {"file": "survey.csv"},
                                   "dpe": {"file": "dpe.csv", "producer": "ADEME"}})
    ctx = StepContext.build(card, territory, load_sources(), registry)
    assert ctx.territory.data_dir == "." and ctx.territory.files == {}
    assert set(ctx.territory.sources) == {"dpe"} and ctx.territory.sources["dpe"].file is None
    assert ctx.territory.sources["dpe"].producer == "ADEME"


def test_a_step_opening_a_file_fails_the_run_with_the_fix(tmp_path):
    from pipelines.assets.sources import source_levels
    from pipelines.catalogue.models import Demonstrator as Card
    from pipelines.components.steps import step_assets

    secret = tmp_path / "meters.csv"
    secret.write_text("numero_compteur\n12345678901234\n", encoding="utf-8")
    module_path = tmp_path / "sneaky.py"
    module_path.write_text(
        "import pandas as pd\n\n\ndef by_iris(dpe, *, ctx):\n"
        f"    return pd.read_csv({str(secret)!r})\n", encoding="utf-8")
    import importlib.util

    spec = importlib.util.spec_from_file_location("sneaky_demo", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    card, registry, _ = load_demonstrator("energy_precarity")
    card = Card.model_validate(card.model_dump() | {"steps": {"indicators_iris": {
        "function": "by_iris", "inputs": {"dpe": "staged_dpe"}, "description": "d", "zoning": "iris"}},
        "summary": None})
    from pipelines.assets.partitions import territory_partitions

    steps = step_assets(card, module, registry, source_levels(load_sources()), tmp_path / "defs.yaml")

    @dg.asset(key="staged_dpe", partitions_def=territory_partitions())
    def staged_dpe() -> pd.DataFrame:
        return pd.DataFrame({"x": [1.0]})

    result = dg.materialize([staged_dpe, *steps], raise_on_error=False, partition_key="sample",
                            resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    from pipelines.run import root_cause

    text = root_cause(failure.step_failure_data.error)
    assert "step 'indicators_iris'" in text and "opened a file (read_csv)" in text and "Fix:" in text
    assert "12345678901234" not in str(failure.step_failure_data.error.to_string())


def test_a_demonstrators_context_never_holds_a_personal_card():
    card, registry, _ = load_demonstrator("energy_precarity")
    sources = load_sources()
    assert {"smart_meter", "travel_survey"} <= {k for k, c in sources.items() if c.sensitivity == "personal"}
    ctx = StepContext.build(card, load_territory("sample"), sources, registry)
    assert not [c for c in ctx.sources.values() if c.sensitivity == "personal"]
    assert "operator_consumption" in ctx.sources  # private cards are visible: only their aggregates are read
    with pytest.raises(PrivacyError, match="personal source cards"):
        StepContext(card, load_territory("sample"), sources, registry)


# --- toolchain ----------------------------------------------------------------------------

def test_a_demonstrator_importing_a_framework_internal_breaks_the_import_contract(tmp_path):
    folder = copy_demonstrators(tmp_path)
    module = folder / "housing_affordability" / "housing.py"
    edit(module, "from pipelines.api import (", "from pipelines.connectors.dvf import mutations  # noqa: F401\n"
                                                 "from pipelines.api import (")
    config = tmp_path / "importlinter.toml"
    shutil.copy(CLONE / "pyproject.toml", config)
    env = {"PYTHONPATH": str(tmp_path), "PATH": str(BIN)}
    done = subprocess.run([str(BIN / "lint-imports"), "--config", str(config), "--no-cache"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout
    assert "Demonstrators import only pipelines.api from the framework BROKEN" in done.stdout
    assert "demonstrators.housing_affordability.housing -> pipelines.connectors.dvf" in done.stdout
    clean = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=CLONE, capture_output=True, text=True,
                           timeout=300)
    assert clean.returncode == 0 and "2 kept, 0 broken" in clean.stdout


def test_installed_dagster_libraries_are_of_the_cores_release_family():
    from importlib.metadata import distributions

    installed = {d.metadata["Name"].lower(): d.version for d in distributions()
                 if d.metadata["Name"].lower().startswith("dagster")}
    major, minor, patch = installed["dagster"].split(".")
    family = {installed["dagster"], f"0.{int(minor) + 16}.{patch}"}  # 1.13.27 goes with 0.29.27
    strays = {name: version for name, version in installed.items() if version not in family}
    assert not strays, f"dagster libraries of another release than dagster {installed['dagster']}: {strays}"
    assert {"dagster-webserver", "dagster-dg-cli", "dagster-postgres"} <= set(installed)
    pins = [line.strip().strip('",') for line in (CLONE / "pyproject.toml").read_text().splitlines()
            if line.strip().startswith('"dagster')]
    assert pins and all(pin.split("==")[1] in family for pin in pins), pins
