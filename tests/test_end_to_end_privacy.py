"""Privacy of the sample run, checked from the outside.

No meter number or address of the personal source appears anywhere a person could read
it (published files, the working state, Dagster's event storage, the console); the
disclosure audit passes; and an independent linear-programming attack on the published
tables recovers no hidden cell to within the threshold.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from tests_support import BIN

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def personal_values(sample_project):
    meters = pd.read_csv(sample_project["root"] / "sources" / "sample" / "smart_meter_readings.csv", dtype=str)
    numbers = set(meters["numero_compteur"])
    assert len(numbers) == 3000 and all(len(n) == 14 and n.isdigit() for n in numbers)
    return numbers, set(meters["adresse"])


def files_under(folder: Path):
    return [p for p in folder.rglob("*") if p.is_file() and p.name != "pseudonymisation.key"]


SUFFIX = b" (fictif)"  # every sample address ends with its fictional commune


def leaked_value(data: bytes, numbers: set[bytes], addresses: set[bytes]) -> bytes | None:
    """The first meter number or address found in `data`, as `value in data` would find
    it, in one pass: every 14-digit window of each run of digits, and every address
    ending at each occurrence of the addresses' common suffix."""
    for run in re.finditer(rb"\d{14,}", data):
        digits = run.group()
        hit = next((digits[i:i + 14] for i in range(len(digits) - 13) if digits[i:i + 14] in numbers), None)
        if hit:
            return hit
    lengths = {len(a) for a in addresses}
    for end in re.finditer(re.escape(SUFFIX), data):
        stop = end.end()
        hit = next((data[stop - n:stop] for n in lengths if data[stop - n:stop] in addresses), None)
        if hit:
            return hit
    return None


def test_the_leak_finder_finds_what_a_substring_search_finds():
    numbers, addresses = {b"04263918226541"}, {b"64 chemin du Parc 00100 Fictiville (fictif)"}
    assert leaked_value(b"x;9904263918226541;y", numbers, addresses) == b"04263918226541"
    assert leaked_value(b'"au 64 chemin du Parc 00100 Fictiville (fictif)"', numbers, addresses) is not None
    assert leaked_value(b"0426391822654 Fictiville (fictif)", numbers, addresses) is None


def test_no_meter_number_or_address_anywhere(sample_project, personal_values):
    numbers, addresses = personal_values
    root = sample_project["root"]
    assert all(a.endswith(SUFFIX.decode()) for a in addresses)
    number_set = {n.encode() for n in numbers}
    address_set = {a.encode() for a in addresses if len(a) > 8}
    places = files_under(root / "outputs") + files_under(root / ".datacites")
    assert any("dagster" in str(p) for p in places), "Dagster's event storage must be searched too"
    for path in places:
        leaked = leaked_value(path.read_bytes(), number_set, address_set)
        assert leaked is None, f"a personal value leaked into {path.relative_to(root)}"
    assert leaked_value(sample_project["stdout"].encode(), number_set, address_set) is None


def test_audit_command_passes_on_published_outputs(sample_project):
    done = subprocess.run([str(BIN / "datacites"), "audit", str(sample_project["root"] / "outputs" / "sample")],
                          env=sample_project["env"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def published_population(folder: Path, demo: str, column: str):
    """Every published cell of one protected count: known values, hidden cells, relations."""
    text = {"code_iris": str, "code_commune": str, f"secret_{column}": str}
    iris = pd.read_csv(folder / f"{demo}_iris.csv", dtype=text)
    commune = pd.read_csv(folder / f"{demo}_commune.csv", dtype=text)
    document = json.loads((folder / "demonstrator.json").read_text(encoding="utf-8"))
    cells, hidden = {}, []
    for table, key in ((iris, "code_iris"), (commune, "code_commune")):
        for code, value, flag in zip(table[key], table[column], table[f"secret_{column}"].fillna(""), strict=False):
            if pd.notna(value):
                cells[f"{key}:{code}"] = float(value)
            elif flag:
                hidden.append(f"{key}:{code}")  # listed with a reason: holds at least one unit
            else:
                cells[f"{key}:{code}"] = 0.0  # empty without a reason: no unit at all
    relations = [(f"code_commune:{c}", [f"code_iris:{i}" for i in group["code_iris"]])
                 for c, group in iris.groupby("code_commune")]
    total = document.get("territory_values", {}).get(column)
    if total is not None:
        cells["total"] = float(total)
        relations.append(("total", [f"code_commune:{c}" for c in commune["code_commune"]]))
    return cells, hidden, relations


def attack(cells: dict, hidden: list, relations: list) -> dict[str, tuple[float, float]]:
    """LP bounds of every hidden cell, knowing every relation and that each holds >= 1."""
    index = {name: j for j, name in enumerate(hidden)}
    rows, rhs = [], []
    for parent, children in relations:
        row = np.zeros(len(hidden))
        known = 0.0
        for name, sign in [(parent, -1.0)] + [(child, 1.0) for child in children]:
            if name in index:
                row[index[name]] += sign
            else:
                known += sign * cells.get(name, 0.0)
        if row.any():
            rows.append(row)
            rhs.append(-known)
    bounds = {}
    for name, j in index.items():
        cost = np.zeros(len(hidden))
        cost[j] = 1.0
        problem = dict(A_eq=np.array(rows), b_eq=rhs, bounds=[(1, None)] * len(hidden), method="highs")
        low = linprog(cost, **problem)
        high = linprog(-cost, **problem)
        bounds[name] = (low.fun, -high.fun if high.status == 0 else np.inf)
    return bounds


PROTECTED = [("energy_precarity", "operator_delivery_points", 10), ("energy_precarity", "metered_households", 11),
             ("mobility_access", "survey_households", 11), ("mobility_access", "carsharing_stations", 3)]


def test_the_attack_finds_a_cell_pinned_by_differencing():
    # commune 00001 = 12 published, its IRIS: 10 published and two hidden (each >= 1): both are 1
    cells = {"code_commune:00001": 12.0, "code_iris:a": 10.0}
    bounds = attack(cells, ["code_iris:b", "code_iris:c"],
                    [("code_commune:00001", ["code_iris:a", "code_iris:b", "code_iris:c"])])
    assert bounds == {"code_iris:b": (1.0, 1.0), "code_iris:c": (1.0, 1.0)}


@pytest.mark.parametrize("demo, column, threshold", PROTECTED)
def test_independent_attack_recovers_no_hidden_cell(sample_project, demo, column, threshold):
    folder = sample_project["root"] / "outputs" / "sample" / demo
    cells, hidden, relations = published_population(folder, demo, column)
    assert hidden, f"the sample hides some {column} cells: the attack must have something to attack"
    for name, (low, high) in attack(cells, hidden, relations).items():
        assert high - low >= threshold - 1e-9, f"{demo}/{column}: {name} is bounded to [{low}, {high}]"


def hashes(folder: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def energy_only(sample_project, tmp_path_factory):
    """A scratch project with only the energy demonstrator (a real copy), run once."""
    import shutil

    from pipelines.config import PROJECT_ROOT
    from tests_support import run_cli, scratch_project

    root = tmp_path_factory.mktemp("energy") / "project"
    env = scratch_project(root)
    (root / "demonstrators").unlink()
    shutil.copytree(PROJECT_ROOT / "demonstrators" / "energy_precarity", root / "demonstrators" / "energy_precarity")
    shutil.copytree(sample_project["root"] / "sources" / "sample", root / "sources" / "sample")
    run_cli(["run"], env, root)
    return root


def rerun_copy(energy_only: Path, tmp_path: Path, damage) -> tuple[subprocess.CompletedProcess, dict, dict]:
    """Copy the published project, damage it, run again: (run, hashes before, hashes after)."""
    import os
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(energy_only, root, symlinks=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATACITES_", "DAGSTER_"))}
    env |= {"DATACITES_ROOT": str(root), "DAGSTER_HOME": str(root / ".datacites" / "dagster")}
    before = hashes(root / "outputs")
    damage(root)
    done = subprocess.run([str(BIN / "datacites"), "run"], env=env, cwd=root, capture_output=True, text=True, timeout=600)
    return done, before, hashes(root / "outputs")


def test_failed_audit_blocks_publication_and_keeps_outputs_identical(energy_only, tmp_path):
    final = '    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=iris.crs)'

    def leak(root):  # a demonstrator bug that would publish a value shaped like a meter number
        module = root / "demonstrators" / "energy_precarity" / "energy.py"
        text = module.read_text(encoding="utf-8")
        assert final in text
        module.write_text(text.replace(final, '    table.loc[0, "nom_iris"] = "04937261508314"\n' + final), encoding="utf-8")

    done, before, after = rerun_copy(energy_only, tmp_path, leak)
    assert any(name.startswith("sample/site/") for name in before)
    assert done.returncode == 1
    assert "disclosure_audit" in done.stdout and "run FAILED" in done.stdout
    assert "04937261508314" not in done.stdout + done.stderr
    assert after == before


def test_bad_source_file_names_row_and_column_and_publishes_nothing(energy_only, tmp_path):
    def bad_label(root):  # line 3 of the DPE file gets an energy label that does not exist
        path = root / "sources" / "sample" / "dpe_logements_existants.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        header = lines[0].rstrip("\n").split(",")
        cells = lines[2].rstrip("\n").split(",")
        cells[header.index("etiquette_dpe")] = "Z"
        lines[2] = ",".join(cells) + "\n"
        path.write_text("".join(lines), encoding="utf-8")

    done, before, after = rerun_copy(energy_only, tmp_path, bad_label)
    assert done.returncode == 1
    message = next(line for line in done.stdout.splitlines() if line.startswith("FAILED staged_dpe"))
    assert "dpe_logements_existants.csv" in message and "row 3" in message and "'etiquette_dpe'" in message
    assert "Fix:" in message
    assert after == before


def test_a_demonstrator_reading_hidden_cells_is_refused_by_the_lineage_audit(energy_only, tmp_path):
    final = '    return gpd.GeoDataFrame(derive(table), geometry="geometry", crs=iris.crs)'

    def careless(root):  # a mean taken from the aggregates themselves, hidden cells included
        module = root / "demonstrators" / "energy_precarity" / "energy.py"
        text = module.read_text(encoding="utf-8")
        assert final in text
        module.write_text(text.replace(final, (
            '    cells = meters[meters["zoning"] == "iris"].set_index("zone_id")\n'
            '    table = derive(table)\n'
            '    table["metered_consumption_per_household"] = table["code_iris"].map(cells["conso_kwh"] / cells["units"])\n'
            '    return gpd.GeoDataFrame(table, geometry="geometry", crs=iris.crs)')), encoding="utf-8")

    done, before, after = rerun_copy(energy_only, tmp_path, careless)
    assert done.returncode == 1
    message = next(line for line in done.stdout.splitlines() if line.startswith("FAILED energy_precarity__release"))
    assert "nothing is published" in message
    assert "table energy_precarity_iris, column 'metered_consumption_per_household'" in done.stdout
    assert "change when only the hidden cells of a protected source change" in done.stdout and "Fix:" in done.stdout
    assert after == before
