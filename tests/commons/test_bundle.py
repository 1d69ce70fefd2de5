"""A demonstrator as a shareable bundle (issue 13, point 4): `datacites export NAME` and
`datacites new NAME --from bundle.zip [--accept-code]`."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipelines.commons.bundle import MANIFEST, MAX_MEMBERS, export_bundle, import_bundle, read_bundle
from pipelines.config import PROJECT_ROOT
from pipelines.errors import ConfigError
from tests_support import BIN, run_cli, scratch_project

DEMOS = PROJECT_ROOT / "demonstrators"
DATA_SUFFIXES = (".csv", ".gpkg", ".zip", ".parquet", ".geojson", ".shp", ".xlsx")
ENERGY_CARDS = {"iris", "communes", "filosofi_200m", "dpe", "operator_consumption", "smart_meter", "filosofi_iris",
                "filosofi_commune"}


def cli(args, env, cwd):
    return subprocess.run([str(BIN / "datacites"), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def energy_bundle(tmp_path):
    """energy_precarity exported from a copy of its folder holding a cache, a note and a data file."""
    demos = tmp_path / "demos"
    shutil.copytree(DEMOS / "energy_precarity", demos / "energy_precarity",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (demos / "energy_precarity" / "__pycache__").mkdir()
    (demos / "energy_precarity" / "__pycache__" / "energy.cpython-311.pyc").write_bytes(b"\0compiled")
    (demos / "energy_precarity" / "NOTES.md").write_text("Notes of the team.\n", encoding="utf-8")
    (demos / "energy_precarity" / "scratch.csv").write_text("code_iris;x\n000010101;1\n", encoding="utf-8")
    return export_bundle("energy_precarity", tmp_path / "energy.zip", demonstrators_dir=demos)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_export_holds_the_folder_the_cards_a_readme_and_a_manifest_never_data(energy_bundle):
    entries = members(energy_bundle)
    assert set(entries) == {
        "README.md", "bundle.json", "demonstrator/__init__.py", "demonstrator/defs.yaml", "demonstrator/energy.py",
        "demonstrator/indicators.yaml", "demonstrator/NOTES.md", *(f"sources/{card}.yaml" for card in ENERGY_CARDS)}
    assert not [name for name in entries if name.lower().endswith(DATA_SUFFIXES)]  # no data, no zip in the zip
    assert entries["demonstrator/energy.py"] == (DEMOS / "energy_precarity" / "energy.py").read_bytes()
    assert entries["sources/dpe.yaml"] == (PROJECT_ROOT / "sources" / "dpe.yaml").read_bytes()
    readme = entries["README.md"].decode("utf-8")
    for card in ENERGY_CARDS:
        data = yaml.safe_load((PROJECT_ROOT / "sources" / f"{card}.yaml").read_text(encoding="utf-8"))
        assert f"`{card}`" in readme and data["producer"] in readme and data["licence"] in readme
        assert data["sensitivity"] in readme
    assert "datacites new NEW_NAME --from" in readme and "--accept-code" in readme
    manifest = json.loads(entries["bundle.json"])
    assert manifest["demonstrator"] == "energy_precarity" and manifest["format_version"] == 1
    assert {f["path"] for f in manifest["files"]} == set(entries) - {"bundle.json"}
    for listed in manifest["files"]:
        data = entries[listed["path"]]
        assert listed["size"] == len(data) and listed["sha256"] == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(energy_bundle) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_same_export_twice_gives_the_same_bytes(tmp_path):
    first = export_bundle("mobility_access", tmp_path / "a.zip")
    second = export_bundle("mobility_access", tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    names = set(members(first))
    assert {"sources/gtfs_bus.yaml", "sources/travel_survey.yaml", "sources/carsharing_trips.yaml"} <= names


def test_published_outputs_are_added_on_request_and_never_imported(tmp_path):
    published = tmp_path / "outputs" / "sample" / "mobility_access"
    published.mkdir(parents=True)
    (published / "demonstrator.json").write_text('{"id": "mobility_access"}', encoding="utf-8")
    (published / "mobility_access_iris.csv").write_text("code_iris\n000010101\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--with-outputs needs the territory"):
        export_bundle("mobility_access", tmp_path / "x.zip", with_outputs=True, outputs_dir=tmp_path / "outputs")
    path = export_bundle("mobility_access", tmp_path / "m.zip", with_outputs=True, territory="sample",
                         outputs_dir=tmp_path / "outputs")
    assert {"outputs/sample/mobility_access/demonstrator.json",
            "outputs/sample/mobility_access/mobility_access_iris.csv"} <= set(members(path))
    result = import_bundle(path, "mobility_lyon", demonstrators_dir=tmp_path / "demos", sources_dir=tmp_path / "src")
    assert not result.accepted and len(result.outputs) == 2
    assert not (tmp_path / "demos").exists() and not (tmp_path / "src").exists()


# --- crafted bundles ----------------------------------------------------------------------------

def craft(path: Path, entries: dict[str, bytes], extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (),
          declared: dict[str, int] | None = None, manifest: bool = True) -> Path:
    """A zip of `entries` with a manifest matching them, then the `extra` members as they
    are; `declared` overwrites a member's uncompressed size in the central directory."""
    entries = dict(entries)
    if manifest:
        document = json.loads(entries.pop(MANIFEST))
        document["files"] = [{"path": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                             for n, d in sorted(entries.items())]
        entries[MANIFEST] = json.dumps(document).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(entries.items()):
                archive.writestr(name, data)
            for info, data in extra:
                archive.writestr(info, data)
            for info in archive.filelist:
                if declared and info.filename in declared:
                    info.file_size = declared[info.filename]  # written into the central directory at close
    return path


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


BOMB = b"\0" * (64 * 1024 * 1024)  # 64 MiB of zeros: about 64 KB deflated


@pytest.mark.parametrize("case, member, problem", [
    ("parent", "../evil.py", "'..'"),
    ("parent_inside", "demonstrator/../../evil.py", "'..'"),
    ("absolute", "/etc/passwd", "absolute path"),
    ("windows", "C:\\x", "backslash"),
    ("drive", "C:/x", "drive letter"),
    ("symlink", "demonstrator/link.py", "symbolic link"),
    ("declared_1gib", "demonstrator/big.py", "declares 1073741824 bytes"),
    ("bomb", "demonstrator/bomb.py", "holds more than the 1000 bytes it declares"),
    ("duplicate", "demonstrator/energy.py", "appears twice"),
    ("data", "sources/sample/dpe_logements_existants.csv", "never data"),
    ("unlisted", "demonstrator/extra.py", "not listed in bundle.json"),
    ("tampered", "demonstrator/energy.py", "does not match its size and sha256"),
    ("component", "demonstrator/defs.yaml", "must hold only `type: pipelines.components.Demonstrator`"),
    ("template", "demonstrator/defs.yaml", "template expression"),
])
def test_crafted_bundles_are_refused_naming_the_member(energy_bundle, tmp_path, case, member, problem):
    entries = members(energy_bundle)
    extra, declared, manifest = [], None, True
    if case in ("parent", "parent_inside", "absolute", "windows", "drive"):
        extra = [(zipfile.ZipInfo(member), b"print('escaped')\n")]
    elif case == "symlink":
        extra = [(symlink(member), b"/etc/passwd")]
    elif case == "declared_1gib":
        entries[member], declared = b"x = 1\n", {member: 1 << 30}
    elif case == "bomb":
        entries[member], declared = BOMB, {member: 1000}
    elif case == "duplicate":
        extra = [(member, b"print('second copy')\n")]
    elif case == "data":
        entries[member] = b"numero_dpe;etiquette_dpe\n1;A\n"
    elif case == "unlisted":
        extra = [(member, b"x = 1\n")]
    elif case == "tampered":
        entries[member] += b"\nimport os\n"
        manifest = False
    elif case == "component":
        entries[member] = entries[member].replace(b"type: pipelines.components.Demonstrator", b"type: os.system")
    elif case == "template":
        entries[member] = entries[member].replace(b"title: ", b"title: \"{{ env('HOME') }}\"  # ", 1)
    path = craft(tmp_path / f"{case}.zip", entries, extra, declared, manifest)
    demos, sources = tmp_path / "imported", tmp_path / "src"
    with pytest.raises(ConfigError) as refused:
        import_bundle(path, "energy_copy", accept_code=True, demonstrators_dir=demos, sources_dir=sources)
    assert f"member '{member}'" in str(refused.value) and problem in str(refused.value)
    assert not demos.exists() and not sources.exists()  # nothing written
    assert not (tmp_path.parent / "evil.py").exists()


def test_too_many_members_and_a_foreign_manifest_are_refused(energy_bundle, tmp_path):
    entries = members(energy_bundle)
    many = craft(tmp_path / "many.zip", entries | {f"demonstrator/m{i}.md": b"" for i in range(MAX_MEMBERS)})
    with pytest.raises(ConfigError, match="more than a bundle may hold"):
        read_bundle(many)
    document = json.loads(entries[MANIFEST]) | {"demonstrator": "../escaped"}
    foreign = craft(tmp_path / "id.zip", entries | {MANIFEST: json.dumps(document).encode()})
    with pytest.raises(ConfigError, match="lowercase letters"):
        read_bundle(foreign)
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"PK but not a zip")
    with pytest.raises(ConfigError, match="not a zip archive"):
        read_bundle(not_zip)


MARKER_CODE = "\nfrom pathlib import Path as _Path\n_Path({marker!r}).write_text('ran')\n"


def test_the_bundles_code_never_runs_before_it_is_accepted(energy_bundle, tmp_path):
    marker = tmp_path / "marker.txt"
    entries = members(energy_bundle)
    entries["demonstrator/energy.py"] += MARKER_CODE.format(marker=str(marker)).encode()
    entries["demonstrator/__init__.py"] += MARKER_CODE.format(marker=str(marker)).encode()
    path = craft(tmp_path / "marked.zip", entries)
    demos, sources = tmp_path / "imported", tmp_path / "src"
    result = import_bundle(path, "energy_copy", demonstrators_dir=demos, sources_dir=sources)
    assert not marker.exists()
    assert not result.accepted and result.target is None
    assert not demos.exists() and not sources.exists()
    preview = result.preview()
    assert str(marker) in preview and "----- demonstrator/energy.py -----" in preview  # the code is shown in full
    assert "----- demonstrator/__init__.py -----" in preview
    assert "--accept-code" in preview and "Nothing was imported" in preview
    assert "sources/dpe.yaml" in preview  # the cards it would add


@pytest.fixture
def bare_project(tmp_path):
    """A scratch project whose demonstrators folder is empty and which lacks the card `dpe`."""
    root = tmp_path / "project"
    env = scratch_project(root)
    (root / "demonstrators").unlink()
    (root / "demonstrators").mkdir()
    (root / "demonstrators" / "__init__.py").touch()
    (root / "sources" / "dpe.yaml").unlink()
    return root, env


def test_accepted_code_runs_and_a_bundle_that_does_not_load_is_removed_again(energy_bundle, tmp_path, bare_project):
    root, env = bare_project
    marker = tmp_path / "marker.txt"
    entries = members(energy_bundle)
    entries["demonstrator/energy.py"] += (MARKER_CODE.format(marker=str(marker)) + "raise RuntimeError('boom')\n").encode()
    path = craft(tmp_path / "broken.zip", entries)
    shown = cli(["new", "energy_copy", "--from", str(path)], env, root)
    assert shown.returncode == 0 and "Nothing was imported" in shown.stdout, shown.stderr
    assert not marker.exists() and not (root / "demonstrators" / "energy_copy").exists()
    done = cli(["new", "energy_copy", "--from", str(path), "--accept-code"], env, root)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "does not load" in done.stderr and "boom" in done.stderr
    assert marker.read_text() == "ran"  # accepted: its code ran when loaded
    assert not (root / "demonstrators" / "energy_copy").exists()
    assert not (root / "sources" / "dpe.yaml").exists()  # the card it added went with it


def test_an_import_adds_missing_cards_keeps_differing_ones_and_loads(energy_bundle, bare_project):
    root, env = bare_project
    iris = root / "sources" / "iris.yaml"
    iris.write_text(iris.read_text(encoding="utf-8") + "# our own note\n", encoding="utf-8")
    done = cli(["new", "energy_copy", "--from", str(energy_bundle), "--accept-code"], env, root)
    assert done.returncode == 0, done.stderr
    assert "source cards added: sources/dpe.yaml" in done.stdout
    assert "note: sources/iris.yaml differs from the bundle's; yours is kept" in done.stdout
    assert (root / "sources" / "dpe.yaml").read_bytes() == (PROJECT_ROOT / "sources" / "dpe.yaml").read_bytes()
    assert iris.read_text(encoding="utf-8").endswith("# our own note\n")
    defs = (root / "demonstrators" / "energy_copy" / "defs.yaml").read_text(encoding="utf-8")
    assert "id: energy_copy" in defs and "draft: true" in defs and "(copie energy_copy)" in defs
    assert (root / "demonstrators" / "energy_copy" / "NOTES.md").is_file()
    again = cli(["new", "energy_copy", "--from", str(energy_bundle), "--accept-code"], env, root)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.slow
def test_an_exported_bundle_imported_into_a_fresh_clone_runs_on_the_overseas_territory(tmp_path, sample_project):
    """Exported from one project; imported into a clone that never had the mobility
    demonstrator nor its own cards; run on `overseas_sample`: the same tables as the
    original published by the session's run of every demonstrator (`sample_project`)."""
    origin = tmp_path / "origin"
    origin_env = scratch_project(origin)
    (origin / "demonstrators").unlink()  # a copy: what is exported is what runs
    shutil.copytree(DEMOS, origin / "demonstrators", ignore=shutil.ignore_patterns("__pycache__"))
    bundle = tmp_path / "mobility_access.zip"
    exported = run_cli(["export", "mobility_access", "--out", str(bundle)], origin_env, origin)
    assert "bundle written to" in exported.stdout

    clone = tmp_path / "clone"
    env = scratch_project(clone)
    (clone / "demonstrators").unlink()
    shutil.copytree(DEMOS, clone / "demonstrators", ignore=shutil.ignore_patterns("__pycache__", "mobility_access"))
    for card in ("gtfs_bus", "travel_survey", "carsharing_trips"):  # only the mobility demonstrator reads them
        (clone / "sources" / f"{card}.yaml").unlink()
    shown = run_cli(["new", "mobility_copy", "--from", str(bundle)], env, clone)
    assert "----- demonstrator/mobility.py -----" in shown.stdout
    assert not (clone / "demonstrators" / "mobility_copy").exists()
    imported = run_cli(["new", "mobility_copy", "--from", str(bundle), "--accept-code"], env, clone)
    assert "source cards added: sources/carsharing_trips.yaml, sources/gtfs_bus.yaml, sources/travel_survey.yaml" \
        in imported.stdout
    defs = clone / "demonstrators" / "mobility_copy" / "defs.yaml"
    text = defs.read_text(encoding="utf-8")
    assert "  draft: true" in text
    # the clone's only demonstrator on this territory: a site of drafts only is refused
    defs.write_text(text.replace("  draft: true", "  draft: false"), encoding="utf-8")
    run_cli(["run", "mobility_copy", "--territory", "overseas_sample"], env, clone)

    copy = clone / "outputs" / "overseas_sample" / "mobility_copy"
    original = sample_project["root"] / "outputs" / "overseas_sample" / "mobility_access"
    assert json.loads((copy / "demonstrator.json").read_text(encoding="utf-8"))["id"] == "mobility_copy"
    for zoning, key in (("iris", "code_iris"), ("commune", "code_commune")):
        theirs = pd.read_csv(original / f"mobility_access_{zoning}.csv", dtype={key: str})
        ours = pd.read_csv(copy / f"mobility_copy_{zoning}.csv", dtype={key: str})
        assert len(ours) > 0
        pd.testing.assert_frame_equal(ours, theirs)


def test_a_charter_file_travels_with_its_card_and_an_inline_charter_inside_it(tmp_path):
    sources = tmp_path / "sources"
    shutil.copytree(PROJECT_ROOT / "sources", sources, ignore=shutil.ignore_patterns("sample", "cache", "overseas_sample",
                                                                                    "inbox", "territories"))
    card = sources / "operator_consumption.yaml"
    text = card.read_text(encoding="utf-8")
    start = text.index("charter:\n")
    end = text.index("\n", text.index("  contact:", start)) + 1
    card.write_text(text[:start] + "charter: convention_energie.yaml\n" + text[end:], encoding="utf-8")
    (sources / "charters").mkdir(exist_ok=True)
    charter = ("licence: {bilateral: Convention fictive}\nattribution: Opérateur (fictif)\npurposes: [energy_poverty]\n"
               "min_zoning: iris\nuntil: 2030-12-31\ncontact: dpo@x.invalid\n")
    (sources / "charters" / "convention_energie.yaml").write_text(charter, encoding="utf-8")
    bundle = export_bundle("energy_precarity", tmp_path / "energy.zip", sources_dir=sources)
    inside = members(bundle)
    assert inside["sources/charters/convention_energie.yaml"].decode("utf-8") == charter
    assert b"charter:\n  licence:" in inside["sources/smart_meter.yaml"]  # inline: inside the card
    assert read_bundle(bundle).sources["charters/convention_energie.yaml"].decode("utf-8") == charter  # checked, with its card
