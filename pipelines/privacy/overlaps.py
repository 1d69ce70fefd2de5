"""Additivity relations between zonings that do not nest: 200 m grid cells against IRIS or communes.

A zone of one zoning and a zone of another that overlap share the units living in their
intersection, a *piece* that is never published. Every zone is the sum of its pieces,
in both zonings, which is what an attacker who reads both tables (and their geometries)
can write down. With these relations :mod:`pipelines.privacy.bounds` finds, in both
directions, a hidden IRIS recomputed from the published cells that lie inside it, and a
hidden cell recomputed from its IRIS minus the other cells inside it.

What the relations assume
-------------------------
- Published counts are **whole-zone counts**: a grid cell's count is every unit of the
  cell, wherever it lies. A cell that lies wholly within one zone of the other zoning is
  one of that zone's parts (exact); a cell split between zones only constrains the sum of
  its pieces, each piece any nonnegative number (no density assumption: an attacker who
  splits a cell by area gets an estimate, not a bound). Pieces are known only to be
  >= 0 (they may hold nobody).
- A zoning that *tiles the territory* (IRIS, communes: manifest ``tiles_territory``,
  true by default for every zoning but ``grid``) covers every unit of the territory; a
  zone of the other zoning that sticks out of it (a cell across the territory's edge) has
  one more piece, its part outside, >= 0, unless its counts are declared to count the
  territory's units only (manifest ``counts_within_territory``, true by default for a
  zoning that tiles the territory; a grid counted by the anonymiser, say).
- A zoning that does not tile the territory (a grid) **lists every populated zone**, as
  the child tables of the nested zonings do: a part of an IRIS where no cell is listed
  holds nobody. This credits the attacker with exact knowledge of unlisted cells, which
  can only make the audit stricter; a grid table that leaves populated cells out fails
  it (inconsistent totals, or an IRIS minus its cells isolating a small group).
- Overlaps thinner than :data:`SLIVER` of the smaller zone's area are boundary noise
  (reprojection, rounding of coordinates), not pieces.

Public function: :func:`overlap_relations`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from pipelines.privacy.bounds import Relation

SLIVER = 1e-4
"""Overlaps below this share of the smaller zone's area are ignored (4 m² of a 200 m cell)."""
PIECE = "&"
OUTSIDE = "~"


@dataclass(frozen=True)
class Overlap:
    """Relations between two zonings, and the never-published pieces they introduce.

    Attributes
    ----------
    relations : list of Relation
        ``zone = sum(parts)`` for every zone of both zonings that overlaps the other
        (parts are pieces, or a whole zone of the other zoning lying inside it).
    pieces : dict of str to tuple
        Piece id -> ``(first zone id, second zone id)``; the second is None for the part
        of a first zone outside the second zoning (and the first None for the converse).
    """

    relations: list[Relation] = field(default_factory=list)
    pieces: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


def overlap_relations(first: gpd.GeoSeries, second: gpd.GeoSeries, *, first_tiles: bool, second_tiles: bool,
                      first_within: bool | None = None, second_within: bool | None = None,
                      first_name: str = "first", second_name: str = "second",
                      sliver: float = SLIVER) -> Overlap:
    """Additivity relations between the zones of two zonings from their geometries.

    Parameters
    ----------
    first, second : geopandas.GeoSeries
        Zone polygons indexed by cell id (unique text, as the relations name them). The
        second is reprojected to the first's CRS; a CRS is required on both or neither.
    first_tiles, second_tiles : bool
        Whether the zoning covers every unit of the territory (see the module docstring).
    first_within, second_within : bool, optional
        Whether the zoning's counts are of the territory's units only (default: whether
        it tiles the territory); a zone whose counts are not, and that sticks out of a
        zoning that tiles the territory, has a piece outside it.
    first_name, second_name : str
        Names of the zonings, in the ids of the outside pieces.
    sliver : float, default :data:`SLIVER`
        Overlaps below this share of the smaller zone's area are ignored.

    Returns
    -------
    Overlap

    Raises
    ------
    ValueError
        When an index holds a zone twice, or only one of the zonings has a CRS.
    """
    first, second = _common_crs(first, second)
    a_ids, a_geom, a_area = _zones(first)
    b_ids, b_geom, b_area = _zones(second)
    ia, ib = shapely.STRtree(b_geom).query(a_geom, predicate="intersects")
    area = shapely.area(shapely.intersection(a_geom[ia], b_geom[ib]))
    keep = area > sliver * np.minimum(a_area[ia], b_area[ib])
    ia, ib, area = ia[keep], ib[keep], area[keep]
    # Zones of one zoning do not overlap each other, so what they cover adds up.
    first_within = first_tiles if first_within is None else first_within
    second_within = second_tiles if second_within is None else second_within
    out_a = (second_tiles and not first_within) & (a_area - np.bincount(ia, area, minlength=len(a_ids)) > sliver * a_area)
    out_b = (first_tiles and not second_within) & (b_area - np.bincount(ib, area, minlength=len(b_ids)) > sliver * b_area)
    whole_a = (np.bincount(ia, minlength=len(a_ids)) == 1) & ~out_a   # lies inside one zone of the second
    whole_b = (np.bincount(ib, minlength=len(b_ids)) == 1) & ~out_b
    parts_a: list[list[str]] = [[] for _ in a_ids]
    parts_b: list[list[str]] = [[] for _ in b_ids]
    pieces: dict[str, tuple[str | None, str | None]] = {}
    for i, j in zip(ia.tolist(), ib.tolist(), strict=True):
        if whole_a[i]:
            term = a_ids[i]
        elif whole_b[j]:
            term = b_ids[j]
        else:
            term = f"{a_ids[i]}{PIECE}{b_ids[j]}"
            pieces[term] = (a_ids[i], b_ids[j])
        parts_a[i].append(term)
        parts_b[j].append(term)
    for ids, parts, outside, other, side in ((a_ids, parts_a, out_a, second_name, 0), (b_ids, parts_b, out_b, first_name, 1)):
        for k in np.flatnonzero(outside):
            term = f"{ids[k]}{PIECE}{OUTSIDE}{other}"
            pieces[term] = (ids[k], None) if side == 0 else (None, ids[k])
            parts[k].append(term)
    relations = _relations(a_ids, parts_a, out_a) + _relations(b_ids, parts_b, out_b)
    used = {p for r in relations for p in r.parts}
    return Overlap(relations, {p: z for p, z in pieces.items() if p in used})


def _relations(ids: list[str], parts: list[list[str]], outside: np.ndarray) -> list[Relation]:
    relations = []
    for zone, terms, out in zip(ids, parts, outside, strict=True):
        if terms == [zone]:
            continue   # lies inside one zone of the other zoning: a part of that zone's relation
        if out and len(terms) == 1:
            continue   # wholly outside the other zoning: its outside piece is itself, nothing learnt
        # No terms at all: a zone where the other zoning (which lists every populated
        # zone) lists nothing holds nobody.
        relations.append(Relation(zone, tuple(terms)))
    return relations


def _zones(series: gpd.GeoSeries) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Ids, geometries and areas of the zones with a non-empty polygon."""
    if series.index.has_duplicates:
        raise ValueError("a zoning lists a zone twice; one geometry per zone is needed")
    geometry = series.to_numpy()
    area = shapely.area(geometry)
    ok = ~shapely.is_missing(geometry) & ~shapely.is_empty(geometry) & (np.nan_to_num(area) > 0)
    return [str(i) for i in series.index[ok]], geometry[ok], area[ok]


def _common_crs(first: gpd.GeoSeries, second: gpd.GeoSeries) -> tuple[gpd.GeoSeries, gpd.GeoSeries]:
    """Both zonings in one projected CRS (areas are compared)."""
    if (first.crs is None) != (second.crs is None):
        raise ValueError("one zoning has a CRS and the other none; their overlaps cannot be computed")
    if first.crs is None:
        return first, second
    if first.crs.is_geographic:
        first = first.to_crs(first.estimate_utm_crs())
    return first, second.to_crs(first.crs) if second.crs != first.crs else second
