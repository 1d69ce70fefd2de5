"""What every file writer needs: the model, the zoning, and helpers to place points."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import writers as w
from .filosofi import GridCounts
from .grid import Cells
from .names import STREETS, departement_of, postal_code, street_index
from .profiles import SampleProfile
from .rand import choice_cumulative, stream
from .territory import DATA_YEAR, Landscape, Targets
from .zoning import Zoning

CHUNK_ROWS = 1_000_000


@dataclass
class Points:
    """Points drawn in cells, rounded to the centimetre, with their zones and address."""

    cell: np.ndarray
    x: np.ndarray
    y: np.ndarray
    iris: np.ndarray
    commune: np.ndarray
    street: np.ndarray   # index into names.STREETS
    number: np.ndarray   # house number

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class Context:
    """The generated model shared by the writers of every file."""

    out_dir: Path
    seed: int
    targets: Targets
    land: Landscape
    cells: Cells
    zoning: Zoning
    counts: GridCounts
    year: int = DATA_YEAR
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def profile(self) -> SampleProfile:
        """The territory's profile: CRSs, names, coordinate columns."""
        return self.land.profile

    def rng(self, name: str, *index: int) -> np.random.Generator:
        """Random stream of one file (and chunk)."""
        return stream(self.seed, name, *index)

    def chunks(self, total: int, size: int = CHUNK_ROWS) -> list[tuple[int, int, int]]:
        """(chunk number, first row, row count) covering ``total`` rows."""
        return [(k, start, min(size, total - start)) for k, start in enumerate(range(0, total, size))]

    def draw_cells(self, count: int, rng: np.random.Generator, weights: str = "households") -> np.ndarray:
        """Draw ``count`` cells with probability proportional to a published count column
        (``"households"`` = expected households, or a Filosofi column such as ``"log_soc"``)."""
        key = ("cumulative", weights)
        if key not in self._cache:
            values = self.cells.households if weights == "households" else self.counts[weights]
            self._cache[key] = np.cumsum(values)
        return choice_cumulative(self._cache[key], count, rng)

    def points(self, cell: np.ndarray, rng: np.random.Generator, decimals: int = 2) -> Points:
        """Draw one located point per entry of ``cell`` (rounded, then located)."""
        x, y = self.cells.sample_points(self.land, cell, rng)
        x, y = np.round(x, decimals), np.round(y, decimals)
        iris = self.zoning.locate(x, y)
        block = (self.cells.e[cell] // 100) * 100_003 + self.cells.n[cell] // 100  # 100 m blocks
        return Points(cell, x, y, iris, self.zoning.iris_commune[iris], street_index(block),
                      rng.integers(1, 121, len(cell)))

    # --- commune attributes as text, looked up by commune index -------------------------
    def commune_text(self, what: str, commune: np.ndarray) -> pa.Array:
        """``code``, ``name``, ``postal`` or ``departement`` of each commune index."""
        if what not in self._cache:
            codes = self.zoning.commune_code.astype(str)
            self._cache[what] = {
                "code": codes, "name": self.zoning.commune_name.astype(str),
                "postal": np.array([postal_code(c) for c in codes]),
                "departement": np.array([departement_of(c) for c in codes]),
            }[what]
        return w.take(self._cache[what], commune)

    def street_text(self, street: np.ndarray, *, abbreviated: bool) -> pa.Array:
        """Street names: ``RUE DES LILAS`` (DVF style) or ``rue des Lilas``."""
        return w.take([s[0 if abbreviated else 1] for s in STREETS], street)

    def address(self, p: Points) -> pa.Array:
        """Full postal address: ``12 rue des Lilas 00100 Fictiville (fictif)``."""
        return w.concat(p.number, self.street_text(p.street, abbreviated=False),
                        self.commune_text("postal", p.commune), self.commune_text("name", p.commune), sep=" ")
