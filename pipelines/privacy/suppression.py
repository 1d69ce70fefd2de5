"""Primary and secondary cell suppression.

Primary suppression (:func:`primary_suppression`, in :mod:`pipelines.privacy.rules`)
hides the cells that break a rule on their own. Secondary suppression hides more cells
so that no hidden cell can be recomputed from what is published: a commune total minus
its published IRIS, or an IRIS minus the 200 m grid cells that cover it.

What "recomputed" means here
----------------------------
The attacker knows every published value and every additivity relation, that counts
are nonnegative integers, and that every hidden cell listed in a table exists, so holds
**at least 1 unit** (zones without any unit are absent, or shown empty without a reason,
and can be told apart). Never-published pieces (an IRIS crossed with a grid cell) may
not exist: they are only known to be >= 0. The attacker does *not* know why a cell is
hidden: one uniform reason code is published, so a primary cell's upper bound
(``threshold - 1``) is not given away. These per-cell lower bounds are
:func:`pipelines.privacy.bounds.existence_lower` (1 for a cell with a count >= 1, 0 for
internal pieces and non-count measures), and can be set per cell (column ``lower``).

For each unknown cell, the smallest and largest values consistent with all that
(:mod:`pipelines.privacy.bounds`) form its interval ``[lower, upper]``. A pattern is
**safe** when

1. every hidden published cell has ``upper - lower >= threshold``: it cannot be solved,
   nor confined to less than one threshold. Since ``lower >= 1`` for a hidden cell that
   exists, this also gives ``upper > threshold``: nobody can prove that a hidden group
   is below the threshold;
2. every piece that is never published (the intersection of an IRIS and a grid cell,
   say) holding between 1 and ``threshold - 1`` units has ``upper - lower >= threshold``
   too. Pieces with 0 units (nobody to expose) or at least ``threshold`` units (a group
   that could have been published anyway) may be known exactly.

Because every piece is nonnegative, 1 and 2 together mean that no group of 1 to
``threshold - 1`` units, hidden cell, piece or any union of them, can be shown to be
smaller than the threshold: any such union contains a small piece or hidden cell whose
upper bound already reaches the threshold.

Zones without any unit (a count of 0) are not hidden: the attacker tells them apart
anyway. They are modelled as known to be 0, never chosen as complements, and published
as rows with an empty value and no reason (:func:`hierarchy_table`), which is how the
audit recognises them.

Example (business rule, at least 3 units): a commune of 22 stations (IRIS of 10 and
12, published) and the territory total of 25 are published, and three hidden IRIS of 1
station each lie in the two other (hidden) communes. With ``>= 0`` each IRIS seemed to
lie in ``[0, 3]``; knowing each holds at least 1, the attacker pins all three to 1. The
first commune's IRIS are published, so hiding that commune alone does not help; hiding
it with its IRIS of 10 does (the three IRIS then lie in ``[1, 10]``), and the territory
total stays published.

The territory total is published
--------------------------------
The territory total is the figure a page's headline gives, and an attacker who knows
it (any cell is at most the largest one of the table: tau-Argus's a priori bound) is
not stopped by hiding it. So it is never chosen as a complement while another cell can
do: a hidden commune's partner is a sibling commune, with whatever inside it keeps its
IRIS consistent. Generally, cells marked ``keep`` (by default the territory total of
:func:`hierarchy_cells`) are complements of last resort, hidden only around a cell that
nothing else can protect (a territory of one commune of 12 households in two small
IRIS: the commune is the total). A kept cell that is itself primary (a territory below
the threshold) is hidden like any other.

How complementary cells are chosen (deterministic)
--------------------------------------------------
Cells are examined in the order of their ids. While some cell is unsafe, take the first
unsafe one; its candidates are the published cells that share a relation with it,
directly or through never-published pieces, then, further, through hidden cells (one
hidden cell away, then two...), kept cells excepted (they are candidates only when the
search finds nothing else). Among the nearest candidates, hide the one of smallest value
(ties: smallest id) whose hiding makes that cell safe; if none does alone, the pair of
candidates of smallest total value that does (among the 12 smallest); then the pair of
a candidate and a published cell next to it (one of its 12 smallest neighbours, through
the candidate's own relations: a sibling commune and one of its IRIS), smallest total
value first; if nothing does, the same among the candidates one step further. Failing
all that, hide the nearest candidate that widens the cell's interval most (ties as
before), and search again from the cells now hidden, which climbs the hierarchy as far
as needed.

Hiding more never narrows any interval (a newly hidden cell's lower bound never exceeds
its value, so every solution admitted before stays admitted), so a cell found safe
stays safe, and the loop ends: every published cell can be hidden in the end (kept ones
last), and once every cell around it is hidden, nothing bounds a hidden cell from above.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from pipelines.privacy.bounds import (
    AttackerModel,
    InconsistentRelations,
    Relation,
    existence_lower,
    incidence_matrix,
    spread,
)
from pipelines.privacy.rules import (  # noqa: F401  (re-exported: the module of the issue)
    SECONDARY,
    SuppressionRule,
    as_rule,
    make_rule,
    primary_suppression,
)

TOTAL = "total"
MAX_PAIR_CANDIDATES = 12
MAX_BULK_ROUNDS = 4


def secondary_suppression(cells: pd.DataFrame, relations: Sequence[Relation], *,
                          threshold: float, integral: bool | None = None) -> pd.Series:
    """Hide complementary cells until no hidden cell can be recomputed.

    Parameters
    ----------
    cells : pandas.DataFrame
        Indexed by unique cell ids (the tie-breaking order), one row per cell of one
        population across zonings and levels. Columns: ``value`` (true count, >= 0),
        ``reason`` (primary reason code, NA when publishable), optional ``internal``
        (True for pieces that are never published), ``protection`` (the interval width
        this hidden cell needs, when it differs from `threshold`) and ``lower`` (what the
        attacker knows the cell is at least; NA or absent:
        :func:`~pipelines.privacy.bounds.existence_lower`, i.e. 1 for a published-zoning
        count of at least 1 unit, 0 for internal pieces and non-count values). Optional
        ``keep`` (True for cells to publish if at all possible: complements of last
        resort, see the module docstring); absent: the territory total of
        :func:`hierarchy_cells` (id ``NN|total|total``, as :func:`protect_hierarchy` and
        :func:`pipelines.privacy.anonymise.anonymise` build them) is kept.
    relations : sequence of Relation
        Additivity relations ``total = sum(parts)`` between the cells.
    threshold : float
        Interval width every hidden cell needs (the rule's minimum count).
    integral : bool, optional
        Whether values are counts; guessed from the values by default.

    Returns
    -------
    pandas.Series
        The ``reason`` column with ``"secondary"`` for the cells hidden here, same index.

    Raises
    ------
    InconsistentRelations
        When the values do not add up along the relations.
    """
    ordered = cells.sort_index(kind="stable")
    values = ordered["value"].to_numpy(dtype="float64")
    if integral is None:
        integral = bool(np.allclose(values, np.round(values)))
    protector = _Protector(ordered, relations, threshold, integral)
    protector.run()
    reasons = ordered["reason"].astype("str").copy()
    newly = protector.hidden & ordered["reason"].isna().to_numpy()
    reasons[newly] = SECONDARY
    return reasons.reindex(cells.index)


class _Protector:
    """State of the greedy search: hidden cells, cells known safe, witness solutions."""

    def __init__(self, cells: pd.DataFrame, relations: Sequence[Relation], threshold: float, integral: bool):
        self.values = cells["value"].to_numpy(dtype="float64")
        if (self.values < 0).any() or np.isnan(self.values).any():
            raise ValueError("cell values must be known and nonnegative to plan suppression")
        self.internal = (cells["internal"].fillna(False).to_numpy(dtype=bool)
                         if "internal" in cells else np.zeros(len(cells), dtype=bool))
        self.hidden = cells["reason"].notna().to_numpy() & ~self.internal
        self.kept = (cells["keep"].fillna(False).to_numpy(dtype=bool) if "keep" in cells
                     else is_territory_total(cells.index))
        self.required = np.full(len(cells), float(threshold))
        if "protection" in cells:
            given = cells["protection"].to_numpy(dtype="float64")
            self.required = np.where(np.isnan(given), self.required, given)
        small = (self.values > 0) & (self.values < threshold)
        self.watched = self.hidden | (self.internal & small)
        self.integral = integral
        # Published zones without any unit: known to be 0 (shown empty without a reason),
        # so hiding them would protect nothing.
        self.empty = (~self.internal & ~self.hidden & (self.values == 0) if integral
                      else np.zeros(len(cells), dtype=bool))
        self.lower = existence_lower(self.values, integral=integral, internal=self.internal)
        if "lower" in cells:
            given = cells["lower"].to_numpy(dtype="float64", na_value=np.nan)
            self.lower = np.where(np.isnan(given), self.lower, given)
        if (self.lower > self.values + 1e-9).any():
            raise ValueError("a cell's lower bound exceeds its value: the attacker model would exclude the truth")
        self.matrix = incidence_matrix(cells.index, relations)
        self.by_column = self.matrix.tocsc()
        self.relations = relations
        residual = np.abs(self.matrix @ self.values)
        bad = np.flatnonzero(residual > 1e-6 * max(1.0, float(self.values.max(initial=0.0))))
        if len(bad):
            raise InconsistentRelations([relations[i] for i in bad])
        self.safe = np.zeros(len(cells), dtype=bool)
        # Every solution the attacker's system admits stays admissible once more cells are
        # hidden, so the range of values seen so far only ever widens: a cheap proof of safety.
        self.seen_min = self.values.copy()
        self.seen_max = self.values.copy()

    def model(self, hidden: np.ndarray, around: int | None = None) -> AttackerModel:
        """The attacker's model for a pattern: whole, or the relations connected to a cell."""
        unknown = hidden | self.internal
        if around is None:
            model = AttackerModel(self.matrix, self.values, unknown, integral=self.integral, lower=self.lower)
        else:
            model = AttackerModel.around(self.matrix, self.values, unknown, around, integral=self.integral,
                                         by_column=self.by_column, lower=self.lower)
        if model.bad_rows:
            raise InconsistentRelations([])
        return model

    def run(self) -> None:
        self.prove_in_bulk(self.model(self.hidden))
        while (cell := self.first_unsafe()) is not None:
            self.hidden[self.choose(cell)] = True
            self.watched |= self.hidden

    def first_unsafe(self) -> int | None:
        # Local models: after the bulk proof few cells remain, each in a small component.
        models: dict[int, AttackerModel] = {}
        for j in np.flatnonzero(self.watched & ~self.safe & (self.required > 0)):
            if j not in models:
                model = self.model(self.hidden, around=j)
                members = np.unique(model.matrix.indices)
                members = members[(model.unknown | model.fixed)[members]]
                models.update({int(c): model for c in members})
                models.setdefault(int(j), model)   # a cell in no relation: unbounded
            if self.width(models[j], j, commit=True) >= self.required[j]:
                self.safe[j] = True
            else:
                return int(j)
        return None

    def prove_in_bulk(self, model: AttackerModel) -> None:
        """Prove many cells safe with a few programs that move them all at once.

        Pushing every unproven cell up to (true value + need), and down to its lower bound,
        with weights rising and falling along the cells (reaching other vertices), shows for most of
        them a solution one threshold away from the true value; only the others need their
        own pair of programs.
        """
        for _ in range(MAX_BULK_ROUNDS):
            todo = np.flatnonzero(self.watched & ~self.safe & (self.required > 0) & model.unknown)
            for cols, solution in spread(model, todo, reach=self.values[todo] + self.required[todo]):
                self._witness(cols, solution, commit=True)
            low = np.ceil(self.seen_min[todo] - 1e-7) if self.integral else self.seen_min[todo]
            high = np.floor(self.seen_max[todo] + 1e-7) if self.integral else self.seen_max[todo]
            proven = high - low >= self.required[todo]
            self.safe[todo[proven]] = True
            if proven.sum() < len(todo) / 10:   # diminishing returns: check the rest one by one
                return

    def width(self, model: AttackerModel, j: int, *, commit: bool) -> float:
        """Width of cell j's interval, or any value >= its need once that is proven."""
        need = self.required[j]
        seen_low = self._round_up(self.seen_min[j])
        if self._round_down(self.seen_max[j]) - seen_low >= need:
            return need
        if model.fixed[j]:
            return 0.0
        upper, cols, solution = model.extreme(j, maximise=True)
        self._witness(cols, solution, commit)
        if upper - seen_low >= need:
            return upper - seen_low
        lower, cols, solution = model.extreme(j, maximise=False)
        self._witness(cols, solution, commit)
        return upper - lower

    def _witness(self, cols, solution, commit: bool) -> None:
        # Trial solutions (with a candidate hidden that may not be chosen) are not
        # admissible in the committed pattern: only committed ones are remembered.
        if commit and cols is not None:
            self.seen_min[cols] = np.minimum(self.seen_min[cols], solution)
            self.seen_max[cols] = np.maximum(self.seen_max[cols], solution)

    def choose(self, j: int) -> list[int]:
        """The complementary cell(s) to hide for unsafe cell j (see the module docstring)."""
        best = None
        for candidates in self.candidates(j):
            chosen, widest = self.complement_among(j, candidates)
            if chosen:
                return chosen
            best = widest if best is None else best
        if best is None:
            raise RuntimeError("no cell left to hide around an unsafe cell; the relations are degenerate")
        return [best]

    def complement_among(self, j: int, candidates: list[int]) -> tuple[list[int], int]:
        """Cells among `candidates` (and next to them) whose hiding makes j safe, if any,
        and the candidate that widens j's interval most."""
        best, best_width = candidates[0], -1.0
        for c in candidates:
            width = self.trial_width(j, [c])
            if width >= self.required[j]:
                return [c], c
            if width > best_width:
                best, best_width = c, width
        # No single cell is enough when two chains of relations pin j (commune minus its
        # IRIS, and IRIS minus its grid cells): try pairs, smallest total value first.
        nearest = candidates[:MAX_PAIR_CANDIDATES]
        for pairs in (combinations(nearest, 2), self.next_pairs(nearest)):
            for pair in sorted(pairs, key=lambda p: (self.values[list(p)].sum(), p)):
                if self.trial_width(j, list(pair)) >= self.required[j]:
                    return list(pair), best
        return [], best

    def next_pairs(self, nearest: list[int]) -> list[tuple[int, int]]:
        """A candidate with a published cell next to it (the candidate hidden, that cell
        can widen the interval): a sibling commune pinned by its published IRIS, with
        one of them. Pairs within `nearest` are tried before."""
        among = set(nearest)
        pairs = set()
        for c in nearest:
            around = [m for m in self._neighbours(c) if m not in among]
            around.sort(key=lambda m: (self.values[m], m))
            pairs.update(tuple(sorted((c, m))) for m in around[:MAX_PAIR_CANDIDATES])
        return list(pairs)

    def _neighbours(self, c: int) -> set[int]:
        """Published cells, neither empty nor kept, sharing a relation with cell c
        directly or through never-published pieces."""
        out, seen_cells, seen_rows, queue = set(), {c}, set(), [c]
        while queue:
            for row in self._rows(queue.pop()):
                if row in seen_rows:
                    continue
                seen_rows.add(row)
                for m in self._members(row):
                    if m in seen_cells:
                        continue
                    seen_cells.add(m)
                    if self.internal[m]:
                        queue.append(m)
                    elif not (self.hidden[m] or self.empty[m] or self.kept[m]):
                        out.add(int(m))
        return out

    def trial_width(self, j: int, extra: list[int]) -> float:
        trial = self.hidden.copy()
        trial[extra] = True
        return self.width(self.model(trial, around=j), j, commit=False)

    def candidates(self, j: int) -> Iterator[list[int]]:
        """Published cells around j, by distance (through hidden cells), each group
        ordered by value then id.

        Kept cells (the territory total) only when there is no other one at any distance.
        """
        unknown = self.hidden | self.internal
        frontier, seen_cells, seen_rows, reserve, any_found = [j], {j}, set(), set(), False
        while frontier:
            found, deferred, queue = set(), [], list(frontier)
            while queue:
                for row in self._rows(queue.pop()):
                    if row in seen_rows:
                        continue
                    seen_rows.add(row)
                    for m in self._members(row):
                        if m in seen_cells:
                            continue
                        seen_cells.add(m)
                        if self.empty[m]:
                            continue
                        if not unknown[m]:
                            (reserve if self.kept[m] else found).add(m)
                        elif self.internal[m]:
                            queue.append(m)
                        else:
                            deferred.append(m)
            if found:
                any_found = True
                yield sorted(found, key=lambda c: (self.values[c], c))
            frontier = deferred
        if reserve and not any_found:
            yield sorted(reserve, key=lambda c: (self.values[c], c))

    def _rows(self, col: int) -> np.ndarray:
        return self.by_column.indices[self.by_column.indptr[col]:self.by_column.indptr[col + 1]]

    def _members(self, row: int) -> np.ndarray:
        return self.matrix.indices[self.matrix.indptr[row]:self.matrix.indptr[row + 1]]

    def _round_up(self, value: float) -> float:
        return float(np.ceil(value - 1e-7)) if self.integral else float(value)

    def _round_down(self, value: float) -> float:
        return float(np.floor(value + 1e-7)) if self.integral else float(value)


def is_territory_total(ids: pd.Index) -> np.ndarray:
    """Which ids are the territory total of :func:`hierarchy_cells` (``NN|total|total``)."""
    parts = pd.Index(ids).astype("str").str.split("|")
    return np.array([len(p) == 3 and p[1] == TOTAL and p[2] == TOTAL for p in parts], dtype=bool)


@dataclass(frozen=True)
class HierarchyCells:
    """Cells of one population over nested zonings (and an overlapping one), with relations.

    ``cells`` is indexed by cell id and has the columns ``zoning``, ``zone_id``,
    ``parent_id``, ``internal`` and the summed columns; ``relations`` ties them.
    """

    cells: pd.DataFrame
    relations: list[Relation]


def hierarchy_cells(atoms: pd.DataFrame, *, levels: Sequence[str], columns: Sequence[str],
                    overlap: str | None = None, include_total: bool = True) -> HierarchyCells:
    """Sum `columns` over every zone of every zoning and state how the zones add up.

    Parameters
    ----------
    atoms : pandas.DataFrame
        One row per unit or per group, with a zone id column per zoning.
    levels : sequence of str
        Columns of nested zonings, finest first (``["iris", "commune"]``): each zone of a
        level lies in exactly one zone of the next.
    columns : sequence of str
        Additive columns to sum (the count first).
    overlap : str, optional
        Column of a second zoning of the same population that crosses the finest one
        (200 m grid cells): each of its cells and each finest zone is the sum of their
        intersections ("pieces"), which are never published.
    include_total : bool, default True
        Add the territory total (zoning ``"total"``), a headline figure in every report.

    Raises
    ------
    ValueError
        When a zone id is missing or a level is not nested in the next one.
    """
    _check_atoms(atoms, levels, overlap)
    frames, relations = [], []
    for rank, level in enumerate(levels):
        parent = levels[rank + 1] if rank + 1 < len(levels) else None
        frames.append(_level_cells(atoms, level, parent, columns, rank, include_total))
    if include_total:
        frames.append(_total_cell(atoms, columns, len(levels)))
    if overlap:
        frames.append(_level_cells(atoms, overlap, None, columns, len(levels) + 1, False))
        frames.append(_piece_cells(atoms, levels[0], overlap, columns))
    cells = pd.concat(frames)
    relations = _nested_relations(cells, levels, include_total)
    if overlap:
        relations += _piece_relations(cells, levels[0], overlap)
    return HierarchyCells(cells, relations)


def _check_atoms(atoms: pd.DataFrame, levels: Sequence[str], overlap: str | None) -> None:
    for column in [*levels, *([overlap] if overlap else [])]:
        if column not in atoms.columns:
            raise ValueError(f"no zone id column '{column}' in the frame")
        if atoms[column].isna().any():
            raise ValueError(f"column '{column}' has {int(atoms[column].isna().sum())} rows without a zone")
    for child, parent in zip(levels, levels[1:], strict=False):
        parents = atoms.groupby(child, sort=False)[parent].nunique()
        if (parents > 1).any():
            raise ValueError(f"zoning '{child}' is not nested in '{parent}': {int((parents > 1).sum())} "
                             f"zone(s) of '{child}' fall in several zones of '{parent}'")


def _cell_id(rank: int, zoning: str, zone) -> str:
    return f"{rank:02d}|{zoning}|{zone}"


def _level_cells(atoms, level, parent, columns, rank, include_total) -> pd.DataFrame:
    sums = atoms.groupby(level, sort=True)[list(columns)].sum()
    out = pd.DataFrame({"zoning": level, "zone_id": sums.index.astype(str)}, index=sums.index)
    if parent:
        out["parent_id"] = atoms.groupby(level, sort=True)[parent].first().astype(str)
    else:
        out["parent_id"] = TOTAL if include_total else np.nan
    out["internal"] = False
    out = pd.concat([out, sums], axis=1)
    out.index = [_cell_id(rank, level, z) for z in out["zone_id"]]
    return out


def _total_cell(atoms, columns, rank) -> pd.DataFrame:
    sums = atoms[list(columns)].sum().to_frame().T
    head = pd.DataFrame({"zoning": [TOTAL], "zone_id": [TOTAL], "parent_id": [np.nan], "internal": [False]})
    out = pd.concat([head, sums.reset_index(drop=True)], axis=1)
    out.index = [_cell_id(rank, TOTAL, TOTAL)]
    return out


def _piece_cells(atoms, fine, overlap, columns) -> pd.DataFrame:
    sums = atoms.groupby([fine, overlap], sort=True)[list(columns)].sum().reset_index()
    out = pd.DataFrame({"zoning": "piece", "zone_id": sums[fine].astype(str) + "|" + sums[overlap].astype(str),
                        "parent_id": sums[fine].astype(str), "internal": True})
    out = pd.concat([out, sums[list(columns)]], axis=1)
    out.index = [_cell_id(99, "piece", z) for z in out["zone_id"]]
    return out


def _nested_relations(cells: pd.DataFrame, levels: Sequence[str], include_total: bool) -> list[Relation]:
    relations = []
    parents = list(levels[1:]) + ([TOTAL] if include_total else [])
    for child, parent in zip(levels, parents, strict=False):
        rows = cells[cells["zoning"] == child]
        totals = cells[cells["zoning"] == parent].set_index("zone_id").index
        ids = pd.Series(cells.index[cells["zoning"] == parent], index=totals)
        for parent_id, group in rows.groupby("parent_id", sort=True):
            relations.append(Relation(ids[parent_id], tuple(group.index)))
    return relations


def _piece_relations(cells: pd.DataFrame, fine: str, overlap: str) -> list[Relation]:
    pieces = cells[cells["zoning"] == "piece"]
    fine_of = pieces["zone_id"].str.split("|", n=1).str[0]
    cover_of = pieces["zone_id"].str.split("|", n=1).str[1]
    relations = []
    for zoning, keys in ((fine, fine_of), (overlap, cover_of)):
        ids = pd.Series(cells.index[cells["zoning"] == zoning], index=cells.loc[cells["zoning"] == zoning, "zone_id"])
        for zone, group in pieces.groupby(keys.to_numpy(), sort=True):
            relations.append(Relation(ids[zone], tuple(group.index)))
    return relations


def protect_hierarchy(atoms: pd.DataFrame, *, levels: Sequence[str], count_column: str, threshold: int,
                      overlap: str | None = None, include_total: bool = True,
                      sum_columns: Sequence[str] = (), extra_reasons: Mapping | pd.Series | None = None,
                      reason_column: str = "secret") -> pd.DataFrame:
    """Counts over nested zonings (and an overlapping one), with primary and secondary suppression.

    The common case: IRIS within communes within the territory, optionally with the 200 m
    grid of the same population, all published together.

    Parameters
    ----------
    atoms : pandas.DataFrame
        One row per unit or group: zone id columns (`levels`, `overlap`), the count and
        the `sum_columns`.
    levels, overlap, include_total
        See :func:`hierarchy_cells`.
    count_column : str
        The protected count.
    threshold : int
        Smallest publishable count (``n<threshold`` cells are suppressed) and the
        interval width every hidden cell needs. A zone with a count of 0 is not
        suppressed but shown empty without a reason: a zone without any unit, which an
        attacker tells apart from a hidden one anyway.
    sum_columns : sequence of str
        Other additive columns, hidden with the count.
    extra_reasons : mapping or Series, optional
        More primary reasons keyed by ``(zoning, zone_id)``, e.g. dominance.
    reason_column : str, default "secret"
        Name of the reason column in the result.

    Returns
    -------
    pandas.DataFrame
        One row per published zone of every zoning (pieces excluded): ``zoning``,
        ``zone_id``, ``parent_id``, the count (``Int64``) and sums (``Float64``), NA where
        suppressed, and the reason code.
    """
    built = hierarchy_cells(atoms, levels=levels, columns=[count_column, *sum_columns],
                            overlap=overlap, include_total=include_total)
    cells = built.cells
    reasons = pd.Series(np.nan, index=cells.index, dtype="str")
    if extra_reasons is not None:
        keyed = pd.Series(extra_reasons, dtype="str")
        keys = pd.MultiIndex.from_arrays([cells["zoning"], cells["zone_id"]])
        reasons[:] = keyed.reindex(keys).to_numpy()
    counts = cells[count_column]
    reasons[(counts < threshold) & (counts > 0)] = f"n<{threshold}"
    reasons[(counts == 0).to_numpy()] = np.nan   # no unit: shown empty, without a reason
    reasons[cells["internal"].to_numpy()] = np.nan
    frame = pd.DataFrame({"value": cells[count_column], "reason": reasons, "internal": cells["internal"],
                          "keep": cells["zoning"] == TOTAL})   # the headline figure: published if at all possible
    final = secondary_suppression(frame, built.relations, threshold=threshold)
    return hierarchy_table(cells, final, [count_column, *sum_columns], reason_column)


def hierarchy_table(cells: pd.DataFrame, reasons: pd.Series, columns: Sequence[str],
                    reason_column: str = "secret") -> pd.DataFrame:
    """The published rows of `cells`, with values hidden where a reason is given.

    A zone whose count (the first of `columns`) is 0 holds no unit: its values are empty
    too, without a reason, so that an empty zone is told apart from a hidden one (the
    audit reads an empty value without a reason as 0).
    """
    shown = cells[~cells["internal"].to_numpy(dtype=bool)]
    hidden = reasons.reindex(shown.index).notna().to_numpy() | (shown[columns[0]].to_numpy(dtype="float64") == 0)
    out = shown[["zoning", "zone_id", "parent_id"]].astype({"zone_id": "str"}).reset_index(drop=True)
    for column in columns:
        values = shown[column].to_numpy(dtype="float64")
        dtype = "Int64" if np.allclose(values, np.round(values)) else "Float64"
        series = pd.Series(values, dtype="Float64").mask(hidden)
        out[column] = series.round().astype("Int64") if dtype == "Int64" else series
    out[reason_column] = reasons.reindex(shown.index).to_numpy()
    out[reason_column] = out[reason_column].astype("str")
    return out
