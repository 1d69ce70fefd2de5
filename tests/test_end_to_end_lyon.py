"""A real territory end to end: Lyon 8e (../shared/realterritory/lyon_8e, README there).

Real IRIS contours (CRS84 GeoJSON), INSEE Filosofi per IRIS (2018) and per
arrondissement (2019), ADEME's DPE of new dwellings (../shared/realdata) and Enedis's
residential consumption per address standing for the energy operator. No 200 m grid
(its alternatives, the poverty rates, stand in), no smart meters. The territory card
is the one docs/territories.md describes; the files are linked into sources/, never
copied. Every published figure is recomputed here from the raw files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from tests_support import run_cli, scratch_project

pytestmark = pytest.mark.slow
CARD = Path(__file__).parent / "territories" / "lyon_8e.yaml"
DPE = "dpe-v2-logements-neufs_69_part1.csv"
ENEDIS = "consommation-annuelle-residentielle-par-adresse-69008.csv"


@pytest.fixture(scope="module")
def lyon(tmp_path_factory, request):
    territory = request.getfixturevalue("realterritory")("lyon_8e")
    dpe = request.getfixturevalue("realdata")("dpe_v2_neufs_lyon") / DPE
    root = tmp_path_factory.mktemp("lyon")
    env = scratch_project(root)
    folder = root / "sources" / "lyon_8e"
    folder.mkdir()
    for path in [*territory.iterdir(), dpe]:
        (folder / path.name).symlink_to(path)
    (root / "sources" / "territories" / "lyon_8e.yaml").write_text(CARD.read_text(encoding="utf-8"), encoding="utf-8")
    run_cli(["run", "--territory", "lyon_8e", "--demonstrator", "energy_precarity"], env, root)
    out = root / "outputs" / "lyon_8e" / "energy_precarity"
    table = pd.read_csv(out / "energy_precarity_iris.csv", dtype={"code_iris": str}).set_index("code_iris")
    return {"raw": territory, "dpe": dpe, "out": out, "iris": table,
            "doc": json.loads((out / "demonstrator.json").read_text(encoding="utf-8")), "root": root, "env": env}


def raw_rows(path: Path, sep: str = ";") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=sep))


def test_poverty_rates_per_iris_are_insees(lyon):
    rows = {r["IRIS"]: r["DISP_TP6018"] for r in raw_rows(lyon["raw"] / "BASE_TD_FILO_DISP_IRIS_2018_lyon8.csv")}
    got = lyon["iris"]["share_low_income"]
    assert sorted(got.index) == sorted(rows) and len(rows) == 27
    for code, rate in rows.items():
        if rate == "":  # secrecy at INSEE: published empty here too
            assert np.isnan(got[code])
        else:
            assert got[code] == pytest.approx(float(rate) / 100)
    assert int(got.isna().sum()) == 4


def test_new_dwellings_per_iris_match_a_spatial_join_of_the_raw_dpe(lyon):
    raw = pd.read_csv(lyon["dpe"], dtype=str, encoding="utf-8-sig")
    raw = raw[raw["Type_bâtiment"].str.lower().isin(["appartement", "maison"])]
    points = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["Coordonnée_cartographique_X_(BAN)"].astype(float),
                                                                raw["Coordonnée_cartographique_Y_(BAN)"].astype(float)),
                              crs=2154)
    iris = gpd.read_file(lyon["raw"] / "iris_lyon_8e.geojson").to_crs(2154)
    joined = gpd.sjoin(points, iris[["id", "geometry"]], predicate="within")
    expected = joined.groupby("id").size()
    got = lyon["iris"]["dpe_count"]
    assert got.sum() == expected.sum() > 1000
    for code, count in expected.items():
        assert got[code] == count
    fg = joined[joined["Etiquette_DPE"].isin(["F", "G"])].groupby("id").size()
    shown = got > 0
    np.testing.assert_allclose(lyon["iris"].loc[shown, "share_fg"], (fg.reindex(got.index).fillna(0) / got)[shown])
    # new dwellings are A to E: the main share is the poverty rate times 0 where counted
    both = lyon["iris"][["share_low_income", "share_fg"]].notna().all(axis=1)
    np.testing.assert_allclose(lyon["iris"].loc[both, "share_households_low_income_fg"],
                               lyon["iris"].loc[both, "share_low_income"] * lyon["iris"].loc[both, "share_fg"])


def test_enedis_consumption_per_dwelling_where_published(lyon):
    rows = [r for r in raw_rows(lyon["raw"] / ENEDIS) if r["annee"] == "2023"]
    dwellings, mwh = {}, {}
    for r in rows:
        code = r["code_iris"]
        dwellings[code] = dwellings.get(code, 0) + int(float(r["nombre_de_logements"]))
        mwh[code] = mwh.get(code, 0.0) + float(r["consommation_annuelle_totale_de_l_adresse_mwh"])
    got = lyon["iris"]
    published = got["operator_delivery_points"].notna()
    assert published.sum() >= 20  # most IRIS have well over 10 dwellings
    for code in got.index[published]:
        assert got.loc[code, "operator_delivery_points"] == dwellings[code]
        assert got.loc[code, "operator_consumption_per_dwelling"] == pytest.approx(mwh[code] / dwellings[code])
    assert not [c for c in dwellings if c.endswith("xxxx") and c in got.index]  # masked rows join no IRIS


def test_published_with_the_real_credits_and_no_fictional_banner(lyon):
    doc = lyon["doc"]
    credited = {s["id"]: s for s in doc["sources"]}
    assert credited["operator_consumption"]["producer"] == "Enedis"
    assert credited["filosofi_iris"]["date"] == "2018" and "Filosofi 2018" in credited["filosofi_iris"]["attribution"]
    assert "filosofi_200m" not in credited and "smart_meter" not in credited
    assert doc["territory"] == {"id": "lyon_8e", "name": "Lyon 8e arrondissement", "fictional": False}
    texts = json.dumps(doc, ensure_ascii=False) + "".join(
        p.read_text(encoding="utf-8") for p in (lyon["root"] / "outputs" / "lyon_8e" / "site").glob("*.html"))
    assert "fictif" not in texts.lower() and "fictive" not in texts.lower() and "banner-fictional" not in texts
    done = run_cli(["audit", str(lyon["out"])], lyon["env"], lyon["root"])
    assert "audit passed" in done.stdout


def test_the_page_says_what_the_files_cannot_tell_and_never_calls_a_zone_without_data_secret(lyon):
    """The territory's own caveats (DPE of new dwellings only, Enedis electricity only)
    reach the page; IRIS with no new dwelling diagnosed are said to have no data, not to
    be hidden by secrecy (the DPE are public: nothing of theirs is secret)."""
    page = (lyon["root"] / "outputs" / "lyon_8e" / "site" / "energy_precarity.html").read_text(encoding="utf-8")
    page = page.replace("&#39;", "'").replace("\u00a0", " ")
    assert "Seuls les logements neufs sont diagnostiqués" in page and "Électricité seulement" in page
    doc = lyon["doc"]
    assert {c["id"] for c in doc["source_caveats"]} == {"dpe", "operator_consumption"}
    assert "faute de données dans la source" in page
