"""Independent, reproducible random streams for the sample generator.

Each file (and each chunk of a big file) draws from its own stream, derived from the
sample's seed and a stable name. Adding a draw to one file therefore never changes
another file, and chunks can be generated in any order.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, *index: int) -> np.random.Generator:
    """Return the random generator of one named stream.

    Parameters
    ----------
    seed : int
        The sample's seed.
    name : str
        Stable name of the stream (``"dpe"``, ``"grid"``...).
    *index : int
        Optional extra keys, e.g. the chunk number.

    Returns
    -------
    numpy.random.Generator
    """
    key = [int(seed), zlib.crc32(name.encode("utf-8")), *(int(i) for i in index)]
    return np.random.default_rng(key)


def gumbel_top_k(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``k`` distinct indices with probability proportional to ``weights``.

    Vectorised sampling without replacement (Gumbel top-k), O(n) in memory and time.

    Parameters
    ----------
    weights : numpy.ndarray
        Non-negative weights; indices with weight 0 are never drawn.
    k : int
        Number of indices to draw; at most the number of positive weights.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices.
    """
    positive = np.flatnonzero(weights > 0)
    if k > positive.size:
        raise ValueError(f"cannot draw {k} distinct items from {positive.size} with positive weight")
    keys = np.log(weights[positive]) + rng.gumbel(size=positive.size)
    chosen = np.argpartition(-keys, k - 1)[:k] if k else np.empty(0, dtype=np.int64)
    return np.sort(positive[chosen])


def choice_cumulative(cumulative: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` indices with replacement from a precomputed cumulative weight array.

    Parameters
    ----------
    cumulative : numpy.ndarray
        ``np.cumsum(weights)`` (float64, last value > 0).
    n : int
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        int64 indices into the weight array.
    """
    u = rng.random(n) * cumulative[-1]
    return np.searchsorted(cumulative, u, side="right").astype(np.int64)


def categorical(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one category per row of a (n, k) probability matrix.

    Rows need not sum exactly to 1: they are normalised.

    Parameters
    ----------
    probabilities : numpy.ndarray
        Shape (n, k), non-negative.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        int64 category per row, in ``range(k)``.
    """
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1)
