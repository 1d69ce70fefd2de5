"""The disclosure audit on small published folders, each with one planted problem."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
import pytest
from shapely.geometry import box

from pipelines import config
from pipelines.privacy.audit import audit_outputs, main_audit

METER = "14012345678901"
DEMO = "energy_precarity"
# Commune 00001: IRIS ...01 (30 households), ...02 (5, primary), ...03 (20, secondary);
# commune 00002: one IRIS of 50. The protected pattern hides ...02 and ...03.
IRIS = pd.DataFrame({"code_iris": ["000010001", "000010002", "000010003", "000020001"],
                     "nom_iris": ["Centre fictif", "Port fictif", "Gare fictive", "Bourg fictif"],
                     "code_commune": ["00001", "00001", "00001", "00002"],
                     "households": [30, np.nan, np.nan, 50], "share_fg": [0.2, np.nan, np.nan, 0.1],
                     "secret_households": ["", "n<11", "secondary", ""]})
COMMUNES = pd.DataFrame({"code_commune": ["00001", "00002"], "nom_commune": ["Fictiville", "Fictibourg"],
                         "households": [55, 50], "share_fg": [0.15, 0.1], "secret_households": ["", ""]})


def manifest(zoning: str, frame: pd.DataFrame, **overrides) -> dict:
    zone_id = "code_iris" if zoning == "iris" else "code_commune"
    return {"table": f"{DEMO}_{zoning}", "demonstrator": DEMO, "zoning": zoning, "zone_id_column": zone_id,
            "zone_name_column": zone_id.replace("code", "nom"),
            "parent_zoning": "commune" if zoning == "iris" else None,
            "parent_id_column": "code_commune" if zoning == "iris" else None,
            "unit": "households", "count_columns": {"households": "households"}, "rule": {"households": 11},
            "allowed_columns": list(frame.columns) + ["geometry"], "suppressed_cells": 2,
            "sources": ["smart_meter"], "licence": "Licence Ouverte 2.0", "sensitivity": "aggregated"} | overrides


def write_table(folder: Path, zoning: str, frame: pd.DataFrame, *, formats=("csv", "parquet", "gpkg"),
                geometry=None, **extra):
    stem = folder / f"{DEMO}_{zoning}"
    geometry = [box(i, 0, i + 1, 1) for i in range(len(frame))] if geometry is None else geometry
    geo = gpd.GeoDataFrame(frame.copy(), geometry=geometry, crs="EPSG:2154")
    if "csv" in formats:
        frame.to_csv(stem.with_suffix(".csv"), index=False)
    if "parquet" in formats:
        geo.to_parquet(stem.with_suffix(".parquet"), index=False)
    if "gpkg" in formats:
        geo.to_file(stem.with_suffix(".gpkg"), layer=stem.name, driver="GPKG")
    stem.with_name(stem.name + ".manifest.json").write_text(json.dumps(manifest(zoning, frame, **extra)))


def write_page(folder: Path, fig: go.Figure) -> Path:
    site = folder / "site"
    (site / "assets").mkdir(parents=True, exist_ok=True)
    (site / "assets" / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    page = site / "energy_precarity.html"
    page.write_text("<html><body><h1>Précarité énergétique</h1><script type='application/json'>"
                    f"{pio.to_json(fig, validate=False)}</script><script src='assets/plotly.min.js'></script>"
                    "</body></html>", encoding="utf-8")
    return page


@pytest.fixture
def published(tmp_path) -> Path:
    folder = tmp_path / DEMO
    folder.mkdir()
    write_table(folder, "iris", IRIS)
    write_table(folder, "commune", COMMUNES)
    fig = go.Figure(go.Bar(x=IRIS["nom_iris"], y=IRIS["households"], customdata=np.array([0.2, 0.0, 0.0, 0.1]),
                           hovertemplate="%{x}: %{y} ménages<extra></extra>"))
    write_page(folder, fig)
    return folder


def rules_of(findings) -> set[tuple[str, str, str]]:
    return {(Path(f.table).name, f.zone, f.rule) for f in findings}


def test_a_properly_protected_folder_passes(published):
    assert audit_outputs(published) == []


def test_meter_number_in_a_chart_tooltip_is_found_without_printing_it(published):
    fig = go.Figure(go.Bar(x=["Port fictif"], y=[12], hovertext=[f"compteur {METER}"]))
    write_page(published, fig)
    findings = audit_outputs(published)
    assert ("energy_precarity.html", "", "identifier:meter_number") in rules_of(findings)
    assert all(METER not in str(f) for f in findings)


def test_meter_number_in_a_charts_base64_array_is_found(published):
    fig = go.Figure(go.Scatter(x=[1.0, 2.0], y=[1.0, 2.0], customdata=np.array([float(METER), 3.0])))
    page = write_page(published, fig)
    assert '"bdata"' in page.read_text()   # Plotly really encodes it, no digits in the page
    assert METER not in page.read_text()
    assert ("energy_precarity.html", "", "identifier:meter_number") in rules_of(audit_outputs(published))


def test_table_without_manifest_is_a_finding(published):
    (published / "extra.csv").write_text("code_iris,households\n000010001,30\n")
    assert ("extra.csv", "", "manifest") in rules_of(audit_outputs(published))


def test_the_catalogues_list_of_datasets_is_not_a_table_but_is_still_scanned(published):
    catalogue = published / "catalogue"
    catalogue.mkdir()
    (catalogue / "catalogue_scdl.csv").write_text("COLL_NOM,ID,TITRE\nFictiville,energy_precarity_iris,Précarité\n")
    assert audit_outputs(published) == []  # no manifest needed: it describes tables, holds no figure
    (catalogue / "catalogue_scdl.csv").write_text(f"COLL_NOM,ID,TITRE\nFictiville,x,compteur {METER}\n")
    assert ("catalogue_scdl.csv", "", "identifier:meter_number") in rules_of(audit_outputs(published))


def test_column_outside_the_allow_list_is_a_finding(published):
    frame = IRIS.assign(numero_rue=["1", "2", "3", "4"])
    write_table(published, "iris", frame, allowed_columns=list(IRIS.columns) + ["geometry"])
    found = rules_of(audit_outputs(published))
    assert {(f"{DEMO}_iris.{ext}", "", "allowed_columns") for ext in ("csv", "parquet", "gpkg")} <= found


def test_cell_below_threshold_names_table_zone_and_rule_not_value(published):
    write_table(published, "iris", IRIS.assign(households=[30, 7, np.nan, 50]), formats=("csv",))
    for ext in ("parquet", "gpkg"):
        (published / f"{DEMO}_iris.{ext}").unlink()
    findings = [f for f in audit_outputs(published) if f.rule == "threshold"]
    assert [(Path(f.table).name, f.zone) for f in findings] == [(f"{DEMO}_iris.csv", "000010002")]
    assert "7" not in findings[0].message and "households" in findings[0].message


def test_commune_minus_its_published_iris_recovers_the_hidden_one(published):
    # Only the primary cell hidden: 55 - 30 - 20 gives it back.
    frame = IRIS.assign(households=[30, np.nan, 20, 50], secret_households=["", "n<11", "", ""])
    write_table(published, "iris", frame)
    found = rules_of(audit_outputs(published))
    assert (f"{DEMO}_iris", "000010002", "differencing") in found


def test_unlisted_zone_isolated_by_its_parent_total(published):
    # The 5-household IRIS is left out of the table instead of being suppressed.
    frame = IRIS.drop(index=[1, 2]).assign(households=[30, 50])
    write_table(published, "iris", frame)
    write_table(published, "commune", COMMUNES.assign(households=[30 + 11 + 5, 50]))   # 11 unlisted + 5
    write_table(published, "iris", pd.concat([frame, IRIS.iloc[[2]].assign(households=11.0)]))
    assert (f"{DEMO}_commune", "00001", "differencing") in rules_of(audit_outputs(published))


def test_formats_that_disagree_on_a_suppressed_cell(published):
    geo = gpd.GeoDataFrame(IRIS.assign(households=[30, np.nan, 20, 50]),
                           geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:2154")
    geo.to_parquet(published / f"{DEMO}_iris.parquet", index=False)
    found = rules_of(audit_outputs(published))
    assert (f"{DEMO}_iris", "000010003", "formats_disagree") in found
    assert (f"{DEMO}_iris", "000010002", "differencing") in found   # the parquet value is used


def test_grid_and_commune_totals_difference_out_a_hidden_commune(published):
    # A grid table of the same population published in full, both cells across the two
    # communes (boxes [0, 1] and [1, 2]): its total minus the published commune gives the
    # hidden one. The IRIS fixture's boxes do not lie in its communes: left out here.
    for ext in ("csv", "parquet", "gpkg", "manifest.json"):
        (published / f"{DEMO}_iris.{ext}").unlink()
    communes = COMMUNES.assign(households=[55, np.nan], secret_households=["", "n<11"])
    write_table(published, "commune", communes)
    grid = pd.DataFrame({"idcar_200m": ["CRS3035RES200mN2625200E3462200", "CRS3035RES200mN2625400E3462200"],
                         "households": [60, 45]})
    write_table(published, "grid", grid, zone_id_column="idcar_200m", parent_zoning=None, parent_id_column=None,
                geometry=[box(0.5, 0, 1.5, 0.5), box(0.5, 0.5, 1.5, 1)])
    assert (f"{DEMO}_commune", "00002", "differencing") in rules_of(audit_outputs(published))


def test_identifier_shaped_values_in_a_table_and_a_file_name(published):
    write_table(published, "iris", IRIS.assign(nom_iris=["jean.dupont@example.fr", "06 12 34 56 78",
                                                         "1 85 05 78 006 084 36", "Bourg"]), formats=("csv",))
    (published / f"export_{METER}.txt").write_text("rien")
    found = rules_of(audit_outputs(published))
    for kind in ("email", "phone", "nir"):
        assert (f"{DEMO}_iris.csv", "", f"identifier:{kind}") in found
    assert ("export_[identifiant].txt", "", "identifier:meter_number") in found
    assert all(METER not in str(f) for f in audit_outputs(published))


def test_individual_coordinates_are_found(published):
    frame = IRIS.assign(x_l93=[700001.5, 700002.5, 700003.5, 700004.5], y_l93=6.6e6)
    frame = pd.concat([frame, frame.assign(x_l93=frame["x_l93"] + 0.25)])
    write_table(published, "iris", frame, formats=("csv",))
    found = rules_of(audit_outputs(published))
    assert (f"{DEMO}_iris.csv", "", "coordinates") in found


def test_geopackage_metadata_is_audited(published):
    path = published / f"{DEMO}_commune.gpkg"
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE gpkg_contents SET description = 'contact: jean.dupont@example.fr'")
    assert (f"{DEMO}_commune.gpkg", "", "identifier:email") in rules_of(audit_outputs(published))


def test_lowered_threshold_in_a_manifest_is_a_finding(published):
    write_table(published, "commune", COMMUNES, rule={"households": 5})
    assert (f"{DEMO}_commune", "", "threshold_lowered") in rules_of(audit_outputs(published))


def test_vendored_plotly_is_skipped_but_an_edited_copy_is_not(published):
    js = published / "site" / "assets" / "plotly.min.js"
    assert audit_outputs(published) == []   # its licence banner holds an e-mail address
    js.write_text(js.read_text(encoding="utf-8") + f"\n// {METER}\n", encoding="utf-8")
    assert ("site/assets/plotly.min.js", "", "identifier:meter_number") in {
        (f.table, f.zone, f.rule) for f in audit_outputs(published)}


def test_command_line_exit_codes_and_one_line_per_finding(published, capsys, monkeypatch, tmp_path):
    assert main_audit([str(published)]) == 0
    assert "audit passed" in capsys.readouterr().out
    (published / "extra.csv").write_text("a\n1\n")
    assert main_audit([str(published)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("extra.csv | zone - | manifest |") and "1 finding(s)" in out[-1]
    monkeypatch.setattr(config, "OUTPUTS_DIR", published)
    assert main_audit([]) == 1
    assert main_audit([str(tmp_path / "missing")]) == 2


# --- the attacker knows that listed hidden cells exist; demonstrator.json totals ----------


def write_document(folder: Path, territory_values: dict, headlines: list | None = None) -> None:
    (folder / "demonstrator.json").write_text(json.dumps({
        "id": DEMO, "title": "Précarité énergétique", "territory_values": territory_values,
        "headlines": headlines or []}), encoding="utf-8")


STATIONS = {"count_columns": {"carsharing_stations": "business"}, "rule": {"business": 3}}


def write_stations(folder: Path, iris: dict, communes: dict) -> None:
    """Car-sharing stations per IRIS and commune; None = hidden (uniform reason "secret")."""
    def frame(values: dict, zone: str) -> pd.DataFrame:
        out = pd.DataFrame({zone: list(values), "carsharing_stations": [np.nan if v is None else v
                                                                         for v in values.values()]})
        out["secret_carsharing_stations"] = ["secret" if v is None else "" for v in values.values()]
        return out
    iris_frame = frame(iris, "code_iris")
    iris_frame.insert(1, "code_commune", iris_frame["code_iris"].str[:5])
    write_table(folder, "iris", iris_frame, formats=("csv",), **STATIONS)
    write_table(folder, "commune", frame(communes, "code_commune"), formats=("csv",), **STATIONS)


@pytest.fixture
def stations_folder(tmp_path) -> Path:
    folder = tmp_path / DEMO
    folder.mkdir()
    return folder


# The confirmed disclosure: commune 00001 (IRIS ...01 = 10, ...02 = 12 stations) and the
# territory total (25) published; IRIS 000020001 (1 station, all of commune 00002) and
# 000030001, 000030002 (1 each, commune 00003 = 2) hidden.
LEAK_IRIS = {"000010001": 10, "000010002": 12, "000020001": None, "000030001": None, "000030002": None}
LEAK_COMMUNES = {"00001": 22, "00002": None, "00003": None}


def test_leaking_example_published_unprotected_is_flagged(stations_folder):
    write_stations(stations_folder, LEAK_IRIS, LEAK_COMMUNES)
    assert audit_outputs(stations_folder) == []   # without the total, nothing bounds them
    write_document(stations_folder, {"carsharing_stations": 25})
    findings = audit_outputs(stations_folder)
    # 25 - 22 = 3 stations for three hidden IRIS, each listed, so holding at least 1.
    hidden_iris = ("000020001", "000030001", "000030002")
    assert rules_of(findings) == ({(f"{DEMO}_iris", z, "differencing") for z in hidden_iris}
                                  | {(f"{DEMO}_commune", z, "differencing") for z in ("00002", "00003")})
    assert all("25" not in f.message and "22" not in f.message for f in findings)


def test_leaking_example_protected_by_protect_hierarchy_passes(stations_folder):
    from pipelines.privacy.suppression import protect_hierarchy

    atoms = pd.DataFrame([{"iris": i, "commune": i[:5], "units": 1}
                          for i, n in {"000010001": 10, "000010002": 12, "000020001": 1, "000030001": 1,
                                       "000030002": 1}.items() for _ in range(n)])
    table = protect_hierarchy(atoms, levels=["iris", "commune"], count_column="units", threshold=3)
    values = {(z, i): (None if pd.isna(v) else int(v))
              for z, i, v in zip(table["zoning"], table["zone_id"], table["units"], strict=False)}
    # The territory total is published (it used to be hidden here): commune 00001 and its
    # IRIS 000010001 (10) are hidden instead, so 25 - 12 = 13 stations for four hidden
    # IRIS of at least 1: each in [1, 10]. The total as a headline is audited too.
    assert values[("total", "total")] == 25
    assert values[("commune", "00001")] is None and values[("iris", "000010001")] is None
    write_stations(stations_folder, {i: v for (z, i), v in values.items() if z == "iris"},
                   {i: v for (z, i), v in values.items() if z == "commune"})
    write_document(stations_folder, {"carsharing_stations": 25})
    assert audit_outputs(stations_folder) == []


def test_territory_total_in_demonstrator_json_recomputes_a_hidden_commune(published):
    # Commune 00002 (50 households, one IRIS) hidden with its IRIS: nothing bounds it from
    # the tables alone; the territory total 105 published in demonstrator.json gives 105 - 55.
    write_table(published, "iris", IRIS.assign(households=[30, np.nan, np.nan, np.nan],
                                               secret_households=["", "secret", "secret", "secret"]))
    write_table(published, "commune", COMMUNES.assign(households=[55, np.nan], secret_households=["", "secret"]))
    assert audit_outputs(published) == []
    write_document(published, {"households": 105.0, "share_fg": 0.13})
    found = rules_of(audit_outputs(published))
    assert {(f"{DEMO}_commune", "00002", "differencing"), (f"{DEMO}_iris", "000020001", "differencing")} <= found
    assert (f"{DEMO}_iris", "000010002", "differencing") not in found   # still within [1, 24]


def test_headline_equal_to_the_territory_total_is_audited_too(published):
    write_table(published, "commune", COMMUNES.assign(households=[55, np.nan], secret_households=["", "secret"]))
    write_table(published, "iris", IRIS.assign(households=[30, np.nan, np.nan, np.nan],
                                               secret_households=["", "secret", "secret", "secret"]))
    write_document(published, {}, [{"indicator": "households", "label": "Ménages", "value": 105.0}])
    assert (f"{DEMO}_commune", "00002", "differencing") in rules_of(audit_outputs(published))


def test_territory_total_below_the_threshold_is_a_finding(tmp_path):
    # A tiny territory: one commune of two IRIS, all hidden; its total (7) is a headline.
    folder = tmp_path / DEMO
    folder.mkdir()
    iris = pd.DataFrame({"code_iris": ["000010001", "000010002"], "code_commune": ["00001", "00001"],
                         "households": [np.nan, np.nan], "secret_households": ["secret", "secret"]})
    write_table(folder, "iris", iris, formats=("csv",))
    write_table(folder, "commune", pd.DataFrame({"code_commune": ["00001"], "households": [np.nan],
                                                 "secret_households": ["secret"]}), formats=("csv",))
    write_document(folder, {}, [{"indicator": "households", "label": "Ménages", "value": 7}])
    findings = [f for f in audit_outputs(folder) if f.rule == "threshold"]
    assert [(f.table, f.zone) for f in findings] == [("demonstrator.json", "total")]
    assert "7" not in findings[0].message and "headlines[0]" in findings[0].message


def test_two_figures_of_the_same_total_that_disagree(published):
    write_document(published, {"households": 105.0}, [{"indicator": "households", "value": 104.0}])
    assert ("demonstrator.json", "total", "inconsistent_totals") in rules_of(audit_outputs(published))


def test_a_total_that_leaves_less_than_one_unit_per_hidden_cell_is_inconsistent(published):
    # Commune 00002 hidden (with its IRIS); a "territory" figure of 55, the sum over the
    # published communes only, would make 00002 empty, yet it is listed as hidden, so it
    # exists: the figure is not the territory total and cannot be audited as one.
    write_table(published, "iris", IRIS.assign(households=[30, np.nan, np.nan, np.nan],
                                               secret_households=["", "secret", "secret", "secret"]))
    write_table(published, "commune", COMMUNES.assign(households=[55, np.nan], secret_households=["", "secret"]))
    write_document(published, {"households": 55.0})
    assert ("demonstrator.json", "total", "inconsistent_totals") in rules_of(audit_outputs(published))


def test_an_empty_cell_without_a_reason_is_a_zone_known_to_be_empty(stations_folder):
    # Commune 00001 = 5 stations: IRIS ...01 hidden (a reason), ...02 empty without one (no
    # station, and the attacker can tell). So ...01 = 5 exactly. Were ...02 hidden too,
    # ...01 would lie in [1, 4], 3 wide: safe.
    write_stations(stations_folder, {"000010001": None, "000010002": None}, {"00001": 5})
    assert audit_outputs(stations_folder) == []
    frame = pd.read_csv(stations_folder / f"{DEMO}_iris.csv", dtype=str)
    frame.loc[1, "secret_carsharing_stations"] = np.nan
    write_table(stations_folder, "iris", frame, formats=("csv",), **STATIONS)
    assert (f"{DEMO}_iris", "000010001", "differencing") in rules_of(audit_outputs(stations_folder))


def test_a_free_text_column_with_an_address_or_a_pseudonym_blocks_publication(published):
    """The allow-list lets `statut` through: what it holds is scanned like everything else."""
    import hashlib

    digest = hashlib.sha256(METER.encode()).hexdigest()
    frame = IRIS.assign(statut=["", "12 rue des Lilas", digest, ""])
    write_table(published, "iris", frame, allowed_columns=list(IRIS.columns) + ["statut", "geometry"])
    found = rules_of(audit_outputs(published))
    for ext in ("csv", "parquet", "gpkg"):
        assert (f"{DEMO}_iris.{ext}", "", "identifier:address") in found
        assert (f"{DEMO}_iris.{ext}", "", "identifier:digest") in found
    assert all(digest not in str(f) and "Lilas" not in str(f) for f in audit_outputs(published))


def test_the_outputs_of_several_territories_are_audited_one_by_one(published, tmp_path):
    """`datacites audit` on outputs/: each territory apart (their zones are unrelated), the
    index on its own; a finding in one territory still fails the whole."""
    import shutil

    root = tmp_path / "outputs"
    for territory in ("a", "b"):
        shutil.copytree(published, root / territory / DEMO)
    (root / "index.html").write_text("<html lang='fr'><body>Territoires</body></html>", encoding="utf-8")
    from pipelines.privacy.audit import audit_parts

    assert audit_parts(root) == [root / "a", root / "b", root / "index.html"]
    assert main_audit([str(root)]) == 0
    (root / "b" / DEMO / "notes.txt").write_text("compteur 14012345678901\n", encoding="utf-8")
    assert main_audit([str(root)]) == 1
