"""Figures of the officials' pages, on tiny inline frames with known answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import shapely
from shapely.geometry import Polygon, box

from pipelines.errors import CrsError
from pipelines.report.figures import (
    make_choropleth_figure,
    make_crossing_figure,
    make_distribution_figure,
    make_ranking_figure,
    make_territories_distribution_figure,
    na_reasons,
    to_clockwise_geojson,
)

NBSP = "\u00a0"


def _zones() -> gpd.GeoDataFrame:
    """Four 1 km squares in Lambert-93 (shapely's box: counter-clockwise), one NA."""
    geoms = [box(700_000 + i * 1000, 6_600_000, 701_000 + i * 1000, 6_601_000) for i in range(4)]
    return gpd.GeoDataFrame(
        {"code": ["000010001", "000010002", "000020001", "000020002"],
         "nom": ["Nord", "Sud", "Est", "Ouest"],
         "share": [0.234, 0.1, np.nan, 0.4567],
         "secret_share": [False, False, True, False]},
        geometry=geoms, crs="EPSG:2154")


def _signed_area(ring: list) -> float:
    """Shoelace area: positive for counter-clockwise rings (lon/lat)."""
    xy = np.asarray(ring)
    return 0.5 * float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def test_choropleth_plots_shares_times_100_with_french_hover():
    fig = make_choropleth_figure(_zones(), value="share", name="nom", id_col="code",
                                 title="Part", unit="%")
    main = fig.data[0]
    assert isinstance(main, go.Choropleth)
    assert list(main.locations) == ["000010001", "000010002", "000020002"]
    assert list(main.z) == pytest.approx([23.4, 10.0, 45.67])
    assert main.text[0] == f"<b>Nord</b><br>23,4{NBSP}%"
    assert main.text[2] == f"<b>Ouest</b><br>45,7{NBSP}%"


def test_choropleth_shows_missing_zones_in_grey_with_the_reason():
    fig = make_choropleth_figure(_zones(), value="share", name="nom", id_col="code",
                                 title="Part", unit="%")
    grey = fig.data[1]
    assert list(grey.locations) == ["000020001"]
    assert {c for _, c in grey.colorscale} == {"#c8c8c8"}
    assert grey.showscale is False
    assert "Est" in grey.text[0] and "secret statistique" in grey.text[0]


def test_choropleth_is_a_geo_trace_on_a_hidden_base_map_framed_on_the_zones():
    communes = _zones().dissolve().reset_index()
    fig = make_choropleth_figure(_zones(), value="share", name="nom", id_col="code",
                                 title="Part", unit="%", boundaries=communes)
    assert not any(isinstance(t, go.Choroplethmap) for t in fig.data)
    assert {t.type for t in fig.data} == {"choropleth", "scattergeo"}
    assert fig.layout.geo.visible is False
    # 4 km x 1 km from Lambert-93's origin (3 E, 46.5 N), padded by 3 % of the span
    lon, lat = fig.layout.geo.lonaxis.range, fig.layout.geo.lataxis.range
    assert lon[0] < 3.0 < 3.0 + 0.05 < lon[1] < 3.06 and lat[0] < 46.5 < 46.509 < lat[1] < 46.51
    lines = fig.data[-1]
    assert lines.mode == "lines" and lines.hoverinfo == "skip"
    # the outline of the 4 km x 1 km union, in degrees, closed, plus a None separator
    assert lines.lon[-1] is None and lines.lon[0] == lines.lon[-2]
    assert min(x for x in lines.lon if x is not None) == pytest.approx(3.0, abs=1e-4)


def test_geojson_exterior_rings_are_clockwise_and_holes_counter_clockwise():
    outer = [(700_000, 6_600_000), (704_000, 6_600_000), (704_000, 6_604_000), (700_000, 6_604_000)]
    hole = [(701_000, 6_601_000), (702_000, 6_601_000), (702_000, 6_602_000), (701_000, 6_602_000)]
    assert shapely.LinearRing(outer).is_ccw  # the input is RFC 7946's orientation
    zones = gpd.GeoDataFrame({"code": ["a", "b"]},
                             geometry=[Polygon(outer, [hole]), box(704_000, 6_600_000, 705_000, 6_601_000)],
                             crs="EPSG:2154")
    geojson = to_clockwise_geojson(zones, "code")
    assert [f["id"] for f in geojson["features"]] == ["a", "b"]
    for feature in geojson["features"]:
        rings = feature["geometry"]["coordinates"]
        assert _signed_area(rings[0]) < 0, "exterior ring must be clockwise"
        for interior in rings[1:]:
            assert _signed_area(interior) > 0, "holes must be counter-clockwise"
    corner = np.asarray(geojson["features"][0]["geometry"]["coordinates"][0]).min(axis=0)
    assert corner == pytest.approx([3.0, 46.5], abs=1e-4)  # Lambert-93's origin


def test_choropleth_refuses_zones_without_crs():
    zones = _zones().set_crs(None, allow_override=True)
    with pytest.raises(CrsError, match="no CRS"):
        make_choropleth_figure(zones, value="share", name="nom", id_col="code", title="t", unit="%")


def test_na_reasons_read_the_secret_flag_and_the_status_column():
    frame = pd.DataFrame({"v": [1.0, np.nan, np.nan, np.nan],
                          "secret_v": [False, True, False, None]})
    assert na_reasons(frame, "v").tolist() == ["", "secret statistique", "non significatif",
                                               "non significatif"]
    status = pd.DataFrame({"v": [np.nan, np.nan, np.nan],
                           "statut": ["secret", "non significatif", None]})
    assert na_reasons(status, "v").tolist()[:2] == ["secret statistique", "non significatif"]
    assert "non publié" in na_reasons(status, "v").iloc[2]


def test_ranking_sorts_zones_from_highest_to_lowest_and_leaves_out_missing_ones():
    fig = make_ranking_figure(_zones(), value="share", name="nom", title="t", unit="%",
                              reference=0.2, reference_label="Ensemble du territoire")
    assert list(fig.layout.yaxis.categoryarray) == ["Ouest", "Nord", "Sud"]
    assert fig.layout.yaxis.autorange == "reversed"
    above, below, line = fig.data
    assert list(above.y) == ["Ouest", "Nord"] and list(above.x) == pytest.approx([45.67, 23.4])
    assert list(below.y) == ["Sud"] and list(below.text) == [f"10,0{NBSP}%"]
    assert list(line.x) == pytest.approx([20.0, 20.0])
    assert line.name == f"Référence, ensemble du territoire : 20,0{NBSP}%"


def test_ranking_defaults_to_the_mean_and_keeps_extremes_of_long_lists():
    frame = pd.DataFrame({"nom": [f"z{i}" for i in range(10)], "v": [float(i) for i in range(10)]})
    fig = make_ranking_figure(frame, value="v", name="nom", title="t", unit="ménages", max_bars=4)
    assert list(fig.layout.yaxis.categoryarray) == ["z9", "z8", "z1", "z0"]
    assert fig.data[-1].x[0] == pytest.approx(4.5)  # mean of the ten zones


def test_ranking_disambiguates_zones_sharing_a_name():
    frame = pd.DataFrame({"nom": ["Centre", "Centre"], "code": ["1", "2"], "v": [1.0, 2.0]})
    fig = make_ranking_figure(frame, value="v", name="nom", id_col="code", title="t", unit=None)
    assert list(fig.layout.yaxis.categoryarray) == ["Centre (2)", "Centre (1)"]


def test_crossing_puts_public_only_next_to_with_shared_data_per_indicator():
    items = [{"label": "Part F/G", "public_only": 0.12, "with_shared": 0.18, "unit": "%"},
             {"label": "Ménages", "public_only": 1000, "with_shared": 1250, "unit": "ménages"}]
    fig = make_crossing_figure(items)
    assert len(fig.data) == 2
    shares, counts = fig.data
    assert list(shares.y) == ["Sources publiques seules", "Avec données partagées"]
    assert list(shares.x) == pytest.approx([12.0, 18.0])
    assert list(counts.text) == [f"1{NBSP}000{NBSP}ménages", f"1{NBSP}250{NBSP}ménages"]
    assert shares.xaxis != counts.xaxis  # units differ: one axis each
    assert [a.text for a in fig.layout.annotations] == ["Part F/G", "Ménages"]


def test_distribution_draws_every_zone_with_mean_and_median_lines():
    fig = make_distribution_figure(_zones(), value="share", name="nom", title="t", unit="%")
    box_trace = fig.data[0]
    assert box_trace.boxpoints == "all"
    assert list(box_trace.x) == pytest.approx([23.4, 10.0, 45.67])
    xs = sorted(shape.x0 for shape in fig.layout.shapes)
    assert xs == pytest.approx(sorted([np.mean([23.4, 10.0, 45.67]), 23.4]))
    texts = {a.text for a in fig.layout.annotations}
    assert f"Médiane : 23,4{NBSP}%" in texts and f"Moyenne : 26,4{NBSP}%" in texts


def test_geojson_is_simplified_in_metres_and_keeps_only_polygons():
    dense = shapely.segmentize(box(700_000, 6_600_000, 701_000, 6_601_000), 10)
    assert len(dense.exterior.coords) > 400
    zones = gpd.GeoDataFrame({"code": ["a"]}, geometry=[dense], crs="EPSG:2154")
    ring = to_clockwise_geojson(zones, "code")["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5
    assert len(to_clockwise_geojson(zones, "code", simplify_m=0)["features"][0]
               ["geometry"]["coordinates"][0]) > 400


def _two_territories() -> pd.DataFrame:
    return pd.DataFrame({"territoire": ["Est", "Est", "Est", "Ouest", "Ouest"],
                         "zone": ["Nord", "Sud", "Gare", "Bourg", "Port"],
                         "share": [0.1, np.nan, 0.3, 0.25, 0.05]})


def test_territories_distribution_has_one_row_per_territory_on_one_scale():
    fig = make_territories_distribution_figure(_two_territories(), value="share", name="zone",
                                               territory="territoire", unit="%",
                                               references={"Est": 0.2}, order=["Ouest", "Est"])
    boxes = [t for t in fig.data if isinstance(t, go.Box)]
    assert [b.name for b in boxes] == ["Ouest", "Est"]               # the order asked for
    assert list(boxes[0].x) == pytest.approx([25.0, 5.0]) and list(boxes[1].x) == pytest.approx([10.0, 30.0])
    assert boxes[1].text == (f"<b>Nord</b><br>10,0{NBSP}%", f"<b>Gare</b><br>30,0{NBSP}%")
    assert fig.layout.xaxis.matches == "x2"                          # shared axis
    [diamond] = [t for t in fig.data if isinstance(t, go.Scatter)]
    assert list(diamond.x) == [20.0] and diamond.xaxis == "x2"       # Est's row, the second
    assert f"Ensemble du territoire : 20,0{NBSP}%" in diamond.text[0]
    assert [a.text for a in fig.layout.annotations] == ["Ouest", "Est"]
    assert {t.type for t in fig.data} == {"box", "scatter"}          # no geo trace


def test_territories_distribution_wraps_long_names_and_keeps_an_empty_territory():
    name = "Communauté d'agglomération de l'Anse-Fictive (territoire fictif d'outre-mer)"
    frame = _two_territories().replace({"Est": name})
    fig = make_territories_distribution_figure(frame, value="share", name="zone", territory="territoire",
                                               unit="%", order=[name, "Ouest", "Sans zone"])
    assert all(len(line) <= 34 for line in fig.layout.annotations[0].text.split("<br>"))
    assert [len(b.x) for b in fig.data] == [2, 2, 0]
    with pytest.raises(ValueError, match="no territory"):
        make_territories_distribution_figure(frame.iloc[:0], value="share", name="zone", territory="territoire",
                                             unit="%")


def test_na_reasons_read_the_flag_as_published_text():
    """Published tables write `secret_<count>` as "secret" or "": a map of a protected
    count must not crash on it (it did: "Need to pass bool-like values")."""
    frame = pd.DataFrame({"households": [30.0, np.nan, np.nan], "secret_households": ["", "secret", ""]})
    assert na_reasons(frame, "households").tolist() == ["", "secret statistique", "non significatif"]
