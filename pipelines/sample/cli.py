"""Command-line face of the generator: ``datacites sample [--scale S] [--out DIR]``.

The project's CLI wires its ``sample`` sub-command to :func:`sample_command` (or adds
:func:`add_arguments` to its own parser); ``python -m pipelines.sample`` runs it alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .generator import SampleSummary, generate_sample
from .territory import DEFAULT_SEED, MAX_SCALE


def sample_command(scale: float = 1.0, out: Path | str | None = None, seed: int = DEFAULT_SEED,
                   *, quiet: bool = False) -> SampleSummary:
    """Generate the sample into ``out`` (default: ``config.SAMPLE_DIR``) and print a summary.

    Parameters
    ----------
    scale : float, default 1
    out : Path or str, optional
        Output folder; ``sources/sample`` of the project.
    seed : int, default 20261128
    quiet : bool
        Do not print the summary.

    Returns
    -------
    SampleSummary
    """
    if out is None:
        from pipelines.config import SAMPLE_DIR
        out = SAMPLE_DIR
    summary = generate_sample(Path(out), scale=scale, seed=seed)
    if not quiet:
        print(summary.describe())
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--scale``, ``--out`` and ``--seed`` to a parser (or sub-parser)."""
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"size multiplier in (0, {MAX_SCALE:g}]; 1 = 4 communes, 40 IRIS, 28,000 households")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: sources/sample)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same bytes)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print the summary; return the exit code."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="datacites sample", description="Generate the FICTIONAL sample territory in official formats."))
    args = parser.parse_args(argv)
    try:
        sample_command(args.scale, args.out, args.seed)
    except ValueError as error:
        print(f"datacites sample: {error}", file=sys.stderr)
        return 2
    return 0
