"""`check_project`: every problem of every card, territory and demonstrator at once, each
with its file, line and field; the files a territory lacks are warnings, not problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines import config
from pipelines.assets.build import build_definitions
from pipelines.catalogue import load_card
from pipelines.catalogue.models import SourceCard
from pipelines.catalogue.validate import Problem, check_project
from pipelines.components.build import check_indicators
from pipelines.errors import ConfigError
from tests_support import scratch_project

CLONE = config.PACKAGE_DIR.parent


def edit(path: Path, old: str, new: str, *, encoding: str = "utf-8") -> int:
    """Replace `old` by `new` in `path`; the line (1-based) where `new` starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    text = text.replace(old, new, 1)
    path.write_bytes(text.encode(encoding, errors="replace"))
    return text[:text.index(new)].count("\n") + 1


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if fragment in line)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A scratch copy of the cards and of two demonstrators, config pointed at it."""
    scratch_project(tmp_path)
    (tmp_path / "demonstrators").unlink()
    for name in ("energy_precarity", "housing_affordability"):
        shutil.copytree(CLONE / "demonstrators" / name, tmp_path / "demonstrators" / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(config, "SOURCES_DIR", tmp_path / "sources")
    monkeypatch.setattr(config, "TERRITORIES_DIR", tmp_path / "sources" / "territories")
    monkeypatch.setattr(config, "DEMONSTRATORS_DIR", tmp_path / "demonstrators")
    return tmp_path


def copy_demonstrator(root: Path, name: str, new: str) -> Path:
    folder = root / "demonstrators" / new
    shutil.copytree(root / "demonstrators" / name, folder)
    edit(folder / "defs.yaml", f"id: {name}", f"id: {new}")
    return folder


def found(problems: list[Problem], file: Path, line: int, field: str | None, words: str) -> Problem:
    hits = [p for p in problems if p.file == file and p.line == line and p.field == field and words in p.message]
    assert hits, f"no problem {file.name}:{line} {field} '{words}' among:\n" + "\n".join(map(str, problems))
    return hits[0]


def test_every_problem_of_every_file_is_reported_with_its_file_line_and_field(project):
    sources, demos = project / "sources", project / "demonstrators"
    dvf = sources / "dvf.yaml"
    first_file = line_of(dvf, "file: dvf.csv")
    duplicate = edit(dvf, "crs: EPSG:4326\n", "crs: EPSG:4326\nfile: dvf_2024.csv\n") + 1
    lovac = sources / "lovac.yaml"
    accented = next(i for i, line in enumerate(lovac.read_text(encoding="utf-8").splitlines(), 1) if not line.isascii())
    edit(lovac, "id: lovac", "id: lovac", encoding="latin-1")
    unknown_format = edit(sources / "rpls.yaml", "format: rpls", "format: rplss")
    misspelt = edit(sources / "filosofi_iris.yaml", '  sep: ";"', '  seperator: ";"')
    bad_crs = edit(sources / "dpe.yaml", "crs: EPSG:2154", "crs: EPSG:99999")
    wrong_type = edit(sources / "filosofi_commune.yaml", '  sep: ";"', '  sep: ";"\n  pad_codes: "yes"') + 1
    other_id = edit(sources / "carsharing_trips.yaml", "id: carsharing_trips", "id: car_sharing")
    indented = edit(sources / "gtfs_bus.yaml", "producer:", "  producer:")
    sample = sources / "territories" / "sample.yaml"
    with sample.open("a", encoding="utf-8") as handle:
        handle.write("sources:\n  gtfs_buss: {file: feed.zip}\n  filosofi_200m: {options: {layr: carreaux}}\n")
    unknown_override, territory_option = line_of(sample, "gtfs_buss"), line_of(sample, "layr")

    broken_module = copy_demonstrator(project, "energy_precarity", "energy_syntax") / "energy.py"
    syntax = edit(broken_module, "def derive(frame: pd.DataFrame) -> pd.DataFrame:",
                  "def derive(frame: pd.DataFrame) -> pd.DataFrame")
    energy = demos / "energy_precarity" / "defs.yaml"
    unknown_source = edit(energy, "operator_consumption, smart_meter]", "operator_consumption, smart_meter, heat_pumps]")
    no_function = edit(energy, "function: dwellings_by_iris", "function: dwellings_by_iriss")
    params = copy_demonstrator(project, "housing_affordability", "housing_params")
    wrong_param = edit(params / "defs.yaml", "years: 5", 'years: "five"')
    edit(params / "defs.yaml", "min_sales: 10", 'min_sales: "10"')  # Dagster renders it as 10: fine
    edit(params / "defs.yaml", "    surface_m2: 70\n", "")
    undeclared = [i for i, line in enumerate((params / "housing.py").read_text().splitlines(), 1)
                  if 'ctx.params["surface_m2"]' in line]

    report = check_project(indicators=check_indicators, build=build_definitions)
    problems = report.problems
    assert "appears twice (first at line" in found(problems, dvf, duplicate, None, f"key 'file' appears twice "
                                                                                  f"(first at line {first_file})").message
    found(problems, lovac, accented, None, "not UTF-8 (saved as latin-1?); save it as UTF-8")
    found(problems, sources / "rpls.yaml", unknown_format, "format", "did you mean 'rpls'?")
    found(problems, sources / "filosofi_iris.yaml", misspelt, "options.seperator", "did you mean 'sep'?")
    found(problems, sources / "dpe.yaml", bad_crs, "crs", "not a CRS pyproj can read")
    found(problems, sources / "filosofi_commune.yaml", wrong_type, "options.pad_codes", "must be bool")
    found(problems, sources / "carsharing_trips.yaml", other_id, "id", "must equal the file name 'carsharing_trips'")
    found(problems, sources / "gtfs_bus.yaml", indented, None, "not valid YAML")
    found(problems, sample, unknown_override, "sources.gtfs_buss", "did you mean 'gtfs_bus'?")
    found(problems, sample, territory_option, "sources.filosofi_200m.options.layr", "did you mean 'layer'?")
    found(problems, energy, unknown_source, "attributes.sources.6", "no card in sources/. Fix: add")
    found(problems, energy, no_function, "attributes.steps.dwellings.function", "does not define")
    found(problems, broken_module, syntax, None, "syntax error")
    found(problems, params / "defs.yaml", wrong_param, "attributes.params.years", "must be int, found text")
    for line in undeclared:
        found(problems, params / "housing.py", line, None, "reads params['surface_m2'], which defs.yaml does not declare")
    assert not [p for p in problems if p.field == "attributes.params.min_sales"]

    planted = {dvf, lovac, sample, energy, broken_module, params / "defs.yaml", params / "housing.py"} | {
        sources / f"{n}.yaml" for n in ("rpls", "filosofi_iris", "dpe", "filosofi_commune", "carsharing_trips", "gtfs_bus")}
    assert {p.file for p in problems} == planted, "\n".join(map(str, problems))
    assert len([p for p in problems if p.file == sample]) == 2
    # The scratch project has no data files: warnings, never problems.
    assert report.warnings and all("which does not exist" in str(w) for w in report.warnings)
    assert any(w.file.name == "overseas_sample.yaml" and w.field == "data_dir" for w in report.warnings)
    assert report.territories == ["overseas_sample"] and report.definitions is None
    # The same, as a user types it: every problem on stderr as file:line, exit 2, no traceback.
    import os
    import subprocess

    from tests_support import BIN

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATACITES_", "DAGSTER_"))}
    env |= {"DATACITES_ROOT": str(project), "DAGSTER_HOME": str(project / ".datacites" / "dagster")}
    done = subprocess.run([str(BIN / "datacites"), "check"], env=env, cwd=project, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for problem in problems:
        assert f"datacites: {problem}" in done.stderr
    assert f"{len(problems)} problem(s)" in done.stderr and len(problems) >= 14


def test_the_projects_own_tree_has_no_problem():
    report = check_project(indicators=check_indicators, build=build_definitions)
    assert report.problems == [], "\n".join(map(str, report.problems))
    assert report.territories and report.definitions is not None


def test_a_personal_cards_values_never_appear(project):
    card = project / "sources" / "smart_meter.yaml"
    edit(card, "crs: EPSG:2154", "crs: SECRET-CRS-4711")
    edit(card, "  sep: \",\"", "  sepp: \"SECRET-SEP-4712\"\n  decimal: 12345678901234")
    messages = "\n".join(str(p) for p in check_project().problems if p.file == card)
    assert "crs:" in messages and "options.sepp" in messages and "options.decimal: must be str" in messages
    assert "SECRET" not in messages and "12345678901234" not in messages


def test_load_card_names_duplicate_keys_encoding_and_field_lines(tmp_path):
    path = tmp_path / "meters.yaml"
    path.write_text("id: meters\ntitle: x\nfile: a.csv\nsensitivity: secret\nfile: b.csv\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_card(path, SourceCard)
    message = str(info.value)
    assert f"{path} line 5: key 'file' appears twice (first at line 3); keep one" in message
    assert f"{path}:4: field 'sensitivity':" in message and "secret" not in message.replace("'sensitivity'", "")
    path.write_bytes("id: meters\ntitle: Relevés\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"meters.yaml line 2: not UTF-8 \(saved as latin-1\?\); save it as UTF-8"):
        load_card(path, SourceCard)


def test_a_territory_lacking_what_a_demonstrator_needs_is_warned_not_refused(project):
    card = project / "sources" / "territories" / "no_dpe.yaml"
    card.write_text("id: no_dpe\nname: Sans DPE\ndata_dir: no_dpe\nsources:\n  dpe: {absent: true}\n", encoding="utf-8")
    report = check_project(indicators=check_indicators)
    assert report.problems == [] and "no_dpe" in report.territories
    lacking = [w for w in report.warnings if w.file == card and "cannot run" in w.message]
    assert len(lacking) == 1 and "energy_precarity" in lacking[0].message and "['dpe']" in lacking[0].message
    assert not [w for w in report.warnings if w.file == card and "'dpe' expects" in w.message]  # absent: no file


def test_the_loaders_checks_run_once_every_file_is_valid(project):
    defs = project / "demonstrators" / "housing_affordability" / "defs.yaml"
    headline = edit(defs, "  headlines:\n", "  headlines:\n    - not_an_indicator\n")
    problems = check_project(indicators=check_indicators, build=build_definitions).problems
    assert [(p.file, p.line) for p in problems] == [(defs, line_of(defs, "  indicators:"))]
    assert "['not_an_indicator'] not declared in" in problems[0].message and headline
    edit(defs, "    - not_an_indicator\n", "")
    module = project / "demonstrators" / "housing_affordability" / "housing.py"
    raising = edit(module, "\ndef select_sales(", "\nraise RuntimeError('refused at import')\ndef select_sales(") + 1
    report = check_project(indicators=check_indicators, build=build_definitions)
    assert [str(p) for p in report.problems] == [f"{module}:{raising}: RuntimeError: refused at import"]
    assert report.definitions is None


def test_a_territorys_own_charter_is_checked_with_the_project(project):
    card = project / "sources" / "territories" / "strict_town.yaml"
    card.write_text(
        "id: strict_town\nname: Ville stricte\ndata_dir: strict_town\nsources:\n  operator_consumption:\n"
        "    charter:\n      licence: {bilateral: \"Convention communale fictive\"}\n"
        "      attribution: \"Régie communale (fictive)\"\n      purposes: [energy_poverty]\n"
        "      min_zoning: commune\n      until: 2027-06-30\n      contact: regie@x.invalid\n", encoding="utf-8")
    problems = [p for p in check_project().problems if p.file == card]
    assert len(problems) == 1 and problems[0].field == "charter"
    assert "demonstrator 'energy_precarity'" in problems[0].message
    assert "source 'operator_consumption': clause min_zoning: commune" in problems[0].message
    assert "output 'energy_precarity_iris'" in problems[0].message
    card.unlink()  # the sample territory's charters are the default ones: nothing to report
    assert not [p for p in check_project().problems if p.field == "charter"]
