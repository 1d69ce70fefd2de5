"""One site per territory, never mixing them; drafts hidden; stale demonstrators removed;
`outputs/index.html` lists the territories."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pytest

from pipelines.errors import SourceError
from pipelines.report import build_site
from pipelines.report.territories import publish_territory_site, set_aside_stale, write_index


def territory_copy(outputs, root, territory_id: str, name: str):
    """The fixture's demonstrators, published for another territory."""
    folder = root / territory_id
    shutil.copytree(outputs, folder, ignore=shutil.ignore_patterns("site"))
    for path in folder.glob("*/demonstrator.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["territory"] = {"id": territory_id, "name": name, "fictional": False}
        path.write_text(json.dumps(meta), encoding="utf-8")
        for table in meta["tables"]:  # the manifests the audit of a publication reads
            columns = list(gpd.read_parquet(path.parent / f"{table['stem']}.parquet").columns)
            manifest = {"table": table["stem"], "zoning": table["zoning"], "count_columns": {}, "rule": {},
                        "zone_id_column": f"code_{table['zoning']}", "allowed_columns": columns}
            (path.parent / f"{table['stem']}.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def set_meta(path, **changes):
    meta = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(meta | changes), encoding="utf-8")


def test_a_folder_mixing_territories_is_refused(report_outputs, tmp_path):
    outputs, _ = report_outputs
    folder = territory_copy(outputs, tmp_path, "est", "Ville de l'Est")
    set_meta(folder / "mobility_access" / "demonstrator.json",
             territory={"id": "ouest", "name": "Ville de l'Ouest", "fictional": False})
    with pytest.raises(SourceError, match=r"several territories \(est, ouest\)"):
        build_site(folder, folder / "site")
    assert not (folder / "site").exists()


def test_a_draft_is_published_but_not_on_the_site(report_outputs, tmp_path):
    outputs, metas = report_outputs
    folder = territory_copy(outputs, tmp_path, "est", "Ville de l'Est")
    set_meta(folder / "mobility_access" / "demonstrator.json", draft=True)
    summary = build_site(folder, folder / "site")
    assert not (summary.site_dir / "mobility_access.html").exists()
    assert (summary.site_dir / "energy_precarity.html").exists()
    assert metas["mobility_access"]["title"] not in summary.index.read_text(encoding="utf-8")


def test_two_territories_get_two_sites_and_one_index(report_outputs, tmp_path):
    outputs, metas = report_outputs
    for territory_id, name in (("est", "Ville de l'Est"), ("ouest", "Ville de l'Ouest")):
        territory_copy(outputs, tmp_path, territory_id, name)
    east = publish_territory_site("est", sorted(metas), tmp_path)
    publish_territory_site("ouest", ["energy_precarity"], tmp_path)  # mobility left the project
    assert east.pages >= 3 and east.removed == []
    assert not (tmp_path / "ouest" / "mobility_access").exists()
    assert (tmp_path / "est" / "mobility_access").exists()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in index
    assert 'href="est/site/index.html">Ville de l&#x27;Est</a>' in index
    assert 'href="ouest/site/index.html">Ville de l&#x27;Ouest</a>' in index
    west_site = (tmp_path / "ouest" / "site" / "index.html").read_text(encoding="utf-8")
    assert "Ville de l&#39;Ouest" in west_site and "Ville de l&#39;Est" not in west_site


def test_remove_stale_keeps_the_site_and_hidden_folders(report_outputs, tmp_path):
    outputs, _ = report_outputs
    folder = territory_copy(outputs, tmp_path, "est", "Est")
    (folder / ".energy_precarity.publish-staging-1").mkdir()
    (folder / ".energy_precarity.publish-staging-1" / "demonstrator.json").write_text("{}")
    with set_aside_stale(folder, ["energy_precarity"]) as removed:
        assert removed == ["mobility_access"]
    assert not (folder / "mobility_access").exists()
    assert (folder / ".energy_precarity.publish-staging-1").exists() and (folder / "energy_precarity").exists()
    assert write_index(tmp_path).exists()  # no site yet: the index says so
    assert "Aucun territoire" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_failed_build_removes_nothing(report_outputs, tmp_path):
    outputs, _ = report_outputs
    folder = territory_copy(outputs, tmp_path, "est", "Est")
    meta = folder / "energy_precarity" / "demonstrator.json"
    meta.write_text("{ not json", encoding="utf-8")  # the site cannot be built
    with pytest.raises(SourceError):
        publish_territory_site("est", ["energy_precarity"], tmp_path)
    assert (folder / "mobility_access" / "demonstrator.json").exists()  # set aside, then put back
    assert not [p for p in folder.iterdir() if ".stale-" in p.name]


def test_a_staging_folder_left_by_a_crash_is_never_listed(report_outputs, tmp_path):
    """A `kill -9` during publication leaves `.<demo>.publish-staging-*` beside the
    target: the next site and the index must not list that demonstrator twice."""
    outputs, metas = report_outputs
    folder = territory_copy(outputs, tmp_path, "est", "Ville de l'Est")
    shutil.copytree(folder / "energy_precarity", folder / ".energy_precarity.publish-staging-abc123")
    built = publish_territory_site("est", sorted(metas), tmp_path)
    assert built.pages >= 3
    page = (folder / "site" / "index.html").read_text(encoding="utf-8")
    assert page.count('<li class="demo-card">') == len(metas)  # one card each, none for the leftover
    assert page.count('<li><a href="energy_precarity.html">') == 1
