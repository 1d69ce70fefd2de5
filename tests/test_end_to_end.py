"""One end-to-end run on the sample territory, checked against an independent computation.

The project is run as a user runs it (`datacites sample`, `datacites run`) in a scratch
copy of the project's cards, then its per-IRIS figures are recomputed here with plain
GeoPandas and pandas from the generated source files.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from pipelines.config import PROJECT_ROOT
from tests_support import BIN, scratch_project

pytestmark = pytest.mark.slow
@pytest.fixture(scope="module")
def project(sample_project):
    return sample_project


@pytest.fixture(scope="module")
def published(project):
    folder = project["root"] / "outputs" / "sample" / "energy_precarity"
    return {z: pd.read_csv(folder / f"energy_precarity_{z}.csv", dtype={"code_iris": str, "code_commune": str})
            for z in ("iris", "commune")}


def independent_iris_figures(sample: Path) -> pd.DataFrame:
    """Per-IRIS figures recomputed with GeoPandas straight from the sample files."""
    iris = gpd.read_file(sample / "contours_iris.gpkg", layer="contours_iris")[["CODE_IRIS", "geometry"]]
    grid = gpd.read_file(sample / "filosofi_200m.gpkg")[["idcar_200m", "men", "men_pauv", "geometry"]].to_crs(iris.crs)
    grid["cell_area"] = grid.geometry.area
    pieces = gpd.overlay(grid, iris, how="intersection", keep_geom_type=True)
    pieces["piece_area"] = pieces.geometry.area
    inside = pieces.groupby("idcar_200m")["piece_area"].transform("sum")
    weight = pieces["piece_area"] / inside
    households = (pieces.assign(men=pieces.men * weight, men_pauv=pieces.men_pauv * weight)
                  .groupby("CODE_IRIS")[["men", "men_pauv"]].sum())
    dpe = pd.read_csv(sample / "dpe_logements_existants.csv", dtype=str)
    dpe = dpe[dpe.type_batiment.isin(["appartement", "maison"])]  # whole-building DPE are not dwellings
    points = gpd.GeoDataFrame(dpe, geometry=gpd.points_from_xy(
        dpe.coordonnee_cartographique_x_ban.astype(float), dpe.coordonnee_cartographique_y_ban.astype(float)), crs=iris.crs)
    joined = gpd.sjoin(points, iris, predicate="intersects").reset_index()
    joined = joined.sort_values("CODE_IRIS").drop_duplicates("index")  # boundary points: lowest code
    joined["fg"] = joined.etiquette_dpe.isin(["F", "G"])
    joined["predicted"] = joined.conso_5_usages_par_m2_ef.astype(float) * joined.surface_habitable_logement.astype(float) / 1000
    dwellings = joined.groupby("CODE_IRIS").agg(dpe_count=("fg", "size"), fg_count=("fg", "sum"),
                                                predicted=("predicted", "mean"))
    table = iris.set_index("CODE_IRIS")[[]].join(households).join(dwellings).fillna(0)
    table = table.join(metered_by_iris(sample, iris))
    table["share_fg"] = table.fg_count / table.dpe_count.where(table.dpe_count > 0)
    table["low_income_fg_households"] = table.men_pauv * table.share_fg.fillna(0)
    return table


def metered_by_iris(sample: Path, iris: gpd.GeoDataFrame) -> pd.DataFrame:
    """Households with a smart meter and their mean yearly consumption (MWh), per IRIS."""
    meters = pd.read_csv(sample / "smart_meter_readings.csv", dtype={"numero_compteur": str})
    homes = meters.groupby("numero_compteur").agg(x=("x_l93", "first"), y=("y_l93", "first"), kwh=("conso_kwh", "sum"))
    points = gpd.GeoDataFrame(homes, geometry=gpd.points_from_xy(homes.x, homes.y), crs=iris.crs)
    joined = gpd.sjoin(points, iris, predicate="within")
    return joined.groupby("CODE_IRIS").agg(metered=("kwh", "size"), metered_mwh=("kwh", lambda v: v.sum() / 1000 / len(v)))


def test_outputs_written(project):
    out = project["root"] / "outputs" / "sample"
    for zoning in ("iris", "commune"):
        for ext in ("csv", "parquet", "gpkg", "manifest.json"):
            assert (out / "energy_precarity" / f"energy_precarity_{zoning}.{ext}").stat().st_size > 0
    assert (out / "site" / "index.html").exists()
    document = json.loads((out / "energy_precarity" / "demonstrator.json").read_text(encoding="utf-8"))
    assert document["territory"]["fictional"] is True
    assert len(document["headlines"]) >= 3


def test_iris_figures_match_independent_geopandas(project, published):
    expected = independent_iris_figures(project["root"] / "sources" / "sample")
    got = published["iris"].set_index("code_iris").loc[expected.index]
    assert len(got) == 40
    np.testing.assert_array_equal(got["dpe_count"].to_numpy(), expected["dpe_count"].to_numpy())
    np.testing.assert_allclose(got["households"], expected["men"], rtol=1e-6)
    np.testing.assert_allclose(got["low_income_households"], expected["men_pauv"], rtol=1e-6)
    np.testing.assert_allclose(got["share_fg"], expected["share_fg"], rtol=1e-6)
    np.testing.assert_allclose(got["low_income_fg_households"], expected["low_income_fg_households"], rtol=1e-6)
    np.testing.assert_allclose(got["predicted_consumption_per_dwelling"], expected["predicted"], rtol=1e-6)
    shown = got["metered_households"].notna()
    assert shown.sum() >= 35 and (got.loc[shown, "metered_households"] >= 11).all()
    np.testing.assert_array_equal(got.loc[shown, "metered_households"], expected.loc[shown, "metered"])
    np.testing.assert_allclose(got.loc[shown, "metered_consumption_per_household"], expected.loc[shown, "metered_mwh"], rtol=1e-6)


def test_commune_table_sums_iris(published):
    iris, commune = published["iris"], published["commune"]
    by_commune = iris.groupby("code_commune")["households"].sum()
    np.testing.assert_allclose(commune.set_index("code_commune")["households"].loc[by_commune.index], by_commune, rtol=1e-9)
    assert commune["code_commune"].str.fullmatch(r"00\d{3}").all()


def test_private_operator_figures_respect_ten_delivery_points(published):
    iris = published["iris"]
    shown = iris["operator_delivery_points"].dropna()
    assert len(shown) > 0 and (shown >= 10).all()
    hidden = iris["operator_delivery_points"].isna()
    assert hidden.any(), "the sample has an IRIS with fewer than 10 delivery points: it must be hidden"
    # one code for every hidden cell: "n<10" would give an attacker an upper bound
    assert (iris.loc[hidden, "secret_operator_delivery_points"] == "secret").all()
    assert iris.loc[~hidden, "secret_operator_delivery_points"].isna().all()


def test_definitions_validate_before_anything_is_generated(tmp_path):
    env = scratch_project(tmp_path)
    env.pop("DAGSTER_HOME")  # as on a fresh clone: nothing set, nothing generated
    done = subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-w", str(PROJECT_ROOT / "workspace.yaml")],
                          env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert not (tmp_path / "sources" / "sample").exists()
