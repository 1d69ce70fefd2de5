"""The inbox sensor on a copied territory: a valid new file replaces the territory's in
one rename and asks for its reader only; a malformed one is set aside with a report."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from pipelines import config


@pytest.fixture
def territory(sample_project, monkeypatch):
    """`inbox_town`: the sample's files copied, its card; config pointed at that project."""
    root = sample_project["root"]
    sources = root / "sources"
    folder = sources / "inbox_town"
    shutil.copytree(sources / "sample", folder, ignore=shutil.ignore_patterns(".generator"))
    card = sources / "territories" / "inbox_town.yaml"
    card.write_text("id: inbox_town\nname: Ville de la boîte (territoire fictif)\nfictional: true\n"
                    "data_dir: inbox_town\n", encoding="utf-8")
    for name, value in (("SOURCES_DIR", sources), ("TERRITORIES_DIR", sources / "territories")):
        monkeypatch.setattr(config, name, value)
    yield sources
    card.unlink()
    shutil.rmtree(folder)
    shutil.rmtree(sources / "inbox", ignore_errors=True)


def test_a_valid_file_is_moved_into_place_and_only_its_reader_is_requested(territory):
    from pipelines.assets.build import build_definitions

    inbox = territory / "inbox" / "inbox_town"
    inbox.mkdir(parents=True)
    new = (territory / "sample" / "lovac.csv").read_bytes() + b"\n"
    (inbox / "lovac.csv").write_bytes(new)
    (inbox / "dvf.csv").write_text("pas un fichier DVF\n", encoding="utf-8")       # malformed
    (inbox / "notes.docx").write_bytes(b"PK")                                       # no source expects it
    defs = build_definitions()
    sensor = defs.resolve_sensor_def("inbox_inbox_town")
    with dg.DagsterInstance.ephemeral() as instance:
        requests = list(sensor(dg.build_sensor_context(instance=instance, definitions=defs)))
    assert [(r.partition_key, r.asset_selection) for r in requests] == [("inbox_town", [dg.AssetKey("staged_lovac")])]
    assert (territory / "inbox_town" / "lovac.csv").read_bytes() == new and not (inbox / "lovac.csv").exists()
    dvf_report = (inbox / "rejected" / "dvf.csv.report.txt").read_text(encoding="utf-8")
    assert dvf_report.startswith("source 'dvf': dvf.csv (inbox), row 1, column 'date_mutation'") and "Fix" in dvf_report
    assert (inbox / "rejected" / "dvf.csv").exists()
    assert (territory / "inbox_town" / "dvf.csv").read_bytes() == (territory / "sample" / "dvf.csv").read_bytes()
    assert "no source of territory 'inbox_town' expects a file named 'notes.docx'" in (
        inbox / "rejected" / "notes.docx.report.txt").read_text(encoding="utf-8")
    with dg.DagsterInstance.ephemeral() as instance:  # nothing new: nothing asked
        again = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    assert isinstance(again, dg.SkipReason)
