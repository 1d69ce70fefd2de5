"""Figures of the officials' pages: pure functions returning Plotly figures.

Each ``make_<thing>_figure`` takes a frame and plain arguments and returns a
``go.Figure``; writing it into a page is the site's job (:mod:`pipelines.report.site`).
Every number shown (hover, bar labels) is formatted by :func:`format_fr`, and shares
(unit ``"%"``) are plotted times 100.

Two Plotly traps are handled here (see DESIGN.md): ``go.Choropleth`` needs clockwise
exterior rings (d3's convention; a counter-clockwise ring is drawn as its complement and
covers the map), and MapLibre traces (``go.Choroplethmap``) draw nothing headless from
``file://``, so only ``geo`` traces are used. The page must still define
``window.PlotlyGeoAssets`` before Plotly draws, or it fetches a base map from a CDN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from plotly.subplots import make_subplots

from pipelines.errors import CrsError
from pipelines.report.formatting import (
    display_value,
    format_fr,
    is_missing,
    load_texts,
    lower_first,
)

__all__ = [
    "format_fr",
    "make_choropleth_figure",
    "make_crossing_figure",
    "make_distribution_figure",
    "make_ranking_figure",
    "make_territories_distribution_figure",
    "na_reasons",
    "to_clockwise_geojson",
]

BLUE = "#000091"          # "bleu France" of the French public-service palette
BLUE_LIGHT = "#8585f6"
GREY_NA = "#c8c8c8"
GREY_PUBLIC = "#7b7b7b"
TEXT = "#161616"
GRID = "#dddddd"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
COLORSCALE = [[0.0, "#f5f5fe"], [0.25, "#cacafb"], [0.5, "#8585f6"],
              [0.75, "#3d3dd9"], [1.0, BLUE]]
GEO_PRECISION = 1e-5      # degrees, about a metre: enough for a map, halves the JSON
SIMPLIFY_M = 5.0          # metres, see to_clockwise_geojson


def _texts(labels: Mapping | None) -> dict:
    texts = dict(load_texts("fr")["figure"])
    texts.update(labels or {})
    return texts


def _base_layout(title: str | None, height: int) -> dict:
    return dict(
        template="none",
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)) if title else None,
        font=dict(family=FONT, size=14, color=TEXT),
        separators=",\u00a0",
        height=height,
        margin=dict(l=10, r=10, t=50 if title else 10, b=10),
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel=dict(bgcolor="white", font=dict(family=FONT, size=14, color=TEXT)),
    )


def _check_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what}: column(s) {missing} missing; the frame has "
                       f"{list(frame.columns)}. Fix: pass the names of existing columns.")


def na_reasons(frame: pd.DataFrame, value: str, labels: Mapping | None = None) -> pd.Series:
    """Say why each missing value of ``frame[value]`` is missing.

    Parameters
    ----------
    frame : DataFrame
        Published table; may hold ``secret_<value>`` (boolean) or ``statut`` (text).
    value : str
        Indicator column.
    labels : mapping, optional
        Overrides of the locale's ``figure`` texts (``na_secret`` ...).

    Returns
    -------
    Series
        Text per row: empty where the value is present, otherwise "secret statistique",
        "non significatif", or a neutral "non publié" when the table does not say.
    """
    texts = _texts(labels)
    missing = frame[value].isna()
    reasons = pd.Series(np.where(missing, texts["na_unknown"], ""), index=frame.index,
                        dtype=object)
    if "statut" in frame.columns:
        status = frame["statut"].astype("string").str.lower().fillna("")
        reasons[missing & status.str.contains("signific")] = texts["na_not_significant"]
        reasons[missing & status.str.contains("secret")] = texts["na_secret"]
    flag = f"secret_{value}"
    if flag in frame.columns:
        secret = _flag(frame[flag])
        reasons[missing & secret] = texts["na_secret"]
        reasons[missing & ~secret & (reasons == texts["na_unknown"])] = texts["na_not_significant"]
    return reasons


def _flag(column: pd.Series) -> pd.Series:
    """A secrecy flag as booleans: published tables write it as text ("secret" or ""),
    older ones as booleans."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype("boolean").fillna(False).astype(bool)
    text = column.astype("string").fillna("").str.strip().str.lower()
    return text.ne("") & ~text.isin(["false", "0", "non", "no"])


def to_clockwise_geojson(zones: gpd.GeoDataFrame, id_col: str,
                         simplify_m: float = SIMPLIFY_M) -> dict:
    """Convert zones to a GeoJSON FeatureCollection in EPSG:4326 for ``go.Choropleth``.

    Parameters
    ----------
    zones : GeoDataFrame
        (Multi)Polygons with a CRS (any: they are reprojected).
    id_col : str
        Column whose text becomes each feature's ``id``.
    simplify_m : float
        Tolerance in metres of the simplification applied in a projected CRS (0: none).
        At 5 m, far below a screen pixel on a territory's map, real IRIS lose most of
        their vertices and the page most of its weight.

    Returns
    -------
    dict
        Features with clockwise exterior rings and counter-clockwise holes (d3's
        convention, the reverse of RFC 7946), coordinates rounded to about a metre.
    """
    if zones.crs is None:
        raise CrsError("map zones have no CRS; expected a projected or geographic CRS. "
                       "Fix: set it with GeoDataFrame.set_crs(...) when reading the table.")
    geoms = zones.geometry
    if simplify_m and zones.crs.is_projected:
        geoms = geoms.simplify(simplify_m, preserve_topology=True)
    geoms = shapely.set_precision(shapely.make_valid(geoms.to_crs("EPSG:4326").values), GEO_PRECISION)
    geoms = shapely.orient_polygons([_polygonal(g) for g in geoms], exterior_cw=True)
    features = [
        {"type": "Feature", "id": str(zone_id), "properties": {},
         "geometry": shapely.geometry.mapping(geom)}
        for zone_id, geom in zip(zones[id_col], geoms, strict=False)
    ]
    return {"type": "FeatureCollection", "features": features}


def _polygonal(geom):
    """Only the polygons of a geometry: repairs may leave stray lines or points."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _map_ranges(geojson: dict, pad: float = 0.03,
                lon_pad: float = 0.12) -> tuple[list[float], list[float]]:
    """Longitude and latitude ranges around every feature, padded by a share of their span.

    Wider on the sides (``lon_pad``): the communes' names written near the edge would
    otherwise be cut by the frame; a map of a territory is seldom limited by its width.
    """
    coords = np.vstack([shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
                        for f in geojson["features"]])
    (x0, y0), (x1, y1) = coords.min(axis=0), coords.max(axis=0)
    dx, dy = max(x1 - x0, 1e-3) * lon_pad, max(y1 - y0, 1e-3) * pad
    return [float(x0 - dx), float(x1 + dx)], [float(y0 - dy), float(y1 + dy)]


def _boundary_lines(boundaries: gpd.GeoDataFrame) -> tuple[list, list]:
    """Longitudes and latitudes of the boundaries' rings, separated by None."""
    lines = shapely.get_parts(shapely.boundary(boundaries.to_crs("EPSG:4326").geometry.values))
    lons: list = []
    lats: list = []
    for line in shapely.get_parts(lines):
        coords = np.round(shapely.get_coordinates(line), 5)
        lons.extend(coords[:, 0].tolist() + [None])
        lats.extend(coords[:, 1].tolist() + [None])
    return lons, lats


def _boundary_labels(boundaries: gpd.GeoDataFrame, name: str) -> go.Scattergeo:
    """Names of the boundaries' zones at a point inside each, legible on any fill."""
    points = boundaries.to_crs("EPSG:4326").geometry.representative_point()
    return go.Scattergeo(lon=points.x.round(5).tolist(), lat=points.y.round(5).tolist(),
                         text=boundaries[name].astype(str).tolist(), mode="text",
                         textfont=dict(size=13, color=TEXT, weight="bold",
                                       shadow="0 0 3px white, 0 0 3px white, 0 0 2px white"),
                         hoverinfo="skip", showlegend=False)


def _hover(names: Iterable, values: Iterable[str]) -> list[str]:
    return [f"<b>{name}</b><br>{value}" for name, value in zip(names, values, strict=False)]


def make_choropleth_figure(zones_gdf: gpd.GeoDataFrame, *, value: str, name: str, id_col: str,
                           title: str, unit: str | None,
                           boundaries: gpd.GeoDataFrame | None = None,
                           boundary_name: str | None = None,
                           labels: Mapping | None = None, height: int = 580) -> go.Figure:
    """Map an indicator per zone, offline, with ``go.Choropleth`` on an invisible base map.

    Parameters
    ----------
    zones_gdf : GeoDataFrame
        One row per zone, any CRS (reprojected to EPSG:4326).
    value, name, id_col : str
        Columns of the indicator, of the zone's displayed name and of its id.
    title : str
        Figure title, also the trace's name.
    unit : str, optional
        Unit of ``value``; ``"%"`` plots the share times 100.
    boundaries : GeoDataFrame, optional
        Zones drawn over the map as dark lines (the communes).
    boundary_name : str, optional
        Column of ``boundaries`` written on the map (the communes' names).
    labels : mapping, optional
        Overrides of the locale's ``figure`` texts.
    height : int
        Height in pixels.

    Returns
    -------
    go.Figure
        A ``Choropleth`` of published zones, a grey one for missing values (hover says
        why), and a ``Scattergeo`` of the boundaries when given; the hidden base map is
        framed on the zones.
    """
    _check_columns(zones_gdf, [value, name, id_col], "make_choropleth_figure")
    texts = _texts(labels)
    geojson = to_clockwise_geojson(zones_gdf, id_col)
    fig = go.Figure(_zone_traces(zones_gdf, geojson, value=value, name=name, id_col=id_col,
                                 title=title, unit=unit, texts=texts))
    if boundaries is not None and len(boundaries):
        lons, lats = _boundary_lines(boundaries)
        fig.add_trace(go.Scattergeo(lon=lons, lat=lats, mode="lines", hoverinfo="skip",
                                    line=dict(color=TEXT, width=1.6),
                                    name=texts["boundaries"], showlegend=True))
        if boundary_name:
            fig.add_trace(_boundary_labels(boundaries, boundary_name))
    fig.update_layout(**_base_layout(title, height))
    lon_range, lat_range = _map_ranges(geojson)
    fig.update_layout(
        # Explicit ranges rather than fitbounds="locations": fitbounds leaves about half
        # of the frame empty around a small territory (measured: 426 x 321 px of map in
        # a 944 x 520 figure, against 637 x 468 px with ranges).
        geo=dict(visible=False, projection=dict(type="mercator"), bgcolor="white",
                 lonaxis=dict(range=lon_range), lataxis=dict(range=lat_range)),
        dragmode=False,
        legend=dict(orientation="h", x=0, y=0, yanchor="top", bgcolor="rgba(255,255,255,0.8)"))
    return fig


def _zone_traces(zones: gpd.GeoDataFrame, geojson: dict, *, value: str, name: str,
                 id_col: str, title: str, unit: str | None, texts: dict) -> list[go.Choropleth]:
    """The coloured published zones, then the missing ones in grey (hover says why)."""
    ids = zones[id_col].astype(str)
    present = zones[value].notna().to_numpy()
    reasons = na_reasons(zones, value, texts)
    shown = [format_fr(v, unit) if ok else f"{texts['not_published']} : {r}"
             for v, ok, r in zip(zones[value], present, reasons, strict=False)]
    hover = np.array(_hover(zones[name], shown), dtype=object)
    common = dict(geojson=geojson, featureidkey="id", hovertemplate="%{text}<extra></extra>",
                  marker=dict(line=dict(color="white", width=0.8)))
    traces = [go.Choropleth(
        locations=ids[present].tolist(), text=hover[present].tolist(),
        z=[display_value(v, unit) for v in zones.loc[present, value]], colorscale=COLORSCALE,
        # Horizontal, above the map: the map keeps the figure's full width (a phone's
        # screen is narrow; a territory's map is limited by the height on a computer).
        colorbar=dict(title=dict(text=unit or "", side="right"), orientation="h", thickness=14,
                      len=0.6, x=0, xanchor="left", y=1.0, yanchor="bottom"),
        name=title, showlegend=False, **common)]
    if not present.all():
        traces.append(go.Choropleth(
            locations=ids[~present].tolist(), text=hover[~present].tolist(),
            z=[0] * int((~present).sum()), colorscale=[[0, GREY_NA], [1, GREY_NA]],
            showscale=False, name=texts["not_published"], showlegend=True, **common))
    return traces


def _unique_labels(names: pd.Series, ids: pd.Series | None) -> list[str]:
    """Zone names, with their id appended where two zones share a name."""
    names = names.astype(str)
    if ids is None or not names.duplicated(keep=False).any():
        return names.tolist()
    dup = names.duplicated(keep=False)
    return [f"{n} ({i})" if d else n for n, i, d in zip(names, ids.astype(str), dup, strict=False)]


def _select_extremes(frame: pd.DataFrame, value: str, max_bars: int) -> pd.DataFrame:
    ranked = frame.sort_values(value, ascending=False, kind="stable")
    if len(ranked) <= max_bars:
        return ranked
    half = max_bars // 2
    return pd.concat([ranked.head(half), ranked.tail(max_bars - half)])


def make_ranking_figure(frame: pd.DataFrame, *, value: str, name: str, title: str,
                        unit: str | None, reference: float | None = None,
                        reference_label: str | None = None, id_col: str | None = None,
                        max_bars: int = 40, labels: Mapping | None = None) -> go.Figure:
    """Rank zones by an indicator as horizontal bars, highest at the top.

    Parameters
    ----------
    frame : DataFrame
        One row per zone; rows with a missing value are left out.
    value, name : str
        Columns of the indicator and of the zone's name.
    title : str
        Figure title.
    unit : str, optional
        Unit of ``value``; ``"%"`` plots the share times 100.
    reference : float, optional
        Territory average drawn as a vertical line (stored units); by default the
        mean of the zones shown.
    reference_label : str, optional
        Text of that line; by default the locale's "Moyenne".
    id_col : str, optional
        Id column, appended to names that two zones share.
    max_bars : int
        Above this many zones, only the highest and lowest ``max_bars / 2`` are drawn.
    labels : mapping, optional
        Overrides of the locale's ``figure`` texts.

    Returns
    -------
    go.Figure
        Two ``Bar`` traces (above / at or below the reference) on one category axis,
        and the reference as a dashed ``Scatter`` line named in the legend.
    """
    _check_columns(frame, [value, name] + ([id_col] if id_col else []), "make_ranking_figure")
    texts = _texts(labels)
    data = frame[frame[value].notna()].copy()
    data["_label"] = _unique_labels(data[name], data[id_col] if id_col else None)
    if reference is None:
        reference = float(data[value].mean()) if len(data) else None
    data = _select_extremes(data, value, max_bars)
    order = data["_label"].tolist()
    fig = go.Figure()
    above = data[value] > reference if reference is not None else pd.Series(True, data.index)
    for mask, colour, key in ((above, BLUE, "above_reference"), (~above, BLUE_LIGHT, "below_reference")):
        part = data[mask]
        fig.add_trace(go.Bar(
            x=[display_value(v, unit) for v in part[value]], y=part["_label"].tolist(),
            orientation="h", marker_color=colour, name=texts[key],
            text=[format_fr(v, unit) for v in part[value]], textposition="outside",
            cliponaxis=False, hovertemplate="<b>%{y}</b><br>%{text}<extra></extra>"))
    fig.update_layout(**_base_layout(title, 110 + 26 * len(order)))
    fig.update_layout(
        margin=dict(r=_label_room(format_fr(v, unit) for v in data[value])),
        barmode="overlay", bargap=0.25,
        yaxis=dict(categoryorder="array", categoryarray=order, autorange="reversed",
                   automargin=True, ticks=""),
        xaxis=dict(showgrid=True, gridcolor=GRID, zeroline=True, zerolinecolor=TEXT,
                   ticksuffix=_tick_suffix(unit), automargin=True,
                   range=_padded_range(data[value].tolist() + [reference], unit, pad=0.04)),
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", traceorder="normal"))
    if reference is not None and order:
        # A legend entry rather than an annotation: a label at the top of the line would
        # sit on the first bar.
        fig.add_trace(go.Scatter(
            x=[display_value(reference, unit)] * 2, y=[order[0], order[-1]], mode="lines",
            line=dict(color=TEXT, width=2, dash="dash"), hoverinfo="skip",
            name=texts["reference_line"].format(label=lower_first(reference_label or texts["mean"]),
                                                value=format_fr(reference, unit))))
    return fig


def _label_room(texts: Iterable[str], char_px: float = 8.0) -> int:
    """Right margin in pixels for bar labels written past the bar's end.

    ``cliponaxis=False`` lets a label overflow the plot area, but not the figure: the
    margin must hold the longest label ("15,3 années"), whatever the screen's width.
    """
    longest = max((len(t) for t in texts), default=0)
    return int(10 + char_px * longest)


def _wrap(text: str, width: int = 70) -> str:
    """Break a long chart title into lines (``<br>``) of about ``width`` characters."""
    lines, line = [], ""
    for word in str(text).split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(lines)


def _tick_suffix(unit: str | None) -> str:
    return "\u00a0%" if unit == "%" else ""


def _padded_range(values: list, unit: str | None, pad: float = 0.14) -> list[float]:
    """An x range from 0 (or the minimum if negative) with room for the bar labels."""
    shown = [display_value(v, unit) for v in values if not is_missing(v)] or [0.0]
    low, high = min(0.0, min(shown)), max(0.0, max(shown))
    span = (high - low) or 1.0
    return [low - (pad * span if low < 0 else 0.0), high + pad * span]


def _add_vline(fig: go.Figure, x: float, text: str, *, dash: str = "dash",
               position: str = "top right", colour: str = TEXT) -> None:
    fig.add_vline(x=x, line=dict(color=colour, width=1.5, dash=dash),
                  annotation=dict(text=text, font=dict(size=13, color=colour),
                                  bgcolor="rgba(255,255,255,0.85)"),
                  annotation_position=position)


def _crossing_rows(items: pd.DataFrame | Iterable[Mapping]) -> pd.DataFrame:
    rows = pd.DataFrame(list(items) if not isinstance(items, pd.DataFrame) else items)
    _check_columns(rows, ["label", "public_only", "with_shared"], "make_crossing_figure")
    if "unit" not in rows.columns:
        rows["unit"] = None
    return rows.reset_index(drop=True)


def _bar_label(row: pd.Series, column: str, default: str) -> str:
    text = row.get(column)
    return str(text) if isinstance(text, str) and text else default


def make_crossing_figure(items: pd.DataFrame | Iterable[Mapping], *,
                         title: str | None = None, labels: Mapping | None = None) -> go.Figure:
    """Compare each indicator from public sources alone with the one using shared data.

    Parameters
    ----------
    items : DataFrame or iterable of mappings
        One row per indicator with ``label``, ``public_only``, ``with_shared`` and
        ``unit`` (the ``crossing`` list of demonstrator.json), and optionally
        ``public_label`` and ``shared_label``: that row's bar names ("Avec le fichier
        LOVAC" when the crossing adds a public source, not shared data).
    title : str, optional
        Figure title.
    labels : mapping, optional
        Overrides of the locale's ``figure`` texts (``public_only``, ``with_shared``).

    Returns
    -------
    go.Figure
        One row of two horizontal bars per indicator, each with its own axis since the
        units may differ.
    """
    texts = _texts(labels)
    rows = _crossing_rows(items)
    n = max(len(rows), 1)
    titles = [_wrap(label) for label in rows["label"].tolist()]
    title_lines = max((t.count("<br>") + 1 for t in titles), default=1)
    row_px = 130 + 20 * title_lines
    fig = make_subplots(rows=n, cols=1, subplot_titles=titles or None,
                        vertical_spacing=min(0.3, (40 + 20 * title_lines) / (row_px * n)))
    room = 0
    for i, row in rows.iterrows():
        categories = [_bar_label(row, "public_label", texts["public_only"]),
                      _bar_label(row, "shared_label", texts["with_shared"])]
        values = [row["public_only"], row["with_shared"]]
        shown = [format_fr(v, row["unit"]) for v in values]
        room = max(room, _label_room(shown))
        fig.add_trace(go.Bar(
            x=[display_value(v, row["unit"]) if not is_missing(v) else None for v in values],
            y=categories, orientation="h", marker_color=[GREY_PUBLIC, BLUE],
            text=shown, textposition="outside",
            cliponaxis=False, showlegend=False, name=row["label"],
            hovertemplate="%{y}<br><b>%{text}</b><extra></extra>"), row=i + 1, col=1)
        # Plain thousands ("10 000"), not Plotly's "10k".
        fig.update_xaxes(showgrid=True, gridcolor=GRID, automargin=True,
                         range=_padded_range(values, row["unit"], pad=0.04),
                         ticksuffix=_tick_suffix(row["unit"]), exponentformat="none",
                         separatethousands=True, row=i + 1, col=1)
        fig.update_yaxes(autorange="reversed", automargin=True, ticks="", row=i + 1, col=1)
    fig.update_layout(**_base_layout(title, 40 + 20 * title_lines + row_px * n))
    fig.update_annotations(x=0, xanchor="left", align="left", font=dict(size=15))
    fig.update_layout(bargap=0.35, margin=dict(t=(60 if title else 20 + 20 * title_lines), r=room))
    return fig


def make_distribution_figure(frame: pd.DataFrame, *, value: str, name: str, title: str,
                             unit: str | None, reference: float | None = None,
                             reference_label: str | None = None,
                             labels: Mapping | None = None) -> go.Figure:
    """Show how zones spread on an indicator: a box with every zone, mean and median lines.

    Parameters
    ----------
    frame : DataFrame
        One row per zone; missing values are left out.
    value, name : str
        Columns of the indicator and of the zone's name.
    title : str
        Figure title.
    unit : str, optional
        Unit of ``value``; ``"%"`` plots the share times 100.
    reference : float, optional
        A territory-wide value drawn as a third line (stored units).
    reference_label : str, optional
        Text of that line.
    labels : mapping, optional
        Overrides of the locale's ``figure`` texts.

    Returns
    -------
    go.Figure
        A horizontal ``Box`` with all points, and vertical lines at the zones' mean
        and median (and ``reference``), labelled in French.
    """
    _check_columns(frame, [value, name], "make_distribution_figure")
    texts = _texts(labels)
    data = frame[frame[value].notna()]
    shown = [display_value(v, unit) for v in data[value]]
    fig = go.Figure(go.Box(
        x=shown, name="", orientation="h", boxpoints="all", jitter=0.4, pointpos=0,
        fillcolor="rgba(133,133,246,0.25)", line=dict(color=BLUE, width=1.5),
        marker=dict(color=BLUE, size=9, opacity=0.85, line=dict(color="white", width=1)),
        text=_hover(data[name], [format_fr(v, unit) for v in data[value]]),
        hoveron="points", hovertemplate="%{text}<extra></extra>", showlegend=False))
    if len(data):
        mean, median = float(data[value].mean()), float(data[value].median())
        _add_vline(fig, display_value(mean, unit), f"{texts['mean']} : {format_fr(mean, unit)}",
                   position="top right")
        _add_vline(fig, display_value(median, unit),
                   f"{texts['median']} : {format_fr(median, unit)}", dash="dot",
                   position="bottom left")
    if reference is not None:
        _add_vline(fig, display_value(reference, unit),
                   f"{reference_label or texts['territory_value']} : {format_fr(reference, unit)}",
                   dash="solid", position="top left", colour=BLUE)
    fig.update_layout(**_base_layout(title, 260))
    fig.update_layout(margin=dict(t=60 if title else 40, b=40),
                      xaxis=dict(showgrid=True, gridcolor=GRID, zeroline=False,
                                 ticksuffix=_tick_suffix(unit), automargin=True),
                      yaxis=dict(showticklabels=False))
    return fig



def make_territories_distribution_figure(frame: pd.DataFrame, *, value: str, name: str,
                                         territory: str, unit: str | None,
                                         order: Iterable[str] | None = None,
                                         references: Mapping[str, float] | None = None,
                                         reference_label: str | None = None,
                                         labels: Mapping | None = None) -> go.Figure:
    """Compare how the zones of several territories spread on one indicator.

    Parameters
    ----------
    frame : DataFrame
        One row per zone of every territory; missing values are left out.
    value, name, territory : str
        Columns of the indicator, of the zone's name and of its territory's name.
    unit : str, optional
        Unit of ``value``; ``"%"`` plots the share times 100.
    order : iterable of str, optional
        Territories from top to bottom (their order in ``frame`` by default); a territory
        without any published zone keeps its row, empty.
    references : mapping, optional
        Territory name -> its whole-territory value (stored units), drawn as a diamond.
    reference_label : str, optional
        Legend text of the diamonds; the locale's "Ensemble du territoire" by default.
    labels : mapping, optional
        Overrides of the locale's ``figure`` texts.

    Returns
    -------
    go.Figure
        One row per territory on a shared horizontal axis, titled with the territory's
        name (written above the row, so that long names fit a phone's width): a
        horizontal ``Box`` with every zone as a point, and the territory's own value as a
        diamond. No geo trace: the page draws no map.
    """
    _check_columns(frame, [value, name, territory], "make_territories_distribution_figure")
    texts = _texts(labels)
    names = list(dict.fromkeys(order if order is not None else frame[territory].astype(str)))
    if not names:
        raise ValueError("make_territories_distribution_figure: no territory to draw. "
                         "Fix: pass a frame with at least one row, or `order`.")
    references = dict(references or {})
    titles = [_wrap(n, width=34) for n in names]  # about 300 px at 13 px: a phone's width
    lines = max(t.count("<br>") + 1 for t in titles)
    # In pixels: each row's plot, then the gap holding its axis' numbers and the next title.
    plot_px, title_px, ticks_px = 64, 17 * lines + 8, 30
    gap_px = ticks_px + title_px
    plots_px = plot_px * len(names) + gap_px * (len(names) - 1)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=titles,
                        vertical_spacing=gap_px / plots_px if len(names) > 1 else 0.0)
    data = frame[frame[value].notna()]
    for i, label in enumerate(names, start=1):
        zones = data[data[territory].astype(str) == label]
        fig.add_trace(go.Box(
            x=[display_value(v, unit) for v in zones[value]], name=label, orientation="h",
            boxpoints="all", jitter=0.4, pointpos=0, fillcolor="rgba(133,133,246,0.25)",
            line=dict(color=BLUE, width=1.5),
            marker=dict(color=BLUE, size=8, opacity=0.8, line=dict(color="white", width=1)),
            text=_hover(zones[name], [format_fr(v, unit) for v in zones[value]]),
            hoveron="points", hovertemplate="%{text}<extra></extra>", showlegend=False),
            row=i, col=1)
        reference = references.get(label)
        if reference is not None and not is_missing(reference):
            fig.add_trace(go.Scatter(
                x=[display_value(reference, unit)], y=[label], mode="markers",
                marker=dict(symbol="diamond", size=14, color=TEXT, line=dict(color="white", width=1.5)),
                name=reference_label or texts["territory_value"], showlegend=False,
                text=[f"<b>{label}</b><br>{reference_label or texts['territory_value']} : "
                      f"{format_fr(reference, unit)}"],
                hovertemplate="%{text}<extra></extra>"), row=i, col=1)
        fig.update_yaxes(showticklabels=False, row=i, col=1)
        fig.update_xaxes(showgrid=True, gridcolor=GRID, zeroline=False, ticksuffix=_tick_suffix(unit),
                         exponentformat="none", separatethousands=True, automargin=True, row=i, col=1)
    fig.update_xaxes(showticklabels=True)  # every row keeps its scale: a phone shows one row at a time
    fig.update_layout(**_base_layout(None, plots_px + title_px + ticks_px))
    fig.update_annotations(x=0, xanchor="left", align="left", font=dict(size=13))
    # No legend: the caption and the hover say what the diamond is, and a legend would
    # take a phone's width or sit on the axis.
    fig.update_layout(margin=dict(t=title_px, b=ticks_px, l=10, r=10), showlegend=False)
    return fig
