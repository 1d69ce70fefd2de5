"""Housing demonstrator: pure functions on tiny inline frames with hand-computed answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from pipelines.catalogue.models import Territory
from pipelines.connectors.dvf import DVF_COLUMNS, mutations
from tests_support import load_demonstrator, step_context

CRS = "EPSG:3035"
E0, N0 = 3_800_000, 2_300_000


@pytest.fixture(scope="module")
def demo():
    card, registry, _ = load_demonstrator("housing_affordability")
    return card, registry


@pytest.fixture(scope="module")
def housing():
    return load_demonstrator("housing_affordability")[2]


def make_ctx(demo, **params):
    territory = Territory(id="test", name="Test", fictional=True, working_crs=CRS, grid_crs=CRS, data_dir="test")
    return step_context(*demo, territory, **params)


def lot(mutation, date, nature, value, kind, surface, *, lot_number=None, parcel="00001000AB0001", culture=None,
        x=100.0, y=100.0) -> dict:
    """One line of DVF as the connector returns it (one local or land use of a mutation)."""
    codes = {"Maison": "1", "Appartement": "2", "Dépendance": "3", "Local industriel. commercial ou assimilé": "4"}
    return {"id_mutation": mutation, "date_mutation": pd.Timestamp(date), "numero_disposition": "1",
            "nature_mutation": nature, "valeur_fonciere": value, "code_departement": "00", "code_commune": "00001",
            "id_parcelle": parcel, "lot1_numero": lot_number, "nombre_lots": 1 if lot_number else 0,
            "code_type_local": codes.get(kind), "type_local": kind, "surface_reelle_bati": surface,
            "nombre_pieces_principales": 3 if kind in ("Maison", "Appartement") else 0,
            "code_nature_culture": culture, "surface_terrain": np.nan, "x": E0 + x, "y": N0 + y}


def dvf_lines() -> pd.DataFrame:
    rows = [
        # M1: a flat sold with its cellar: two lines (two lots), one sale at 150,000 / 50 m² = 3,000.
        lot("2023-1", "2023-03-01", "Vente", 150_000.0, "Appartement", 50.0, lot_number="12"),
        lot("2023-1", "2023-03-01", "Vente", 150_000.0, "Dépendance", np.nan, lot_number="40"),
        # M2: a house repeated on two lines (built land and garden): one sale, 250,000 / 100 m² = 2,500.
        lot("2023-2", "2023-05-01", "Vente", 250_000.0, "Maison", 100.0, culture="S"),
        lot("2023-2", "2023-05-01", "Vente", 250_000.0, "Maison", 100.0, culture="J"),
        # M3: two flats in one sale: not one dwelling.
        lot("2023-3", "2023-06-01", "Vente", 300_000.0, "Appartement", 40.0, lot_number="1"),
        lot("2023-3", "2023-06-01", "Vente", 300_000.0, "Appartement", 40.0, lot_number="2"),
        # M4: an exchange, not a sale.
        lot("2022-4", "2022-02-01", "Echange", 90_000.0, "Appartement", 60.0, lot_number="7"),
        # M5: sold in 2018, outside the last 5 years (2019-2023).
        lot("2018-5", "2018-09-01", "Vente", 100_000.0, "Appartement", 40.0, lot_number="3"),
        # M6: a flat sold with business premises.
        lot("2022-6", "2022-10-01", "Vente", 200_000.0, "Appartement", 30.0, lot_number="4"),
        lot("2022-6", "2022-10-01", "Vente", 200_000.0, "Local industriel. commercial ou assimilé", 80.0, lot_number="5"),
        # M7: a flat, 100,000 / 40 m² = 2,500, in the second IRIS.
        lot("2021-7", "2021-01-15", "Vente", 100_000.0, "Appartement", 40.0, lot_number="9", x=1500.0),
    ]
    frame = pd.DataFrame(rows)[list(DVF_COLUMNS)]
    frame.attrs["crs"] = CRS
    return frame


def iris_zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code_iris": ["000010001", "000010002"], "nom_iris": ["A", "B"],
                             "code_commune": ["00001", "00001"], "nom_commune": ["Ville", "Ville"]},
                            geometry=[box(E0, N0, E0 + 1000, N0 + 1000), box(E0 + 1000, N0, E0 + 2000, N0 + 1000)],
                            crs=CRS)


def test_sales_of_one_dwelling_counted_once(demo, housing):
    sales = housing.dwelling_sales(dvf_lines(), iris_zones(), ctx=make_ctx(demo))
    assert sales["id_mutation"].tolist() == ["2021-7", "2023-1", "2023-2"]
    assert sales["type"].tolist() == ["appartement", "appartement", "maison"]
    assert sales["price_m2"].tolist() == [2500.0, 3000.0, 2500.0]
    assert sales["code_iris"].tolist() == ["000010002", "000010001", "000010001"]
    assert (sales["code_commune"] == "00001").all()
    assert (sales.attrs["first_year"], sales.attrs["last_year"]) == (2019, 2023)


def test_years_param_widens_the_window(housing):
    kept = housing.select_sales(mutations(dvf_lines()), natures=["Vente"], years=6)
    assert sorted(kept["id_mutation"]) == ["2018-5", "2021-7", "2023-1", "2023-2"]


def sales_frame(prices: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = [(zone, kind, p) for (zone, kind), values in prices.items() for p in values]
    return pd.DataFrame(rows, columns=["code_iris", "type", "price_m2"])


def test_medians_even_count_and_not_significant_zones(housing):
    sales = sales_frame({("Z1", "appartement"): [2000, 5000, 3000, 4000], ("Z1", "maison"): [1000],
                         ("Z2", "appartement"): [1000, 2000, 3000]})
    table = housing.price_medians(sales, "code_iris", pd.Series(["Z1", "Z2", "Z3"]), min_sales=4).set_index("code_iris")
    assert table.loc["Z1", "median_price_m2_flats"] == 3500.0           # (3000 + 4000) / 2
    assert table.loc["Z1", "median_price_m2_dwellings"] == 3000.0       # 1000 2000 [3000] 4000 5000
    assert table["sales_flats"].tolist() == [4, 3, 0] and table["sales_houses"].tolist() == [1, 0, 0]
    assert table[["median_price_m2_houses"]].isna().all().all()
    assert np.isnan(table.loc["Z2", "median_price_m2_flats"]) and np.isnan(table.loc["Z2", "median_price_m2_dwellings"])
    assert table.loc["Z1", "statut"] == "prix des maisons non significatif (1 vente, moins de 4)"
    assert table.loc["Z2", "statut"] == ("prix des appartements non significatif (3 ventes, moins de 4) ; "
                                         "prix des maisons non significatif (0 vente, moins de 4) ; "
                                         "prix des logements non significatif (3 ventes, moins de 4)")
    assert table.loc["Z3", "sales_dwellings"] == 0


def test_stock_by_iris(demo, housing):
    # Cell 1 ([0, 200]²): 10 + 5 main residences, all in IRIS A (x < 300).
    # Cell 2 ([200, 400] × [0, 200]): 4, half in A, half in B. A missing count counts as 0.
    grid = gpd.GeoDataFrame({"idcar_200m": ["c1", "c2"], "log_av45": [10.0, 0.0], "log_45_70": [0.0, np.nan],
                             "log_70_90": [0.0, 0.0], "log_ap90": [5.0, 0.0], "log_inc": [0.0, 4.0]},
                            geometry=[box(E0, N0, E0 + 200, N0 + 200), box(E0 + 200, N0, E0 + 400, N0 + 200)], crs=CRS)
    iris = gpd.GeoDataFrame({"code_iris": ["000010001", "000010002"]},
                            geometry=[box(E0, N0, E0 + 300, N0 + 200), box(E0 + 300, N0, E0 + 1000, N0 + 200)], crs=CRS)
    rpls = pd.DataFrame({"code_commune": ["00001"] * 3, "nb_logements": pd.array([8, 3, 5], dtype="Int64"),
                         "x": [E0 + 100, E0 + 350, np.nan], "y": [N0 + 100, N0 + 100, np.nan]})
    rpls.attrs["crs"] = CRS
    stock = housing.stock_by_iris(grid, rpls, iris, ctx=make_ctx(demo)).set_index("code_iris")
    np.testing.assert_allclose(stock["dwellings"], [17.0, 2.0])
    assert stock["social_dwellings"].tolist() == [8.0, 3.0]
    assert stock.attrs["rpls_without_coordinates"] == 1


def commune_inputs():
    # IRIS 1: ten flats at 2,000 €/m²; IRIS 2: ten at 4,000 and one at 5,000. Medians per
    # IRIS: 2,000 and 4,000; the commune's median is that of its 21 sales (the 11th: 4,000),
    # not the median of the IRIS medians (3,000).
    sales = sales_frame({("000010001", "appartement"): [2000.0] * 10,
                         ("000010002", "appartement"): [4000.0] * 10 + [5000.0]})
    sales["code_commune"] = "00001"
    sales.attrs.update(first_year=2019, last_year=2023)
    stock = pd.DataFrame({"code_iris": ["000010001", "000010002"], "dwellings": [100.0, 50.0],
                          "social_dwellings": [20.0, 5.0]})
    incomes = pd.DataFrame({"code_commune": ["00001"], "disp_med": [20_000.0], "masque": [False]})
    vacancy = pd.DataFrame({"code_commune": ["00001", "99999"], "pp_vacant": pd.array([12, 40], dtype="Int64"),
                            "pp_vacant_plus_2ans": pd.array([None, 9], dtype="Int64"),
                            "pp_total": pd.array([120, 400], dtype="Int64"), "masque": [True, False]})
    communes = gpd.GeoDataFrame({"code_commune": ["00001"], "nom_commune": ["Ville"]},
                                geometry=[box(E0, N0, E0 + 2000, N0 + 1000)], crs=CRS)
    return sales, stock, incomes, vacancy, communes


def test_commune_table_medians_from_its_own_sales(demo, housing):
    sales, stock, incomes, vacancy, communes = commune_inputs()
    table = housing.indicators_by_commune(sales, stock, incomes, vacancy, iris_zones(), communes,
                                          ctx=make_ctx(demo))
    row = table.iloc[0]
    assert row["median_price_m2_flats"] == 4000.0 and row["sales_flats"] == 21
    assert row["years_income_70m2"] == pytest.approx(4000 * 70 / 20_000)  # 14 years
    assert row["share_social_housing"] == pytest.approx(25 / 150)
    assert row["vacancy_rate"] == pytest.approx(0.1) and np.isnan(row["long_term_vacancy_rate"])
    assert "masqués par le producteur" in row["statut"]
    assert not [c for c in table.columns if c.startswith("_")]  # no hidden columns for the summary


def test_territory_figures_are_medians_over_all_sales(demo, housing):
    sales, *_ = commune_inputs()
    figures = housing.territory_figures(sales, ctx=make_ctx(demo))
    assert len(figures) == 1
    assert figures["median_price_m2_flats"].iloc[0] == 4000.0 and figures["sales_flats"].iloc[0] == 21
    assert figures["first_year"].iloc[0] == 2019


def test_iris_table_years_of_income_and_secret_income(demo, housing):
    sales, stock, _, _, _ = commune_inputs()
    incomes = pd.DataFrame({"code_iris": ["000010001", "000010002"], "disp_med": [20_000.0, np.nan],
                            "masque": [False, False]})
    table = housing.indicators_by_iris(sales, stock, incomes, iris_zones(), ctx=make_ctx(demo)).set_index("code_iris")
    assert table.loc["000010001", "years_income_70m2"] == pytest.approx(2000 * 70 / 20_000)  # 7 years
    assert np.isnan(table.loc["000010002", "years_income_70m2"])
    assert "revenu médian non diffusé" in table.loc["000010002", "statut"]
    assert table[["vacancy_rate", "vacant_dwellings"]].isna().all().all()  # LOVAC is per commune


def test_social_share_above_one_is_not_published(housing):
    frame = pd.DataFrame({"median_income": [20_000.0], "median_price_m2_dwellings": [np.nan], "dwellings": [3.0],
                          "social_dwellings": [10.0], "private_dwellings": [np.nan], "vacant_dwellings": [np.nan],
                          "long_term_vacant": [np.nan], "statut": [""]})
    out = housing.derive(frame, 70)
    assert np.isnan(out.loc[0, "share_social_housing"])
    assert out.loc[0, "statut"].startswith("part de logements sociaux non significative")


def test_crossing_by_hand(housing):
    # Public household data: 100 - 20 + 50 - 5 = 125 private dwellings lived in; LOVAC: 150,
    # of which 15 vacant (10 %) and 6 for more than two years. Commune 3 is masked: left out.
    communes = pd.DataFrame({"dwellings": [100.0, 50.0, 30.0], "social_dwellings": [20.0, 5.0, 0.0],
                             "private_dwellings": [90.0, 60.0, np.nan], "vacant_dwellings": [9.0, 6.0, np.nan],
                             "long_term_vacant": [4.0, 2.0, np.nan]})
    item = housing.crossing(communes)
    assert (item["public_only"], item["with_shared"], item["vacant_dwellings"]) == (125.0, 150.0, 15.0)
    text = item["sentence"].replace("\u202f", " ").replace("\u00a0", " ")
    assert "125 logements privés dans les 2 communes" in text and "10,0 %" in text and "6 logements vides" in text


def test_declaration_is_consistent_with_the_registry(demo):
    definition, registry = demo
    assert all(registry[i].theme == "housing" for i in definition.indicators)
    assert 3 <= len(definition.headlines) <= 5 and definition.main_indicator in definition.indicators


def test_registry_texts_quote_the_params(demo):
    params, registry = demo[0].params, demo[1]
    assert f"{params['surface_m2']} m²" in registry["years_income_70m2"].definition
    assert f"{params['surface_m2']} m²" in registry["years_income_70m2"].plain
    for indicator in ("median_price_m2_flats", "median_price_m2_houses", "median_price_m2_dwellings"):
        text = registry[indicator].definition
        assert f"moins de {params['min_sales']} ventes" in text and f"{params['years']} dernières années" in text
