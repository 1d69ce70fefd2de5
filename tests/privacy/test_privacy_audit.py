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


def write_table(folder: Path, zoning: str, frame: pd.DataFrame, *, formats=("csv", "parquet", "gpkg"), **extra):
    stem = folder / f"{DEMO}_{zoning}"
    geo = gpd.GeoDataFrame(frame.copy(), geometry=[box(i, 0, i + 1, 1) for i in range(len(frame))], crs="EPSG:2154")
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
    # A grid table of the same population published in full: its total minus the
    # published commune gives the hidden one.
    communes = COMMUNES.assign(households=[55, np.nan], secret_households=["", "n<11"])
    write_table(published, "commune", communes)
    grid = pd.DataFrame({"idcar_200m": ["CRS3035RES200mN2625200E3462200", "CRS3035RES200mN2625400E3462200"],
                         "households": [60, 45]})
    write_table(published, "grid", grid, zone_id_column="idcar_200m", parent_zoning=None, parent_id_column=None)
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
