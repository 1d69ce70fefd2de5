"""What an attacker can derive about hidden cells from published totals.

Published counts of one population are tied by additivity relations: a commune is the
sum of its IRIS, the territory the sum of its communes, an IRIS the sum of its pieces in
each 200 m grid cell, a grid cell the sum of its pieces in each IRIS. Given every
published value and every relation, the values an attacker cannot see (hidden cells, and
pieces never published) can take any nonnegative values that satisfy the relations; the
smallest and largest of them are the attacker's *bounds*, computed by linear programming
(scipy's HiGHS). Counts are integers, so the bounds are rounded inward, which only makes
the attacker stronger.

Three things keep this fast on a territory's thousands of cells: relations with a single
unknown are solved directly (presolve); the remaining unknowns split into independent
components, each its own small linear program; and a few programs moving every cell at
once (:func:`spread`) give witness solutions that prove most cells wide enough, so that
only the others need their own pair of programs (measured: 1,053 hidden 200 m cells
crossed with 40 IRIS protected in 0.4 s instead of 16 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

_EPS = 1e-7


@dataclass(frozen=True)
class Relation:
    """``total = sum(parts)``, between cell ids of one population."""

    total: str
    parts: tuple[str, ...]


class InconsistentRelations(ValueError):
    """The published values contradict the relations (a total differs from its parts)."""

    def __init__(self, relations: Sequence[Relation]):
        self.relations = list(relations)
        names = ", ".join(r.total for r in self.relations[:5])
        super().__init__(f"{len(self.relations)} relation(s) do not add up (totals {names}); "
                         "the bounds of hidden cells cannot be computed")


def incidence_matrix(cells: pd.Index, relations: Sequence[Relation]) -> sparse.csr_matrix:
    """Relations as rows of ``total - sum(parts) = 0`` over the columns `cells`.

    Raises
    ------
    KeyError
        When a relation names a cell that is not in `cells`.
    ValueError
        When a relation lists a cell twice.
    """
    position = {cell: i for i, cell in enumerate(cells)}
    rows, cols, data = [], [], []
    for i, relation in enumerate(relations):
        members = (relation.total, *relation.parts)
        if len(set(members)) != len(members):
            raise ValueError(f"relation of total '{relation.total}' lists a cell twice")
        missing = [m for m in members if m not in position]
        if missing:
            raise KeyError(f"relation of total '{relation.total}' names unknown cells {missing[:3]}")
        cols.extend(position[m] for m in members)
        rows.extend([i] * len(members))
        data.extend([1.0] + [-1.0] * len(relation.parts))
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(relations), len(cells)))


class AttackerModel:
    """The linear system an attacker solves, for one set of unknown cells.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        From :func:`incidence_matrix` (relations x cells), or some of its rows.
    values : numpy.ndarray
        Cell values; only those of known cells are read (unknown ones may be NaN).
    unknown : numpy.ndarray of bool
        Cells the attacker does not see (hidden, or never published).
    integral : bool, default True
        Round bounds inward to integers (counts).

    Attributes
    ----------
    fixed : numpy.ndarray of bool
        Unknown cells solved exactly by the presolve (a relation with one unknown).
    bad_rows : list of int
        Rows of `matrix` the known values contradict.
    """

    def __init__(self, matrix: sparse.csr_matrix, values: np.ndarray, unknown: np.ndarray,
                 *, integral: bool = True):
        self.matrix = matrix
        self.integral = integral
        known = np.where(unknown, 0.0, np.nan_to_num(np.asarray(values, dtype="float64")))
        self.scale = max(1.0, float(np.abs(known).max(initial=0.0)))
        self.values, self.unknown, self.bad_rows = _presolve(matrix, known, unknown.copy(), self.scale)
        self.fixed = unknown & ~self.unknown
        row_label, self._label = connected(matrix, self.unknown)
        self._rows = _groups(row_label)
        self._cols = _groups(self._label)
        self._cache: dict[int, tuple] = {}

    @classmethod
    def around(cls, matrix: sparse.csr_matrix, values: np.ndarray, unknown: np.ndarray, cell: int,
               *, integral: bool = True, by_column: sparse.csc_matrix | None = None) -> "AttackerModel":
        """The model of the relations connected to `cell` only (much smaller, same bounds)."""
        rows = component_rows(matrix, by_column if by_column is not None else matrix.tocsc(), unknown, cell)
        return cls(matrix[rows], values, unknown, integral=integral)

    def _system(self, label: int) -> tuple:
        if label not in self._cache:
            cols = self._cols.get(label, np.array([], dtype=int))
            block = self.matrix[self._rows.get(label, np.array([], dtype=int))]
            rhs = -(block @ self.values)   # unknown columns hold 0 in self.values
            self._cache[label] = (cols, block[:, cols], rhs)
        return self._cache[label]

    def extreme(self, j: int, *, maximise: bool) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """Largest (or smallest) value of cell `j` over all consistent solutions.

        Returns
        -------
        tuple
            ``(bound, columns, solution)``: the bound (``inf`` when unbounded), and a
            solution reaching it (cell columns and their values), for reuse as a witness.

        Raises
        ------
        InconsistentRelations
            When no nonnegative solution exists.
        """
        if not self.unknown[j]:
            return float(self.values[j]), None, None
        cols, block, rhs = self._system(int(self._label[j]))
        if block.shape[0] == 0:
            return (math.inf if maximise else 0.0), None, None
        cost = np.zeros(len(cols))
        cost[np.searchsorted(cols, j)] = -1.0 if maximise else 1.0
        result = linprog(cost, A_eq=block, b_eq=rhs, bounds=(0, None), method="highs")
        if result.status == 3:
            return math.inf, None, None
        if result.status != 0:
            raise InconsistentRelations([])
        value = float(result.x[np.searchsorted(cols, j)])
        return self._round(value, up=not maximise), cols, result.x

    def push(self, targets: np.ndarray, *, reach: np.ndarray | None = None,
             weights: np.ndarray | None = None) -> tuple | None:
        """Move many cells at once, in one linear program over all their components.

        With `reach`, maximise ``sum(weights * min(x, reach))``: as many targets as
        possible climb to their reach (the program stays bounded). Without it, minimise
        ``sum(weights * x)``: as many as possible drop to 0. Its solution is a witness of
        how far each cell can move, which proves most cells safe at once.

        Parameters
        ----------
        targets : numpy.ndarray of int
            Unknown, unsolved cells to move.
        reach : numpy.ndarray, optional
            Level each target should reach (maximising); minimise when None.
        weights : numpy.ndarray, optional
            Weight of each target (all 1 by default); different weights reach different
            vertices, so a few pushes spread the targets apart.

        Returns
        -------
        tuple or None
            ``(columns, solution)``, or None when the program has no solution.
        """
        labels = np.unique(self._label[targets])
        rows = np.concatenate([self._rows.get(int(k), np.array([], dtype=int)) for k in labels])
        cols = np.sort(np.concatenate([self._cols[int(k)] for k in labels]))
        if len(rows) == 0:
            return None
        block = self.matrix[rows]
        where = np.searchsorted(cols, targets)
        weights = np.ones(len(targets)) if weights is None else weights
        n, k = len(cols), len(targets)
        if reach is None:
            cost = np.zeros(n)
            cost[where] = weights
            result = linprog(cost, A_eq=block[:, cols], b_eq=-(block @ self.values), bounds=(0, None), method="highs")
            return (cols, result.x) if result.status == 0 else None
        # Auxiliary y <= x and y <= reach: the objective saturates at the reach, so the
        # program prefers lifting many cells to their reach over one cell to infinity.
        cost = np.concatenate([np.zeros(n), -weights])
        a_eq = sparse.hstack([block[:, cols], sparse.csr_matrix((len(rows), k))])
        a_ub = sparse.hstack([sparse.csr_matrix((-np.ones(k), (np.arange(k), where)), shape=(k, n)),
                              sparse.identity(k)])
        bounds = [(0, None)] * n + [(0, float(r)) for r in reach]
        result = linprog(cost, A_ub=a_ub, b_ub=np.zeros(k), A_eq=a_eq, b_eq=-(block @ self.values),
                         bounds=bounds, method="highs")
        return (cols, result.x[:n]) if result.status == 0 else None

    def bounds(self, j: int) -> tuple[float, float]:
        """``(lower, upper)`` of cell `j` (a known cell has its value as both)."""
        lower, _, _ = self.extreme(j, maximise=False)
        upper, _, _ = self.extreme(j, maximise=True)
        return lower, upper

    def _round(self, value: float, *, up: bool) -> float:
        if not self.integral:
            return value
        tolerance = _EPS * self.scale
        return float(math.ceil(value - tolerance) if up else math.floor(value + tolerance))


def connected(matrix: sparse.csr_matrix, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Component labels of rows and of unknown cells linked through unknown cells.

    Returns
    -------
    tuple of numpy.ndarray
        Row labels (-1 for rows without unknowns) and cell labels (-1 for known cells).
        Two unknown cells share a label when a chain of relations through unknown cells
        links them; an unknown cell in no relation has a label of its own.
    """
    n_rows, n_cols = matrix.shape
    entries = matrix.tocoo()
    keep = unknown[entries.col]
    # Bipartite graph: rows are nodes 0..n_rows-1, cells n_rows..; edges where a row holds
    # an unknown cell. connected_components(directed=False) needs no symmetric copy.
    graph = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (entries.row[keep], n_rows + entries.col[keep])),
                              shape=(n_rows + n_cols, n_rows + n_cols))
    _, labels = connected_components(graph, directed=False)
    active = np.zeros(n_rows, dtype=bool)
    active[entries.row[keep]] = True
    row_label = np.where(active, labels[:n_rows], -1)
    col_label = np.where(unknown, labels[n_rows:], -1)
    return row_label, col_label


def component_rows(matrix: sparse.csr_matrix, by_column: sparse.csc_matrix, unknown: np.ndarray,
                   cell: int) -> np.ndarray:
    """Rows linked to `cell` through unknown cells (a walk from the cell, not a global pass)."""
    rows_seen: set[int] = set()
    cells_seen, stack = {cell}, [cell]
    while stack:
        col = stack.pop()
        for row in by_column.indices[by_column.indptr[col]:by_column.indptr[col + 1]]:
            if row in rows_seen:
                continue
            rows_seen.add(int(row))
            for member in matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]]:
                if unknown[member] and member not in cells_seen:
                    cells_seen.add(int(member))
                    stack.append(int(member))
    return np.array(sorted(rows_seen), dtype=int)


def spread(model: "AttackerModel", targets: np.ndarray, *, reach: np.ndarray) -> Iterator[tuple]:
    """Witness solutions from a few pushes: up to `reach`, down to 0, with rising and falling weights."""
    if len(targets) < 2:
        return
    rising = np.arange(1.0, len(targets) + 1)
    for up, weights in ((True, rising), (False, rising), (False, rising[::-1]), (True, rising[::-1])):
        pushed = model.push(targets, reach=reach if up else None, weights=weights)
        if pushed is not None:
            yield pushed


def narrow_cells(model: "AttackerModel", targets: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Which `targets` an attacker confines to an interval narrower than `need`.

    A few programs moving every target at once (:func:`spread`) give solutions whose
    spread already proves most cells wide enough; only the others get their own pair of
    programs.

    Returns
    -------
    numpy.ndarray of bool
        True where the cell's interval is narrower than its need.
    """
    seen_min = np.full(len(model.unknown), np.inf)
    seen_max = np.full(len(model.unknown), -np.inf)
    movable = targets[model.unknown[targets]]
    for cols, solution in spread(model, movable, reach=need[model.unknown[targets]]):
        seen_min[cols] = np.minimum(seen_min[cols], solution)
        seen_max[cols] = np.maximum(seen_max[cols], solution)
    narrow = np.zeros(len(targets), dtype=bool)
    for i, (j, width) in enumerate(zip(targets, need)):
        low = model._round(seen_min[j], up=True) if np.isfinite(seen_min[j]) else np.inf
        if model.fixed[j] or not model.unknown[j]:
            narrow[i] = width > 0
        elif model._round(seen_max[j], up=False) - low < width:
            upper, _, _ = model.extreme(j, maximise=True)
            if upper - low < width:
                lower, _, _ = model.extreme(j, maximise=False)
                narrow[i] = upper - lower < width
    return narrow


def _groups(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Indices per label (labels >= 0), each sorted."""
    order = np.argsort(labels, kind="stable")
    keys, starts = np.unique(labels[order], return_index=True)
    return {int(k): order[a:b] for k, a, b in zip(keys, starts, [*starts[1:], len(order)]) if k >= 0}


def _presolve(matrix: sparse.csr_matrix, values: np.ndarray, unknown: np.ndarray,
              scale: float) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Solve every relation that has a single unknown, until none is left.

    A hidden IRIS whose commune and siblings are published is solved here, without a
    linear program. Returns the values (solved cells filled in), the cells still unknown,
    and the rows that contradict the known values.
    """
    values = values.copy()
    tolerance = _EPS * scale * 10
    while True:
        sub = matrix.multiply(unknown[np.newaxis, :].astype("float64")).tocsr()
        sub.eliminate_zeros()
        single = np.flatnonzero(np.diff(sub.indptr) == 1)
        if len(single) == 0:
            break
        residual = matrix[single] @ values
        columns = sub.indices[sub.indptr[single]]
        solved = -residual / sub.data[sub.indptr[single]]
        _, first = np.unique(columns, return_index=True)
        values[columns[first]] = solved[first]
        unknown[columns[first]] = False
    known_rows = np.flatnonzero(np.diff(sub.indptr) == 0)
    residual = matrix[known_rows] @ values
    bad = known_rows[np.abs(residual) > tolerance].tolist()
    negative = np.flatnonzero(values < -tolerance)
    if len(negative):
        bad += np.flatnonzero(np.asarray(abs(matrix[:, negative]).sum(axis=1)).ravel() > 0).tolist()
    return values, unknown, sorted(set(bad))


def attacker_bounds(values: pd.Series, unknown: Iterable[str], relations: Sequence[Relation],
                    *, integral: bool = True) -> pd.DataFrame:
    """Bounds an attacker derives for every unknown cell.

    Parameters
    ----------
    values : pandas.Series
        Indexed by cell id, one entry per cell named in `relations`; the values of
        unknown cells are ignored (they may be NA).
    unknown : iterable of str
        Cells the attacker does not see.
    relations : sequence of Relation
    integral : bool, default True
        Round bounds inward to integers.

    Returns
    -------
    pandas.DataFrame
        Indexed by the unknown cells, columns ``lower`` and ``upper`` (``inf`` when
        nothing bounds the cell from above).

    Raises
    ------
    InconsistentRelations
        When published values contradict a relation.
    """
    cells = values.index
    unknown_mask = cells.isin(list(unknown))
    matrix = incidence_matrix(cells, relations)
    model = AttackerModel(matrix, values.to_numpy(dtype="float64", na_value=np.nan), unknown_mask,
                          integral=integral)
    if model.bad_rows:
        raise InconsistentRelations([relations[i] for i in model.bad_rows])
    rows = [model.bounds(j) for j in np.flatnonzero(unknown_mask)]
    return pd.DataFrame(rows, index=cells[unknown_mask], columns=["lower", "upper"])
