"""IRIS and commune contours: IGN layouts old and new, GeoJSON, real extracts, checks."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod, Transformer

from pipelines.connectors import get_connector
from pipelines.connectors._zones import PLM_ARRONDISSEMENTS
from pipelines.errors import SourceError

# Two IRIS of La Rochelle (17300) side by side, 1 km squares in Lambert-93.
X0, Y0 = 380_000, 6_570_000


def square(i: int, size: float = 1000):
    return shapely.box(X0 + i * size, Y0, X0 + (i + 1) * size, Y0 + size)


def write_layer(path, rows: list[dict], *, layer: str, crs="EPSG:2154", **kwargs):
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    frame.to_file(path, layer=layer, engine="pyogrio", **kwargs)
    return path


def old_iris_rows():
    return [{"INSEE_COM": "17300", "NOM_COM": "La Rochelle", "IRIS": "0101",
             "CODE_IRIS": "173000101", "NOM_IRIS": "Vieux Port", "TYP_IRIS": "H",
             "geometry": square(0)},
            {"INSEE_COM": "17300", "NOM_COM": "La Rochelle", "IRIS": "0102",
             "CODE_IRIS": "173000102", "NOM_IRIS": "Gare", "TYP_IRIS": "A",
             "geometry": square(1)}]


def test_old_ign_layout_is_normalised(tmp_path):
    path = write_layer(tmp_path / "contours_iris.gpkg", old_iris_rows(), layer="contours_iris")
    zones = get_connector("iris")(path, working_crs="EPSG:2154")
    assert list(zones.columns) == ["code_iris", "nom_iris", "code_commune", "nom_commune",
                                   "type_iris", "geometry"]
    assert zones["code_iris"].tolist() == ["173000101", "173000102"]
    assert zones["type_iris"].tolist() == ["H", "A"]
    assert zones.crs.to_epsg() == 2154
    assert zones.geometry.area.tolist() == [1e6, 1e6]
    assert zones.attrs["repaired_geometries"] == 0


def test_new_lowercase_layout_and_reprojection(tmp_path):
    rows = [{"code_insee": r["INSEE_COM"], "nom_commune": r["NOM_COM"], "iris": r["IRIS"],
             "code_iris": r["CODE_IRIS"], "nom_iris": r["NOM_IRIS"], "type_iris": r["TYP_IRIS"],
             "geometry": r["geometry"]} for r in old_iris_rows()]
    path = write_layer(tmp_path / "iris.gpkg", rows, layer="iris")
    zones = get_connector("iris")(path, working_crs="EPSG:3035")
    assert zones["nom_iris"].tolist() == ["Vieux Port", "Gare"]
    corner = shapely.Point(Transformer.from_crs("EPSG:2154", "EPSG:3035", always_xy=True)
                           .transform(X0, Y0))
    vertices = shapely.points(shapely.get_coordinates(zones.geometry.iloc[0]))
    assert shapely.distance(vertices, corner).min() < 0.01


def test_iris_code_built_from_commune_and_number_when_only_those_exist(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "CODE_IRIS"} for r in old_iris_rows()]
    path = write_layer(tmp_path / "iris.gpkg", rows, layer="contours_iris")
    assert get_connector("iris")(path)["code_iris"].tolist() == ["173000101", "173000102"]


def test_iris_not_starting_with_its_commune_is_refused(tmp_path, check_error):
    rows = old_iris_rows()
    rows[1]["INSEE_COM"] = "17299"
    path = write_layer(tmp_path / "iris.gpkg", rows, layer="contours_iris")
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path)
    check_error(excinfo.value, file=path, row=2, column="CODE_IRIS",
                contains=("does not start with the commune code",))


def test_real_lyon_iris_geojson(realdata):
    path = realdata("iris_lyon") / "iris_lyon.geojson"
    zones = get_connector("iris")(path, working_crs="EPSG:2154")
    assert len(zones) == 358 and zones.crs.to_epsg() == 2154
    assert zones["code_iris"].str.fullmatch(r"69\d{7}").all()
    assert (zones["code_commune"] == zones["code_iris"].str.slice(0, 5)).all()
    first = zones.set_index("code_iris").loc["693840302"]
    assert first["code_commune"] == "69384"
    assert first["nom_iris"] == "Canuts-d'Enfert Rochereau"
    assert first["nom_commune"] == "Lyon 4e Arrondissement" and first["type_iris"] == "H"
    # Lyon in Lambert-93: around x = 840 000, y = 6 520 000.
    xmin, ymin, xmax, ymax = zones.total_bounds
    assert 820_000 < xmin < xmax < 870_000 and 6_500_000 < ymin < ymax < 6_540_000


def admin_express(tmp_path, rows, **kwargs):
    path = tmp_path / "communes.gpkg"
    write_layer(path, rows, layer="commune", **kwargs)
    write_layer(path, [{"INSEE_DEP": "17", "geometry": square(0, 5000)}], layer="departement",
                mode="a")
    return path


def test_admin_express_commune_layer_is_picked_among_others(tmp_path):
    path = admin_express(tmp_path, [
        {"INSEE_COM": "17300", "NOM": "La Rochelle", "POPULATION": 79961, "geometry": square(0)},
        {"INSEE_COM": "17306", "NOM": "Lagord", "POPULATION": 7_400, "geometry": square(1)}])
    zones = get_connector("communes")(path)
    assert list(zones.columns) == ["code_commune", "nom_commune", "population", "geometry"]
    assert zones["population"].tolist() == [79961, 7400]
    assert str(zones["population"].dtype) == "Int64"
    assert zones.attrs["layer"] == "commune"


def test_communes_geojson_real_extracts(realdata):
    folder = realdata("communes_geojson")
    rhone = get_connector("communes")(folder / "communes-69-rhone.geojson")
    assert len(rhone) == 278 and "69123" in set(rhone["code_commune"])
    assert rhone["population"].isna().all()
    ille = get_connector("communes")(folder / "communes-35-ille-et-vilaine.geojson")
    assert len(ille) == 345
    assert (ille.geom_type == "MultiPolygon").sum() == 6
    assert ille.set_index("code_commune").loc["35238", "nom_commune"] == "Rennes"


def test_commune_code_stored_as_number(tmp_path, check_error):
    path = admin_express(tmp_path, [
        {"INSEE_COM": 1053, "NOM": "Bourg-en-Bresse", "POPULATION": 41_000, "geometry": square(0)}])
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path)
    check_error(excinfo.value, row=1, column="INSEE_COM", contains=("stored as a number",
                                                                     "pad_codes: true"))
    assert get_connector("communes")(path, pad_codes=True)["code_commune"].tolist() == ["01053"]


def test_duplicated_commune_code_is_refused(tmp_path, check_error):
    path = admin_express(tmp_path, [
        {"INSEE_COM": "17300", "NOM": "A", "POPULATION": 1, "geometry": square(0)},
        {"INSEE_COM": "17300", "NOM": "B", "POPULATION": 2, "geometry": square(1)}])
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path)
    check_error(excinfo.value, row=2, column="INSEE_COM", contains=("appears on two features",))


BOW_TIE = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])


def test_invalid_polygon_is_repaired_by_default_and_counted(tmp_path):
    path = admin_express(tmp_path, [
        {"INSEE_COM": "17300", "NOM": "A", "POPULATION": 1, "geometry": square(1)},
        {"INSEE_COM": "17306", "NOM": "B", "POPULATION": 2, "geometry": BOW_TIE}])
    with pytest.warns(UserWarning, match=r"repaired 1 invalid geometries \(feature 2 "
                                         r"\(code_commune 17306\)\)"):
        zones = get_connector("communes")(path)
    assert zones.attrs["repaired_geometries"] == 1
    assert zones.is_valid.all()
    # The bow tie is two triangles of a quarter of the square each.
    assert zones.geometry.iloc[1].area == pytest.approx(500_000)


def test_invalid_polygon_is_an_error_when_declared(tmp_path, check_error):
    path = admin_express(tmp_path, [
        {"INSEE_COM": "17300", "NOM": "A", "POPULATION": 1, "geometry": square(1)},
        {"INSEE_COM": "17306", "NOM": "B", "POPULATION": 2, "geometry": BOW_TIE}])
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path, invalid_geometry="error")
    message = check_error(excinfo.value, row=2, column="geometry",
                          contains=("feature 2 (code_commune 17306) has an invalid geometry",
                                    "Self-intersection"))
    assert str(X0) not in message  # no coordinates


def test_missing_geometry_and_points_are_refused(tmp_path, check_error):
    path = admin_express(tmp_path, [
        {"INSEE_COM": "17300", "NOM": "A", "POPULATION": 1, "geometry": shapely.Point(X0, Y0)}])
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path)
    check_error(excinfo.value, row=1, column="geometry", contains=("not a polygon",))


def test_layer_without_crs_needs_one_declared(tmp_path, check_error):
    path = tmp_path / "iris.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        write_layer(path, old_iris_rows(), layer="iris", crs=None)
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path)
    check_error(excinfo.value, column="geometry", contains=("has no CRS", "`crs:`"))
    assert get_connector("iris")(path, crs="EPSG:2154").crs.to_epsg() == 2154


def test_lon_lat_labelled_lambert93_is_a_wrong_crs(tmp_path, check_error):
    rows = old_iris_rows()
    rows[0]["geometry"] = shapely.box(-1.16, 46.15, -1.15, 46.16)
    rows[1]["geometry"] = shapely.box(-1.15, 46.15, -1.14, 46.16)
    path = write_layer(tmp_path / "iris.gpkg", rows, layer="contours_iris")
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path)
    check_error(excinfo.value, row=1, column="geometry",
                contains=("outside the area where EPSG:2154 is used", "CRS is wrong", "EPSG:4326"))


def test_declared_crs_differing_from_the_layer_is_refused(tmp_path, check_error):
    path = write_layer(tmp_path / "iris.gpkg", old_iris_rows(), layer="contours_iris")
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path, crs="EPSG:27572")
    check_error(excinfo.value, column="geometry", contains=("is in EPSG:2154", "EPSG:27572"))


def test_ambiguous_layers_and_missing_code_column(tmp_path, check_error):
    path = tmp_path / "two.gpkg"
    write_layer(path, old_iris_rows(), layer="a")
    write_layer(path, old_iris_rows(), layer="b", mode="a")
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path)
    check_error(excinfo.value, contains=("several layers", "`layer:`", "a, b"))
    rows = [{"NOM": "x", "geometry": square(0)}]
    bare = write_layer(tmp_path / "bare.gpkg", rows, layer="contours_iris")
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(bare)
    check_error(excinfo.value, column="code_iris", contains=("required column is missing",))


def geodesic_area_m2(geojson_path: Path) -> float:
    """Area on the ellipsoid of every polygon of a lon/lat GeoJSON, read with json only."""
    geod = Geod(ellps="GRS80")
    total = 0.0
    for feature in json.loads(geojson_path.read_text(encoding="utf-8"))["features"]:
        geometry = feature["geometry"]
        polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                    else geometry["coordinates"])
        for rings in polygons:
            for i, ring in enumerate(rings):
                lons, lats = zip(*ring, strict=True)
                area = abs(geod.polygon_area_perimeter(lons, lats)[0])
                total += area if i == 0 else -area
    return total


def test_real_lyon_8e_iris_geojson(realterritory):
    path = realterritory("lyon_8e") / "iris_lyon_8e.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    published = {f["properties"]["id"]: f["properties"] for f in features}
    zones = get_connector("iris")(path, working_crs="EPSG:2154")
    assert len(zones) == 27 == len(published) and zones.crs.to_epsg() == 2154
    assert str(zones["code_iris"].dtype) == "str"
    assert set(zones["code_iris"]) == set(published)
    assert (zones["code_commune"] == "69388").all()
    assert (zones["nom_commune"] == "Lyon 8e Arrondissement").all()
    by_code = zones.set_index("code_iris")
    for code, properties in published.items():
        assert by_code.loc[code, "nom_iris"] == properties["libiris"]
        assert by_code.loc[code, "type_iris"] == properties["typ_iris"]
    # Lambert-93 keeps areas to within 0.2 % at Lyon's latitude (scale factor ~0.9992).
    expected = geodesic_area_m2(path)
    assert expected == pytest.approx(6.8e6, rel=0.01)
    assert zones.geometry.area.sum() == pytest.approx(expected, rel=0.003)


def martinique_layer(path: Path, *, layer: str, columns: dict) -> Path:
    """Two 1 km squares in EPSG:5490 (RGAF09 / UTM 20N) at lon -61.0, lat 14.6."""
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:5490", always_xy=True).transform(-61.0, 14.6)
    frame = gpd.GeoDataFrame(columns, geometry=[shapely.box(x, y, x + 1000, y + 1000),
                                                shapely.box(x + 1000, y, x + 2000, y + 1000)],
                             crs="EPSG:5490")
    frame.to_file(path, layer=layer, engine="pyogrio")
    return path


def test_martinique_communes_are_not_reprojected_to_lambert93(tmp_path, check_error):
    path = martinique_layer(tmp_path / "communes.gpkg", layer="commune",
                            columns={"INSEE_COM": ["97209", "97213"],
                                     "NOM": ["Fort-de-France", "Le Lamentin"]})
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path, working_crs="EPSG:2154")
    check_error(excinfo.value, file=path, row=1, column="geometry",
                contains=("outside the area where the working CRS EPSG:2154 is used",
                          "from EPSG:5490", "`working_crs`", "EPSG:5490 for Martinique"),
                secrets=("Fort-de-France", "97209"))
    zones = get_connector("communes")(path, working_crs="EPSG:5490")
    assert zones.crs.to_epsg() == 5490
    assert zones.geometry.area.tolist() == pytest.approx([1e6, 1e6])


def test_martinique_iris_are_not_reprojected_to_lambert93(tmp_path, check_error):
    path = martinique_layer(tmp_path / "iris.gpkg", layer="contours_iris",
                            columns={"CODE_IRIS": ["972090101", "972090102"],
                                     "INSEE_COM": ["97209", "97209"]})
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path, working_crs="EPSG:2154")
    check_error(excinfo.value, file=path, row=1, column="geometry",
                contains=("EPSG:2154", "EPSG:5490", "`working_crs`"))
    assert len(get_connector("iris")(path, working_crs="EPSG:5490")) == 2


def test_one_feature_far_from_the_working_crs_area_is_named(tmp_path, check_error):
    base = old_iris_rows()[0]
    rows = [{**base, "geometry": shapely.box(-1.16, 46.15, -1.15, 46.16)},
            {**base, "CODE_IRIS": "173000103", "geometry": shapely.box(-61.01, 14.60, -61.00, 14.61)},
            {**base, "CODE_IRIS": "173000104", "geometry": shapely.box(-1.15, 46.15, -1.14, 46.16)}]
    path = write_layer(tmp_path / "iris.geojson", rows, layer="iris", crs="EPSG:4326")
    with pytest.raises(SourceError) as excinfo:
        get_connector("iris")(path, working_crs="EPSG:2154")
    check_error(excinfo.value, row=2, column="geometry",
                contains=("this feature lies outside", "correct or remove the feature"))


def test_plm_constant_matches_the_official_geography(realdata):
    communes = json.loads((realdata("cog2026") / "communes.json").read_text(encoding="utf-8"))
    official = defaultdict(set)
    for entry in communes:
        if entry.get("type") == "arrondissement-municipal":
            official[entry["commune"]].add(entry["code"])
    assert {commune: set(codes) for commune, codes in PLM_ARRONDISSEMENTS.items()} == official
    assert [len(PLM_ARRONDISSEMENTS[c]) for c in ("75056", "69123", "13055")] == [20, 9, 16]


def lyon_layer(tmp_path, codes: list[str]):
    rows = [{"INSEE_COM": code, "NOM": f"zone {i}", "geometry": square(i)}
            for i, code in enumerate(codes)]
    return write_layer(tmp_path / "communes.gpkg", rows, layer="commune")


def test_commune_and_its_arrondissements_need_a_rule(tmp_path, check_error):
    path = lyon_layer(tmp_path, ["69123", "69381", "69388", "69264"])
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path)
    check_error(excinfo.value, file=path, row=2, column="INSEE_COM",
                contains=("Lyon (69123", "count it twice", "`arrondissements: drop`",
                          "`arrondissements: only`", "`arrondissements: keep`"))
    dropped = get_connector("communes")(path, arrondissements="drop")
    assert dropped["code_commune"].tolist() == ["69123", "69264"]
    assert dropped.attrs["arrondissement_rows_dropped"] == 2
    assert dropped.geometry.area.tolist() == [1e6, 1e6] and dropped.crs.to_epsg() == 2154
    only = get_connector("communes")(path, arrondissements="only")
    assert only["code_commune"].tolist() == ["69381", "69388", "69264"]
    assert len(get_connector("communes")(path, arrondissements="keep")) == 4


def test_arrondissements_rule_never_removes_a_whole_city(tmp_path, check_error):
    path = lyon_layer(tmp_path, ["69381", "69388"])
    assert get_connector("communes")(path)["code_commune"].tolist() == ["69381", "69388"]
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path, arrondissements="drop")
    check_error(excinfo.value, row=1, column="INSEE_COM",
                contains=("would remove the city", "no row for the commune"))
    with pytest.raises(SourceError) as excinfo:
        get_connector("communes")(path, arrondissements="both")
    check_error(excinfo.value, column="INSEE_COM", contains=("is not an option",))


def test_communes_dissolved_from_the_iris_of_lyon_8e(realterritory):
    path = realterritory("lyon_8e") / "iris_lyon_8e.geojson"
    iris = get_connector("iris")(path, working_crs="EPSG:2154")
    communes = get_connector("communes")(path, working_crs="EPSG:2154", dissolve=True,
                                         source_columns={"code_commune": "com", "nom_commune": "libcom"})
    assert communes["code_commune"].tolist() == ["69388"]
    assert communes["nom_commune"].tolist() == ["Lyon 8e Arrondissement"]
    assert communes.area.sum() == pytest.approx(iris.area.sum(), rel=1e-6)
    assert communes["population"].isna().all()  # the layer publishes none: not 0
